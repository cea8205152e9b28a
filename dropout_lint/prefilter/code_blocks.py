"""Which ``def`` and ``class`` statements enclose a place of a file, read from its bytes.

The byte gate reads it for the few files whose calls or reads it would let through
otherwise: a rule that looks in methods only need not parse a file whose calls are all in
functions, and DRP004 reads a rate's assignments in the call's method. Python's blocks
are its indentation: a logical line belongs to the nearest logical line before it that is
indented less (a compound statement's header), and so on outwards. Logical lines are read
from the code (:class:`~.byte_scan.CodeText`: comments blanked, strings quoted out, so
that brackets count exactly), skipping the lines inside brackets and after a backslash.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Optional

# A physical line and its ending.
_PHYSICAL_LINE = re.compile(rb"([^\r\n]*)(\r\n|\r|\n|\Z)")
_INDENT = re.compile(rb"[ \t\f]*")
_DEF = re.compile(rb"(?:async[ \t\f]+)?def[ \t\f]+([A-Za-z0-9_\x80-\xff]+)")
_CLASS = re.compile(rb"class(?![A-Za-z0-9_\x80-\xff])")
_BYTE_ORDER_MARK = b"\xef\xbb\xbf"
# What follows a name assigned at the start of a statement: `= value` to the line's end,
# with no other `=` (a chained assignment) or `;` in it.
_ASSIGNMENT = re.compile(rb"[ \t\f]*=(?!=)[ \t\f]*([^=;\r\n\\]*?)[ \t\f]*")
# A keyword argument's `=` after its name (no parenthesis between: `(name) = x` assigns).
_KEYWORD_EQUALS = re.compile(rb"[ \t\f\r\n\\]*=(?!=)")
# The first parameter's name, from the end of `def name`.
_FIRST_PARAMETER = re.compile(rb"[ \t\f]*\([\s\\]*([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)")


@lru_cache(maxsize=8)
def _assignment_target(name: bytes) -> re.Pattern[bytes]:
    """An assignment's first target ending in the name, from a logical line's start:
    ``name =`` or ``a.b.name =`` (not ``==``)."""
    return re.compile(
        rb"(?:[A-Za-z0-9_\x80-\xff]+[ \t\f]*\.[ \t\f]*)*" + re.escape(name) + rb"[ \t\f]*=(?!=)"
    )


def _named(name: bytes) -> re.Pattern[bytes]:
    """The name as a whole word, where an `=` may follow it (maybe after `)`)."""
    return re.compile(
        rb"(?<![A-Za-z0-9_\x80-\xff])" + re.escape(name) + rb"(?=[\s)\\]*=(?!=))"
    )


@dataclass(frozen=True)
class Method:
    """A function defined directly in a class body: its name, the span of its statement
    (its ``def`` to the end of its last line) and of its class's in ``blocks``."""

    name: bytes
    start: int
    end: int
    blocks: CodeBlocks
    class_start: int
    class_end: int

    def first_parameter(self) -> Optional[bytes]:
        """The name of the first parameter, which is the instance unless a decorator says
        otherwise; None when the first parameter is not a plain name (``*args``) or the
        header is not read here (``def f[T](self)``)."""
        return self.blocks.first_parameter(self.start)

    def class_assigns(self, attribute: bytes) -> bool:
        """Whether a statement of the class (at any depth) is an assignment whose first
        target is ``<name>.attribute`` or ``attribute`` (``self.train = train``); other
        assignments (chained after another target, annotated, after a ``;``) are not read."""
        return self.blocks.assigns(attribute, self.class_start, self.class_end)

    def assigned_values(self, name: bytes) -> Optional[list[bytes]]:
        """The value of each assignment statement ``name = value`` in the method (nested
        functions and classes too), as written; None when ``name`` may also be assigned
        otherwise (chained, after a ``;``, in a one-line block, in parentheses, ...), so
        that the list holds every ``ast.Assign`` whose targets include the name."""
        return self.blocks.assigned_values(name, self.start, self.end)


