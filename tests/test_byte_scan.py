"""The byte scan's shared pass: the words containing a fragment, found once for several
names, give each name the calls that searching for it alone gives."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_lint.prefilter.byte_scan import GAP, ByteScan, _Gaps

SOURCE = b"""\
import torch.nn.functional as F
from torch.nn.functional import alpha_dropout as ad, dropout2d
x = F.dropout(x, 0.5) + self.attention_dropout(x)  # F.dropout(x)
y = ad(x, 0.1) + F.feature_alpha_dropout(y) + dropout2d(y) + dropout_(y)
\xc3\xa9dropout(y) + F.dropout
"""


def whole_word_ends(word: bytes) -> tuple[int, ...]:
    around = rb"(?<![A-Za-z0-9_\x80-\xff])" + word + rb"(?![A-Za-z0-9_\x80-\xff])"
    return tuple(match.end() for match in re.finditer(around, SOURCE))


def test_words_containing_finds_every_whole_word_with_the_fragment_and_its_ends() -> None:
    words = ByteScan(SOURCE).words_containing(b"dropout")
    assert set(words) == {
        b"alpha_dropout",
        b"dropout2d",
        b"dropout",
        b"attention_dropout",
        b"feature_alpha_dropout",
        b"dropout_",
        b"\xc3\xa9dropout",
    }
    assert {word: whole_word_ends(word) for word in words} == words
    assert len(words[b"dropout"]) == 3  # in the code, in the comment, at the end


@pytest.mark.parametrize(
    "name", ["dropout", "alpha_dropout", "dropout2d", "feature_alpha_dropout", "dropout_", "dropout1d"]
)
def test_calls_found_from_the_shared_pass_are_those_found_alone(name: str) -> None:
    alone = ByteScan(SOURCE).calls_to(name)
    shared = ByteScan(SOURCE)
    shared.words_containing(b"dropout")
    shared.words_containing(b"Dropout")
    assert shared.calls_to(name) == alone
    # `dropout_` is called, but no import binds it; `dropout1d` is not there
    assert bool(alone) == (name not in ("dropout_", "dropout1d"))


@pytest.mark.parametrize(
    ("source", "text"),
    [
        (b"x = 1  # drop 'it'\ny = 2\r\n", b"x = 1             \ny = 2\r\n"),
        (b"a = rb'x' + 'it\\'s' + \"q\\\"\"\n", b"a = ''''' + ''''''' + '''''\n"),
        (b'"""one "two" \'\'\'\n"""\nx', b"'" * 20 + b"\nx"),
        (b"s = '''a'' b'''\n", b"s = " + b"'" * 11 + b"\n"),
        (b"s = 'a\\\r\nb'\n", b"s = " + b"'" * 7 + b"\n"),
        (b"ab'x'", b"ab'''"),
    ],
)
def test_code_blanks_comments_and_quotes_out_strings_with_their_prefix(source: bytes, text: bytes) -> None:
    code = ByteScan(source).code
    assert code is not None and code.text == text and len(text) == len(source)


@pytest.mark.parametrize(
    "source",
    [
        b"x = 'open\ny = 1\n",
        b'x = """never closed\n',
        b"s = '''a''''\n",
        b"x = f'{a[\"k\"]'\n",
        b"x = f'{{}}{'\n",
    ],
)
def test_code_is_unknown_where_a_string_may_go_on(source: bytes) -> None:
    assert ByteScan(source).code is None


def test_code_keeps_the_f_strings_with_fields_whole() -> None:
    code = ByteScan(b"x = f'{a}' + f'{{b}}' + rf\"{c}}}\" + 'd{e}'\n").code
    assert code is not None
    assert code.f_strings == (b"f'{a}'", b"f'{{b}}'", b'rf"{c}}}"')
    assert code.text == b"x = '''''' + '''''''' + ''''''''' + ''''''\n"


def test_import_bound_names_are_the_words_after_each_import_keyword() -> None:
    source = b"""\
import torch.nn.functional as F, \\
    numpy
from torch.nn import (  # the layers
    Dropout as Drop,
)
x = 1; from m import a; b = 2
# reimport c, import_d e
"""
    assert ByteScan(source).import_bound_names == {
        b"torch", b"nn", b"functional", b"as", b"F", b"numpy",
        b"the", b"layers", b"Dropout", b"Drop", b"a",
    }


# What may follow a callee, as regular expressions: what `_Gaps` must answer.
CALL_OPENING = re.compile(GAP + rb"(?:\)" + GAP + rb")*\(")
ALIAS = re.compile(GAP + rb"as(?![A-Za-z0-9_\x80-\xff])" + GAP + rb"([A-Za-z0-9_\x80-\xff]+)")
GAP_PIECES = [b" ", b"\t", b"\n", b"\r", b"\r\n", b"\\\n", b"\\\r\n", b"\\", b"#", b"#c", b"(", b")", b"as", b"a", b"x", b"\x0c"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(GAP_PIECES), max_size=16).map(b"".join), st.randoms(use_true_random=False))
def test_gaps_answer_as_the_regular_expressions(data, random):
    """Each comment line read once, in any order of positions: the same answers."""
    positions = list(range(len(data) + 1)) * 2
    random.shuffle(positions)
    gaps = _Gaps(data)
    for position in positions:
        opening = CALL_OPENING.match(data, position)
        assert gaps.call_opening(position) == (opening and opening.end() - 1), position
        alias = ALIAS.match(data, position)
        assert gaps.alias(position) == (alias and alias.group(1)), position
