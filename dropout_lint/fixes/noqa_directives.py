"""``--add-noqa``: a ``# noqa: CODE`` comment on each line with findings, to adopt the linter
on an existing codebase and fix the findings later, as ``ruff --add-noqa`` does.

Comments are found by Python's tokenizer, so a ``#`` inside a string is never taken for one
and string contents are never touched. A line with a directive gets the new codes merged into
it (``# noqa: DRP001, DRP010``); a bare ``# noqa`` already silences everything. A line whose end
is inside a string (a multi-line string) or after a backslash cannot hold a comment: it is left
alone and reported, since a directive on any other line would not silence the finding.
"""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass
from typing import Mapping

from ..engine.noqa import NOQA_DIRECTIVE, directive_codes, read_comments
from ..engine.source_text import split_lines


@dataclass(frozen=True)
class NoqaOutcome:
    """A file with directives added: its new bytes, how many lines got one, and the lines
    that could not hold one."""

    source: bytes
    added: int
    unplaceable: tuple[int, ...]


def add_noqa(source: bytes, codes_by_line: Mapping[int, set[str]]) -> NoqaOutcome:
    """``source`` with ``# noqa: CODES`` on each line of ``codes_by_line`` (1-based)."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    text = source.decode(encoding)
    comments = read_comments(text)
    if comments is None:  # no line can be shown to hold a comment: none is touched
        return NoqaOutcome(source, 0, tuple(sorted(codes_by_line)))
    lines = split_lines(text)
    added = 0
    refused: list[int] = []
    for number, codes in sorted(codes_by_line.items()):
        if not 1 <= number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        if number in comments.string_lines or body.endswith("\\"):
            refused.append(number)
            continue
        comment = comments.by_line.get(number)
        new_body = _with_codes(body, None if comment is None else comment.column, codes)
        if new_body != body:
            lines[number - 1] = new_body + line[len(body):]
            added += 1
    return NoqaOutcome("".join(lines).encode(encoding), added, tuple(refused))


def _with_codes(body: str, comment_column: int | None, codes: set[str]) -> str:
    if comment_column is None:
        return f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    comment = body[comment_column:]
    match = NOQA_DIRECTIVE.search(comment)
    if match is None:
        return f"{body.rstrip()}  # noqa: {', '.join(sorted(codes))}"
    existing = directive_codes(match)
    if existing is None:
        return body  # a bare directive silences every code already
    missing = sorted(c for c in codes if not any(c.upper().startswith(e.upper()) for e in existing))
    if not missing:
        return body
    merged = f"# noqa: {', '.join([*existing, *missing])}"
    start = comment_column + match.start()
    return body[:start] + merged + body[comment_column + match.end():]
