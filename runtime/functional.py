"""Channel dropout functions that refuse input they would misread.

Each draws exactly the random numbers ``torch.nn.functional.dropout{1,2,3}d`` draws for valid
input (both end in ``torch.feature_dropout``), so outputs and gradients are bit-identical
under the same seed. ``training`` is keyword-only and has no default: a call cannot forget it.
"""

import torch
from torch import Tensor
from torch.overrides import handle_torch_function, has_torch_function_unary

from .checks import check_channel_input, check_probability

__all__ = ["dropout1d", "dropout2d", "dropout3d"]


def channel_dropout(
    input: Tensor,
    p: float,
    training: bool,
    inplace: bool,
    unbatched: bool,
    layer: str,
    batched_rank: int,
) -> Tensor:
    """Check, then zero whole channels: one Bernoulli draw per (sample, channel).

    The layers call this directly: TorchScript cannot compile keyword-only arguments with
    defaults, which the public functions have so that ``training`` must be spelled out.
    """
    check_probability(p)
    check_channel_input(input, layer, batched_rank, unbatched)
    if not training or p == 0.0:
        return input
    if unbatched:
        if input.numel() == 0:
            return input
        # Through a batch-of-one view, as torch does, so the draws match torch's.
        if inplace:
            torch.feature_dropout_(input.unsqueeze(0), p, True)
            return input
        return torch.feature_dropout(input.unsqueeze(0), p, True).squeeze(0)
    if inplace:
        return torch.feature_dropout_(input, p, True)
    return torch.feature_dropout(input, p, True)


def dropout1d(
    input: Tensor,
    p: float = 0.5,
    *,
    training: bool,
    inplace: bool = False,
    unbatched: bool = False,
) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` input (``(C, L)`` only with ``unbatched=True``)."""
    if has_torch_function_unary(input):
        return handle_torch_function(
            dropout1d,
            (input,),
            input,
            p=p,
            training=training,
            inplace=inplace,
            unbatched=unbatched,
        )
    return channel_dropout(input, p, training, inplace, unbatched, "Dropout1d", 3)


def dropout2d(
    input: Tensor,
    p: float = 0.5,
    *,
    training: bool,
    inplace: bool = False,
    unbatched: bool = False,
) -> Tensor:
    """Zero whole channels of ``(N, C, H, W)`` input (``(C, H, W)`` only with ``unbatched=True``).

    Unlike torch's, 3-D input is never read as ``(N, C, L)``: that is what ``dropout1d`` is for.
    """
    if has_torch_function_unary(input):
        return handle_torch_function(
            dropout2d,
            (input,),
            input,
            p=p,
            training=training,
            inplace=inplace,
            unbatched=unbatched,
        )
    return channel_dropout(input, p, training, inplace, unbatched, "Dropout2d", 4)


def dropout3d(
    input: Tensor,
    p: float = 0.5,
    *,
    training: bool,
    inplace: bool = False,
    unbatched: bool = False,
) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` input (``(C, D, H, W)`` only when asked).

    Unlike torch's, 4-D input is never taken as unbatched unless ``unbatched=True``.
    """
    if has_torch_function_unary(input):
        return handle_torch_function(
            dropout3d,
            (input,),
            input,
            p=p,
            training=training,
            inplace=inplace,
            unbatched=unbatched,
        )
    return channel_dropout(input, p, training, inplace, unbatched, "Dropout3d", 5)
