"""``# noqa`` and ``# noqa: DRP001,DRP002`` comments, with flake8's and ruff's meaning."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable, Iterator, Optional, Sequence

from .diagnostics import Diagnostic
from .source_text import split_lines

if TYPE_CHECKING:
    pass

NOQA_DIRECTIVE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def is_suppressed(diagnostic: Diagnostic, lines: Sequence[str]) -> bool:
    """Whether the reported line carries a noqa comment covering this code."""
    if not 1 <= diagnostic.line <= len(lines):
        return False
    match = NOQA_DIRECTIVE.search(lines[diagnostic.line - 1])
    if match is None:
        return False
    codes = directive_codes(match)
    if codes is None:
        return True
    return any(diagnostic.code.upper().startswith(code.upper()) for code in codes)


def directive_codes(match: re.Match[str]) -> Optional[list[str]]:
    """The codes a matched directive names, as written; None for a bare ``# noqa``."""
    codes = match.group("codes")
    return None if codes is None else _CODE.findall(codes)


def unsuppressed(diagnostics: Iterable[Diagnostic], source: str) -> Iterator[Diagnostic]:
    lines = [line.rstrip("\r\n") for line in split_lines(source)]
    return (d for d in diagnostics if not is_suppressed(d, lines))


