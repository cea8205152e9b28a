"""DRP010: channel dropout (``Dropout1d/2d/3d``) applied to a tensor of the wrong rank."""

from __future__ import annotations

import ast
import bisect
import re
from typing import Optional, Sequence

from ..analysis.channel_dropout import CHANNEL_DROPOUT, renamed_attribute
from ..analysis.torch_api import DROPOUT_FUNCTIONS, dropout_function, dropout_module
from ..engine.rule import Invalid, Rule, Valid
from ..engine.source_text import first_line, line_starts
from ..prefilter.call_sites import CallSites
from ..prefilter.syntax_scan import SyntaxScan


def channel_layer(qualified_name: str) -> Optional[str]:
    """The channel dropout module (``Dropout2d``) a qualified name is, if it is one."""
    name = dropout_module(qualified_name)
    return name if name in CHANNEL_DROPOUT else None


def channel_function(qualified_name: str) -> Optional[str]:
    """The channel dropout module whose functional form (``F.dropout2d``) a qualified name
    is, if it is one."""
    function = dropout_function(qualified_name)
    if function is None or function.module_class not in CHANNEL_DROPOUT:
        return None
    if not function.qualified_name.startswith("torch.nn.functional."):
        return None
    return function.module_class


def _classes_built_around(sites: Sequence[ast.AST], scan: SyntaxScan) -> list[ast.ClassDef]:
    """The top-level classes that the statements holding ``sites`` call by name."""
    statements = {scan.statement_of(site) for site in sites}
    called = {
        call.func.id
        for call in scan.every_call()
        if isinstance(call.func, ast.Name) and scan.statement_of(call) in statements
    }
    return [
        statement
        for statement in scan.tree.body
        if isinstance(statement, ast.ClassDef) and statement.name in called
    ]


def _classes_calling_around(sites: Sequence[ast.AST], scan: SyntaxScan) -> list[ast.ClassDef]:
    """The top-level classes that call, by name, a class holding one of ``sites``: the
    parents whose calls give a module's ``forward`` its input rank (caller context)."""
    statements = {scan.statement_of(site) for site in sites}
    names = {
        scan.tree.body[index].name  # type: ignore[attr-defined]
        for index in statements
        if isinstance(scan.tree.body[index], ast.ClassDef)
    }
    calling = {
        scan.statement_of(call)
        for call in scan.every_call()
        if isinstance(call.func, ast.Name) and call.func.id in names
    }
    return [
        statement
        for index, statement in enumerate(scan.tree.body)
        if isinstance(statement, ast.ClassDef) and index in calling
    ]


