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

import io
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property
from typing import Iterator, Optional

from ..analysis.call_arguments import Parameter, bound

# A comment, always to the end of its line: one way to match, so no runaway backtracking.
_COMMENT = rb"#[^\r\n]*(?![^\r\n])"
# Whitespace, line continuations and comments: what may separate two tokens in brackets.
GAP = rb"(?:[ \t\f\r\n]|\\\r?\n|" + _COMMENT + rb")*"
# ASCII word characters and every non-ASCII byte (parts of Unicode identifiers).
_WORD_BYTES = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"
) | frozenset(range(0x80, 0x100))
_WORD = rb"[A-Za-z0-9_\x80-\xff]+"
_WORD_RE = re.compile(_WORD)
_NOT_WORD = rb"(?![A-Za-z0-9_\x80-\xff])"
# What follows ``import``: the rest of the logical line, then maybe a parenthesised list.
_IMPORTED = re.compile(
    rb"((?:[^\r\n\\(;#]|\\\r?\n)*)(?:\(((?:[^)#]|" + _COMMENT + rb")*)\))?"
)
# What follows a torch name imported under another: ``dropout as drop``.
_ALIAS = re.compile(GAP + rb"as" + _NOT_WORD + GAP + rb"(" + _WORD + rb")")
# What follows a callee: its ``(``, maybe after the ``)`` of a parenthesised callee.
_CALL_OPENING = re.compile(GAP + rb"(?:\)" + GAP + rb")*\(")
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
    rb"|(?P<comment>#[^\r\n]*)"
    rb"|(?P<open>[(\[{])|(?P<close>[)\]}])|(?P<comma>,)",
    re.DOTALL,
)
_KEYWORD = re.compile(GAP + rb"(" + _WORD + rb")" + GAP + rb"=(?!=)")
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


@dataclass(frozen=True)
class NameAttributeRead:
    """``name.attribute`` read in code (not in a comment or string) and not called,
    subscripted or read further; its name maybe parenthesised: ``(self).train``.

    ``before`` holds the two tokens before it, nearest last (``""`` at the start of the
    file); ``after`` the one after it (``""`` at the end). Line breaks inside brackets are
    not tokens; a statement's end is ``"\\n"``.
    """

    before: tuple[str, str]
    after: str


# Tokens that are no part of the code a rule reads.
_INSIGNIFICANT = frozenset(
    (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)
)
# What makes the expression before it its value, so not the whole expression: a call,
# a subscript, another attribute.
_TRAILERS = frozenset(("(", "[", "."))


class ByteScan:
    """One file's bytes and what cheap scans of them say, each computed once, on demand."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._calls: dict[str, tuple[CallSite, ...]] = {}
        self._callee_positions: dict[str, tuple[tuple[int, int], ...]] = {}

    @cached_property
    def import_bound_names(self) -> frozenset[bytes]:
        """Every word in an import statement: a superset of the names imports bind."""
        names: set[bytes] = set()
        for end in _word_ends(self.data, b"import"):
            for group in _IMPORTED.match(self.data, end).groups():
                if group:
                    names.update(_WORD_RE.findall(group))
        return frozenset(names)

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
                _read_call(self.data, open_paren) for _, open_paren in self._callees(name)
            )
        return self._calls[name]

    def may_read_attribute(self, name: str) -> bool:
        """Whether some ``x.name`` may be used other than by calling it on the spot."""
        for end in _word_ends(self.data, name.encode()):
            if _CALLED.match(self.data, end) is None:
                before = _previous_token_end(self.data, end - len(name))
                if before is None or (before >= 0 and self.data[before] == ord(".")):
                    return True
        return False

    def name_attribute_reads(self, attribute: str) -> Optional[tuple[NameAttributeRead, ...]]:
        """Every read of ``<name>.attribute``, as Python's tokenizer sees the file.

        None when the tokenizer cannot read the file, or an f-string it keeps whole
        (before Python 3.12) may read ``attribute`` in its fields: then a read may be
        anywhere.
        Tokenizing costs far more than the byte scans, so it is done once, and only for
        files whose bytes show ``.attribute`` read.
        """
        if not self.may_read_attribute(attribute):
            return ()
        tokens = self._code_tokens
        if tokens is None or any(
            token.type == tokenize.STRING
            and _is_f_string_with_fields(token.string.encode())
            and ByteScan(token.string.encode()).may_read_attribute(attribute)
            for token in tokens
        ):
            return None
        reads = []
        for index, token in enumerate(tokens):
            if token.type != tokenize.NAME or token.string != attribute:
                continue
            if index < 2 or tokens[index - 1].string != ".":
                continue
            after = tokens[index + 1].string if index + 1 < len(tokens) else ""
            if after in _TRAILERS:
                continue
            start = _parenthesised_name_start(tokens, index - 2)
            if start is not None:
                before = (_token_at(tokens, start - 2), _token_at(tokens, start - 1))
                reads.append(NameAttributeRead(before, after))
        return tuple(reads)

    @cached_property
    def _code_tokens(self) -> Optional[list[tokenize.TokenInfo]]:
        """The file's tokens without comments and layout, None if it cannot be tokenized."""
        try:
            tokens = [
                token._replace(string="\n") if token.type == tokenize.NEWLINE else token
                for token in tokenize.tokenize(io.BytesIO(self.data).readline)
                if token.type not in _INSIGNIFICANT
            ]
        except (tokenize.TokenError, SyntaxError, UnicodeDecodeError, LookupError):
            return None
        if any(token.type == tokenize.ERRORTOKEN for token in tokens):
            return None
        return tokens

    def tokens_before_calls(self, name: str) -> tuple[tuple[Optional[bytes], int], ...]:
        """For each call :meth:`calls_to` finds, the token before its callee's dotted name
        and where it starts: ``b"["`` in ``[nn.Dropout(p)]``, ``b"else"``, ``b"="``; ``b""``
        at the start of the file; None where it cannot be read (its start is then -1)."""
        return tuple(_token_before_chain(self.data, start) for start, _ in self._callees(name))

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
            for end in _word_ends(self.data, callee):
                if callee is name:
                    alias = _ALIAS.match(self.data, end)
                    if alias is not None and alias.group(1) not in seen:
                        seen.add(alias.group(1))
                        callees.append(alias.group(1))
                opening = _CALL_OPENING.match(self.data, end)
                if opening is None:
                    continue
                root = _chain_root(self.data, end - len(callee))
                if root is None or root in self._roots:
                    yield end - len(callee), opening.end() - 1


