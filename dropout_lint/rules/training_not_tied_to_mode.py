"""DRP003 (opt-in): dropout whose mode is fixed, or tied to something other than the module's."""

from __future__ import annotations

import re
from typing import Optional

from ..analysis.torch_api import DROPOUT_FUNCTIONS, DropoutFunction, dropout_function
from ..engine.rule import Invalid, Rule, Valid
from ..prefilter.byte_scan import GAP, ArgumentText, CallSite
from ..prefilter.call_sites import CallSites
from ..prefilter.reduction import ClassReads


class TrainingNotTiedToMode(Rule):
    code = "DRP003"
    name = "training-not-tied-to-mode"
    summary = "Dropout's `training=` is a constant or a flag other than `self.training`"
    default_enabled = False
    explanation = """
## What it does
Checks, in the methods of an `nn.Module`, for torch's dropout functions whose mode
argument is a literal (`training=True`, `training=False`) or an attribute other than
the module's mode (`training=self.is_training`), outside any guard on the mode (the
guards DRP001 honours: `if self.training:`, early returns on `not self.training`, and
`self.training or self.apply_during_inference`, where a flag opts in to eval on purpose).

This rule is off by default: enable it with `--select DRP003` (or `extend-select`).

## Why is this bad?
`model.eval()` sets `self.training` on every submodule; it does not touch your own
flags. Dropout tied to a constant or to another flag does not follow `train()`/`eval()`,
so it may keep running at inference or never run at all.

Some models want dropout at inference on purpose (Tacotron's prenet, Monte Carlo
dropout). That is legitimate, which is why this rule is opt-in; silence it for such a
line with `# noqa: DRP003`.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, training=self.is_training)
```

## Use instead
```python
class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5, training=self.training)
```

## Fix safety
No automatic fix: whether the constant was intended is for the author to say.

## References
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    looks_for = (
        CallSites(
            names=tuple((function.short_name, function) for function in DROPOUT_FUNCTIONS.values()),
            lookup=dropout_function,
            accepts=lambda site, function: _may_fire_on(site, function),
            in_method=True,
        ),
    )
    # The guards of the methods calling the site's method.
    class_reads = ClassReads(callers=True)

    valid = (
        Valid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Prenet(nn.Module):
    def forward(self, x, training):
        x = F.dropout(x, 0.5, training=self.training)
        x = F.dropout(x, 0.5, training=training)
        if self.training:
            x = F.dropout(x, 0.5, training=True)
        return x

class FairseqDropout(nn.Module):
    def forward(self, x):
        if self.p > 0 and (self.training or self.apply_during_inference):
            return F.dropout(x, p=self.p, training=True)
        return x
"""
        ),
        Valid(
            """
import torch.nn.functional as F

def always_on(x):
    return F.dropout(x, 0.5, training=True)
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Prenet(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5, training=True)  # expect
        return F.dropout(x, 0.5, training=self.is_training)  # expect
"""
        ),
    )


# A mode argument _describe_fixed_mode turns down: a name other than True or False, or
# anything ending in `.training`/`.train` (an attribute of that name, or no attribute at all).
_NOT_FIXED_MODE = re.compile(
    GAP + rb"(?:(?!(?:True|False)\b)\w+|.*\." + GAP + rb"(?:training|train))" + GAP, re.DOTALL
)


def _may_fire_on(site: CallSite, function: DropoutFunction) -> bool:
    """Whether the call's mode argument may be fixed, as far as its arguments can be read."""
    return site.arguments is None or (
        not site.has_unpacking
        and _may_be_fixed_mode(site.argument(function.mode))
    )


def _may_be_fixed_mode(mode: Optional[ArgumentText]) -> bool:
    return mode is not None and _NOT_FIXED_MODE.fullmatch(mode.value) is None
