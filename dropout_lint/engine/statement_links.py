"""Which top-level statements of a file can change what the rules find in one of them.

The rules the server re-lints statement by statement (``GROUPED_RULES`` in
:mod:`.incremental`) read other statements by name only: a class's bases and subclasses
(``class_hierarchy``), whether a class a name refers to is a module, the module's names as
libcst's scopes bind them. So two top-level statements are *linked* when one mentions a
name the other binds, and what the rules find in a statement depends only on the
statements linked to it, again and again (both ways: a base class reads its subclasses'
calls), and on the imports, which bind names of other files and pass nothing on. A
statement that is not a definition and mentions only imported names (``logger =
logging.getLogger(__name__)``) passes nothing on either.

Names are over-counted, never missed: every name a statement mentions, every identifier in
its strings (annotations written as strings), every class defined anywhere in it, and the
names its functions declare ``global``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class StatementNames:
    """The names one top-level statement binds for the module and those it mentions."""

    binds: frozenset[str]
    mentions: frozenset[str]
    is_definition: bool
    is_import: bool


@lru_cache(maxsize=4096)
def statement_names(text: str) -> Optional[StatementNames]:
    """The names of the top-level statements in ``text`` (one, or several sharing lines),
    as the rules see them; None if ``text`` does not parse alone."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    binds: set[str] = set()
    mentions: set[str] = set()
    definition = len(tree.body) == 1 and isinstance(tree.body[0], _DEFINITIONS)
    for statement in tree.body:
        if isinstance(statement, _DEFINITIONS):
            binds.add(statement.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            mentions.add(node.id)
            if not definition and isinstance(node.ctx, ast.Store):
                binds.add(node.id)
        elif isinstance(node, ast.ClassDef) or (not definition and isinstance(node, _DEFINITIONS)):
            binds.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not definition:
            binds.update((alias.asname or alias.name).split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.Global):
            binds.update(node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and definition:
            mentions.update(_IDENTIFIER.findall(node.value))
    is_import = all(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in tree.body)
    return StatementNames(frozenset(binds), frozenset(mentions), definition, is_import and bool(tree.body))


def linked_statements(statements: Sequence[StatementNames], start: int) -> set[int]:
    """The indices of ``start`` and of every statement linked to it, again and again."""
    binders: dict[str, list[int]] = {}
    mentioners: dict[str, list[int]] = {}
    for index, statement in enumerate(statements):
        for name in statement.binds:
            binders.setdefault(name, []).append(index)
        for name in statement.mentions:
            mentioners.setdefault(name, []).append(index)

    def passes_on(index: int) -> bool:
        statement = statements[index]
        if statement.is_import:
            return False
        return statement.is_definition or any(
            not statements[other].is_import for name in statement.mentions for other in binders.get(name, ())
        )

    found = {start}
    pending = [start]
    while pending:
        index = pending.pop()
        if not passes_on(index):
            continue
        statement = statements[index]
        neighbours = [
            *(other for name in statement.mentions for other in binders.get(name, ())),
            *(other for name in statement.binds for other in mentioners.get(name, ())),
        ]
        for other in neighbours:
            if other not in found:
                found.add(other)
                pending.append(other)
    return found
