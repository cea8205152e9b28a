"""Walking a libcst tree by reading its nodes' fields, without libcst's visitors.

A libcst visit rebuilds every node it passes (its children are visited by constructing
the node again), so even a visitor that changes nothing costs about what parsing did.
Reading the fields instead is several times faster, and the walks here skip the nodes of
the layout (whitespace, comments, parentheses, punctuation: more than half of a tree); the
nodes come in the order a visit would give them: ``keyword=value`` gives the keyword first,
a function its decorators, then its name, parameters, annotation and body.

``nodes_of_type`` does what ``libcst.matchers.findall(node, m.Kind())`` does for a plain
node type, without importing ``libcst.matchers``: that import takes longer than libcst's
own (most of a second on a loaded machine), in every process that lints a file.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Iterator, Optional, Sequence, TypeVar

import libcst as cst

N = TypeVar("N", bound=cst.CSTNode)

# The node types whose fields are not declared in the order of the code they hold; each
# lists those fields in source order. The other fields follow, as declared.
_SOURCE_ORDER: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.Arg: ("keyword", "value"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.ExceptHandler: ("type", "name", "body"),
    cst.ExceptStarHandler: ("type", "name", "body"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Parameters: ("posonly_params", "params", "star_arg", "kwonly_params", "star_kwarg"),
    cst.TypeAlias: ("name", "type_parameters", "value"),
}
_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
# The fields that hold only layout (whitespace, comments, parentheses, punctuation): more
# than half of a tree's nodes, which no walk here asks about.
_LAYOUT_FIELDS = frozenset({
    "lpar", "rpar", "comma", "trailing_comma", "colon", "first_colon", "second_colon",
    "semicolon", "equal", "lbrace", "rbrace", "lbracket", "rbracket", "leading_lines",
    "lines_after_decorators", "header", "footer", "trailing_whitespace", "newline",
})  # fmt: skip


def _fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        first = _SOURCE_ORDER.get(kind, ())
        declared = [
            field.name
            for field in dataclasses.fields(kind)  # type: ignore[arg-type]
            if field.name not in _LAYOUT_FIELDS and not field.name.startswith("whitespace")
        ]
        names = _FIELDS[kind] = (*first, *(name for name in declared if name not in first))
    return names


class SubclassesOf(dict[type, bool]):
    """Whether a type is ``base`` or derives from it, asked of ``base`` once per type:
    libcst's node classes are abstract, and an ``isinstance`` against one runs Python code
    in ``abc`` each time, which walks and renderings would do for every node."""

    def __init__(self, base: type) -> None:
        super().__init__()
        self._base = base

    def __missing__(self, kind: type) -> bool:
        self[kind] = answer = issubclass(kind, self._base)
        return answer


IS_NODE = SubclassesOf(cst.CSTNode)
# A line of simple statements, or a compound statement.
IS_STATEMENT = SubclassesOf(cst.BaseStatement)


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The nodes directly under ``node`` that hold code, in the order of the code: not
    those of its layout (whitespace, comments, parentheses, commas and the like)."""
    found: list[cst.CSTNode] = []
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, (tuple, list)):
            found.extend([item for item in value if IS_NODE[type(item)]])
        elif IS_NODE[type(value)]:
            found.append(value)
    return found


def walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it, each before its children (as a visit goes)."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(children(current)))


def parents(node: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """The parent of every node under ``node``: what libcst's ``ParentNodeProvider``
    gives, without its visit, and in its order (a node's children are entered when the
    walk leaves it, after the nodes under them)."""
    found: dict[cst.CSTNode, cst.CSTNode] = {}
    pending: list[tuple[cst.CSTNode, Optional[list[cst.CSTNode]]]] = [(node, None)]
    while pending:
        current, below = pending.pop()
        if below is not None:  # leaving ``current``
            for child in below:
                found[child] = current
            continue
        below = children(current)
        pending.append((current, below))
        pending.extend((child, None) for child in reversed(below))
    return found


def nodes_of_type(node: cst.CSTNode, kind: type[N]) -> list[N]:
    """Every node of type ``kind`` in ``node``'s subtree, ``node`` included, in the order
    of the source."""
    return [found for found in walk(node) if isinstance(found, kind)]


def visit_fields(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads the tree: its ``visit_*`` and
    ``leave_*`` methods are called as a visit calls them (a ``visit_*`` that returns False
    skips the node's children), without the tree being rebuilt. Per-field hooks
    (``visit_Call_func``) are not called."""
    pending: list[tuple[cst.CSTNode, bool]] = [(node, False)]
    while pending:
        current, leaving = pending.pop()
        if leaving:
            visitor.on_leave(current)
            continue
        pending.append((current, True))
        if visitor.on_visit(current):
            pending.extend((child, False) for child in reversed(children(current)))


def visit_batched_fields(node: cst.CSTNode, visitors: Sequence[cst.BatchableCSTVisitor]) -> None:
    """``MetadataWrapper.visit_batched(visitors)`` for visitors that only read the tree and
    ask for no metadata: each node's ``visit_*`` hooks, then its children's, then its
    ``leave_*`` hooks, of every visitor in turn, without the tree being rebuilt."""
    hooks: dict[str, list[Callable[[cst.CSTNode], object]]] = {}
    for visitor in visitors:
        for name, hook in visitor.get_visitors().items():
            if name.count("_") > 1:
                raise TypeError(f"per-field hooks are not called here: {name}")
            hooks.setdefault(name, []).append(hook)
    visit_fields(node, _Batch(hooks))


class _Batch(cst.CSTVisitor):
    """Calls the hooks of several visitors, by the visited node's type."""

    def __init__(self, hooks: dict[str, list[Callable[[cst.CSTNode], object]]]) -> None:
        super().__init__()
        self._hooks = hooks

    def on_visit(self, node: cst.CSTNode) -> bool:
        for hook in self._hooks.get(f"visit_{type(node).__name__}", ()):
            hook(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        for hook in self._hooks.get(f"leave_{type(original_node).__name__}", ()):
            hook(original_node)
