"""The part of a file the rules need to see: the top-level statements around their sites.

libcst's metadata (scopes, qualified names, parents, positions) costs seconds on a long
file, and is computed for the whole module. A rule that may only report around some
sites needs only the statements holding them, with what they depend on in the file:
every import and other top-level statement that is not a definition, and the whole of
the subclasses of a kept class and of the bases of those (the rules read both, when
defined in the same file). Every other top-level function and class keeps its decorators
and header, so its name is still bound and its bases still known, but its body becomes
one string literal over the same lines. Line numbers and columns are unchanged, so findings in
the reduced source are reported where they are in the file, and the edits of their fixes
mean the same in the file, unless they touch an emptied body (:meth:`Reduction.holds_all`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Callable, Collection, Iterable, Optional, Union

from ..engine.diagnostics import Edit
from ..engine.source_text import first_line, split_lines

Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]


@dataclass(frozen=True)
class Reduction:
    """A reduced source, and the lines (0-based) whose text the reduction replaced."""

    text: str
    emptied: tuple[range, ...]

    def holds_all(self, edits: Iterable[Edit]) -> bool:
        """Whether every edit lies outside the emptied bodies, so that it means the same
        in the file as in this text (where lines and columns are the file's)."""
        return not any(
            _touches(body, edit.start[0] - 1, edit.end[0] - 1 + (edit.end[1] > 1))
            for edit in edits
            for body in self.emptied
        )


def _touches(body: range, start: int, end: int) -> bool:
    """Whether replacing lines ``start:end`` (inserting, if equal) changes ``body``."""
    if start == end:  # an insertion before line ``start``: inside unless after the body
        return body.start <= start < body.stop
    return start < body.stop and body.start < end


def reduced(text: str, tree: ast.Module, sites: Collection[int]) -> Reduction:
    """``text`` with the body of every top-level definition emptied but for those of the
    statements at the indices ``sites`` and of the classes they need."""
    keep = _with_related_classes(tree, set(sites))
    lines = split_lines(text)
    emptied = tuple(
        body
        for index, statement in enumerate(tree.body)
        if index not in keep and isinstance(statement, _DEFINITIONS)
        for body in [_empty_body(lines, statement)]
        if body is not None
    )
    return Reduction("".join(lines), emptied)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _with_related_classes(tree: ast.Module, sites: set[int]) -> set[int]:
    """``sites``, the statements with a subclass of a class in them (the rules follow
    ``self.<method>()`` calls and layers into subclasses), and the statements with a base
    of any of those (the rules read what bases define). Bases and subclasses are matched
    by name, as the rules match them; classes merely sharing a base are not related."""
    defining: dict[str, set[int]] = {}  # class name -> statements defining one so named
    deriving: dict[str, set[int]] = {}  # base name -> statements with a class on that base
    classes_in: dict[int, set[str]] = {}  # statement -> names of the classes it defines
    bases_in: dict[int, set[str]] = {}  # statement -> names its classes derive from
    for index, statement in enumerate(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.ClassDef):
                defining.setdefault(node.name, set()).add(index)
                classes_in.setdefault(index, set()).add(node.name)
                for base in node.bases:
                    if isinstance(base, ast.Name):
                        deriving.setdefault(base.id, set()).add(index)
                        bases_in.setdefault(index, set()).add(base.id)
    with_subclasses = _closure(sites, lambda index: classes_in.get(index, ()), deriving)
    return _closure(with_subclasses, lambda index: bases_in.get(index, ()), defining)


def _closure(
    start: set[int], names_of: Callable[[int], Iterable[str]], statements_for: dict[str, set[int]]
) -> set[int]:
    """``start`` and every statement reached from it by name, again and again."""
    found = set(start)
    pending = list(start)
    while pending:
        for name in names_of(pending.pop()):
            for index in statements_for.get(name, ()):
                if index not in found:
                    found.add(index)
                    pending.append(index)
    return found


def _empty_body(lines: list[str], definition: Definition) -> Optional[range]:
    """Replace the body of ``definition`` by a string over its lines (``...`` if it has
    one line), in place; return the lines replaced.

    A body that starts on the header's line (``def f(): pass``) is left as it is.
    """
    first = definition.body[0]
    decorators = getattr(first, "decorator_list", ())
    start = first_line(first) - 1
    line = lines[start]
    indent = line[: len(line) - len(line.lstrip(" \t\f"))]
    # A decorator always starts its line; a statement does when only indentation is before it.
    if not decorators and len(indent.encode("utf-8")) != first.col_offset:
        return None
    last = definition.end_lineno - 1  # type: ignore[operator]
    if last == start:
        lines[start] = f"{indent}...{_ending(line)}"
        return range(start, last + 1)
    # One string literal over the body's lines: one node for libcst, not one per line.
    lines[start] = f'{indent}"""{_ending(line)}'
    for number in range(start + 1, last):
        lines[number] = _ending(lines[number])
    lines[last] = f'"""{_ending(lines[last])}'
    return range(start, last + 1)


def without_lines(lines: list[str], runs: Iterable[range]) -> str:
    """``lines`` joined, each run of whole top-level statements (lines ``run``, 0-based)
    replaced by one string literal over the same lines: what is left keeps its positions."""
    kept = list(lines)
    for run in runs:
        first, last = run.start, run.stop - 1
        if first == last:
            kept[first] = f"...{_ending(lines[first])}"
            continue
        kept[first] = f'"""{_ending(lines[first])}'
        for number in range(first + 1, last):
            kept[number] = _ending(lines[number])
        kept[last] = f'"""{_ending(lines[last])}'
    return "".join(kept)


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]
