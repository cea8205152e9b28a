"""A class and its bases defined in the same file, for libcst's tree and CPython's alike.

Kept apart from :mod:`.module_classes` (libcst) so that the syntax stage, which reads
CPython's tree, does not import libcst.
"""

from __future__ import annotations

from typing import Callable, Iterable, TypeVar

C = TypeVar("C")


def class_hierarchy(
    classdef: C, base_names: Callable[[C], Iterable[str]], classes_named: Callable[[str], Iterable[C]]
) -> list[C]:
    """The class and its bases defined in the file, nearest first, for either tree: bases
    are followed by name (``Base``, not ``pkg.Base``) to every class of the file so named."""
    seen: list[C] = []
    pending = [classdef]
    while pending:
        current = pending.pop(0)
        if current in seen:
            continue
        seen.append(current)
        for name in base_names(current):
            pending.extend(classes_named(name))
    return seen
