"""The second gate (CPython's tree) and the reduced source libcst sees change no finding.

``lint_source`` takes every fast path: the byte gate, the rules' sites on CPython's tree,
and a source reduced to the statements around the sites. Each test compares it with the
rules run on the whole parsed file, every gate bypassed: on every fixture, example and
rule example, and on generated files of many classes and functions.
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.engine import lint as engine
from dropout_lint.engine.diagnostics import Diagnostic
from dropout_lint.engine.lint import LintOptions, check_module, lint_source, parse
from dropout_lint.engine.rule import Rule
from dropout_lint.engine.source_text import decoded, first_line, split_lines
from dropout_lint.prefilter import reduction
from dropout_lint.prefilter.reduction import Reduction, reduced
from dropout_lint.prefilter.stages import byte_stage, syntax_stage
from dropout_lint.prefilter.syntax_scan import SyntaxScan
from dropout_lint.rules import ALL_RULES, RULES_BY_CODE

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


def with_fixes(found: list[Diagnostic]) -> list[tuple[Diagnostic, object]]:
    return [(d, d.fix) for d in found]


def assert_same_findings(source: bytes) -> None:
    assert with_fixes(lint_source(source, "<test>", ALL)) == with_fixes(full_findings(source, list(ALL_RULES)))


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


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.class_reads is not None], ids=lambda r: r.code)
def test_every_finding_of_a_rule_reading_part_of_a_class_is_in_a_method_of_a_site(
    rule: type[Rule],
) -> None:
    """The promise ``Rule.class_reads`` makes: findings only in the methods holding a site."""
    sources = [*(p.read_bytes() for p in SOURCES), *(s.encode() for s in RULE_EXAMPLES)]
    for source in sources:
        tree = ast.parse(source)
        sites = rule.sites(SyntaxScan(tree, decoded(source)))
        assert sites is not None
        methods = [
            range(first_line(method), method.end_lineno + 1)
            for statement in tree.body
            if isinstance(statement, ast.ClassDef)
            for method in reduction._methods(statement)
            if any(method.lineno <= site.lineno <= method.end_lineno for site in sites)
        ]
        for finding in full_findings(source, [rule]):
            assert any(finding.line in lines for lines in methods), (rule.code, finding)


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
        "if self.training:\n            x = self.helper(x)",
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
        f"{draw(OTHER_METHODS)}"
    )


# Methods no rule has a site in, which libcst may not see: a fix must not take a name
# they use (`dropout`), nor miss a dropout module they build (the fix's naming follows it).
OTHER_METHODS = st.sampled_from(
    [
        "",
        "\n    def describe(self):\n        return f'{self.dropout}'\n",
        "\n    def reset(self):\n        self.attn_drop = nn.Dropout(0.0)\n",
        "\n    def rate(self):\n        return getattr(self, 'dropout', None)\n",
        "\n    def tune(self, p):\n        self.p = p\n",
    ]
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


# Blocks a class can be defined in: it takes the place of ``CODE``, on the last line.
NESTINGS = [
    "CODE",
    "if flag:\n    pass\nelse:\n    CODE",
    "try:\n    pass\nexcept ImportError:\n    CODE",
    "try:\n    pass\nfinally:\n    CODE",
    "for _ in range(1):\n    pass\nelse:\n    CODE",
    "while flag:\n    CODE",
    "with lock:\n    CODE",
    "match flag:\n    case 1:\n        CODE",
    "class Holder:\n    CODE",
]
NET = "class Net(Base):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"


def _nested(nesting: str, code: str) -> str:
    """A function whose body defines ``code`` inside the blocks ``nesting`` opens."""
    indent = nesting.rsplit("\n", 1)[-1][: -len("CODE")]
    body = nesting.replace(f"{indent}CODE", textwrap.indent(code, indent))
    return "def make():\n" + textwrap.indent(body, "    ")


@pytest.mark.parametrize("nesting", NESTINGS)
def test_classes_in_any_block_of_a_definition_are_related(nesting: str) -> None:
    # A subclass, and a base, of a site's class, each defined deep in a function's body.
    subclass = "class Child(Net):\n    def forward(self, x):\n        return x * 2\n"
    base = "class Base(nn.Module):\n    def forward(self, x):\n        return x + 1\n"
    for related, kept_line in ((subclass, "return x * 2"), (base, "return x + 1")):
        source = "import torch.nn as nn\n\n\n" + _nested(nesting, related) + "\n\n" + NET
        tree = ast.parse(source)
        assert kept_line in reduced(source, tree, {len(tree.body) - 1}).text
        unrelated = source.replace("(Net)", "(Other)").replace("class Base(", "class Other(")
        assert kept_line not in reduced(unrelated, ast.parse(unrelated), {len(tree.body) - 1}).text


CLASS_FILE = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        if self.training:
            x = self.noisy(x)
        return self.head(x)

    def noisy(self, x):
        return F.dropout(x, 0.3)

    def head(self, x):
        return self.fc(F.dropout(x, 0.3))

    def describe(self):
        '''Many lines no rule needs.'''
        return f"{self.fc}"
"""
DESCRIBE = "    def describe(self):\n        '''Many lines no rule needs.'''\n        return f\"{self.fc}\"\n"
DEFAULT_RULES = [r for r in ALL_RULES if r.default_enabled]


