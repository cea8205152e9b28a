"""``--fix``: fixture pairs, byte-exact preservation, safety, and the command's flags."""

from __future__ import annotations

import codecs
import os
import re
import shutil
import stat
from pathlib import Path

import libcst as cst
import pytest
from test_fixtures import FIXTURES, selected_rules

from dropout_lint.engine.diagnostics import Fix
from dropout_lint.engine.lint import LintOptions
from dropout_lint.engine.rule import Invalid, Rule
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.fixes.node_edits import NodeEdits
from dropout_lint.integrations.cli import main
from dropout_lint.rules import ALL_RULES

FIX_FIXTURES = sorted(
    path for path in (FIXTURES / "fix").glob("*.py") if not path.name.endswith(".fixed.py")
)
_FIX_STYLE = re.compile(r"^#\s*fix-style:\s*(?P<style>\S+)$", re.MULTILINE)
DEFAULT = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])

BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(F.dropout(x, 0.3))
"""
FIXED = """\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(p=0.3)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(self.dropout(x))
"""


def fixture_options(source: str) -> LintOptions:
    match = _FIX_STYLE.search(source)
    return LintOptions(
        rules=selected_rules(source), fix_style=match.group("style") if match else "module"
    )


@pytest.mark.parametrize("path", FIX_FIXTURES, ids=lambda p: p.name)
def test_fixture_is_fixed_as_expected(path: Path) -> None:
    source = path.read_bytes()
    options = fixture_options(source.decode())
    result = fix_source(source, str(path), options)
    expected = path.with_name(path.stem + ".fixed.py").read_bytes()
    assert result.source.decode() == expected.decode()
    assert fix_source(result.source, str(path), options).source == result.source
    not_fixed = [n for n, line in enumerate(expected.decode().splitlines(), 1) if "# not fixed" in line]
    assert [d.line for d in result.remaining] == not_fixed


def test_every_fix_fixture_has_its_expected_output() -> None:
    assert FIX_FIXTURES
    for path in FIX_FIXTURES:
        assert path.with_name(path.stem + ".fixed.py").exists(), path


def test_the_issue_example() -> None:
    assert fix_source(BUGGY.encode(), "net.py", DEFAULT).source.decode() == FIXED


def test_a_file_without_findings_comes_back_identical() -> None:
    source = FIXED.encode()
    result = fix_source(source, "net.py", DEFAULT)
    assert result.source is source and result.fixed == {} and result.remaining == []


def test_crlf_and_tabs_are_kept() -> None:
    source = BUGGY.replace("    ", "\t").replace("\n", "\r\n").encode()
    fixed = fix_source(source, "net.py", DEFAULT).source
    assert fixed == FIXED.replace("    ", "\t").replace("\n", "\r\n").encode()


def test_bom_and_encoding_cookie_are_kept() -> None:
    bom = codecs.BOM_UTF8 + BUGGY.encode()
    assert fix_source(bom, "net.py", DEFAULT).source == codecs.BOM_UTF8 + FIXED.encode()
    latin1 = ("# -*- coding: latin-1 -*-\n# café\n" + BUGGY).encode("latin-1")
    fixed = fix_source(latin1, "net.py", DEFAULT).source
    assert fixed == ("# -*- coding: latin-1 -*-\n# café\n" + FIXED).encode("latin-1")


def test_comments_and_blank_lines_are_kept() -> None:
    source = BUGGY.replace("    def forward", "    # the forward pass\n\n\n    def forward")
    fixed = fix_source(source.encode(), "net.py", DEFAULT).source.decode()
    assert fixed == FIXED.replace("    def forward", "    # the forward pass\n\n\n    def forward")


def test_suppressed_findings_are_not_fixed() -> None:
    source = BUGGY.replace("0.3))", "0.3))  # noqa: DRP001").encode()
    assert fix_source(source, "net.py", DEFAULT).source == source


def test_unsafe_fixes_only_when_asked() -> None:
    source = BUGGY.replace("F.dropout(x, 0.3)", "F.alpha_dropout(x, 0.3)").encode()
    result = fix_source(source, "net.py", DEFAULT)
    assert result.source == source and [d.code for d in result.remaining] == ["DRP001"]
    fixed = fix_source(source, "net.py", DEFAULT, unsafe_fixes=True).source.decode()
    assert "self.alpha_dropout = nn.AlphaDropout(p=0.3)" in fixed
    assert "self.fc(self.alpha_dropout(x))" in fixed


def test_names_never_clash_with_what_the_class_or_its_relatives_use() -> None:
    source = BUGGY.replace(
        "        self.fc = nn.Linear(8, 8)\n",
        "        self.fc = nn.Linear(8, 8)\n        setattr(self, 'dropout_layer', None)\n",
    ) + "\n\nclass Child(Net):\n    def __init__(self):\n        super().__init__()\n        self.dropout = 1\n"
    fixed = fix_source(source.encode(), "net.py", DEFAULT).source.decode()
    # `dropout` is taken by the subclass: no `dropout_layer` or `dropout_2`, the mode is passed.
    assert "nn.Dropout" not in fixed and "self.fc(F.dropout(x, 0.3, training=self.training))" in fixed


def test_a_rate_a_subclass_overrides_is_not_moved_to_init() -> None:
    source = BUGGY.replace("0.3))", "self.p))").replace(
        "self.fc = nn.Linear(8, 8)\n", "self.fc = nn.Linear(8, 8)\n        self.p = 0.3\n"
    ) + "\n\nclass Child(Net):\n    def __init__(self):\n        super().__init__()\n        self.p = 0.5\n"
    fixed = fix_source(source.encode(), "net.py", DEFAULT).source.decode()
    assert "F.dropout(x, self.p, training=self.training)" in fixed and "nn.Dropout" not in fixed


def test_a_name_shadowed_in_init_is_not_moved_there() -> None:
    source = "RATE = 0.3\n" + BUGGY.replace("0.3))", "RATE))").replace(
        "def __init__(self):", "def __init__(self, RATE=0.9):"
    )
    fixed = fix_source(source.encode(), "net.py", DEFAULT).source.decode()
    assert "F.dropout(x, RATE, training=self.training)" in fixed


def test_a_module_level_constant_rate_is_moved() -> None:
    source = BUGGY.replace("0.3))", "RATE))").replace("\n\nclass", "\nRATE = 0.3\n\n\nclass")
    fixed = fix_source(source.encode(), "net.py", DEFAULT).source.decode()
    assert "self.dropout = nn.Dropout(p=RATE)" in fixed


class _BreaksTheFile(Rule):
    """A rule whose fix renders code that does not parse: the loop must refuse it."""

    code = "DRP999"
    name = "breaks-the-file"
    summary = "test rule"
    explanation = ""
    trigger = re.compile(rb"dropout")
    invalid = (Invalid("x"),)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "dropout":
            self.report(node, "bad", Fix("break it"))

    def node_edits(self, diagnostic) -> NodeEdits:
        edits = NodeEdits()
        edits.replace(diagnostic.node, cst.Name("class"))  # a keyword: invalid code
        return edits


def test_a_fix_that_does_not_parse_leaves_the_file_alone_and_is_reported() -> None:
    source = BUGGY.encode()
    result = fix_source(source, "net.py", LintOptions(rules=[_BreaksTheFile]))
    assert result.source is source
    problems = [d for d in result.remaining if d.code == "DRP901"]
    assert len(problems) == 1 and "cannot compile" in problems[0].message


def test_a_fix_whose_output_libcst_cannot_read_leaves_the_file_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python compiles each round's output; where the round's lint gives libcst the fixed
    code (its class still holds a site) and libcst cannot read it, the fix is refused too."""
    from dropout_lint.engine import lint
    from dropout_lint.engine.diagnostics import UNREADABLE_FILE, file_problem

    parse = lint._libcst_module

    def fails_on_fixed_code(source, path):
        if "nn.Dropout(p=0.3)" in source:
            return file_problem(path, UNREADABLE_FILE, "syntax error (libcst): injected")
        return parse(source, path)

    monkeypatch.setattr(lint, "_libcst_module", fails_on_fixed_code)
    # The staticmethod's call has no fix and stays a site: the round's lint reads ``Net``.
    source = (BUGGY + "\n    @staticmethod\n    def f(x):\n        return F.dropout(x)\n").encode()
    result = fix_source(source, "net.py", DEFAULT)
    assert result.source is source
    problems = [d for d in result.remaining if d.code == "DRP901"]
    assert len(problems) == 1 and "does not parse" in problems[0].message
    monkeypatch.setattr(lint, "_libcst_module", parse)
    assert b"self.dropout = nn.Dropout(p=0.3)" in fix_source(source, "net.py", DEFAULT).source


