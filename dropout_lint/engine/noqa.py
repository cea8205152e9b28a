"""``# noqa`` and ``# noqa: DRP001,DRP002`` comments, with flake8's and ruff's meaning.

One reader serves the engine (which findings a directive silences), DRP100 (which
directives silence nothing) and ``--add-noqa`` (where a directive can go): comments are
found by Python's tokenizer, so ``"# noqa"`` inside a string is never taken for one.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional

from .diagnostics import Diagnostic
from .source_text import split_lines

NOQA_DIRECTIVE = re.compile(
    r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE
)
_CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


@dataclass(frozen=True)
class Comment:
    """A comment token: where it starts (0-based column) and its text."""

    column: int
    text: str


@dataclass(frozen=True)
class Comments:
    """The comments of a source by line, and the lines whose end falls inside a string
    (all but the last line of a multi-line string), where no comment can go."""

    by_line: dict[int, Comment]
    string_lines: frozenset[int]


def read_comments(text: str) -> Optional[Comments]:
    """The comments of ``text``, or None when Python's tokenizer cannot read it."""
    by_line: dict[int, Comment] = {}
    string_lines: set[int] = set()
    open_fstrings: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            kind = tokenize.tok_name[token.type]
            if kind == "COMMENT":
                by_line[token.start[0]] = Comment(token.start[1], token.string)
            elif kind == "STRING":
                string_lines.update(range(token.start[0], token.end[0]))
            elif kind == "FSTRING_START":  # Python 3.12+: f-strings are split into tokens
                open_fstrings.append(token.start[0])
            elif kind == "FSTRING_END" and open_fstrings:
                string_lines.update(range(open_fstrings.pop(), token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        return None
    return Comments(by_line, frozenset(string_lines))


def directive_codes(match: re.Match[str]) -> Optional[list[str]]:
    """The codes a matched directive names, as written; None for a bare ``# noqa``."""
    codes = match.group("codes")
    return None if codes is None else _CODE.findall(codes)


def silences(match: re.Match[str], code: str) -> bool:
    """Whether the matched directive silences ``code`` (a bare one silences every code;
    a listed code silences the codes it prefixes)."""
    codes = directive_codes(match)
    return codes is None or any(code.upper().startswith(listed.upper()) for listed in codes)


def unsuppressed(diagnostics: Iterable[Diagnostic], source: str) -> Iterator[Diagnostic]:
    """The findings no ``# noqa`` comment on their line silences.

    The tokenizer runs only when a reported line has something that looks like a directive;
    a source it cannot read falls back to reading each line as text, as flake8 does.
    """
    diagnostics = list(diagnostics)
    lines = [line.rstrip("\r\n") for line in split_lines(source)]
    candidates = {
        d.line for d in diagnostics if 1 <= d.line <= len(lines) and "noqa" in lines[d.line - 1].lower()
    }
    if not candidates:
        return iter(diagnostics)
    comments = read_comments(source)
    directives: dict[int, Optional[re.Match[str]]] = {}
    for line in candidates:
        if comments is None:
            directives[line] = NOQA_DIRECTIVE.search(lines[line - 1])
        else:
            comment = comments.by_line.get(line)
            directives[line] = None if comment is None else NOQA_DIRECTIVE.search(comment.text)
    return (
        d for d in diagnostics if (match := directives.get(d.line)) is None or not silences(match, d.code)
    )
