"""Every rule ships its documentation and examples, and its examples hold."""

from __future__ import annotations

import pytest

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.engine.rule import Rule
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.rules import ALL_RULES

SECTIONS = ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## References")


def _expected_lines(code: str) -> list[int]:
    return [number for number, line in enumerate(code.splitlines(), 1) if "# expect" in line]


def _findings(rule: type[Rule], code: str) -> list[int]:
    diagnostics = lint_source(code, options=LintOptions(rules=[rule]))
    assert all(d.code == rule.code for d in diagnostics), diagnostics
    return [d.line for d in diagnostics]


def _examples(kind: str):
    return [
        pytest.param(rule, example, id=f"{rule.code}-{kind}-{index}")
        for rule in ALL_RULES
        for index, example in enumerate(getattr(rule, kind))
    ]


def test_codes_and_names_are_unique() -> None:
    assert len({r.code for r in ALL_RULES}) == len(ALL_RULES)
    assert len({r.name for r in ALL_RULES}) == len(ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_is_documented_with_examples(rule: type[Rule]) -> None:
    assert rule.code.startswith("DRP") and rule.summary and rule.name
    positions = [rule.explanation.find(section) for section in SECTIONS]
    assert -1 not in positions and positions == sorted(positions), rule.explanation
    assert rule.valid and rule.invalid


@pytest.mark.parametrize("rule, example", _examples("valid"))
def test_valid_examples_are_not_reported(rule: type[Rule], example) -> None:
    assert _findings(rule, example.code) == []


@pytest.mark.parametrize("rule, example", _examples("invalid"))
def test_invalid_examples_are_reported_on_marked_lines(rule: type[Rule], example) -> None:
    expected = _expected_lines(example.code)
    assert expected, "an invalid example marks its lines with # expect"
    assert _findings(rule, example.code) == expected


@pytest.mark.parametrize("rule, example", [p for p in _examples("invalid") if p.values[1].fixed is not None])
def test_invalid_examples_are_fixed_as_shown(rule: type[Rule], example) -> None:
    """Through the fix loop, unsafe fixes included: ``fixed`` is what the rule's fix makes."""
    options = LintOptions(rules=[rule])
    result = fix_source(example.code.encode(), "example.py", options, unsafe_fixes=True)
    assert result.source.decode() == example.fixed
    assert fix_source(result.source, "example.py", options, unsafe_fixes=True).source == result.source


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.has_fix()], ids=lambda r: r.code)
def test_a_rule_with_a_fix_shows_it_in_an_example(rule: type[Rule]) -> None:
    assert any(example.fixed is not None for example in rule.invalid)


def test_readme_rule_table_is_current() -> None:
    """The README's table is generated from the rules: regenerate it after editing one."""
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("rule_table", root / "scripts" / "rule_table.py")
    rule_table = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rule_table)
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert rule_table.render(readme) == readme, "run: python scripts/rule_table.py"
