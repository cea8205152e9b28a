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

# `receiver.name = ...` and augmented forms, not `==`; the receiver as written.
_WRITE = re.compile(rb"([A-Za-z_][\w.]*)\.([A-Za-z_]\w*)[ \t]*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)")
_SETATTR = re.compile(rb"setattr\(\s*[^,()]+,\s*['\"]([A-Za-z_]\w*)['\"]")
_DEF = re.compile(rb"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)


def reassigned_attributes(source: bytes) -> set[str]:
    """The attribute names ``source`` assigns other than as ``self.<name> = ...`` in an
    ``__init__``: on another object, in another method, or by ``setattr``."""
    found = {match.group(1).decode("latin-1") for match in _SETATTR.finditer(source)}
    definitions = None
    for match in _WRITE.finditer(source):
        receiver, name = match.group(1), match.group(2).decode("latin-1")
        if receiver != b"self":
            found.add(name)
            continue
        if definitions is None:
            definitions = [(m.start(), len(m.group(1)), m.group(2)) for m in _DEF.finditer(source)]
        if _enclosing_function(source, match.start(), definitions) != b"__init__":
            found.add(name)
    return found


def _enclosing_function(source: bytes, position: int, definitions: list[tuple[int, int, bytes]]) -> bytes:
    """The name of the innermost ``def`` around ``position``, by indentation (``b""``: none)."""
    line_start = source.rfind(b"\n", 0, position) + 1
    indent = len(source[line_start:position]) - len(source[line_start:position].lstrip(b" \t"))
    for _, def_indent, name in reversed(definitions[: bisect.bisect_left(definitions, (position,))]):
        if def_indent < indent:
            return name
    return b""
