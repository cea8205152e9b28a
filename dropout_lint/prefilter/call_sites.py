"""What a rule looks for, stated once: calls of torch names, and what their arguments allow.

From one :class:`CallSites` statement come the rule's three prefilters: the ``trigger``
regular expression (a callee's last name must appear in the bytes), ``may_fire`` on the
byte scan and ``sites`` on CPython's tree. The predicate ``accepts`` is asked of a
:class:`~dropout_lint.prefilter.byte_scan.CallSite` in both stages (the syntax stage's
calls are call sites with their arguments always known), so the two stages cannot disagree
on what a call's arguments allow. The rule's libcst visitor then confirms each call and
builds its finding.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import cached_property
from itertools import chain
from typing import Callable, Generic, Iterator, Optional, Sequence, TypeVar, Union

from .attribute_reads import AttributeReads
from .byte_scan import ByteScan, CallSite, CodeText
from .code_blocks import CodeBlocks, Method
from .syntax_scan import SyntaxScan

T = TypeVar("T")


@dataclass(frozen=True)
class CallSites(Generic[T]):
    """Calls whose callee may resolve to a qualified name ``lookup`` knows.

    ``names`` are the last names of those qualified names with what ``lookup`` says of
    each (``("dropout", <F.dropout>)``), for the byte scan, which sees no qualified names.
    ``accepts`` says whether a call's arguments, as far as they can be read, allow a
    finding. ``in_method`` keeps calls in methods only (functions defined directly in a
    class body); ``outside_init`` also leaves ``__init__`` out. ``called_at_once`` keeps
    calls whose result is called on the spot (``nn.Dropout(p)(x)``).
    """

    names: tuple[tuple[str, T], ...]
    lookup: Callable[[str], Optional[T]]
    accepts: Callable[[CallSite, T], bool] = lambda site, fact: True
    in_method: bool = False
    outside_init: bool = False
    called_at_once: bool = False
    accepts_in_method: Callable[[CallSite, T, Method], bool] = lambda site, fact, method: True

    def trigger_words(self) -> set[str]:
        return {name for name, _ in self.names}

    def may_fire(self, scan: ByteScan) -> bool:
        """Whether the bytes hold a call that may be one of these: never wrongly False.
        A call allowed by its arguments must then be in code, not in a comment or string
        (a docstring's ``dropout (float): ...``); torch must be written in code (a callee
        resolves to a torch name only through it: ``chainer.functions.dropout`` does not);
        and a call kept in methods must be in one (:mod:`.code_blocks`), which
        ``accepts_in_method`` may then read. Those need the file's strings told apart,
        which costs more than the rest: they are read last, for the few files left. Only
        the names the bytes spell are looked for (a call through an alias spells the name
        in its import).
        """
        allowed = self._allowed_calls(scan)
        first = next(allowed, None)
        if first is None:
            return False
        code = scan.code
        if code is None:
            return True
        if not _written_in_code(_TORCH, code):
            return False
        for start, site, fact in chain([first], allowed):
            if not _in_code(scan, code, start):
                continue
            if not (self.in_method or self.outside_init):
                return True
            blocks = scan.blocks
            if blocks is None:
                return True
            if self._may_be_in_place(blocks, start, site, fact):
                return True
        return False

    def _allowed_calls(self, scan: ByteScan) -> Iterator[tuple[int, CallSite, T]]:
        """The calls the arguments allow, with where their callee's last name starts."""
        spelled = scan.words_containing(self._shared_text) if self._shared_text else None
        for name, fact in self.names:
            if spelled is not None and name.encode() not in spelled:
                continue
            starts: Optional[tuple[int, ...]] = None
            for index, site in enumerate(scan.calls_to(name)):
                if self._allows(site, fact):
                    starts = starts or scan.callee_starts(name)
                    yield starts[index], site, fact

    def _may_be_in_place(self, blocks: CodeBlocks, start: int, site: CallSite, fact: T) -> bool:
        """Whether a call at ``start`` may be in a method (outside ``__init__`` too, when
        asked) that ``accepts_in_method`` allows, by the file's blocks."""
        if blocks.in_function_header(start):
            return True
        method = blocks.method_at(start)
        if method is None or (self.outside_init and method.name == b"__init__"):
            return False
        return self.accepts_in_method(site, fact, method)

    @cached_property
    def _shared_text(self) -> bytes:
        """The longest text all the names contain, by which the byte scan finds them all in
        one pass; empty (each name searched for alone) for two names or fewer, which two
        searches find as fast (``_attention`` is in many words, which that pass steps
        through one by one)."""
        words = self.trigger_words()
        return _longest_shared(sorted(words)).encode() if len(words) > 2 else b""

    def sites(self, scan: SyntaxScan) -> list[ast.AST]:
        """The calls in CPython's tree that may be one of these."""
        return [
            site.node
            for site, fact in scan.calls(self.lookup)
            if self._allows(site, fact) and self._in_place(site.method)
        ]

    def _allows(self, site: CallSite, fact: T) -> bool:
        if self.called_at_once and site.called_again is False:
            return False
        return self.accepts(site, fact)

    def _in_place(self, method: Optional[ast.AST]) -> bool:
        if not (self.in_method or self.outside_init):
            return True
        return method is not None and not (self.outside_init and method.name == "__init__")  # type: ignore[attr-defined]