class CodeBlocks:
    """The logical lines of a file's code, with their indentation."""

    def __init__(self, starts: list[int], indents: list[int], ends: list[int], code: bytes) -> None:
        self._starts = starts  # where each logical line's first token starts
        self._indents = indents
        self._ends = ends  # where each logical line ends (its last physical line's end)
        self._code = code

    @classmethod
    def of(cls, code: bytes) -> Optional[CodeBlocks]:
        """The blocks of ``code`` (a file's :class:`~.byte_scan.CodeText` text); None
        when its brackets do not balance."""
        starts: list[int] = []
        indents: list[int] = []
        ends: list[int] = []
        depth = 0
        continued = False
        for line in _PHYSICAL_LINE.finditer(code):
            text = line.group(1)
            line_start = line.start()
            if line_start == len(code) and line_start > 0:
                break  # the empty match after the last line's ending
            if depth == 0 and not continued:
                offset = len(_BYTE_ORDER_MARK) if line_start == 0 and text.startswith(_BYTE_ORDER_MARK) else 0
                indent = _INDENT.match(text, offset).end()
                if text[indent : indent + 1] == b"\\" and not text[indent + 1 :].strip(b" \t\f"):
                    return None  # a line of a backslash alone: where its statement starts is unclear
                if indent < len(text):
                    starts.append(line_start + indent)
                    indents.append(_column(text[offset:indent]))
                    ends.append(line.end(1))
            elif starts:
                ends[-1] = line.end(1)
            depth += _bracket_balance(text)
            if depth < 0:
                return None
            continued = text.endswith(b"\\")
        if depth != 0:
            return None
        return cls(starts, indents, ends, code)

    def in_function_header(self, position: int) -> bool:
        """Whether ``position`` is in a ``def`` statement's header (its parameters'
        defaults, its body on the same line) or a decorator line, or in no logical line:
        the syntax stage counts a header in the function, which :meth:`method_at` does not."""
        line = self._line_at(position)
        return line is None or self._is_def_or_decorator(line)

    def method_at(self, position: int) -> Optional[Method]:
        """The method holding ``position`` (not in a header: :meth:`in_function_header`),
        as the syntax stage finds it: the innermost function defined directly in a class
        body around it; None when there is none."""
        line = self._line_at(position)
        if line is None:
            return None
        chain = self._headers_around(line)
        for inner, outer in zip(chain, chain[1:]):
            name = self._def_name(inner)
            if name is not None and _CLASS.match(self._code, self._starts[outer]):
                return Method(
                    name, self._starts[inner], self._block_end(inner), self,
                    self._starts[outer], self._block_end(outer),
                )
        return None

    def first_parameter(self, def_start: int) -> Optional[bytes]:
        """:meth:`Method.first_parameter` of the ``def`` at ``def_start``."""
        header = _DEF.match(self._code, def_start)
        found = header and _FIRST_PARAMETER.match(self._code, header.end())
        return found.group(1) if found else None

    def assigns(self, name: bytes, start: int, end: int) -> bool:
        """Whether a logical line between ``start`` and ``end`` starts with an assignment
        to ``<dotted name>.name`` or ``name`` (see :meth:`Method.class_assigns`)."""
        target = _assignment_target(name)
        first = bisect.bisect_left(self._starts, start)
        last = bisect.bisect_left(self._starts, end)
        return any(target.match(self._code, self._starts[line]) for line in range(first, last))

    def assigned_values(self, name: bytes, start: int, end: int) -> Optional[list[bytes]]:
        """:meth:`Method.assigned_values` between ``start`` and ``end``."""
        values = []
        for found in _named(name).finditer(self._code, start, end):
            line = self._line_at(found.start())
            if line is None:
                return None
            line_start, line_end = self._starts[line], self._ends[line]
            if found.start() == line_start:
                statement = _ASSIGNMENT.fullmatch(self._code, found.end(), line_end)
                if statement is None:
                    return None
                values.append(statement.group(1))
                continue
            before = self._code[line_start : found.start()]
            depth = sum(map(before.count, (b"(", b"[", b"{"))) - sum(map(before.count, (b")", b"]", b"}")))
            if depth <= 0 or not _KEYWORD_EQUALS.match(self._code, found.end()):
                return None  # maybe a target: chained, after `;` or `:`, in parentheses
        return values

    def _line_at(self, position: int) -> Optional[int]:
        line = bisect.bisect_right(self._starts, position) - 1
        return line if line >= 0 and position < self._ends[line] else None

    def _is_def_or_decorator(self, line: int) -> bool:
        start = self._starts[line]
        return self._code[start : start + 1] == b"@" or self._def_name(line) is not None

    def _def_name(self, line: int) -> Optional[bytes]:
        found = _DEF.match(self._code, self._starts[line])
        return found.group(1) if found else None

    def _headers_around(self, line: int) -> list[int]:
        """The logical line itself, then the headers of the blocks around it, inner first."""
        headers = self._outline[0]
        chain = [line]
        while headers[chain[-1]] >= 0:
            chain.append(headers[chain[-1]])
        return chain

    @cached_property
    def _outline(self) -> tuple[list[int], list[int]]:
        """For each logical line, its block's header (the nearest line before it that is
        indented less; -1 for none) and the last line of its own block (the line before the
        next one indented no more), found for all lines in one pass, as every read and call
        asks."""
        headers: list[int] = []
        last_lines = [len(self._indents) - 1] * len(self._indents)
        open_lines: list[int] = []  # the lines whose blocks may still hold the next line
        for line, indent in enumerate(self._indents):
            while open_lines and self._indents[open_lines[-1]] >= indent:
                last_lines[open_lines.pop()] = line - 1
            headers.append(open_lines[-1] if open_lines else -1)
            open_lines.append(line)
        return headers, last_lines

    def _block_end(self, header: int) -> int:
        """Where the statement whose header is at ``header`` ends."""
        return self._ends[self._outline[1][header]]


def _bracket_balance(text: bytes) -> int:
    """How many more brackets ``text`` opens than it closes; asked of every line of the
    file, so counted with no generator."""
    return (
        text.count(b"(") + text.count(b"[") + text.count(b"{")
        - text.count(b")") - text.count(b"]") - text.count(b"}")
    )


def _column(indentation: bytes) -> int:
    """The column Python's tokenizer gives a line's indentation: tabs to the next multiple
    of 8, a form feed back to 0."""
    if b"\t" not in indentation and b"\f" not in indentation:
        return len(indentation)  # spaces alone, as in most files
    column = 0
    for byte in indentation:
        if byte == 0x09:
            column = (column // 8 + 1) * 8
        elif byte == 0x0C:
            column = 0
        else:
            column += 1
    return column
