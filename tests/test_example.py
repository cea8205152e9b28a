"""The bundled example does what the README says: noisy in eval mode, exact after --fix."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.rules import ALL_RULES

torch = pytest.importorskip("torch")

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "mnist.py"
OPTIONS = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])


def load(source: bytes) -> types.ModuleType:
    module = types.ModuleType("example")
    exec(compile(source, str(EXAMPLE), "exec"), module.__dict__)
    return module


def agreement(example: types.ModuleType) -> float:
    torch.manual_seed(0)
    net = example.Net()
    batch = torch.randn(64, 1, 28, 28)
    return (example.evaluate(net, batch) == example.evaluate(net, batch)).float().mean().item()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_example_has_both_bugs_and_the_fix_makes_eval_deterministic() -> None:
    source = EXAMPLE.read_bytes()
    assert [(d.line, d.code) for d in lint_source(source, str(EXAMPLE), OPTIONS)] == [
        (28, "DRP010"),
        (29, "DRP001"),
    ]
    assert agreement(load(source)) < 0.9

    fixed = fix_source(source, str(EXAMPLE), OPTIONS, unsafe_fixes=True)
    assert fixed.fixed == {"DRP001": 1, "DRP010": 1} and not fixed.remaining
    assert agreement(load(fixed.source)) == 1.0
