"""The lint after a round of fixes (``lint_after_fixes``): it keeps the last findings only
where the round cannot change them, and otherwise lints the file again."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dropout_lint.engine import incremental
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.fixes import fixer
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.fixes.unused_imports import without_imports_made_unused
from dropout_lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])
EVERY_RULE = LintOptions(rules=list(ALL_RULES))

HEADER = """\
import torch.nn as nn
import torch.nn.functional as F

"""
# A finding, fixed by registering a module in ``__init__``.
FIXED_CLASS = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(F.dropout(x, 0.3))
"""
# A site that is no finding: the call runs in training only.
GUARDED = """
class {name}({base}):
    def forward(self, x):
        if self.training:
            x = F.dropout(x, 0.1)
        return x
"""


def _full_lints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths ``lint_after_fixes`` lints whole from now on (not the first lint)."""
    calls: list[str] = []

    def counted(data, path, options, **kwargs):
        calls.append(path)
        return lint_source(data, path, options, **kwargs)

    monkeypatch.setattr(incremental, "lint_source", counted)
    return calls


def test_untouched_classes_keep_their_findings_without_a_lint(monkeypatch: pytest.MonkeyPatch) -> None:
    source = HEADER + FIXED_CLASS + GUARDED.format(name="Other", base="nn.Module")
    relinted = _full_lints(monkeypatch)
    result = fix_source(source.encode(), "net.py", DEFAULT)
    assert result.fixed == {"DRP001": 1}
    assert relinted == []  # the guarded call's class did not change: nothing to lint again
    assert result.remaining == lint_source(result.source, "net.py", DEFAULT) == []


def test_a_class_whose_base_was_fixed_is_linted_again(monkeypatch: pytest.MonkeyPatch) -> None:
    source = HEADER + FIXED_CLASS + GUARDED.format(name="Child", base="Net")
    relinted = _full_lints(monkeypatch)
    result = fix_source(source.encode(), "net.py", DEFAULT)
    assert result.fixed == {"DRP001": 1}
    assert relinted == ["net.py"]  # Child reads Net, which the round changed


def test_a_finding_left_in_a_changed_class_is_found_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule whose fix is unsafe leaves its finding in the class another fix changed."""
    source = HEADER + FIXED_CLASS.replace(
        "return self.fc(F.dropout(x, 0.3))", "return F.alpha_dropout(self.fc(F.dropout(x, 0.3)), 0.1)"
    )
    relinted = _full_lints(monkeypatch)
    result = fix_source(source.encode(), "net.py", DEFAULT)
    assert relinted == ["net.py"]
    assert [d.code for d in result.remaining] == ["DRP001"]
    assert result.remaining == lint_source(result.source, "net.py", DEFAULT)


def test_an_untouched_finding_moves_with_the_lines_the_round_added(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unsafe fix in an unchanged class stays a finding, on the line it moved to."""
    other = GUARDED.format(name="Other", base="nn.Module").replace("F.dropout(x, 0.1)", "F.alpha_dropout(x, 0.1)")
    other = other.replace("        if self.training:\n            x", "        x")
    source = HEADER + FIXED_CLASS + other
    relinted = _full_lints(monkeypatch)
    result = fix_source(source.encode(), "net.py", DEFAULT)
    assert relinted == []
    (left,) = result.remaining
    assert left.line == source.splitlines().index("        x = F.alpha_dropout(x, 0.1)") + 2  # one line registered
    assert result.remaining == lint_source(result.source, "net.py", DEFAULT)


@pytest.mark.parametrize(("options", "unsafe_fixes"), [(DEFAULT, False), (EVERY_RULE, True)], ids=["default", "all"])
def test_each_rounds_findings_are_those_of_a_full_lint(
    monkeypatch: pytest.MonkeyPatch, options: LintOptions, unsafe_fixes: bool
) -> None:
    """On the fixtures and examples, every round's findings, fixes included, equal
    ``lint_source``'s; and rounds are both kept and linted again."""
    outcomes: list[bool] = []
    kept, lint_after_fixes = incremental._findings_kept, fixer.lint_after_fixes

    def recorded(*args):
        found = kept(*args)
        outcomes.append(found is not None)
        return found

    def checked(last, text, data, tree, path, options):
        linted = lint_after_fixes(last, text, data, tree, path, options)
        full = lint_source(data, path, options, tree=tree)
        assert [(d, d.fix) for d in linted.findings] == [(d, d.fix) for d in full]
        return linted

    monkeypatch.setattr(incremental, "_findings_kept", recorded)
    monkeypatch.setattr(fixer, "lint_after_fixes", checked)
    for path in sorted([*ROOT.glob("fixtures/**/*.py"), *ROOT.glob("examples/**/*.py")]):
        fix_source(path.read_bytes(), str(path), options, unsafe_fixes)
    assert True in outcomes and False in outcomes


def test_an_import_used_in_an_unchanged_statement_stays() -> None:
    before = HEADER + FIXED_CLASS + "\nDROP = F.dropout\n"
    after = before.replace("self.fc(F.dropout(x, 0.3))", "self.fc(self.dropout(x))")
    assert without_imports_made_unused(ast.parse(before), before, ast.parse(after), after, "net.py") == after
    alone = after.replace("\nDROP = F.dropout\n", "")
    pruned = without_imports_made_unused(ast.parse(before), before, ast.parse(alone), alone, "net.py")
    assert pruned == alone.replace("import torch.nn.functional as F\n", "")
