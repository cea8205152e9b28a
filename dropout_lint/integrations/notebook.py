"""Jupyter notebooks: their code cells linted as one Python source, findings mapped back to cells.

The code cells are joined, in order, into one virtual module, so a class defined in one cell
is understood where another cell uses it. IPython syntax (``%magic``, ``!shell``, ``obj?``,
``x = !cmd``, non-Python ``%%cell`` magics) is replaced line for line by ``pass`` at the
same indentation: every other line keeps its number and its columns, and each finding maps
back to ``(cell, line, column)``, as do the ``at line N`` references in messages. Cells are
numbered from 1 counting every cell, markdown included: the Nth cell as you scroll.

Fixing works on the same virtual source. The fixed text is split back into cells by a line
diff, so only the lines a fix changed are touched; the notebook is written back with the
JSON layout it was read with (indent, key order, escaping, trailing newline), so ``git diff``
shows only the changed source lines.
"""

from __future__ import annotations

import bisect
import copy
import difflib
import json
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Optional, Sequence, Union

from ..engine.diagnostics import (
    INTERNAL_ERROR,
    UNREADABLE_FILE,
    Diagnostic,
    file_problem,
)
from ..engine.lint import LintOptions, lint_source
from ..engine.source_text import split_lines

if TYPE_CHECKING:
    from ..fixes.fixer import FixResult

NOTEBOOK_SUFFIX = ".ipynb"
PLACEHOLDER = "pass"
# Cell magics whose body is Python that IPython runs as such; other cell magics hold shell,
# HTML, another language or a file to write, and are not linted.
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})

_ESCAPES = ("%", "!", "?", ",", ";", "/")
_ASSIGNED_ESCAPE = re.compile(r"[ \t]*[A-Za-z_][\w.]*(?:[ \t]*,[ \t]*[A-Za-z_][\w.]*)*[ \t]*,?[ \t]*=[ \t]*[!%]")
_HELP_SUFFIX = re.compile(r"[ \t]*[\w.*\[\]%]+\?\??[ \t]*")
_BOM = "\ufeff"
# How messages point at another line of the file ("after `torch.flatten` at line 33").
_LINE_REFERENCE = re.compile(r"\bat line (\d+)\b")


def is_notebook(path: str) -> bool:
    return path.endswith(NOTEBOOK_SUFFIX)


@dataclass(frozen=True)
class CodeCell:
    """One code cell: its lines as stored, and as Python (escapes replaced), line for line."""

    number: int
    lines: tuple[str, ...]
    python_lines: tuple[str, ...]
    first_line: int
    source_is_list: bool

    @property
    def text(self) -> str:
        return "".join(self.lines)


@dataclass(frozen=True)
class JsonLayout:
    """How the notebook's JSON was written, so that writing it back changes nothing else."""

    indent: Optional[int]
    ensure_ascii: bool
    newline: str
    trailing_newline: bool
    bom: bool

    def dumps(self, document: Any) -> str:
        separators = (",", ": ") if self.indent is not None else (", ", ": ")
        text = json.dumps(
            document, indent=self.indent, ensure_ascii=self.ensure_ascii, separators=separators
        )
        if self.newline != "\n":
            text = text.replace("\n", self.newline)
        return (_BOM if self.bom else "") + text + (self.newline if self.trailing_newline else "")


@dataclass(frozen=True)
class Notebook:
    """A parsed notebook: its JSON document, code cells and the virtual Python source."""

    document: dict[str, Any]
    cells: tuple[CodeCell, ...]
    layout: JsonLayout

    @property
    def python_source(self) -> str:
        return "".join(_terminated(cell.python_lines) for cell in self.cells)

    def cell_at(self, line: int) -> tuple[CodeCell, int]:
        """The cell holding virtual line ``line`` (1-based) and the line's number in that cell."""
        starts = [cell.first_line for cell in self.cells]
        cell = self.cells[max(bisect.bisect_right(starts, line) - 1, 0)]
        return cell, min(max(line - cell.first_line + 1, 1), len(cell.lines) + 1)

    def locate(self, diagnostic: Diagnostic) -> Diagnostic:
        """``diagnostic`` from the virtual source, placed in its cell."""
        if not self.cells:
            return diagnostic
        cell, line = self.cell_at(diagnostic.line)
        end_cell, end_line = self.cell_at(diagnostic.end_line)
        end_column = diagnostic.end_column
        if end_cell is not cell:
            end_line, end_column = line, diagnostic.column
        message = _LINE_REFERENCE.sub(lambda match: self._line_reference(match, cell), diagnostic.message)
        # The fix's edits are positions in the joined cells; --fix maps them back itself.
        fix = diagnostic.fix and replace(diagnostic.fix, edits=())
        return replace(
            diagnostic,
            fix=fix,
            cell=cell.number,
            line=line,
            end_line=end_line,
            end_column=end_column,
            message=message,
        )

    def _line_reference(self, match: re.Match[str], reporting_cell: CodeCell) -> str:
        cell, line = self.cell_at(int(match.group(1)))
        where = "" if cell is reporting_cell else f"cell {cell.number}, "
        return f"at {where}line {line}"


