"""The command as a user runs it: arguments, exit codes, stdin, config, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        return F.dropout(x, 0.5, training=True)
"""
CLEAN = BUGGY.replace("F.dropout(x, 0.5)\n", "F.dropout(x, 0.5, training=self.training)\n")


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(BUGGY)
    (tmp_path / "pkg" / "clean.py").write_text(CLEAN)
    return tmp_path


def test_findings_exit_1_with_flake8_style_lines(project: Path, capsys) -> None:
    code, out = run(capsys, "pkg")
    assert code == 1
    assert out.splitlines() == [
        "pkg/model.py:7:13: DRP001 `F.dropout` without `training=` stays active after "
        "`model.eval()` (its default is `training=True`); use a registered `nn.Dropout` or "
        "pass `training=self.training` [functional-dropout-without-training]",
        "1 finding in 1 file, 1 fixable with --fix",
    ]


def test_the_garbage_collector_runs_rarely_during_a_run_and_as_before_after_it(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc

    import dropout_lint.integrations.cli as cli

    during: list[tuple[int, int, int]] = []
    lint_files = cli.lint_files

    def recording(*args, **kwargs):
        during.append(gc.get_threshold())
        return lint_files(*args, **kwargs)

    monkeypatch.setattr(cli, "lint_files", recording)
    before = gc.get_threshold()
    assert run(capsys, "pkg")[0] == 1
    assert during and during[0][0] >= 100 * before[0]  # workers forked then inherit it
    assert gc.get_threshold() == before


def test_clean_tree_exits_0_and_prints_nothing(project: Path, capsys) -> None:
    assert run(capsys, "pkg/clean.py") == (0, "")


def test_default_path_is_the_current_directory(project: Path, capsys) -> None:
    code, out = run(capsys)
    assert code == 1 and out.startswith("pkg/model.py:7:13: DRP001")


def test_exit_zero(project: Path, capsys) -> None:
    code, out = run(capsys, "--exit-zero", "pkg")
    assert code == 0 and "DRP001" in out


@pytest.mark.parametrize(
    "args, codes",
    [
        ((), ["DRP001"]),
        (("--extend-select", "DRP003"), ["DRP001", "DRP003"]),
        (("--select", "DRP003"), ["DRP003"]),
        (("--select", "ALL"), ["DRP001", "DRP003"]),
        (("--select", "ALL", "--ignore", "DRP001"), ["DRP003"]),
        (("--ignore", "DRP"), []),
    ],
)
def test_selection(project: Path, capsys, args, codes) -> None:
    _, out = run(capsys, "--format", "json", *args, "pkg/model.py")
    assert [d["code"] for d in json.loads(out)] == codes


def test_unknown_selector_is_a_usage_error(project: Path, capsys) -> None:
    assert main(["--select", "XYZ9", "pkg"]) == 2
    assert "XYZ9" in capsys.readouterr().err


def test_pyproject_configuration_and_flags_win(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-select = ["DRP003"]\n')
    _, out = run(capsys, "--format", "json", "pkg/model.py")
    assert [d["code"] for d in json.loads(out)] == ["DRP001", "DRP003"]
    _, out = run(capsys, "--format", "json", "--ignore", "DRP003", "pkg/model.py")
    assert [d["code"] for d in json.loads(out)] == ["DRP001"]


def test_per_file_ignores(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.dropout-lint]\n[tool.dropout-lint.per-file-ignores]\n"pkg/model.py" = ["DRP001"]\n'
    )
    assert run(capsys, "pkg") == (0, "")


def test_exclude_from_config(project: Path, capsys) -> None:
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["model.py"]\n')
    assert run(capsys, ".") == (0, "")


def test_gitignored_files_are_skipped(project: Path, capsys) -> None:
    (project / ".gitignore").write_text("pkg/model.py\n")
    assert run(capsys, ".") == (0, "")


def test_stdin_with_filename(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(BUGGY.encode()))
    code, out = run(capsys, "-", "--stdin-filename", "src/net.py")
    assert code == 1 and out.startswith("src/net.py:7:13: DRP001")


class _Stdin:
    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)


