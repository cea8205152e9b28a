"""The code actions: a quick fix per finding, fix-all, and a ``# noqa`` for the line.

Every change is the command's: fix-all is ``dropout-lint --fix`` on the document, a finding's
quick fix applies the text edits the finding carries with ``--fix``'s applier (what ``--fix``
writes when that fix is the only one it applies), and the ``# noqa`` is written by
``--add-noqa``'s code. In a notebook, both are made on its joined Python source, where the
finding's edits are, and split back into the cells. Edits are computed lazily when the client
can resolve code actions.
"""

from __future__ import annotations

import ast
import io
import tokenize
from typing import Callable, Optional

from lsprotocol import types

from ...engine.diagnostics import Applicability, Diagnostic, is_file_problem
from ...engine.lint import lint_source
from ...fixes.noqa_directives import add_noqa
from ...fixes.text_edits import apply_fixes
from ...rules import ALL_RULES
from ..notebook import Notebook, fix_notebook, read_notebook, split_into_cells
from .diagnostics import SOURCE_NAME, to_lsp
from .documents import Checked, lint_options
from .edits import text_edits

FIX_ALL_KIND = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE_NAME}"
QUICK_FIX, NOQA, FIX_ALL = "quickfix", "noqa", "fixAll"

# A change to one finding's source: the new bytes, or None when there is none to make.
SourceChange = Callable[[bytes, Diagnostic], Optional[bytes]]


def fixed_for_finding(source: bytes, finding: Diagnostic) -> Optional[bytes]:
    """``source`` with the finding's fix applied, as ``--fix`` applies it when that fix is the
    only one it may apply (imports it leaves unused go too); None when it changes nothing
    or the result would not parse."""
    if finding.fix is None:
        return None
    from ...fixes.fixer import round_output

    encoding, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
    text = source.decode(encoding)
    fixed, applied = apply_fixes(text, [finding.fix])
    if not applied or fixed == text:
        return None
    try:
        before = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    outcome = round_output(before, text, fixed, finding.path, encoding, source)
    return None if isinstance(outcome, str) else outcome[1]


def with_noqa(source: bytes, finding: Diagnostic) -> Optional[bytes]:
    """``source`` with ``# noqa: CODE`` on the finding's line (merged into a directive already
    there), as ``--add-noqa`` writes it; None where the line cannot hold a comment (it ends
    inside a string or after a backslash)."""
    outcome = add_noqa(source, {finding.line: {finding.code}})
    return outcome.source if outcome.added else None


def has_quick_fix(finding: Diagnostic, checked: Checked, unsafe_fixes: bool) -> bool:
    from ...fixes.fixer import is_applicable  # imported only once a finding is there

    fixable = [rule.code for rule in checked.settings.rules_for(checked.subject.path, ALL_RULES) if rule.has_fix()]
    return is_applicable(finding, fixable, unsafe_fixes)


def quick_fix_edit(checked: Checked, finding: Diagnostic, unsafe_fixes: bool, encoding: str) -> Optional[types.WorkspaceEdit]:
    """The edit of the finding's quick fix, in its file or in the cells it changes."""
    if not has_quick_fix(finding, checked, unsafe_fixes):
        return None
    return _changed_at(checked, finding, fixed_for_finding, encoding)


def fix_all_edit(checked: Checked, unsafe_fixes: bool, encoding: str) -> Optional[types.WorkspaceEdit]:
    """``dropout-lint --fix`` on the document (or notebook), as an edit; None if it changes nothing."""
    from ...fixes.fixer import fix_source

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


def noqa_edit(checked: Checked, finding: Diagnostic, encoding: str) -> Optional[types.WorkspaceEdit]:
    """The edit that adds ``# noqa: CODE`` to the finding's line; None where it cannot."""
    return _changed_at(checked, finding, with_noqa, encoding)


