"""What a lint run produces: findings with their location, code, message and fix."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Optional


class Applicability(str, enum.Enum):
    """How safe a fix is to apply without review, as in ruff."""

    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True, order=True)
class Edit:
    """Replace the text from ``start`` to ``end`` with ``content``; an insertion when they
    are equal. Positions are (line, column), 1-based, the end exclusive, counted in
    characters on lines split where Python splits them."""

    start: tuple[int, int]
    end: tuple[int, int]
    content: str

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "location": {"row": self.start[0], "column": self.start[1]},
            "end_location": {"row": self.end[0], "column": self.end[1]},
        }


@dataclass(frozen=True)
class Fix:
    """A fix a rule offers for one finding: what it changes, whether it is safe, and its
    edits, computed with the finding (empty only while the finding is being made)."""

    description: str
    applicability: Applicability = Applicability.SAFE
    edits: tuple[Edit, ...] = ()

    def applies(self, unsafe_fixes: bool) -> bool:
        """Whether ``--fix`` applies it: safe fixes always, unsafe ones with ``--unsafe-fixes``."""
        return unsafe_fixes or self.applicability is Applicability.SAFE

    def to_json(self) -> dict[str, Any]:
        """As in ``--format json``: the edits' positions as ruff writes them."""
        return {
            "applicability": self.applicability.value,
            "description": self.description,
            "edits": [edit.to_json() for edit in self.edits],
        }


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Lines and columns are 1-based; the end is exclusive, as in ruff.

    ``node`` links the finding to the libcst node it was reported on, so a fixer can
    find it again; it never leaves the process (see :meth:`detached`). ``cell`` is set for
    notebooks only: the 1-based cell, counting every cell, and ``line`` is within it.
    """

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    message: str
    name: str = ""
    fix: Optional[Fix] = field(default=None, compare=False)
    node: Any = field(default=None, compare=False, repr=False)
    cell: Optional[int] = None

    def detached(self) -> "Diagnostic":
        """This finding without its tree node: small, picklable, cacheable."""
        return self if self.node is None else replace(self, node=None)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``--format json``; ``cell`` appears for notebook findings only."""
        location: dict[str, Any] = {"path": self.path}
        if self.cell is not None:
            location["cell"] = self.cell
        return {
            **location,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "fix": self.fix.to_json() if self.fix else None,
        }


# Problems with a file rather than with its code. They make the run exit with 2.
UNREADABLE_FILE = "DRP900"
INTERNAL_ERROR = "DRP901"
FILE_TOO_LARGE = "DRP902"
UNWRITABLE_FILE = "DRP903"
FILE_PROBLEM_NAMES = {
    UNREADABLE_FILE: "unreadable-file",
    INTERNAL_ERROR: "internal-error",
    FILE_TOO_LARGE: "file-too-large",
    UNWRITABLE_FILE: "unwritable-file",
}


def file_problem(path: str, code: str, message: str, line: int = 1, column: int = 1) -> Diagnostic:
    """A diagnostic about the file itself (could not read, parse or check it)."""
    return Diagnostic(
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column,
        code=code,
        message=message,
        name=FILE_PROBLEM_NAMES[code],
    )


def is_file_problem(diagnostic: Diagnostic) -> bool:
    return diagnostic.code in FILE_PROBLEM_NAMES
