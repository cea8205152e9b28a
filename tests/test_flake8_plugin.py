"""The plugin, run through flake8 itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("flake8")

SOURCE = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        x = F.dropout(x, 0.5)  # noqa: DRP001
        x = F.dropout(x, 0.5, training=True)
        return x if self.train else -x
"""


def flake8(path: Path, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", *args, str(path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode in (0, 1), result.stderr
    return [line.split(":", 1)[1] for line in result.stdout.splitlines() if ": DRP" in line]


def test_plugin_reports_with_noqa_and_default_off_rules(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(SOURCE)
    found = flake8(path)
    assert [line.split()[1] for line in found] == ["DRP001", "DRP002"]
    assert found[0].startswith("7:13: DRP001 `F.dropout` without `training=`")
    assert found[1].startswith("10:21: DRP002")


def test_opt_in_rule_is_enabled_by_selecting_it(tmp_path: Path) -> None:
    path = tmp_path / "net.py"
    path.write_text(SOURCE)
    codes = [line.split()[1] for line in flake8(path, "--extend-select", "DRP003")]
    assert codes == ["DRP001", "DRP003", "DRP002"]


def test_explicit_select_of_the_prefix_includes_opt_in_rules(tmp_path: Path) -> None:
    """flake8's own semantics: an explicit --select beats a plugin's default ignores."""
    path = tmp_path / "net.py"
    path.write_text(SOURCE)
    assert "DRP003" in [line.split()[1] for line in flake8(path, "--select", "DRP")]


def test_file_without_dropout_is_silent(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("import torch\n\nx = torch.ones(3)\n")
    assert flake8(path) == []


@pytest.mark.parametrize(
    "argv, codes",
    [
        ([], ["DRP001", "DRP002", "DRP004", "DRP010", "DRP020", "DRP030"]),
        (
            ["--extend-select", "DRP003"],
            ["DRP001", "DRP002", "DRP003", "DRP004", "DRP010", "DRP020", "DRP030"],
        ),
        (
            ["--select", "DRP"],
            ["DRP001", "DRP002", "DRP003", "DRP004", "DRP010", "DRP020", "DRP030", "DRP100"],
        ),
        (["--extend-ignore", "DRP0"], []),
        (["--select", "E,W"], []),
    ],
)
def test_rules_flake8_will_not_report_are_not_run(argv: list[str], codes: list[str]) -> None:
    """A rule's cost is only paid when flake8 may show its findings."""
    from flake8.options.parse_args import parse_args

    from dropout_lint.integrations.flake8_plugin import DropoutLintPlugin

    parse_args(["--isolated", *argv, "net.py"])
    assert [rule.code for rule in DropoutLintPlugin.options.rules] == codes


# Dropout as it should be: each gate lets it through for none of the rules.
NO_CANDIDATE = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return F.dropout(self.dropout(x), 0.2, training=self.training)
"""
# flake8 checks a single file in its own process; the probe prints what that process imported.
_FLAKE8_PROBE = """
import sys
from flake8.main.cli import main
try:
    main(["--isolated", sys.argv[1]])
except SystemExit:
    pass
print(sorted(m for m in ("dropout_lint.engine.lint", "libcst") if m in sys.modules))
"""


@pytest.mark.parametrize(
    ("source", "imported"),
    [
        (NO_CANDIDATE, ["dropout_lint.engine.lint"]),
        (SOURCE, ["dropout_lint.engine.lint", "libcst"]),
    ],
    ids=["no-candidate", "finding"],
)
def test_libcst_is_imported_only_for_a_file_that_reaches_it(
    tmp_path: Path, source: str, imported: list[str]
) -> None:
    """flake8 loads the plugin in every run: a file no gate lets through costs the byte gate
    over the lines flake8 read, not libcst's import (a few tenths of a second)."""
    path = tmp_path / "net.py"
    path.write_text(source)
    result = subprocess.run(
        [sys.executable, "-c", _FLAKE8_PROBE, str(path)], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[-1] == repr(imported)
    assert any(": DRP" in line for line in lines) == ("libcst" in imported)


def test_plugin_reports_what_the_command_does_without_working_out_fixes(monkeypatch) -> None:
    """flake8 shows no fixes: the plugin's findings are the engine's, with no fix computed."""
    import ast

    from flake8.options.parse_args import parse_args

    from dropout_lint.engine import lint as engine
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.integrations.flake8_plugin import DropoutLintPlugin
    from dropout_lint.rules import ALL_RULES

    parse_args(["--isolated", "net.py"])  # the plugin's options, as flake8 sets them
    expected = [
        (d.line, d.column - 1, f"{d.code} {d.message}")
        for d in lint_source(SOURCE, "net.py", LintOptions(rules=DropoutLintPlugin.options.rules))
    ]
    assert any(d.fix is not None for d in lint_source(SOURCE, "net.py", LintOptions(rules=ALL_RULES)))
    monkeypatch.setattr(engine, "_with_fix_edits", lambda *args: pytest.fail("a fix was worked out"))
    plugin = DropoutLintPlugin(ast.parse(SOURCE), SOURCE.splitlines(keepends=True), "net.py")
    assert [finding[:3] for finding in plugin.run()] == expected != []
