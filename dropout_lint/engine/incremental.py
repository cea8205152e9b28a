"""Linting a file again after an edit, reusing the last findings where the edit cannot change them.

An editor sends the whole new text after each keystroke, and most keystrokes land where no
rule looks. The engine's answer is fixed by what libcst sees of the file (see
:mod:`dropout_lint.prefilter.reduction`): the statements around the rules' sites whole, and
every other top-level function and class as its header over an emptied body. An edit that
only changes such emptied bodies, and the comment lines between top-level statements,
leaves all of that as it was, lines moved, provided that each edited definition

- keeps its header and what it binds for the rest of the file (the imports and class
  statements inside it, which the prefilter reads everywhere),
- gains no site: the rules' own ``sites``, asked of its new text with the imports and class
  statements of the whole file and the statements libcst saw whole, find none in it,
- is not read by a rule that looks into other statements (one with its own ``sites``),
  which is so when that rule's trigger does not match it,

and the byte stage lets the same rules through. The findings are then the last ones, with
the lines the edit added or removed.

An edit inside one definition libcst saw whole (a class with a finding, or its base) is
re-linted with its class hierarchy (:mod:`.statement_links`) alone, when the file's rules
read other statements by name only (:data:`GROUPED_RULES`), the definition keeps its
header and what it binds, each statement of the hierarchy holds a site after the edit
exactly when it did before, the byte stage lets the same rules through, and libcst would write new lines as before (the
file's first line ending and indentation). libcst sees the file as a full lint does, but
with the statements the hierarchy mentions by their headers only, and every other
definition as one string over its lines (lines and columns unchanged). Its findings
replace those of the hierarchy; the other statements keep theirs, moved. Every finding and
fix of that lint must lie in the hierarchy, off the emptied and removed lines. The other
statements' fixes are kept only if the edit neither writes nor removes the name a fix's
``import torch.nn as nn`` binds, which a fix adds only where no statement uses it.

The fix loop lints each round's output with :func:`lint_after_fixes`, which keeps the
last findings of the statements a round did not change on the same grounds (a round edits
several classes, and may add or remove imports).

Anything else is linted whole by :func:`~dropout_lint.engine.lint.lint_source`, whose
findings the reuse must equal (see tests/test_incremental.py); so is every edit of a file
with a DRP9xx finding, an encoding declaration, or a rule outside :data:`CHECKED_RULES`
that may fire, an edit at a finding of a statement not linted again or at one of its
fix's edits, or above a line its message names, an edit that changes the file's first
line ending or indentation, and an edit in a whole statement of a file whose first
statement is a definition it does not need.
"""

from __future__ import annotations

import ast
import bisect
import difflib
import io
import re
import tokenize
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterator, Optional, Sequence

from ..analysis.torch_api import TORCH_NN_ALIAS
from ..prefilter.attribute_reads import AttributeReads
from ..prefilter.reduction import Reduction, reduced, without_lines
from ..prefilter.stages import byte_stage, syntax_stage
from ..prefilter.syntax_scan import SyntaxScan
from .diagnostics import Diagnostic, Edit, is_file_problem
from .lint import LintOptions, LintTrace, lint_source
from .rule import Rule
from .source_text import first_line, split_lines
from .statement_links import StatementNames, hierarchy_and_headers, statement_names

# The rules whose reading of other statements has been checked against the conditions
# above: through imports, class statements and the text their trigger matches. A file
# where any other rule may fire (DRP030's flow through the whole file, DRP100's reading of
# every directive) is linted whole at every edit.
CHECKED_RULES = frozenset({"DRP001", "DRP002", "DRP003", "DRP004", "DRP010", "DRP020"})
# The rules that read other statements by name only (see :mod:`.statement_links`), whose
# sites are in the statement they look at: an edit in a statement libcst saw whole is
# re-linted with its class hierarchy alone. DRP010 reads the classes that build and call
# those around its sites, and attributes named after a rank anywhere.
GROUPED_RULES = frozenset({"DRP001", "DRP002", "DRP003", "DRP004", "DRP020"})