def read_notebook(data: bytes, path: str) -> Union[Notebook, Diagnostic]:
    """The notebook in ``data``, or a DRP900 diagnostic naming the file and what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return _not_a_notebook(path, f"not UTF-8: {error.reason} at byte {error.start}")
    bom = text.startswith(_BOM)
    try:
        document = json.loads(text[1:] if bom else text)
    except json.JSONDecodeError as error:
        return _not_a_notebook(path, f"invalid JSON: {error.msg} at line {error.lineno} column {error.colno}")
    except RecursionError:
        return _not_a_notebook(path, "invalid JSON: too deeply nested")
    problem = _nbformat_problem(document)
    if problem is not None:
        return _not_a_notebook(path, problem)
    return Notebook(document, _code_cells(document), _detect_layout(text, document, bom))


def _not_a_notebook(path: str, why: str) -> Diagnostic:
    return file_problem(path, UNREADABLE_FILE, f"not a Jupyter notebook: {why}")


def _nbformat_problem(document: Any) -> Optional[str]:
    if not isinstance(document, dict):
        return "the JSON is not an object"
    version = document.get("nbformat")
    if isinstance(version, int) and version < 4:
        return f"nbformat {version} is not supported; convert it with `jupyter nbconvert --to notebook`"
    cells = document.get("cells")
    if not isinstance(cells, list):
        return 'no "cells" list'
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            return f"cell {number} has no cell_type"
        source = cell.get("source", "")
        if not isinstance(source, str) and not (
            isinstance(source, list) and all(isinstance(part, str) for part in source)
        ):
            return f"cell {number} has a source that is neither a string nor a list of strings"
    return None


def is_python(document: dict[str, Any]) -> bool:
    """Whether the kernel runs Python (a notebook that does not say is taken to)."""
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        return True
    for section, key in (("language_info", "name"), ("kernelspec", "language")):
        language = metadata.get(section, {}).get(key) if isinstance(metadata.get(section), dict) else None
        if isinstance(language, str):
            return language.lower() == "python"
    return True


def _code_cells(document: dict[str, Any]) -> tuple[CodeCell, ...]:
    if not is_python(document):
        return ()
    cells: list[CodeCell] = []
    first_line = 1
    for number, cell in enumerate(document["cells"], 1):
        if cell["cell_type"] != "code":
            continue
        source = cell.get("source", "")
        lines = tuple(split_lines(source if isinstance(source, str) else "".join(source)))
        if not lines:
            continue
        cells.append(CodeCell(number, lines, python_lines(lines), first_line, isinstance(source, list)))
        first_line += len(lines)
    return tuple(cells)


def _terminated(lines: Sequence[str]) -> str:
    """The lines joined, ending in a newline so the next cell starts on a line of its own."""
    text = "".join(lines)
    return text if not text or text.endswith(("\n", "\r")) else text + "\n"


def python_lines(lines: Sequence[str]) -> tuple[str, ...]:
    """A cell's lines with IPython syntax replaced by ``pass`` lines, one for one."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].startswith("%%"):
        magic = lines[first][2:].split(None, 1)[0] if lines[first][2:].strip() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return tuple(_placeholder("", line) for line in lines)
        body = python_lines(lines[first + 1 :])
        return (*lines[:first], _placeholder("", lines[first]), *body)
    result: list[str] = []
    scanner = _LogicalLineScanner()
    escape_indent: Optional[str] = None
    for line in lines:
        if escape_indent is not None:
            result.append(_placeholder(escape_indent, line))
            escape_indent = escape_indent if _ends_with_backslash(line) else None
        elif scanner.at_statement_start and _is_escape(line):
            indent = line[: len(line) - len(line.lstrip(" \t"))]
            result.append(_placeholder(indent, line))
            escape_indent = indent if _ends_with_backslash(line) else None
        else:
            scanner.feed(line)
            result.append(line)
    return tuple(result)


