"""Where a node is in its module's text, rendering with positions only the statement it is in.

libcst's ``PositionProvider`` renders the whole module, recording where each node starts
and ends: several times the cost of rendering the code alone. A finding needs the
positions of a few nodes, so only the innermost statement holding each is rendered with
positions. Rendering depends on nothing but the node and the indentation it is in, and a
statement starts a line; so its top-level statement is rendered as plain code once, to
find the line each statement in it starts on and its indentation, from the line the
top-level statement starts on (:class:`~dropout_lint.fixes.node_edits.ModuleLayout`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional

import libcst as cst
from libcst._nodes.internal import CodegenState  # not exported; PositionProvider's state subclasses it
from libcst.metadata import CodeRange, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from ..fixes.node_edits import ModuleLayout
from .source_text import split_lines


class NodePositions:
    """The ranges ``PositionProvider`` gives the nodes of one module, found on first use,
    a statement at a time; a node outside every statement costs the whole module."""

    def __init__(
        self, layout: ModuleLayout, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
    ) -> None:
        self._layout = layout
        self._parent = parent
        self._provider = PositionProvider()
        self._traced: set[int] = set()  # the top-level statements whose statements are in _starts
        # Each statement of the traced top-level statements: its first line and indentation.
        self._starts: dict[cst.CSTNode, tuple[int, tuple[str, ...]]] = {}

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        ranges = self._provider._computed
        if node not in ranges:
            statement = self._statement_of(node)
            if statement is None:
                self._render(self._layout.module, 1, ())
            else:
                self._render(statement, *self._start_of(statement))
        return ranges[node]

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        """The innermost statement ``node`` is in (or is), if any."""
        current: Optional[cst.CSTNode] = node
        while current is not None and not _IS_STATEMENT[type(current)]:
            current = self._parent(current)
        return current

    def _start_of(self, statement: cst.CSTNode) -> tuple[int, tuple[str, ...]]:
        """The line ``statement`` starts on, and the indentation it is in."""
        if statement not in self._starts:
            index = self._layout.statement_holding(statement, self._parent)
            if index is None or index in self._traced:
                raise KeyError(statement)  # not a statement of the module
            self._traced.add(index)
            self._starts.update(_statement_starts(self._layout, index))
        return self._starts[statement]

    def _render(self, node: cst.CSTNode, line: int, indent: tuple[str, ...]) -> None:
        """Render ``node``, which starts at the start of ``line`` inside ``indent``,
        recording the ranges of the nodes in it."""
        module = self._layout.module
        state = PositionProvidingCodegenState(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            provider=self._provider,
            indent_tokens=list(indent),
            line=line,
        )
        node._codegen(state)


def _statement_starts(layout: ModuleLayout, index: int) -> dict[cst.CSTNode, tuple[int, tuple[str, ...]]]:
    """The first line and the indentation of each statement in the top-level statement
    at ``index``, found by rendering its code: every statement starts a line."""
    state = _StatementStartsState(
        default_indent=layout.module.default_indent, default_newline=layout.module.default_newline
    )
    layout.module.body[index]._codegen(state)
    starts = {}
    line, counted = layout.first_lines[index], 0
    for statement, (token, indent) in state.starts.items():  # in the order of the code
        line += len(split_lines("".join(state.tokens[counted:token])))
        counted = token
        starts[statement] = (line, indent)
    return starts


@dataclass(frozen=False)
class _StatementStartsState(CodegenState):
    """A rendering that notes, for each statement, how many tokens come before it and the
    indentation it is in."""

    starts: dict[cst.CSTNode, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if _IS_STATEMENT[type(node)]:
            self.starts[node] = (len(self.tokens), tuple(self.indent_tokens))


class _StatementTypes(dict[type, bool]):
    """Whether a node type is a statement's (a line of simple statements, or a compound
    statement), asked of ``BaseStatement`` once per type: an ``isinstance`` against an
    abstract class runs Python code in ``abc``, and this is asked of every node rendered."""

    def __missing__(self, kind: type) -> bool:
        self[kind] = is_statement = issubclass(kind, cst.BaseStatement)
        return is_statement


_IS_STATEMENT = _StatementTypes()
