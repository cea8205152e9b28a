"""Cheap, conservative reading of a file's bytes, so that libcst parses only what may fire.

Rules use a :class:`ByteScan` in their ``may_fire`` gate. Every answer here errs on the
side of "maybe": a call is only ruled out when the bytes prove that libcst could not
resolve its callee to a torch name, or prove how its arguments bind. Anything the scan
cannot read with certainty (a string or comment in an awkward place, unbalanced
brackets, an f-string with replacement fields) counts as a call with any arguments.

How libcst resolves a callee bounds what can be ruled out: a dotted name ``a.b.dropout``
resolves through the binding of its first name ``a``, and only an import (or, at module
level, a name spelled ``torch``) can make that a torch name. So a call is a candidate when
its last name is the function's (or an import alias of it) and its first name is a word
of some import statement in the file, or is ``torch``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import cached_property, lru_cache
from itertools import chain
from typing import Iterable, Iterator, Mapping, Optional

from ..analysis.call_arguments import Parameter, bound
from .code_blocks import CodeBlocks


def held(pattern: bytes) -> bytes:
    """``pattern`` with its possessive quantifiers (``*+``, ``++``: what was read is never
    given back, so a failing match fails at once) where Python's ``re`` has them (3.11);
    before it, read as plain ``*`` and ``+``, which find the same matches in the patterns
    written so (each of their parts can end in one place only), only slower."""
    if sys.version_info >= (3, 11):
        return pattern
    return pattern.replace(b"*+", b"*").replace(b"++", b"+")


# A comment, always to the end of its line: one way to match, so no runaway backtracking.
_COMMENT = rb"#[^\r\n]*(?![^\r\n])"
# Whitespace, line continuations and comments: what may separate two tokens in brackets.
GAP = rb"(?:[ \t\f\r\n]|\\\r?\n|" + _COMMENT + rb")*"
# ASCII word characters and every non-ASCII byte (parts of Unicode identifiers).
WORD_BYTES = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
) | frozenset(range(0x80, 0x100))
_WORD = rb"[A-Za-z0-9_\x80-\xff]+"
_WORD_TAIL = rb"[A-Za-z0-9_\x80-\xff]*"
_WORD_RE = re.compile(_WORD)
_NOT_WORD = rb"(?![A-Za-z0-9_\x80-\xff])"
# ``import`` as a whole word, and what follows it: the rest of the logical line, then maybe
# a parenthesised list. What follows is read in a look-ahead, so the next search starts
# right after the keyword: an ``import`` in that text is read too. Its text is read in
# runs of plain bytes, never given back (`*+`): each part can end in one place only.
_IMPORTED = re.compile(
    held(
        rb"import(?<![A-Za-z0-9_\x80-\xff]import)" + _NOT_WORD
        + rb"(?=([^\r\n\\(;#]*+(?:\\\r?\n[^\r\n\\(;#]*+)*+)(?:\(([^)#]*+(?:" + _COMMENT + rb"[^)#]*+)*+)\))?)"
    )
)
# A name called on the spot, as ``.train(`` is: the ``(`` on the same line.
_CALLED = re.compile(rb"[ \t\f]*\(")
# An argument list with no string, comment, bracket or backslash: commas split it exactly.
_PLAIN_ARGUMENTS = re.compile(rb"\(([^()\[\]{}'\"#\\]*)\)")
# The tokens that matter when reading a call's arguments: strings, comments, brackets, commas.
_ARGUMENT_TOKEN = re.compile(
    rb"(?P<string>(?:[rRbBuUfF]{1,2})?"
    rb"(?:'''(?:[^'\\]|\\.|'(?!''))*'''"
    rb'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    rb"|'(?:[^'\\\r\n]|\\.)*'"
    rb'|"(?:[^"\\\r\n]|\\.)*"))'
    # A quote left open on its line, to the line's end: read once (every quote after it on
    # the line would read to the end again), and the call is unreadable.
    rb"|(?P<unclosed>'(?:[^'\\\r\n]|\\.)*" rb'|"(?:[^"\\\r\n]|\\.)*)'
    rb"|(?P<comment>#[^\r\n]*)"
    rb"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<comma>,)",
    re.DOTALL,
)
_KEYWORD = re.compile(GAP + rb"(" + _WORD + rb")" + GAP + rb"=(?!=)")
# GAP without comments, for `_Gaps`.
_BLANKS = re.compile(rb"(?:[ \t\f\r\n]|\\\r?\n)*")
# Where a line ends (a comment's, say).
LINE_BREAK = re.compile(rb"[\r\n]")
_AS = re.compile(rb"as" + _NOT_WORD)
_STAR = re.compile(GAP + rb"\*")
_BLANK = re.compile(GAP + rb"\Z")


@dataclass(frozen=True)
class ArgumentText:
    """One argument of a call as written: ``keyword`` (None if positional), ``star``
    (``*`` or ``**``), and the value's text with comments blanked out."""

    keyword: Optional[bytes]
    star: bool
    value: bytes


