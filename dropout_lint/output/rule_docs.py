"""``--explain`` and ``--list-rules``: every code's documentation, from the rules themselves.

Rules carry their own documentation; the DRP9xx codes are not rules but problems with a file
(it could not be read, checked, or written), so theirs is written here, once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional, Sequence

from ..engine.diagnostics import (
    FILE_PROBLEM_NAMES,
    FILE_TOO_LARGE,
    INTERNAL_ERROR,
    UNREADABLE_FILE,
    UNWRITABLE_FILE,
)
from ..engine.rule import Rule


@dataclass(frozen=True)
class FileProblemDoc:
    """What a DRP9xx code means and what to do about it."""

    code: str
    summary: str
    explanation: str

    @property
    def name(self) -> str:
        return FILE_PROBLEM_NAMES[self.code]


FILE_PROBLEM_DOCS: tuple[FileProblemDoc, ...] = (
    FileProblemDoc(
        UNREADABLE_FILE,
        "A file could not be read or parsed",
        "## What it means\n"
        "The file could not be checked: it does not exist, cannot be read, is not a regular "
        "file, is a broken symlink or a symlink loop, is not valid Python (Python's own "
        "message follows), or is a notebook that is not valid nbformat-4 JSON.\n\n"
        "## What to do\n"
        "Fix the file or the path given, or exclude it (`extend-exclude`). The run exits 2; "
        "every other file is still checked and reported.\n",
    ),
    FileProblemDoc(
        INTERNAL_ERROR,
        "A rule or a fix failed on a file",
        "## What it means\n"
        "A bug in dropout-lint: a rule raised an exception on this file, or a fix would have "
        "produced code that does not parse. The file is left as it was; the other rules and "
        "files run.\n\n"
        "## What to do\n"
        "Report it with the message and, if you can, the file. The run exits 2.\n",
    ),
    FileProblemDoc(
        FILE_TOO_LARGE,
        "A file is over `max-file-size` and was skipped",
        "## What it means\n"
        "A rule would have had to parse a file larger than `max-file-size` (4194304 bytes "
        "by default), so it was skipped. Generated code is the usual cause.\n\n"
        "## What to do\n"
        "Exclude the file, or raise `max-file-size` (in the configuration or with "
        "`--max-file-size`). The run exits 2.\n",
    ),
    FileProblemDoc(
        UNWRITABLE_FILE,
        "Fixes to a file could not be written",
        "## What it means\n"
        "`--fix` found fixes but did not write them: the file could not be written (its "
        "permissions, a read-only file system), it changed on disk while it was being fixed, "
        "or it is a symlink to a file outside the paths given. The file is unchanged and its "
        "findings are reported as they are.\n\n"
        "## What to do\n"
        "Make the file writable, or fix the real file it links to, and run `--fix` again. "
        "The run exits 2.\n",
    ),
)


def find_documented(query: str, rules: Sequence[type[Rule]]) -> Optional[str]:
    """The documentation of a code (``DRP001``, ``drp900``) or short name, else None."""
    wanted = query.strip()
    for rule in rules:
        if wanted.upper() == rule.code or wanted == rule.name:
            default = "" if rule.default_enabled else " (off by default)"
            fix = "Fix: available with --fix (see Fix safety).\n" if rule.has_fix() else ""
            return (
                f"# {rule.code} ({rule.name}){default}\n\n{rule.summary}.\n{fix}{rule.explanation}"
            )
    for doc in FILE_PROBLEM_DOCS:
        if wanted.upper() == doc.code or wanted == doc.name:
            return f"# {doc.code} ({doc.name}), a problem with the file itself\n\n{doc.summary}.\n\n{doc.explanation}"
    return None


def rule_list_text(rules: Sequence[type[Rule]]) -> str:
    """One line per rule, then one per DRP9xx code."""
    lines = [
        f"{rule.code}  {rule.name:<40} {'' if rule.default_enabled else '(opt-in) '}{rule.summary}\n"
        for rule in rules
    ]
    lines += [f"{doc.code}  {doc.name:<40} (file problem) {doc.summary}\n" for doc in FILE_PROBLEM_DOCS]
    return "".join(lines)


def rule_list_json(rules: Sequence[type[Rule]]) -> str:
    """The rules as a JSON list, for tools: code, name, summary, defaults, fix, documentation."""
    entries = [
        {
            "code": rule.code,
            "name": rule.name,
            "summary": rule.summary,
            "default_enabled": rule.default_enabled,
            "fixable": rule.has_fix(),
            "explanation": rule.explanation,
        }
        for rule in rules
    ]
    return json.dumps(entries, indent=2) + "\n"
