"""Text edits: taken from a fix's rendering, applied many fixes at a time (ruff's rules)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from libcst.metadata import MetadataWrapper

from dropout_lint.engine.context import FileContext
from dropout_lint.engine.diagnostics import Edit, Fix
from dropout_lint.engine.lint import parse
from dropout_lint.engine.rule_visitor import RuleVisitor
from dropout_lint.fixes.node_edits import rendered
from dropout_lint.fixes.text_edits import apply_fixes, text_edits
from dropout_lint.rules import ALL_RULES

TEXT = st.text(alphabet="ab_1 (\n\r\t", max_size=40)


@settings(max_examples=400, deadline=None)
@given(TEXT, TEXT)
def test_the_edits_of_a_change_make_that_change(before: str, after: str) -> None:
    edits = text_edits(before, after)
    assert apply_fixes(before, [Fix("change", edits=edits)])[0] == after
    assert (edits == ()) == (before == after)


def test_edits_replace_whole_words_and_keep_crlf_whole() -> None:
    assert text_edits("x = nn.Dropout2d(p)\n", "x = nn.Dropout(p)\n") == (
        Edit((1, 8), (1, 17), "Dropout"),
    )
    [edit] = text_edits("a\r\nb\r\n", "a\r\nc\r\nb\r\n")
    assert edit == Edit((2, 1), (2, 1), "c\r\n")


def test_fixes_apply_together_unless_they_overlap() -> None:
    text = "one two three\n"
    first = Fix("a", edits=(Edit((1, 1), (1, 4), "ONE"),))
    second = Fix("b", edits=(Edit((1, 9), (1, 14), "THREE"),))
    overlapping = Fix("c", edits=(Edit((1, 3), (1, 8), "X"),))
    assert apply_fixes(text, [first, overlapping, second]) == ("ONE two THREE\n", 2)


def test_an_edit_two_fixes_share_is_made_once_and_insertions_keep_their_order() -> None:
    text = "class A:\n    pass\n"
    register = Edit((2, 1), (2, 1), "    x = 1\n")
    first = Fix("a", edits=(register, Edit((2, 5), (2, 9), "go()")))
    shared = Fix("b", edits=(register,))
    other = Fix("c", edits=(Edit((2, 1), (2, 1), "    y = 2\n"),))
    assert apply_fixes(text, [first, shared, other]) == (
        "class A:\n    x = 1\n    y = 2\n    go()\n",
        3,
    )


# The edits a finding carries come from rendering only the statements its fix changes;
# applied to the file they must give what rendering the whole fixed module gives. Every
# fixture with a fixed output, and every rule example with one, has fixes to check.


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCES = sorted(
    p
    for p in FIXTURES.rglob("*.py")
    if p.with_name(p.stem + ".fixed.py").exists()
    and "drp100" not in p.parts
    and "fix_project" not in p.parts  # its findings need the project's other files
)
TREE_FIXERS = [rule for rule in ALL_RULES if rule.visitor().node_edits is not RuleVisitor.node_edits]
EXAMPLES = [example.code for rule in TREE_FIXERS for example in rule.invalid if example.fixed is not None]


@pytest.mark.parametrize(
    "source",
    [p.read_text(encoding="utf-8") for p in SOURCES] + EXAMPLES,
    ids=[p.relative_to(FIXTURES).as_posix() for p in SOURCES] + [f"example-{i}" for i in range(len(EXAMPLES))],
)
def test_a_fixs_edits_make_what_rendering_the_fixed_module_makes(source: str) -> None:
    module = parse(source, "<test>")
    context = FileContext("<test>", MetadataWrapper(module, unsafe_skip_copy=True))
    checked = 0
    for rule in TREE_FIXERS:
        visitor = rule.visitor()(context)
        context.wrapper.visit_batched([visitor])
        for diagnostic in sorted(d for d in visitor.diagnostics if d.fix is not None):
            edits = visitor.node_edits(diagnostic)
            if not edits:
                continue
            text_edits = context.layout.text_edits(edits, context.classes.parent)
            assert apply_fixes(source, [Fix("", edits=text_edits)])[0] == rendered(module, edits)
            checked += 1
    assert checked
