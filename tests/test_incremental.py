"""An edited file linted incrementally (``IncrementalLint``) gets exactly the findings and
fixes of a full lint (``lint_source``): after each edit of a sequence (lines typed and
deleted in bodies and between statements, imports, classes, sites gained and lost, syntax
errors), on a model file, on the fixtures and on random edits. The edits where no rule
looks must reuse the last findings, so the tests fail if reuse never happens."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.engine.diagnostics import Diagnostic
from dropout_lint.engine.incremental import IncrementalLint
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.rules import ALL_RULES
from dropout_lint.workspace.runner import options_for
from dropout_lint.workspace.settings import Settings
from test_fixtures import fixture_files, fixture_options

DEFAULT = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])
PATH = "model.py"

MODEL = '''\
import torch
import torch.nn as nn
import torch.nn.functional as F


def helper(x):
    return x * 2


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)


class Channels(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Sequential(Flatten(), nn.Dropout2d(0.1), nn.Linear(8, 8))

    def forward(self, x):
        return self.head(x)


class Base(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p


class Buggy(Base):
    def forward(self, x):
        return F.dropout(x, self.p)


class Clean(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, x):
        y = helper(x)
        return F.dropout(y, self.p, training=self.training)


class Plain:
    def run(self, values):
        total = 0
        for value in values:
            total += value
        return total

'''

Edit = Callable[[list[str]], list[str]]


def with_fixes(findings: Sequence[Diagnostic]) -> list[tuple[Diagnostic, object]]:
    """Findings compared with their fixes (a Diagnostic's equality leaves the fix out)."""
    return [(finding, finding.fix) for finding in findings]


def full_lint(text: str, path: str, options: LintOptions) -> list[Diagnostic]:
    return lint_source(text.encode("utf-8", "surrogatepass"), path, options)


def lint_each(texts: Sequence[str], path: str = PATH, options: LintOptions = DEFAULT) -> list[bool]:
    """Lint the texts in turn, incrementally; each must equal a full lint. Whether each reused."""
    linter = IncrementalLint()
    reused = []
    for number, text in enumerate(texts):
        assert with_fixes(linter.lint(text, path, options)) == with_fixes(full_lint(text, path, options)), number
        reused.append(linter.reused)
    return reused


def line_of(lines: list[str], text: str) -> int:
    return next(index for index, line in enumerate(lines) if text in line)


def insert(before: str, new: str) -> Edit:
    """Insert ``new`` before the first line holding ``before``, indented as that line."""

    def edit(lines: list[str]) -> list[str]:
        index = line_of(lines, before)
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        return [*lines[:index], f"{indent}{new}\n" if new else "\n", *lines[index:]]

    return edit


def delete(holding: str) -> Edit:
    def edit(lines: list[str]) -> list[str]:
        index = line_of(lines, holding)
        return [*lines[:index], *lines[index + 1 :]]

    return edit


def replace_text(old: str, new: str) -> Edit:
    def edit(lines: list[str]) -> list[str]:
        return "".join(lines).replace(old, new, 1).splitlines(keepends=True)

    return edit


def applied(text: str, edits: Sequence[Edit]) -> list[str]:
    """The texts after each edit, applied one after the other."""
    texts = [text]
    for edit in edits:
        texts.append("".join(edit(texts[-1].splitlines(keepends=True))))
    return texts


def test_the_model_file_has_findings_of_both_kinds() -> None:
    codes = [d.code for d in full_lint(MODEL, PATH, DEFAULT)]
    assert "DRP001" in codes and "DRP010" in codes


# Edits that change nothing libcst sees: comments between statements, and statements typed
# in or deleted from bodies that hold no site and no import or class statement.
# (Below the DRP010 finding, whose message names lines above it.)
WHERE_NO_RULE_LOOKS = [
    insert("class Base(nn.Module):", "# a comment between classes"),
    insert("        return total", "total = total + 0"),
    insert("        y = helper(x)", "y = x"),
    delete("        y = x"),
    delete("# a comment between classes"),
    insert("class Plain:", "# a comment above a class"),
    replace_text("total += value", "total = total + value"),
    insert("        return total", ""),
]


def test_edits_where_no_rule_looks_reuse_the_findings() -> None:
    texts = applied(MODEL, WHERE_NO_RULE_LOOKS)
    assert lint_each(texts) == [False, *[True] * len(WHERE_NO_RULE_LOOKS)]


def test_windows_line_endings() -> None:
    text = MODEL.replace("\n", "\r\n")
    typed = text.replace("        return total", "        total = total + 0\r\n        return total", 1)
    assert lint_each([text, typed, text]) == [False, True, True]


def test_line_numbers_move_with_the_findings_and_their_fixes() -> None:
    texts = applied(MODEL, [insert("class Base(nn.Module):", "")])
    linter = IncrementalLint()
    first = linter.lint(texts[0], PATH, DEFAULT)
    moved = linter.lint(texts[1], PATH, DEFAULT)
    assert linter.reused
    drp001 = [d for d in first if d.code == "DRP001"]
    assert drp001 and drp001[0].fix is not None
    after = next(d for d in moved if d.code == "DRP001")
    assert after.line == drp001[0].line + 1
    assert [edit.start[0] for edit in after.fix.edits] == [edit.start[0] + 1 for edit in drp001[0].fix.edits]


# Edits that may change the findings: each is linted whole (or reused only where the
# result is shown to equal a full lint).
THAT_MAY_CHANGE_FINDINGS = [
    insert("        return F.dropout(x, self.p)", "x = x + 1"),  # in the statement with a finding
    insert("        return total", "return F.dropout(values, 0.5)"),  # a new site
    delete("        return F.dropout(values, 0.5)"),
    insert("        return total", "import torch.nn.functional as G"),  # an import in a body
    insert("        return total", "self.train = True"),  # read by DRP002 in other classes
    insert("        return total", "self.conv = nn.Conv2d(1, 1, 1)"),  # named after a rank
    replace_text("class Plain:", "class Plain(nn.Module):"),  # a header
    replace_text("import torch.nn as nn", "from torch import nn"),  # an import
    insert("        total = 0", "total = ("),  # a syntax error
    delete("        total = ("),
    insert("import torch\n", "from torch.nn.functional import dropout as drop"),
    insert("        return total", "return drop(values, 0.5)"),  # a site through an alias
    replace_text("return x.view(x.size(0), -1)", "return x.flatten(1)"),
    insert("class Flatten", "# moves the DRP010 finding, whose message names lines"),
    insert("    return x * 2", "x = x + 1"),  # so does this
    replace_text("class Base(nn.Module):", "class Base(object):"),
]


def test_edits_that_may_change_findings_equal_a_full_lint() -> None:
    reused = lint_each(applied(MODEL, THAT_MAY_CHANGE_FINDINGS))
    # The model file may have DRP010 findings, whose rule reads beyond names: an edit in a
    # statement with a finding is linted whole there, and so is one that adds a site.
    assert not any(reused[1:3]), "edits in a statement with a finding, or adding a site, are linted whole"


def test_a_file_that_stops_parsing_and_parses_again() -> None:
    texts = applied(MODEL, [insert("        return total", "total = ("), delete("        total = ("), insert("        return total", "# and on")])
    assert lint_each(texts) == [False, False, False, True]


def test_options_built_anew_for_each_check_still_reuse() -> None:
    """The server builds its options for every check (``options_for``): equal settings must
    give equal options, or no edit would ever reuse the last findings."""
    linter = IncrementalLint()
    texts = applied(MODEL, WHERE_NO_RULE_LOOKS[:1])
    for text in texts:
        options = options_for(PATH, Settings(), frozenset())
        assert with_fixes(linter.lint(text, PATH, options)) == with_fixes(full_lint(text, PATH, options))
    assert linter.reused


STORED_IN_BASE = """\
import torch.nn as nn


class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.train = True
        self.extra = 1


class Sub(Base):
    def forward(self, x):
        if self.train:
            return x
        return x * 2
"""


def test_a_store_in_a_base_class_decides_whether_a_subclass_read_is_a_finding() -> None:
    """DRP002 reads ``self.train`` only in a class whose hierarchy never stores it: an edit
    of the base's body changes the subclass's findings (the base is emptied when nothing
    else is kept, and whole when the subclass holds a site)."""
    without_store = STORED_IN_BASE.replace("        self.train = True\n", "")
    assert [d.code for d in full_lint(without_store, PATH, DEFAULT)] == ["DRP002"]
    lint_each([STORED_IN_BASE, without_store, STORED_IN_BASE, without_store])
    lint_each([without_store, STORED_IN_BASE])


def test_a_line_ending_or_indentation_that_changes_how_fixes_are_written() -> None:
    """libcst writes a fix's new lines with the file's first line ending and first
    indentation: an edit that changes either changes the fixes of every finding (found by
    hypothesis: a LF line typed at the top of a CRLF file)."""
    crlf = MODEL_GROUPS.replace("\n", "\r\n")
    tabs = MODEL_GROUPS.replace("class Base(nn.Module):\n    def", "class Base(nn.Module):\n\tdef").replace(
        "\n        super().__init__()\n        self.p = p\n\n\nclass Buggy", "\n\t\tsuper().__init__()\n\t\tself.p = p\n\n\nclass Buggy"
    )
    assert lint_each([crlf, "\n" + crlf]) == [False, False]
    assert lint_each([MODEL_GROUPS, tabs]) == [False, False]


def test_settings_and_files_are_not_mixed() -> None:
    linter = IncrementalLint()
    linter.lint(MODEL, PATH, DEFAULT)
    everything = LintOptions(rules=list(ALL_RULES))
    assert with_fixes(linter.lint(MODEL, PATH, everything)) == with_fixes(full_lint(MODEL, PATH, everything))
    assert not linter.reused
    linter.lint(MODEL, "other.py", DEFAULT)
    assert not linter.reused


# A file whose rules read other statements by name only (no DRP010): an edit in a class
# libcst sees whole re-lints that class with the statements linked to it by name, and
# keeps the other classes' findings.
MODEL_GROUPS = """\
import torch
import torch.nn.functional as F
from torch import nn


class Base(nn.Module):
    def __init__(self, p=0.1):
        super().__init__()
        self.p = p


class Buggy(Base):
    def forward(self, x):
        return F.dropout(x, self.p)


class Other(nn.Module):
    def __init__(self):
        super().__init__()
        self.rate = 0.2

    def forward(self, x):
        return F.dropout(x, self.rate)


class Caller(nn.Module):
    def __init__(self, p=0.3):
        super().__init__()
        self.inner = Other()
        self.p = p

    def forward(self, x):
        return self.inner(x) + F.dropout(x, self.p)


class Clean(nn.Module):
    def forward(self, x, p):
        return F.dropout(x, p)


def helper(x):
    return F.dropout(x, 0.5)
"""
# The same classes where `nn` is not imported: the fixes that register a module insert
# `import torch.nn as nn` among the imports, an edit that depends on the rest of the file.
MODEL_GROUPS_IMPORTING = MODEL_GROUPS.replace(
    "import torch.nn.functional as F\nfrom torch import nn\n", "from torch.nn import functional as F\nimport torch.nn\n"
).replace("(nn.Module)", "(torch.nn.Module)")

# (edit, whether it must be re-linted statement by statement rather than whole)
IN_CLASSES_WITH_FINDINGS = [
    (insert("        return F.dropout(x, self.p)", "x = x + 1"), True),  # the class with a finding
    (replace_text("        self.p = p\n\n\nclass Buggy", "        self.p = 0.0\n\n\nclass Buggy"), True),  # its base
    (replace_text("self.p = 0.0", "self.p = p"), True),
    (replace_text("self.rate = 0.2", "self.rate = 0.5"), True),  # a class its caller builds
    (insert("        self.p = p", "self.rate = 0.0"), True),  # the caller
    (replace_text("F.dropout(x, self.p)\n\n\nclass Other", "F.dropout(x, self.p) + Other()(x)\n\n\nclass Other"), True),  # a new link
    (replace_text("F.dropout(x, p)", "F.dropout(x, 0.1)"), True),  # a finding appears in another class
    (insert("        return F.dropout(x, 0.1)", "# a comment"), True),
    (replace_text("F.dropout(x, self.rate)", "F.dropout(x, self.rate, training=self.training)"), False),  # loses its site
    (replace_text("F.dropout(x, self.rate, training=self.training)", "F.dropout(x, self.rate)"), False),  # gains one
    (replace_text("class Buggy(Base):", "class Buggy(nn.Module):"), False),  # a header
    (insert("    return F.dropout(x, 0.5)", "y = x"), True),  # a function with a site
]


@pytest.mark.parametrize("model", [MODEL_GROUPS, MODEL_GROUPS_IMPORTING], ids=["nn imported", "nn not imported"])
def test_edits_in_classes_with_findings_relint_their_linked_statements(model: str) -> None:
    texts = applied(model, [edit for edit, _ in IN_CLASSES_WITH_FINDINGS])
    assert all(before != after for before, after in zip(texts, texts[1:])), "every edit changes the text"
    reused = lint_each(texts)
    for (edit, by_statement), was_reused in zip(IN_CLASSES_WITH_FINDINGS, reused[1:]):
        if by_statement:
            assert was_reused, edit


def test_a_fix_inserting_an_import_is_kept_for_the_classes_not_relinted() -> None:
    texts = applied(MODEL_GROUPS_IMPORTING, [insert("        return F.dropout(x, self.p)", "x = x + 1")])
    linter = IncrementalLint()
    linter.lint(texts[0], PATH, DEFAULT)
    found = linter.lint(texts[1], PATH, DEFAULT)
    assert linter.reused
    inserting = [d for d in found if d.fix and any(edit.content == "import torch.nn as nn\n" for edit in d.fix.edits)]
    assert len(inserting) == 2  # Other's and Caller's, reused from the last lint


def test_writing_the_name_a_fix_elsewhere_imports_relints_the_file() -> None:
    """Caller's fix adds `import torch.nn as nn` only while no statement uses `nn`: once an
    edit in Other writes `nn`, a full lint gives Caller `training=self.training` instead, so
    Caller's last fix cannot be kept; and when the use goes, the import is back."""
    texts = applied(
        MODEL_GROUPS_IMPORTING,
        [insert("        self.rate = 0.2", "self.conv = nn.Conv2d(1, 1, 1)"), delete("self.conv = nn.Conv2d")],
    )
    lint_each(texts)
    imports = [
        sum(any(edit.content == "import torch.nn as nn\n" for edit in d.fix.edits) for d in full_lint(text, PATH, DEFAULT) if d.fix)
        for text in texts
    ]
    assert imports[0] > 0 and imports[1] == 0 and imports[2] == imports[0]


def fixture_edits(text: str) -> list[Edit]:
    """Lines typed between statements and into the first and last bodies of a fixture, then
    taken out again."""
    lines = text.splitlines(keepends=True)
    bodies = [index for index, line in enumerate(lines) if line.startswith(("def ", "class ")) and line.rstrip().endswith(":")]
    edits: list[Edit] = [lambda lines: [*lines[:1], "# typed\n", *lines[1:]]]
    for header in bodies[:1] + bodies[-1:]:
        first_body_line = lines[header + 1]
        indent = first_body_line[: len(first_body_line) - len(first_body_line.lstrip())] or "    "

        def typed(lines: list[str], header: str = lines[header], indent: str = indent) -> list[str]:
            index = lines.index(header) + 1
            return [*lines[:index], f"{indent}_unused = 0\n", *lines[index:]]

        edits.append(typed)
    edits.append(lambda lines: [line for line in lines if line != "# typed\n"])
    return edits


FIXTURES = fixture_files()
# Whether the comment typed below the first line reuses the findings: not in a DRP010
# fixture, whose findings' messages name lines below it.
QUICK_FIXTURES = {"drp001/scope.py": True, "drp002/train_method.py": True, "drp010/hand_written_flatten.py": False}


def check_fixture(path: Path) -> list[bool]:
    text = path.read_text(encoding="utf-8")
    options = fixture_options(path, text)
    return lint_each(applied(text, fixture_edits(text)), str(path), options)


@pytest.mark.parametrize("name", QUICK_FIXTURES)
def test_fixture_edits_equal_a_full_lint(name: str) -> None:
    reused = check_fixture(next(path for path in FIXTURES if path.as_posix().endswith(name)))
    assert reused[1] is QUICK_FIXTURES[name]


@pytest.mark.slow
@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_every_fixture_edited_equals_a_full_lint(path: Path) -> None:
    check_fixture(path)


SNIPPETS = [
    "",
    "# a comment",
    "z = 1",
    "pass",
    "return x",
    "import os",
    "F.dropout(x, 0.2)",
    "x = F.dropout(x, 0.2, training=self.training)",
    "self.train = True",
    "self.conv = nn.Conv2d(1, 1, 1)",
    "class Extra(nn.Module):",
    "def extra(self):",
    "x = (",
]
EDITS = st.lists(
    st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1, exclude_max=True), st.sampled_from(SNIPPETS)),
    min_size=1,
    max_size=6,
)


