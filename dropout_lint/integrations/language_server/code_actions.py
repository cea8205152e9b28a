"""The code actions: a quick fix per finding, fix-all, and a ``# noqa`` for the line.

Every fix is the command's: fix-all is ``dropout-lint --fix`` on the document, and a
finding's quick fix is what ``--fix`` writes when that finding is the only one it applies
(:func:`fixed_for_finding`, the one place that knows how). Edits are computed lazily when
the client can resolve code actions.
"""

from __future__ import annotations

import ast
from dataclasses import replace
from typing import Optional

import libcst as cst
from lsprotocol import types

from ...engine.diagnostics import Applicability, Diagnostic, is_file_problem
from ...engine.lint import LintOptions, check_context, file_context
from ...engine.noqa import with_noqa
from ...engine.source_text import split_lines
from ...fixes.fixer import fix_source, is_applicable
from ...rules import ALL_RULES
from ..notebook import Notebook, fix_notebook, read_notebook, split_into_cells
from .diagnostics import SOURCE_NAME, to_lsp
from .documents import Checked, lint_options
from .edits import text_edits

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE_NAME}"
QUICK_FIX, NOQA, FIX_ALL = "quickfix", "noqa", "fixAll"


def fixed_for_finding(
    source: bytes, path: str, options: LintOptions, finding: Diagnostic, unsafe_fixes: bool
) -> Optional[bytes]:
    """``source`` as ``--fix`` writes it when ``finding`` is the only fix it may apply; None
    when the finding has no fix that applies, or the fix would not parse.

    One pass of the fix loop with the finding's rule given only that finding (it is found
    again on the whole file, so its tree node is the fixer's own). When findings carry
    their edits as data, this becomes a lookup.
    """
    rule = next((r for r in options.rules if r.code == finding.code and r.has_fix()), None)
    if rule is None or not is_applicable(finding, [rule.code], unsafe_fixes):
        return None
    context = file_context(cst.parse_module(source), path, options)
    target = next((d for d in check_context(context, [rule]) if _same_place(d, finding)), None)
    if target is None:
        return None
    fixed = rule.fix_module(context, [target]).bytes
    try:
        ast.parse(fixed)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return None if fixed == source else fixed


def _same_place(a: Diagnostic, b: Diagnostic) -> bool:
    return (a.code, a.line, a.column, a.end_line, a.end_column) == (b.code, b.line, b.column, b.end_line, b.end_column)


def has_quick_fix(finding: Diagnostic, checked: Checked, unsafe_fixes: bool) -> bool:
    fixable = [rule.code for rule in checked.settings.rules_for(checked.subject.path, ALL_RULES) if rule.has_fix()]
    return is_applicable(finding, fixable, unsafe_fixes)


def quick_fix_edit(checked: Checked, finding: Diagnostic, unsafe_fixes: bool, encoding: str) -> Optional[types.WorkspaceEdit]:
    """The edit of the finding's quick fix, in its file or in the cells it changes."""
    subject = checked.subject
    options = lint_options(subject, checked.settings)
    if not subject.is_notebook:
        fixed = fixed_for_finding(subject.source(), subject.path, options, finding, unsafe_fixes)
        return None if fixed is None else _edit({subject.uri: (subject.text, fixed.decode("utf-8", "surrogatepass"))}, encoding)
    notebook = subject.notebook()
    virtual = notebook.python_source.encode("utf-8", "surrogatepass")
    fixed = fixed_for_finding(virtual, subject.path, options, _in_virtual_source(notebook, finding), unsafe_fixes)
    if fixed is None:
        return None
    cells = split_into_cells(notebook, fixed.decode("utf-8", "surrogatepass"))
    return None if isinstance(cells, str) else _cell_edit(checked, cells, encoding)


def fix_all_edit(checked: Checked, unsafe_fixes: bool, encoding: str) -> Optional[types.WorkspaceEdit]:
    """``dropout-lint --fix`` on the document (or notebook), as an edit; None if it changes nothing."""
    subject = checked.subject
    options = lint_options(subject, checked.settings)
    if not subject.is_notebook:
        result = fix_source(subject.source(), subject.path, options, unsafe_fixes)
        after = result.source.decode("utf-8", "surrogatepass")
        return None if after == subject.text else _edit({subject.uri: (subject.text, after)}, encoding)
    result = fix_notebook(subject.source(), subject.path, options, unsafe_fixes)
    fixed = read_notebook(result.source, subject.path)
    if not isinstance(fixed, Notebook) or result.source == subject.source():
        return None
    cells = {cell.number: cell.text for cell in fixed.cells}
    changed = {number: text for number, text in cells.items() if text != subject.cells[number - 1].text}
    return _cell_edit(checked, changed, encoding) if changed else None


