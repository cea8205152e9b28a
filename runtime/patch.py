"""Turn torch's ``Dropout1d/2d/3d`` in an existing model into the checked layers, in place.

The swap changes each layer's class and nothing else, so the object (and with it ``p``,
``inplace``, the training flag, hooks and every reference to it) stays the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

from torch import nn

from .modules import Dropout1d, Dropout2d, Dropout3d

__all__ = ["patch", "patched", "unpatch"]

ModelT = TypeVar("ModelT", bound=nn.Module)

_CHECKED: dict[type[nn.Module], type[nn.Module]] = {
    nn.Dropout1d: Dropout1d,
    nn.Dropout2d: Dropout2d,
    nn.Dropout3d: Dropout3d,
}
# Set on the layers that patch() changed, so unpatch() leaves checked layers built as such.
_PATCHED_FROM = "_dropout_lint_patched_from"


def patch(model: ModelT) -> ModelT:
    """Make every torch ``Dropout1d/2d/3d`` in ``model`` (itself included) a checked one."""
    for module in model.modules():
        checked = _CHECKED.get(type(module))
        if checked is not None:
            module.__dict__[_PATCHED_FROM] = type(module)
            module.__dict__["unbatched"] = False
            module.__class__ = checked
    return model


def unpatch(model: ModelT) -> ModelT:
    """Undo :func:`patch`: the layers it changed become torch's again, exactly as before."""
    for module in model.modules():
        original = module.__dict__.pop(_PATCHED_FROM, None)
        if original is not None:
            del module.__dict__["unbatched"]
            module.__class__ = original
    return model


@contextmanager
def patched(model: ModelT) -> Iterator[ModelT]:
    """``with patched(model):`` run with checked dropout layers, then restore torch's."""
    patch(model)
    try:
        yield model
    finally:
        unpatch(model)
