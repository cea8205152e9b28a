"""Finding a call's arguments by keyword or position, as Python would bind them."""

from __future__ import annotations

from typing import Optional

import libcst as cst


def has_unpacking(call: cst.Call) -> bool:
    """``f(*args)`` or ``f(**kwargs)``: which argument is which cannot be known."""
    return any(arg.star for arg in call.args)


def argument(call: cst.Call, keyword: str, position: int) -> Optional[cst.Arg]:
    """The argument bound to the parameter ``keyword`` at ``position`` (0-based), if given."""
    positional = [arg for arg in call.args if arg.keyword is None and not arg.star]
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == keyword:
            return arg
    return positional[position] if len(positional) > position else None