def noqa_edit(checked: Checked, finding: Diagnostic, encoding: str) -> types.WorkspaceEdit:
    """Add ``# noqa: CODE`` to the finding's line, or the code to the noqa already there."""
    uri = checked.subject.uri_of(finding)
    text = checked.subject.text_of(uri)
    lines = split_lines(text)
    index = finding.line - 1
    if index < len(lines):
        lines[index] = with_noqa(lines[index], finding.code)
    else:
        lines.append(with_noqa("", finding.code))
    return _edit({uri: (text, "".join(lines))}, encoding)


def actions_for(
    checked: Checked,
    uri: str,
    request_range: types.Range,
    only: Optional[list[str]],
    unsafe_fixes: bool,
    lazy: bool,
    encoding: str,
) -> list[types.CodeAction]:
    """The actions on offer for ``request_range`` of document ``uri``; edits left out when ``lazy``."""
    actions = []

    def wants(kind: str) -> bool:
        return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)

    if wants(types.CodeActionKind.QuickFix.value):
        for index, finding in enumerate(checked.findings):
            if checked.subject.uri_of(finding) != uri or not _overlaps(finding, request_range):
                continue
            if has_quick_fix(finding, checked, unsafe_fixes):
                actions.append(_action(checked, index, QUICK_FIX, _quick_fix_title(finding), lazy, unsafe_fixes, encoding))
            if not is_file_problem(finding):  # `# noqa` cannot silence a problem with the file
                actions.append(_action(checked, index, NOQA, f"Disable {finding.code} for this line", lazy, unsafe_fixes, encoding))
    if wants(FIX_ALL_KIND) and any(has_quick_fix(f, checked, unsafe_fixes) for f in checked.findings):
        actions.append(_action(checked, None, FIX_ALL, "dropout-lint: fix all", lazy, unsafe_fixes, encoding))
    return actions


def resolve(action: types.CodeAction, checked: Checked, unsafe_fixes: bool, encoding: str) -> types.CodeAction:
    """``action`` with its edit, if it was made for this version of the document."""
    data = action.data if isinstance(action.data, dict) else {}
    if data.get("version") != checked.subject.version or data.get("action") not in (QUICK_FIX, NOQA, FIX_ALL):
        return action
    action.edit = _compute(checked, data.get("finding"), data["action"], unsafe_fixes, encoding)
    return action


def _action(
    checked: Checked, index: Optional[int], action: str, title: str, lazy: bool, unsafe_fixes: bool, encoding: str
) -> types.CodeAction:
    finding = None if index is None else checked.findings[index]
    kind = {QUICK_FIX: types.CodeActionKind.QuickFix, NOQA: types.CodeActionKind.QuickFix}.get(action, FIX_ALL_KIND)
    return types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=None if finding is None else [to_lsp(checked, finding, encoding)],
        is_preferred=action == QUICK_FIX and finding is not None and finding.fix is not None
        and finding.fix.applicability is Applicability.SAFE,
        edit=None if lazy else _compute(checked, index, action, unsafe_fixes, encoding),
        data={"uri": checked.subject.uri, "version": checked.subject.version, "finding": index, "action": action},
    )


def _compute(checked: Checked, index: Optional[int], action: str, unsafe_fixes: bool, encoding: str) -> Optional[types.WorkspaceEdit]:
    if action == FIX_ALL:
        return fix_all_edit(checked, unsafe_fixes, encoding)
    finding = checked.findings[index]
    if action == NOQA:
        return noqa_edit(checked, finding, encoding)
    return quick_fix_edit(checked, finding, unsafe_fixes, encoding)


def _quick_fix_title(finding: Diagnostic) -> str:
    assert finding.fix is not None
    unsafe = " (unsafe)" if finding.fix.applicability is Applicability.UNSAFE else ""
    return f"Fix {finding.code}: {finding.fix.description}{unsafe}"


def _overlaps(finding: Diagnostic, request: types.Range) -> bool:
    """Whether the finding's lines meet the requested ones (columns are the client's units)."""
    return finding.line - 1 <= request.end.line and request.start.line <= finding.end_line - 1


def _in_virtual_source(notebook: Notebook, finding: Diagnostic) -> Diagnostic:
    """A finding placed in its cell, moved back to the notebook's joined Python source."""
    cell = next(cell for cell in notebook.cells if cell.number == finding.cell)
    offset = cell.first_line - 1
    return replace(finding, cell=None, line=finding.line + offset, end_line=finding.end_line + offset)


def _cell_edit(checked: Checked, new_texts: dict[int, str], encoding: str) -> types.WorkspaceEdit:
    cells = checked.subject.cells or ()
    return _edit({cells[number - 1].uri: (cells[number - 1].text, text) for number, text in new_texts.items()}, encoding)


def _edit(changes: dict[str, tuple[str, str]], encoding: str) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(
        changes={
            uri: [
                types.TextEdit(
                    types.Range(
                        types.Position(edit.start.line, edit.start.character),
                        types.Position(edit.end.line, edit.end.character),
                    ),
                    edit.new_text,
                )
                for edit in text_edits(before, after, encoding)
            ]
            for uri, (before, after) in changes.items()
        }
    )