def _parenthesised_name_start(tokens: list[tokenize.TokenInfo], last: int) -> Optional[int]:
    """Where the name ending at ``tokens[last]`` starts, with its parentheses, if it is a
    name: ``self`` or ``((self))``. None for anything else (``a.b``, ``f(x)``, ``x[0]``).

    ``f(self)`` counts as a parenthesised name: a caller judging by what comes before it
    judges rightly both ways, as a call is never a name.
    """
    closing = 0
    while last >= 0 and tokens[last].string == ")":
        closing += 1
        last -= 1
    if last < 0 or tokens[last].type != tokenize.NAME:
        return None
    start = last
    for _ in range(closing):
        start -= 1
        if start < 0 or tokens[start].string != "(":
            return None
    if closing == 0 and start > 0 and tokens[start - 1].string == ".":
        return None
    return start


def _token_at(tokens: list[tokenize.TokenInfo], index: int) -> str:
    return tokens[index].string if index >= 0 else ""


def _word_ends(data: bytes, word: bytes) -> Iterator[int]:
    """Where each occurrence of ``word`` as a whole word (not part of a longer one) ends."""
    start = data.find(word)
    while start != -1:
        end = start + len(word)
        if (start == 0 or data[start - 1] not in _WORD_BYTES) and (
            end == len(data) or data[end] not in _WORD_BYTES
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
        if before is None or before < 0 or data[before] not in _WORD_BYTES:
            return None
        while before >= 0 and data[before] in _WORD_BYTES:
            before -= 1
        start = before + 1


def _token_before_chain(data: bytes, name_start: int) -> tuple[Optional[bytes], int]:
    """The token before the dotted name that ends with the name at ``name_start``, and its
    start; a word, one byte of punctuation, ``b""`` at the start of the file, or None
    when unreadable."""
    start = name_start
    while True:
        before = _previous_token_end(data, start)
        if before is None or before < 0:
            return (None, -1) if before is None else (b"", 0)
        if data[before] != ord("."):
            if data[before] not in _WORD_BYTES:
                return data[before : before + 1], before
            word_start = before
            while word_start > 0 and data[word_start - 1] in _WORD_BYTES:
                word_start -= 1
            return data[word_start : before + 1], word_start
        before = _previous_token_end(data, before)
        if before is None or before < 0 or data[before] not in _WORD_BYTES:
            return None, -1
        while before >= 0 and data[before] in _WORD_BYTES:
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
            line_start = max(data.rfind(b"\n", 0, index), data.rfind(b"\r", 0, index)) + 1
            if b"#" in data[line_start:index]:
                return None
            index -= 1
        elif byte == ord("\\") and data[index + 1 : index + 2] in (b"\n", b"\r"):
            index -= 1
        else:
            return index
    return -1


def _read_call(data: bytes, open_paren: int) -> CallSite:
    """The arguments of the call whose ``(`` is at ``open_paren``, if they can be read."""
    plain = _PLAIN_ARGUMENTS.match(data, open_paren)
    if plain is not None:
        commas = [open_paren + 1 + i for i, byte in enumerate(plain.group(1)) if byte == ord(",")]
        called_again = _CALL_OPENING.match(data, plain.end()) is not None
        return CallSite(_arguments(data, [open_paren, *commas, plain.end() - 1], []), called_again)
    depth = 0
    separators = [open_paren]
    comments: list[tuple[int, int]] = []
    for token in _ARGUMENT_TOKEN.finditer(data, open_paren):
        kind = token.lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                separators.append(token.start())
                called_again = _CALL_OPENING.match(data, token.end()) is not None
                return CallSite(_arguments(data, separators, comments), called_again)
        elif kind == "comma" and depth == 1:
            separators.append(token.start())
        elif kind == "comment":
            comments.append(token.span())
        elif kind == "string" and _is_f_string_with_fields(token.group()):
            # Its fields may hold quotes of its own kind (Python 3.12): unreadable here.
            return CallSite(None, None)
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
