"""How a call's arguments bind to a function's parameters, as Python binds them.

Written once for every representation of a call: libcst's (rules and fixes), the byte scan's
(:class:`~dropout_lint.prefilter.byte_scan.CallSite`) and live ``args``/``kwargs`` (the
runtime audit). This module imports neither libcst nor torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, TypeVar

if TYPE_CHECKING:
    import libcst as cst

A = TypeVar("A")


@dataclass(frozen=True)
class Parameter:
    """A parameter a caller may pass by ``keyword`` or, unless ``position`` is None, by
    its 0-based position."""

    keyword: str
    position: Optional[int]


def bound(
    arguments: Sequence[A],
    parameter: Parameter,
    keyword_of: Callable[[A], Optional[str]],
    is_unpacked: Callable[[A], bool],
) -> Optional[A]:
    """The argument bound to ``parameter``: the one passed by its keyword, else the
    positional one at its position (``*args`` and ``**kwargs`` bind nothing known)."""
    for argument in arguments:
        if keyword_of(argument) == parameter.keyword:
            return argument
    if parameter.position is None:
        return None
    positional = [a for a in arguments if keyword_of(a) is None and not is_unpacked(a)]
    return positional[parameter.position] if len(positional) > parameter.position else None


def has_unpacking(call: "cst.Call") -> bool:
    """``f(*args)`` or ``f(**kwargs)``: which argument is which cannot be known."""
    return any(arg.star for arg in call.args)


def argument(call: "cst.Call", parameter: Parameter) -> "Optional[cst.Arg]":
    """The argument of a libcst call bound to ``parameter``, if given."""
    return bound_arg(call.args, parameter)


def bound_arg(args: "Sequence[cst.Arg]", parameter: Parameter) -> "Optional[cst.Arg]":
    """The one of libcst's ``args`` bound to ``parameter``, if given."""
    return bound(
        args,
        parameter,
        lambda arg: arg.keyword.value if arg.keyword is not None else None,
        lambda arg: bool(arg.star),
    )


def bound_value(args: tuple, kwargs: dict, parameter: Parameter, default: Any) -> Any:
    """The value a live call passes for ``parameter``, or ``default``."""
    passed = bound(
        [*((None, value) for value in args), *kwargs.items()],
        parameter,
        lambda item: item[0],
        lambda item: False,
    )
    return default if passed is None else passed[1]
