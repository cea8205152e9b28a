"""The second gate (CPython's tree) and the reduced source libcst sees change no finding.

``lint_source`` takes every fast path: the byte gate, the rules' sites on CPython's tree,
and a source reduced to the statements around the sites. Each test compares it with the
rules run on the whole parsed file, every gate bypassed: on every fixture, example and
rule example, and on generated files of many classes and functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.engine import lint as engine
from dropout_lint.engine.diagnostics import Diagnostic
from dropout_lint.engine.lint import LintOptions, check_module, lint_source, parse
from dropout_lint.engine.rule import Rule
from dropout_lint.engine.source_text import decoded, split_lines
from dropout_lint.prefilter import reduction
from dropout_lint.prefilter.reduction import Reduction, reduced
from dropout_lint.prefilter.stages import byte_stage
from dropout_lint.prefilter.syntax_scan import SyntaxScan
from dropout_lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for folder in ("fixtures", "examples")
    for path in (ROOT / folder).rglob("*.py")
    if not path.name.endswith(".fixed.py")
)
RULE_EXAMPLES = [
    example.code for rule in ALL_RULES for example in (*rule.valid, *rule.invalid)
]
ALL = LintOptions(rules=list(ALL_RULES))


def full_findings(source: bytes, rules: list[type[Rule]]) -> list[Diagnostic]:
    """The rules on the whole parsed file, as the engine reports them, with no gate."""
    module = parse(source, "<test>")
    if isinstance(module, Diagnostic):
        return [module]
    return sorted(d.detached() for d in check_module(module, "<test>", rules, LintOptions(rules=rules)))


def assert_same_findings(source: bytes) -> None:
    assert lint_source(source, "<test>", ALL) == full_findings(source, list(ALL_RULES))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fast_paths_change_nothing_on_fixtures(path: Path) -> None:
    assert_same_findings(path.read_bytes())


@pytest.mark.parametrize("source", RULE_EXAMPLES, ids=lambda s: str(hash(s))[-6:])
def test_fast_paths_change_nothing_on_rule_examples(source: str) -> None:
    assert_same_findings(source.encode())


def _statement_lines(source: bytes) -> list[range]:
    return [range(s.lineno, s.end_lineno + 1) for s in ast.parse(source).body]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_every_finding_is_in_the_statement_of_a_site(rule: type[Rule]) -> None:
    """The promise ``Rule.sites`` makes, checked on every source at hand."""
    sources = [*(p.read_bytes() for p in SOURCES), *(s.encode() for s in RULE_EXAMPLES)]
    for source in sources:
        scan = SyntaxScan(ast.parse(source), decoded(source))
        sites = rule.sites(scan)
        if sites is None:
            continue
        held = {scan.statement_of(node) for node in sites}
        lines = _statement_lines(source)
        for finding in full_findings(source, [rule]):
            assert any(finding.line in lines[i] for i in held), (rule.code, finding)


# Generated files: classes that are modules or not, on bases from the same file, with
# dropout used well and badly, beside functions, decorators, docstrings and one-liners.
BAD_OR_GOOD = st.sampled_from(
    [
        "x = F.dropout(x, 0.5)",
        "x = F.dropout(x, 0.5, self.training)",
        "x = F.dropout2d(x.flatten(1), training=self.training)",
        "x = nn.Dropout(0.1)(x)",
        "x = self.drop(x)",
        "x = self.drop2d(x.view(-1, 8))",
        "x = x if self.train else -x",
        "x = F.alpha_dropout(x, training=True)",
        "x = self.helper(x)",
        "if self.training:\n            x = F.dropout(x)",
    ]
)
INIT_LINES = st.sampled_from(
    [
        "self.drop = nn.Dropout(0.2)",
        "self.drop2d = nn.Dropout2d(0.2)",
        "self.fc = nn.Linear(8, 8)",
        "self.train = train",
    ]
)


@st.composite
def class_statement(draw: st.DrawFn, name: str, earlier: list[str]) -> str:
    base = draw(st.sampled_from(["nn.Module", "object", "Unknown", *earlier]))
    init = draw(st.lists(INIT_LINES, max_size=3))
    forward = draw(st.lists(BAD_OR_GOOD, min_size=1, max_size=3))
    decorated_first = draw(st.booleans())
    docstring = '    """A class.\n\n    Spanning lines.\n    """\n' if draw(st.booleans()) else ""
    first = "    @property\n    def p(self):\n        return 0.1\n\n" if decorated_first else ""
    body_init = "".join(f"        {line}\n" for line in init)
    body_forward = "".join(f"        {line}\n" for line in forward)
    return (
        f"class {name}({base}):\n{docstring}{first}"
        f"    def __init__(self, train=True):\n        super().__init__()\n{body_init}\n"
        f"    def helper(self, x):\n        return F.dropout(x, 0.1)\n\n"
        f"    def forward(self, x):\n{body_forward}        return x\n"
    )


OTHER_STATEMENTS = st.sampled_from(
    [
        "def helper(x, training):\n    return F.dropout(x, 0.5, training)\n",
        "@decorator\ndef g(x):\n    '''Doc.'''\n    # a comment\n    return x\n",
        "def one_liner(x): return F.dropout(x)\n",
        "class Tiny(nn.Module): pass\n",
        "head = nn.Sequential(nn.Flatten(), nn.Linear(4, 4), nn.Dropout2d(0.1))\n",
        "if TYPE_CHECKING:\n    class Hidden(nn.Module):\n        def forward(self, x):\n            return F.dropout(x)\n",
        "def outer():\n    class Inner(nn.Module):\n        def forward(self, x):\n            return F.dropout(x)\n    return Inner\n",
        "async def agen(x):\n    return x\n",
        "F = make_functional()\n",
    ]
)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    statements = ["import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"]
    names: list[str] = []
    for index in range(draw(st.integers(1, 6))):
        if draw(st.booleans()):
            name = f"C{index}"
            statements.append(draw(class_statement(name, names)))
            names.append(name)
        else:
            statements.append(draw(OTHER_STATEMENTS))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return "\n\n".join(statements).replace("\n", newline).encode()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(files())
def test_fast_paths_change_nothing_on_generated_files(source: bytes) -> None:
    assert_same_findings(source)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(files(), st.data())
def test_reduced_source_parses_with_the_same_lines(source: bytes, data: st.DataObject) -> None:
    text = source.decode()
    tree = ast.parse(source)
    sites = data.draw(st.sets(st.integers(0, len(tree.body) - 1)))
    reduced_text = reduced(text, tree, sites).text
    reduced_tree = ast.parse(reduced_text)
    assert len(split_lines(reduced_text)) == len(split_lines(text))
    for index, (before, after) in enumerate(zip(tree.body, reduced_tree.body)):
        assert (after.lineno, after.col_offset) == (before.lineno, before.col_offset)
        if index in sites:
            assert ast.dump(after) == ast.dump(before)


LONG_FILE = """import torch.nn as nn
import torch.nn.functional as F


