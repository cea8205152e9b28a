"""Removing the imports that fixes left unused, and only those.

A fix that registers a module rewrites ``F.dropout(x, p)`` as ``self.dropout(x)``; when it
was the last use of ``F``, ``import torch.nn.functional as F`` is left unused and F401 fails
in the same pre-commit run. An import is removed when the file used its name before the
fixes and uses it nowhere after them, not even in a string (``__all__``). Imports unused
before the fixes are never touched, nor are imports inside blocks, ``__future__`` imports,
``import a.b`` without ``as`` (it binds ``a``) or a package's ``__init__.py`` (re-exports).
"""

from __future__ import annotations

import ast
import os
from collections import Counter
from typing import Iterable, Union

from ..engine.source_text import first_line, split_lines

Import = Union[ast.Import, ast.ImportFrom]


def without_imports_made_unused(before: ast.Module, before_text: str, after: ast.Module, text: str, path: str) -> str:
    """``text`` without the module-level import names that ``before`` used and ``after``
    does not; ``before`` and ``after`` are CPython's trees of ``before_text``, the text
    before the fixes, and of ``text``. A text with no such import comes back as it is.

    Uses are counted in the top-level statements the fixes changed first: a name can only
    go unused when a changed statement used it and none uses it now, and only then are
    the other statements read.
    """
    if os.path.basename(path) == "__init__.py":
        return text
    candidates = _bound_names(after)
    if not candidates:
        return text
    old, new = _statements(before, before_text), _statements(after, text)
    kept = old.keys() & new.keys()
    used_before = _uses(old[key] for key in old.keys() - kept)
    used_after = _uses(new[key] for key in new.keys() - kept)
    gone = {
        name
        for name, statements in candidates.items()
        if len(statements) == 1 and used_before[name] > 0 and used_after[name] == 0
    }
    if gone:
        used_elsewhere = _uses(new[key] for key in kept)
        gone = {name for name in gone if used_elsewhere[name] == 0}
    if not gone:
        return text
    lines = split_lines(text)
    for statement in sorted({id(s): s for n in gone for s in candidates[n]}.values(), key=_line, reverse=True):
        _remove(lines, statement, gone)
    return "".join(lines)


def _statements(module: ast.Module, text: str) -> dict[tuple[str, int, int, int], ast.stmt]:
    """The module's top-level statements by their code: the lines they span, where they
    start and end on them, and how many came before with the same code."""
    lines = split_lines(text)
    statements: dict[tuple[str, int, int, int], ast.stmt] = {}
    seen: Counter[tuple[str, int, int]] = Counter()
    for statement in module.body:
        span = "".join(lines[first_line(statement) - 1 : statement.end_lineno])
        code = (span, statement.col_offset, statement.end_col_offset or 0)
        statements[(*code, seen[code])] = statement
        seen[code] += 1
    return statements


def _bound_names(module: ast.Module) -> dict[str, list[Import]]:
    """Each name a module-level import binds (with ``as``, or ``from``), with its statements."""
    bound: dict[str, list[Import]] = {}
    for statement in module.body:
        if isinstance(statement, ast.ImportFrom) and statement.module != "__future__":
            names = [alias.asname or alias.name for alias in statement.names if alias.name != "*"]
        elif isinstance(statement, ast.Import):
            names = [alias.asname for alias in statement.names if alias.asname]
        else:
            continue
        for name in names:
            bound.setdefault(name, []).append(statement)
    return bound


def _uses(statements: Iterable[ast.stmt]) -> Counter[str]:
    """How often each name is read in the statements, plus identifier-like strings
    (``__all__``, ``getattr``)."""
    counts: Counter[str] = Counter()
    for node in (node for statement in statements for node in ast.walk(statement)):
        if isinstance(node, ast.Name):
            counts[node.id] += 1
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
            counts[node.value] += 1
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            counts.update(node.names)
    return counts


def _line(statement: Import) -> int:
    return statement.lineno


def _remove(lines: list[str], statement: Import, unused: set[str]) -> None:
    """Remove the unused names of ``statement`` from ``lines``: the whole statement when it
    binds nothing else and has its lines to itself (a comment after it goes with it)."""
    kept = [alias for alias in statement.names if (alias.asname or alias.name) not in unused]
    if kept:
        _rewrite(lines, statement, kept)
        return
    first, last = statement.lineno - 1, (statement.end_lineno or statement.lineno) - 1
    if lines[first][: _char_offset(lines[first], statement.col_offset)].strip():
        return  # shares its line with another statement (`x = 1; import y`)
    if _tail_offset(lines, statement) is None:
        return  # `import y; x = 1`
    del lines[first : last + 1]


def _tail_offset(lines: list[str], statement: Import) -> Union[int, None]:
    """Where the statement's last line continues after it, when only a comment follows."""
    last = lines[(statement.end_lineno or statement.lineno) - 1]
    end = _char_offset(last, statement.end_col_offset or 0)
    rest = last[end:].strip()
    return end if not rest or rest.startswith("#") else None


def _char_offset(line: str, utf8_offset: int) -> int:
    return len(line.encode("utf-8")[:utf8_offset].decode("utf-8", "replace"))


def _rewrite(lines: list[str], statement: Import, kept: list[ast.alias]) -> None:
    """A ``from m import a, b`` on one line, without its unused names."""
    if statement.lineno != statement.end_lineno or not isinstance(statement, ast.ImportFrom):
        return
    index = statement.lineno - 1
    line = lines[index]
    start = _char_offset(line, statement.col_offset)
    end = _char_offset(line, statement.end_col_offset or 0)
    names = ", ".join(alias.name + (f" as {alias.asname}" if alias.asname else "") for alias in kept)
    module = "." * statement.level + (statement.module or "")
    lines[index] = f"{line[:start]}from {module} import {names}{line[end:]}"
