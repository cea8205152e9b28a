"""DRP030's mode flow skips the functions whose text cannot matter, and judges as if it had
walked them all: a function that looks inert but changes a mode, takes a step or calls one
that does (through a base class, another file, a line break) is still followed."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.analysis.mode_flow import ModeFlow, _DottedWords, file_mode_summaries, may_change_mode
from dropout_lint.analysis.mode_summaries import ProjectModeSummaries
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.rules import RULES_BY_CODE

RULE = RULES_BY_CODE["DRP030"]
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "drp030"
UTILS = b"""\
def evaluate(model, loader):
    model.eval()
    return [model(x) for x in loader]


def resume(model):
    model.train()


def descend(optimizer):
    optimizer.step()
"""
PROJECT = ProjectModeSummaries([("utils.py", file_mode_summaries(UTILS))])

# Each case: a function whose own text writes no `.eval`, `.train`, `.step` or `.backward`,
# through which the loop loses (or keeps) the mode. `# expect` marks the findings.
INERT_LOOKING = {
    "a method of the base class": """
class Base:
    def validate(self):
        self.model.eval()
        return self.model(self.batch)


class Trainer(Base):
    def run_validation(self):
        return self.validate()

    def fit(self, epochs):
        self.model.train()
        for epoch in range(epochs):
            self.model(self.batch).sum().backward()
            self.optimizer.step()
            self.run_validation()  # expect
""",
    "a helper imported under another name": """
from utils import evaluate as check


def validate_all(model, loaders):
    for loader in loaders:
        check(model, loader)


def fit(model, loader, loaders, optimizer, epochs):
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        validate_all(model, loaders)  # expect
""",
    "a helper of an imported module": """
import utils


def validate(model, loader):
    return utils.evaluate(model, loader)


def fit(model, loader, optimizer, epochs):
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        validate(model, loader)  # expect
""",
    "a step through an imported helper": """
from utils import descend


def warm_up(model, x):  # a step in the file: the rule's trigger
    model(x).sum().backward()


def update(optimizer):
    descend(optimizer)


def fit(model, loader, optimizer):
    for x in loader:
        update(optimizer)
        model.eval()  # expect
""",
    "a step through two helpers": """
def descend(optimizer):
    optimizer.step()


def update(optimizer):
    descend(optimizer)


def fit(model, loader, optimizer):
    model.train()
    for x in loader:
        model(x).sum()
        update(optimizer)
        model.eval()  # expect
""",
    "`.eval` after a comment and a line break": """
def evaluate(model, loader):
    (model.  # for evaluation
        eval())
    return [model(x) for x in loader]


def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        evaluate(model, loader)  # expect
""",
    "`.eval` after a backslash": """
def evaluate(model, loader):
    model. \\
        eval()
    return [model(x) for x in loader]


def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        evaluate(model, loader)  # expect
""",
    "`.eval` in full-width letters": """
def evaluate(model, loader):
    model.\uff45\uff56\uff41\uff4c()
    return [model(x) for x in loader]


def fit(model, loader, optimizer):
    model.train()
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        evaluate(model, loader)  # expect
""",
    "a decorated helper": """
def evaluate(model, loader):
    model.eval()


@torch.no_grad()
def validate(model, loader):
    evaluate(model, loader)


def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        validate(model, loader)  # expect
""",
    "a train() through a method that calls another": """
class Trainer:
    def resume(self):
        self.model.train()

    def after_validation(self):
        self.resume()

    def fit(self, loader):
        for x in loader:
            self.model(x).sum().backward()
            self.optimizer.step()
            self.model.eval()
            self.after_validation()
""",
    "a train() through an imported helper": """
from utils import resume


def after_validation(model):
    resume(model)


def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        model.eval()
        after_validation(model)
""",
    "a helper defined twice, once inert: the call is not followed": """
def evaluate(model, loader):
    model.eval()


def evaluate(model, loader):
    return loader


def fit(model, loader, optimizer):
    for x in loader:
        model(x).sum().backward()
        optimizer.step()
        evaluate(model, loader)
""",
    "a method overridden by an inert one": """
class Base:
    def check(self):
        self.model.eval()


