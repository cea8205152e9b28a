"""Input checks for channel dropout that raise instead of warning.

The checks read only tensor metadata (``dim``, ``shape``, ``dtype``) so they never make a
CUDA device wait. The message is built only once a check has failed, so its cost (formatting,
finding the layer's name on the call stack) is never paid on the hot path.

No ``from __future__ import annotations`` here or in ``functional``: TorchScript compiles
the checks and cannot read string annotations.
"""

import sys
from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor


class DropoutShapeError(ValueError, RuntimeError):
    """A channel dropout layer got input whose rank it would silently misread.

    A ``ValueError`` (a bad argument), and a ``RuntimeError`` as torch's own shape errors are,
    so code written for those (``except RuntimeError``) still catches it.
    """


@dataclass(frozen=True)
class ChannelDropout:
    """What one channel dropout layer expects: a channel dim and ``spatial`` trailing dims."""

    layer: str
    spatial: tuple[str, ...]

    @property
    def batched_rank(self) -> int:
        return len(self.spatial) + 2

    @property
    def unbatched_rank(self) -> int:
        return len(self.spatial) + 1

    def layout(self, unbatched: bool) -> str:
        dims = ("C",) + self.spatial if unbatched else ("N", "C") + self.spatial
        return "(" + ", ".join(dims) + ")"


CHANNEL_DROPOUT: dict[str, ChannelDropout] = {
    spec.layer: spec
    for spec in (
        ChannelDropout("Dropout1d", ("L",)),
        ChannelDropout("Dropout2d", ("H", "W")),
        ChannelDropout("Dropout3d", ("D", "H", "W")),
    )
}

# The channel dropout whose batched input has this rank: the right layer for a given rank.
_LAYER_FOR_RANK = {spec.batched_rank: spec.layer for spec in CHANNEL_DROPOUT.values()}


