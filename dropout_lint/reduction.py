"""The part of a file the rules need to see: the top-level statements around their sites.

libcst's metadata (scopes, qualified names, parents, positions) costs seconds on a long
file, and is computed for the whole module. A rule that may only report around some
sites needs only the statements holding them, with what they depend on in the file:
every import and other top-level statement that is not a definition, and the whole of
every class related to a kept class by inheritance (the rules read bases and subclasses
defined in the same file). Every other top-level function and class keeps its decorators
and header, so its name is still bound and its bases still known, but its body becomes
one string literal over the same lines. Line numbers and columns are unchanged, so findings in
the reduced source are reported where they are in the file.
"""

from __future__ import annotations

import ast
from typing import Collection, Union

from .source_text import split_lines

Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]


def reduced_source(text: str, tree: ast.Module, sites: Collection[int]) -> str:
    """``text`` with the body of every top-level definition emptied but for those of the
    statements at the indices ``sites`` and of the classes they need."""
    keep = _with_related_classes(tree, set(sites))
    lines = split_lines(text)
    for index, statement in enumerate(tree.body):
        if index not in keep and isinstance(statement, _DEFINITIONS):
            _empty_body(lines, statement)
    return "".join(lines)


_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _with_related_classes(tree: ast.Module, keep: set[int]) -> set[int]:
    """``keep`` and every top-level statement with a class related to a kept one by
    inheritance, through base classes named in the file (in either direction)."""
    defined: dict[str, set[int]] = {}  # class name -> statements defining one so named
    based_on: dict[str, set[int]] = {}  # base name -> statements with a class on that base
    names_in: dict[int, set[str]] = {}  # statement -> its class and base names
    for index, statement in enumerate(tree.body):
        for node in ast.walk(statement):
            if isinstance(node, ast.ClassDef):
                defined.setdefault(node.name, set()).add(index)
                names_in.setdefault(index, set()).add(node.name)
                for base in node.bases:
                    if isinstance(base, ast.Name):
                        based_on.setdefault(base.id, set()).add(index)
                        names_in[index].add(base.id)
    pending = [index for index in keep if index in names_in]
    while pending:
        for name in names_in[pending.pop()]:
            for related in defined.get(name, set()) | based_on.get(name, set()):
                if related not in keep:
                    keep.add(related)
                    pending.append(related)
    return keep


def _empty_body(lines: list[str], definition: Definition) -> None:
    """Replace the body of ``definition`` by a string over its lines (``...`` if it has
    one line), in place.

    A body that starts on the header's line (``def f(): pass``) is left as it is.
    """
    first = definition.body[0]
    decorators = getattr(first, "decorator_list", ())
    start = min([first.lineno, *(d.lineno for d in decorators)]) - 1
    line = lines[start]
    indent = line[: len(line) - len(line.lstrip(" \t\f"))]
    # A decorator always starts its line; a statement does when only indentation is before it.
    if not decorators and len(indent.encode("utf-8")) != first.col_offset:
        return
    last = definition.end_lineno - 1  # type: ignore[operator]
    if last == start:
        lines[start] = f"{indent}...{_ending(line)}"
        return
    # One string literal over the body's lines: one node for libcst, not one per line.
    lines[start] = f'{indent}"""{_ending(line)}'
    for number in range(start + 1, last):
        lines[number] = _ending(lines[number])
    lines[last] = f'"""{_ending(lines[last])}'


def _ending(line: str) -> str:
    return line[len(line.rstrip("\r\n")) :]
