"""Module classes across the linted project, found by a cheap scan of every file's bytes.

``class Block(BaseBlock):`` in one file makes ``Block`` a module when ``BaseBlock`` is one,
wherever ``BaseBlock`` is defined. The scan is by name and by regular expression (no
parsing), so it costs next to nothing; it only widens what counts as module code for
classes whose bases cannot be resolved within their own file.
"""

from __future__ import annotations

import re
from typing import Iterable

_CLASS = re.compile(rb"^[ \t]*class[ \t]+(\w+)[ \t]*\(([^)]*)\)[ \t]*:", re.MULTILINE)
_TORCH_MODULE_BASE = re.compile(
    rb"^(?:(?:torch\.)?nn\.(?:modules\.(?:\w+\.)?)?[A-Z]\w*|Module|"
    rb"(?:\w+\.)*LightningModule|(?:\w+\.)*PreTrainedModel)$"
)
_NOT_MODULES = frozenset({b"Parameter", b"Buffer", b"UninitializedParameter", b"UninitializedBuffer"})


def _bases(text: bytes) -> list[bytes]:
    bases = []
    for part in text.split(b","):
        base = part.strip().split(b"[", 1)[0].strip()
        if base and b"=" not in base and not base.startswith(b"*"):
            bases.append(base)
    return bases


def module_class_names(sources: Iterable[bytes]) -> frozenset[str]:
    """The names of classes that derive, directly or through each other, from nn.Module."""
    parents: dict[bytes, set[bytes]] = {}
    modules: set[bytes] = set()
    for source in sources:
        for match in _CLASS.finditer(source):
            name = match.group(1)
            for base in _bases(match.group(2)):
                if _TORCH_MODULE_BASE.match(base) and base.rsplit(b".", 1)[-1] not in _NOT_MODULES:
                    modules.add(name)
                parents.setdefault(name, set()).add(base.rsplit(b".", 1)[-1])
    changed = True
    while changed:
        changed = False
        for name, bases in parents.items():
            if name not in modules and bases & modules:
                modules.add(name)
                changed = True
    return frozenset(name.decode("ascii", "replace") for name in modules)