@dataclass(frozen=True)
class CallSite:
    """A call that may be of a torch function or class, as far as the bytes tell.

    ``arguments`` is None when they could not be read with certainty; ``called_again``
    says whether the call's result is called at once (``nn.Dropout(p)(x)``), None if unknown.
    """

    arguments: Optional[tuple[ArgumentText, ...]]
    called_again: Optional[bool]

    @property
    def has_unpacking(self) -> bool:
        """As :func:`dropout_lint.analysis.call_arguments.has_unpacking` says; for known arguments."""
        return any(arg.star for arg in self.arguments or ())

    def argument(self, parameter: Parameter) -> Optional[ArgumentText]:
        """The argument bound to ``parameter``, as Python binds it; for known arguments."""
        return bound(
            self.arguments or (),
            parameter,
            lambda arg: arg.keyword.decode("utf-8", "surrogateescape") if arg.keyword else None,
            lambda arg: arg.star,
        )


class _Gaps:
    """Where GAP from a position ends, in one file, each comment line read once.

    A regular expression read the rest of a comment's line from every position on it
    (`dropout#dropout#...`, a word in a comment followed by `#`: time growing with the square
    of the line's length); here the line's end, and where the gap goes on to from it, are
    remembered. Also the bytes that reading argument lists may still take (`_read_call`).
    """

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._no_line_break = (-1, -1)  # a stretch known to hold no line break, and its end
        self._after_line: dict[int, int] = {}
        # Nested calls read each other's arguments again: a few times the file in all,
        # unless many calls are left open (`f(f(f(...`), which would take the file each.
        self.argument_bytes_left = 16 * len(data) + 1_000_000

    def end(self, position: int) -> int:
        """Where GAP matched at ``position`` ends (nothing that follows GAP can start a
        byte earlier: not a blank, a backslash or a comment)."""
        data = self._data
        line_ends = []
        while True:
            position = _BLANKS.match(data, position).end()  # type: ignore[union-attr]
            if not data.startswith(b"#", position):
                break
            line_end = self._line_end(position)
            if line_end in self._after_line:
                position = self._after_line[line_end]
                break
            line_ends.append(line_end)
            position = line_end
        for line_end in line_ends:
            self._after_line[line_end] = position
        return position

    def _line_end(self, position: int) -> int:
        start, end = self._no_line_break
        if not start <= position <= end:
            found = LINE_BREAK.search(self._data, position)
            end = len(self._data) if found is None else found.start()
            self._no_line_break = (position, end)
        return end

    def call_opening(self, end: int) -> Optional[int]:
        """Where the ``(`` of a call of the callee ending at ``end`` is, after GAP, maybe
        after the ``)`` of a parenthesised callee; None if none."""
        position = self.end(end)
        while self._data.startswith(b")", position):
            position = self.end(position + 1)
        return position if self._data.startswith(b"(", position) else None

    def alias(self, end: int) -> Optional[bytes]:
        """The name a torch name ending at ``end`` is imported as (``dropout as drop``),
        if any."""
        found = _AS.match(self._data, self.end(end))
        name = found and _WORD_RE.match(self._data, self.end(found.end()))
        return name.group() if name else None


