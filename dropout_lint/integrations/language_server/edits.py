"""Text changes as LSP sees them: old and new text in, the fewest, smallest edits out.

Columns are counted in the client's position encoding (UTF-16 unless it asked for another),
lines split where LSP and Python split them: ``\\r\\n``, ``\\r`` and ``\\n``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...engine.source_text import split_lines
from ...fixes.text_edits import text_edits as fixes_text_edits

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"


@dataclass(frozen=True)
class Position:
    """A 0-based line and a column in code units of the client's encoding."""

    line: int
    character: int


@dataclass(frozen=True)
class TextEdit:
    """Replace the text from ``start`` to ``end`` (exclusive) by ``new_text``."""

    start: Position
    end: Position
    new_text: str


def code_units(text: str, encoding: str) -> int:
    """The length of ``text`` in the code units of ``encoding``."""
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def client_position(lines: list[str], line: int, column: int, encoding: str) -> Position:
    """The client position of 0-based ``line`` and code-point ``column`` in ``lines``."""
    if line >= len(lines):
        return Position(line, 0)
    body = lines[line].rstrip("\r\n")
    return Position(line, code_units(body[: min(column, len(body))], encoding))


def text_edits(old: str, new: str, encoding: str = UTF16) -> list[TextEdit]:
    """Edits that turn ``old`` into ``new``: the command's own text edits
    (:func:`dropout_lint.fixes.text_edits.text_edits`: one per changed run of lines, trimmed
    to whole words, never between a CR and its LF), in the client's positions."""
    lines = split_lines(old)
    return [
        TextEdit(
            client_position(lines, edit.start[0] - 1, edit.start[1] - 1, encoding),
            client_position(lines, edit.end[0] - 1, edit.end[1] - 1, encoding),
            edit.content,
        )
        for edit in fixes_text_edits(old, new)
    ]