def unrelated(x):
    '''Many lines no rule needs.'''
    y = x
    return y


class Base(nn.Module):
    def forward(self, x):
        return x


class Net(Base):
    def forward(self, x):
        return F.dropout(x, 0.5)


class Other(nn.Module):
    @property
    def p(self):
        return 0.5

    def forward(self, x):
        return F.dropout(x, self.p, self.training)


class Sibling(Base):
    def forward(self, x):
        return x + 1


class Child(Net):
    def forward(self, x):
        return super().forward(x) * 2
"""


def test_libcst_sees_the_statements_around_sites_their_bases_and_subclasses() -> None:
    tree = ast.parse(LONG_FILE)
    scan = SyntaxScan(tree, LONG_FILE)
    (rule,) = [r for r in ALL_RULES if r.code == "DRP001"]
    held = {scan.statement_of(node) for node in rule.sites(scan)}
    kept = reduced(LONG_FILE, tree, held).text
    assert "return F.dropout(x, 0.5)" in kept and "class Base(nn.Module):\n    def forward" in kept
    assert "y = x" not in kept and "self.training" not in kept
    assert "def unrelated(x):\n" in kept and "class Other(nn.Module):\n" in kept
    assert "return super().forward(x) * 2" in kept  # a subclass of the site's class
    assert "class Sibling(Base):\n" in kept and "return x + 1" not in kept
    (finding,) = lint_source(LONG_FILE, "<test>")
    assert (finding.line, finding.column, finding.code) == (18, 16, "DRP001")


def test_a_file_whose_calls_all_pass_the_mode_is_not_given_to_libcst(monkeypatch) -> None:
    # The byte gate cannot read these arguments (an f-string with fields); CPython's can.
    source = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
        "    def forward(self, x):\n"
        "        return F.dropout(x, p=self.rates[f'{self.name}'], training=self.training)\n"
    )
    assert byte_stage(source.encode(), ALL_RULES)

    def refuse(*args: object) -> None:
        raise AssertionError("libcst was asked to parse a file no rule can fire on")

    monkeypatch.setattr(engine, "_libcst_module", refuse)
    assert lint_source(source, "<test>", ALL) == []


def test_a_reduced_source_libcst_rejects_falls_back_to_the_whole_file(monkeypatch) -> None:
    monkeypatch.setattr(reduction, "reduced", lambda text, tree, sites: Reduction("def broken(:\n", ()))
    assert lint_source(LONG_FILE, "<test>") == full_findings(LONG_FILE.encode(), [
        r for r in ALL_RULES if r.default_enabled
    ])


def test_a_failing_sites_gate_leaves_the_rule_the_whole_file(monkeypatch) -> None:
    (rule,) = [r for r in ALL_RULES if r.code == "DRP001"]

    def broken(cls: type, scan: SyntaxScan) -> None:
        raise RuntimeError("a bug in a gate")

    monkeypatch.setattr(rule, "sites", classmethod(broken))
    (finding,) = lint_source(LONG_FILE, "<test>")
    assert finding.line == 18


def test_noqa_is_read_on_python_lines_not_at_form_feeds() -> None:
    source = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\x0c\n"
        "class Net(nn.Module):\n    def forward(self, x):\n"
        "        return F.dropout(x, 0.5)  # noqa: DRP001\n"
    )
    assert lint_source(source) == []
    assert [d.line for d in lint_source(source.replace("  # noqa: DRP001", ""))] == [6]


# Fixing: the fixes' edits are made while linting the reduced source. The result must be
# the file that fixes made on the whole parsed file make, byte for byte.
FIXTURES_WITH_FIXES = sorted(p for p in SOURCES if p.with_name(p.stem + ".fixed.py").exists())


def fixed_both_ways(source: bytes, monkeypatch: pytest.MonkeyPatch, unsafe: bool) -> tuple[object, object]:
    from dropout_lint.fixes import fixer

    in_part = fixer.fix_source(source, "<test>", ALL, unsafe)
    with monkeypatch.context() as patched:
        patched.setattr(engine, "syntax_stage", lambda rules, scan: (list(rules), None))
        whole = fixer.fix_source(source, "<test>", ALL, unsafe)
    return in_part, whole


@pytest.mark.parametrize("path", FIXTURES_WITH_FIXES, ids=lambda p: p.name)
@pytest.mark.parametrize("unsafe", [False, True])
def test_fixing_in_part_makes_the_file_the_whole_file_makes(
    path: Path, unsafe: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_part, whole = fixed_both_ways(path.read_bytes(), monkeypatch, unsafe)
    assert in_part == whole


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(files())
def test_fixing_in_part_makes_the_file_the_whole_file_makes_on_generated_files(source: bytes) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        in_part, whole = fixed_both_ways(source, monkeypatch, unsafe=True)
    assert in_part == whole


def test_fixing_a_long_file_parses_only_the_part_the_rules_see(monkeypatch: pytest.MonkeyPatch) -> None:
    from dropout_lint.fixes import fixer

    parse = engine._libcst_module

    def only_the_part(source: str, path: str) -> object:
        assert "y = x" not in source, "libcst saw the emptied function's body"
        return parse(source, path)

    monkeypatch.setattr(engine, "_libcst_module", only_the_part)
    result = fixer.fix_source(LONG_FILE.encode(), "<test>", ALL)
    assert result.fixed == {"DRP001": 1}
    assert b"F.dropout(x, 0.5, training=self.training)" in result.source and b"y = x\n" in result.source




def test_the_walk_records_every_node_but_the_leaves_cpython_shares() -> None:
    """Every node a rule may ask about is indexed, with its parent and statement; the shared
    contexts and operators (one ``Load()`` for every name read) are not."""
    tree = ast.parse(LONG_FILE)
    scan = SyntaxScan(tree, LONG_FILE)
    shared = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop)
    below = [node for statement in tree.body for node in ast.walk(statement)]
    assert set(scan.nodes()) == {node for node in below if not isinstance(node, shared)}
    for position, statement in enumerate(tree.body):
        for parent in ast.walk(statement):
            for child in ast.iter_child_nodes(parent):
                if not isinstance(child, (*shared, ast.cmpop)):  # `==` is shared too, in lists
                    assert scan.parent(child) is parent and scan.statement_of(child) == position