_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# A coding declaration or byte order mark: the bytes would not decode to the text as it is.
_ENCODING_MARK = re.compile(r"coding[:=]|\ufeff")
_LINE_NUMBER = re.compile(r"\bline (\d+)")


@dataclass(frozen=True)
class _Segment:
    """Top-level statements on lines ``start:stop`` (0-based), one statement unless several
    share a line; ``whole`` when libcst saw them whole, not emptied; ``sited`` when they
    hold a site of some rule."""

    start: int
    stop: int
    whole: bool
    sited: bool = False


@dataclass(frozen=True)
class _Snapshot:
    """One lint of one text: what reuse needs of it."""

    path: str
    options: LintOptions
    text: str
    lines: list[str]
    rules: tuple[type[Rule], ...]
    segments: tuple[_Segment, ...]
    findings: tuple[Diagnostic, ...]
    # The newline and indentation libcst renders new code with (see :func:`_rendering`).
    rendering: Optional[tuple[str, str]]
    # Python source, one part a segment: the imports and class statements of an emptied
    # definition, or the statements libcst saw whole; the prefilter's view of the file.
    parts: tuple[str, ...]

    @property
    def surroundings(self) -> str:
        return "".join(self.parts)


class IncrementalLint:
    """One file's findings from one lint to the next: each text is linted as
    :func:`~dropout_lint.engine.lint.lint_source` lints it, reusing the last findings when
    the edit cannot change them. ``reused`` says whether the last :meth:`lint` did (all of
    them, or those of the statements not linked to an edited one)."""

    def __init__(self) -> None:
        self._last: Optional[_Snapshot] = None
        self.reused = False

    @property
    def primed(self) -> bool:
        """Whether the next edit may reuse something: the last lint got past the byte stage."""
        return self._last is not None

    def lint(self, text: str, path: str, options: LintOptions) -> list[Diagnostic]:
        """The findings of ``text``, exactly those of ``lint_source`` on its UTF-8 bytes."""
        edited = self._edited(text, path, options)
        self.reused = edited is not None
        if edited is not None:
            self._last = edited
            return list(edited.findings)
        trace = LintTrace()
        found = lint_source(text.encode("utf-8", "surrogatepass"), path, options, trace=trace)
        self._last = _snapshot(text, path, options, trace, found)
        return found

    def _edited(self, text: str, path: str, options: LintOptions) -> Optional[_Snapshot]:
        """The snapshot of ``text`` made from the last one, if the edit cannot change its findings."""
        last = self._last
        if last is None or last.path != path or last.options != options:
            return None
        if text == last.text:
            return last
        lines = split_lines(text)
        start, old_stop, _ = _changed_lines(last.lines, lines)
        if start < 2 and _ENCODING_MARK.search("".join(lines[:2])):
            return None
        if last.rendering is None or _rendering(text) != last.rendering:
            return None  # the fixes' new lines would be written otherwise
        touched = [
            index
            for index, segment in enumerate(last.segments)
            if (segment.start < start < segment.stop)
            or (start < old_stop and segment.start < old_stop and start < segment.stop)
        ]
        region = range(
            min([start, *(last.segments[i].start for i in touched)]),
            max([old_stop, *(last.segments[i].stop for i in touched)]),
        )
        moved = len(lines) - len(last.lines)
        region_text = "".join(lines[region.start : region.stop + moved])
        spans = _spans(region_text, region.start)
        if spans is None or len(spans) != len(touched):
            return None
        before = [_text(last.lines, last.segments[index]) for index in touched]
        after = ["".join(lines[first:stop]) for first, stop in spans]
        if any(last.segments[index].whole for index in touched):
            if len(touched) != 1:
                return None
            return _relinted_statement(last, text, lines, touched[0], spans[0], region, moved)
        if any(not _unseen_alike(old, new, last.rules) for old, new in zip(before, after)):
            return None
        if not _same_byte_stage(last, text):
            return None
        if after and _site_in(last, region_text) is not False:
            return None
        findings = []
        for finding in last.findings:
            where = _moved(finding, region, moved)
            if where is None:
                return None
            findings.append(where)
        first = touched[0] if touched else sum(s.stop <= region.start for s in last.segments)
        segments = (
            *last.segments[:first],
            *(_Segment(begin, stop, whole=False) for begin, stop in spans),
            *(replace(s, start=s.start + moved, stop=s.stop + moved) for s in last.segments[first + len(touched) :]),
        )
        return replace(last, text=text, lines=lines, segments=segments, findings=tuple(findings))


