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
from functools import cached_property
from typing import TYPE_CHECKING, Callable, Iterator, Optional, Sequence, TypeVar, Union

from ..analysis.class_hierarchy import class_hierarchy
from ..engine.source_text import split_lines
from .byte_scan import ArgumentText, CallSite

if TYPE_CHECKING:
    from ..analysis.mode_summaries import ProjectModeSummaries

T = TypeVar("T")
Function = Union[ast.FunctionDef, ast.AsyncFunctionDef]


@dataclass(frozen=True)
class LocatedCall(CallSite):
    """A call as :class:`~dropout_lint.prefilter.byte_scan.CallSite` describes it (its arguments always
    known), with its node and the method it is in: the innermost function defined
    directly in a class body around it, as ``ModuleClasses.enclosing_method`` finds it."""

    node: ast.Call = field(repr=False)
    method: Optional[Function] = field(repr=False)


@dataclass
class _Index:
    """What one walk of a file's tree records of each node, and of the file."""

    parents: dict[ast.AST, ast.AST] = field(default_factory=dict)
    statements: dict[ast.AST, int] = field(default_factory=dict)
    methods: dict[ast.AST, Optional[Function]] = field(default_factory=dict)
    imported: dict[str, set[str]] = field(default_factory=dict)
    calls: list[ast.Call] = field(default_factory=list)
    classes: dict[str, list[ast.ClassDef]] = field(default_factory=dict)
    called_again: set[ast.Call] = field(default_factory=set)


class SyntaxScan:
    """One file's ``ast`` tree, walked once, when first asked: each node's parent, top-level
    statement and method, the names imports bind, and the calls."""

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
        self.text = text
        self._lines = split_lines(text)

    @cached_property
    def _index(self) -> _Index:
        """One walk of the tree, on first use: a rule may be done with a file before (DRP030
        with nothing that changes a mode)."""
        index = _Index()
        for position, statement in enumerate(self.tree.body):
            _walk(index, statement, position)
        return index

    def statement_of(self, node: ast.AST) -> int:
        """The index in the module's body of the top-level statement that holds ``node``."""
        return self._index.statements[node]

    def parent(self, node: ast.AST) -> Optional[ast.AST]:
        return self._index.parents.get(node)

    def method_of(self, node: ast.AST) -> Optional[Function]:
        return self._index.methods.get(node)

    def nodes(self) -> Iterator[ast.AST]:
        """Every node below the module, parents before children, but the contexts and
        operators of single-valued fields (``Load()``, ``Add()``: leaves CPython shares)."""
        return iter(self._index.statements)

    def every_call(self) -> Sequence[ast.Call]:
        """Every call in the file, as the walk found it."""
        return self._index.calls

    def classes_in_hierarchy(self, classdef: ast.ClassDef) -> list[ast.ClassDef]:
        """The class and its bases defined in this file, nearest first, as
        ``ModuleClasses.classes_in_hierarchy`` finds them."""
        return class_hierarchy(
            classdef,
            lambda current: (base.id for base in current.bases if isinstance(base, ast.Name)),
            lambda name: self._index.classes.get(name, ()),
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
        roots = self._index.imported.get(expression.id, set()) | {expression.id}
        return {root + rest for root in roots}

    def calls(self, lookup: Callable[[str], Optional[T]]) -> Iterator[tuple[LocatedCall, T]]:
        """Each call whose callee may resolve to a name ``lookup`` knows, with each answer."""
        for call in self._index.calls:
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
        index = self._index
        return LocatedCall(tuple(arguments), call in index.called_again, call, index.methods[call])

    def _text_of(self, node: ast.expr) -> bytes:
        """The node's source, as UTF-8 (the encoding ``ast`` offsets count in)."""
        first, last = node.lineno - 1, node.end_lineno - 1  # type: ignore[operator]
        lines = [line.encode("utf-8", "surrogatepass") for line in self._lines[first : last + 1]]
        if len(lines) == 1:
            return lines[0][node.col_offset : node.end_col_offset]
        lines[0] = lines[0][node.col_offset :]
        lines[-1] = lines[-1][: node.end_col_offset]
        return b"".join(lines)


# The leaves CPython shares between nodes (one ``Load()`` for every name read, one ``Add()``
# for every ``+``): no rule asks about them, and they are a quarter of a tree's nodes.
_SHARED_LEAVES = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop)


def _walk(index: _Index, top: ast.stmt, position: int) -> None:
    """Record every node below ``top``; iterative, as deep code must not overflow."""
    pending: list[tuple[ast.AST, Optional[ast.AST], Optional[Function]]] = [(top, None, None)]
    while pending:
        node, parent, method = pending.pop()
        index.statements[node] = position
        index.methods[node] = method
        if parent is not None:
            index.parents[node] = parent
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and isinstance(
            parent, ast.ClassDef
        ) and node in parent.body:
            method = node
        elif isinstance(node, ast.ClassDef):
            index.classes.setdefault(node.name, []).append(node)
        elif isinstance(node, ast.Call):
            index.calls.append(node)
            if isinstance(node.func, ast.Call):
                index.called_again.add(node.func)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            _record_import(index, node)
        # ast.iter_child_nodes, inlined: the walk is most of the syntax stage's time.
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                if value:
                    pending.extend([(item, node, method) for item in value if isinstance(item, ast.AST)])
            elif isinstance(value, ast.AST) and not isinstance(value, _SHARED_LEAVES):
                pending.append((value, node, method))


def _record_import(index: _Index, node: Union[ast.Import, ast.ImportFrom]) -> None:
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
        index.imported.setdefault(bound, set()).add(target)
