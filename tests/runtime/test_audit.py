"""audit() watches a live model and reports each problem once, with module and source line."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from dropout_lint.runtime import (
    Dropout2d,
    DropoutAuditError,
    audit,
    audit_forward,
    dropout2d,
)
from torch import nn

# The audited torch layers warn about the very ranks the audit reports.
pytestmark = pytest.mark.filterwarnings("ignore:dropout2d. Received:UserWarning")


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.drop = nn.Dropout2d(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.conv(x))
        return F.dropout(x, 0.1)  # the DRP001 bug: training defaults to True


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.block = Block()
        self.head = nn.Linear(4, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.stem(x))
        return self.head(x.mean((2, 3)))


class GoodNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.drop = nn.Dropout2d(0.5)
        self.checked = Dropout2d(0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.checked(self.drop(self.conv(x)))
        x = F.dropout(x, 0.5, training=self.training)
        return dropout2d(x, 0.5, training=self.training)


def line_of(function, text: str) -> int:
    import inspect

    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


def test_active_functional_dropout_in_eval_is_reported_once_with_its_line():
    model = Net().eval()
    with audit(model) as report:
        for _ in range(3):
            model(torch.randn(2, 3, 8, 8))
    assert len(report.findings) == 1
    (finding,) = report.findings
    assert finding.kind == "active-in-eval"
    assert finding.module == "block"
    assert finding.filename == __file__
    assert finding.lineno == line_of(Block.forward, "F.dropout(x, 0.1)")
    assert "F.dropout" in finding.message and "eval mode" in finding.message


def test_training_mode_has_no_active_in_eval_finding():
    model = Net().train()
    with audit(model) as report:
        model(torch.randn(2, 3, 8, 8))
    assert report.findings == []


def test_wrong_rank_for_channel_dropout_names_the_layer():
    model = nn.Sequential(nn.Conv1d(3, 4, 1), nn.Dropout2d(0.5))
    with audit(model) as report:
        model(torch.randn(2, 3, 16))
        model(torch.randn(2, 3, 16))
    (finding,) = report.findings
    assert finding.kind == "wrong-rank" and finding.module == "1"
    assert "(2, 4, 16)" in finding.message and "Dropout1d" in finding.message


def test_wrong_rank_is_found_in_eval_mode_too():
    model = nn.Sequential(nn.Dropout3d(0.5)).eval()
    with audit(model) as report:
        model(torch.randn(8, 16, 5, 5))
    assert [finding.kind for finding in report.findings] == ["wrong-rank"]


def test_a_correct_model_has_no_findings_in_either_mode():
    model = GoodNet()
    for mode in (model.train, model.eval):
        mode()
        assert audit_forward(model, torch.randn(2, 3, 8, 8)).shape == (2, 4, 6, 6)


def test_strict_raises_at_the_first_finding():
    model = Net().eval()
    raises = pytest.raises(DropoutAuditError, match="active-in-eval")
    with raises as caught, audit(model, strict=True):
        model(torch.randn(2, 3, 8, 8))
    assert len(caught.value.findings) == 1


def test_audit_forward_lists_every_finding():
    model = nn.Sequential(nn.Conv1d(3, 4, 1), nn.Dropout2d(0.5), Block()).eval()
    model[2].drop = nn.Identity()
    model[2].conv = nn.Conv2d(1, 1, 1)
    with pytest.raises(DropoutAuditError) as caught:
        audit_forward(model, torch.randn(1, 3, 5))
    assert sorted(f.kind for f in caught.value.findings) == [
        "active-in-eval",
        "wrong-rank",
    ]


def _hooks_and_flags(model: nn.Module):
    return [
        (
            name,
            module.training,
            dict(module._forward_hooks),
            dict(module._forward_pre_hooks),
            dict(module._forward_hooks_always_called),
            sorted(vars(module)),
        )
        for name, module in model.named_modules()
    ]


def test_the_model_is_left_exactly_as_it_was():
    model = Net().eval()
    model.block.train()
    model.stem.register_forward_hook(lambda m, i, o: None)
    before = _hooks_and_flags(model)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(DropoutAuditError), audit(model, strict=True):
        model.eval()(torch.randn(2, 3, 8, 8))
    model.block.train()
    assert _hooks_and_flags(model) == before
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    # And dropout outside the with-block is not watched any more.
    model.eval()(torch.randn(2, 3, 8, 8))


def test_calls_outside_the_model_have_no_module():
    with audit(nn.Linear(2, 2)) as report:
        F.dropout2d(torch.randn(3, 4, 4), 0.5, True)
    (finding,) = report.findings
    assert finding.module is None and finding.kind == "wrong-rank"


class Flat(nn.Module):
    """Dropout in the model's own forward, not in a submodule."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(self.fc(x), 0.1)


def test_the_models_own_forward_is_named_by_its_class():
    model = Flat().eval()
    with audit(model) as report:
        model(torch.randn(2, 4))
    (finding,) = report.findings
    assert finding.module == "Flat"
    assert "the model (Flat)" in finding.message


class Warns(nn.Module):
    """Two ops that warn: one from C++, one from torch's Python code with stacklevel=2."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        copy = torch.tensor(x)  # C++: "To copy construct from a tensor ..."
        return F.dropout2d(copy, 0.5, training=self.training)  # Python: "Received a 3D input"


@pytest.mark.filterwarnings("default")
def test_warnings_inside_an_audited_forward_point_at_user_code():
    model = Warns()
    with pytest.warns(UserWarning) as caught, audit(model):
        model(torch.randn(3, 4, 4))
    located = {
        (str(warning.message)[:20], warning.filename, warning.lineno) for warning in caught
    }
    assert located == {
        ("To copy construct fr", __file__, line_of(Warns.forward, "torch.tensor(x)")),
        ("dropout2d: Received ", __file__, line_of(Warns.forward, "F.dropout2d(copy")),
    }


def test_warning_filters_for_the_users_module_still_apply():
    model = Warns()
    with warnings.catch_warnings(record=True) as caught, audit(model):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module=__name__)
        model(torch.randn(3, 4, 4))
    assert caught == []


def test_without_a_model_every_modules_forward_is_watched():
    first, second = Net().eval(), Flat().eval()
    with audit() as report:
        first(torch.randn(2, 3, 8, 8))
        second(torch.randn(2, 4))
    assert [(f.kind, f.module) for f in report.findings] == [
        ("active-in-eval", "block"),
        ("active-in-eval", "Flat"),
    ]
    # The global hooks are gone with the block.
    assert not nn.modules.module._global_forward_hooks
    assert not nn.modules.module._global_forward_pre_hooks
