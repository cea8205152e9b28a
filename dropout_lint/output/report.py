"""The text report people read: one line per finding, or each finding with its source line,
a caret under the offending code and the suggested fix; colour on a terminal; a summary.

Every function takes the diagnostics in the order to print them (see
:func:`dropout_lint.output.formats.in_report_order`). Without colour, the concise report is exactly
``--format text`` in a pipe: ``path:line:col: CODE message [short-name]``, which editors' and
CI problem matchers parse.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, TextIO

from ..engine.diagnostics import Applicability, Diagnostic
from ..engine.source_text import split_lines
from ..integrations.notebook import Notebook, is_notebook, read_notebook

_RESET = "\x1b[0m"
_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "cyan": "36"}

# The source line of a diagnostic, without its line ending; None when it cannot be had.
SourceLineLookup = Callable[[Diagnostic], Optional[str]]


COLOR_CHOICES = ("auto", "always", "never")


def wants_color(stream: TextIO, color: str, environ: Mapping[str, str]) -> bool:
    """Whether to paint, for ``--color auto|always|never``.

    ``always`` and ``never`` decide alone. ``auto`` follows https://no-color.org and
    https://force-color.org: a non-empty ``NO_COLOR`` turns colour off; otherwise a non-empty
    ``FORCE_COLOR`` turns it on even in a pipe; otherwise only a terminal that is not
    ``TERM=dumb`` gets colour.
    """
    if color != "auto":
        return color == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream.isatty() and environ.get("TERM") != "dumb"


@dataclass(frozen=True)
class Palette:
    """ANSI styles when ``enabled``; the text unchanged otherwise."""

    enabled: bool

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return f"\x1b[{';'.join(_STYLES[style] for style in styles)}m{text}{_RESET}"


PLAIN = Palette(enabled=False)


def location(diagnostic: Diagnostic) -> str:
    """``path:line:col``, or ``path:cell N:line:col`` in a notebook (as ruff writes it)."""
    cell = f"cell {diagnostic.cell}:" if diagnostic.cell is not None else ""
    return f"{diagnostic.path}:{cell}{diagnostic.line}:{diagnostic.column}"


def concise_line(diagnostic: Diagnostic, palette: Palette = PLAIN) -> str:
    """One finding on one line, ending with the rule's short name in brackets."""
    return (
        f"{palette.paint(location(diagnostic), 'bold')}: "
        f"{palette.paint(diagnostic.code, 'bold', 'red')} {diagnostic.message} "
        f"{palette.paint(f'[{diagnostic.name}]', 'dim')}"
    )


def is_fixable(diagnostic: Diagnostic) -> bool:
    """Whether plain ``--fix`` fixes it (unsafe fixes need ``--unsafe-fixes``)."""
    return diagnostic.fix is not None and diagnostic.fix.applies(unsafe_fixes=False)


def is_unsafe_fixable(diagnostic: Diagnostic) -> bool:
    """Whether only ``--fix --unsafe-fixes`` fixes it."""
    return diagnostic.fix is not None and diagnostic.fix.applicability is Applicability.UNSAFE


