"""DRP020: a dropout module that ``eval()`` cannot reach: built and called inside a method,
or kept in a plain ``list``, ``tuple`` or ``dict`` attribute."""

from __future__ import annotations

import ast
from functools import cached_property
from typing import Optional

import libcst as cst

from ..analysis.guards import runs_only_in_training
from ..analysis.module_classes import Method, ModuleClasses
from ..analysis.plain_containers import PlainContainer, plain_dropout_containers
from ..analysis.torch_api import DROPOUT_MODULES, STATELESS_MODULES, dropout_module, torch_nn_class
from ..engine.diagnostics import Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.dropout_registration import DropoutRegistrar, DropoutRequest
from ..fixes.node_edits import NodeEdits
from ..fixes.plain_container_conversion import converted_container
from ..prefilter.byte_scan import ByteScan
from ..prefilter.call_sites import CallSites
from ..prefilter.container_sites import container_sites, may_build_dropout_into_container
from ..prefilter.syntax_scan import SyntaxScan


class UnregisteredDropoutModule(Rule):
    code = "DRP020"
    name = "unregistered-dropout-module"
    summary = (
        "Dropout module `eval()` cannot reach: built in a method, or kept in a plain list or dict"
    )
    explanation = """
## What it does
Checks for dropout modules (`nn.Dropout`, `nn.Dropout1d/2d/3d`, `nn.AlphaDropout`,
`nn.FeatureAlphaDropout`, and classes of the file deriving from them) that are not
submodules of the `nn.Module` that applies them:

- created and called at once inside a method other than `__init__`: `nn.Dropout(0.2)(x)`;
- kept in a plain `list`, `tuple` or `dict` attribute (`self.dropouts = []` then
  `append`, a list comprehension, a dict literal) and called from it.

Code that only runs in training (under the guards DRP001 honours, such as
`if self.training:`) is not reported: a new module is in training mode, which is right
there. A container whose items may be registered or switched some other way is left
alone: passed anywhere (`nn.Sequential(*self.layers)`, `nn.ModuleList(self.drops)`), an
item passed anywhere (`self.add_module(name, d)`) or told its mode (`d.train(mode)`).

## Why is this bad?
`model.eval()` reaches only registered submodules. A module built on the fly, or held in
a Python list or dict, is not one: a new module starts in training mode and stays there,
so the dropout stays on at inference. It does not appear in `print(model)` either.

## Example
```python
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropouts = [nn.Dropout(0.1) for _ in range(3)]

    def forward(self, x):
        for dropout in self.dropouts:
            x = dropout(x)
        return nn.Dropout(0.2)(x)
```

## Use instead
```python
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropouts = nn.ModuleList([nn.Dropout(0.1) for _ in range(3)])
        self.dropout = nn.Dropout(0.2)

    def forward(self, x):
        for dropout in self.dropouts:
            x = dropout(x)
        return self.dropout(x)
```

## Fix safety
For a module built in a method, the fix registers it in `__init__` (after
`super().__init__()` and whatever its arguments read) and calls it. There is no fix when
the arguments are not fixed for the module's lifetime or the class has no `__init__`
that calls `super().__init__()`.

For a plain container, the fix makes it an `nn.ModuleList` (a list or tuple) or an
`nn.ModuleDict` (a dict with string keys `nn.ModuleDict` accepts) where it is assigned,
when it is only indexed, iterated, appended or extended, and holds only dropout modules
and `nn.Identity`: those have no parameters or buffers, so the state dict stays the same.
There is no fix for a container holding other modules (registering them would add their
parameters to the state dict and the optimizer) or assigned before `super().__init__()`.

In training mode outputs are the same; in eval mode dropout is off, which is the point.

## References
- [torch.nn.Module.eval](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.eval)
- [torch.nn.ModuleList](https://pytorch.org/docs/stable/generated/torch.nn.ModuleList.html)
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
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        if not self.training:
            return x
        return nn.Dropout(0.2)(x)
"""
        ),
        Valid(
            """
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        layers = [nn.Linear(4, 4), nn.Dropout(0.2)]
        self.blocks = [nn.Linear(4, 4), nn.Dropout(0.2)]
        self.net = nn.Sequential(*layers, *self.blocks)

    def forward(self, x):
        return self.net(x)
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
        Invalid(
            """
import torch.nn as nn

class Decoder(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.cells = nn.ModuleList()
        self.dropouts = []
        for _ in range(layers):
            self.cells.append(nn.GRUCell(8, 8))
            self.dropouts.append(nn.Dropout(0.1))  # expect

    def forward(self, x):
        for cell, dropout in zip(self.cells, self.dropouts):
            x = dropout(cell(x))
        return x
""",
            fixed="""
import torch.nn as nn

class Decoder(nn.Module):
    def __init__(self, layers):
        super().__init__()
        self.cells = nn.ModuleList()
        self.dropouts = nn.ModuleList()
        for _ in range(layers):
            self.cells.append(nn.GRUCell(8, 8))
            self.dropouts.append(nn.Dropout(0.1))  # expect

    def forward(self, x):
        for cell, dropout in zip(self.cells, self.dropouts):
            x = dropout(cell(x))
        return x
""",
        ),
        Invalid(
            """
import torch.nn as nn

class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = {
            "image": nn.Dropout2d(0.2),  # expect
            "text": nn.Dropout(0.1),  # expect
        }

    def forward(self, image, text):
        return self.dropout["image"](image), self.dropout["text"](text)
""",
            fixed="""
import torch.nn as nn

class Branches(nn.Module):
    def __init__(self):
        super().__init__()
        self.dropout = nn.ModuleDict({
            "image": nn.Dropout2d(0.2),  # expect
            "text": nn.Dropout(0.1),  # expect
        })

    def forward(self, image, text):
        return self.dropout["image"](image), self.dropout["text"](text)
""",
        ),
    )

    @classmethod
    def may_fire(cls, scan: ByteScan) -> bool:
        return super().may_fire(scan) or may_build_dropout_into_container(scan, DROPOUT_MODULES)

    @classmethod
    def sites(cls, scan: SyntaxScan) -> list[ast.AST]:
        """Dropout modules called at once outside ``__init__``, and those built into a
        container in any method."""
        return [*(super().sites(scan) or ()), *container_sites(scan, dropout_module)]

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