def _same_byte_stage(last: _Snapshot, text: str) -> bool:
    """Whether the byte stage lets the same rules through ``text`` as the last text."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data) <= last.options.max_file_size and tuple(byte_stage(data, last.options.rules)) == last.rules


def _relinted_statement(
    last: _Snapshot, text: str, lines: list[str], index: int, span: tuple[int, int], region: range, moved: int
) -> Optional[_Snapshot]:
    """The snapshot of ``text``, where only segment ``index``, which libcst saw whole, was
    edited (lines ``region`` became ``moved`` more, the segment now lines ``span``): its
    class hierarchy (:mod:`.statement_links`) is linted again, in a text where the
    statements it mentions are headers and every other definition is a string over its
    lines, and the other findings are the last ones. None when that is not shown to equal
    a full lint: the statement's header or what it binds changed, a statement of the
    hierarchy gained or lost its sites, a rule reads beyond names, or a finding or fix of
    the re-lint lies outside the hierarchy."""
    segment = last.segments[index]
    old, new = _text(last.lines, segment), "".join(lines[span[0] : span[1]])
    if _outline(old) != _outline(new) or _outline(new)[0] != "definition":
        return None
    if any(rule.code not in GROUPED_RULES for rule in last.rules) or not _same_byte_stage(last, text):
        return None
    segments = (
        *last.segments[:index],
        _Segment(*span, whole=True, sited=segment.sited),
        *(replace(s, start=s.start + moved, stop=s.stop + moved) for s in last.segments[index + 1 :]),
    )
    texts = [_text(lines, each) for each in segments]
    views = [source if each.whole else _header(source) for source, each in zip(texts, segments)]
    headers = [_header(source) if each.whole else view for source, each, view in zip(texts, segments, views)]
    seen = [statement_names(view) for view in views]
    heads = [statement_names(header) for header in headers]
    if any(names is None for names in (*seen, *heads)):
        return None
    hierarchy, needed = hierarchy_and_headers(seen, heads, index)  # type: ignore[arg-type]
    sited = _sited(last, texts, hierarchy)
    if sited is None or any(sited[number] is not segments[number].sited for number in hierarchy):
        return None  # what libcst sees whole would change
    definitions = [names.is_definition for names in seen]  # type: ignore[union-attr]
    if definitions[0] and 0 not in hierarchy | needed:
        return None  # a string in its place would be the module's docstring
    relint_lines = list(lines)
    emptied: list[range] = []
    for number, each in enumerate(segments):
        shown = views[number] if number in hierarchy else headers[number]
        if definitions[number] and (number in hierarchy or number in needed) and shown != texts[number]:
            relint_lines[each.start : each.stop] = split_lines(shown)
            body = _emptied(texts[number])
            if body is not None:
                emptied.extend(range(each.start + r.start, each.start + r.stop) for r in body.emptied)
    runs = _runs(segments, [gone and number not in hierarchy | needed for number, gone in enumerate(definitions)])
    trace = LintTrace()
    found = lint_source(
        without_lines(relint_lines, runs).encode("utf-8", "surrogatepass"),
        last.path,
        last.options,
        trace=trace,
        passed_byte_stage={rule.code for rule in last.rules},  # the file's, as a full lint has them
    )
    if not (trace.no_sites or trace.emptied is not None) or any(is_file_problem(d) for d in found):
        return None
    removed = Reduction("", (*runs, *emptied))
    starts = [each.start for each in segments]
    for finding in found:
        at = _segment_at(starts, segments, finding.line - 1)
        if at not in hierarchy or not definitions[at]:
            return None
        if finding.fix is not None and not removed.holds_all(finding.fix.edits):
            return None
    kept = []
    old_starts = [each.start for each in last.segments]
    # A fix elsewhere adds `import torch.nn as nn` only where no statement uses `nn`: it is
    # kept only if the edit neither wrote nor removed that name.
    old_names, new_names = statement_names(old), statement_names(new)
    same_alias_use = (
        old_names is not None
        and new_names is not None
        and (TORCH_NN_ALIAS in old_names.identifiers) == (TORCH_NN_ALIAS in new_names.identifiers)
    )
    for finding in last.findings:
        at = _segment_at(old_starts, last.segments, finding.line - 1)
        if at is None or not definitions[at]:
            return None
        if at not in hierarchy:
            if finding.fix is not None and not same_alias_use:
                return None
            where = _moved(finding, region, moved)
            if where is None:
                return None
            kept.append(where)
    parts = (*last.parts[:index], new.rstrip("\r\n") + "\n", *last.parts[index + 1 :])
    findings = tuple(sorted([*found, *kept]))
    return replace(last, text=text, lines=lines, segments=segments, findings=findings, parts=parts)


def _header(text: str) -> str:
    """A definition with its body emptied, as the reduced file shows it; anything else as it is."""
    part = _emptied(text)
    return part.text if part is not None else text


def _runs(segments: Sequence[_Segment], removed: Sequence[bool]) -> list[range]:
    """The lines of each run of removed segments with no kept one between them."""
    runs: list[range] = []
    open_run: Optional[range] = None
    for segment, gone in zip(segments, removed):
        if gone:
            open_run = range(open_run.start if open_run else segment.start, segment.stop)
        elif open_run is not None:
            runs.append(open_run)
            open_run = None
    if open_run is not None:
        runs.append(open_run)
    return runs


def _segment_at(starts: list[int], segments: Sequence[_Segment], line: int) -> Optional[int]:
    """The index of the segment holding 0-based ``line``, if any."""
    index = bisect.bisect_right(starts, line) - 1
    return index if index >= 0 and line < segments[index].stop else None


def _snapshot(
    text: str, path: str, options: LintOptions, trace: LintTrace, found: Sequence[Diagnostic]
) -> Optional[_Snapshot]:
    """What a later edit may reuse of this lint; None when it may not (see the module's doc)."""
    tree = trace.tree
    if (
        tree is None
        or not (trace.no_sites or trace.emptied is not None)
        or any(rule.code not in CHECKED_RULES for rule in trace.rules)
        or any(is_file_problem(d) for d in found)
        or "barry_as_FLUFL" in text  # it changes how a statement parses, alone or in the file
    ):
        return None
    lines = split_lines(text)
    if _ENCODING_MARK.search("".join(lines[:2])):
        return None
    emptied_starts = sorted(body.start for body in trace.emptied or ())
    segments: list[_Segment] = []
    statements: list[list[ast.stmt]] = []
    for number, statement in enumerate(tree.body):
        begin, stop = _lines_of(statement)
        sited = number in trace.sites
        if segments and begin < segments[-1].stop:
            last = segments[-1]
            segments[-1] = replace(last, stop=max(stop, last.stop), sited=last.sited or sited)
            statements[-1].append(statement)
        else:
            segments.append(_Segment(begin, stop, whole=True, sited=sited))
            statements.append([statement])
    parts = []
    for index, segment in enumerate(segments):
        if trace.no_sites or _holds_one(emptied_starts, segment):
            segments[index] = replace(segment, whole=False)
            parts.append("".join(_binding_source(node) for statement in statements[index] for node in _bindings(statement)))
        else:
            parts.append(_text(lines, segment).rstrip("\r\n") + "\n")
    return _Snapshot(path, options, text, lines, trace.rules, tuple(segments), tuple(found), _rendering(text), tuple(parts))


def _rendering(text: str) -> Optional[tuple[str, str]]:
    """What libcst writes new lines of a fix with: the file's first line ending, and the
    indentation of its first indented block (its first INDENT token); None if the
    tokenizer fails before saying."""
    newline = re.search(r"\r\n|\r|\n", text)
    indent = "    "
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.INDENT:
                indent = token.string
                break
    except (tokenize.TokenError, SyntaxError):
        return None
    return (newline.group(0) if newline else "\n", indent)


def _holds_one(starts: list[int], segment: _Segment) -> bool:
    """Whether one of the sorted lines ``starts`` is in the segment."""
    index = bisect.bisect_left(starts, segment.start)
    return index < len(starts) and starts[index] < segment.stop


def _changed_lines(old: list[str], new: list[str]) -> tuple[int, int, int]:
    """The lines that differ: ``old[start:old_stop]`` became ``new[start:new_stop]``."""
    limit = min(len(old), len(new))
    start = 0
    while start < limit and old[start] == new[start]:
        start += 1
    same_end = 0
    while same_end < limit - start and old[-1 - same_end] == new[-1 - same_end]:
        same_end += 1
    return start, len(old) - same_end, len(new) - same_end


def _lines_of(statement: ast.stmt, offset: int = 0) -> tuple[int, int]:
    """The 0-based lines ``start:stop`` of a statement, its decorators included."""
    return first_line(statement) - 1 + offset, statement.end_lineno + offset  # type: ignore[operator]


def _spans(text: str, offset: int) -> Optional[list[tuple[int, int]]]:
    """The segments of ``text`` parsed alone, as lines of the file it starts at ``offset``
    of; None if it does not parse alone (it then needs the file around it)."""
    if "\0" in text:
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    spans: list[tuple[int, int]] = []
    for statement in tree.body:
        start, stop = _lines_of(statement, offset)
        if spans and start < spans[-1][1]:
            spans[-1] = (spans[-1][0], max(stop, spans[-1][1]))
        else:
            spans.append((start, stop))
    return spans


def _text(lines: list[str], segment: _Segment) -> str:
    return "".join(lines[segment.start : segment.stop])


def _unseen_alike(old: str, new: str, rules: Sequence[type[Rule]]) -> bool:
    """Whether ``old`` and ``new``, one definition emptied before and after, look the same to
    the rest of the file, and no rule that reads other statements reads either."""
    if _outline(old) != _outline(new) or _outline(new)[0] != "definition":
        return False
    return not any(
        rule.trigger.search(text.encode("utf-8", "surrogatepass"))
        for rule in rules
        if _reads_other_statements(rule)
        for text in (old, new)
    )


def _reads_other_statements(rule: type[Rule]) -> bool:
    """Whether the rule's sites in a statement may depend on other statements' bodies: it
    states its own ``sites``, or looks for attribute reads, which are sites only in a class
    whose hierarchy stores no such attribute."""
    return rule.sites.__func__ is not Rule.sites.__func__ or any(  # type: ignore[attr-defined]
        isinstance(statement, AttributeReads) for statement in rule.looks_for
    )


@lru_cache(maxsize=1024)
def _outline(text: str) -> tuple[object, ...]:
    """What one segment shows the rest of the file when its body is emptied: its header,
    and the imports and class statements inside it; for anything else, its text."""
    part = _emptied(text)
    if part is None:
        return ("text", text)
    header = "".join(split_lines(text)[: part.emptied[0].start])
    return ("definition", header, tuple(_binding_source(node) for node in _bindings(ast.parse(text).body[0])))


@lru_cache(maxsize=4096)
def _emptied(text: str) -> Optional[Reduction]:
    """One definition with its body emptied, as the reduced file shows it; None for
    anything else, or a body that is not emptied (on its header's line)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], _DEFINITIONS):
        return None
    part = reduced(text, tree, ())
    return part if part.emptied else None


def _bindings(statement: ast.stmt) -> Iterator[ast.stmt]:
    """The imports and class statements in ``statement``, itself included, in order."""
    pending: list[ast.AST] = [statement]
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.ClassDef)):
            yield node  # type: ignore[misc]
        children = [
            child
            for child in ast.iter_child_nodes(node)
            if isinstance(child, (ast.stmt, ast.excepthandler, ast.match_case))
        ]
        pending.extend(reversed(children))


def _binding_source(node: ast.stmt) -> str:
    """An import as it is, or a class statement with its bases and an empty body."""
    if isinstance(node, ast.ClassDef):
        arguments = ", ".join(ast.unparse(argument) for argument in [*node.bases, *node.keywords])
        return f"class {node.name}({arguments}):\n    pass\n"
    return ast.unparse(node) + "\n"


def _sited(last: _Snapshot, texts: Sequence[str], members: set[int]) -> Optional[dict[int, bool]]:
    """Whether each segment of ``members`` holds a site, its text now ``texts[i]``, asked
    with the rest of the file as the prefilter sees it (the other segments'
    :attr:`_Snapshot.parts`); None when a rule cannot say."""
    pieces = [part for number, part in enumerate(last.parts) if number not in members]
    line = len(split_lines("".join(pieces))) + 1
    bounds: list[tuple[int, int]] = []  # (first line, member), in order
    for number in sorted(members):
        bounds.append((line, number))
        piece = texts[number].rstrip("\r\n") + "\n"
        pieces.append(piece)
        line += len(split_lines(piece))
    sites = _sites_of(last.rules, "".join(pieces))
    if sites is None:
        return None
    found = dict.fromkeys(members, False)
    firsts = [first for first, _ in bounds]
    for node in sites:
        at = bisect.bisect_right(firsts, getattr(node, "lineno", 0)) - 1
        if at >= 0:
            found[bounds[at][1]] = True
    return found


def _site_in(last: _Snapshot, region: str) -> Optional[bool]:
    """Whether a rule finds a site in the edited ``region``, asked with the rest of the file
    as the prefilter sees it (:attr:`_Snapshot.surroundings`); None when a rule cannot say
    (it may report anywhere)."""
    surroundings = last.surroundings
    first_line = surroundings.count("\n") + 1
    sites = _sites_of(last.rules, surroundings + region)
    if sites is None:
        return None
    return any(getattr(node, "lineno", first_line) >= first_line for node in sites)


def _sites_of(rules: Sequence[type[Rule]], source: str) -> Optional[list[ast.AST]]:
    """Every site the ``rules`` find in ``source``; None when it does not parse or a rule
    cannot say (it may report anywhere)."""
    try:
        scan = SyntaxScan(ast.parse(source), source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found: list[ast.AST] = []
    for rule in rules:
        try:
            sites = rule.sites(scan)
        except Exception:  # noqa: BLE001 - a rule whose sites fail may report anywhere
            return None
        if sites is None:
            return None
        found.extend(sites)
    return found


def _moved(finding: Diagnostic, region: range, moved: int) -> Optional[Diagnostic]:
    """``finding`` where it is after lines ``region`` became ``moved`` more; None if it, or
    an edit of its fix, is in or at the region, or its message names a line that moved."""
    if moved and any(int(number) > region.start for number in _LINE_NUMBER.findall(finding.message)):
        return None

    def line(number: int) -> Optional[int]:
        index = number - 1
        if index < region.start:
            return number
        if index >= region.stop and index != region.start:
            return number + moved
        return None

    return _renumbered(finding, line)


def _renumbered(finding: Diagnostic, line: Callable[[int], Optional[int]]) -> Optional[Diagnostic]:
    """``finding`` and its fix's edits with each line number ``n`` made ``line(n)``; None
    if one of them has no line."""
    start, end = line(finding.line), line(finding.end_line)
    if start is None or end is None:
        return None
    fix = finding.fix
    if fix is not None:
        edits = []
        for edit in fix.edits:
            first, last = line(edit.start[0]), line(edit.end[0])
            if first is None or last is None:
                return None
            edits.append(Edit((first, edit.start[1]), (last, edit.end[1]), edit.content))
        fix = replace(fix, edits=tuple(edits))
    return replace(finding, line=start, end_line=end, fix=fix)


@dataclass(frozen=True)
class LintedVersion:
    """One version of a file as the fix loop linted it: its text, CPython's tree, the rules
    its byte stage let through, the top-level statements that hold a site (None: not
    known) and its findings."""

    text: str
    tree: ast.Module
    rules: tuple[type[Rule], ...]
    sites: Optional[frozenset[int]]
    findings: tuple[Diagnostic, ...]


def lint_after_fixes(
    last: LintedVersion, text: str, data: bytes, tree: ast.Module, path: str, options: LintOptions
) -> LintedVersion:
    """The lint of ``data`` (``text`` decoded, ``tree`` CPython's tree), which a round of
    fixes made from ``last``'s text: the findings of ``lint_source``, which runs only when
    :func:`_findings_kept` cannot show them to be ``last``'s."""
    rules = tuple(byte_stage(data, options.rules))
    statements: Optional[set[int]] = None
    found: Optional[list[Diagnostic]] = None
    if len(data) <= options.max_file_size:
        sited, where = syntax_stage(rules, SyntaxScan(tree, text, path, options.mode_summaries))
        statements = None if where is None else where.statements
        found = _findings_kept(last, text, tree, sited, statements)
    if found is None:
        found = lint_source(data, path, options, tree=tree, passed_byte_stage={rule.code for rule in rules})
    sites = None if statements is None else frozenset(statements)
    return LintedVersion(text, tree, rules, sites, tuple(found))


def _findings_kept(
    last: LintedVersion, text: str, tree: ast.Module, rules: Sequence[type[Rule]], statements: Optional[set[int]]
) -> Optional[list[Diagnostic]]:
    """The findings of ``text``, whose ``rules`` have sites in the top-level ``statements``,
    when they are those ``last`` found in the same statements, moved; None when that is not
    shown. It is when those rules read other statements by name only (:data:`GROUPED_RULES`)
    and ran on ``last``; each statement holding a site held one in ``last``, with the same
    text and the same class hierarchy (:mod:`.statement_links`), of unchanged statements;
    and each statement the fixes changed is a definition that keeps its header and what it
    binds (:func:`_outline`), or an import whose names neither those hierarchies nor the
    statements they need mention. A finding with a fix is kept when its edits lie in
    unchanged statements, no import changed and libcst renders new lines alike."""
    if statements is None or last.sites is None or any(is_file_problem(d) for d in last.findings):
        return None
    if not rules:
        return []
    codes = {rule.code for rule in rules}
    if not codes <= GROUPED_RULES or not codes <= {rule.code for rule in last.rules}:
        return None
    old, new = _Version(last.text, last.tree), _Version(text, tree)
    if old.names is None or new.names is None:
        return None
    matched = _matched_spans(old, new)
    if matched is None:
        return None
    same, import_names = matched
    sited = {new.span_of[number] for number in statements}
    old_sited = {old.span_of[number] for number in last.sites}
    for span in sited:
        if same.get(span) not in old_sited:
            return None
        hierarchy, needed = hierarchy_and_headers(new.names, new.names, span)
        old_hierarchy, old_needed = hierarchy_and_headers(old.names, old.names, same[span])
        if {same.get(member) for member in hierarchy} != old_hierarchy:
            return None
        mentioned = [new.names[i].mentions for i in hierarchy | needed]
        mentioned += [old.names[i].mentions for i in old_hierarchy | old_needed]
        if any(import_names & names for names in mentioned):
            return None
    old_to_new = {before: after for after, before in same.items()}
    kept = {same[span] for span in sited}
    found = []
    for finding in last.findings:
        at = old.span_at(finding.line - 1)
        if at is None:
            return None
        if at not in kept:
            continue  # its statement holds no site now: nothing is found there
        moved = _moved_by_spans(finding, old, new, old_to_new)
        if moved is None or finding.code not in codes:
            return None
        found.append(moved)
    if any(d.fix is not None for d in found) and (import_names or _rendering(text) != _rendering(last.text)):
        return None  # the fixes would spell torch.nn, or write new lines, otherwise
    return sorted(found)


class _Version:
    """A text's top-level statements as spans of lines (statements sharing a line in one),
    with the names of each (None if one does not parse alone)."""

    def __init__(self, text: str, tree: ast.Module) -> None:
        self.lines = split_lines(text)
        self.spans: list[tuple[int, int]] = []
        self.span_of: dict[int, int] = {}  # statement index -> span index
        for number, statement in enumerate(tree.body):
            start, stop = _lines_of(statement)
            if self.spans and start < self.spans[-1][1]:
                self.spans[-1] = (self.spans[-1][0], max(stop, self.spans[-1][1]))
            else:
                self.spans.append((start, stop))
            self.span_of[number] = len(self.spans) - 1
        self.texts = ["".join(self.lines[start:stop]) for start, stop in self.spans]
        names = [statement_names(text) for text in self.texts]
        self.names: Optional[list[StatementNames]] = None if None in names else names  # type: ignore[assignment]
        self._starts = [start for start, _ in self.spans]

    def span_at(self, line: int) -> Optional[int]:
        """The span holding 0-based ``line``, if any."""
        index = bisect.bisect_right(self._starts, line) - 1
        return index if index >= 0 and line < self.spans[index][1] else None


def _matched_spans(old: _Version, new: _Version) -> Optional[tuple[dict[int, int], set[str]]]:
    """Each span of ``new`` with the same text as one of ``old``, and the names bound by the
    imports added or removed; None when a changed span is neither a definition that keeps
    its outline nor an import."""
    same: dict[int, int] = {}
    import_names: set[str] = set()
    matcher = difflib.SequenceMatcher(None, old.texts, new.texts, autojunk=False)
    for tag, old_start, old_stop, new_start, new_stop in matcher.get_opcodes():
        if tag == "equal":
            same.update(zip(range(new_start, new_stop), range(old_start, old_stop)))
            continue
        if tag == "replace" and old_stop - old_start == new_stop - new_start:
            pairs = zip(old.texts[old_start:old_stop], new.texts[new_start:new_stop])
            if all(_keeps_outline(before, after) for before, after in pairs):
                continue
        changed = [*old.texts[old_start:old_stop], *new.texts[new_start:new_stop]]
        if not all(_is_import(text) for text in changed):
            return None
        for text in changed:
            import_names.update(statement_names(text).binds)  # type: ignore[union-attr]
    return same, import_names


def _keeps_outline(before: str, after: str) -> bool:
    """Whether both are one definition, alike to the rest of the file (:func:`_outline`)."""
    return _outline(before) == _outline(after) and _outline(after)[0] == "definition"


def _is_import(text: str) -> bool:
    """Whether ``text`` is one import statement."""
    body = ast.parse(text).body
    return len(body) == 1 and isinstance(body[0], (ast.Import, ast.ImportFrom))


def _moved_by_spans(
    finding: Diagnostic, old: _Version, new: _Version, old_to_new: dict[int, int]
) -> Optional[Diagnostic]:
    """``finding`` where its span and those of its fix's edits are in ``new``; None if one
    is in a span that changed, or its message names a line that moved or changed."""

    def line(number: int) -> Optional[int]:
        at = old.span_at(number - 1)
        if at is None or at not in old_to_new:
            return None
        return number + new.spans[old_to_new[at]][0] - old.spans[at][0]

    if any(line(int(number)) != int(number) for number in _LINE_NUMBER.findall(finding.message)):
        return None
    return _renumbered(finding, line)
