"""Dropout with a rate of 0: a call that does nothing in either mode.

``F.dropout(x, 0.0)`` returns its input in training and in eval (torch takes no random
draw for it), so the fix that keeps the behaviour and reads best removes the call rather
than registering an ``nn.Dropout(p=0.0)``. A rate is 0 when it is the literal, or an
attribute that the class family only ever sets, in ``__init__`` or at class level, to the
literal (``self.attention_dropout = 0.0``).
"""

from __future__ import annotations

from typing import Optional, Union

import libcst as cst

from ..analysis.module_classes import Method, ModuleClasses
from .class_facts import ClassFacts, class_body, init_body
from .node_edits import NodeEdits

# Expressions that need no parentheses where a call stood, and places that take any expression.
_ATOMS = (cst.Name, cst.Attribute, cst.Call, cst.Subscript, cst.Integer, cst.Float, cst.SimpleString)
_WHOLE = (cst.Arg, cst.Assign, cst.AnnAssign, cst.Return, cst.Expr, cst.Element)


def is_zero_rate(rate: Optional[cst.BaseExpression], method: Method, facts: ClassFacts) -> bool:
    """Whether ``rate`` (None: torch's default, 0.5) is 0 for the module's whole lifetime."""
    if rate is None:
        return False
    if _is_zero_literal(rate):
        return True
    if not (
        isinstance(rate, cst.Attribute)
        and isinstance(rate.value, cst.Name)
        and rate.value.value == method.self_name
        and facts.lifetime_constant(rate.attr.value) is not None
    ):
        return False
    values = _assigned_values(rate.attr.value, facts)
    return bool(values) and all(value is not None and _is_zero_literal(value) for value in values)


def without_call(call: cst.Call, source: cst.BaseExpression, classes: ModuleClasses) -> Optional[NodeEdits]:
    """The edits that replace ``call`` by its input ``source``; ``x = F.dropout(x, 0.0)``
    goes altogether, unless its block would be left empty (then None)."""
    edits = NodeEdits()
    statement = _self_assignment_line(call, source, classes)
    if statement is not None:
        block = classes.parent(statement)
        if not isinstance(block, cst.IndentedBlock) or len(block.body) < 2:
            return None
        edits.replace(statement, cst.RemovalSentinel.REMOVE)  # type: ignore[arg-type]
        return edits
    if not isinstance(source, _ATOMS) and not source.lpar and not isinstance(classes.parent(call), _WHOLE):
        source = source.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    edits.replace(call, source)
    return edits


def _self_assignment_line(
    call: cst.Call, source: cst.BaseExpression, classes: ModuleClasses
) -> Optional[cst.SimpleStatementLine]:
    """The line ``x = F.dropout(x, 0.0)``, which would become ``x = x``."""
    assign = classes.parent(call)
    line = classes.parent(assign) if assign is not None else None
    if not (
        isinstance(assign, cst.Assign)
        and isinstance(line, cst.SimpleStatementLine)
        and len(line.body) == 1
        and len(assign.targets) == 1
    ):
        return None
    target = assign.targets[0].target
    if isinstance(target, cst.Name) and isinstance(source, cst.Name) and target.value == source.value:
        return line
    return None


def _is_zero_literal(expression: cst.BaseExpression) -> bool:
    if isinstance(expression, (cst.Integer, cst.Float)):
        try:
            return float(expression.evaluated_value) == 0.0
        except (ValueError, OverflowError):
            return False
    return False


def _assigned_values(attribute: str, facts: ClassFacts) -> list[Optional[cst.BaseExpression]]:
    """The value of every ``self.<attribute> = ...`` of the family's ``__init__``s and of
    every class-level ``<attribute> = ...``; None for one that is not a plain assignment."""
    values: list[Optional[cst.BaseExpression]] = []
    for _, function, index in facts.writes.get(attribute, []):
        statement = init_body(function).body[index] if isinstance(function.body, cst.IndentedBlock) else None
        values.append(_plain_value(statement, attribute, attribute_of_self=True))
    for owner in facts.hierarchy + facts.subclasses:
        for statement in class_body(owner):
            if _binds(statement, attribute):
                values.append(_plain_value(statement, attribute, attribute_of_self=False))
    return values


def _binds(statement: cst.BaseStatement, name: str) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return isinstance(statement, (cst.FunctionDef, cst.ClassDef)) and statement.name.value == name
    for small in statement.body:
        targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else []
        if isinstance(small, (cst.AnnAssign, cst.AugAssign)):
            targets = [small.target]
        if any(isinstance(t, cst.Name) and t.value == name for t in targets):
            return True
    return False


def _plain_value(
    statement: Union[cst.BaseStatement, None], attribute: str, attribute_of_self: bool
) -> Optional[cst.BaseExpression]:
    """``0.0`` of ``self.p = 0.0`` (or ``p = 0.0``); None for any other kind of write."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if not isinstance(small, cst.Assign) or len(small.targets) != 1:
        return None
    target = small.targets[0].target
    if attribute_of_self:
        matches = isinstance(target, cst.Attribute) and target.attr.value == attribute
    else:
        matches = isinstance(target, cst.Name) and target.value == attribute
    return small.value if matches else None
