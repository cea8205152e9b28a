"""Text changes as LSP sees them: old and new text in, the fewest, smallest edits out.

Columns are counted in the client's position encoding (UTF-16 unless it asked for another),
lines split where LSP and Python split them: ``\\r\\n``, ``\\r`` and ``\\n``.
"""

from __future__ import annotations

import bisect
import difflib
from dataclasses import dataclass

from ...engine.source_text import split_lines

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
    """Edits that turn ``old`` into ``new``: one per changed run of lines, each trimmed to
    the characters that differ, in document order and never overlapping."""
    old_lines, new_lines = split_lines(old), split_lines(new)
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    starts = _line_starts(old_lines)
    edits = []
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        before = "".join(old_lines[old_start:old_end])
        after = "".join(new_lines[new_start:new_end])
        prefix = _common_prefix(before, after)
        suffix = _common_prefix(before[prefix:][::-1], after[prefix:][::-1])
        # LSP has no position between a \r and its \n: an edit never starts or ends there.
        if _splits_crlf(before, prefix) or _splits_crlf(after, prefix):
            prefix -= 1
        if _splits_crlf(before, len(before) - suffix) or _splits_crlf(after, len(after) - suffix):
            suffix -= 1
        start = starts[old_start] + prefix
        end = starts[old_start] + len(before) - suffix
        edits.append(
            TextEdit(
                _position(old_lines, starts, start, encoding),
                _position(old_lines, starts, end, encoding),
                after[prefix : len(after) - suffix],
            )
        )
    return edits


def _line_starts(lines: list[str]) -> list[int]:
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    return starts


def _position(lines: list[str], starts: list[int], offset: int, encoding: str) -> Position:
    """The client position of a code-point ``offset`` into the text of ``lines``."""
    line = bisect.bisect_right(starts, offset) - 1
    return client_position(lines, line, offset - starts[line], encoding)


def _splits_crlf(text: str, index: int) -> bool:
    return 0 < index < len(text) and text[index - 1 : index + 1] == "\r\n"


def _common_prefix(a: str, b: str) -> int:
    length = 0
    for x, y in zip(a, b):
        if x != y:
            break
        length += 1
    return length
