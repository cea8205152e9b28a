"""DRP020's byte gate for dropout modules built into containers (prefilter/container_sites.py).

It reads the code around each call (comments and strings blanked) the way the rule reads
CPython's tree, so files whose containers are call arguments (`nn.ModuleList([...])`) or
whose attributes are never given a container stop at the bytes; what it cannot rule
out passes, and the rule decides.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_lint.engine.diagnostics import Diagnostic
from dropout_lint.engine.lint import LintOptions, check_module, lint_source, parse
from dropout_lint.prefilter.byte_scan import ByteScan
from dropout_lint.rules.unregistered_dropout_module import UnregisteredDropoutModule

RULE = UnregisteredDropoutModule
OPTIONS = LintOptions(rules=[RULE])


def net(init: str, forward: str = "return x") -> bytes:
    return (
        "import torch.nn as nn\nfrom collections import OrderedDict\n\n\n"
        "class Net(nn.Module):\n"
        "    def __init__(self, p=0.1):\n"
        "        super().__init__()\n"
        f"        {init}\n\n"
        "    def forward(self, x):\n"
        f"        {forward}\n"
    ).encode()


def gate_passes(source: bytes) -> bool:
    return bool(RULE.trigger.search(source)) and RULE.may_fire(ByteScan(source))


def reported_lines(source: bytes) -> list[int]:
    return [d.line for d in lint_source(source, options=OPTIONS)]


def findings_without_gate(source: bytes) -> list[int]:
    """What the rule reports on the parsed file, every gate bypassed."""
    module = parse(source, "<container gate>")
    assert not isinstance(module, Diagnostic), module.message
    return [d.line for d in check_module(module, "<container gate>", [RULE], OPTIONS)]


STORED = [
    # An unbalanced bracket in a comment once hid the list from the gate.
    "self.drops = [nn.Linear(1, 1),  # see f(\n            nn.Linear(1, 1),\n"
    "            nn.Dropout(p)]",
    "self.drops = [nn.Linear(1, 1), nn.GELU(approximate='tanh('), nn.Dropout(p)]",
    "self.drops = ([nn.Dropout(p)])",
    "self.drops = (nn.Dropout(p), nn.Dropout(p))",
    "self.drops = [(nn.Dropout(p))]",
    "self.drops = [nn.Dropout(p) if p else nn.Identity()]",
    "self.drops = [nn.Identity() if p else nn.Dropout(p)]",
    "self.drops = {'a': nn.Dropout(p)}",
    "self.drops = [nn.Dropout(p) for _ in range(2)]",
    "self.drops = []\n        self.drops += [nn.Dropout(p)]",
    "self.drops = []\n        self.drops.append(nn.Dropout(p))",
    "self.drops: list = []\n        self.drops.append(nn.Dropout(p))",
    "self.drops = self.kept = []\n        self.drops.append(nn.Dropout(p))",
    "self.drops = []\n        (self.drops).append(nn.Dropout(p))",
    "self.drops = []\n        self.drops.insert(0, nn.Dropout(p))",
    "self.drops = []\n        self.drops.extend([nn.Dropout(p)])",
    # the attribute's `=` and the display past an annotation and line continuations
    "self.drops: list \\\n            = \\\n            [nn.Dropout(p)]",
    "self.drops \\\n            = (nn.Identity(), nn.Dropout(p))",
]
TURNED_AWAY = [
    "self.drops = nn.ModuleList([nn.Dropout(p) for _ in range(2)])",
    "self.drops = nn.ModuleList([nn.Linear(1, 1), nn.Dropout(p)])",
    "self.head = nn.Sequential(OrderedDict([('drop', nn.Dropout(p))]))",
    "self.drops = nn.ModuleList([])\n        self.drops.append(nn.Dropout(p))",
    "self.drops = nn.ModuleList()\n        self.drops = self.drops[:1]\n"
    "        self.drops.append(nn.Dropout(p))",
    "self.drops = None\n        self.drops = nn.ModuleList()\n        self.drops += [nn.Dropout(p)]",
    "layers = []\n        layers.extend([nn.Flatten(), nn.Dropout(p)])",
    "self.drop = (\n            nn.Dropout(p) if p else nn.Identity()\n        )",
    "self.pairs = [(1, 2)]\n        self.head = nn.Sequential(*[nn.Dropout(p)])",
    "self.drops = nn.ModuleList() if p else []\n        self.drops.append(nn.Dropout(p))",
]


@pytest.mark.parametrize("init", STORED)
def test_gate_passes_modules_stored_in_plain_containers(init: str) -> None:
    source = net(init, "return self.drops[0](x)")
    assert gate_passes(source)
    assert reported_lines(source)


@pytest.mark.parametrize("init", TURNED_AWAY)
def test_gate_turns_away_modules_that_are_registered(init: str) -> None:
    source = net(init)
    assert not gate_passes(source)
    assert findings_without_gate(source) == []


# Every way of nesting a call in a container and storing it that the pieces below make;
# where the gate says no, the rule, run without any gate, must find nothing.
ITEMS = ["nn.Dropout(p)", "(nn.Dropout(p))", "nn.Dropout(p) if p else None"]
CONTAINERS = [
    "[{}]", "({},)", "({})", "[{} for _ in range(2)]", "{{'k': {}}}", "[x, {}]", "[({}, x)]",
    "{}", "[x,  # a (\n            {}]", "[[{}]]", "{{{}}}", "f(x)({})", "[f(x), {}]",
]
STORES = [
    "self.a = {}", "self.a += {}", "self.a.extend({})", "self.a.append({})", "x = {}",
    "self.a = nn.ModuleList({})", "self.a = ({})", "self.a = b, {}", "self.a = {} + []",
    "print({})", "self.a: list = {}", "self.b = self.a = {}", "self.a[0] = {}", "a.extend({})",
    "self.a.insert(0, {})", "(self.a).append({})", "self.a = [] if x else {}",
]
ASSIGNED = [
    "", "self.a = []", "self.a = nn.ModuleList()", "self.a = None", "self.a = x, y",
    "self.a = self.a[:1]", "self.a = f(x) + g(x)", "self.a: dict = dict()",
]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ITEMS), st.sampled_from(CONTAINERS), st.sampled_from(STORES),
    st.sampled_from(ASSIGNED),
)
def test_gate_is_conservative_on_generated_containers(
    item: str, container: str, store: str, assigned: str
) -> None:
    source = net(
        f"x = y = b = f = None\n        {assigned}\n        {store.format(container.format(item))}",
        "for module in self.a:\n            x = module(x)\n        return self.a['k'](x)",
    )
    if isinstance(parse(source, "<generated>"), Diagnostic):
        return
    if not gate_passes(source):
        assert findings_without_gate(source) == []


def test_gate_reads_hostile_code_in_bounded_time() -> None:
    """Deep parentheses and many long assignments to the attribute a call adds to: the gate
    reads a bounded stretch around each call and says "maybe" past it."""
    deep = net("self.a = []\n        self.b = " + "(" * 5000 + "nn.Dropout(p)" + ")" * 5000)
    assignment = "self.a = nn.ModuleList(" + "x, " * 1000 + ")\n        "
    appends = "self.a.append(nn.Dropout(p))\n        " * 50
    started = time.monotonic()
    assert gate_passes(deep)  # CPython's parser refuses it, and says so
    assert not gate_passes(net("self.b = [x]\n        " + assignment * 900 + appends))
    assert gate_passes(net("self.b = [x]\n        " + assignment * 1100 + appends))  # too many
    assert time.monotonic() - started < 30
