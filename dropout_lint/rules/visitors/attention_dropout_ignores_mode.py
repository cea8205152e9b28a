"""DRP004's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.attention_dropout_ignores_mode`."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ...analysis.call_arguments import argument, has_unpacking
from ...analysis.guards import (
    controlled_by_caller,
    covers_eval,
    implies_training,
    runs_only_in_training,
)
from ...analysis.module_classes import Method
from ...analysis.node_search import nodes_of_type
from ...analysis.torch_api import AttentionFunction, attention_function
from ...engine.diagnostics import Diagnostic, Fix
from ...engine.rule_visitor import RuleVisitor
from ...fixes.node_edits import NodeEdits
from ..attention_dropout_ignores_mode import AttentionDropoutIgnoresMode


class AttentionDropoutIgnoresModeVisitor(AttentionDropoutIgnoresMode, RuleVisitor):
    def visit_Call(self, node: cst.Call) -> None:
        function = self.resolve_name(node.func, attention_function)
        if function is None or has_unpacking(node):
            return
        if function.mode is not None:
            if argument(node, function.mode) is not None:
                return
        rate = argument(node, function.rate)
        if rate is None or _is_zero(rate.value):
            return
        classes = self.context.classes
        method = classes.enclosing_method(node)
        if method is None or runs_only_in_training(node, classes, method.function):
            return
        if _tied_to_mode(rate.value, method) or controlled_by_caller(node, rate.value, method, classes):
            return
        self.report(node, _message(function, rate.value), _fix(function, method))

    def node_edits(self, diagnostic: Diagnostic) -> Optional[NodeEdits]:
        """Rewrite the rate as ``<p> if self.training else 0.0``."""
        call: cst.Call = diagnostic.node
        method = self.context.classes.enclosing_method(call)
        function = self.context.classes.resolve_name(call.func, attention_function)
        if method is None or method.self_name is None or function is None or function.mode is not None:
            return None
        rate = argument(call, function.rate)
        if rate is None:
            return None
        edits = NodeEdits()
        edits.replace(rate.value, _tied(rate.value, method.self_name))
        return edits


def _tied(rate: cst.BaseExpression, self_name: str) -> cst.IfExp:
    return cst.IfExp(
        test=cst.Attribute(cst.Name(self_name), cst.Name("training")),
        body=rate,
        orelse=cst.Float("0.0"),
    )


def _is_zero(value: cst.BaseExpression) -> bool:
    return isinstance(value, (cst.Integer, cst.Float)) and value.evaluated_value == 0


def _tied_to_mode(rate: cst.BaseExpression, method: Method) -> bool:
    """``p if self.training else 0.0`` (or its mirror), or a local variable only ever
    assigned such an expression in the method."""
    if isinstance(rate, cst.IfExp):
        return (implies_training(rate.test) and _is_zero(rate.orelse)) or (
            covers_eval(rate.test) and _is_zero(rate.body)
        )
    if not isinstance(rate, cst.Name):
        return False
    assigned = [
        assign.value
        for assign in nodes_of_type(method.function.body, cst.Assign)
        if any(
            isinstance(target.target, cst.Name) and target.target.value == rate.value
            for target in assign.targets
        )
    ]
    return bool(assigned) and all(
        not isinstance(value, cst.Name) and _tied_to_mode(value, method) for value in assigned
    )


def _message(function: AttentionFunction, rate: cst.BaseExpression) -> str:
    written = cst.Module([]).code_for_node(rate)
    if function.mode is not None:
        return (
            f"`{function.spelled}` without `{function.mode.keyword}=` keeps attention dropout "
            f"(`{function.rate.keyword}={written}`) on after `model.eval()` (its default is "
            f"`{function.mode.keyword}=True`); pass `{function.mode.keyword}=self.training`"
        )
    return (
        f"`{function.spelled}` with `{function.rate.keyword}={written}` keeps attention "
        "dropout on after `model.eval()`; pass "
        f"`{function.rate.keyword}={written} if self.training else 0.0`"
    )


def _fix(function: AttentionFunction, method: Method) -> Optional[Fix]:
    if function.mode is not None or method.self_name is None:
        return None
    return Fix(f"Pass `{function.rate.keyword}=<p> if self.training else 0.0`")
