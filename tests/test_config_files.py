"""Which settings each file gets, through the command: the closest configuration file above it,
``--config FILE`` instead, ``--config KEY=VALUE`` on top, ``--show-settings`` to see it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

# DRP001 on line 7; DRP003 (off by default) on line 8.
BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        return F.dropout(x, 0.5, training=True)
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def codes_by_file(out: str) -> dict[str, list[str]]:
    """Codes reported per path, from concise lines (the summary line is skipped)."""
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        if ": DRP" not in line:
            continue
        path, _, rest = line.partition(":")
        found.setdefault(path, []).append(rest.split(": ", 1)[1].split()[0])
    return found


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """top.py under no configuration; mono/sub/ with its own, which enables DRP003."""
    monkeypatch.chdir(tmp_path)
    sub = tmp_path / "mono" / "sub"
    sub.mkdir(parents=True)
    (tmp_path / "top.py").write_text(BUGGY)
    (tmp_path / "mono" / "a.py").write_text(BUGGY)
    (sub / "m.py").write_text(BUGGY)
    (sub / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-select = ["DRP003"]\n')
    return tmp_path


def test_a_file_uses_its_closest_configuration_not_the_current_directorys(monorepo: Path, capsys) -> None:
    code, out, _ = run(capsys, "mono/sub/m.py", "top.py")
    assert code == 1
    assert codes_by_file(out) == {"mono/sub/m.py": ["DRP001", "DRP003"], "top.py": ["DRP001"]}


def test_walking_a_tree_switches_settings_at_each_configuration(monorepo: Path, capsys) -> None:
    (monorepo / "mono" / "sub" / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nextend-select = ["DRP003"]\nextend-exclude = ["gen"]\n'
        'per-file-ignores = { "m.py" = ["DRP001"] }\n'
    )
    (monorepo / "mono" / "sub" / "gen").mkdir()
    (monorepo / "mono" / "sub" / "gen" / "g.py").write_text(BUGGY)
    (monorepo / "mono" / "sub" / "n.py").write_text(BUGGY)
    code, out, _ = run(capsys, ".")
    assert codes_by_file(out) == {
        "mono/a.py": ["DRP001"],
        "mono/sub/m.py": ["DRP003"],  # per-file-ignores, relative to its own configuration
        "mono/sub/n.py": ["DRP001", "DRP003"],
        "top.py": ["DRP001"],
    }


def test_a_pyproject_without_the_table_is_passed_over(monorepo: Path, capsys) -> None:
    (monorepo / "mono" / "sub" / "pyproject.toml").write_text('[project]\nname = "sub"\n')
    (monorepo / "mono" / "pyproject.toml").write_text('[tool.dropout-lint]\nignore = ["DRP001"]\n')
    assert run(capsys, "mono/sub/m.py") == (0, "", "")


def test_dropout_lint_toml_has_its_settings_at_top_level_and_wins_over_pyproject(monorepo: Path, capsys) -> None:
    sub = monorepo / "mono" / "sub"
    (sub / "dropout-lint.toml").write_text('select = ["DRP003"]\n')
    assert codes_by_file(run(capsys, "mono/sub/m.py")[1]) == {"mono/sub/m.py": ["DRP003"]}
    (sub / ".dropout-lint.toml").write_text('ignore = ["DRP001"]\n')
    assert run(capsys, "mono/sub/m.py")[0] == 0


def test_config_file_applies_to_every_path(monorepo: Path, capsys) -> None:
    (monorepo / "strict.toml").write_text('select = ["DRP003"]\n')
    code, out, _ = run(capsys, "--config", "strict.toml", "mono/sub/m.py", "top.py")
    assert codes_by_file(out) == {"mono/sub/m.py": ["DRP003"], "top.py": ["DRP003"]}


def test_config_key_value_overrides_every_file_and_flags_override_it(monorepo: Path, capsys) -> None:
    code, out, _ = run(capsys, "--config", "ignore = ['DRP001']", "mono/sub/m.py", "top.py")
    assert codes_by_file(out) == {"mono/sub/m.py": ["DRP003"]}
    code, out, _ = run(
        capsys, "--config", "ignore = ['DRP001']", "--config", "extend-select=['DRP003']",
        "--extend-select", "DRP001", "top.py",
    )
    assert codes_by_file(out) == {"top.py": ["DRP001", "DRP003"]}


@pytest.mark.parametrize(
    "value, message",
    [
        ("nope.toml", "--config 'nope.toml': no such file"),
        ("colour = true", "unknown setting 'colour'"),
        ("select = 'DRP001'", "must be a list of strings"),
        ("not toml at all", "not a file, nor TOML `KEY = VALUE`"),
    ],
)
def test_bad_config_values_are_usage_errors(monorepo: Path, capsys, value: str, message: str) -> None:
    code, out, err = run(capsys, "--config", value, "top.py")
    assert code == 2 and out == ""
    assert message in err


def test_a_pyproject_given_to_config_is_read_from_its_table(monorepo: Path, capsys) -> None:
    (monorepo / "other").mkdir()
    (monorepo / "other" / "pyproject.toml").write_text('[tool.dropout-lint]\nignore = ["DRP001"]\n')
    assert run(capsys, "--config", "other/pyproject.toml", "top.py")[0] == 0


def test_isolated_reads_no_file(monorepo: Path, capsys) -> None:
    assert codes_by_file(run(capsys, "--isolated", "mono/sub/m.py")[1]) == {"mono/sub/m.py": ["DRP001"]}


def test_show_settings_names_the_file_and_the_rules(monorepo: Path, capsys) -> None:
    code, out, _ = run(capsys, "--show-settings", "mono/sub/m.py")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Settings for: mono/sub/m.py"
    assert lines[1] == f"Configuration file: {monorepo / 'mono' / 'sub' / 'pyproject.toml'}"
    assert 'rules = ["DRP001", "DRP002", "DRP003", "DRP004", "DRP010", "DRP020", "DRP030"]' in lines
    assert run(capsys, "--show-settings", "top.py")[1].splitlines()[1] == "Configuration file: none (defaults)"


# --force-exclude and stdin


@pytest.fixture
def legacy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old.py").write_text(BUGGY)
    (tmp_path / "new.py").write_text(BUGGY)
    (tmp_path / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["legacy/"]\n')
    return tmp_path


def test_a_file_named_on_the_command_line_is_checked_unless_force_exclude(legacy: Path, capsys) -> None:
    assert "legacy/old.py" in codes_by_file(run(capsys, "legacy/old.py", "new.py")[1])
    code, out, _ = run(capsys, "--force-exclude", "legacy/old.py", "new.py")
    assert list(codes_by_file(out)) == ["new.py"]
    assert run(capsys, "--fix", "--force-exclude", "legacy/old.py")[0] == 0
    assert (legacy / "legacy" / "old.py").read_text() == BUGGY


def test_force_exclude_can_be_set_in_the_configuration(legacy: Path, capsys) -> None:
    (legacy / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nextend-exclude = ["legacy/"]\nforce-exclude = true\n'
    )
    assert run(capsys, "legacy/old.py") == (0, "", "")
    assert "legacy/old.py" in run(capsys, "--no-force-exclude", "legacy/old.py")[1]


class _Stdin:
    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_filename_alone_reads_stdin(legacy: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(BUGGY.encode()))
    code, out, _ = run(capsys, "--stdin-filename", "src/net.py")
    assert code == 1
    assert codes_by_file(out) == {"src/net.py": ["DRP001"]}  # not new.py: the tree was not linted


def test_stdin_filename_takes_that_paths_settings_and_force_exclude(legacy: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(BUGGY.encode()))
    code, out, _ = run(capsys, "--force-exclude", "--stdin-filename", "legacy/old.py")
    assert (code, out) == (0, "")
    monkeypatch.setattr(sys, "stdin", _Stdin(BUGGY.encode()))
    code, out, _ = run(capsys, "--fix", "--force-exclude", "--stdin-filename", "legacy/old.py")
    assert (code, out) == (0, BUGGY)  # an excluded file comes back unchanged
