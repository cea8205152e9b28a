"""DRP100 (opt-in): a ``# noqa: DRP...`` directive that suppresses nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Optional, Sequence

from ..engine.diagnostics import (
    FILE_PROBLEM_NAMES,
    Applicability,
    Diagnostic,
    Edit,
    Fix,
)
from ..engine.noqa import NOQA_DIRECTIVE, directive_codes, read_comments
from ..engine.rule import Invalid, Rule, Valid
from ..engine.source_text import split_lines
from ..prefilter.byte_scan import LINE_BREAK, ByteScan

_FULL_CODE = re.compile(r"DRP[0-9]{3}")
# `noqa` and its colon, searched in the bytes with their case folded (`NOQA: drp001` names
# one too). `(?i)` would search the bytes as they are, but `re` then has no literal to look
# for and tries every `n` and `N` of every file: six times the time of the lower-casing and
# this search together.
_DIRECTIVE = re.compile(rb"noqa[ \t]*:")
_FIX = Fix("Remove the unused codes from the `noqa` directive", Applicability.SAFE)


class UnusedNoqa(Rule):
    code = "DRP100"
    name = "unused-noqa"
    summary = "A `# noqa: DRP...` directive that suppresses nothing"
    default_enabled = False
    # Every file: the gate is `may_fire`, which folds the case first (see _DIRECTIVE).
    trigger = re.compile(b"")
    explanation = """
## What it does
Checks `# noqa` directives for dropout-lint codes that silence nothing on their line: the
rule is enabled but reported nothing there (`unused`), the rule is not enabled for the file
(`non-enabled`), or no rule has that code (`unknown`).

Codes of other tools (`# noqa: E501`) and bare `# noqa` comments are left alone: dropout-lint
cannot tell whether another tool needs them. Prefixes (`# noqa: DRP0`) are not judged either.

This rule is off by default: enable it with `--extend-select DRP100`. Run it with every rule
you use enabled, or it reports their codes as `non-enabled`, as ruff's RUF100 does.

## Why is this bad?
A directive outlives the finding it was written for: once the code is fixed, it silently
hides the next real finding on that line.

## Example
```python
class Net(nn.Module):
    def forward(self, x):
        return self.dropout(x)  # noqa: DRP001
```

## Use instead
```python
class Net(nn.Module):
    def forward(self, x):
        return self.dropout(x)
```

## Fix safety
Safe: it removes only the codes that silence nothing, keeps the other codes and the rest
of the comment, and removes the comment only when nothing else is left in it.