def check_probability(p: float) -> None:
    """Reject ``p`` outside [0, 1], NaN included, with torch's own ``ValueError`` text."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def check_channel_input(
    input: Tensor, layer: str, batched_rank: int, unbatched: bool
) -> None:
    """Raise unless ``input`` has exactly the rank the layer asks for and a floating dtype.

    Takes plain ``str``/``int`` arguments (not a :class:`ChannelDropout`) so that TorchScript
    can compile it.
    """
    expected = batched_rank - 1 if unbatched else batched_rank
    if input.dim() != expected:
        raise_shape_error(layer, list(input.shape), unbatched)
    if not input.is_floating_point():
        raise_dtype_error(layer, input.dtype)


@torch.jit.ignore
def raise_shape_error(layer: str, shape: list[int], unbatched: bool) -> None:
    raise DropoutShapeError(
        shape_message(CHANNEL_DROPOUT[layer], tuple(shape), unbatched)
    )


@torch.jit.ignore
def raise_dtype_error(layer: str, dtype: torch.dtype) -> None:
    raise TypeError(
        f"{_who(layer)} needs a floating-point input, but got {dtype}: "
        "dropout scales the kept values by 1/(1-p). Cast first, e.g. x.float()."
    )


def torch_reading(
    spec: ChannelDropout, shape: tuple[int, ...]
) -> Optional[tuple[tuple[int, ...], int]]:
    """How torch 2.13's ``F.dropout{1,2,3}d`` reads ``shape``: its mask and channel dim.

    ``feature_dropout`` keeps the first two dims of what it gets and broadcasts over the rest;
    ``dropout1d`` and ``dropout3d`` first add a batch dim to what they take as unbatched.
    None when torch raises.
    """
    rank = len(shape)
    if spec.layer == "Dropout1d":
        if rank not in (2, 3):
            return None
        as_unbatched = rank == 2
    elif spec.layer == "Dropout2d":
        as_unbatched = False
    else:
        as_unbatched = rank != 5
    padded = (1,) + shape if as_unbatched else shape
    if len(padded) < 2:
        return None
    mask = padded[:2] + (1,) * (len(padded) - 2)
    return (mask[1:], 0) if as_unbatched else (mask, 1)


def _torch_warns(spec: ChannelDropout, rank: int) -> bool:
    """Whether torch warns (once per process, and never under torch.compile) for ``rank``."""
    if spec.layer == "Dropout1d":
        return False
    if spec.layer == "Dropout2d":
        return rank != 4
    return rank not in (4, 5)


def _describe_torch(spec: ChannelDropout, shape: tuple[int, ...]) -> str:
    reading = torch_reading(spec, shape)
    if reading is None:
        return f"PyTorch's {spec.layer} would fail with a less specific error"
    mask, channel_dim = reading
    if mask == shape:
        what = "drop single elements, like nn.Dropout, not channels"
    elif channel_dim == 1:
        what = "read dim 0 as the batch and dim 1 as the channels"
    else:
        what = (
            "read it as one unbatched sample with dim 0 as the channels "
            "(if dim 0 is your batch, whole samples are zeroed)"
        )
    how = (
        "behind a once-per-process warning"
        if _torch_warns(spec, len(shape))
        else "silently"
    )
    return f"PyTorch's {spec.layer} would {what}, drawing a mask of shape {mask} {how}"


def _alternative(spec: ChannelDropout, rank: int, unbatched: bool) -> str:
    if unbatched and rank == spec.batched_rank:
        return f"this looks batched {spec.layout(False)}: leave out unbatched=True"
    suggestions = []
    if not unbatched and rank == spec.unbatched_rank:
        suggestions.append(
            f"if it is one unbatched {spec.layout(True)} sample, pass unbatched=True"
        )
    other = _LAYER_FOR_RANK.get(rank)
    if other is not None and other != spec.layer:
        layout = CHANNEL_DROPOUT[other].layout(False)
        suggestions.append(f"if it is a batch {layout}, use {other}")
    else:
        suggestions.append("to drop single elements, use nn.Dropout")
    return "; ".join(suggestions)


def shape_message(spec: ChannelDropout, shape: tuple[int, ...], unbatched: bool) -> str:
    """The full message: who, what arrived, what torch would have done, what to use instead."""
    rank = len(shape)
    expected = spec.unbatched_rank if unbatched else spec.batched_rank
    return (
        f"{_who(spec.layer)} got input of shape {shape} ({rank}-D) but needs {expected}-D "
        f"{spec.layout(unbatched)}{' (unbatched=True)' if unbatched else ''}. "
        f"{_describe_torch(spec, shape)}. Instead: {_alternative(spec, rank, unbatched)}."
    )


def _who(layer: str) -> str:
    """Name the failing call: the layer and its qualified name, or the module calling it.

    Under torch.compile the call stack is not Python's, so only the layer's class is named.
    """
    caller = None if torch.compiler.is_compiling() else innermost_module_call()
    if caller is None:
        return layer
    module, name = caller
    if isinstance(module, torch.nn.modules.dropout._DropoutNd):
        return f"{layer} at '{name}'" if name else layer
    where = f"'{name}'" if name else f"{type(module).__name__}.forward"
    return f"{layer.lower()}() called in {where}"


def innermost_module_call() -> Optional[tuple[torch.nn.Module, str]]:
    """The innermost module running on the call stack and its name in the outermost one.

    Walks Python frames for the ``self`` of ``nn.Module`` methods; only used to write an
    error message, never on the hot path.
    """
    callers: list[torch.nn.Module] = []
    frame = sys._getframe(1)
    while frame is not None:
        owner = frame.f_locals.get("self")
        if isinstance(owner, torch.nn.Module) and (
            not callers or callers[-1] is not owner
        ):
            callers.append(owner)
        frame = frame.f_back
    if not callers:
        return None
    innermost, outermost = callers[0], callers[-1]
    for name, module in outermost.named_modules():
        if module is innermost:
            return innermost, name
    return innermost, ""