@dataclass(frozen=True)
class NameAttributeRead:
    """``name.attribute`` read in code (not in a comment or string) and not called,
    subscripted or read further on its line; its name maybe parenthesised: ``(self).train``.

    ``before`` holds the two tokens before it, nearest last, and ``after`` the one after
    it: a name or keyword, ``(``, ``,``, ``=``, or ``""`` for any other token and at either
    end of the file. Line breaks are not tokens here, so a token on the line before or
    after may stand in for a statement's end: the tokens may allow more than the code does,
    never less. ``receiver`` is the name read from (``self``; of ``f(self).train``, the
    name inside the call) and ``start`` where the attribute's name starts.
    """

    before: tuple[str, str]
    after: str
    receiver: bytes
    start: int


@dataclass(frozen=True)
class CodeText:
    """A file's bytes with every comment blanked and every string literal (its prefix too)
    turned into quotes, so that a word found in ``text`` is code; and the f-strings with
    replacement fields, whose fields are code too."""

    text: bytes
    f_strings: tuple[bytes, ...]


class ByteScan:
    """One file's bytes and what cheap scans of them say, each computed once, on demand."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._calls: dict[str, tuple[CallSite, ...]] = {}
        self._callee_positions: dict[str, tuple[tuple[int, int], ...]] = {}
        self._words_containing: dict[bytes, dict[bytes, tuple[int, ...]]] = {}

    def words_containing(self, fragment: bytes) -> Mapping[bytes, tuple[int, ...]]:
        """Every whole word that contains ``fragment``, with where each of its occurrences
        ends, in order.

        Found in one pass for all the names that share the fragment (``dropout`` for
        ``dropout2d`` and ``alpha_dropout``): looking for each name in turn would pass over
        the whole file for each, and most names are not in it. :meth:`calls_to` then finds
        a name containing the fragment here.
        """
        words = self._words_containing.get(fragment)
        if words is None:
            ends: dict[bytes, list[int]] = {}
            for match in _word_tail_after(fragment).finditer(self.data):
                start = match.start()
                while start > 0 and self.data[start - 1] in WORD_BYTES:
                    start -= 1
                ends.setdefault(self.data[start : match.end()], []).append(match.end())
            words = self._words_containing[fragment] = {word: tuple(at) for word, at in ends.items()}
        return words

    def _word_ends(self, word: bytes) -> Iterable[int]:
        """Where ``word`` ends as a whole word: read from :meth:`words_containing` when the
        words containing a part of it were found, else searched for."""
        for fragment, words in self._words_containing.items():
            if fragment in word:
                return words.get(word, ())
        return word_ends(self.data, word)

    @cached_property
    def _gaps(self) -> _Gaps:
        """What follows the file's callees, read on first use: most files the survey
        scans call no name a rule looks for."""
        return _Gaps(self.data)

    @cached_property
    def import_bound_names(self) -> frozenset[bytes]:
        """Every word in an import statement: a superset of the names imports bind."""
        statements = _IMPORTED.findall(self.data)
        return frozenset(_WORD_RE.findall(b" ".join(chain.from_iterable(statements))))

    @cached_property
    def _roots(self) -> frozenset[bytes]:
        """The first names through which a dotted name may resolve to a torch name."""
        return self.import_bound_names | {b"torch"}

    def calls_to(self, name: str) -> tuple[CallSite, ...]:
        """The calls whose callee may resolve to a torch name ending in ``name``.

        Those are calls of ``<first>. ... .name`` and of the names ``name`` is imported
        as (``dropout as drop``), whose first name is bound by an import or is ``torch``.
        """
        if name not in self._calls:
            self._calls[name] = tuple(
                _read_call(self.data, open_paren, self._gaps) for _, open_paren in self._callees(name)
            )
        return self._calls[name]

    def callee_starts(self, name: str) -> tuple[int, ...]:
        """Where the last name of each call :meth:`calls_to` finds starts, in the same order."""
        return tuple(start for start, _ in self._callees(name))

    def may_read_attribute(self, name: str) -> bool:
        """Whether some ``x.name`` may be used other than by calling it on the spot."""
        for end in word_ends(self.data, name.encode()):
            if _CALLED.match(self.data, end) is None:
                before = _previous_token_end(self.data, end - len(name))
                if before is None or (before >= 0 and self.data[before] == ord(".")):
                    return True
        return False

    def name_attribute_reads(self, attribute: str) -> Optional[tuple[NameAttributeRead, ...]]:
        """Every read of ``<name>.attribute`` in code, not in a string or comment.

        None when the file's strings cannot be told apart (an unterminated string, an
        f-string whose quotes may nest), or an f-string may read ``attribute`` in its
        fields: then a read may be anywhere. Only files whose bytes show ``.attribute``
        read get this far.
        """
        if not self.may_read_attribute(attribute):
            return ()
        code = self.code
        if code is None or any(
            ByteScan(literal).may_read_attribute(attribute) for literal in code.f_strings
        ):
            return None
        reads = []
        for end in word_ends(code.text, attribute.encode()):
            read = _name_attribute_read(code.text, end - len(attribute), end)
            if read is not None:
                reads.append(read)
        return tuple(reads)

    @cached_property
    def code(self) -> Optional[CodeText]:
        """The bytes with comments blanked and string literals quoted out (see
        :class:`CodeText`); None when the strings cannot be told apart."""
        return _code_of(self.data)

    @cached_property
    def blocks(self) -> Optional[CodeBlocks]:
        """The blocks of the file's code (:mod:`.code_blocks`), read once for the rules that
        ask; None when its strings cannot be told apart or its brackets do not balance."""
        code = self.code
        return None if code is None else CodeBlocks.of(code.text)

    def _callees(self, name: str) -> tuple[tuple[int, int], ...]:
        """Where each call that may be of ``name`` has its callee's last name and its ``(``."""
        if name not in self._callee_positions:
            self._callee_positions[name] = tuple(self._find_callees(name.encode()))
        return self._callee_positions[name]

    def _find_callees(self, name: bytes) -> Iterator[tuple[int, int]]:
        callees = [name]
        seen = {name}
        while callees:
            callee = callees.pop()
            for end in self._word_ends(callee):
                if callee is name:
                    alias = self._gaps.alias(end)
                    if alias is not None and alias not in seen:
                        seen.add(alias)
                        callees.append(alias)
                opening = self._gaps.call_opening(end)
                if opening is None:
                    continue
                root = _chain_root(self.data, end - len(callee))
                if root is None or root in self._roots:
                    yield end - len(callee), opening


