"""Where a node is in its module's text, rendering with positions only the statement it is in.

libcst's ``PositionProvider`` renders the whole module, recording where each node starts
and ends: several times the cost of rendering the code alone. A finding needs the
positions of a few nodes, so only the innermost statement holding each is rendered with
positions. Rendering depends on nothing but the node and the indentation it is in, and a
statement starts a line: the module's layout, rendered as plain code for the fixes, says
on which line each statement starts and in which indentation
(:meth:`~dropout_lint.fixes.node_edits.ModuleLayout.start_of`).
"""

from __future__ import annotations

from typing import Callable, Optional

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from ..analysis.node_search import IS_STATEMENT
from ..fixes.node_edits import ModuleLayout


class NodePositions:
    """The ranges ``PositionProvider`` gives the nodes of one module, found on first use,
    a statement at a time; a node outside every statement costs the whole module."""

    def __init__(
        self, layout: ModuleLayout, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
    ) -> None:
        self._layout = layout
        self._parent = parent
        self._provider = PositionProvider()

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        ranges = self._provider._computed
        if node not in ranges:
            statement = self._statement_of(node)
            if statement is None:
                self._render(self._layout.module, 1, ())
            else:
                self._render(statement, *self._layout.start_of(statement, self._parent))
        return ranges[node]

    def _statement_of(self, node: cst.CSTNode) -> Optional[cst.BaseStatement]:
        """The innermost statement ``node`` is in (or is), if any."""
        current: Optional[cst.CSTNode] = node
        while current is not None and not IS_STATEMENT[type(current)]:
            current = self._parent(current)
        return current

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
