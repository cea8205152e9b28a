"""audit reports a backward pass through a forward that ran in eval mode, and only that."""

import inspect

import pytest
import torch
import torch.nn.functional as F
from dropout_lint.runtime import DropoutAuditError, audit
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
        self.drop = nn.Dropout(0.3)
        self.head = nn.Linear(8, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.backbone(x))
        return F.dropout(self.head(x), 0.1, training=self.training)


def train_steps(model: nn.Module, steps: int = 3) -> int:
    """A training step; returns the line of its forward call."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        loss = model(torch.randn(5, 4)).square().mean()  # the forward
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    lines, start = inspect.getsourcelines(train_steps)
    return start + next(i for i, line in enumerate(lines) if "# the forward" in line)


def test_training_steps_in_eval_mode_are_reported_once_at_the_forward_call():
    model = Net().eval()
    with audit(model) as report:
        forward_line = train_steps(model)
    (finding,) = report.findings
    assert finding.kind == "trained-in-eval"
    assert finding.module == "Net"
    assert (finding.filename, finding.lineno) == (__file__, forward_line)
    # Every place the mode changed the maths is named.
    assert "dropout in 'drop', the model (Net)" in finding.message
    assert "batch norm in 'backbone.1'" in finding.message
    assert "model.train()" in finding.message


def test_training_steps_in_training_mode_are_not_reported():
    model = Net().train()
    with audit(model) as report:
        train_steps(model)
    assert report.findings == []


def test_frozen_batch_norm_in_a_training_model_is_not_reported():
    model = Net().train()
    model.backbone[1].eval()  # deliberately frozen statistics, as fine-tuning recipes do
    with audit(model) as report:
        train_steps(model)
    assert report.findings == []


def test_a_model_in_eval_mode_without_dropout_or_batch_norm_is_not_reported():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)).eval()
    with audit(model) as report:
        train_steps(model)
    assert report.findings == []


def test_dropout_with_p_zero_is_not_reported():
    model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.0)).eval()
    with audit(model) as report:
        train_steps(model)
    assert report.findings == []


def test_a_frozen_teacher_whose_output_needs_no_grad_is_not_reported():
    teacher = Net().eval().requires_grad_(False)
    with audit(teacher) as report:
        teacher(torch.randn(5, 4)).sum()  # nothing here can be backpropagated
    assert report.findings == []


def test_strict_raises_from_the_backward_pass():
    model = Net().eval()
    loss = None
    with audit(model, strict=True):
        loss = model(torch.randn(5, 4)).sum()
        with pytest.raises(DropoutAuditError, match="trained-in-eval"):
            loss.backward()


def test_a_backward_after_the_audit_ended_is_not_watched():
    model = Net().eval()
    with audit(model) as report:
        loss = model(torch.randn(5, 4)).sum()
    loss.backward()
    assert report.findings == []


class OpLog(TorchDispatchMode):
    """Records every aten op dispatched, to compare the work done with and without audit."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def _ops(model: nn.Module, audited: bool, run) -> tuple[list[str], list]:
    torch.manual_seed(0)
    log = OpLog()
    if audited:
        with audit(model) as report, log:
            run()
        return log.ops, report.findings
    with log:
        run()
    return log.ops, []


@pytest.mark.parametrize(
    "grad_mode", [torch.no_grad, torch.inference_mode], ids=["no_grad", "inference_mode"]
)
def test_a_forward_without_grad_costs_nothing_and_reports_nothing(grad_mode):
    model = Net().eval()
    x = torch.randn(5, 4)

    def evaluate() -> None:
        with grad_mode():
            model(x).sum()

    plain, _ = _ops(model, False, evaluate)
    audited, findings = _ops(model, True, evaluate)
    assert findings == [] and audited == plain


def test_a_forward_with_grad_but_no_backward_costs_nothing_and_reports_nothing():
    model = Net().eval()
    x = torch.randn(5, 4)

    def forward_only() -> None:
        model(x).sum()

    plain, _ = _ops(model, False, forward_only)
    audited, findings = _ops(model, True, forward_only)
    assert findings == [] and audited == plain


def test_the_backward_hook_adds_no_op_to_the_backward_pass():
    model = Net().eval()
    x = torch.randn(5, 4)

    def step() -> None:
        model(x).sum().backward()
        model.zero_grad(set_to_none=True)  # so that both runs start from no .grad

    plain, _ = _ops(model, False, step)
    audited, findings = _ops(model, True, step)
    assert [finding.kind for finding in findings] == ["trained-in-eval"]
    assert audited == plain
