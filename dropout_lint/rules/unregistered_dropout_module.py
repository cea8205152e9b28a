"""DRP020: a dropout module built and called inside a method, never registered."""

from __future__ import annotations

import re

import libcst as cst

from ..diagnostics import Fix
from ..rule import Invalid, Rule, Valid
from ..torch_api import dropout_module


class UnregisteredDropoutModule(Rule):
    code = "DRP020"
    name = "unregistered-dropout-module"
    summary = "Dropout module built and called in a method: `eval()` cannot reach it"
    explanation = """
## What it does
Checks for a dropout module (`nn.Dropout`, `nn.Dropout1d/2d/3d`, `nn.AlphaDropout`,
`nn.FeatureAlphaDropout`) created and called at once inside a method of an `nn.Module`
other than `__init__`: `nn.Dropout(0.2)(x)`.

## Why is this bad?
A module built on the fly is not a submodule: `model.eval()` never reaches it, and a new
module starts in training mode. So the dropout stays on at inference, and it does not
appear in `print(model)`.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        return nn.Dropout(0.2)(x)
```

## Use instead
```python
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        return self.dropout(x)
```

## Fix safety
The fix registers the module in `__init__` and calls it. Outputs in training mode are
the same; in eval mode dropout is off, which is the point.

## References
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    trigger = re.compile(rb"Dropout")

    valid = (
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        return self.dropout(x)
"""
        ),
        Valid(
            """
import torch.nn as nn

def make_head():
    return nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.2))
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return nn.Dropout(0.2)(x)  # expect
"""
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Call):
            return
        layer = self.resolve_name(node.func.func, dropout_module)
        if layer is None:
            return
        method = self.context.scope.enclosing_method(node)
        if method is None or method.name == "__init__":
            return
        self.report(
            node,
            f"`nn.{layer}` built and called in `{method.name}` is never registered, so "
            f"`model.eval()` cannot turn it off; create it in `__init__` as an attribute",
            Fix(f"Register the `nn.{layer}` in `__init__` and call the attribute"),
        )
