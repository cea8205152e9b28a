"""The fixed modules, run with torch: what the fix promises, checked by running the code.

Train mode: the same outputs as the original under one seed (the same random draws in the
same order). Eval mode: deterministic, and equal to the original with dropout switched off.
``state_dict()``: the same keys, so checkpoints still load.
"""

from __future__ import annotations

import types
import warnings
from pathlib import Path

import pytest

from dropout_lint.engine.lint import LintOptions
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.rules import ALL_RULES

torch = pytest.importorskip("torch")

FIX_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "fix"
FUNCTIONAL_DROPOUTS = (
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
)

# (fixture, class, constructor keyword arguments, input shape). training_flag_style.py is
# left out: its original raises (DRP002, `training=self.train`), so there is nothing to match.
CASES = [
    ("register_module.py", "Net", {}, (4, 8)),
    ("register_module.py", "Encoder", {"hidden": 8}, (4, 8)),
    ("register_module.py", "Tagger", {"size": 8, "rate": 0.4}, (4, 8)),
    (
        "register_module.py",
        "FeedForward",
        {"config": types.SimpleNamespace(hidden_size=8, activation_dropout=0.2, hidden_dropout_prob=0.6)},
        (4, 8),
    ),
    ("inline_module.py", "Net", {"rate": 0.3}, (4, 8)),
    ("spelling.py", "Head", {}, (4, 4)),
    ("add_import.py", "Head", {}, (2, 3, 4)),
    ("fallback.py", "RateFromForward", {}, (4, 8)),
    ("fallback.py", "NoInit", {}, (4, 8)),
    ("fallback.py", "EarlyReturn", {"p": 0.3}, (4, 8)),
    ("fallback.py", "RateChangesLater", {}, (4, 8)),
    ("run_order.py", "Classifier", {"num_features": 8, "num_classes": 3}, (2, 8, 4, 4)),
    ("run_order.py", "Stem", {}, (2, 8, 5)),
    ("names.py", "VisionTransformer", {"dim": 8}, (4, 8)),
    ("names.py", "Attention", {"dim": 8}, (4, 8)),
    ("names.py", "MLP", {"config": types.SimpleNamespace(dropout=0.2, scale=0.3)}, (4, 8)),
    ("import_made_unused.py", "Block", {}, (4, 8)),
    ("zero_rate.py", "Head", {"dim": 4}, (2, 4, 4)),
    ("zero_rate.py", "Tuned", {"drop_rate": 0.3}, (3, 4)),
]


def load(source: bytes, name: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)  # noqa: S102 - our own fixtures
    return module


def fixed_source(path: Path, style: str) -> bytes:
    options = LintOptions(rules=[r for r in ALL_RULES if r.default_enabled], fix_style=style)
    result = fix_source(path.read_bytes(), str(path), options)
    assert result.fixed, "the case must exercise a fix"
    return result.source


@pytest.fixture(autouse=True)
def _quiet_rank_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # dropout2d on 3-D input, in both versions
        yield


@pytest.mark.parametrize("style", ["module", "training-flag"])
@pytest.mark.parametrize("fixture, name, kwargs, shape", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_fixed_module_behaves_as_promised(fixture, name, kwargs, shape, style, monkeypatch) -> None:
    path = FIX_FIXTURES / fixture
    original_source = path.read_bytes()
    original = getattr(load(original_source, "original"), name)(**kwargs)
    fixed = getattr(load(fixed_source(path, style), "fixed"), name)(**kwargs)

    assert list(fixed.state_dict()) == list(original.state_dict())
    fixed.load_state_dict(original.state_dict())
    x = torch.randn(*shape)

    original.train(), fixed.train()
    torch.manual_seed(1234)
    expected = original(x.clone())
    torch.manual_seed(1234)
    assert torch.equal(fixed(x.clone()), expected)

    fixed.eval()
    first, second = fixed(x.clone()), fixed(x.clone())
    assert torch.equal(first, second)
    with monkeypatch.context() as patch:
        for function in FUNCTIONAL_DROPOUTS:
            patch.setattr(torch.nn.functional, function, lambda input, *args, **kwargs: input)
        reference = getattr(load(original_source, "reference"), name)(**kwargs)
        reference.load_state_dict(original.state_dict())
        reference.eval()
        assert torch.equal(first, reference(x.clone()))


def test_module_style_registers_modules_that_eval_reaches() -> None:
    path = FIX_FIXTURES / "register_module.py"
    encoder = load(fixed_source(path, "module"), "fixed").Encoder(hidden=8)
    dropouts = {name: type(m).__name__ for name, m in encoder.named_modules() if "Dropout" in type(m).__name__}
    assert dropouts == {"dropout2d": "Dropout2d"}  # no clear name for the others: the mode is passed
    encoder.eval()
    assert not any(m.training for m in encoder.modules())


def test_unsafe_alpha_fix_runs_alpha_dropout_in_training_only() -> None:
    source = b"""
import torch.nn as nn
import torch.nn.functional as F

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc(F.alpha_dropout(x, 0.5))
"""
    options = LintOptions(rules=[r for r in ALL_RULES if r.default_enabled])
    fixed = load(fix_source(source, "net.py", options, unsafe_fixes=True).source, "fixed").Net()
    original = load(source, "original").Net()
    fixed.load_state_dict(original.state_dict())
    x = torch.randn(64, 8)
    fixed.eval()
    assert torch.equal(fixed(x), original(x))
    fixed.train()
    torch.manual_seed(0)
    expected = original.fc(torch.nn.functional.alpha_dropout(x, 0.5, training=True))
    torch.manual_seed(0)
    assert torch.equal(fixed(x), expected)


def test_a_call_with_a_rate_of_0_goes_and_takes_no_random_draw() -> None:
    path = FIX_FIXTURES / "zero_rate.py"
    original = load(path.read_bytes(), "original").Attention(dim=4)
    fixed = load(fixed_source(path, "module"), "fixed").Attention(dim=4)
    fixed.load_state_dict(original.state_dict())
    q, k, v = torch.randn(3, 2, 3, 4).unbind(0)
    for mode in (True, False):
        original.train(mode), fixed.train(mode)
        torch.manual_seed(7)
        expected, expected_next = original(q, k, v), torch.rand(1)
        torch.manual_seed(7)
        assert torch.equal(fixed(q, k, v), expected) and torch.equal(torch.rand(1), expected_next)
    assert not any("Dropout" in type(m).__name__ for m in fixed.modules())
