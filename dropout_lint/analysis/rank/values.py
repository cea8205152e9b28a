"""The abstract values of rank inference and how two of them join.

A value is what the analysis knows of an expression: a tensor of known rank, a tuple of
values, a layer object whose effect on rank is known, or ``None``: unknown. Unknown
absorbs everything it joins with, so no answer is ever a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable, Optional, Union

import libcst as cst

if TYPE_CHECKING:
    from .torch_shapes import Transfer


@dataclass(frozen=True)
class Tensor:
    """A tensor of known rank. ``origin`` says where the rank came from, for messages;
    ``batch``, when dim 0 is known to be a batch, says what made it one (``from
    `self.conv` at line 9``: a batched layer's output, kept through ``flatten(1)``...)."""

    rank: int
    origin: str = field(compare=False)
    batch: Optional[str] = field(default=None, compare=False)
    # The output of a recurrent layer whose input is unknown: its rank assumes a tensor,
    # but a ``PackedSequence`` in gives one out, whose ``.data`` has another rank.
    unless_packed: bool = field(default=False, compare=False)

    def describe(self) -> str:
        return f"{self.rank}-D tensor {self.origin}"

    def with_batch(self, batch: Optional[str]) -> "Tensor":
        return self if batch == self.batch else replace(self, batch=batch)


@dataclass(frozen=True)
class Packed:
    """A ``PackedSequence``: ``data`` holds every step of the padded batch it packs, so
    its rank is one less (token ids give 1-D, features 2-D); None when unknown."""

    data: "Value"


@dataclass(frozen=True)
class DictValue:
    """A dict or ``nn.ModuleDict`` whose values are all alike: ``values``."""

    values: "Value"


@dataclass(frozen=True)
class TupleValue:
    """A tuple of known length (``out, (h, c) = self.lstm(x)``, a list literal)."""

    items: tuple["Value", ...]


@dataclass(frozen=True)
class Repeated:
    """A sequence of unknown length whose items are all alike (``x.chunk(2, dim=1)``)."""

    item: "Value"


@dataclass(frozen=True)
class NoneValue:
    """The ``None`` object: ``self.drop = nn.Dropout2d(p) if p else None``."""


@dataclass(frozen=True, eq=False)
class Layer:
    """A torch layer object built at ``node``; ``transfer`` is its effect on rank.

    Layers compare by identity: two ``nn.Dropout2d(0.5)`` built on different lines are
    different objects, and a fix changes the one that was applied.
    """

    class_name: str
    node: cst.Call = field(repr=False)
    transfer: "Transfer"


@dataclass(frozen=True, eq=False)
class SequentialLayer:
    """``nn.Sequential(...)``: its layers applied in order. ``None`` members are unknown."""

    layers: tuple[Optional["LayerValue"], ...]
    node: cst.Call = field(repr=False)


@dataclass(frozen=True)
class LayerChoice:
    """One of several layers (or ``None``), as after ``a if cond else b``."""

    options: frozenset[Union[Layer, SequentialLayer, NoneValue]]


LayerValue = Union[Layer, SequentialLayer, LayerChoice]
Value = Optional[
    Union[
        Tensor, TupleValue, Repeated, NoneValue, Layer, SequentialLayer, LayerChoice, Packed, DictValue
    ]
]
_LAYER_LIKE = (Layer, SequentialLayer, LayerChoice, NoneValue)


def _layer_options(value: Value) -> frozenset[Union[Layer, SequentialLayer, NoneValue]]:
    if isinstance(value, LayerChoice):
        return value.options
    assert isinstance(value, (Layer, SequentialLayer, NoneValue))
    return frozenset({value})


def join(first: Value, second: Value) -> Value:
    """What is known of a value that is ``first`` on one path and ``second`` on another."""
    if first is None or second is None:
        return None
    if isinstance(first, Tensor) and isinstance(second, Tensor) and first == second:
        joined = first if second.batch is not None else first.with_batch(None)
        if second.unless_packed and not joined.unless_packed:
            joined = replace(joined, unless_packed=True)
        return joined
    if first == second:
        return first
    if isinstance(first, TupleValue) and isinstance(second, TupleValue):
        if len(first.items) == len(second.items):
            return TupleValue(tuple(join(a, b) for a, b in zip(first.items, second.items)))
    if isinstance(first, (TupleValue, Repeated)) and isinstance(second, (TupleValue, Repeated)):
        # A list on one path, a longer one on another (``outs.append(y)`` in a loop).
        item = join_all([*_items(first), *_items(second)])
        return Repeated(item) if item is not None else None
    if isinstance(first, Packed) and isinstance(second, Packed):
        return Packed(join(first.data, second.data))
    if isinstance(first, DictValue) and isinstance(second, DictValue):
        return DictValue(join(first.values, second.values))
    if isinstance(first, _LAYER_LIKE) and isinstance(second, _LAYER_LIKE):
        return LayerChoice(_layer_options(first) | _layer_options(second))
    return None


def _items(sequence: Union[TupleValue, Repeated]) -> tuple[Value, ...]:
    return sequence.items if isinstance(sequence, TupleValue) else (sequence.item,)


def is_container(value: Value) -> bool:
    """A list, tuple or dict the analysis follows (``outs = []``, ``nn.ModuleList``)."""
    return isinstance(value, (TupleValue, Repeated, DictValue))


def item_of(value: Value) -> Value:
    """What any one item of a list or tuple is, or a value of a dict; unknown otherwise."""
    if isinstance(value, TupleValue):
        return join_all(value.items)
    if isinstance(value, Repeated):
        return value.item
    if isinstance(value, DictValue):
        return value.values
    return None


def concatenated(first: Value, second: Value) -> Value:
    """``first + second`` of two lists: in order when both lengths are known."""
    if isinstance(first, TupleValue) and isinstance(second, TupleValue):
        return TupleValue(first.items + second.items)
    if isinstance(first, (TupleValue, Repeated)) and isinstance(second, (TupleValue, Repeated)):
        item = join_all([*_items(first), *_items(second)])
        return Repeated(item) if item is not None else None
    return None


def tensor_rank(value: Value) -> Optional[int]:
    return value.rank if isinstance(value, Tensor) else None


def join_all(values: Iterable[Value]) -> Value:
    """The join of several values; unknown when there are none."""
    result: Value = None
    for index, value in enumerate(values):
        result = value if index == 0 else join(result, value)
    return result
