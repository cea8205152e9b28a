"""Edits to a libcst tree, recorded by node and applied in one traversal.

Rules describe a fix as replacements of nodes and statements inserted into blocks;
:class:`ModuleLayout` turns them into the text edits a finding carries, rendering only the
top-level statements they change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

import libcst as cst
from libcst._nodes.internal import CodegenState  # not exported; PositionProvider's state subclasses it

from ..analysis.node_search import IS_STATEMENT
from ..engine.diagnostics import Edit
from ..engine.source_text import split_lines
from .text_edits import text_edits


class NodeEdits:
    """The node replacements and statement insertions that make one fix."""

    def __init__(self) -> None:
        self.replacements: dict[cst.CSTNode, cst.CSTNode] = {}
        self.insertions: dict[cst.IndentedBlock, list[tuple[int, cst.BaseStatement]]] = {}
        self.module_insertions: list[tuple[int, cst.BaseStatement]] = []

    def replace(self, old: cst.CSTNode, new: cst.CSTNode) -> None:
        self.replacements[old] = new

    def insert(self, block: cst.IndentedBlock, index: int, statement: cst.BaseStatement) -> None:
        self.insertions.setdefault(block, []).append((index, statement))

    def insert_in_module(self, index: int, statement: cst.BaseStatement) -> None:
        self.module_insertions.append((index, statement))

    def __bool__(self) -> bool:
        return bool(self.replacements or self.insertions or self.module_insertions)

    def apply(self, module: cst.Module) -> cst.Module:
        if not self:
            return module
        return module.visit(_EditApplier(self))


class _EditApplier(cst.CSTTransformer):
    """Makes ``edits``; given ``entered``, the nodes holding an edit, it leaves every other
    subtree as it is instead of rebuilding it (a visit rebuilds each node it enters)."""

    def __init__(self, edits: NodeEdits, entered: Optional[set[cst.CSTNode]] = None) -> None:
        super().__init__()
        self.edits = edits
        self.entered = entered

    def on_visit(self, node: cst.CSTNode) -> bool:
        return self.entered is None or node in self.entered

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode):  # type: ignore[override]
        if original_node in self.edits.replacements:
            return self.edits.replacements[original_node]
        if isinstance(updated_node, cst.IndentedBlock) and original_node in self.edits.insertions:
            return updated_node.with_changes(
                body=_inserted(updated_node.body, self.edits.insertions[original_node])
            )
        if isinstance(updated_node, cst.Module) and self.edits.module_insertions:
            return updated_node.with_changes(
                body=_inserted(updated_node.body, self.edits.module_insertions)
            )
        return updated_node


def _inserted(
    body: Sequence[cst.BaseStatement], insertions: list[tuple[int, cst.BaseStatement]]
) -> list[cst.BaseStatement]:
    """``body`` with each statement inserted before the original statement at its index.

    Statements inserted at the same index keep the order they were recorded in.
    """
    result: list[cst.BaseStatement] = []
    for index in range(len(body) + 1):
        result.extend(statement for at, statement in insertions if at == index)
        if index < len(body):
            result.append(body[index])
    return result


def rendered(module: cst.Module, edits: NodeEdits) -> str:
    """The module's code with ``edits`` made: the whole text, for checking."""
    return edits.apply(module).code


