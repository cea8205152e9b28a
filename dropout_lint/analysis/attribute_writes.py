"""Attribute names the project assigns after construction, from a cheap scan of bytes.

A module registered in ``__init__`` keeps the rate it was built with; the call it replaces
read the rate on every call. So a rate attribute that anything may set later
(``model.drop_rate = 0.0`` in a training script, ``self.p = p`` in a ``set_rate`` method,
``setattr(module, "p", 0.1)``) must not be frozen into a module. Names are matched
without types: any object's ``drop_rate`` set anywhere makes every ``drop_rate`` a rate
that can change, which errs towards the fix that keeps reading it.
"""

from __future__ import annotations

import bisect
import re
from typing import Optional

# `receiver.name = ...` and augmented forms, not `==`; the receiver as written, from the first
# letter of its run of name characters and dots. (Tried from every letter of a run, a search
# read the rest of the run from each: a long run took time growing with its square.)
_WRITE = re.compile(
    rb"(?<![\w.])[0-9.]*([A-Za-z_][\w.]*)\.([A-Za-z_]\w*)[ \t]*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)"
)
_SETATTR = re.compile(rb"setattr\(\s*[^,()]+,\s*['\"]([A-Za-z_]\w*)['\"]")
_DEF = re.compile(rb"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
_INDENT = re.compile(rb"[ \t]*")


def reassigned_attributes(source: bytes) -> set[str]:
    """The attribute names ``source`` assigns other than as ``self.<name> = ...`` in an
    ``__init__``: on another object, in another method, or by ``setattr``."""
    found = {match.group(1).decode("latin-1") for match in _SETATTR.finditer(source)}
    functions: Optional[_EnclosingFunctions] = None
    for match in _WRITE.finditer(source):
        receiver, name = match.group(1), match.group(2).decode("latin-1")
        if receiver != b"self":
            found.add(name)
            continue
        functions = functions or _EnclosingFunctions(source)
        if functions.around(match.start(1)) != b"__init__":
            found.add(name)
    return found


class _EnclosingFunctions:
    """The innermost ``def`` around each of a series of rising positions, by indentation:
    the last ``def`` before the position indented less than the position's line.

    Each ``def`` and line is read once: the ``def``s that can still enclose a later position
    (each indented more than the one before) are kept on a stack, and a line's indentation
    is measured once. (Read back for each position, a file of many writes on one long line,
    or after many ``def``s, took time growing with the square of its size.)
    """

    def __init__(self, source: bytes) -> None:
        self._source = source
        self._definitions = [(m.start(), len(m.group(1)), m.group(2)) for m in _DEF.finditer(source)]
        self._read = 0  # how many definitions are on the stack or left it
        self._indents: list[int] = []  # the stack's, rising
        self._names: list[bytes] = []
        self._scanned = 0
        self._line_start = -1
        self._indent = 0

    def around(self, position: int) -> bytes:
        """The name of the innermost ``def`` around ``position`` (``b""``: none); positions
        must not fall."""
        while self._read < len(self._definitions) and self._definitions[self._read][0] < position:
            _, indent, name = self._definitions[self._read]
            self._read += 1
            while self._indents and self._indents[-1] >= indent:
                self._indents.pop()
                self._names.pop()
            self._indents.append(indent)
            self._names.append(name)
        # The line's indentation ends before its first write: measured once a line.
        line_start = max(self._line_start, self._source.rfind(b"\n", self._scanned, position) + 1)
        self._scanned = position
        if line_start != self._line_start:
            self._line_start = line_start
            self._indent = _INDENT.match(self._source, line_start).end() - line_start  # type: ignore[union-attr]
        innermost = bisect.bisect_left(self._indents, self._indent) - 1
        return self._names[innermost] if innermost >= 0 else b""
