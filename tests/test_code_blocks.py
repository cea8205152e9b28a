"""The byte gate's blocks: which method holds a place of a file, read from its lines'
indentation, with the lines inside brackets and after a backslash skipped."""

from __future__ import annotations

from typing import Optional

import pytest

from dropout_lint.prefilter.code_blocks import CodeBlocks


def method_name_at(source: bytes, text: bytes) -> Optional[bytes]:
    blocks = CodeBlocks.of(source)
    assert blocks is not None
    method = blocks.method_at(source.index(text))
    return None if method is None else method.name


def test_tabs_indent_to_the_next_multiple_of_eight() -> None:
    source = b"class A:\n    def f(self):\n\tx = 1\n  \ty = 2\n    z = 3\n"
    assert method_name_at(source, b"x = 1") == b"f"
    assert method_name_at(source, b"y = 2") == b"f"
    assert method_name_at(source, b"z = 3") is None


def test_a_form_feed_sets_the_column_back_to_zero() -> None:
    source = b"class A:\n    def f(self):\n        x = 1\n    \f    y = 2\n"
    assert method_name_at(source, b"x = 1") == b"f"
    assert method_name_at(source, b"y = 2") is None


def test_lines_inside_brackets_or_after_a_backslash_start_no_statement() -> None:
    source = b"class A:\n    def f(self):\n        x = (1,\n2)\n        w = 1 + \\\n3\n        z = 3\n"
    assert method_name_at(source, b"2)") == b"f"
    assert method_name_at(source, b"3\n") == b"f"
    assert method_name_at(source, b"z = 3") == b"f"


@pytest.mark.parametrize("source", [b"x = (1,\n", b"x = 1)\ny = (2\n", b"x = 1\n    \\  \ny = 2\n"])
def test_blocks_are_unknown_where_brackets_do_not_balance_or_a_line_is_a_backslash(source: bytes) -> None:
    assert CodeBlocks.of(source) is None
