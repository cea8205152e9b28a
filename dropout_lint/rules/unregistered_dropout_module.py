"""DRP020: a dropout module built and called inside a method, never registered."""

from __future__ import annotations

from functools import cached_property
from typing import Optional

import libcst as cst

from ..analysis.module_classes import Method
from ..analysis.torch_api import DROPOUT_MODULES, dropout_module
from ..engine.diagnostics import Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.dropout_registration import DropoutRegistrar, DropoutRequest
from ..fixes.node_edits import NodeEdits
from ..prefilter.call_sites import CallSites


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
The fix registers the module in `__init__` (after `super().__init__()` and whatever its
arguments read) and calls it. Outputs in training mode are the same; in eval mode dropout
is off, which is the point. There is no fix when the arguments are not fixed for the
module's lifetime or the class has no `__init__` that calls `super().__init__()`.

## References
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
"""
    looks_for = (
        CallSites(
            names=tuple((layer, layer) for layer in DROPOUT_MODULES),
            lookup=dropout_module,
            called_at_once=True,
            outside_init=True,
        ),
    )

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
        Invalid(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = 0.2

    def forward(self, x):
        return nn.Dropout(self.dropout)(x)  # expect
""",
            fixed="""
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = 0.2
        self.dropout_layer = nn.Dropout(self.dropout)

    def forward(self, x):
        return self.dropout_layer(x)  # expect
""",
        ),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not isinstance(node.func, cst.Call):
            return
        layer = self.resolve_name(node.func.func, dropout_module)
        if layer is None:
            return
        method = self.context.classes.enclosing_method(node)
        if method is None or method.name == "__init__":
            return
        request = _registration_request(node, method, layer)
        fixable = DropoutRegistrar(self.context).can_register(request)
        self.report(
            node,
            f"`nn.{layer}` built and called in `{method.name}` is never registered, so "
            f"`model.eval()` cannot turn it off; create it in `__init__` as an attribute",
            Fix(f"Register the `nn.{layer}` in `__init__` and call the attribute") if fixable else None,
        )

    def node_edits(self, diagnostic: Diagnostic) -> Optional[NodeEdits]:
        call: cst.Call = diagnostic.node
        method = self.context.classes.enclosing_method(call)
        layer = self.context.classes.resolve_name(call.func.func, dropout_module)
        if method is None or layer is None:
            return None
        return self._registrar.register(_registration_request(call, method, layer))

    @cached_property
    def _registrar(self) -> DropoutRegistrar:
        """One for all the fixes of a file, so that they share modules and names."""
        return DropoutRegistrar(self.context)


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