# `torch` as a word.
_WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+")
_TORCH = re.compile(rb"(?<![A-Za-z0-9_\x80-\xff])torch(?![A-Za-z0-9_\x80-\xff])")


def _written_in_code(pattern: re.Pattern[bytes], code: CodeText) -> bool:
    """Whether the pattern is found in code, or may be in an f-string's replacement field."""
    return pattern.search(code.text) is not None or any(map(pattern.search, code.f_strings))


def _in_code(scan: ByteScan, code: CodeText, start: int) -> bool:
    """Whether the name at ``start`` may be code: not in a comment or string literal (which
    ``code`` blanks), or in an f-string that spells it (its replacement fields are code)."""
    if code.text[start] == scan.data[start]:
        return True
    name = _WORD.match(scan.data, start).group()
    return any(name in literal for literal in code.f_strings)


def trigger_for(statements: Sequence[Union[CallSites, AttributeReads]]) -> re.Pattern[bytes]:
    """A regular expression any file holding one of these calls or reads matches, since the
    bytes must spell a callee's last name (an alias is bound by an import that spells it),
    or the attribute read.

    It is searched in every file, so it is kept to what Python's ``re`` finds fast: words
    that contain another are left out, and several words become the longest text they all
    share (which ``re`` searches as fast as ``bytes.find``), then, where it is found, what
    follows it in each word and, looking back, what precedes it: exactly the words. A
    shared text common in code (``_attention``) then lets few files through.
    """
    calls = [s for s in statements if isinstance(s, CallSites)]
    reads = [s.trigger_pattern() for s in statements if isinstance(s, AttributeReads)]
    words = {word for statement in calls for word in statement.trigger_words()}
    words = {word for word in words if not any(other != word and other in word for other in words)}
    shared = _longest_shared(sorted(words))
    if len(words) > 1 and shared:
        pattern = re.escape(shared) + "(?:" + "|".join(sorted(_after_shared(word, shared) for word in words)) + ")"
    else:
        pattern = "|".join(map(re.escape, sorted(words)))
    return re.compile(b"|".join([pattern.encode()] * bool(words) + reads))


def _after_shared(word: str, shared: str) -> str:
    """What matches ``word`` once ``shared``, found in it, has matched: the rest of the
    word, then a look back at the whole word where text precedes ``shared`` in it."""
    start = word.index(shared)
    rest = re.escape(word[start + len(shared) :])
    return rest + f"(?<={re.escape(word)})" if start else rest


def _longest_shared(words: list[str]) -> str:
    """The longest text every word contains."""
    if not words:
        return ""
    first = min(words, key=len)
    for size in range(len(first), 0, -1):
        for start in range(len(first) - size + 1):
            part = first[start : start + size]
            if all(part in word for word in words):
                return part
    return ""
