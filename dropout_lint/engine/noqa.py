"""``# noqa`` and ``# noqa: DRP001,DRP002`` comments, with flake8's and ruff's meaning."""

from __future__ import annotations

import re
from typing import Iterable, Iterator, Sequence

from .diagnostics import Diagnostic
from .source_text import split_lines

_NOQA = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def is_suppressed(diagnostic: Diagnostic, lines: Sequence[str]) -> bool:
    """Whether the reported line carries a noqa comment covering this code."""
    if not 1 <= diagnostic.line <= len(lines):
        return False
    match = _NOQA.search(lines[diagnostic.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if codes is None:
        return True
    return any(
        diagnostic.code.upper().startswith(code.upper()) for code in _CODE.findall(codes)
    )


def unsuppressed(diagnostics: Iterable[Diagnostic], source: str) -> Iterator[Diagnostic]:
    lines = [line.rstrip("\r\n") for line in split_lines(source)]
    return (d for d in diagnostics if not is_suppressed(d, lines))


def with_noqa(line: str, code: str) -> str:
    """``line`` with ``code`` added to its ``# noqa: ...`` comment, or a new one appended.

    A bare ``# noqa`` already covers every code, so such a line is returned as it is.
    """
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    match = _NOQA.search(body)
    if match is None:
        return f"{body}  # noqa: {code}{ending}" if body.strip() else f"{body}# noqa: {code}{ending}"
    codes = match.group("codes")
    if codes is None or any(code.upper().startswith(c.upper()) for c in _CODE.findall(codes)):
        return line
    return f"{body[: match.end('codes')]}, {code}{body[match.end('codes') :]}{ending}"
