"""Module classes across the linted project, found by a cheap scan of every file's bytes.

``class Block(BaseBlock):`` in one file makes ``Block`` a module when ``BaseBlock`` is one,
wherever ``BaseBlock`` is defined. The scan is by name and by regular expression (no
parsing), so it costs next to nothing; it only widens what counts as module code for
classes whose bases cannot be resolved within their own file.

The scan of one file (:func:`class_statements`) is separate from joining them all
(:func:`module_classes_of`), so the runner can scan each file in the pass that reads it,
and the cache can keep each file's statements.
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

# `class Name(bases):`, searched from its keyword (fast) and kept only at the start of a
# line, as `^[ \t]*class ...` in MULTILINE mode would find it (slow: tried at every line).
_CLASS = re.compile(rb"class[ \t]+(\w+)[ \t]*\(([^)]*)\)[ \t]*:")
_TORCH_MODULE_BASE = re.compile(
    r"^(?:(?:torch\.)?nn\.(?:modules\.(?:\w+\.)?)?[A-Z]\w*|Module|"
    r"(?:\w+\.)*LightningModule|(?:\w+\.)*PreTrainedModel)$"
)
_NOT_MODULES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})

# One class statement: its name and its base expressions, as written.
ClassStatement = tuple[str, tuple[str, ...]]


def class_statements(source: bytes) -> tuple[ClassStatement, ...]:
    """Every ``class Name(bases):`` at the start of a line, in order.

    Text is decoded as Latin-1, which maps bytes to characters one to one, so names and
    bases compare as they did as bytes and the result can be stored as JSON.
    """
    found = []
    position = 0
    while True:
        match = _CLASS.search(source, position)
        if match is None:
            return tuple(found)
        line_start = source.rfind(b"\n", 0, match.start()) + 1
        if source[line_start : match.start()].strip(b" \t"):
            position = match.start() + 1
            continue
        found.append((match.group(1).decode("latin-1"), _bases(match.group(2).decode("latin-1"))))
        position = match.end()


def _bases(text: str) -> tuple[str, ...]:
    bases = []
    for part in text.split(","):
        base = part.strip().split("[", 1)[0].strip()
        if base and "=" not in base and not base.startswith("*"):
            bases.append(base)
    return tuple(bases)


def module_classes_of(files: Iterable[Sequence[ClassStatement]]) -> frozenset[str]:
    """The names of classes that derive, directly or through each other, from nn.Module."""
    parents: dict[str, set[str]] = {}
    modules: set[str] = set()
    for statements in files:
        for name, bases in statements:
            for base in bases:
                last = base.rsplit(".", 1)[-1]
                if _TORCH_MODULE_BASE.match(base) and last not in _NOT_MODULES:
                    modules.add(name)
                parents.setdefault(name, set()).add(last)
    changed = True
    while changed:
        changed = False
        for name, bases in parents.items():
            if name not in modules and bases & modules:
                modules.add(name)
                changed = True
    return frozenset(name.encode("latin-1").decode("ascii", "replace") for name in modules)


def module_class_names(sources: Iterable[bytes]) -> frozenset[str]:
    """The module classes defined in ``sources``: the scan and the join in one."""
    return module_classes_of(map(class_statements, sources))
