"""The rules' visitors as libcst's batched visit sees them."""

from __future__ import annotations

import libcst as cst
import pytest

from dropout_lint.engine.context import FileContext
from dropout_lint.engine.rule_visitor import visitor_of
from dropout_lint.rules import ALL_RULES

SOURCE = """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, training=self.training)
"""


def _context() -> FileContext:
    return FileContext("model.py", cst.MetadataWrapper(cst.parse_module(SOURCE)))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.code)
def test_hooks_are_those_libcst_finds(rule) -> None:
    visitor = visitor_of(rule)(_context())
    assert visitor.get_visitors().keys() == cst.BatchableCSTVisitor.get_visitors(visitor).keys()


@pytest.mark.parametrize("code", ["DRP001", "DRP020"])
def test_finding_hooks_builds_no_fix_registrar(code: str) -> None:
    """libcst's lookup reads every attribute, so it would build the registrar of the fixes
    (a cached property) on every file the rule visits."""
    (rule,) = [rule for rule in ALL_RULES if rule.code == code]
    visitor = visitor_of(rule)(_context())
    visitor.get_visitors()
    assert "_registrar" not in vars(visitor)
    cst.BatchableCSTVisitor.get_visitors(visitor)
    assert "_registrar" in vars(visitor)


def _rendered_positions(monkeypatch: pytest.MonkeyPatch, source: str) -> tuple[list[str], list]:
    """The types of the nodes libcst rendered with positions while linting ``source``,
    and the findings (all rules on)."""
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.engine.positions import NodePositions

    rendered: list[str] = []
    render = NodePositions._render

    def counting(self, node, line, indent):
        rendered.append(type(node).__name__)
        return render(self, node, line, indent)

    monkeypatch.setattr(NodePositions, "_render", counting)
    findings = lint_source(source, "model.py", LintOptions(rules=list(ALL_RULES)))
    return rendered, findings


CHANNEL_DROPOUT = """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.drop = nn.Dropout2d(0.1)

    def forward(self, x):
        return self.drop({input})
"""


def test_positions_are_rendered_only_for_a_file_with_findings(monkeypatch: pytest.MonkeyPatch) -> None:
    # DRP010's rank analysis writes lines into every value's origin; a file with no
    # finding must not pay for them.
    rendered, findings = _rendered_positions(monkeypatch, CHANNEL_DROPOUT.format(input="self.conv(x)"))
    assert (rendered, findings) == ([], [])
    rendered, findings = _rendered_positions(monkeypatch, CHANNEL_DROPOUT.format(input="self.conv(x).flatten(1)"))
    assert [d.code for d in findings] == ["DRP010"]
    assert "after `.flatten()` at line 11" in findings[0].message
    # Only the statement holding the finding (and the `.flatten()` it names), never the module.
    assert rendered == ["SimpleStatementLine"]


def test_a_lint_without_fixes_makes_no_libcst_visit(monkeypatch: pytest.MonkeyPatch) -> None:
    """A libcst visit rebuilds every node: the rules' traversal reads the nodes' fields, and
    positions are rendered without the whole-module visit ``MetadataWrapper.resolve`` adds.
    (Fixes may visit a statement to edit it.)"""
    from dropout_lint.engine.lint import LintOptions, lint_source

    visited = []
    visit = cst.CSTNode.visit

    def recording(self, visitor):
        visited.append(type(self).__name__)
        return visit(self, visitor)

    monkeypatch.setattr(cst.CSTNode, "visit", recording)
    source = CHANNEL_DROPOUT.format(input="self.conv(x).flatten(1)") + SOURCE.replace(
        ", training=self.training", ""
    ).replace("class Net", "class Other")
    findings = lint_source(source, "model.py", LintOptions(rules=list(ALL_RULES), fixes=False))
    assert sorted(d.code for d in findings) == ["DRP001", "DRP010"]
    assert visited == []