# --- the command -------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(BUGGY)
    (tmp_path / "clean.py").write_text(FIXED)
    return tmp_path


def test_fix_writes_keeps_permissions_and_reports_what_is_left(project: Path, capsys) -> None:
    model = project / "model.py"
    model.write_text(BUGGY + "\n\nclass Odd(nn.Module):\n    @staticmethod\n    def f(x):\n        return F.dropout(x)\n")
    os.chmod(model, 0o640)
    clean_stat = (project / "clean.py").stat()
    assert main(["--isolated", "--fix", "."]) == 1
    out, err = capsys.readouterr()
    # `Odd` still uses `F`: its import stays.
    still_imported = FIXED.replace("nn\n", "nn\nimport torch.nn.functional as F\n", 1)
    assert model.read_text().startswith(still_imported)
    assert stat.S_IMODE(model.stat().st_mode) == 0o640
    assert (project / "clean.py").stat().st_mtime_ns == clean_stat.st_mtime_ns
    assert out.startswith("model.py:18:16: DRP001")
    assert "Fixed 1 finding in 1 file." in err
    assert sorted(p.name for p in project.iterdir()) == ["clean.py", "model.py"]
    assert main(["--isolated", "--fix", "."]) == 1
    assert "Fixed 0 findings" in capsys.readouterr().err


