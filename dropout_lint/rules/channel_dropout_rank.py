"""DRP010: channel dropout (``Dropout1d/2d/3d``) applied to a tensor of the wrong rank."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import libcst as cst
from libcst.metadata import PositionProvider

from ..analysis.call_arguments import argument
from ..analysis.channel_dropout import (
    CHANNEL_DROPOUT,
    SAMPLE,
    ChannelDropout,
    dropout_for,
)
from ..analysis.rank import Application, RankAnalysis, SourceFacts, Tensor, analyze
from ..analysis.torch_api import (
    DROPOUT_FUNCTIONS,
    INPUT,
    dropout_function,
    dropout_module,
)
from ..engine.context import FileContext
from ..engine.diagnostics import Applicability, Diagnostic, Fix
from ..engine.rule import Invalid, Rule, Valid
from ..fixes.node_edits import NodeEdits
from ..prefilter.call_sites import CallSites
from ..prefilter.syntax_scan import SyntaxScan


def _channel_layer(qualified_name: str) -> Optional[str]:
    name = dropout_module(qualified_name)
    return name if name in CHANNEL_DROPOUT else None


def _channel_function(qualified_name: str) -> Optional[str]:
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
        node.func.id
        for index in statements
        for node in ast.walk(scan.tree.body[index])
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
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
    return [
        statement
        for statement in scan.tree.body
        if isinstance(statement, ast.ClassDef)
        and any(
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names
            for node in ast.walk(statement)
        )
    ]


def _is_wrong(spec: ChannelDropout, value: Tensor) -> bool:
    """Whether torch misreads ``value``: a rank it does not take as documented, or a
    batch of the rank it takes as one unbatched sample (``Dropout3d`` after ``Conv2d``)."""
    return not spec.torch_takes(value.rank) or _is_batch_taken_as_sample(spec, value)


def _is_batch_taken_as_sample(spec: ChannelDropout, value: Tensor) -> bool:
    return value.batch is not None and spec.reading(value.rank) == SAMPLE


def _consequence(spec: ChannelDropout, value: Tensor) -> str:
    """What PyTorch 2.x does with this tensor, in words, from the shared table."""
    rank = value.rank
    reading = spec.reading(rank)
    if reading.raises:
        return "PyTorch raises a RuntimeError"
    does = "PyTorch warns (deprecated) and" if reading.warns else "PyTorch"
    if _is_batch_taken_as_sample(spec, value):
        return (
            f"{does} silently reads it as one unbatched {spec.layout(True)} sample, so "
            "dim 0 (the batch) is taken as the channels and each draw zeroes a whole sample"
        )
    if reading.channel_dim == 0:
        return (
            f"{does} reads it as one unbatched sample with dim 0 as the channels, "
            "so each draw zeroes a whole slice of dim 0"
        )
    if rank == 2:
        return f"{does} drops single features, as `nn.Dropout` does"
    if rank == 3:
        return f"{does} reads it as (N, C, L) and drops channels of a batch of sequences"
    return f"{does} reads dim 0 as the batch and dim 1 as the channels"


def _batch_evidence(value: Tensor) -> str:
    """``, a batch (from `self.conv` at line 9)``: why dim 0 is known to be the batch."""
    return ", a batch" if value.batch == value.origin else f", a batch ({value.batch})"


@dataclass(frozen=True)
class _Swap:
    """The name to change for a fix: ``Dropout2d`` in ``nn.Dropout2d(0.5)``, to ``Dropout``;
    and, when the layer's attribute is named after it (``self.dropout2d``), every use of that
    attribute, renamed (``self.dropout``)."""

    name: cst.Name
    replacement: str
    attribute_uses: tuple[cst.Name, ...] = ()
    attribute_rename: Optional[tuple[str, str]] = None


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
        CallSites(names=tuple((layer, layer) for layer in CHANNEL_DROPOUT), lookup=_channel_layer),
        CallSites(
            names=tuple(
                (function.short_name, function.module_class)
                for function in DROPOUT_FUNCTIONS.values()
                if _channel_function(function.qualified_name) is not None
            ),
            lookup=_channel_function,
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

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._layers: list[tuple[cst.Call, str]] = []
        self._functions: list[tuple[cst.Call, str]] = []
        self._classes: list[cst.ClassDef] = []
        self.swaps: dict[cst.CSTNode, _Swap] = {}

    @classmethod
    def sites(cls, scan: SyntaxScan) -> list[ast.AST]:
        """The calls ``looks_for`` states, and where there are any: the classes of the file
        the statements around them build (``Flatten()``), whose ``forward`` the rank analysis
        runs; the classes that build those around them (their callers give ``forward`` its
        input rank); and every attribute or string named after a rank, since the fix may rename
        such an attribute (``m.dropout2d``) and every statement that could use it must be
        seen."""
        calls = list(super().sites(scan) or ())
        if not calls:
            return calls
        return [
            *calls,
            *_classes_built_around(calls, scan),
            *_classes_calling_around(calls, scan),
            *_rank_named_mentions(scan),
        ]

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        layer = self.resolve_name(node.func, _channel_layer)
        if layer is not None:
            self._layers.append((node, layer))
            return
        function = self.resolve_name(node.func, _channel_function)
        if function is not None:
            self._functions.append((node, function))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._layers and not self._functions:
            return
        facts = SourceFacts(self._qualified_name, self._line)
        analyses = [analyze(unit, self.context.classes, facts) for unit in self._units()]
        for node, layer in self._layers:
            self._check_layer(node, layer, analyses)
        for node, layer in self._functions:
            self._check_function(node, layer, analyses)

    def _qualified_name(self, node: cst.CSTNode) -> Optional[str]:
        return self.resolve_name(node, lambda name: name)

    def _line(self, node: cst.CSTNode) -> int:
        return self.get_metadata(PositionProvider, node).start.line

    def _units(self) -> list[Union[cst.ClassDef, cst.FunctionDef, cst.Module]]:
        """The classes, functions and top level holding channel dropout, and subclasses.

        Only these are analysed: rank inference costs nothing in the rest of the file.
        """
        units: dict[Union[cst.ClassDef, cst.FunctionDef, cst.Module], None] = {}
        for node, _ in (*self._layers, *self._functions):
            units[self._unit_of(node)] = None
        classes = self.context.classes
        for classdef in self._classes:
            if any(base in units for base in classes.classes_in_hierarchy(classdef)[1:]):
                units[classdef] = None
        return list(units)

    def _unit_of(self, node: cst.CSTNode) -> Union[cst.ClassDef, cst.FunctionDef, cst.Module]:
        """The innermost class around ``node``; else its outermost function; else the module."""
        classes = self.context.classes
        function: Optional[cst.FunctionDef] = None
        current: Optional[cst.CSTNode] = node
        while current is not None:
            if isinstance(current, cst.ClassDef):
                return current
            if isinstance(current, cst.FunctionDef):
                function = current
            current = classes.parent(current)
        return function if function is not None else self.context.module

    def _check_layer(self, node: cst.Call, layer: str, analyses: Sequence[RankAnalysis]) -> None:
        applications = [a for analysis in analyses for a in analysis.applications_of(node)]
        swap = self._layer_swap(node, layer, applications)
        reported: set[cst.CSTNode] = set()
        for application in applications:
            value = application.input
            if not isinstance(value, Tensor) or not _is_wrong(CHANNEL_DROPOUT[layer], value):
                continue
            where = application.site if application.direct else node
            if where in reported:
                continue
            reported.add(where)
            applied = cst.Module([]).code_for_node(application.site.func)
            subject = f"`{applied}` gets" if application.direct else "here it gets"
            self._report(where, layer, subject, value, swap)

    def _layer_swap(
        self, node: cst.Call, layer: str, applications: Sequence[Application]
    ) -> Optional[_Swap]:
        """The class swap, when every application agrees on one known, wrong rank."""
        if not isinstance(node.func, cst.Attribute):
            return None
        if any(not isinstance(a.input, Tensor) and not a.standalone for a in applications):
            return None
        spec = CHANNEL_DROPOUT[layer]
        if any(isinstance(a.input, Tensor) and not _is_wrong(spec, a.input) for a in applications):
            return None
        right = {dropout_for(a.input.rank) for a in applications if isinstance(a.input, Tensor)}
        if len(right) != 1 or layer in right:
            return None
        replacement = right.pop()
        attribute = self._attribute_holding(node)
        if attribute is None or _renamed(attribute, layer, replacement) == attribute:
            return _Swap(node.func.attr, replacement)
        new_name = _renamed(attribute, layer, replacement)
        uses = self._attribute_uses(node, attribute, new_name)
        if uses is None:
            return None  # the name would lie about the layer, and cannot be changed safely
        return _Swap(node.func.attr, replacement, uses, (attribute, new_name))

    def _attribute_holding(self, node: cst.Call) -> Optional[str]:
        """``X`` when the layer is created as ``self.X = nn.Dropout2d(...)``."""
        parent = self.context.classes.parent(node)
        if not isinstance(parent, cst.Assign) or len(parent.targets) != 1:
            return None
        target = parent.targets[0].target
        if isinstance(target, cst.Attribute) and _is_self(target.value):
            return target.attr.value
        return None

    def _attribute_uses(
        self, node: cst.Call, attribute: str, new_name: str
    ) -> Optional[tuple[cst.Name, ...]]:
        """Every ``self.<attribute>`` of the layer's class, when they are all of its uses in the
        file (no other object's ``.attribute``, no use outside the class, no string naming it)
        and ``new_name`` is free; else None."""
        classdef = self._unit_of(node)
        if not isinstance(classdef, cst.ClassDef):
            return None
        finder = _AttributeFinder({attribute, new_name})
        self.context.module.visit(finder)
        inside = _AttributeFinder({attribute, new_name})
        classdef.visit(inside)
        uses = [use for use in inside.uses if use.attr.value == attribute]
        if (
            finder.strings
            or len(finder.uses) != len(inside.uses)
            or any(use.attr.value == new_name for use in finder.uses)
            or not all(_is_self(use.value) for use in uses)
        ):
            return None
        return tuple(use.attr for use in uses)

    def _check_function(
        self, node: cst.Call, layer: str, analyses: Sequence[RankAnalysis]
    ) -> None:
        source = argument(node, INPUT)
        if source is None:
            return
        values = [analysis.value_of(source.value) for analysis in analyses]
        value = next((v for v in values if v is not None), None)
        if not isinstance(value, Tensor) or not _is_wrong(CHANNEL_DROPOUT[layer], value):
            return
        right = dropout_for(value.rank).lower()
        swap = _Swap(node.func.attr, right) if isinstance(node.func, cst.Attribute) else None
        self._report(node, layer, "it gets", value, swap)

    def _report(
        self, node: cst.CSTNode, layer: str, subject: str, value: Tensor, swap: Optional[_Swap]
    ) -> None:
        """Report ``layer`` (a class name) on a tensor of rank ``value``; ``subject`` gets it."""
        functional = isinstance(node, cst.Call) and node in dict(self._functions)
        spec = CHANNEL_DROPOUT[layer]
        right = dropout_for(value.rank)
        spelled, right_spelled = (
            (f"F.{layer.lower()}", f"F.{right.lower()}") if functional else (f"nn.{layer}", f"nn.{right}")
        )
        message = (
            f"`{spelled}` expects {spec.expected()} input, but {subject} a {value.describe()}"
            f"{_batch_evidence(value) if _is_batch_taken_as_sample(spec, value) else ''}: "
            f"{_consequence(spec, value)}; use `{right_spelled}`"
        )
        if layer == "Dropout2d" and value.rank == 3:
            message += " for (N, C, L), or add a batch dim to a single (C, H, W) image"
        fix = None
        if swap is not None:
            self.swaps[node] = swap
            rename = ""
            if swap.attribute_rename is not None:
                old, new = swap.attribute_rename
                rename = f" and rename `self.{old}` to `self.{new}`"
            fix = Fix(
                f"Replace `{spelled}` with `{right_spelled}`{rename} (keeps `p` and `inplace`)",
                Applicability.UNSAFE,
            )
        self.report(node, message, fix)

    def node_edits(self, diagnostic: Diagnostic) -> Optional[NodeEdits]:
        """Swap the class (or function) of the finding's layer, and rename the attribute
        named after it with its uses: the same edits for every finding on one layer."""
        swap = self.swaps.get(diagnostic.node)
        if swap is None:
            return None
        edits = NodeEdits()
        edits.replace(swap.name, swap.name.with_changes(value=swap.replacement))
        if swap.attribute_rename is not None:
            for use in swap.attribute_uses:
                edits.replace(use, use.with_changes(value=swap.attribute_rename[1]))
        return edits


_RANK_IN_NAME = re.compile(r"(?<![0-9])[123]d(?![a-z0-9])", re.IGNORECASE)


def _rank_named_mentions(scan: SyntaxScan) -> list[ast.AST]:
    """Attributes and strings naming something after a rank (``m.dropout2d``): the fix may
    rename such an attribute, so every statement that could use it must be seen."""
    return [
        node
        for node in scan.nodes()
        if (isinstance(node, ast.Attribute) and _RANK_IN_NAME.search(node.attr))
        or (isinstance(node, ast.Constant) and isinstance(node.value, str) and _RANK_IN_NAME.search(node.value))
    ]


def _renamed(attribute: str, layer: str, replacement: str) -> str:
    """``attribute`` with the old layer's rank (``2d`` in ``dropout2d``) changed to the new
    one's, or dropped for ``Dropout``; the same name when it does not mention the rank."""
    old_rank = layer[-2:].lower()  # "2d" of "Dropout2d"
    new_rank = replacement[-2:].lower() if replacement[-1] == "d" else ""
    pattern = re.compile(rf"(?<![0-9])_?{old_rank}(?![a-z0-9])", re.IGNORECASE)
    match = pattern.search(attribute)
    if match is None:
        return attribute
    underscore = "_" if match.group().startswith("_") and new_rank else ""
    return attribute[: match.start()] + underscore + new_rank + attribute[match.end() :]


def _is_self(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "self"


class _AttributeFinder(cst.CSTVisitor):
    """The ``.name`` attributes with the given names, and whether a string mentions one."""

    def __init__(self, names: set[str]) -> None:
        super().__init__()
        self.names = names
        self.uses: list[cst.Attribute] = []
        self.strings = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in self.names:
            self.uses.append(node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.strings = self.strings or any(name in node.value for name in self.names)
