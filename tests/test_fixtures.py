"""Every fixture file is linted and its findings must be exactly its ``# expect:`` comments.

A fixture selects rules with a ``# select: DRP003`` line (default: the rules on by default).
Each folder under ``fixtures/`` is one project: its files are linted with its index of
module classes and its functions' mode summaries, as a run over the folder would lint them.
``name.fixed.py`` files are expected fix outputs, checked by the fix tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.rules import ALL_RULES
from dropout_lint.workspace.runner import index_mode_summaries, index_project

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>DRP\d+(?:\s*,\s*DRP\d+)*)")
_SELECT = re.compile(r"^#\s*select:\s*(?P<codes>.+)$", re.MULTILINE)


def fixture_files() -> list[Path]:
    return sorted(path for path in FIXTURES.rglob("*.py") if not path.name.endswith(".fixed.py"))


def expected_findings(source: str) -> list[tuple[int, str]]:
    return sorted(
        (number, code.strip())
        for number, line in enumerate(source.splitlines(), 1)
        for match in _EXPECT.finditer(line)
        for code in match.group("codes").split(",")
    )


def selected_rules(source: str):
    match = _SELECT.search(source)
    if match is None:
        return [rule for rule in ALL_RULES if rule.default_enabled]
    codes = {code.strip() for code in match.group("codes").split(",")}
    return [rule for rule in ALL_RULES if rule.default_enabled or rule.code in codes]


def project_files(path: Path) -> list[str]:
    project = FIXTURES / path.relative_to(FIXTURES).parts[0]
    return [str(file) for file in sorted(project.rglob("*.py"))]


def fixture_options(path: Path, source: str) -> LintOptions:
    """The options a run over the fixture's folder would lint it with."""
    rules = selected_rules(source)
    files = project_files(path)
    return LintOptions(
        rules=rules,
        project_module_classes=index_project(files),
        mode_summaries=index_mode_summaries(files, rules),
    )


@pytest.mark.parametrize("path", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_fixture_findings_match_expectations(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    options = fixture_options(path, source)
    found = [(d.line, d.code) for d in lint_source(path.read_bytes(), str(path), options)]
    assert sorted(found) == expected_findings(source)


def test_fixtures_exercise_every_rule() -> None:
    expected = {code for path in fixture_files() for _, code in expected_findings(path.read_text())}
    assert {rule.code for rule in ALL_RULES} <= expected
