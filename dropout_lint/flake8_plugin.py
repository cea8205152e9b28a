"""The flake8 plugin ``DRP``: an adapter over the engine.

flake8 hands over the file's lines and CPython's tree of them, so the file is neither read
nor parsed by Python twice; a file that never mentions dropout costs one regular-expression
scan. DRP003 is off by default, as in the command line.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator, Sequence

from . import __version__
from .engine import LintOptions, lint_source
from .rules import ALL_RULES

_OPTIONS = LintOptions(rules=ALL_RULES, max_file_size=1 << 62)


class DropoutLintPlugin:
    name = "dropout-lint"
    version = __version__

    def __init__(self, tree: ast.Module, lines: Sequence[str], filename: str) -> None:
        self._tree = tree
        self._lines = lines
        self._filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.extend_default_ignore([rule.code for rule in ALL_RULES if not rule.default_enabled])

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for diagnostic in lint_source("".join(self._lines), self._filename, _OPTIONS, self._tree):
            yield (
                diagnostic.line,
                diagnostic.column - 1,
                f"{diagnostic.code} {diagnostic.message}",
                type(self),
            )
