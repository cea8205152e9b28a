"""DRP001: functional dropout in module code without a ``training`` argument."""

from __future__ import annotations

import re

import libcst as cst

from ..arguments import argument, has_unpacking
from ..diagnostics import Fix
from ..guards import runs_only_in_training
from ..rule import Invalid, Rule, Valid
from ..torch_api import DropoutFunction, dropout_function


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
return x`, `x if self.training else ...`) are not reported, nor are calls outside module
code: a free function has no mode of its own, and should take `training` as a parameter.

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
The fix registers a dropout module in `__init__` and calls it, or, where the rate is not
fixed for the module's lifetime or there is no `__init__` to extend, adds
`training=self.training`. Outputs in training mode are unchanged (the same random draws in
the same order); in eval mode dropout is off, which is the point. `state_dict()` keys do not
change: dropout modules hold no state.

## References
- [torch.nn.functional.dropout](https://pytorch.org/docs/stable/generated/torch.nn.functional.dropout.html)
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    trigger = re.compile(rb"dropout")

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
"""
        ),
        Invalid(
            """
import torch
from torch.nn.functional import alpha_dropout as drop

class Net(torch.nn.Module):
    def forward(self, x):
        head = lambda t: drop(t, p=0.1)  # expect
        return head(x)
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        function = self.resolve_name(node.func, dropout_function)
        if function is None or function.mode_default is None or has_unpacking(node):
            return
        if argument(node, function.mode_keyword, function.mode_position) is not None:
            return
        method = self.context.scope.enclosing_method(node)
        if method is None or runs_only_in_training(node, self.context.scope, method.function):
            return
        self.report(node, _message(function), Fix(_fix_description(function)))


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
