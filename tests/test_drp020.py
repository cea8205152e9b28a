"""DRP020 on plain containers: what torch accepts, what the fix keeps, what the gates pass."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import torch
import torch.nn as nn

from dropout_lint.analysis.torch_api import MODULE_DICT_ATTRIBUTES
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.prefilter.stages import byte_stage
from dropout_lint.rules.unregistered_dropout_module import UnregisteredDropoutModule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OPTIONS = LintOptions(rules=[UnregisteredDropoutModule])


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_module_dict_attributes_are_torchs() -> None:
    public = {name for name in dir(nn.ModuleDict()) if not name.startswith("_")}
    assert MODULE_DICT_ATTRIBUTES == public


def test_fixed_container_is_reached_by_eval_and_keeps_state_and_outputs() -> None:
    original = _load(FIXTURES / "fix" / "plain_container.py", "plain_container_original")
    fixed = _load(FIXTURES / "fix" / "plain_container.fixed.py", "plain_container_fixed")
    before, after = original.Decoder(4, 2, 0.3), fixed.Decoder(4, 2, 0.3)
    after.load_state_dict(before.state_dict())  # the same keys: dropout holds no state
    x = torch.randn(3, 4)
    torch.manual_seed(0)
    trained_before = before(x)
    torch.manual_seed(0)
    assert torch.equal(after(x), trained_before)
    after.eval()
    registered = [m for m in after.modules() if isinstance(m, nn.Dropout)]
    assert len(registered) == 2 + 2 + 2 + 2 and not any(m.training for m in registered)
    # The one not converted (a key nn.ModuleDict refuses) is still in training mode.
    assert after.keyed["items"].training


def test_only_a_module_built_into_an_attribute_container_passes_the_byte_gate() -> None:
    source = b"""
import torch.nn as nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout(0.1)
        self.head = nn.Sequential(nn.Linear(4, 4), nn.ReLU())

    def forward(self, x):
        return self.head(self.drop(x))
"""
    in_sequential = source.replace(b"nn.ReLU()", b"nn.Dropout(0.2)")
    in_list = source.replace(b"nn.Sequential(nn.Linear(4, 4), nn.ReLU())", b"[nn.Dropout(0.2)]")
    assert byte_stage(source, [UnregisteredDropoutModule]) == []
    assert byte_stage(in_sequential, [UnregisteredDropoutModule]) == []
    assert byte_stage(in_list, [UnregisteredDropoutModule]) == [UnregisteredDropoutModule]


def test_message_names_the_attribute_and_the_registered_container() -> None:
    source = """
import torch.nn as nn

class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.drops = {"a": nn.Dropout(0.1)}

    def forward(self, x):
        return self.drops["a"](x)
"""
    (finding,) = lint_source(source, options=OPTIONS)
    assert finding.message == (
        "`nn.Dropout` kept in the plain dict `self.drops` is not registered, so "
        "`model.eval()` cannot turn it off; hold it in an `nn.ModuleDict`"
    )
    assert finding.fix is not None and "nn.ModuleDict" in finding.fix.description
