"""Old and new text to LSP TextEdits: the conversion every quick fix and fix-all goes through."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dropout_lint.engine.source_text import split_lines
from dropout_lint.integrations.language_server.edits import (
    UTF8,
    UTF16,
    UTF32,
    Position,
    TextEdit,
    code_units,
    text_edits,
)

ENCODINGS = [UTF8, UTF16, UTF32]


def apply(text: str, edits: list[TextEdit], encoding: str) -> str:
    """``text`` with ``edits`` applied as a client applies them: positions in code units."""
    lines = split_lines(text)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: Position) -> int:
        if position.line >= len(lines):
            return len(text)
        body = lines[position.line].rstrip("\r\n")
        column = 0
        while column < len(body) and code_units(body[:column], encoding) < position.character:
            column += 1
        assert code_units(body[:column], encoding) == position.character, "a position inside a character"
        return starts[position.line] + column

    spans = [(offset(edit.start), offset(edit.end), edit.new_text) for edit in edits]
    assert spans == sorted(spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:])), "in order, not overlapping"
    for start, end, new_text in reversed(spans):
        text = text[:start] + new_text + text[end:]
    return text


def test_a_call_rewritten_is_one_edit_of_the_characters_that_differ() -> None:
    old = "        x = F.dropout(x, 0.5)\n        return x\n"
    new = "        x = self.dropout(x)\n        return x\n"
    assert text_edits(old, new) == [TextEdit(Position(0, 12), Position(0, 28), "self.dropout(x")]


def test_an_inserted_line_is_an_insertion() -> None:
    old = "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
    new = old + "        self.dropout = nn.Dropout(p=0.5)\n"
    assert text_edits(old, new) == [TextEdit(Position(3, 0), Position(3, 0), "        self.dropout = nn.Dropout(p=0.5)\n")]


def test_columns_count_the_clients_code_units() -> None:
    old = "s = '😀é'; F.dropout(x)\n"
    new = "s = '😀é'; self.dropout(x)\n"
    starts = {encoding: text_edits(old, new, encoding)[0].start.character for encoding in ENCODINGS}
    assert starts == {UTF32: 10, UTF16: 11, UTF8: 14}


def test_a_crlf_is_never_split() -> None:
    edits = text_edits("a\r\nb\r\n", "a\nb\r\n")
    assert edits == [TextEdit(Position(0, 1), Position(1, 0), "\n")]


def test_unchanged_text_needs_no_edit() -> None:
    assert text_edits("x = 1\n", "x = 1\n") == []


@pytest.mark.parametrize("encoding", ENCODINGS)
@given(
    old=st.text(alphabet="ab \r\n\t😀é#(", max_size=40),
    new=st.text(alphabet="ab \r\n\t😀é#(", max_size=40),
)
def test_applying_the_edits_gives_the_new_text(encoding: str, old: str, new: str) -> None:
    assert apply(old, text_edits(old, new, encoding), encoding) == new
