"""The second gate: CPython's syntax tree says where in a file a rule may report.

The byte gate (:mod:`dropout_lint.prefilter.byte_scan`) lets through the few files whose bytes may hold a
finding. For those, CPython's ``ast`` tree (built anyway to check the syntax, and handed
to the flake8 plugin for free) parses and walks a hundred times faster than libcst's. A
:class:`SyntaxScan` finds in it the calls that may resolve to torch's dropout API, and
where they are; each rule turns them into its *sites*, and libcst then only sees the
top-level statements around them (see :mod:`dropout_lint.prefilter.reduction`).

Like the byte gate, every answer errs on the side of "maybe". A callee ``a.b.c`` may be
``<m>.b.c`` for any module ``m`` that any import in the file binds to ``a``, or ``a.b.c``
itself: a superset of the qualified names libcst can give it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, TypeVar, Union

from ..analysis.class_hierarchy import class_hierarchy
from ..analysis.mode_summaries import ProjectModeSummaries
from ..engine.source_text import split_lines
from .byte_scan import ArgumentText, CallSite

T = TypeVar("T")
Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass(frozen=True)
class LocatedCall(CallSite):
    """A call as :class:`~dropout_lint.prefilter.byte_scan.CallSite` describes it (its arguments always
    known), with its node and the method it is in: the innermost function defined
    directly in a class body around it, as ``ModuleClasses.enclosing_method`` finds it."""

    node: ast.Call = field(repr=False)
    method: Optional[Function] = field(repr=False)


class SyntaxScan:
    """One file's ``ast`` tree, walked once: each node's parent, top-level statement and
    method, the names imports bind, and the calls."""

    def __init__(
        self,
        tree: ast.Module,
        text: str,
        path: str = "<string>",
        mode_summaries: Optional[ProjectModeSummaries] = None,
    ) -> None:
        self.tree = tree
        self.path = path
        # The project's mode summaries: DRP030 reads its sites through them, as it reports.
        self.mode_summaries = mode_summaries
        self._lines = split_lines(text)
        self._parents: dict[ast.AST, ast.AST] = {}
        self._statements: dict[ast.AST, int] = {}
        self._methods: dict[ast.AST, Optional[Function]] = {}
        self._imported: dict[str, set[str]] = {}
        self._calls: list[ast.Call] = []
        self._classes: dict[str, list[ast.ClassDef]] = {}
        self._called_again: set[ast.Call] = set()
        for index, statement in enumerate(tree.body):
            self._walk(statement, index)

    def statement_of(self, node: ast.AST) -> int:
        """The index in the module's body of the top-level statement that holds ``node``."""
        return self._statements[node]

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        return self._parents.get(node)

    def method_of(self, node: ast.AST) -> Optional[Function]:
        return self._methods.get(node)

    def nodes(self) -> Iterator[ast.AST]:
        """Every node below the module, parents before children."""
        return iter(self._statements)

    def classes_in_hierarchy(self, classdef: ast.ClassDef) -> list[ast.ClassDef]:
        """The class and its bases defined in this file, nearest first, as
        ``ModuleClasses.classes_in_hierarchy`` finds them."""
        return class_hierarchy(
            classdef,
            lambda current: (base.id for base in current.bases if isinstance(base, ast.Name)),
            lambda name: self._classes.get(name, ()),
        )

    def possible_names(self, expression: ast.expr) -> set[str]:
        """Every qualified name libcst may give ``expression`` (a dotted name), and more."""
        parts: list[str] = []
        while isinstance(expression, ast.Attribute):
            parts.append(expression.attr)
            expression = expression.value
        if not isinstance(expression, ast.Name):
            return set()
        rest = "".join(f".{part}" for part in reversed(parts))
        roots = self._imported.get(expression.id, set()) | {expression.id}
        return {root + rest for root in roots}

    def calls(self, lookup: Callable[[str], Optional[T]]) -> Iterator[tuple[LocatedCall, T]]:
        """Each call whose callee may resolve to a name ``lookup`` knows, with each answer."""
        for call in self._calls:
            answers = {lookup(name) for name in self.possible_names(call.func)} - {None}
            if answers:
                located = self._located(call)
                for answer in answers:
                    yield located, answer  # type: ignore[misc]

    def _located(self, call: ast.Call) -> LocatedCall:
        arguments = [
            ArgumentText(None, isinstance(arg, ast.Starred), self._text_of(arg)) for arg in call.args
        ]
        arguments.extend(
            ArgumentText(
                keyword.arg.encode() if keyword.arg is not None else None,
                keyword.arg is None,
                self._text_of(keyword.value),
            )
            for keyword in call.keywords
        )
        return LocatedCall(tuple(arguments), call in self._called_again, call, self._methods[call])

    def _text_of(self, node: ast.expr) -> bytes:
        """The node's source, as UTF-8 (the encoding ``ast`` offsets count in)."""
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[operator]
        lines = [line.encode("utf-8", "surrogatepass") for line in self._lines[first : last + 1]]
        if len(lines) == 1:
            return lines[0][node.col_offset : node.end_col_offset]
        lines[0] = lines[0][node.col_offset :]
        lines[-1] = lines[-1][: node.end_col_offset]
        return b"".join(lines)

    def _walk(self, top: ast.stmt, index: int) -> None:
        """Record every node below ``top``; iterative, as deep code must not overflow."""
        pending: list[tuple[ast.AST, Optional[ast.AST], Optional[Function]]] = [(top, None, None)]
        while pending:
            node, parent, method = pending.pop()
            self._statements[node] = index
            self._methods[node] = method
            if parent is not None:
                self._parents[node] = parent
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(
                parent, ast.ClassDef
            ) and node in parent.body:
                method = node
            elif isinstance(node, ast.ClassDef):
                self._classes.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Call):
                self._calls.append(node)
                if isinstance(node.func, ast.Call):
                    self._called_again.add(node.func)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                self._record_import(node)
            pending.extend((child, node, method) for child in ast.iter_child_nodes(node))

    def _record_import(self, node: Union[ast.Import, ast.ImportFrom]) -> None:
        for alias in node.names:
            if isinstance(node, ast.Import):
                bound = alias.asname or alias.name.split(".", 1)[0]
                target = alias.name if alias.asname else bound
            elif alias.name == "*":
                continue
            else:
                module = "." * node.level + (node.module or "")
                bound = alias.asname or alias.name
                target = f"{module}.{alias.name}" if node.module else f"{module}{alias.name}"
            self._imported.setdefault(bound, set()).add(target)
