"""DRP020: a dropout module that ``eval()`` cannot reach: built and called inside a method,
or kept in a plain ``list``, ``tuple`` or ``dict`` attribute."""

from __future__ import annotations

import ast

from ..analysis.torch_api import DROPOUT_MODULES, dropout_module
from ..engine.rule import Invalid, Rule, Valid
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