def random_edit(kind: str, where: float, snippet: str) -> Edit:
    def edit(lines: list[str]) -> list[str]:
        index = int(where * len(lines))
        line = lines[index]
        indent = line[: len(line) - len(line.lstrip(" "))]
        new = f"{indent}{snippet}\n"
        if kind == "insert":
            return [*lines[:index], new, *lines[index:]]
        if kind == "delete" and len(lines) > 1:
            return [*lines[:index], *lines[index + 1 :]]
        return [*lines[:index], new, *lines[index + 1 :]]

    return edit


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_random_edits_equal_a_full_lint(edits: list[tuple[str, float, str]]) -> None:
    lint_each(applied(MODEL, [random_edit(*edit) for edit in edits]))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EDITS)
def test_many_random_edits_equal_a_full_lint(edits: list[tuple[str, float, str]]) -> None:
    lint_each(applied(MODEL, [random_edit(*edit) for edit in edits]))


GROUPED_MODELS = st.sampled_from([MODEL_GROUPS, MODEL_GROUPS_IMPORTING, MODEL_GROUPS.replace("\n", "\r\n")])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GROUPED_MODELS, EDITS)
def test_random_edits_in_classes_equal_a_full_lint(model: str, edits: list[tuple[str, float, str]]) -> None:
    lint_each(applied(model, [random_edit(*edit) for edit in edits]))


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(GROUPED_MODELS, EDITS)
def test_many_random_edits_in_classes_equal_a_full_lint(model: str, edits: list[tuple[str, float, str]]) -> None:
    lint_each(applied(model, [random_edit(*edit) for edit in edits]))
