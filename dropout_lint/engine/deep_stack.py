"""Running libcst where deeply nested code cannot crash the process.

libcst's native parser and its recursive visitors overflow the C stack on deeply nested
source (thousands of brackets or operators), which kills the interpreter with SIGSEGV
instead of raising. On a thread with a large stack and a raised recursion limit they
finish, or fail with an exception the engine can report.
"""

from __future__ import annotations

import sys
import threading
from typing import Callable, TypeVar

T = TypeVar("T")

# Virtual memory, committed only as it is used: a deep file touches more of it.
STACK_BYTES = 512 * 1024 * 1024
RECURSION_LIMIT = 20_000


def call_with_deep_stack(function: Callable[[], T]) -> T:
    """``function()``, run on a thread with a deep stack; its exception is re-raised here."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # noqa: BLE001 - handed back to the caller
            outcome["error"] = error

    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous_limit, RECURSION_LIMIT))
    try:
        previous_stack = threading.stack_size(STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="dropout-lint-deep-stack")
            thread.start()
        finally:
            threading.stack_size(previous_stack)
        thread.join()
    finally:
        sys.setrecursionlimit(previous_limit)
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]