class ChannelDropoutRank(Rule):
    code = "DRP010"
    name = "channel-dropout-wrong-rank"
    summary = "Channel dropout (`Dropout1d/2d/3d`) applied to a tensor of the wrong rank"
    explanation = """
## What it does
Checks for `nn.Dropout1d`, `nn.Dropout2d`, `nn.Dropout3d` and `F.dropout1d/2d/3d` applied
to a tensor whose rank is known, from the code, to be wrong: `Dropout1d` needs 2-D or 3-D
input, `Dropout2d` 4-D, `Dropout3d` 5-D (or 4-D unbatched). The rank is inferred through
the module's layers (`self.conv = nn.Conv2d(...)`, `self.add_module(...)`), tensor methods
(`view`, `flatten`, `permute`, `unsqueeze`, ...), torch functions (`torch.cat` of a list
built in a loop too), literal constructors, jaxtyping annotations, recurrent layers and
packed sequences (`PackedSequence.data`), einops patterns (`rearrange`, `Rearrange`),
`nn.Sequential` (literal, from an `OrderedDict`, or `*layers` from a list built in
order), iteration over `nn.ModuleList`/`nn.ModuleDict`, helper methods of the class, and
module classes of the same file or, by import, of another file of the checked project
(their `forward`'s result, when every return agrees). A module's `forward` input takes its rank from the
module classes of the file that call it, when they all agree (a wrapper applying
`Dropout2d` to what its parent's `Conv1d` gives it). A tensor whose rank is not known is
never reported.

It also reports a batch of the unbatched rank: 2-D input to `Dropout1d` or 4-D input to
`Dropout3d` that is known to be a batch, because it comes from a layer that only takes
batches (`BatchNorm2d`), from a conv or pooling layer given its batched rank, and then
through operations that keep dim 0 first (`Linear`, `flatten(1)`, `view(x.size(0), -1)`,
`permute(0, ...)`). Of unknown batchness, these ranks are accepted.

## Why is this bad?
Channel dropout zeroes whole feature maps. On a tensor of another rank it does something
else: PyTorch 2.x warns once per process, at a line inside torch rather than yours, and
for 2-D input `Dropout2d` drops single features (what `nn.Dropout` does); for 3-D input
`Dropout2d` does (N, C, L) channel dropout, the behaviour change of pytorch/pytorch#77081,
which cost users of the old official MNIST example about 3% accuracy. `Dropout1d` raises.
A batch given to `Dropout1d` as 2-D or to `Dropout3d` as 4-D is silently read as one
sample whose channels are the batch: each Bernoulli draw zeroes a whole sample.

## What it cannot see
Ranks that only a caller in another file knows, module classes outside the checked
files, lists of layers built in a loop (their order is unknown), loops
over layers that check each one's type or skip some, and shapes read at run time
(`x.view(*shape)`). The runtime's checked layers (`dropout_lint.runtime`) catch those.

## Example
```python
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(9216, 128)
        self.dropout2 = nn.Dropout2d(0.5)

    def forward(self, x):
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        return self.dropout2(x)  # a 2-D tensor
```

## Use instead
The dropout made for the rank: `nn.Dropout` for 2-D (N, features), `nn.Dropout1d` for
(N, C, L), `nn.Dropout2d` for (N, C, H, W), `nn.Dropout3d` for (N, C, D, H, W).
```python
        self.dropout2 = nn.Dropout(0.5)
```

## Fix safety
The fix swaps the layer class where it is built (or the function's name), keeping `p`
and `inplace`. It is unsafe: it changes what is dropped (single features instead of
channels, or the other way round), so a trained model's behaviour changes. It is not
offered when the same layer is applied to tensors of different or unknown ranks, or when
the class is imported by its bare name.

## References
- [torch.nn.Dropout2d](https://pytorch.org/docs/stable/generated/torch.nn.Dropout2d.html)
- [pytorch/pytorch#77081](https://github.com/pytorch/pytorch/issues/77081)
- [The MNIST example's fix](https://github.com/pytorch/examples/pull/1034)
"""
    # Matches `Dropout2d` and `dropout2d`; starting with a literal keeps the search fast.
    # Every call that may build a channel dropout or call its function: the ranks reaching
    # it are for the rank analysis, over the statements around it, to find.
    looks_for = (
        CallSites(names=tuple((layer, layer) for layer in CHANNEL_DROPOUT), lookup=channel_layer),
        CallSites(
            names=tuple(
                (function.short_name, function.module_class)
                for function in DROPOUT_FUNCTIONS.values()
                if channel_function(function.qualified_name) is not None
            ),
            lookup=channel_function,
        ),
    )

    valid = (
        Valid(
            """
import torch
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.drop = nn.Dropout2d(0.2)
        self.drop1d = nn.Dropout1d(0.2)

    def forward(self, x, y):
        x = self.drop(self.conv(x))
        z = torch.flatten(x, 2)
        z = self.drop1d(z)
        return self.drop(y)
"""
        ),
        Valid(
            """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Head(nn.Module):
    def forward(self, x):
        x = torch.flatten(x, 1)
        x = F.dropout2d(x.unsqueeze(-1).unsqueeze(-1), 0.1, self.training)
        return x
"""
        ),
        Valid(
            """
import torch.nn as nn

class SpatialDropout(nn.Dropout2d):
    def forward(self, x):
        x = x.permute(0, 2, 1).unsqueeze(3)
        return super().forward(x).squeeze(3).permute(0, 2, 1)

class Tagger(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(8, 8, batch_first=True)
        self.drop = SpatialDropout(0.1)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.drop(out)
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout2d(0.5)
        self.fc1 = nn.Linear(9216, 128)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)  # expect
        return x
""",
            fixed="""
import torch
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.dropout1 = nn.Dropout2d(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)  # expect
        return x
""",
        ),
        Invalid(
            """
import torch.nn as nn

class SliceEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3)
        self.drop = nn.Dropout3d(0.1)

    def forward(self, x):
        return self.drop(self.conv(x))  # expect
""",
            fixed="""
import torch.nn as nn

class SliceEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 16, 3)
        self.drop = nn.Dropout2d(0.1)

    def forward(self, x):
        return self.drop(self.conv(x))  # expect
""",
        ),
        Invalid(
            """
import torch.nn as nn

head = nn.Sequential(
    nn.Flatten(),
    nn.Linear(512, 10),
    nn.Dropout2d(p=0.3, inplace=True),  # expect
)
""",
            fixed="""
import torch.nn as nn

head = nn.Sequential(
    nn.Flatten(),
    nn.Linear(512, 10),
    nn.Dropout(p=0.3, inplace=True),  # expect
)
""",
        ),
        Invalid(
            """
import torch.nn as nn
import torch.nn.functional as F

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(16, 32, 3)

    def forward(self, x):
        return F.dropout2d(self.conv(x), 0.1, self.training)  # expect
""",
            fixed="""
import torch.nn as nn
import torch.nn.functional as F

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(16, 32, 3)

    def forward(self, x):
        return F.dropout1d(self.conv(x), 0.1, self.training)  # expect
""",
        ),
    )

    @classmethod
    def sites(cls, scan: SyntaxScan) -> list[ast.AST]:
        """The calls ``looks_for`` states, and where there are any: the classes of the file
        the statements around them build (``Flatten()``), whose ``forward`` the rank analysis
        runs; the classes that build those around them (their callers give ``forward`` its
        input rank); and the statements that write the name of an attribute the fix may
        rename (``self.dropout2d``), in any of its spellings: the fix renames it with its
        every use, and offers none when something else in the file names it."""
        calls = list(super().sites(scan) or ())
        if not calls:
            return calls
        return [
            *calls,
            *_classes_built_around(calls, scan),
            *_classes_calling_around(calls, scan),
            *_statements_naming(_renamable_attributes(calls, scan), scan),
        ]