def _changed_at(checked: Checked, finding: Diagnostic, change: SourceChange, encoding: str) -> Optional[types.WorkspaceEdit]:
    """``change`` made for ``finding`` in its file, or in the notebook's joined source and
    split back into the cells it changes; None if there is nothing it can change."""
    subject = checked.subject
    if not subject.is_notebook:
        changed = change(subject.source(), finding)
        if changed is None:
            return None
        return _edit({subject.uri: (subject.text, changed.decode("utf-8", "surrogatepass"))}, encoding)
    notebook = subject.notebook()
    virtual = notebook.python_source.encode("utf-8", "surrogatepass")
    found = lint_source(virtual, subject.path, lint_options(subject, checked.settings))
    same = next((d for d in found if _same_place(notebook.locate(d), finding)), None)
    changed = None if same is None else change(virtual, same)
    if changed is None:
        return None
    cells = split_into_cells(notebook, changed.decode("utf-8", "surrogatepass"))
    return None if isinstance(cells, str) else _cell_edit(checked, cells, encoding)


def _same_place(a: Diagnostic, b: Diagnostic) -> bool:
    def place(d: Diagnostic) -> tuple[object, ...]:
        return (d.code, d.cell, d.line, d.column, d.end_line, d.end_column)

    return place(a) == place(b)


def actions_for(
    checked: Checked,
    uri: str,
    request_range: types.Range,
    only: Optional[list[str]],
    unsafe_fixes: bool,
    lazy: bool,
    encoding: str,
) -> list[types.CodeAction]:
    """The actions on offer for ``request_range`` of document ``uri``; edits left out when
    ``lazy``, except a ``# noqa``'s: whether a line can hold one is known by making it."""
    actions = []

    def wants(kind: str) -> bool:
        return only is None or any(kind == k or kind.startswith(f"{k}.") for k in only)

    def unless_lazy(index: Optional[int], action: str) -> Optional[types.WorkspaceEdit]:
        return None if lazy else _compute(checked, index, action, unsafe_fixes, encoding)

    if wants(types.CodeActionKind.QuickFix.value):
        for index, finding in enumerate(checked.findings):
            if checked.subject.uri_of(finding) != uri or not _overlaps(finding, request_range):
                continue
            if has_quick_fix(finding, checked, unsafe_fixes):
                actions.append(_action(checked, index, QUICK_FIX, _quick_fix_title(finding), unless_lazy(index, QUICK_FIX), encoding))
            if is_file_problem(finding):  # no noqa comment silences a problem with the file
                continue
            noqa = noqa_edit(checked, finding, encoding)
            if noqa is not None:
                actions.append(_action(checked, index, NOQA, f"Disable {finding.code} for this line", noqa, encoding))
    if wants(FIX_ALL_KIND) and any(has_quick_fix(f, checked, unsafe_fixes) for f in checked.findings):
        actions.append(_action(checked, None, FIX_ALL, "dropout-lint: fix all", unless_lazy(None, FIX_ALL), encoding))
    return actions


def resolve(action: types.CodeAction, checked: Checked, unsafe_fixes: bool, encoding: str) -> types.CodeAction:
    """``action`` with its edit, if it was made for this version of the document."""
    data = action.data if isinstance(action.data, dict) else {}
    if data.get("version") != checked.subject.version or data.get("action") not in (QUICK_FIX, NOQA, FIX_ALL):
        return action
    action.edit = _compute(checked, data.get("finding"), data["action"], unsafe_fixes, encoding)
    return action


def _action(
    checked: Checked, index: Optional[int], action: str, title: str, edit: Optional[types.WorkspaceEdit], encoding: str
) -> types.CodeAction:
    finding = None if index is None else checked.findings[index]
    kind = {QUICK_FIX: types.CodeActionKind.QuickFix, NOQA: types.CodeActionKind.QuickFix}.get(action, FIX_ALL_KIND)
    return types.CodeAction(
        title=title,
        kind=kind,
        diagnostics=None if finding is None else [to_lsp(checked, finding, encoding)],
        is_preferred=action == QUICK_FIX and finding is not None and finding.fix is not None
        and finding.fix.applicability is Applicability.SAFE,
        edit=edit,
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
