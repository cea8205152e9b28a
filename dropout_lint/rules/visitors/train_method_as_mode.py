"""DRP002's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.train_method_as_mode`."""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ...analysis.call_arguments import argument
from ...analysis.module_classes import Method, ModuleClasses
from ...analysis.node_search import visit_fields
from ...engine.diagnostics import Diagnostic, Fix
from ...engine.rule_visitor import RuleVisitor
from ...fixes.node_edits import NodeEdits
from ..train_method_as_mode import TRAIN_READS, TrainMethodAsMode


class TrainMethodAsModeVisitor(TrainMethodAsMode, RuleVisitor):
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != TRAIN_READS.attribute or not isinstance(node.value, cst.Name):
            return
        classes = self.context.classes
        method = classes.enclosing_method(node)
        if method is None or method.self_name != node.value.value:
            return
        use = self._use_as_mode(node, classes)
        if use is None or _sets_own_train(method, classes):
            return
        self.report(
            node,
            f"`{method.self_name}.train` is the bound method `nn.Module.train`, not the mode: "
            f"{use}; use `{method.self_name}.training`",
            Fix(f"Replace `{method.self_name}.train` with `{method.self_name}.training`"),
        )

    def _use_as_mode(self, node: cst.Attribute, classes: ModuleClasses) -> Optional[str]:
        """How ``node`` is used as a mode, in words, or None if it is not: the uses
        ``TRAIN_READS`` states, confirmed (a positional argument must be the mode's)."""
        parent = classes.parent(node)
        if isinstance(parent, cst.Arg):
            call = classes.parent(parent)
            if not isinstance(call, cst.Call):
                return None
            function = self.resolve_name(call.func, TRAIN_READS.lookup)
            if function is not None and argument(
                call, function.mode
            ) is parent:
                return f"`{function.spelled}` raises TypeError when given it"
            if parent.keyword is not None and TRAIN_READS.is_keyword(parent.keyword.value):
                return "it is always truthy, so this runs in eval mode too"
            return None
        is_test = (
            isinstance(parent, (cst.If, cst.IfExp, cst.While, cst.Assert)) and parent.test is node
        ) or (
            isinstance(parent, cst.BooleanOperation)
            or (isinstance(parent, cst.UnaryOperation) and isinstance(parent.operator, cst.Not))
        )
        return "it is always truthy, so this runs in eval mode too" if is_test else None

    def node_edits(self, diagnostic: Diagnostic) -> NodeEdits:
        edits = NodeEdits()
        edits.replace(diagnostic.node, diagnostic.node.with_changes(attr=cst.Name("training")))
        return edits


def _sets_own_train(method: Method, classes: ModuleClasses) -> bool:
    """Whether the class (or a base in this file) stores its own ``train`` attribute."""
    return any(_assigns_train(c) for c in classes.classes_in_hierarchy(method.owner))


def _assigns_train(classdef: cst.ClassDef) -> bool:
    finder = _TrainAssignmentFinder()
    visit_fields(classdef, finder)
    return finder.found


class _TrainAssignmentFinder(cst.CSTVisitor):
    """Finds ``self.train = ...``, ``train = ...`` in the class body, or a ``train`` property."""

    def __init__(self) -> None:
        super().__init__()
        self.found = False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self.found |= _is_train_target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self.found |= _is_train_target(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if node.name.value == "train" and any(
            isinstance(d.decorator, cst.Name) and d.decorator.value == "property"
            for d in node.decorators
        ):
            self.found = True


def _is_train_target(target: cst.BaseExpression) -> bool:
    if isinstance(target, cst.Attribute):
        return target.attr.value == "train"
    return isinstance(target, cst.Name) and target.value == "train"