def _renamable_attributes(calls: Sequence[ast.AST], scan: SyntaxScan) -> set[str]:
    """Every name the fix may give, or find, an attribute holding a layer of ``calls``
    (``self.dropout2d = nn.Dropout2d(p)``) that is named after the layer's rank."""
    names: set[str] = set()
    for call in calls:
        assignment = scan.parent(call)
        if not isinstance(assignment, ast.Assign) or len(assignment.targets) != 1:
            continue
        target = assignment.targets[0]
        if not (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)):
            continue
        spellings = {
            renamed_attribute(target.attr, layer, replacement)
            for layer in CHANNEL_DROPOUT
            for replacement in ("Dropout", *CHANNEL_DROPOUT)
        }
        if spellings != {target.attr}:
            names |= spellings
    return names


def _statements_naming(names: set[str], scan: SyntaxScan) -> list[ast.stmt]:
    """The top-level statements whose text holds one of ``names`` anywhere: every attribute
    and string that names one is in them (comments too, which is more than needed and
    costs one search of the text)."""
    if not names:
        return []
    pattern = re.compile("|".join(re.escape(name) for name in sorted(names)))
    starts = line_starts(scan.text)
    lines = {bisect.bisect_right(starts, m.start()) for m in pattern.finditer(scan.text)}
    return [
        statement
        for statement in scan.tree.body
        if any(
            first_line(statement) <= line <= statement.end_lineno  # type: ignore[operator]
            for line in lines
        )
    ]