class Trainer(Base):
    def check(self):
        return self.batch

    def fit(self, loader):
        for x in loader:
            self.model(x).sum().backward()
            self.optimizer.step()
            self.check()
""",
    "a base class of the same name defined inside a function": """
def make():
    class Base:
        def check(self):
            self.model.eval()
    return Base


class Base:
    def log(self):
        return self.batch


class Trainer(Base):
    def fit(self, loader):
        for x in loader:
            self.model(x).sum().backward()
            self.optimizer.step()
            self.check()  # expect
""",
}


def judgements(flow: ModeFlow) -> tuple:
    """What the findings and the other files rest on, comparable across two flows."""
    where = lambda node: (node.lineno, node.col_offset)  # noqa: E731
    lost = [
        (where(found.change.call), found.change.receiver, found.change.helper, found.change.line)
        + (found.change.helper_path, where(found.step))
        for found in flow.lost_modes()
    ]
    functions = [where(function) for function in flow.summarised_functions()]
    return lost, functions, flow.exported_summaries()


def assert_judged_as_by_a_full_walk(source: str, project: ProjectModeSummaries = PROJECT) -> None:
    tree = ast.parse(source)
    assert judgements(ModeFlow(tree, "train.py", project, source)) == judgements(
        ModeFlow(tree, "train.py", project)
    )


@pytest.mark.parametrize("case", sorted(INERT_LOOKING))
def test_an_inert_looking_function_is_still_followed(case):
    source = INERT_LOOKING[case]
    expected = [number for number, line in enumerate(source.splitlines(), 1) if "# expect" in line]
    found = lint_source(source, "train.py", LintOptions(rules=[RULE], mode_summaries=PROJECT))
    assert [diagnostic.line for diagnostic in found] == expected
    assert_judged_as_by_a_full_walk(source)


def test_the_rule_examples_and_fixtures_are_judged_as_by_a_full_walk():
    sources = [example.code for example in (*RULE.valid, *RULE.invalid)]
    sources += [path.read_text() for path in sorted(FIXTURES.rglob("*.py"))]
    for source in sources:
        assert_judged_as_by_a_full_walk(source)


# Generated files: functions, methods of a class and its base, loops and branches, mode
# changes and steps written in the ways Python allows, calls between them all.
RECEIVERS = ("model", "self.model", "net")
# How an attribute call may be written; `{indent}` is the line's indentation.
PLAIN, WIDE = "{}.{}", "{}.{} "
SPELLINGS = (
    PLAIN, PLAIN, PLAIN, "{}. {}", "({}.  # c\n{{indent}}    {})", "{}. \\\n{{indent}}    {}", WIDE
)


def attribute(draw, receiver: str, name: str) -> str:
    spelling = draw(st.sampled_from(SPELLINGS))
    if spelling is WIDE:  # in full-width letters, which Python reads as ASCII
        name = "".join(chr(ord(letter) + 0xFEE0) for letter in name)
    return spelling.format(receiver, name)


@st.composite
def calls(draw, in_method: bool) -> str:
    kind = draw(st.sampled_from(("mode", "step", "function", "method", "imported", "other")))
    receiver = draw(st.sampled_from(RECEIVERS if in_method else RECEIVERS[::2]))
    if kind == "mode":
        name = draw(st.sampled_from(("eval", "train")))
        arguments = draw(st.sampled_from(("", "False", "True"))) if name == "train" else ""
        return attribute(draw, receiver, name) + f"({arguments})"
    if kind == "step":
        receiver, name = draw(st.sampled_from((("optimizer", "step"), ("loss", "backward"))))
        return attribute(draw, receiver, name) + "()"
    if kind == "function":
        return f"f{draw(st.integers(0, 3))}({receiver}, optimizer)"
    if kind == "method" and in_method:
        return f"self.m{draw(st.integers(0, 3))}()"
    if kind == "imported":
        imported = (f"check({receiver}, x)", f"utils.resume({receiver})", "descend(optimizer)")
        return draw(st.sampled_from(imported))
    return draw(st.sampled_from(("print(x)", "log(model)", "model(x).sum()")))


@st.composite
def blocks(draw, depth: int, in_method: bool, in_function: bool, in_loop: bool) -> list[str]:
    lines: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        choice = draw(st.integers(0, 9 if depth < 2 else 5))
        if choice <= 4:
            lines.append(draw(calls(in_method)))
        elif choice == 5:
            exits = ("break",) * in_loop + ("return",) * in_function
            lines.append(draw(st.sampled_from(exits or ("pass",))))
        elif choice <= 7:
            body = draw(blocks(depth + 1, in_method, in_function, True))
            lines += ["for x in loader:", *("    " + line for line in body)]
        else:
            body = draw(blocks(depth + 1, in_method, in_function, in_loop))
            test = draw(st.sampled_from(("flag", "epoch == epochs - 1", "step % 10 == 0")))
            lines += [f"if {test}:", *("    " + line for line in body)]
    return lines


def indented(lines: list[str], indent: str) -> list[str]:
    return [
        indent + line.replace("{indent}", indent + " " * (len(line) - len(line.lstrip(" "))))
        for line in lines
    ]


@st.composite
def modules(draw) -> str:
    lines = ["from utils import evaluate as check, descend", "import utils", ""]
    # A decorator's calls are the function's own, as the flow reads them.
    decorators = st.lists(calls(False), max_size=1)
    for number in range(draw(st.integers(0, 4))):
        lines += indented([f"@{call}" for call in draw(decorators)], "")
        lines.append(f"def f{number}(model, optimizer):")
        lines += indented(draw(blocks(0, False, True, False)), "    ")
    for name, base in (("Base", "object"), ("Trainer", "Base")):
        lines.append(f"class {name}({base}):")
        for number in draw(st.lists(st.integers(0, 3), min_size=1, max_size=3, unique=True)):
            lines += indented([f"@{call}" for call in draw(decorators)], "    ")
            lines.append(f"    def m{number}(self):")
            lines += indented(draw(blocks(0, True, True, False)), "        ")
    lines += indented(draw(blocks(0, False, False, False)), "")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=modules())
def test_generated_files_are_judged_as_by_a_full_walk(source):
    assert_judged_as_by_a_full_walk(source)
    assert_judged_as_by_a_full_walk(source, ProjectModeSummaries())


# The pieces `may_change_mode` must get right: dots, the words, what may stand between (spaces,
# line breaks of every kind, backslashes, comments) and what may not.
MODE_TEXT_PIECES = [".", " ", "\t", "\n", "\r", "\x0c", "\x85", "\u2028", "\\", "#", "eval", "train", "ing", "x", "_", "é"]


# An attribute as Python may write it, as one regular expression (whose search from every dot
# takes time growing with the square of a text full of `.#`): what `_DottedWords` must answer.
DOT_THEN = r"\.(?:\s|\\|#[^\r\n]*(?![^\r\n]))*"


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(MODE_TEXT_PIECES), max_size=16).map("".join))
def test_may_change_mode_answers_as_the_search_from_every_dot(text):
    """It reads each word back to its dot instead of searching from every dot: same answer."""
    assert may_change_mode(text) == (re.search(DOT_THEN + r"(?:eval|train)\b", text) is not None)


@settings(max_examples=3000, deadline=None)
@given(
    st.lists(st.sampled_from(MODE_TEXT_PIECES + ["step", "\r\n", "e"]), max_size=20).map("".join),
    st.integers(0, 40),
    st.integers(0, 40),
)
def test_dotted_words_answer_as_the_search_from_every_dot(text, start, end):
    """Each comment read once, the dots in it included: same answer, in any slice."""
    for words in [r"(?:eval|train)\b", r"(?:step|train_step)(?!\w)"]:
        expected = re.search(DOT_THEN + words, text[:end][start:]) is not None
        assert _DottedWords(words).search(text, start, end) is expected, words


@pytest.mark.parametrize(
    "text, expected",
    [
        ("model.eval()", True),
        ("model .\\\n    train(False)", True),
        ("model.  # switch\n    eval()", True),
        ("x = retrain()  # model.evaluate", False),
        ("# see model. # eval\n", False),
        ("evaluate(model); model.training", False),
    ],
)
def test_may_change_mode_reads_dots_spaces_and_comments(text, expected):
    assert may_change_mode(text) is expected
