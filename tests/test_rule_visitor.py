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
