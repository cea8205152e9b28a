"""A finding as an LSP diagnostic: the command's code, message and range, in the client's units."""

from __future__ import annotations

from functools import lru_cache

from lsprotocol import types

from ...engine.diagnostics import Diagnostic, is_file_problem
from ...engine.source_text import split_lines
from ...output.formats import INFORMATION_URI
from ...rules import RULES_BY_CODE
from .documents import Checked
from .edits import client_position

SOURCE_NAME = "dropout-lint"


def rule_documentation(code: str) -> str:
    """Where a rule's documentation is read: its own file, which ``--explain`` and the
    README's rule table are made from."""
    module = RULES_BY_CODE[code].__module__
    return f"{INFORMATION_URI}/blob/main/{module.replace('.', '/')}.py"


@lru_cache(maxsize=8)
def _lines(text: str) -> list[str]:
    """The document's lines, split once for all its findings (not once per finding)."""
    return split_lines(text)


def to_lsp(checked: Checked, finding: Diagnostic, encoding: str) -> types.Diagnostic:
    """``finding`` as an LSP diagnostic; findings about the file itself (DRP9xx) are errors."""
    lines = _lines(checked.subject.text_of(checked.subject.uri_of(finding)))
    start = client_position(lines, finding.line - 1, finding.column - 1, encoding)
    end = client_position(lines, finding.end_line - 1, finding.end_column - 1, encoding)
    return types.Diagnostic(
        range=types.Range(types.Position(start.line, start.character), types.Position(end.line, end.character)),
        message=finding.message,
        severity=types.DiagnosticSeverity.Error if is_file_problem(finding) else types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(rule_documentation(finding.code)) if finding.code in RULES_BY_CODE else None,
        source=SOURCE_NAME,
        data={"name": finding.name, "fix": finding.fix.to_json() if finding.fix else None},
    )