@lru_cache(maxsize=None)
def _word_tail_after(fragment: bytes) -> re.Pattern[bytes]:
    """``fragment`` and the rest of the word it is in: searched from the fragment, a
    literal, which is fast (a search from the word's start would try every byte)."""
    return re.compile(re.escape(fragment) + _WORD_TAIL)


def word_ends(data: bytes, word: bytes) -> Iterator[int]:
    """Where each occurrence of ``word`` as a whole word (not part of a longer one) ends."""
    start = data.find(word)
    while start != -1:
        end = start + len(word)
        if (start == 0 or data[start - 1] not in WORD_BYTES) and (
            end == len(data) or data[end] not in WORD_BYTES
        ):
            yield end
        start = data.find(word, end)


def _chain_root(data: bytes, name_start: int) -> Optional[bytes]:
    """The first name of the dotted name that ends with the name at ``name_start``.

    ``torch`` for ``torch.nn.functional.dropout``, ``dropout`` for a bare ``dropout``.
    None when the chain starts with something else (a call, a subscript, a string) or
    crosses a line that may hold a comment: then anything may be its root.
    """
    start = name_start
    while True:
        before = _previous_token_end(data, start)
        if before is None:
            return None
        if before < 0 or data[before] != ord("."):
            return _WORD_RE.match(data, start).group()
        before = _previous_token_end(data, before)
        if before is None or before < 0 or data[before] not in WORD_BYTES:
            return None
        while before >= 0 and data[before] in WORD_BYTES:
            before -= 1
        start = before + 1


def token_before_chain(data: bytes, name_start: int) -> tuple[Optional[bytes], int]:
    """The token before the dotted name that ends with the name at ``name_start``, and its
    start; a word, one byte of punctuation, ``b""`` at the start of the file, or None
    when unreadable."""
    start = name_start
    while True:
        before = _previous_token_end(data, start)
        if before is None or before < 0:
            return (None, -1) if before is None else (b"", 0)
        if data[before] != ord("."):
            if data[before] not in WORD_BYTES:
                return data[before : before + 1], before
            word_start = before
            while word_start > 0 and data[word_start - 1] in WORD_BYTES:
                word_start -= 1
            return data[word_start : before + 1], word_start
        before = _previous_token_end(data, before)
        if before is None or before < 0 or data[before] not in WORD_BYTES:
            return None, -1
        while before >= 0 and data[before] in WORD_BYTES:
            before -= 1
        start = before + 1


