"""The gate is conservative: when it says a rule cannot fire, the rule, run on the parsed
file without any gate, finds nothing. Checked on every fixture, example and rule example,
and on generated calls; and it does turn away the files that cannot fire."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dropout_lint.diagnostics import Diagnostic
from dropout_lint.engine import LintOptions, check_module, interested_rules, parse
from dropout_lint.gate import SourceScan
from dropout_lint.rule import Rule
from dropout_lint.rules import ALL_RULES, RULES_BY_CODE

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(
    path
    for folder in ("fixtures", "examples")
    for path in (ROOT / folder).rglob("*.py")
    if not path.name.endswith(".fixed.py")
)
RULE_EXAMPLES = [
    (rule.code, index, example.code)
    for rule in ALL_RULES
    for index, example in enumerate((*rule.valid, *rule.invalid))
]


def gate_says_may_fire(rule: type[Rule], data: bytes) -> bool:
    return bool(rule.trigger.search(data)) and rule.may_fire(SourceScan(data))


def findings_without_gate(rule: type[Rule], data: bytes) -> list[tuple[int, str]]:
    """What the rule reports on the parsed file, every gate bypassed."""
    module = parse(data, "<gate test>")
    assert not isinstance(module, Diagnostic), module.message
    found = check_module(module, "<gate test>", [rule], LintOptions(rules=[rule]))
    return [(d.line, d.code) for d in found]


def assert_conservative(data: bytes) -> None:
    for rule in ALL_RULES:
        if not gate_says_may_fire(rule, data):
            assert findings_without_gate(rule, data) == [], rule.code


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_gate_is_conservative_on_fixtures_and_examples(path: Path) -> None:
    assert_conservative(path.read_bytes())


@pytest.mark.parametrize("code, index, source", RULE_EXAMPLES, ids=lambda v: str(v)[:12])
def test_gate_is_conservative_on_rule_examples(code: str, index: int, source: str) -> None:
    assert_conservative(source.encode())


@pytest.mark.parametrize("rule", [r for r in ALL_RULES if r.invalid], ids=lambda r: r.code)
def test_gate_lets_every_invalid_example_through(rule: type[Rule]) -> None:
    for example in rule.invalid:
        assert gate_says_may_fire(rule, example.code.encode())


WELL_WRITTEN = b"""
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, dim, drop=0.1):
        super().__init__()
        self.dropout = nn.Dropout(drop)
        self.drop_path = nn.AlphaDropout(drop) if drop else nn.Identity()

    def forward(self, x):
        # A comment with F.dropout in it, (not a call).
        x = self.dropout(x)
        x = F.dropout(x, p=self.p, training=self.training)
        x = F.dropout(
            x,
            self.p,  # the rate
            self.training,
        )
        return nn.functional.dropout(x, p=0.1, training=self.training, inplace=False)

    def train(self, mode=True):
        super().train(mode)
        self.dropout.train(mode)
