"""Checked ``Dropout1d/2d/3d``: subclasses of torch's, so ``isinstance``, ``state_dict`` and
``repr`` keep working, whose forward refuses input of the wrong rank."""

from torch import Tensor, nn
from torch.overrides import handle_torch_function, has_torch_function_unary

from .functional import channel_dropout, dropout1d, dropout2d, dropout3d

__all__ = ["Dropout1d", "Dropout2d", "Dropout3d"]


class _CheckedDropoutNd:
    """What the three checked layers share: the ``unbatched`` switch, its repr, the forward.

    ``forward`` dispatches like torch's functionals (so FX records a call to the public
    ``dropout{1,2,3}d``) and otherwise calls the scriptable :func:`channel_dropout`.
    """

    __constants__ = ("p", "inplace", "unbatched", "layer", "batched_rank")
    unbatched: bool

    def __init__(
        self, p: float = 0.5, inplace: bool = False, *, unbatched: bool = False
    ) -> None:
        super().__init__(p, inplace)  # type: ignore[call-arg]
        self.unbatched = unbatched

    def extra_repr(self) -> str:
        text = super().extra_repr()  # type: ignore[misc]
        return f"{text}, unbatched=True" if self.unbatched else text

    def forward(self, input: Tensor) -> Tensor:
        if has_torch_function_unary(input):
            return handle_torch_function(
                type(self).functional,
                (input,),
                input,
                p=self.p,
                training=self.training,
                inplace=self.inplace,
                unbatched=self.unbatched,
            )
        return channel_dropout(
            input,
            self.p,
            self.training,
            self.inplace,
            self.unbatched,
            self.layer,
            self.batched_rank,
        )


class Dropout1d(_CheckedDropoutNd, nn.Dropout1d):
    """``nn.Dropout1d`` for ``(N, C, L)``; ``(C, L)`` only with ``unbatched=True``."""

    functional = staticmethod(dropout1d)
    layer = "Dropout1d"
    batched_rank = 3


class Dropout2d(_CheckedDropoutNd, nn.Dropout2d):
    """``nn.Dropout2d`` for ``(N, C, H, W)``; ``(C, H, W)`` only with ``unbatched=True``.

    3-D input is never read as ``(N, C, L)``, which drops rows of an image, not channels.
    """

    functional = staticmethod(dropout2d)
    layer = "Dropout2d"
    batched_rank = 4


class Dropout3d(_CheckedDropoutNd, nn.Dropout3d):
    """``nn.Dropout3d`` for ``(N, C, D, H, W)``; ``(C, D, H, W)`` only with ``unbatched=True``.

    4-D input is never taken as one unbatched volume, which drops whole samples of a batch.
    """

    functional = staticmethod(dropout3d)
    layer = "Dropout3d"
    batched_rank = 5
