"""What the server checks: a Python file, or a notebook's cells read as the command reads an
``.ipynb``; and the findings of one version of it.

A notebook is handed to the command's own notebook code as the nbformat document its cells
make, so magics, cell numbering and findings placed in their cells are the command's.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Optional, Sequence

from ...analysis.project_index import module_class_names
from ...engine.diagnostics import INTERNAL_ERROR, Diagnostic, file_problem
from ...engine.incremental import IncrementalLint
from ...engine.lint import LintOptions, lint_source
from ...prefilter.stages import byte_stage
from ...rules import ALL_RULES
from ...workspace.settings import Settings
from ...workspace.runner import options_for
from ..notebook import Notebook, lint_notebook, read_notebook

CODE, MARKUP, OTHER = "code", "markdown", "raw"


@dataclass(frozen=True)
class Cell:
    """One notebook cell: its text document, its kind (code, markdown, or code in another
    language, kept as raw so cells are still numbered as you scroll) and its text."""

    uri: str
    kind: str
    text: str


@dataclass(frozen=True)
class Subject:
    """One version of what is checked as a whole: a Python file, or a notebook (``cells``)."""

    uri: str
    version: Optional[int]
    path: str
    text: str = ""
    cells: Optional[tuple[Cell, ...]] = None

    @property
    def is_notebook(self) -> bool:
        return self.cells is not None

    def source(self) -> bytes:
        """The bytes the command would read: the file, or the notebook's JSON."""
        if self.cells is None:
            return self.text.encode("utf-8", "surrogatepass")
        document = {
            "nbformat": 4,
            "nbformat_minor": 5,
            "metadata": {"language_info": {"name": "python"}},
            "cells": [{"cell_type": cell.kind, "metadata": {}, "source": cell.text} for cell in self.cells],
        }
        return json.dumps(document).encode("utf-8")

    def notebook(self) -> Notebook:
        notebook = read_notebook(self.source(), self.path)
        assert isinstance(notebook, Notebook), "the cells make a valid notebook"
        return notebook

    def uri_of(self, finding: Diagnostic) -> str:
        """The text document a finding is in: the file, or its cell."""
        if self.cells is None or finding.cell is None:
            return self.uri if self.cells is None else self.cells[0].uri
        return self.cells[finding.cell - 1].uri

    def text_of(self, uri: str) -> str:
        if self.cells is None:
            return self.text
        return next(cell.text for cell in self.cells if cell.uri == uri)


@dataclass(frozen=True)
class Checked:
    """A subject with its findings and the settings it was checked with."""

    subject: Subject
    settings: Settings
    findings: tuple[Diagnostic, ...]

    def findings_in(self, uri: str) -> list[Diagnostic]:
        return [d for d in self.findings if self.subject.uri_of(d) == uri]

    def document_uris(self) -> list[str]:
        cells = self.subject.cells
        return [self.subject.uri] if cells is None else [cell.uri for cell in cells]


def lint_options(subject: Subject, settings: Settings) -> LintOptions:
    """The options ``dropout-lint PATH`` lints this file with (its own classes as the index)."""
    data = subject.source()
    python = subject.notebook().python_source.encode("utf-8", "surrogatepass") if subject.is_notebook else data
    return options_for(subject.path, settings, module_class_names([(subject.path, python)]))


def needs_parsing(subject: Subject, settings: Settings) -> bool:
    """Whether some rule may fire on the subject's bytes (else checking is a scan of them)."""
    rules = settings.rules_for(subject.path, ALL_RULES)
    return subject.is_notebook or bool(byte_stage(subject.source(), rules))


def check(subject: Subject, settings: Settings, incremental: Optional[IncrementalLint] = None) -> Checked:
    """The subject's findings, as the command reports them; a crash is DRP901, not an error.

    ``incremental`` holds the last check of the same document, which a Python file's check
    reuses where the edit since cannot change it."""
    try:
        options = lint_options(subject, settings)
        found: Sequence[Diagnostic]
        if subject.is_notebook:
            found = lint_notebook(subject.source(), subject.path, options)
        elif incremental is not None:
            found = incremental.lint(subject.text, subject.path, options)
        else:
            found = lint_source(subject.source(), subject.path, options)
    except Exception as error:  # noqa: BLE001 - one document's failure must not stop the server
        found = [
            file_problem(
                subject.path,
                INTERNAL_ERROR,
                f"internal error: {type(error).__name__}: {error}; please report it",
            )
        ]
    return Checked(subject, settings, tuple(found))


def path_of(uri_path: Optional[str], root: Optional[str], name: str) -> str:
    """A file system path for a document: its own, or (untitled) ``name`` in the root."""
    if uri_path is not None:
        return uri_path
    return os.path.join(root or os.getcwd(), name)