"""


def test_well_written_module_is_never_parsed() -> None:
    assert interested_rules(WELL_WRITTEN, ALL_RULES) == []


@pytest.mark.parametrize(
    "line, code",
    [
        ("x = F.dropout(x, 0.5)", "DRP001"),
        ("x = F.dropout(x, f\"{a['b']}\")", "DRP001"),  # unreadable: may fire, the rule decides
        ("x = F.dropout(x, 0.1)  # training=self.training", "DRP001"),
        ("x = nn.functional.dropout(x, training=True)", "DRP003"),
        ("x = nn.Dropout(0.2)(x)", "DRP020"),
        ("x = (nn.Dropout(0.2))(x)", "DRP020"),
        ("x = x if self.train else -x", "DRP002"),
        ("assert self.train\n        (x)", "DRP002"),
    ],
)
def test_gate_lets_candidates_through(line: str, code: str) -> None:
    source = WELL_WRITTEN.replace(b"        return nn", f"        {line}\n        return nn".encode())
    assert gate_says_may_fire(RULES_BY_CODE[code], source)


# Generated calls: callees spelled every way the scan must follow, arguments every way
# they can bind, comments and strings where the scan could be fooled.
IMPORT_LINES = [
        "import torch.nn.functional as F\n",
        "from torch.nn import functional as F\n",
        "import torch\n",
        "import torch.nn as nn\n",
        "from torch.nn.functional import dropout as drop, alpha_dropout\n",
        "from torch.nn.functional import (\n    dropout,  # the (function\n    dropout2d as d2,\n)\n",
        "from torch.nn import Dropout as D, Dropout2d\n",
        "from torch import dropout as \\\n    tdrop\n",
        "import chainer.functions as F\n",
        "torch = __import__('torch')\n",
]
FUNCTION_SPELLINGS = [
        "F.dropout", "F.alpha_dropout", "F.dropout2d", "F.feature_alpha_dropout", "drop",
        "dropout", "d2", "tdrop", "alpha_dropout", "torch.dropout", "torch.feature_dropout_",
        "torch.nn.functional.dropout", "nn.functional.dropout", "(F.dropout)", "F .dropout",
        "F.\\\n            dropout", "(F  # c\n            .dropout)", "self.dropout", "x.dropout",
        "F.dropout.__call__", "getattr(F, 'dropout')",
]
MODULE_SPELLINGS = [
    "nn.Dropout", "D", "Dropout2d", "torch.nn.Dropout", "nn.AlphaDropout", "(nn.Dropout)",
    "nn.modules.dropout.Dropout", "self.Dropout", "(nn  # c\n            .Dropout)",
]
IMPORTS = st.sampled_from(IMPORT_LINES)
FUNCTIONS = st.sampled_from(FUNCTION_SPELLINGS)
MODULES = st.sampled_from(MODULE_SPELLINGS)
POSITIONAL = st.sampled_from(
    ["x", "0.5", "self.training", "True", "False", "self.train", "(x, y)", "f(x, training=True)",
     "'(a, b'", "x  # , training=True\n            ", "lambda a=1: a", "cfg['p']",
     "f\"{x['a']}\"", "*args", "[1,\n 2]", '"""a\n) ("""', "b'\\''", "y == z", "t := x"]
)
KEYWORDS = st.sampled_from(
    ["p=0.1", "training=self.training", "training=True", "training=False", "train=True",
     "train=self.training", "training=self.is_training", "training=(self.training)",
     "training = not self.training", "training=flag", "inplace=True", "training=None",
     "training=self.cfg.training", "training=True  # self.training\n            ", "**kw"]
)
MODE_USES = st.sampled_from(
    ["if self.train:\n            x = -x", "x = x if self . train else -x", "self.train()",
     "self.train(False)", "assert self.train\n        (x)", "y = (self.\n            train)",
     "self.train_loader = 1", "return F.dropout(x, 0.5, self.train)"]
)


def net(imports: str, statements: list[str]) -> bytes:
    body = "\n        ".join(statements)
    return (
        f"{imports}import torch.nn as nn\n\n\nclass Net(nn.Module):\n"
        f"    def forward(self, x):\n        {body}\n        return x\n"
    ).encode()


@pytest.mark.parametrize("callee", FUNCTION_SPELLINGS + MODULE_SPELLINGS)
def test_gate_is_conservative_on_every_callee_spelling(callee: str) -> None:
    """Each spelling, with every import that may bind its name (chainer's F aside)."""
    imports = "".join(line for line in IMPORT_LINES if "chainer" not in line)
    calls = ["x, 0.5", "x, 0.5, training=True", "x, training=self.training", "0.1)(x"]
    assert_conservative(net(imports, [f"y = {callee}({arguments})" for arguments in calls]))


@st.composite
def calls(draw: st.DrawFn) -> str:
    positional = draw(st.lists(POSITIONAL, max_size=4))
    keywords = draw(st.lists(KEYWORDS, max_size=3))
    arguments = ", ".join([*positional, *keywords]) + (", " if draw(st.booleans()) else "")
    if draw(st.booleans()):
        return f"{draw(FUNCTIONS)}({arguments})"
    called = f"({', '.join(positional[:1])})" if draw(st.booleans()) else ""
    return f"{draw(MODULES)}({arguments}){called}"


@st.composite
def modules(draw: st.DrawFn) -> bytes:
    statements = draw(
        st.lists(st.one_of(calls().map(lambda c: f"y = {c}"), MODE_USES), min_size=1, max_size=4)
    )
    return net("".join(draw(st.lists(IMPORTS, min_size=1, max_size=4, unique=True))), statements)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(modules())
def test_gate_is_conservative_on_generated_calls(source: bytes) -> None:
    assume(not isinstance(parse(source, "<generated>"), Diagnostic))
    assert_conservative(source)
