"""What einops does to the rank of a tensor: the axes its pattern names on each side.

``rearrange(x, "b c h w -> b (h w) c")`` gives a 3-D tensor: one dim per name or group in
parentheses right of ``->`` (``1`` and ``()`` are dims of size one). Patterns with ``...``,
or not written as one literal string, are unknown; so is input of another rank than the
left side names (einops raises). The layers ``Rearrange`` and ``Reduce`` of
``einops.layers.torch`` do the same as layers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import libcst as cst

from ..call_arguments import Parameter, bound_arg
from .values import Layer, Tensor, Value

ValueOf = Callable[[cst.BaseExpression], Value]

_FUNCTIONS = frozenset({"einops.rearrange", "einops.reduce", "einops.repeat"})
_LAYERS = {"einops.layers.torch.Rearrange": "Rearrange", "einops.layers.torch.Reduce": "Reduce"}
_AXIS = re.compile(r"\(([^()]*)\)|[^\s()]+")


@dataclass(frozen=True)
class Pattern:
    """The axes of each side of an einops pattern, as written (a group is one axis)."""

    left: tuple[str, ...]
    right: tuple[str, ...]

    def apply(self, value: Value, origin: str) -> Value:
        """The output for ``value``: a tensor of ``len(right)`` dims; it stays a batch when
        dim 0 keeps its name (``b c h w -> b (c h w)``)."""
        if isinstance(value, Tensor) and value.rank != len(self.left):
            return None
        keeps_batch = self.left[:1] == self.right[:1] and "(" not in self.left[0]
        batch = value.batch if isinstance(value, Tensor) and keeps_batch else None
        return Tensor(len(self.right), origin, batch=batch)


def pattern_of(node: Optional[cst.BaseExpression]) -> Optional[Pattern]:
    """The pattern a literal string states; None for ``...`` or anything not literal."""
    if not isinstance(node, cst.SimpleString):
        return None
    text = node.evaluated_value
    if not isinstance(text, str) or text.count("->") != 1 or "..." in text:
        return None
    sides = []
    for side in text.split("->"):
        if side.count("(") != side.count(")"):
            return None
        sides.append(tuple(match.group() for match in _AXIS.finditer(side)))
    left, right = sides
    return Pattern(left, right) if left and right else None


def einops_function(name: str, call: cst.Call, value_of: ValueOf, origin: str) -> Value:
    """The result of an einops function (``rearrange``, ``reduce``, ``repeat``) called as
    ``call``, or the layer ``Rearrange(...)``/``Reduce(...)`` builds."""
    args: Sequence[cst.Arg] = call.args
    if any(arg.star for arg in args):
        return None
    if name in _LAYERS:
        pattern = pattern_of(_value(bound_arg(args, Parameter("pattern", 0))))
        return Layer(f"einops.{_LAYERS[name]}", call, pattern) if pattern is not None else None
    if name not in _FUNCTIONS:
        return None
    pattern = pattern_of(_value(bound_arg(args, Parameter("pattern", 1))))
    source = _value(bound_arg(args, Parameter("tensor", 0)))
    if pattern is None or source is None:
        return None
    return pattern.apply(value_of(source), origin)


def _value(arg: Optional[cst.Arg]) -> Optional[cst.BaseExpression]:
    return arg.value if arg is not None else None
