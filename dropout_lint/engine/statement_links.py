"""Which top-level statements of a file can change what the rules find in one of them.

The rules the server re-lints statement by statement (``GROUPED_RULES`` in
:mod:`.incremental`) read other statements by name, in two ways only. A class's bases and
subclasses are read whole (``class_hierarchy``: what a base defines, the calls of a method
in subclasses). Any other class or function a name refers to is read by its header alone
(whether a class is a module, or derives from a dropout module, is in its bases); so is the
module as libcst's scopes bind its names.

So when one definition changes, the statements whose findings may change are its
*hierarchy*: the statements with a class deriving, by name, from one it defines, or it
from theirs, again and again; and a statement binding inside its body (a nested class, a
``global``) a name one of those mentions. The others keep their findings, as long as the
statements those mention are still there, by header: the *headers* they need, again and
again. Imports and other statements that are not definitions are always there, whole.

Names are over-counted, never missed: every name a statement mentions, every identifier in
its strings (annotations written as strings), every class defined anywhere in it, and the
names its functions declare ``global``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable, Iterable, Iterator, Optional, Sequence

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class StatementNames:
    """What one top-level statement binds for the module (``binds``: a definition's own
    name; ``inner_binds``: classes and ``global`` names in its body), the names it mentions,
    and the names its classes derive from."""

    binds: frozenset[str]
    inner_binds: frozenset[str]
    mentions: frozenset[str]
    derives: frozenset[str]
    is_definition: bool
    # Every identifier it holds as a name: names, parameters, definitions, imports,
    # keywords, those in its strings (not attributes).
    identifiers: frozenset[str]


@lru_cache(maxsize=4096)
def statement_names(text: str) -> Optional[StatementNames]:
    """The names of the top-level statements in ``text`` (one, or several sharing lines);
    None if ``text`` does not parse alone."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    definition = len(tree.body) == 1 and isinstance(tree.body[0], _DEFINITIONS)
    binds: set[str] = {tree.body[0].name} if definition else set()  # type: ignore[attr-defined]
    inner: set[str] = set()
    mentions: set[str] = set()
    derives: set[str] = set()
    identifiers: set[str] = set()
    for node in ast.walk(tree):
        identifiers.update(_identifiers_of(node))
        if isinstance(node, ast.Name):
            mentions.add(node.id)
            if not definition and isinstance(node.ctx, ast.Store):
                binds.add(node.id)
        elif isinstance(node, _DEFINITIONS):
            if isinstance(node, ast.ClassDef):
                derives.update(_base_names(node.bases))
                inner.add(node.name)
            if not definition:
                binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not definition:
            binds.update((alias.asname or alias.name).split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.Global):
            inner.update(node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            mentions.update(_IDENTIFIER.findall(node.value))
    return StatementNames(
        frozenset(binds),
        frozenset(inner - binds),
        frozenset(mentions),
        frozenset(derives),
        definition,
        frozenset(identifiers | mentions),
    )


def _identifiers_of(node: ast.AST) -> Iterator[str]:
    """The identifiers a node itself holds (not its children's)."""
    for field in ("id", "arg", "name", "asname"):
        value = getattr(node, field, None)
        if isinstance(value, str):
            yield from value.split(".")
    if isinstance(node, (ast.Global, ast.Nonlocal)):
        yield from node.names


def _base_names(bases: Iterable[ast.expr]) -> Iterator[str]:
    """The bases named as the rules follow them to a class of the file: ``Base``, ``Base[T]``."""
    for base in bases:
        if isinstance(base, ast.Subscript):
            base = base.value
        if isinstance(base, ast.Name):
            yield base.id


def hierarchy_and_headers(
    seen: Sequence[StatementNames], headers: Sequence[StatementNames], start: int
) -> tuple[set[int], set[int]]:
    """The statements whose findings may change when statement ``start`` does (its
    hierarchy, ``start`` included), and the other statements they need, by header; each
    statement as the rules see it (``seen``), or by its header alone (``headers``)."""
    binders: dict[str, list[int]] = {}
    inner_binders: dict[str, list[int]] = {}
    derivers: dict[str, list[int]] = {}
    for index, statement in enumerate(seen):
        for name in statement.binds:
            binders.setdefault(name, []).append(index)
        for name in statement.inner_binds:
            inner_binders.setdefault(name, []).append(index)
        for name in statement.derives:
            derivers.setdefault(name, []).append(index)

    def related(index: int) -> Iterator[int]:
        statement = seen[index]
        if not statement.is_definition:
            return  # an import, or other statement: whole in every text, read by no rule
        for name in statement.binds | statement.inner_binds:
            yield from derivers.get(name, ())
        for name in statement.derives:
            yield from binders.get(name, ())
            yield from inner_binders.get(name, ())
        for name in statement.mentions:
            yield from inner_binders.get(name, ())

    hierarchy = _closure({start}, related)
    while True:
        needed: set[int] = set()
        bodies: set[int] = set()  # statements a header needs whole: it binds in its body
        pending = list(hierarchy)
        while pending:
            index = pending.pop()
            statement = seen[index] if index in hierarchy else headers[index]
            for name in statement.mentions:
                bodies.update(other for other in inner_binders.get(name, ()) if other not in hierarchy)
                for other in binders.get(name, ()):
                    if other not in hierarchy and other not in needed:
                        needed.add(other)
                        pending.append(other)
        if not bodies:
            return hierarchy, needed
        hierarchy = _closure(hierarchy | bodies, related)


def _closure(start: set[int], related: Callable[[int], Iterable[int]]) -> set[int]:
    found = set(start)
    pending = list(start)
    while pending:
        for other in related(pending.pop()):
            if other not in found:
                found.add(other)
                pending.append(other)
    return found
