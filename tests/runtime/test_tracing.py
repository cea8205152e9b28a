"""The layers go through torch.compile (no graph breaks), FX and TorchScript unchanged."""

import pytest
import torch
from dropout_lint.runtime import Dropout2d, DropoutShapeError, dropout1d, dropout2d


class SmallNet(torch.nn.Module):
    """A conv, a checked module and a checked functional: both paths in one graph."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3)
        self.drop = Dropout2d(0.3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.drop(self.conv(x))
        return dropout1d(x.flatten(2), 0.2, training=self.training)


def outputs_and_grads(model, x: torch.Tensor, seed: int):
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(seed)
    out = model(x)
    out.sum().backward()
    return out.detach(), x.grad


@pytest.mark.parametrize("dynamic", [False, True], ids=["static", "dynamic"])
def test_compile_fullgraph_is_exact(dynamic):
    torch._dynamo.reset()
    model = SmallNet()
    compiled = torch.compile(
        model, fullgraph=True, backend="aot_eager", dynamic=dynamic
    )
    for seed, shape in enumerate([(2, 3, 8, 8), (3, 3, 9, 7)]):
        x = torch.randn(shape)
        out, grad = outputs_and_grads(compiled, x, seed)
        expected, expected_grad = outputs_and_grads(model, x, seed)
        assert torch.equal(out, expected) and torch.equal(grad, expected_grad)
    with torch.no_grad():
        assert torch.equal(compiled.eval()(x), model.conv(x).flatten(2))


def test_compile_still_raises_the_shape_error():
    torch._dynamo.reset()
    compiled = torch.compile(Dropout2d(0.5), backend="eager")
    with pytest.raises(DropoutShapeError, match=r"\(3, 4, 4\)"):
        compiled(torch.randn(3, 4, 4))


def test_compile_fullgraph_reports_the_shape_error_inside_dynamos_own():
    """torch 2.13 cannot let the error itself out of a fullgraph compile.

    Dynamo turns every exception raised while it traces, and a static rank check always
    fails while tracing, into its own: a ``raise`` becomes ``Unsupported`` ("Observed
    exception"), and so do ``torch._check_with(DropoutShapeError, ...)`` and a fake kernel
    or ``assume_constant_result`` function that raises (``TorchRuntimeError``,
    ``InternalTorchDynamoError``). Without ``fullgraph`` it falls back to eager and the error
    is ours (the test above). This pins what users get, and fails when torch changes it.
    """
    torch._dynamo.reset()
    compiled = torch.compile(Dropout2d(0.5), backend="eager", fullgraph=True)
    with pytest.raises(torch._dynamo.exc.Unsupported) as caught:
        compiled(torch.randn(3, 4, 4))
    assert not isinstance(caught.value, DropoutShapeError)
    assert isinstance(caught.value, RuntimeError)  # `except RuntimeError` still catches it
    assert "DropoutShapeError" in str(caught.value)
    assert "(3, 4, 4) (3-D) but needs 4-D" in str(caught.value)


def test_fx_records_the_checked_functional():
    model = SmallNet()
    traced = torch.fx.symbolic_trace(model)
    targets = [node.target for node in traced.graph.nodes if node.op == "call_function"]
    assert dropout2d in targets and dropout1d in targets
    x = torch.randn(2, 3, 8, 8)
    torch.manual_seed(0)
    expected = model(x)
    torch.manual_seed(0)
    assert torch.equal(traced(x), expected)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated")
def test_torchscript_is_exact_and_still_checks():
    layer = Dropout2d(0.3)
    scripted = torch.jit.script(layer)
    x = torch.randn(4, 6, 5, 5)
    torch.manual_seed(0)
    out = scripted(x)
    torch.manual_seed(0)
    assert torch.equal(out, torch.nn.functional.dropout2d(x, 0.3, True))
    assert torch.equal(scripted.eval()(x), x)
    with pytest.raises(RuntimeError, match=r"DropoutShapeError.*\(3, 4, 5\)"):
        scripted(torch.randn(3, 4, 5))