def test_bad_files_are_reported_and_the_run_goes_on(project: Path, capsys) -> None:
    # Syntax errors are reported in files a rule must parse: here, for the call of F.dropout
    # (in a method: DRP001's gate reads that a call in no method cannot be reported).
    (project / "pkg" / "broken.py").write_text(
        "import torch.nn.functional as F\ndef f(:\n    F.dropout(x)\n"
    )
    (project / "pkg" / "binary.py").write_bytes(b"dropout\0\x01\x02")
    (project / "pkg" / "latin.py").write_bytes(
        b"from torch import dropout\nclass A:\n    def f(self, x):\n        dropout(x) # \xff\xfe\n"
    )
    code, out = run(capsys, "pkg")
    assert code == 2
    lines = out.splitlines()
    assert any(line.startswith("pkg/broken.py:2:") and "DRP900 syntax error" in line for line in lines)
    assert any(line.startswith("pkg/binary.py:1:1: DRP900") and "NUL" in line for line in lines)
    assert any(line.startswith("pkg/latin.py:1:1: DRP900") and "decode" in line for line in lines)
    assert any(line.startswith("pkg/model.py:7:13: DRP001") for line in lines)


def test_missing_path_is_an_error(project: Path, capsys) -> None:
    code, out = run(capsys, "pkg", "nope.py")
    assert code == 2
    assert "nope.py" in out + capsys.readouterr().err


def test_explain_prints_the_rule_documentation(capsys) -> None:
    code, out = run(capsys, "--explain", "drp001")
    assert code == 0
    assert out.startswith("# DRP001 (functional-dropout-without-training)")
    assert "## Why is this bad?" in out and "## Use instead" in out


def test_explain_unknown_code_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--explain", "DRP999"])
    assert exit_info.value.code == 2


def test_list_rules_names_every_rule(capsys) -> None:
    from dropout_lint.rules import ALL_RULES

    code, out = run(capsys, "--list-rules")
    assert code == 0
    file_problems = ["DRP900", "DRP901", "DRP902", "DRP903"]
    assert [line.split()[0] for line in out.splitlines()] == [r.code for r in ALL_RULES] + file_problems


@pytest.mark.parametrize(("source", "imports_libcst"), [(CLEAN, False), (BUGGY, True)])
def test_libcst_is_imported_only_when_a_file_reaches_it(
    tmp_path: Path, source: str, imports_libcst: bool
) -> None:
    """A file the gates let through is checked with libcst; a run where none is (here a
    module that passes ``training=``) imports neither libcst nor the fixes. In one process
    (``--jobs 1``), so that the run's imports are the probe's."""
    (tmp_path / "model.py").write_text(source)
    probe = (
        "import sys; from dropout_lint.integrations.cli import main;"
        "code = main(['--isolated', '--no-cache', '--jobs', '1', sys.argv[1]]);"
        "print(code, sorted(m for m in ('libcst', 'dropout_lint.fixes.fixer') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path / "model.py")], capture_output=True, text=True, check=True
    )
    expected = "1 ['libcst']" if imports_libcst else "0 []"
    assert result.stdout.splitlines()[-1] == expected


def test_jobs_do_not_change_the_output(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    for index in range(40):
        (tmp_path / f"m{index:02}.py").write_text(BUGGY if index % 3 else CLEAN)
    outputs = {run(capsys, "--jobs", str(jobs), ".")[1] for jobs in (1, 2, 4)}
    assert len(outputs) == 1 and next(iter(outputs)).count("DRP001") == 26


def test_console_script_runs_without_torch(project: Path) -> None:
    """The installed command works; the linter never imports torch (or flake8), nor
    libcst's matchers, which take longer to import than libcst itself."""
    probe = (
        "import sys, dropout_lint.integrations.cli, dropout_lint.engine.lint, dropout_lint.rules;"
        "print(sorted(m for m in ('torch', 'flake8', 'libcst.matchers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "pkg"], capture_output=True, text=True, cwd=project
    )
    assert result.returncode == 1 and "DRP001" in result.stdout