def full_block(diagnostic: Diagnostic, source_line: Optional[str], palette: Palette = PLAIN) -> str:
    """The finding, its source line with carets under the reported code, and the fix.

    ::

        pkg/model.py:7:13: DRP001 `F.dropout` without `training=` ... [functional-dropout-...]
          |
        7 |         x = F.dropout(x, 0.5)
          |             ^^^^^^^^^^^^^^^^^ DRP001
          |
          = help: Register a dropout module and call it
    """
    lines = [concise_line(diagnostic, palette)]
    if source_line is not None:
        number = str(diagnostic.line)
        gutter = " " * len(number)
        bar = palette.paint("|", "blue")
        start = min(max(diagnostic.column - 1, 0), len(source_line))
        end = diagnostic.end_column - 1 if diagnostic.end_line == diagnostic.line else len(source_line)
        end = min(max(end, start + 1), max(len(source_line), start + 1))
        carets = palette.paint("^" * display_width(source_line[start:end] or " "), "red", "bold")
        lines += [
            f"{gutter} {bar}",
            f"{palette.paint(number, 'blue')} {bar} {source_line}",
            f"{gutter} {bar} {_blank_like(source_line[:start])}{carets} {palette.paint(diagnostic.code, 'red', 'bold')}",
            f"{gutter} {bar}",
        ]
        help_prefix = f"{gutter} {palette.paint('=', 'blue')} "
    else:
        help_prefix = "  = "
    if diagnostic.fix is not None:
        unsafe = "" if is_fixable(diagnostic) else " (unsafe: needs --unsafe-fixes)"
        lines.append(f"{help_prefix}{palette.paint('help', 'bold', 'cyan')}: {diagnostic.fix.description}{unsafe}")
    return "\n".join(lines) + "\n"


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide characters take two, combining marks none."""
    return sum(
        0 if unicodedata.combining(char) else 2 if unicodedata.east_asian_width(char) in "WF" else 1
        for char in text
    )


def _blank_like(prefix: str) -> str:
    """Blanks as wide as ``prefix`` on screen, keeping its tabs so the caret lines up."""
    return "".join(char if char == "\t" else " " * display_width(char) for char in prefix)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(diagnostics: Sequence[Diagnostic], palette: Palette = PLAIN) -> str:
    """``12 findings in 5 files, 9 fixable with --fix (2 more with --unsafe-fixes)``;
    empty when there is nothing to say."""
    if not diagnostics:
        return ""
    files = len({d.path for d in diagnostics})
    text = f"{_plural(len(diagnostics), 'finding')} in {_plural(files, 'file')}"
    fixable = sum(map(is_fixable, diagnostics))
    unsafe = sum(map(is_unsafe_fixable, diagnostics))
    if fixable:
        text += f", {fixable} fixable with --fix"
        if unsafe:
            text += f" ({unsafe} more with --unsafe-fixes)"
    elif unsafe:
        text += f", {unsafe} fixable with --fix --unsafe-fixes"
    return palette.paint(text, "bold") + "\n"


@dataclass(frozen=True)
class CodeCount:
    """One row of ``--statistics``."""

    code: str
    name: str
    count: int
    fixable: int
    unsafe_fixable: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "count": self.count,
            "fixable": self.fixable,
            "unsafe_fixable": self.unsafe_fixable,
        }


def statistics(diagnostics: Sequence[Diagnostic]) -> list[CodeCount]:
    """Findings counted by code, most frequent first, then by code."""
    counts = Counter(d.code for d in diagnostics)
    fixable = Counter(d.code for d in diagnostics if is_fixable(d))
    unsafe = Counter(d.code for d in diagnostics if is_unsafe_fixable(d))
    names = {d.code: d.name for d in diagnostics}
    return [
        CodeCount(code, names[code], count, fixable[code], unsafe[code])
        for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def statistics_table(rows: Sequence[CodeCount], palette: Palette = PLAIN) -> str:
    """``count  CODE  [*] short-name`` lines: ``[*]`` marks codes that ``--fix`` fixes,
    ``[-]`` codes whose fixes all need ``--unsafe-fixes``."""
    width = max((len(str(row.count)) for row in rows), default=1)
    return "".join(
        f"{row.count:>{width}}  {palette.paint(row.code, 'bold', 'red')}  "
        f"{'[*]' if row.fixable else '[-]' if row.unsafe_fixable else '   '} {row.name}\n"
        for row in rows
    )


@dataclass(frozen=True)
class TextReport:
    """What a text run prints on stdout: findings (or statistics), then the summary."""

    palette: Palette = PLAIN
    show_source: bool = False
    show_statistics: bool = False
    quiet: bool = False

    def render(self, diagnostics: Sequence[Diagnostic], source_line: SourceLineLookup) -> str:
        if self.show_statistics:
            body = statistics_table(statistics(diagnostics), self.palette)
        elif self.show_source:
            body = "\n".join(full_block(d, source_line(d), self.palette) for d in diagnostics)
        else:
            body = "".join(concise_line(d, self.palette) + "\n" for d in diagnostics)
        if self.quiet or not diagnostics:
            return body
        return body + ("\n" if self.show_source or self.show_statistics else "") + summary_line(
            diagnostics, self.palette
        )


class SourceLines:
    """The lines findings point at, read once per file after the run (so after any fix).

    Notebook findings are looked up in their cell. Text given with :meth:`remember` (stdin)
    is used instead of reading the path.
    """

    def __init__(self) -> None:
        self._lines: dict[tuple[str, Optional[int]], list[str]] = {}
        self._remembered: dict[str, bytes] = {}

    def remember(self, path: str, data: bytes) -> None:
        self._remembered[path] = data

    def __call__(self, diagnostic: Diagnostic) -> Optional[str]:
        key = (diagnostic.path, diagnostic.cell)
        if key not in self._lines:
            self._load(diagnostic.path)
        lines = self._lines.get(key, [])
        if not 1 <= diagnostic.line <= len(lines):
            return None
        return lines[diagnostic.line - 1].rstrip("\r\n")

    def _load(self, path: str) -> None:
        data = self._remembered.get(path)
        if data is None:
            try:
                with open(path, "rb") as file:
                    data = file.read()
            except OSError:
                data = b""
        if is_notebook(path):
            notebook = read_notebook(data, path)
            for cell in notebook.cells if isinstance(notebook, Notebook) else ():
                self._lines[(path, cell.number)] = list(cell.lines)
        text = data.decode("utf-8", "replace").removeprefix("\ufeff")
        self._lines[(path, None)] = split_lines(text)