def _is_escape(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and (
        stripped.startswith(_ESCAPES)
        or _ASSIGNED_ESCAPE.match(line) is not None
        or _HELP_SUFFIX.fullmatch(line.rstrip("\r\n")) is not None
    )


def _ends_with_backslash(line: str) -> bool:
    return line.rstrip("\r\n").endswith("\\")


def _placeholder(indent: str, line: str) -> str:
    ending = line[len(line.rstrip("\r\n")) :]
    return f"{indent}{PLACEHOLDER}{ending}"


class _LogicalLineScanner:
    """Just enough tokenizing to know whether a line starts a statement.

    IPython reads escapes only at the start of a statement: a ``!`` line inside a
    triple-quoted string or an open bracket is Python, and must stay as it is.
    """

    def __init__(self) -> None:
        self.open_string: Optional[str] = None
        self.depth = 0
        self.continued = False

    @property
    def at_statement_start(self) -> bool:
        return self.open_string is None and self.depth == 0 and not self.continued

    def feed(self, line: str) -> None:
        body = line.rstrip("\r\n")
        self.continued = False
        index = 0
        while index < len(body):
            if self.open_string is not None:
                index = self._close_string(body, index)
                continue
            char = body[index]
            if char == "#":
                return
            if char in "'\"":
                quote = body[index : index + 3] if body.startswith(char * 3, index) else char
                self.open_string = quote
                index += len(quote)
                continue
            if char in "([{":
                self.depth += 1
            elif char in ")]}":
                self.depth = max(self.depth - 1, 0)
            elif char == "\\" and index == len(body) - 1:
                self.continued = True
            index += 1
        if self.open_string is not None and len(self.open_string) == 1 and not self.continued:
            self.open_string = None  # an unterminated one-line string ends with its line

    def _close_string(self, body: str, index: int) -> int:
        """Scan a string body from ``index``; the index after its closing quote, or the end."""
        assert self.open_string is not None
        while index < len(body):
            if body[index] == "\\":
                if index == len(body) - 1:
                    self.continued = True
                index += 2
            elif body.startswith(self.open_string, index):
                index += len(self.open_string)
                self.open_string = None
                return index
            else:
                index += 1
        return index


def _detect_layout(text: str, document: Any, bom: bool) -> JsonLayout:
    """The json.dumps settings that reproduce ``text``; Jupyter's own when none does."""
    body = text[1:] if bom else text
    newline = "\r\n" if "\r\n" in body else "\n"
    trailing_newline = body.endswith(newline)
    indent_match = re.match(r"[{\[]\r?\n( +)", body)
    indent = len(indent_match.group(1)) if indent_match else None
    candidates = [
        JsonLayout(indent, ensure_ascii, newline, trailing_newline, bom)
        for ensure_ascii in (False, True)
    ]
    for layout in candidates:
        if layout.dumps(document) == text:
            return layout
    return JsonLayout(1 if indent is None and "\n" in body else indent, False, newline, trailing_newline, bom)


def lint_notebook(data: bytes, path: str, options: LintOptions) -> list[Diagnostic]:
    """The notebook's findings, each placed in its cell; DRP900 if it is not a notebook."""
    notebook = read_notebook(data, path)
    if isinstance(notebook, Diagnostic):
        return [notebook]
    return _lint_cells(notebook, path, options)


def _lint_cells(notebook: Notebook, path: str, options: LintOptions) -> list[Diagnostic]:
    if not notebook.cells:
        return []
    found = lint_source(notebook.python_source.encode("utf-8", "surrogatepass"), path, options)
    return sorted(map(notebook.locate, found), key=_cell_order)


def _cell_order(diagnostic: Diagnostic) -> tuple[Any, ...]:
    return (diagnostic.cell or 0, diagnostic.line, diagnostic.column, diagnostic.code, diagnostic.message)


def notebook_python_source(data: bytes) -> bytes:
    """The virtual Python source of a notebook (empty if it is not one), for the project index."""
    notebook = read_notebook(data, "")
    if isinstance(notebook, Diagnostic):
        return b""
    return notebook.python_source.encode("utf-8", "surrogatepass")


def fix_notebook(data: bytes, path: str, options: LintOptions, unsafe_fixes: bool = False) -> FixResult:
    """The notebook with its code cells fixed; only cells whose source changed are rewritten.

    All or nothing, as for a Python file: if the fixed source cannot be split back into the
    cells (a fix that crosses a cell boundary or touches a magic), the notebook is left as it
    was and the failure is reported as DRP901. Remaining findings are placed in their cells.
    """
    from ..fixes.fixer import FixResult, fix_source  # imported only when fixing

    notebook = read_notebook(data, path)
    if isinstance(notebook, Diagnostic):
        return FixResult(data, {}, [notebook])
    if not notebook.cells:
        return FixResult(data, {}, [])
    original = notebook.python_source.encode("utf-8", "surrogatepass")
    result = fix_source(original, path, options, unsafe_fixes)
    if result.source == original:
        return FixResult(data, {}, sorted(map(notebook.locate, result.remaining), key=_cell_order))
    new_cells = split_into_cells(notebook, result.source.decode("utf-8", "surrogatepass"))
    if isinstance(new_cells, str):
        problem = file_problem(
            path,
            INTERNAL_ERROR,
            f"internal error: {new_cells}; the notebook was left unchanged; please report it",
        )
        return FixResult(data, {}, [*_lint_cells(notebook, path, options), problem])
    rewritten = notebook.layout.dumps(_with_cell_sources(notebook, new_cells)).encode("utf-8")
    fixed_notebook = read_notebook(rewritten, path)
    assert isinstance(fixed_notebook, Notebook), "a notebook written back reads back"
    located = sorted(map(fixed_notebook.locate, result.remaining), key=_cell_order)
    return FixResult(rewritten, result.fixed, located)


def split_into_cells(notebook: Notebook, fixed_source: str) -> Union[dict[int, str], str]:
    """Each changed cell's new text, by cell number; or why the change cannot be split back.

    Lines the fix left alone keep their original text (magics included); a changed run of
    lines goes to the cell it replaced, and an insertion between two cells to the one above.
    """
    old = split_lines(notebook.python_source)
    new = split_lines(fixed_source)
    owners = [cell for cell in notebook.cells for _ in cell.lines]
    originals = [line for cell in notebook.cells for line in _original_terminated(cell)]
    new_lines: dict[int, list[str]] = {cell.number: [] for cell in notebook.cells}
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            for index in range(old_start, old_end):
                new_lines[owners[index].number].append(originals[index])
            continue
        touched = {owners[index].number for index in range(old_start, old_end)}
        if len(touched) > 1:
            return f"a fix changed lines in cells {' and '.join(map(str, sorted(touched)))} at once"
        if any(old[index] != originals[index] for index in range(old_start, old_end)):
            return "a fix changed a line of IPython syntax"
        owner = touched.pop() if touched else owners[max(old_start - 1, 0)].number
        new_lines[owner].extend(new[new_start:new_end])
    changed: dict[int, str] = {}
    for cell in notebook.cells:
        text = "".join(new_lines[cell.number])
        if not cell.text.endswith(("\n", "\r")) and text.endswith("\n"):
            text = text[:-1]
        if text != cell.text:
            changed[cell.number] = text
    return changed


def _original_terminated(cell: CodeCell) -> list[str]:
    """The cell's stored lines, the last one ending in a newline as in the virtual source."""
    lines = list(cell.lines)
    if not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    return lines


def _with_cell_sources(notebook: Notebook, new_text: dict[int, str]) -> dict[str, Any]:
    """A copy of the document with the changed cells' sources, stored as each was stored."""
    by_number = {cell.number: cell for cell in notebook.cells}
    cells = []
    for number, cell in enumerate(notebook.document["cells"], 1):
        if number in new_text:
            text = new_text[number]
            source: Union[str, list[str]] = split_lines(text) if by_number[number].source_is_list else text
            cell = {**cell, "source": source}
        cells.append(cell)
    return {**notebook.document, "cells": cells}


_SENTINEL = "\ue000dropout-lint-line\ue000"


def json_line_of(data: bytes, cell_number: int, line: int) -> Optional[int]:
    """The line of the notebook's JSON file that holds line ``line`` of cell ``cell_number``.

    Code-scanning tools (SARIF viewers, GitHub annotations) show a location as a line of the
    file they are given, the ``.ipynb`` JSON; this is the line where the cell's source line
    is stored. None when it cannot be found exactly: the cell or line does not exist, or the
    file's layout is not one this module reproduces byte for byte.
    """
    notebook = read_notebook(data, "")
    if not isinstance(notebook, Notebook):
        return None
    cells = notebook.document["cells"]
    if not 1 <= cell_number <= len(cells) or not isinstance(cells[cell_number - 1], dict):
        return None
    text = data.decode("utf-8")
    if notebook.layout.dumps(notebook.document) != text:
        return None
    document = copy.deepcopy(notebook.document)
    cell = document["cells"][cell_number - 1]
    source = cell.get("source")
    if isinstance(source, list):
        if not 1 <= line <= len(source):
            return None
        source[line - 1] = _SENTINEL
    elif isinstance(source, str):
        cell["source"] = _SENTINEL  # the whole source is one string on one JSON line
    else:
        return None
    marked = notebook.layout.dumps(document)
    offset = marked.find(_SENTINEL if not notebook.layout.ensure_ascii else "\\ue000")
    return None if offset < 0 else marked.count("\n", 0, offset) + 1
