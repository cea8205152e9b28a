"""DRP010's visitor on libcst's tree. The rule, with its documentation, examples and
gates, is :mod:`dropout_lint.rules.channel_dropout_rank`."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional, Sequence, Union

import libcst as cst

from ...analysis.call_arguments import argument
from ...analysis.channel_dropout import (
    CHANNEL_DROPOUT,
    SAMPLE,
    ChannelDropout,
    dropout_for,
    renamed_attribute,
)
from ...analysis.node_search import visit_fields
from ...analysis.rank import Application, RankAnalysis, SourceFacts, Tensor, analyze
from ...analysis.torch_api import INPUT
from ...engine.context import FileContext
from ...engine.diagnostics import Applicability, Diagnostic, Fix
from ...engine.rule_visitor import RuleVisitor
from ...fixes.node_edits import NodeEdits
from ..channel_dropout_rank import ChannelDropoutRank, channel_function, channel_layer


class ChannelDropoutRankVisitor(ChannelDropoutRank, RuleVisitor):
    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._layers: list[tuple[cst.Call, str]] = []
        self._functions: list[tuple[cst.Call, str]] = []
        self._classes: list[cst.ClassDef] = []
        self.swaps: dict[cst.CSTNode, _Swap] = {}
        self._lines = _LineMarks(context)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes.append(node)

    def visit_Call(self, node: cst.Call) -> None:
        layer = self.resolve_name(node.func, channel_layer)
        if layer is not None:
            self._layers.append((node, layer))
            return
        function = self.resolve_name(node.func, channel_function)
        if function is not None:
            self._functions.append((node, function))

    def leave_Module(self, original_node: cst.Module) -> None:
        if not self._layers and not self._functions:
            return
        facts = SourceFacts(self._qualified_name, self._lines.mark)
        analyses = [analyze(unit, self.context.classes, facts) for unit in self._units()]
        for node, layer in self._layers:
            self._check_layer(node, layer, analyses)
        for node, layer in self._functions:
            self._check_function(node, layer, analyses)

    def _qualified_name(self, node: cst.CSTNode) -> Optional[str]:
        return self.resolve_name(node, lambda name: name)

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
        if attribute is None or renamed_attribute(attribute, layer, replacement) == attribute:
            return _Swap(node.func.attr, replacement)
        new_name = renamed_attribute(attribute, layer, replacement)
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
        visit_fields(self.context.module, finder)
        inside = _AttributeFinder({attribute, new_name})
        visit_fields(classdef, inside)
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
        value = self._lines.resolved(value)
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


class _LineMarks:
    """The lines the rank analysis writes into a value's origin (``after `view` at line
    12``), as marks that only a reported finding turns into numbers: finding a line needs
    positions, which a file with no finding never computes."""

    _MARK = re.compile("\0([0-9]+)\0")

    def __init__(self, context: FileContext) -> None:
        self._context = context
        self._nodes: list[cst.CSTNode] = []
        self._marks: dict[cst.CSTNode, str] = {}

    def mark(self, node: cst.CSTNode) -> str:
        if node not in self._marks:
            self._marks[node] = f"\0{len(self._nodes)}\0"
            self._nodes.append(node)
        return self._marks[node]

    def resolved(self, value: Tensor) -> Tensor:
        """``value`` with the lines its origin and batch mention written out."""
        return replace(value, origin=self._text(value.origin), batch=value.batch and self._text(value.batch))

    def _text(self, text: str) -> str:
        positions = self._context.positions
        return self._MARK.sub(lambda m: str(positions[self._nodes[int(m.group(1))]].start.line), text)


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
