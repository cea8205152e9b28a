"""A file's text as Python reads it: decoded by its BOM or coding cookie, split into lines
only where Python ends a line (``\\r\\n``, ``\\r``, ``\\n``; never at a form feed)."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from itertools import accumulate
from typing import Union

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not on form feeds)."""
    return _LINE.findall(text)


def line_starts(text: str) -> list[int]:
    """The offset in ``text`` of each line's start (line ``n`` at index ``n - 1``), then of
    the text's end."""
    return [0, *accumulate(len(line) for line in split_lines(text))]


def first_line(statement: ast.stmt) -> int:
    """The line a statement starts on, its decorators included."""
    decorators = getattr(statement, "decorator_list", ())
    return min([statement.lineno, *(decorator.lineno for decorator in decorators)])


def decoded(source: Union[str, bytes]) -> str:
    """The source as text, decoded as Python decodes it; text is returned as it is.

    Raises what decoding raises (``SyntaxError`` for a bad cookie, ``UnicodeDecodeError``,
    ``LookupError``) for bytes Python would not read.
    """
    if isinstance(source, str):
        return source
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    return source.decode(encoding)
