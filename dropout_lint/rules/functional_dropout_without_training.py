"""DRP001: functional dropout in module code without a ``training`` argument."""

from __future__ import annotations

from ..analysis.torch_api import DROPOUT_FUNCTIONS, DropoutFunction, dropout_function
from ..engine.rule import Invalid, Rule, Valid
from ..prefilter.byte_scan import CallSite
from ..prefilter.call_sites import CallSites
from ..prefilter.reduction import ClassReads


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
    # The guards of the methods calling the site's method; the fix registers in `__init__`.
    class_reads = ClassReads(callers=True, registrations=True)

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


def _may_leave_mode_out(site: CallSite, function: DropoutFunction) -> bool:
    """Whether the call may pass no mode argument, as far as its arguments can be read."""
    return site.arguments is None or not (
        site.has_unpacking or site.argument(function.mode) is not None
    )