def _previous_token_end(data: bytes, position: int) -> Optional[int]:
    """The index of the last byte before ``position`` that is not blank, -1 at the start.

    None when blanks span a line break and the line before has a ``#`` (maybe a comment,
    whose text must not be read as code).
    """
    index = position - 1
    while index >= 0:
        byte = data[index]
        if byte in b" \t\f":
            index -= 1
        elif byte in b"\r\n":
            if data.find(b"#", _line_start(data, index), index) != -1:
                return None
            index -= 1
        elif byte == ord("\\") and data[index + 1 : index + 2] in (b"\n", b"\r"):
            index -= 1
        else:
            return index
    return -1


def _line_start(data: bytes, index: int) -> int:
    """Where the line holding ``index`` starts; read back a stretch twice as long each time,
    so that the time is the line's length (looking back for `\\r` in a file of `\\n` line
    breaks alone read to the file's start each time)."""
    stretch = 256
    while True:
        start = max(0, index - stretch)
        line_break = max(data.rfind(b"\n", start, index), data.rfind(b"\r", start, index))
        if line_break != -1 or start == 0:
            return line_break + 1
        stretch *= 2


def _read_call(data: bytes, open_paren: int, gaps: _Gaps) -> CallSite:
    """The arguments of the call whose ``(`` is at ``open_paren``, if they can be read (and
    ``gaps`` has bytes left for them)."""
    plain = _PLAIN_ARGUMENTS.match(data, open_paren)
    if plain is not None:
        commas = [open_paren + 1 + i for i, byte in enumerate(plain.group(1)) if byte == ord(",")]
        called_again = gaps.call_opening(plain.end()) is not None
        return CallSite(_arguments(data, [open_paren, *commas, plain.end() - 1], []), called_again)
    depth = 0
    separators = [open_paren]
    comments: list[tuple[int, int]] = []
    for token in _ARGUMENT_TOKEN.finditer(data, open_paren):
        if token.end() - open_paren > gaps.argument_bytes_left:
            gaps.argument_bytes_left = 0
            return CallSite(None, None)
        kind = token.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                separators.append(token.start())
                gaps.argument_bytes_left -= token.end() - open_paren
                called_again = gaps.call_opening(token.end()) is not None
                return CallSite(_arguments(data, separators, comments), called_again)
        elif kind == "comma" and depth == 1:
            separators.append(token.start())
        elif kind == "comment":
            comments.append(token.span())
        elif kind == "unclosed" or kind == "string" and _is_f_string_with_fields(token.group()):
            # A quote left open (in a string or a comment, or a syntax error), or an
            # f-string whose fields may hold quotes of its own kind (Python 3.12).
            gaps.argument_bytes_left -= token.end() - open_paren
            return CallSite(None, None)
    gaps.argument_bytes_left -= len(data) - open_paren
    return CallSite(None, None)


def _is_f_string_with_fields(literal: bytes) -> bool:
    prefix = literal[: len(literal) - len(literal.lstrip(b"rRbBuUfF"))]
    return b"f" in prefix.lower() and b"{" in literal


def _arguments(
    data: bytes, separators: list[int], comments: list[tuple[int, int]]
) -> tuple[ArgumentText, ...]:
    """The arguments between the separators (``(``, each top-level ``,``, ``)``)."""
    text = bytearray(data[separators[0] : separators[-1] + 1])
    for start, end in comments:
        text[start - separators[0] : end - separators[0]] = b" " * (end - start)
    arguments = []
    for start, end in zip(separators, separators[1:]):
        segment = bytes(text[start - separators[0] + 1 : end - separators[0]])
        if _BLANK.match(segment):
            continue  # after a trailing comma, or an empty call
        keyword = _KEYWORD.match(segment)
        if keyword is not None:
            arguments.append(ArgumentText(keyword.group(1), False, segment[keyword.end() :]))
        else:
            arguments.append(ArgumentText(None, _STAR.match(segment) is not None, segment))
    return tuple(arguments)


