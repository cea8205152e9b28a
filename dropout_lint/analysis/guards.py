"""Whether code only runs in training mode, judged from the conditions around it.

``implies_training(test)``: when ``test`` is true, the module is training.
``covers_eval(test)``: when the module is in eval mode, ``test`` is true (so the code
after ``if test: return`` or in its ``else:`` only runs in training).
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from .module_classes import ModuleClasses

# The names people give a train/eval flag: self.training, training, is_training, ...
_MODE_NAME = re.compile(r"^(?:is_)?train(?:ing)?$")


def is_mode_flag(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Attribute):
        return bool(_MODE_NAME.match(node.attr.value))
    if isinstance(node, cst.Name):
        return bool(_MODE_NAME.match(node.value))
    return False


def _compared_to_bool(node: cst.BaseExpression) -> Optional[bool]:
    """For ``flag is True`` / ``flag == False`` / ``flag is not True``: what it asserts of flag."""
    if not (isinstance(node, cst.Comparison) and len(node.comparisons) == 1):
        return None
    target = node.comparisons[0]
    if not (is_mode_flag(node.left) and isinstance(target.comparator, cst.Name)):
        return None
    if target.comparator.value not in ("True", "False"):
        return None
    value = target.comparator.value == "True"
    if isinstance(target.operator, (cst.Is, cst.Equal)):
        return value
    if isinstance(target.operator, (cst.IsNot, cst.NotEqual)):
        return not value
    return None


def implies_training(test: cst.BaseExpression) -> bool:
    if is_mode_flag(test):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return covers_eval(test.expression)
    if isinstance(test, cst.BooleanOperation):
        left, right = implies_training(test.left), implies_training(test.right)
        return (left or right) if isinstance(test.operator, cst.And) else (left and right)
    return _compared_to_bool(test) is True


def covers_eval(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return implies_training(test.expression)
    if isinstance(test, cst.BooleanOperation):
        left, right = covers_eval(test.left), covers_eval(test.right)
        return (left or right) if isinstance(test.operator, cst.Or) else (left and right)
    return _compared_to_bool(test) is False


def _always_exits(body: cst.BaseSuite) -> bool:
    statements = body.body
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    return isinstance(last, (cst.Return, cst.Raise))


def _earlier_exit_on_eval(block: cst.BaseSuite | cst.Module, statement: cst.CSTNode) -> bool:
    """``if not self.training: return x`` earlier in the same block."""
    for sibling in block.body:
        if sibling is statement:
            return False
        if (
            isinstance(sibling, cst.If)
            and sibling.orelse is None
            and _always_exits(sibling.body)
            and covers_eval(sibling.test)
        ):
            return True
    return False


def runs_only_in_training(
    node: cst.CSTNode, classes: ModuleClasses, stop: cst.FunctionDef, _seen: frozenset = frozenset()
) -> bool:
    """Whether ``node`` can only run while the mode flag is true.

    The conditions around it count up to ``stop``, its method; past that, a method whose
    every call in its class (``self.method(...)``) runs only in training counts too.
    """
    current: cst.CSTNode = node
    while current is not stop:
        parent = classes.parent(current)
        if parent is None:
            return False
        if isinstance(parent, (cst.If, cst.IfExp, cst.While)):
            if current is parent.body and implies_training(parent.test):
                return True
            if current is parent.orelse and covers_eval(parent.test):
                return True
        elif isinstance(parent, cst.BooleanOperation) and current is parent.right:
            if isinstance(parent.operator, cst.And) and implies_training(parent.left):
                return True
            if isinstance(parent.operator, cst.Or) and covers_eval(parent.left):
                return True
        elif isinstance(parent, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)):
            if _earlier_exit_on_eval(parent, current):
                return True
        current = parent
    return _called_only_in_training(stop, classes, _seen | {stop})


def _called_only_in_training(
    method: cst.FunctionDef, classes: ModuleClasses, seen: frozenset
) -> bool:
    calls = classes.calls_to_method(method)
    return bool(calls) and all(
        caller not in seen and runs_only_in_training(call, classes, caller, seen)
        for call, caller in calls
    )
