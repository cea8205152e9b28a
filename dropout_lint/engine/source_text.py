"""A file's text as Python reads it: decoded by its BOM or coding cookie, split into lines
only where Python ends a line (``\\r\\n``, ``\\r``, ``\\n``; never at a form feed)."""

from __future__ import annotations

import io
import re
import tokenize
from typing import Union

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split where Python splits them (not on form feeds)."""
    return _LINE.findall(text)


def decoded(source: Union[str, bytes]) -> str:
    """The source as text, decoded as Python decodes it; text is returned as it is.

    Raises what decoding raises (``SyntaxError`` for a bad cookie, ``UnicodeDecodeError``,
    ``LookupError``) for bytes Python would not read.
    """
    if isinstance(source, str):
        return source
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    return source.decode(encoding)
