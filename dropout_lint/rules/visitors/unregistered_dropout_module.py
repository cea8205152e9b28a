"""DRP020's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.unregistered_dropout_module`."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import libcst as cst

from ...analysis.guards import runs_only_in_training
from ...analysis.module_classes import Method, ModuleClasses
from ...analysis.plain_containers import PlainContainer, plain_dropout_containers
from ...analysis.torch_api import STATELESS_MODULES, dropout_module, torch_nn_class
from ...engine.diagnostics import Diagnostic, Fix
from ...engine.rule_visitor import RuleVisitor
from ...fixes.dropout_registration import DropoutRegistrar, DropoutRequest
from ...fixes.node_edits import NodeEdits
from ...fixes.plain_container_conversion import converted_container
from ..unregistered_dropout_module import UnregisteredDropoutModule


class UnregisteredDropoutModuleVisitor(UnregisteredDropoutModule, RuleVisitor):
    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Call):
            return
        layer = self.resolve_name(node.func.func, dropout_module)
        if layer is None:
            return
        method = self.context.classes.enclosing_method(node)
        if method is None or method.name == "__init__":
            return
        if runs_only_in_training(node, self.context.classes, method.function):
            return  # a new module is in training mode: right where only training runs
        request = _registration_request(node, method, layer)
        fixable = DropoutRegistrar(self.context).can_register(request)
        self.report(
            node,
            f"`nn.{layer}` built and called in `{method.name}` is never registered, so "
            f"`model.eval()` cannot turn it off; create it in `__init__` as an attribute",
            Fix(f"Register the `nn.{layer}` in `__init__` and call the attribute") if fixable else None,
        )

    def leave_Module(self, original_node: cst.Module) -> None:
        classes = self.context.classes
        for container in plain_dropout_containers(
            original_node, classes, self._dropout_built_by, self._is_stateless
        ):
            if all(
                runs_only_in_training(call, classes, function)
                for call, function in container.applications
            ):
                continue  # never applied, or only in training: the mode is right there
            self._report_container(container)

    def _report_container(self, container: PlainContainer) -> None:
        registered = "nn.ModuleDict" if container.kind == "dict" else "nn.ModuleList"
        plain = "dict" if container.kind == "dict" else "list"
        edits = converted_container(container, self._registrar.facts, self._registrar.spelling)
        for call, layer in container.dropouts:
            if edits is not None:
                self._conversions[call] = edits
            self.report(
                call,
                f"`{layer}` kept in the plain {plain} `self.{container.attribute}` is not "
                f"registered, so `model.eval()` cannot turn it off; hold it in an `{registered}`",
                Fix(f"Make `self.{container.attribute}` an `{registered}`") if edits else None,
            )

    def _dropout_built_by(self, call: cst.Call) -> Optional[str]:
        """``nn.Dropout`` for ``nn.Dropout(p)``; ``SpatialDropout`` for a class of the file
        deriving from a dropout module."""
        classes = self.context.classes
        layer = classes.resolve_name(call.func, dropout_module)
        if layer is not None:
            return f"nn.{layer}"
        if not isinstance(call.func, cst.Name):
            return None
        found = classes.classes_named(call.func.value)
        if len(found) != 1 or not _derives_from_dropout(found[0], classes):
            return None
        return call.func.value

    def _is_stateless(self, call: cst.Call) -> bool:
        return self.context.classes.resolve_name(call.func, torch_nn_class) in STATELESS_MODULES

    def node_edits(self, diagnostic: Diagnostic) -> Optional[NodeEdits]:
        if diagnostic.node in self._conversions:
            return self._conversions[diagnostic.node]
        call: cst.Call = diagnostic.node
        method = self.context.classes.enclosing_method(call)
        layer = self.context.classes.resolve_name(call.func.func, dropout_module)
        if method is None or layer is None:
            return None
        return self._registrar.register(_registration_request(call, method, layer))

    @cached_property
    def _conversions(self) -> dict[cst.CSTNode, NodeEdits]:
        """The edits that make a plain container registered, by the finding's node."""
        return {}

    @cached_property
    def _registrar(self) -> DropoutRegistrar:
        """One for all the fixes of a file, so that they share modules and names."""
        return DropoutRegistrar(self.context)


def _derives_from_dropout(classdef: cst.ClassDef, classes: ModuleClasses) -> bool:
    """Whether a class of the file has a base (maybe through others of the file) that is
    one of torch's dropout modules."""
    return any(
        classes.resolve_name(base.value, dropout_module) is not None
        for owner in classes.classes_in_hierarchy(classdef)
        for base in owner.bases
        if base.keyword is None
    )


def _registration_request(call: cst.Call, method: Method, layer: str) -> DropoutRequest:
    """``nn.Dropout(0.2)(x)``: the constructor moves to ``__init__`` as it is written."""
    assert isinstance(call.func, cst.Call)
    return DropoutRequest(
        call=call,
        method=method,
        module_class=layer,
        constructor_args=call.func.args,
        call_args=call.args,
        constructor_func=call.func.func,
    )
