"""Output formats: diagnostics in, one string out, always in the same order.

Every formatter takes the run's diagnostics and the rules that were enabled, so that
formats which describe the rules (SARIF) can, and returns the whole output as text.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any, Callable, Optional, Sequence
from urllib.parse import quote

from .. import __version__
from ..engine.diagnostics import FILE_PROBLEM_NAMES, Diagnostic, is_file_problem
from ..engine.rule import Rule
from ..integrations.notebook import json_line_of
from .report import concise_line

Formatter = Callable[[Sequence[Diagnostic], Sequence[type[Rule]]], str]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SARIF_SOURCE_ROOT = "%SRCROOT%"
INFORMATION_URI = "https://github.com/dropout-lint/dropout-lint"


def in_report_order(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Sorted by path, cell, line, column and code; the rest only breaks ties, for stability."""
    return sorted(
        diagnostics,
        key=lambda d: (
            d.path, d.cell or 0, d.line, d.column, d.code, d.end_line, d.end_column, d.message
        ),
    )


def format_text(diagnostics: Sequence[Diagnostic], rules: Sequence[type[Rule]]) -> str:
    """``path:line:col: CODE message [short-name]`` (``path:cell N:line:col: ...`` in a
    notebook), one finding a line, nothing else."""
    return "".join(concise_line(d) + "\n" for d in in_report_order(diagnostics))


def format_json(diagnostics: Sequence[Diagnostic], rules: Sequence[type[Rule]]) -> str:
    """A JSON list, one object a finding, in report order, indented by 2, newline-terminated.

    Each object has exactly these keys, in this order::

        path        str   the file, as given on the command line ("-" for stdin)
        cell        int   notebooks only: the 1-based cell, counting every cell;
                          line and end_line are then lines of that cell
        line        int   1-based start line
        column      int   1-based start column (Unicode code points)
        end_line    int   1-based end line
        end_column  int   1-based end column, exclusive
        code        str   "DRP001"; DRP9xx are problems with the file itself
        name        str   the rule's short name, "functional-dropout-without-training"
        message     str   what is wrong here
        fix         null | {"applicability": "safe" | "unsafe", "description": str}
    """
    return json.dumps([d.to_json() for d in in_report_order(diagnostics)], indent=2) + "\n"


class NotebookJsonLines:
    """Where a notebook finding is in the ``.ipynb`` file itself: the JSON lines that hold its
    cell's source lines. Each notebook is read once; None when a line cannot be placed."""

    def __init__(self) -> None:
        self._data: dict[str, Optional[bytes]] = {}

    def __call__(self, diagnostic: Diagnostic) -> Optional[tuple[int, int]]:
        if diagnostic.cell is None:
            return None
        data = self._read(diagnostic.path)
        if data is None:
            return None
        start = json_line_of(data, diagnostic.cell, diagnostic.line)
        end = json_line_of(data, diagnostic.cell, diagnostic.end_line)
        return None if start is None else (start, end if end is not None and end >= start else start)

    def _read(self, path: str) -> Optional[bytes]:
        if path not in self._data:
            try:
                with open(path, "rb") as file:
                    self._data[path] = file.read()
            except OSError:
                self._data[path] = None
        return self._data[path]


def _in_cell(diagnostic: Diagnostic) -> str:
    if diagnostic.cell is None:
        return ""
    return f"cell {diagnostic.cell}, line {diagnostic.line}, column {diagnostic.column}: "


def format_github(diagnostics: Sequence[Diagnostic], rules: Sequence[type[Rule]]) -> str:
    """GitHub Actions ``::error`` workflow commands, which annotate the pull request.

    A notebook's cell lines are not lines of its JSON file, where GitHub shows annotations:
    its findings annotate the JSON lines that store the cell's source lines (no columns,
    which differ there), or the file as a whole when those cannot be found; the message
    says where they are in the notebook: ``cell 3, line 4, column 9: DRP001 ...``.
    """
    json_lines = NotebookJsonLines()
    return "".join(_github_command(d, json_lines) + "\n" for d in in_report_order(diagnostics))


