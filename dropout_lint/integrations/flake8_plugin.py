"""The flake8 plugin ``DRP``: an adapter over the engine.

flake8 hands over the file's lines and CPython's tree of them, so the file is neither read
nor parsed by Python twice; a file that never mentions dropout costs one regular-expression
scan, and libcst (with the rules' visitors) is imported only when a file gets past the
gates. DRP003 is off by default, as in the command line, and a rule flake8 would not
report is not run at all; flake8 shows no fixes, so none is worked out.
"""

from __future__ import annotations

import argparse
import ast
from typing import Any, ClassVar, Iterator, Sequence

from .. import __version__
from ..engine.lint import LintOptions, lint_source
from ..engine.rule import Rule
from ..rules import ALL_RULES

# flake8 gives each file's whole source, whatever its size: it has read it already.
_NO_SIZE_LIMIT = 1 << 62


class DropoutLintPlugin:
    name = "dropout-lint"
    version = __version__
    options: ClassVar[LintOptions] = LintOptions(
        rules=ALL_RULES, max_file_size=_NO_SIZE_LIMIT, fixes=False
    )

    def __init__(self, tree: ast.Module, lines: Sequence[str], filename: str) -> None:
        self._tree = tree
        self._lines = lines
        self._filename = filename

    @classmethod
    def add_options(cls, parser: Any) -> None:
        parser.extend_default_ignore([rule.code for rule in ALL_RULES if not rule.default_enabled])

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        """Keep the rules flake8's select and ignore options let it report."""
        cls.options = LintOptions(
            rules=_reported_rules(options), max_file_size=_NO_SIZE_LIMIT, fixes=False
        )

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        for diagnostic in lint_source("".join(self._lines), self._filename, self.options, self._tree):
            yield (
                diagnostic.line,
                diagnostic.column - 1,
                f"{diagnostic.code} {diagnostic.message}",
                type(self),
            )


def _reported_rules(options: argparse.Namespace) -> tuple[type[Rule], ...]:
    """The rules whose code flake8 selects (per-file ignores can only take more away)."""
    from flake8.style_guide import Decision, DecisionEngine

    decisions = DecisionEngine(options)
    return tuple(r for r in ALL_RULES if decisions.decision_for(r.code) is Decision.Selected)
