"""DRP001's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.functional_dropout_without_training`."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import libcst as cst

from ...analysis.call_arguments import argument, has_unpacking
from ...analysis.guards import controlled_by_caller, runs_only_in_training
from ...analysis.module_classes import Method
from ...analysis.torch_api import INPLACE, INPUT, RATE, DropoutFunction, dropout_function
from ...engine.diagnostics import Applicability, Diagnostic, Fix
from ...engine.rule_visitor import RuleVisitor
from ...fixes.dropout_registration import DropoutRegistrar, DropoutRequest
from ...fixes.node_edits import NodeEdits
from ...fixes.zero_rates import is_zero_rate, without_call
from ..functional_dropout_without_training import FunctionalDropoutWithoutTraining


class FunctionalDropoutWithoutTrainingVisitor(FunctionalDropoutWithoutTraining, RuleVisitor):
    def visit_Call(self, node: cst.Call) -> None:
        function = self.resolve_name(node.func, dropout_function)
        if function is None or function.mode_default is None or has_unpacking(node):
            return
        if argument(node, function.mode) is not None:
            return
        classes = self.context.classes
        method = classes.enclosing_method(node)
        if method is None or runs_only_in_training(node, classes, method.function):
            return
        if controlled_by_caller(node, _rate(node), method, classes):
            return
        self.report(node, _message(function), _fix(function, method))

    def node_edits(self, diagnostic: Diagnostic) -> Optional[NodeEdits]:
        """Call a registered module where that is safe, else pass ``training=self.training``."""
        call: cst.Call = diagnostic.node
        method = self.context.classes.enclosing_method(call)
        function = self.context.classes.resolve_name(call.func, dropout_function)
        if method is None or method.self_name is None or function is None:
            return None
        if self.context.fix_style == "module":
            facts = self._registrar.facts.facts_of(method.owner)
            if is_zero_rate(_rate(call), method, facts):
                removed = self._without_no_op(call, function)
                if removed is not None:
                    return removed
            else:
                request = _registration_request(call, method, function)
                registered = None if request is None else self._registrar.register(request)
                if registered is not None:
                    return registered
        edits = NodeEdits()
        edits.replace(call, _with_training_flag(call, function, method.self_name))
        return edits

    def _without_no_op(self, call: cst.Call, function: DropoutFunction) -> Optional[NodeEdits]:
        """``F.dropout`` with a rate of 0 returns its input in either mode: the call goes. The
        channel forms check their input's rank even then, so they keep the call."""
        source = argument(call, INPUT)
        if function.qualified_name != PLAIN_DROPOUT or source is None:
            return None
        return without_call(call, source.value, self.context.classes)

    @cached_property
    def _registrar(self) -> DropoutRegistrar:
        """One for all the fixes of a file, so that they share modules and names."""
        return DropoutRegistrar(self.context)


PLAIN_DROPOUT = "torch.nn.functional.dropout"


def _rate(call: cst.Call) -> Optional[cst.BaseExpression]:
    rate = argument(call, RATE)
    return rate.value if rate is not None else None


def _registration_request(
    call: cst.Call, method: Method, function: DropoutFunction
) -> Optional[DropoutRequest]:
    """``self.<name>(x)`` with ``nn.<Class>(p=..., inplace=...)`` registered, if expressible."""
    source = argument(call, INPUT)
    if function.module_class is None or source is None:
        return None
    rate = argument(call, RATE)
    inplace = argument(call, INPLACE)
    if inplace is not None and function.mode_default is False:
        # AlphaDropout and FeatureAlphaDropout ignore `inplace` in forward.
        return None
    constructor_args = [
        cst.Arg(rate.value if rate is not None else cst.Float("0.5"), keyword=cst.Name("p"))
    ]
    if inplace is not None:
        constructor_args.append(cst.Arg(inplace.value, keyword=cst.Name("inplace")))
    last = call.args[-1]
    call_arg = cst.Arg(
        source.value,
        comma=last.comma,
        whitespace_after_arg=last.whitespace_after_arg,
    )
    return DropoutRequest(
        call=call,
        method=method,
        module_class=function.module_class,
        constructor_args=constructor_args,
        call_args=[call_arg],
    )


def _with_training_flag(call: cst.Call, function: DropoutFunction, self_name: str) -> cst.Call:
    """The call with ``training=self.training`` appended, in the call's own layout."""
    flag = cst.Arg(
        cst.Attribute(cst.Name(self_name), cst.Name("training")),
        keyword=cst.Name(function.mode.keyword),
        equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
    )
    args = list(call.args)
    last = args[-1]
    if isinstance(last.comma, cst.Comma):  # a trailing comma: one argument per line
        separator = args[-2].comma if len(args) > 1 else last.comma
        flag = flag.with_changes(comma=last.comma, whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
    else:
        flag = flag.with_changes(whitespace_after_arg=last.whitespace_after_arg)
        args[-1] = last.with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
            whitespace_after_arg=cst.SimpleWhitespace(""),
        )
    return call.with_changes(args=[*args, flag])


def _fix(function: DropoutFunction, method: Method) -> Optional[Fix]:
    """No fix in a static method: there is no module to ask for its mode."""
    if method.self_name is None:
        return None
    if function.mode_default is False:
        return Fix(
            f"Call a registered `nn.{function.module_class}` (or pass `training=self.training`); "
            "unsafe: the dropout starts running in training, where it never ran",
            Applicability.UNSAFE,
        )
    return Fix(_fix_description(function))


def _message(function: DropoutFunction) -> str:
    if function.mode_default:
        effect = "stays active after `model.eval()` (its default is `training=True`)"
    else:
        effect = "never runs, even in training (its default is `training=False`)"
    return (
        f"`{function.spelled}` without `training=` {effect}; "
        f"use a registered `nn.{function.module_class}` or pass `training=self.training`"
    )


def _fix_description(function: DropoutFunction) -> str:
    return f"Call a registered `nn.{function.module_class}` module (or pass `training=self.training`)"
