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

Inside the classes kept, libcst may see less still: when every rule with a site declares
what it reads of a class (:class:`ClassReads`), only the methods that hold a site and those
the rules read keep their bodies (:class:`MethodSites`). A fix may still read the names of
an emptied method (``self.dropout`` in one makes the fix pick another name): its edits then
do not hold, and the engine lints the file with its classes whole.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Collection, Iterable, Iterator, Optional, Sequence, Union

from ..analysis.torch_api import DROPOUT_MODULES
from ..engine.diagnostics import Edit
from ..engine.source_text import first_line, line_starts, split_lines

Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]
Definition = Union[ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef]
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# In an edit's text: the attributes it names, and the names (not attributes nor keywords).
_ATTRIBUTE = re.compile(r"\.\s*([A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"(?<![.\w])[A-Za-z_][A-Za-z0-9_]*\b(?!\s*=(?!=))")


@dataclass(frozen=True)
class ClassReads:
    """What a rule reads of a class besides the methods that hold its sites (and the
    class's statements that are not methods, and every method's header).

    ``callers``: the methods that call one it reads (``<name>.<method>(...)``, matched by
    the method's name in every class libcst sees), again and again. ``registrations``:
    every ``__init__``, and every method that builds a dropout module (where its fix
    registers a module, and the names it takes after).
    """

    callers: bool = False
    registrations: bool = False

    def __or__(self, other: ClassReads) -> ClassReads:
        return ClassReads(self.callers or other.callers, self.registrations or other.registrations)


@dataclass(frozen=True)
class MethodSites:
    """The lines (1-based, first and last) of the rules' sites, and what the rules read."""

    spans: Sequence[tuple[int, int]]
    reads: ClassReads


@dataclass(frozen=True)
class Reduction:
    """A reduced source, and the lines (0-based) whose text the reduction replaced: the
    bodies of top-level definitions (``emptied``) and of methods (``methods``). Of the
    emptied methods, ``method_attributes`` are the attributes they read or set on their
    first parameter and their strings that are identifiers, ``method_names`` the names
    they use that no method libcst sees uses."""

    text: str
    emptied: tuple[range, ...]
    methods: tuple[range, ...] = ()
    method_attributes: frozenset[str] = field(default=frozenset())
    method_names: frozenset[str] = field(default=frozenset())

    def holds_all(self, edits: Iterable[Edit]) -> bool:
        """Whether every edit lies outside the emptied bodies, so that it means the same
        in the file as in this text (where lines and columns are the file's), and names no
        attribute an emptied method names, nor a name only emptied methods use: a fix
        decides by the names the class takes, and by the attributes set where."""
        edits = list(edits)
        if any(
            _touches(body, edit.start[0] - 1, edit.end[0] - 1 + (edit.end[1] > 1))
            for edit in edits
            for body in (*self.emptied, *self.methods)
        ):
            return False
        if not (self.method_attributes or self.method_names):
            return True
        for edit in edits:
            attributes = _ATTRIBUTE.findall(edit.content + "\n" + _replaced(self.text, self._line_starts, edit))
            if not self.method_attributes.isdisjoint(attributes):
                return False
            if not self.method_names.isdisjoint(_NAME.findall(edit.content)):
                return False
        return True

    @cached_property
    def _line_starts(self) -> list[int]:
        """The offsets of the text's lines, found once: ``holds_all`` is asked per finding."""
        return line_starts(self.text)


def _replaced(text: str, starts: list[int], edit: Edit) -> str:
    """The text ``edit`` replaces; ``starts`` are the offsets of the lines of ``text``."""
    return text[starts[edit.start[0] - 1] + edit.start[1] - 1 : starts[edit.end[0] - 1] + edit.end[1] - 1]


def _touches(body: range, start: int, end: int) -> bool:
    """Whether replacing lines ``start:end`` (inserting, if equal) changes ``body``."""
    if start == end:  # an insertion before line ``start``: inside unless after the body
        return body.start <= start < body.stop
    return start < body.stop and body.start < end


def reduced(
    text: str, tree: ast.Module, sites: Collection[int], methods: Optional[MethodSites] = None
) -> Reduction:
    """``text`` with the body of every top-level definition emptied but for those of the
    statements at the indices ``sites`` and of the classes they need; and, given
    ``methods``, with the body of every method of those classes emptied that holds no site
    and that the rules do not read."""
    keep = _with_related_classes(tree, set(sites))
    lines = split_lines(text)
    emptied = tuple(
        body
        for index, statement in enumerate(tree.body)
        if index not in keep and isinstance(statement, _DEFINITIONS)
        for body in [_empty_body(lines, statement)]
        if body is not None
    )
    if methods is None:
        return Reduction("".join(lines), emptied)
    facts = [
        _MethodFacts(method)
        for index in sorted(keep)
        if isinstance(tree.body[index], ast.ClassDef)
        for method in _methods(tree.body[index])  # type: ignore[arg-type]
    ]
    read = set(_read_methods(facts, methods))
    unread = [each for each in facts if each not in read]
    bodies = tuple(
        body for each in unread for body in [_empty_body(lines, each.method)] if body is not None
    )
    if not (bodies and methods.reads.registrations):  # no fix reads the names of the class
        return Reduction("".join(lines), emptied, bodies)
    seen_names = {name for each in read for name in each.names}
    return Reduction(
        "".join(lines),
        emptied,
        bodies,
        frozenset(name for each in unread for name in each.attributes),
        frozenset(name for each in unread for name in each.names if name not in seen_names),
    )


def _methods(classdef: ast.ClassDef) -> Iterable[Function]:
    """The methods of a class and of the classes defined in its body, again and again."""
    for statement in classdef.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield statement
        elif isinstance(statement, ast.ClassDef):
            yield from _methods(statement)


class _MethodFacts:
    """What one walk of a method finds that decides whether the rules read it, and what a
    fix could read of it."""

    def __init__(self, method: Function) -> None:
        self.method = method
        positional = [*method.args.posonlyargs, *method.args.args]
        instance = positional[0].arg if positional else None
        self.called: set[str] = set()  # <name>.<method>(...)
        self.attributes: set[str] = set()  # <instance>.<attribute>, identifier strings
        self.names: set[str] = set()
        self.declares_global = self.builds_dropout = False
        for node in ast.walk(method):
            if isinstance(node, ast.Name):
                self.names.add(node.id)
            elif isinstance(node, ast.Attribute):
                if isinstance(node.value, ast.Name) and node.value.id == instance:
                    self.attributes.add(node.attr)
            elif isinstance(node, ast.Constant):
                if isinstance(node.value, str) and _IDENTIFIER.fullmatch(node.value):
                    self.attributes.add(node.value)
            elif isinstance(node, ast.Call):
                callee = node.func
                if isinstance(callee, ast.Attribute):
                    if isinstance(callee.value, ast.Name):
                        self.called.add(callee.attr)
                    self.builds_dropout |= callee.attr in DROPOUT_MODULES
                elif isinstance(callee, ast.Name):
                    self.builds_dropout |= callee.id in DROPOUT_MODULES
            elif isinstance(node, ast.Global):
                self.declares_global = True


def _read_methods(facts: list[_MethodFacts], sites: MethodSites) -> list[_MethodFacts]:
    """The methods that hold a site, declare a ``global`` (it binds for the whole module),
    or that the rules read (:class:`ClassReads`)."""
    reads = sites.reads
    read = [
        each
        for each in facts
        if each.declares_global
        or any(
            first <= each.method.end_lineno and first_line(each.method) <= last  # type: ignore[operator]
            for first, last in sites.spans
        )
        or (reads.registrations and (each.method.name == "__init__" or each.builds_dropout))
    ]
    if reads.callers:
        names = {each.method.name for each in read}
        pending = [each for each in facts if each not in read]
        while True:
            callers = [each for each in pending if not each.called.isdisjoint(names)]
            if not callers:
                break
            read.extend(callers)
            names.update(each.method.name for each in callers)
            pending = [each for each in pending if each not in callers]
    return read


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
        for node in _class_definitions(statement):
            defining.setdefault(node.name, set()).add(index)
            classes_in.setdefault(index, set()).add(node.name)
            for base in node.bases:
                if isinstance(base, ast.Name):
                    deriving.setdefault(base.id, set()).add(index)
                    bases_in.setdefault(index, set()).add(base.id)
    with_subclasses = _closure(sites, lambda index: classes_in.get(index, ()), deriving)
    return _closure(with_subclasses, lambda index: bases_in.get(index, ()), defining)


# The fields that hold statements: of statements, of ``except`` clauses and of ``case``
# blocks. A class is a statement, so it is found without walking any expression.
_STATEMENT_FIELDS = ("body", "orelse", "finalbody", "handlers", "cases")


def _class_definitions(statement: ast.stmt) -> Iterator[ast.ClassDef]:
    """The classes ``statement`` defines, itself included, at any depth of its blocks."""
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.ClassDef):
            yield node
        for name in _STATEMENT_FIELDS:
            pending.extend(getattr(node, name, ()))


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
