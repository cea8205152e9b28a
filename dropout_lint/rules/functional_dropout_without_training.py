"""DRP001: functional dropout in module code without a ``training`` argument."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import libcst as cst

from ..analysis.call_arguments import argument, has_unpacking
from ..analysis.guards import controlled_by_caller, runs_only_in_training
from ..analysis.module_classes import Method
from ..analysis.torch_api import (
    DROPOUT_FUNCTIONS,
    INPLACE,
    INPUT,
    RATE,
    DropoutFunction,
    dropout_function,
)
from ..engine.diagnostics import Applicability, Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.dropout_registration import DropoutRegistrar, DropoutRequest
from ..fixes.node_edits import NodeEdits
from ..fixes.zero_rates import is_zero_rate, without_call
from ..prefilter.byte_scan import CallSite
from ..prefilter.call_sites import CallSites

PLAIN_DROPOUT = "torch.nn.functional.dropout"


class FunctionalDropoutWithoutTraining(Rule):
    code = "DRP001"
    name = "functional-dropout-without-training"
    summary = "Functional dropout in an `nn.Module` without `training=`: it ignores `eval()`"
    explanation = """
## What it does
Checks for calls to `torch.nn.functional.dropout` (and `dropout1d/2d/3d`, `alpha_dropout`,
`feature_alpha_dropout`) inside the methods of an `nn.Module` that pass no `training`
argument, by keyword or by position.

## Why is this bad?
The functional forms know nothing of the module they are called from. `F.dropout` defaults
to `training=True`, so it keeps dropping activations after `model.eval()`: inference is
noisy and validation scores are wrong. The alpha variants default to `training=False`, so
they never run, not even in training.

Calls that only run under a guard on the mode (`if self.training:`, `if not self.training:
return x`, `x if self.training else ...`, `if self.training or self.mc_dropout:`) are not
reported, nor are calls outside module code: a free function has no mode of its own, and
should take `training` as a parameter. Nor are calls the caller controls: their rate, or a
flag in a condition around them, comes from a parameter of the method (`def forward(self,
x, p)`, or a `dropout_switch` unpacked from the input for Monte Carlo dropout), unless its
default turns dropout on (`p=0.1`, `mc=True`: a caller passing nothing gets dropout after
`eval()`); the opt-in DRP003 is the place for dropout not tied to the mode.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        return self.fc(F.dropout(x, 0.3))
```

## Use instead
A registered module, which `eval()` reaches and `print(model)` shows:
```python
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(p=0.3)

    def forward(self, x):
        return self.fc(self.dropout(x))
```
or pass the mode: `F.dropout(x, 0.3, training=self.training)`.

## Fix safety
The fix registers a dropout module in `__init__` (after `super().__init__()` and whatever
the rate reads, beside the layer that runs before it, named in the class's own style) and
calls it, or adds `training=self.training` where the rate is not fixed for the module's
lifetime, there is no `__init__` to extend safely, or no clear name is free (`dropout_layer`
beside a float `self.dropout` is not one). With `fix-style = "training-flag"` it always does
the latter. A call of `F.dropout` whose rate is 0 for the module's lifetime (the literal, or
an attribute only ever set to it) is removed instead: it returns its input in either mode and
takes no random draw. An import the fix leaves unused is removed.

A module built in `__init__` keeps the rate it was built with, where the call read it each
time. So a rate attribute that is set anywhere after construction is never frozen in a
module: in another method or a subclass of the file, or, with `--fix` and `--diff`, in any
file of the checked paths (`model.drop_rate = 0.0` in a fine-tuning script,
`setattr(m, "drop_rate", 0.0)`), matched by attribute name whatever the object. Such calls
get `training=self.training`, which keeps reading the rate. Outputs in training mode are
unchanged (the same random draws in the same order); in eval mode dropout is off, which is
the point. `state_dict()` keys do not change: dropout modules hold no state.

The fix is unsafe for `alpha_dropout` and `feature_alpha_dropout`: they default to
`training=False`, so the fix turns on in training a dropout that never ran, and a model
trained before the fix was trained without it. It needs `--unsafe-fixes`.

## References
- [torch.nn.functional.dropout](https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html)
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    looks_for = (
        CallSites(
            names=tuple(
                (function.short_name, function)
                for function in DROPOUT_FUNCTIONS.values()
                if function.mode_default is not None
            ),
            lookup=dropout_function,
            accepts=lambda site, function: function.mode_default is not None
            and _may_leave_mode_out(site, function),
            in_method=True,
        ),
    )

    valid = (
        Valid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5, training=self.training)
        x = F.dropout(x, 0.5, self.training)
        if self.training:
            x = F.dropout(x, 0.1)
        return x if not self.training else F.dropout(x, 0.2)
"""
        ),
        Valid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        return F.dropout(x, self.p)
"""
        ),
        Valid(
            """
import torch.nn.functional as F

def drop(x, p, training):
    return F.dropout(x, p, training)

def head(x):
    return F.dropout(x, 0.5)
"""
        ),
        Valid(
            """
import torch.nn as nn
import torch.nn.functional as F

class MCDropoutNet(nn.Module):
    def forward(self, input):
        x, dropout_switch = input
        if dropout_switch:
            x = F.dropout(x, 0.5)
        return x

class Scaled(nn.Module):
    def forward(self, x, p=0.0):
        return F.dropout(x, p)

class Sampler(nn.Module):
    def forward(self, x):
        if self.training or self.apply_during_inference:
            x = F.dropout(x, 0.1)
        return x
"""
        ),
        Valid(
            """
import chainer.functions as F
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)
"""
        ),
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x, dropout):
        return dropout(x)
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(F.dropout(x, 0.3))  # expect
""",
            fixed="""
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(p=0.3)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(self.dropout(x))  # expect
""",
        ),
        Invalid(
            """
import torch
from torch.nn.functional import alpha_dropout as drop

class Net(torch.nn.Module):
    def forward(self, x):
        head = lambda t: drop(t, p=0.1)  # expect
        return head(x)
""",
            fixed="""
import torch
from torch.nn.functional import alpha_dropout as drop

class Net(torch.nn.Module):
    def forward(self, x):
        head = lambda t: drop(t, p=0.1, training=self.training)  # expect
        return head(x)
""",
        ),
    )

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


def _may_leave_mode_out(site: CallSite, function: DropoutFunction) -> bool:
    """Whether the call may pass no mode argument, as far as its arguments can be read."""
    return site.arguments is None or not (
        site.has_unpacking or site.argument(function.mode) is not None
    )


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