def test_fix_exits_0_when_everything_was_fixed(project: Path, capsys) -> None:
    assert main(["--isolated", "--fix", "model.py"]) == 0
    assert capsys.readouterr().out == ""


def test_diff_prints_and_writes_nothing(project: Path, capsys) -> None:
    assert main(["--isolated", "--diff", "."]) == 1
    out = capsys.readouterr().out
    assert (project / "model.py").read_text() == BUGGY
    assert out.startswith("--- model.py\n+++ model.py\n")
    assert "-        return self.fc(F.dropout(x, 0.3))\n" in out
    assert "+        self.dropout = nn.Dropout(p=0.3)\n" in out
    assert main(["--isolated", "--diff", "clean.py"]) == 0


def test_fix_only_reports_only_a_count(project: Path, capsys) -> None:
    (project / "unfixable.py").write_text(BUGGY.replace("F.dropout(x, 0.3)", "F.alpha_dropout(x)"))
    assert main(["--isolated", "--fix-only", "."]) == 0
    out, err = capsys.readouterr()
    assert out == "" and "Fixed 1 finding in 1 file." in err
    assert "1 more fix available with --unsafe-fixes." in err
    assert main(["--isolated", "--fix-only", "--unsafe-fixes", "."]) == 0
    assert "AlphaDropout" in (project / "unfixable.py").read_text()


def test_fix_style_from_the_command_line_and_from_config(project: Path, capsys) -> None:
    assert main(["--isolated", "--diff", "--fix-style", "training-flag", "model.py"]) == 1
    assert "+        return self.fc(F.dropout(x, 0.3, training=self.training))\n" in capsys.readouterr().out
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nfix-style = "training-flag"\n')
    assert main(["--fix", "model.py"]) == 0
    assert "training=self.training" in (project / "model.py").read_text()


def test_symlinks_are_written_through(project: Path, capsys) -> None:
    (project / "link.py").symlink_to("model.py")
    assert main(["--isolated", "--fix", "link.py"]) == 0
    assert (project / "link.py").is_symlink()
    assert (project / "model.py").read_text() == FIXED


def test_fix_in_parallel_workers(project: Path, capsys) -> None:
    for number in range(40):
        (project / f"model_{number}.py").write_text(BUGGY)
    assert main(["--isolated", "--fix", "--jobs", "2", "."]) == 0
    assert all((project / f"model_{n}.py").read_text() == FIXED for n in range(40))
    assert "Fixed 41 findings in 41 files." in capsys.readouterr().err


def test_stdin_fix_writes_the_fixed_source(project: Path, capsys, monkeypatch) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(BUGGY.encode())))
    stdout = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(stdout))
    assert main(["--isolated", "--fix", "-"]) == 0
    sys.stdout.flush()
    assert stdout.getvalue().decode() == FIXED


def test_a_rate_another_file_sets_is_never_frozen_in_a_module(tmp_path: Path, monkeypatch) -> None:
    fixtures = FIXTURES / "fix_project"
    (tmp_path / "project").mkdir()
    (tmp_path / "alone").mkdir()
    for path in fixtures.glob("*.py"):
        if not path.name.endswith(".fixed.py"):
            shutil.copy(path, tmp_path / "project" / path.name)
    shutil.copy(fixtures / "models.py", tmp_path / "alone" / "models.py")
    monkeypatch.chdir(tmp_path)
    assert main(["--isolated", "--fix", "project"]) == 0
    assert (tmp_path / "project" / "models.py").read_text() == (fixtures / "models.fixed.py").read_text()
    # Without `finetune.py` in the project, nothing sets `drop_rate` later: a module.
    assert main(["--isolated", "--fix", "alone"]) == 0
    assert "self.drop = nn.Dropout(p=self.drop_rate)" in (tmp_path / "alone" / "models.py").read_text()
