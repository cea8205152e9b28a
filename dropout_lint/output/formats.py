"""Output formats: diagnostics in, one string out, always in the same order.

Every formatter takes the run's diagnostics and the rules that were enabled, so that
formats which describe the rules (SARIF) can, and returns the whole output as text.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any, Callable, Sequence
from urllib.parse import quote

from .. import __version__
from ..engine.diagnostics import FILE_PROBLEM_NAMES, Diagnostic, is_file_problem
from ..engine.rule import Rule
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


def format_github(diagnostics: Sequence[Diagnostic], rules: Sequence[type[Rule]]) -> str:
    """GitHub Actions ``::error`` workflow commands, which annotate the pull request.

    A notebook's lines are not lines of its JSON file, so its findings annotate the file
    as a whole and say where they are in the message: ``cell 3, line 4: DRP001 ...``.
    """
    return "".join(_github_command(d) + "\n" for d in in_report_order(diagnostics))


def _github_command(diagnostic: Diagnostic) -> str:
    properties: dict[str, object] = {"file": diagnostic.path}
    where = ""
    if diagnostic.cell is None:
        properties.update(
            line=diagnostic.line,
            col=diagnostic.column,
            endLine=diagnostic.end_line,
            endColumn=diagnostic.end_column,
        )
    else:
        where = f"cell {diagnostic.cell}, line {diagnostic.line}, column {diagnostic.column}: "
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
    describes its change. A notebook finding's region is within its cell; the result's
    ``properties.cell`` says which cell, and its message starts with ``cell N: ``.
    """
    ordered = in_report_order(diagnostics)
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
                "results": [_sarif_result(d, index_of[d.code]) for d in ordered],
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


def _sarif_result(diagnostic: Diagnostic, rule_index: int) -> dict[str, Any]:
    in_cell = "" if diagnostic.cell is None else f"cell {diagnostic.cell}: "
    result = {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": _sarif_level(diagnostic),
        "message": {"text": in_cell + diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact_location(diagnostic.path),
                    "region": {
                        "startLine": diagnostic.line,
                        "startColumn": diagnostic.column,
                        "endLine": diagnostic.end_line,
                        "endColumn": diagnostic.end_column,
                    },
                }
            }
        ],
    }
    if diagnostic.cell is not None:
        result["properties"] = {"cell": diagnostic.cell}
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