# A string literal from its opening quote, whole (one of the four quotings), or else the
# quote alone: one that starts no complete string. A literal's text is read in runs of
# plain bytes, which `re` steps through fast, and never given back (`*+`): a body can end
# only where a closing quote may follow, so backtracking finds no other end.
_STRING = re.compile(
    held(
        rb"'''[^'\\]*+(?:(?:\\(?:\r\n|.)|'(?!''))[^'\\]*+)*+'''"
        rb'|"""[^"\\]*+(?:(?:\\(?:\r\n|.)|"(?!""))[^"\\]*+)*+"""'
        rb"|'[^'\\\r\n]*+(?:\\(?:\r\n|.)[^'\\\r\n]*+)*+'"
        rb'|"[^"\\\r\n]*+(?:\\(?:\r\n|.)[^"\\\r\n]*+)*+"'
        rb"|['\"]"
    ),
    re.DOTALL,
)
# A comment, to its line's end.
_COMMENT_TEXT = re.compile(rb"#[^\r\n]*")
_STRING_PREFIX_BYTES = frozenset(b"rRbBuUfF")
_BRACE = re.compile(rb"[{}]")
_OPEN_BRACE = ord("{")
# The operators that end in `=` but are not an assignment's or a keyword argument's `=`.
_OPERATOR_BYTES = frozenset(b"=!<>:+-*/%&|^@")
_BLANK_BYTES = frozenset(b" \t\f\r\n")
# Blanks and line continuations: what may separate two tokens on one logical line.
_LINE_GAP = re.compile(rb"(?:[ \t\f]|\\\r?\n|\\\r)*")


def _code_of(data: bytes) -> Optional[CodeText]:
    """:class:`CodeText` for ``data``; None if a quote starts no complete string, or an
    f-string's replacement field is still open at its closing quote (Python 3.12 lets the
    field hold that quote, so the literal may go on)."""
    code = bytearray(data)
    f_strings: list[bytes] = []
    # Where the next `#`, `'` and `"` are, each found again by `bytes.find` once passed:
    # it steps over code much faster than a search for any of the three.
    comment, single, double = (_next(data, byte, 0) for byte in (b"#", b"'", b'"'))
    while True:
        start = min(comment, single, double)
        if start == len(data):
            return CodeText(bytes(code), tuple(f_strings))
        if start == comment:
            end = _COMMENT_TEXT.match(data, start).end()
            code[start:end] = b" " * (end - start)
        else:
            end = _quote_out(data, start, code, f_strings)
            if end is None:
                return None
        if comment < end:
            comment = _next(data, b"#", end)
        if single < end:
            single = _next(data, b"'", end)
        if double < end:
            double = _next(data, b'"', end)


def _next(data: bytes, byte: bytes, position: int) -> int:
    """Where ``byte`` is next from ``position`` on; the length of ``data`` if nowhere."""
    found = data.find(byte, position)
    return found if found >= 0 else len(data)


def _quote_out(data: bytes, quote: int, code: bytearray, f_strings: list[bytes]) -> Optional[int]:
    """Turn the string literal whose opening quote is at ``quote`` into quotes in ``code``,
    its prefix too, and keep it in ``f_strings`` if it is an f-string with fields; where it
    ends, or None if it cannot be read (see :func:`_code_of`)."""
    literal = _STRING.match(data, quote)
    start, end = quote, literal.end()
    if end - start == 1:  # a quote alone (a string is two at least)
        return None
    if start and data[start - 1] in WORD_BYTES:  # maybe a prefix: `rb"..."`, `f"..."`
        start = _prefix_start(data, start)
        if b"f" in data[start:quote].lower() and b"{" in literal.group():
            if _has_open_field(literal.group()):
                return None
            f_strings.append(data[start:end])
    code[start:end] = b"'" * (end - start)
    return end


def _prefix_start(data: bytes, quote: int) -> int:
    """Where the prefix (``rb``, ``f``) of the string literal whose quote is at ``quote``
    starts: the word before the quote, if it is one; else the quote itself."""
    start = quote
    while start > 0 and data[start - 1] in WORD_BYTES:
        start -= 1
    if quote - start > 2 or not set(data[start:quote]) <= _STRING_PREFIX_BYTES:
        return quote
    return start