## References
- [ruff: unused-noqa (RUF100)](https://docs.astral.sh/ruff/rules/unused-noqa/)
"""
    valid = (
        Valid(
            """
import torch.nn.functional as F

def f(x):
    return x  # noqa: E501
"""
        ),
        Valid(
            """
def f(x):
    return x  # noqa
"""
        ),
        Valid(
            """
def f(x):
    return x  # noqa: DRP0
"""
        ),
    )
    invalid = (
        Invalid(
            """
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return self.dropout(x)  # noqa: DRP001  # expect
""",
            fixed="""
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        return self.dropout(x)  # expect
""",
        ),
        Invalid(
            """
def f(x):
    return x  # see below  # noqa: E501, DRP999  # expect
""",
            fixed="""
def f(x):
    return x  # see below  # noqa: E501  # expect
""",
        ),
    )

    @classmethod
    def may_fire(cls, scan: ByteScan) -> bool:
        """Whether some line holds ``noqa:`` and then ``DRP``, in any case: only directives
        naming a DRP code are judged, so no other file can hold a finding.

        Read from the first ``noqa:`` of each line to its end: the later ones of the line
        hold less (searched from each, a line of ``noqa:`` took time growing with its
        square)."""
        data = scan.data.lower()
        position = 0
        while (directive := _DIRECTIVE.search(data, position)) is not None:
            line_break = LINE_BREAK.search(data, directive.end())
            position = len(data) if line_break is None else line_break.start()
            if data.find(b"drp", directive.end(), position) != -1:
                return True
        return False

    @classmethod
    def check_suppressions(
        cls, path: str, text: str, found: Sequence[Diagnostic], enabled: Sequence[type[Rule]]
    ) -> list[Diagnostic]:
        """A finding for each directive with DRP codes that silence nothing on their line."""
        from . import ALL_RULES

        known = {rule.code for rule in ALL_RULES}
        enabled_codes = {rule.code for rule in enabled}
        found_by_line: dict[int, set[str]] = {}
        for diagnostic in found:
            found_by_line.setdefault(diagnostic.line, set()).add(diagnostic.code)
        diagnostics = []
        lines = split_lines(text)
        for directive in directives(text):
            if cls.code in directive.codes:
                continue  # `# noqa: DRP100` asks not to be judged
            verdicts = {
                code: _verdict(code, found_by_line.get(directive.line, set()), known, enabled_codes)
                for code in directive.codes
            }
            judged = {code: verdict for code, verdict in verdicts.items() if verdict is not None}
            if judged:
                diagnostics.append(directive.diagnostic(path, judged, lines[directive.line - 1]))
        return diagnostics

    @classmethod
    def has_fix(cls) -> bool:
        """Its findings carry their edits themselves: they are made from the text, not a visit."""
        return True


@dataclass(frozen=True)
class Directive:
    """A ``# noqa: ...`` comment (found by the tokenizer, so never inside a string)."""

    line: int
    column: int  # 0-based, of the directive within the line
    end_column: int
    codes: tuple[str, ...]
    comment_start: int  # 0-based, of the whole comment
    comment: str

    def diagnostic(self, path: str, judged: dict[str, str], line_text: str) -> Diagnostic:
        groups: dict[str, list[str]] = {}
        for code, verdict in judged.items():
            groups.setdefault(verdict, []).append(f"`{code}`")
        detail = "; ".join(f"{verdict}: {', '.join(codes)}" for verdict, codes in groups.items())
        return Diagnostic(
            path=path,
            line=self.line,
            column=self.column + 1,
            end_line=self.line,
            end_column=self.end_column + 1,
            code=UnusedNoqa.code,
            message=f"Unused `noqa` directive ({detail})",
            name=UnusedNoqa.name,
            fix=replace(_FIX, edits=(self._without(set(judged), line_text),)),
        )


    def _without(self, codes: set[str], line_text: str) -> Edit:
        """The edit that takes ``codes`` out of the comment, and the comment out when it
        holds nothing else (with the blanks before it)."""
        end = (self.line, self.comment_start + len(self.comment) + 1)
        cleaned = without_codes(self.comment, codes)
        if cleaned is None:
            blank_from = len(line_text[: self.comment_start].rstrip(" \t\f"))
            return Edit((self.line, blank_from + 1), end, "")
        return Edit((self.line, self.comment_start + 1), end, cleaned)


def directives(text: str) -> list[Directive]:
    """The ``# noqa: CODES`` directives of the source; bare ``# noqa`` ones are left out."""
    comments = read_comments(text)
    found = []
    for line, comment in sorted(comments.by_line.items()) if comments is not None else ():
        match = NOQA_DIRECTIVE.search(comment.text)
        codes = directive_codes(match) if match is not None else None
        if match is not None and codes:
            found.append(
                Directive(
                    line,
                    comment.column + match.start(),
                    comment.column + match.end(),
                    tuple(c.upper() for c in codes),
                    comment.column,
                    comment.text,
                )
            )
    return found


def _verdict(code: str, found_on_line: set[str], known: set[str], enabled: set[str]) -> Optional[str]:
    """Why ``code`` silences nothing here (``unused``, ``non-enabled``, ``unknown``), or None
    when it does, or is not ours to judge (another tool's code, a prefix, a DRP9xx)."""
    if not _FULL_CODE.fullmatch(code) or code in FILE_PROBLEM_NAMES:
        return None
    if code not in known:
        return "unknown"
    if code not in enabled:
        return "non-enabled"
    return None if code in found_on_line else "unused"


def without_codes(comment: str, remove: set[str]) -> Optional[str]:
    """``comment`` with ``remove`` taken out of its directive; None if nothing is left of it."""
    match = NOQA_DIRECTIVE.search(comment)
    if match is None:
        return comment
    kept = [code for code in directive_codes(match) or () if code.upper() not in remove]
    directive = f"# noqa: {', '.join(kept)}" if kept else ""
    before, after = comment[: match.start()].rstrip(), comment[match.end() :].strip()
    if not kept:
        rest = " ".join(part for part in (before, after) if part)
        if not rest:
            return None
        return rest if rest.startswith("#") else f"# {rest}"
    return "  ".join(part for part in (before, directive, after) if part)
