"""The layers never make the host wait for a device: no data reads, masks made where the data is.

Proved on CPU with meta and fake CUDA tensors; the last test repeats it on a real GPU.
"""

import pytest
import torch
from dropout_lint.runtime import (
    Dropout1d,
    Dropout2d,
    Dropout3d,
    DropoutShapeError,
    audit,
)
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import TorchDispatchMode

SHAPES = {Dropout1d: (4, 6, 9), Dropout2d: (4, 6, 5, 3), Dropout3d: (2, 3, 4, 5, 2)}
LAYERS = list(SHAPES)
IDS = ["1d", "2d", "3d"]

# Ops that read tensor data back to the host (item(), bool(t), printing, comparisons).
_HOST_READS = {
    torch.ops.aten._local_scalar_dense.default,
    torch.ops.aten.is_nonzero.default,
    torch.ops.aten.equal.default,
    torch.ops.aten.allclose.default,
}


class NoSyncGuard(TorchDispatchMode):
    """Fails on any op that would read device data on the host or move it to another device."""

    def __init__(self, device: torch.device) -> None:
        super().__init__()
        self.device = device
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        self.ops.append(func.overloadpacket.__name__)
        if func in _HOST_READS:
            raise AssertionError(f"{func} reads device data on the host")
        out = func(*args, **kwargs)
        for result in out if isinstance(out, (tuple, list)) else (out,):
            if isinstance(result, torch.Tensor) and result.device != self.device:
                raise AssertionError(f"{func} put a tensor on {result.device}")
        return out


@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
def test_forward_and_backward_on_meta(layer):
    x = torch.empty(SHAPES[layer], device="meta", requires_grad=True)
    out = layer(0.5)(x)
    assert out.device.type == "meta" and out.shape == x.shape
    out.sum().backward()
    assert x.grad.device.type == "meta" and x.grad.shape == x.shape


def test_shape_check_works_on_meta():
    with pytest.raises(DropoutShapeError):
        Dropout2d(0.5)(torch.empty(3, 4, 4, device="meta"))


@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
@pytest.mark.parametrize(
    "dtype", [torch.float32, torch.float16, torch.bfloat16], ids=str
)
def test_fake_cuda_forward_reads_no_data_and_stays_on_device(layer, dtype):
    with FakeTensorMode(allow_non_fake_inputs=False):
        x = torch.empty(SHAPES[layer], device="cuda", dtype=dtype)
        guard = NoSyncGuard(x.device)
        with guard:
            out = layer(0.5)(x)
            layer(0.5, inplace=True)(x)
    assert out.device.type == "cuda" and out.dtype == dtype
    # The mask is drawn on the device by the same ops torch uses.
    assert guard.ops == ["new_empty", "bernoulli_", "div_", "mul"] + [
        "new_empty",
        "bernoulli_",
        "div_",
        "mul_",
    ]


def test_fake_cuda_shape_check_reads_no_data():
    with FakeTensorMode(allow_non_fake_inputs=False):
        x = torch.empty(3, 4, 4, device="cuda")
        with NoSyncGuard(x.device), pytest.raises(DropoutShapeError):
            Dropout2d(0.5)(x)


def test_trained_in_eval_reads_no_data_on_meta():
    """Forward, notes and the backward hook that reports: no op reads data (meta has none).

    Not on fake CUDA: a CPU-only torch aborts as soon as autograd records an op on it.
    """
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 8, device="meta"),
        torch.nn.BatchNorm1d(8, device="meta"),
        torch.nn.Dropout(0.3),
    ).eval()
    x = torch.empty(5, 8, device="meta", requires_grad=True)
    guard = NoSyncGuard(x.device)
    with audit(model) as report, guard:
        model(x).sum().backward()
    assert [finding.kind for finding in report.findings] == ["trained-in-eval"]
    assert "native_batch_norm_backward" in guard.ops


def test_the_guard_catches_a_host_read():
    """The guard above is not vacuous: ``.item()`` and host copies fail under it."""
    with FakeTensorMode(allow_non_fake_inputs=False):
        x = torch.empty(2, 3, device="cuda")
        with (
            NoSyncGuard(x.device),
            pytest.raises(AssertionError, match="reads device data"),
        ):
            bool(x.sum() > 0)
        with (
            NoSyncGuard(x.device),
            pytest.raises(AssertionError, match="put a tensor on cpu"),
        ):
            x.cpu()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("layer", LAYERS, ids=IDS)
def test_cuda_runs_without_sync_and_matches_torch(layer):
    torch_layer = {Dropout1d: torch.nn.Dropout1d, Dropout2d: torch.nn.Dropout2d}.get(
        layer, torch.nn.Dropout3d
    )
    x = torch.randn(SHAPES[layer], device="cuda")
    upstream = torch.randn(SHAPES[layer], device="cuda")
    results = []
    for module in (layer(0.5), torch_layer(0.5)):
        leaf = x.clone().requires_grad_(True)
        torch.manual_seed(0)
        previous = torch.cuda.get_sync_debug_mode()
        torch.cuda.set_sync_debug_mode("error")
        try:
            out = module(leaf)
            out.backward(upstream)
        finally:
            torch.cuda.set_sync_debug_mode(previous)
        results.append((out.detach(), leaf.grad))
    (out, grad), (expected, expected_grad) = results
    assert torch.equal(out, expected) and torch.equal(grad, expected_grad)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_audited_training_step_runs_without_sync():
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 8), torch.nn.BatchNorm1d(8), torch.nn.Dropout(0.3)
    )
    model = model.cuda().eval()
    x = torch.randn(5, 8, device="cuda")
    previous = torch.cuda.get_sync_debug_mode()
    torch.cuda.set_sync_debug_mode("error")
    try:
        with audit(model) as report:
            model(x).sum().backward()
    finally:
        torch.cuda.set_sync_debug_mode(previous)
    assert [finding.kind for finding in report.findings] == ["trained-in-eval"]