def _reduction(source: str, code: str) -> Reduction:
    """``source`` reduced as the engine reduces it for the rule ``code`` alone."""
    tree = ast.parse(source)
    _, sites = syntax_stage([RULES_BY_CODE[code]], SyntaxScan(tree, source))
    assert sites is not None
    return reduced(source, tree, sites.statements, sites.methods)


def _fixes(source: str) -> list[tuple[Diagnostic, object]]:
    found = with_fixes(lint_source(source, "<test>"))
    assert found == with_fixes(full_findings(source.encode(), DEFAULT_RULES))
    return found


def test_libcst_sees_the_methods_of_the_sites_their_callers_and_init() -> None:
    kept = _reduction(CLASS_FILE, "DRP001").text
    assert "return F.dropout(x, 0.3)" in kept and "return self.fc(F.dropout(x, 0.3))" in kept
    assert "x = self.noisy(x)" in kept  # the caller's guard: `noisy` only runs in training
    assert "self.fc = nn.Linear(8, 8)" in kept  # where the fix registers the module
    assert "    def describe(self):\n" in kept and "Many lines" not in kept
    assert len(split_lines(kept)) == len(split_lines(CLASS_FILE))
    ((finding, fix),) = _fixes(CLASS_FILE)
    assert (finding.line, finding.code) == (19, "DRP001")
    assert "self.dropout = nn.Dropout(p=0.3)" in [edit.content.strip() for edit in fix.edits]


def test_a_rule_that_reads_classes_whole_sees_them_whole() -> None:
    source = CLASS_FILE.replace("F.dropout(x, 0.3))", "F.dropout2d(x, 0.3, self.training))")
    assert "Many lines" in _reduction(source, "DRP010").text


@pytest.mark.parametrize(
    "method",
    [
        "    def describe(self):\n        return self.dropout\n",  # the name the fix takes
        "    def describe(self):\n        setattr(self, 'dropout', None)\n",
    ],
)
def test_a_fix_naming_what_an_emptied_method_names_is_made_on_the_whole_class(method: str) -> None:
    source = CLASS_FILE.replace(DESCRIBE, method + "\n    def other(self):\n        return 1\n")
    part = _reduction(source, "DRP001")
    assert "    def describe(self):\n" in part.text and "dropout\n" not in part.text
    rule = [RULES_BY_CODE["DRP001"]]
    (finding,) = check_module(parse(part.text, "<test>"), "<test>", rule, LintOptions(rules=rule))
    assert "self.dropout = " in finding.fix.edits[0].content
    assert not part.holds_all(finding.fix.edits)  # it takes `dropout`, which `describe` uses
    ((_, fix),) = _fixes(source)
    assert "self.dropout = " not in fix.edits[0].content


def test_methods_that_build_dropout_or_declare_globals_are_seen() -> None:
    added = (
        "\n    def reset(self):\n        self.attn_drop = nn.Dropout(0.0)\n"
        "\n    def rebind(self):\n        global F\n        F = None\n"
    )
    source = CLASS_FILE + added
    kept = _reduction(source, "DRP001").text
    assert "self.attn_drop = nn.Dropout(0.0)" in kept and "F = None" in kept
    _fixes(source)


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
    monkeypatch.setattr(reduction, "reduced", lambda *args: Reduction("def broken(:\n", ()))
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
