"""DRP003's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.training_not_tied_to_mode`."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ...analysis.call_arguments import argument, has_unpacking
from ...analysis.guards import runs_only_in_training
from ...analysis.torch_api import dropout_function
from ...engine.rule_visitor import RuleVisitor
from ..training_not_tied_to_mode import TrainingNotTiedToMode


class TrainingNotTiedToModeVisitor(TrainingNotTiedToMode, RuleVisitor):
    def visit_Call(self, node: cst.Call) -> None:
        function = self.resolve_name(node.func, dropout_function)
        if function is None or has_unpacking(node):
            return
        mode = argument(node, function.mode)
        described = _describe_fixed_mode(mode.value) if mode is not None else None
        if described is None:
            return
        method = self.context.classes.enclosing_method(node)
        if method is None or runs_only_in_training(node, self.context.classes, method.function):
            return
        self.report(
            node,
            f"`{function.spelled}` with `{function.mode.keyword}={described}` does not follow "
            "`train()`/`eval()`; pass `training=self.training` (or `# noqa: DRP003` if intended)",
        )


def _describe_fixed_mode(value: cst.BaseExpression) -> Optional[str]:
    """The mode's source text when it is a literal or a flag that is not the module's mode."""
    if isinstance(value, cst.Name) and value.value in ("True", "False"):
        return value.value
    if isinstance(value, cst.Attribute) and value.attr.value not in ("training", "train"):
        return cst.Module([]).code_for_node(value)
    return None