def _github_command(diagnostic: Diagnostic, json_lines: NotebookJsonLines) -> str:
    properties: dict[str, object] = {"file": diagnostic.path}
    where = _in_cell(diagnostic)
    if diagnostic.cell is None:
        properties.update(
            line=diagnostic.line,
            col=diagnostic.column,
            endLine=diagnostic.end_line,
            endColumn=diagnostic.end_column,
        )
    else:
        stored = json_lines(diagnostic)
        if stored is not None:
            properties.update(line=stored[0], endLine=stored[1])
    properties["title"] = f"dropout-lint ({diagnostic.code})"
    joined = ",".join(
        f"{key}={_escape_github_property(str(value))}" for key, value in properties.items()
    )
    data = f"{where}{diagnostic.code} {diagnostic.message} [{diagnostic.name}]"
    return f"::error {joined}::{_escape_github_data(data)}"


def _escape_github_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_github_property(text: str) -> str:
    return _escape_github_data(text).replace(":", "%3A").replace(",", "%2C")


def format_sarif(diagnostics: Sequence[Diagnostic], rules: Sequence[type[Rule]]) -> str:
    """A SARIF 2.1.0 log with one run, for code-scanning dashboards.

    Fixes are left out: SARIF fixes are byte-exact replacements, and a :class:`Fix` only
    describes its change. A notebook finding's region is the lines of the ``.ipynb`` JSON
    that store its cell's source lines (no columns: they differ there), or no region (the
    whole file) when those cannot be found; ``properties`` holds its cell, line and column,
    and its message starts with ``cell N, line L, column C: ``.
    """
    ordered = in_report_order(diagnostics)
    json_lines = NotebookJsonLines()
    descriptors = _rule_descriptors(rules, ordered)
    index_of = {descriptor["id"]: index for index, descriptor in enumerate(descriptors)}
    log = {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dropout-lint",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [_sarif_result(d, index_of[d.code], json_lines) for d in ordered],
            }
        ],
    }
    return json.dumps(log, indent=2) + "\n"


def _rule_descriptors(
    rules: Sequence[type[Rule]], diagnostics: Sequence[Diagnostic]
) -> list[dict[str, Any]]:
    """A descriptor for each enabled rule, then for each file problem or other code reported."""
    descriptors = [_rule_descriptor(rule) for rule in sorted(rules, key=lambda rule: rule.code)]
    described = {descriptor["id"] for descriptor in descriptors}
    for diagnostic in diagnostics:
        if diagnostic.code not in described:
            descriptors.append(_reported_code_descriptor(diagnostic))
            described.add(diagnostic.code)
    return descriptors


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    explanation = rule.explanation.strip()
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": explanation, "markdown": explanation},
        "help": {"text": rule.summary, "markdown": explanation},
        "defaultConfiguration": {"level": "warning"},
    }


def _reported_code_descriptor(diagnostic: Diagnostic) -> dict[str, Any]:
    """For codes that are not rules (DRP9xx file problems), from what the finding says."""
    name = FILE_PROBLEM_NAMES.get(diagnostic.code, diagnostic.name)
    return {
        "id": diagnostic.code,
        "name": name,
        "shortDescription": {"text": name.replace("-", " ").capitalize()},
        "defaultConfiguration": {"level": _sarif_level(diagnostic)},
    }


def _sarif_level(diagnostic: Diagnostic) -> str:
    return "error" if is_file_problem(diagnostic) else "warning"


def _sarif_result(
    diagnostic: Diagnostic, rule_index: int, json_lines: NotebookJsonLines
) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": _artifact_location(diagnostic.path)}
    if diagnostic.cell is None:
        location["region"] = {
            "startLine": diagnostic.line,
            "startColumn": diagnostic.column,
            "endLine": diagnostic.end_line,
            "endColumn": diagnostic.end_column,
        }
    else:
        stored = json_lines(diagnostic)
        if stored is not None:
            location["region"] = {"startLine": stored[0], "endLine": stored[1]}
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _sarif_level(diagnostic),
        "message": {"text": _in_cell(diagnostic) + diagnostic.message},
        "locations": [{"physicalLocation": location}],
    }
    if diagnostic.cell is not None:
        result["properties"] = {
            "cell": diagnostic.cell,
            "line": diagnostic.line,
            "column": diagnostic.column,
            "endLine": diagnostic.end_line,
            "endColumn": diagnostic.end_column,
        }
    return result


def _artifact_location(path: str) -> dict[str, str]:
    """A URI relative to the source root; an absolute path becomes a ``file:`` URI."""
    pure = PurePath(path)
    if pure.is_absolute():
        return {"uri": pure.as_uri()}
    relative = pure.as_posix()
    return {"uri": quote(relative), "uriBaseId": SARIF_SOURCE_ROOT}


FORMATS: dict[str, Formatter] = {
    "text": format_text,
    "json": format_json,
    "github": format_github,
    "sarif": format_sarif,
}