def _has_open_field(literal: bytes) -> bool:
    """Whether an f-string's replacement field is open at its last quote: read brace by
    brace, where ``{{`` and ``}}`` outside a field are a brace of the text."""
    depth = 0
    escaped = -1  # the second brace of such a pair
    for brace in _BRACE.finditer(literal):
        index = brace.start()
        if index == escaped:
            continue
        byte = literal[index]
        if depth == 0 and literal[index + 1 : index + 2] == bytes((byte,)):
            escaped = index + 1
        elif byte == _OPEN_BRACE:
            depth += 1
        elif depth:
            depth -= 1
    return depth > 0


def _name_attribute_read(code: bytes, start: int, end: int) -> Optional[NameAttributeRead]:
    """The read of the attribute at ``start:end`` of ``code`` (see :class:`CodeText`), if it is
    one: after ``<name>.``, and not followed on its line by a call, subscript or attribute."""
    following = _next_on_line(code, end)
    if following < len(code) and code[following] in b"([.":
        return None
    dot = previous_code_byte(code, start)
    if dot < 0 or code[dot] != ord("."):
        return None
    receiver = _parenthesised_name(code, dot)
    if receiver is None:
        return None
    receiver_start, name = receiver
    previous, previous_start = _token_before(code, receiver_start)
    keyword, _ = _token_before(code, previous_start) if previous == "=" else ("", 0)
    following_word = _WORD_RE.match(code, _next_code_byte(code, end))
    after = following_word.group().decode("utf-8", "replace") if following_word else ""
    return NameAttributeRead((keyword, previous), after, name, start)


def _parenthesised_name(code: bytes, dot: int) -> Optional[tuple[int, bytes]]:
    """Where the name before the ``.`` at ``dot`` starts, with its parentheses, and the name,
    if it is a name: ``self`` or ``((self))``. None for anything else (``a.b``, ``x[0]``, a
    string).

    ``f(self)`` counts as a parenthesised name: a caller judging by what comes before it
    judges rightly both ways, as a call is never a name.
    """
    index = previous_code_byte(code, dot)
    closing = 0
    while index >= 0 and code[index] == ord(")"):
        closing += 1
        index = previous_code_byte(code, index)
    if index < 0 or code[index] not in WORD_BYTES:
        return None
    end = index + 1
    while index > 0 and code[index - 1] in WORD_BYTES:
        index -= 1
    start = index
    for _ in range(closing):
        start = previous_code_byte(code, start)
        if start < 0 or code[start] != ord("("):
            return None
    if closing == 0:
        before = previous_code_byte(code, start)
        if before >= 0 and code[before] == ord("."):
            return None
    return start, code[index:end]


def _token_before(code: bytes, position: int) -> tuple[str, int]:
    """The token that ends before ``position`` as :class:`NameAttributeRead` names it, and
    where it starts."""
    index = previous_code_byte(code, position)
    if index < 0:
        return "", 0
    byte = code[index]
    if byte in WORD_BYTES:
        start = index
        while start > 0 and code[start - 1] in WORD_BYTES:
            start -= 1
        return code[start : index + 1].decode("utf-8", "replace"), start
    if byte in b"(," or (byte == ord("=") and (index == 0 or code[index - 1] not in _OPERATOR_BYTES)):
        return chr(byte), index
    return "", index


def previous_code_byte(code: bytes, position: int) -> int:
    """The index of the last byte before ``position`` that is no blank, line break or line
    continuation; -1 at the start."""
    index = position - 1
    while index >= 0 and (
        code[index] in _BLANK_BYTES
        or (code[index] == ord("\\") and code[index + 1 : index + 2] in (b"\n", b"\r"))
    ):
        index -= 1
    return index


def _next_code_byte(code: bytes, position: int) -> int:
    """The index of the first byte from ``position`` on that is no blank, line break or
    line continuation; the length of ``code`` at the end."""
    index = position
    while index < len(code) and (
        code[index] in _BLANK_BYTES
        or (code[index] == ord("\\") and code[index + 1 : index + 2] in (b"\n", b"\r"))
    ):
        index += 1
    return index


def _next_on_line(code: bytes, position: int) -> int:
    """The index of the first byte from ``position`` on that is no blank, on the same
    logical line (line continuations are followed)."""
    return _LINE_GAP.match(code, position).end()
