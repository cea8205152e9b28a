"""DRP002: ``self.train`` (a bound method) used as the train/eval mode."""

from __future__ import annotations

from ..analysis.torch_api import dropout_function
from ..engine.rule import Invalid, Rule, Valid
from ..prefilter.attribute_reads import AttributeReads

# What the rule looks for, once: the byte gate, the syntax gate and the visitor read it.
TRAIN_READS = AttributeReads("train", keywords=("training", "train"), lookup=dropout_function)


class TrainMethodAsMode(Rule):
    code = "DRP002"
    name = "train-method-as-mode"
    summary = "`self.train` is the bound method `nn.Module.train`, not the mode: use `self.training`"
    explanation = """
## What it does
Checks for `self.train` used as a train/eval flag in the methods of an `nn.Module`: as a
condition (`if self.train:`, `x if self.train else y`, `not self.train`) or as the mode
argument of a call (`training=self.train`).

## Why is this bad?
`self.train` is the method `nn.Module.train`, and a bound method is always truthy: code
meant for "training only" runs in eval mode too. Given to torch's dropout functions as
`training=`, it raises `TypeError` on the first call. The mode is the attribute
`self.training`.

Classes that assign an attribute of their own called `train` (`self.train = train`) are
left alone: there `self.train` is whatever they stored.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        if self.train:
            x = x + torch.randn_like(x) * 0.1
        return F.dropout(x, 0.5, training=self.train)
```

## Use instead
```python
class Net(nn.Module):
    def forward(self, x):
        if self.training:
            x = x + torch.randn_like(x) * 0.1
        return F.dropout(x, 0.5, training=self.training)
```

## Fix safety
The fix replaces `self.train` with `self.training`. It is safe: the code then does what
it was written to do, and only in eval mode does its behaviour change.

## References
- [torch.nn.Module.train](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.train)
"""
    looks_for = (TRAIN_READS,)

    valid = (
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        self.train()
        self.train(False)
        return x if self.training else -x
"""
        ),
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self, train):
        super().__init__()
        self.train = train

    def forward(self, x):
        return x if self.train else -x
"""
        ),
        Valid(
            """
class Loader:
    def __iter__(self):
        if self.train:
            yield 1
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        if self.train:  # expect
            x = x * 2
        return F.dropout(x, 0.5, training=self.train)  # expect
""",
            fixed="""
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def forward(self, x):
        if self.training:  # expect
            x = x * 2
        return F.dropout(x, 0.5, training=self.training)  # expect
""",
        ),
        Invalid(
            """
import torch

class Net(torch.nn.Module):
    def forward(self, x):
        return torch.dropout(x, 0.5, self.train)  # expect
""",
            fixed="""
import torch

class Net(torch.nn.Module):
    def forward(self, x):
        return torch.dropout(x, 0.5, self.training)  # expect
""",
        ),
    )