class ModuleLayout:
    """Each top-level statement's code and the line it starts on in the module's text, so
    that a fix renders only the statements it changes (a module's code is its header
    lines, then its statements' code, then its footer); and, asked of a statement at any
    depth, the line it starts on and the indentation it is in, so that positions are
    rendered for that statement alone (``engine/positions.py``)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self._renderings = [_render(module, statement) for statement in module.body]
        self.codes = ["".join(rendering.tokens) for rendering in self._renderings]
        self.first_lines = [1 + len(module.header)]
        for code in self.codes:
            self.first_lines.append(self.first_lines[-1] + len(split_lines(code)))
        self._index = {id(statement): index for index, statement in enumerate(module.body)}
        self._starts: dict[cst.CSTNode, tuple[int, tuple[str, ...]]] = {}

    def start_of(
        self, statement: cst.BaseStatement, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
    ) -> tuple[int, tuple[str, ...]]:
        """The line ``statement``, at any depth, starts on, and the indentation it is in;
        found for all the statements of its top-level statement on first use."""
        if statement not in self._starts:
            index = self.statement_holding(statement, parent)
            if index is None:
                raise KeyError(statement)  # not in the module
            self._starts.update(self._renderings[index].starts_from(self.first_lines[index]))
        return self._starts[statement]

    def text_edits(
        self, edits: NodeEdits, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
    ) -> tuple[Edit, ...]:
        """The text edits that make ``edits``: the changed statements rendered again and
        compared with their code, and the statements inserted at the top level."""
        touched = {self._top_level(node, parent) for node in (*edits.replacements, *edits.insertions)}
        inner = NodeEdits()
        inner.replacements, inner.insertions = edits.replacements, edits.insertions
        applier = _EditApplier(inner, _holding(edits, parent))
        found: list[Edit] = []
        for index in sorted(touched):
            after = self.module.code_for_node(self.module.body[index].visit(applier))
            shift = self.first_lines[index] - 1
            found.extend(
                Edit((e.start[0] + shift, e.start[1]), (e.end[0] + shift, e.end[1]), e.content)
                for e in text_edits(self.codes[index], after)
            )
        for index, statement in edits.module_insertions:
            line = self.first_lines[index]
            found.append(Edit((line, 1), (line, 1), self.module.code_for_node(statement)))
        return tuple(sorted(found, key=lambda edit: (edit.start, edit.end)))

    def statement_holding(
        self, node: cst.CSTNode, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
    ) -> Optional[int]:
        """The index of the top-level statement ``node`` is in (or is); None for a node
        outside every statement (the module, its header and footer lines)."""
        current: Optional[cst.CSTNode] = node
        while current is not None and id(current) not in self._index:
            current = parent(current)
        return None if current is None else self._index[id(current)]

    def _top_level(self, node: cst.CSTNode, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]) -> int:
        index = self.statement_holding(node, parent)
        if index is None:
            raise ValueError(f"{type(node).__name__} is not in the module")
        return index


def _holding(
    edits: NodeEdits, parent: Callable[[cst.CSTNode], Optional[cst.CSTNode]]
) -> set[cst.CSTNode]:
    """The nodes an edit is in: those above each replaced node, and each block that
    statements go into with those above it."""
    found: set[cst.CSTNode] = set()
    for start in [*map(parent, edits.replacements), *edits.insertions]:
        current = start
        while current is not None and current not in found:
            found.add(current)
            current = parent(current)
    return found


def _render(module: cst.Module, statement: cst.BaseStatement) -> _StatementStarts:
    """``statement`` rendered as ``module.code_for_node`` renders it, noting where the
    statements in it start."""
    rendering = _StatementStarts(default_indent=module.default_indent, default_newline=module.default_newline)
    statement._codegen(rendering)
    return rendering


@dataclass(frozen=False)
class _StatementStarts(CodegenState):
    """A rendering that notes, for each statement in it, how many tokens come before it
    and the indentation it is in: a statement always starts a line."""

    starts: dict[cst.CSTNode, tuple[int, tuple[str, ...]]] = field(default_factory=dict)

    def before_codegen(self, node: cst.CSTNode) -> None:
        if IS_STATEMENT[type(node)]:
            self.starts[node] = (len(self.tokens), tuple(self.indent_tokens))

    def starts_from(self, line: int) -> dict[cst.CSTNode, tuple[int, tuple[str, ...]]]:
        """The line each statement starts on, and its indentation, the rendering
        starting at ``line``."""
        found = {}
        counted = 0
        for statement, (token, indent) in self.starts.items():  # in the order of the code
            line += len(split_lines("".join(self.tokens[counted:token])))
            counted = token
            found[statement] = (line, indent)
        return found
