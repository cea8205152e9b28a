"""Time the checked dropout layers against torch's, and the audit against a plain forward.

Every comparison is interleaved in one run, in short rounds of ours, torch, torch, ours,
so both sides see the same machine state; what is printed is the median over rounds of
(ours / torch), which a stray preemption cannot move much. Nothing here asserts on time.

    python bench/runtime_bench.py           # the numbers in docs/runtime.md
    python bench/runtime_bench.py --quick   # a smoke test for CI, a few seconds
    python bench/runtime_bench.py --device cuda   # on a GPU (each timing waits for the device)
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from typing import Callable

import torch
from dropout_lint.runtime import Dropout1d, Dropout2d, Dropout3d, audit
from torch import nn

# (name, shape, ratio the checked layer must stay under by median)
SHAPES = [("large", (32, 64, 56, 56), 1.03), ("small", (8, 16, 32, 32), 1.10)]
LAYERS: list[tuple[type[nn.Module], type[nn.Module], int]] = [
    (Dropout1d, nn.Dropout1d, 3),
    (Dropout2d, nn.Dropout2d, 4),
    (Dropout3d, nn.Dropout3d, 5),
]


Batch = Callable[[int], None]  # runs the measured step n times


def repeated(step: Callable[[], object]) -> Batch:
    def run(calls: int) -> None:
        for _ in range(calls):
            step()

    return run


def wait_for_device() -> None:
    """Let queued work finish before a clock is read; set for the device in use by ``main``."""


def seconds_per_call(run: Batch, calls: int) -> float:
    wait_for_device()
    start = time.perf_counter()
    run(calls)
    wait_for_device()
    return (time.perf_counter() - start) / calls


def interleaved_ratio(
    ours: Batch, theirs: Batch, rounds: int, seconds: float
) -> tuple[float, float, float]:
    """Median of per-round ours/theirs, and the median seconds per call of each.

    A round measures ours, theirs, theirs, ours (about ``seconds`` each, at least one call),
    so a change in machine load during the round weighs on both sides alike.
    """
    warm = [seconds_per_call(run, 3) for run in (ours, theirs)]
    calls = max(1, round(seconds / min(warm)))
    ratios, ours_times, theirs_times = [], [], []
    for _ in range(rounds):
        t_ours = seconds_per_call(ours, calls)
        t_theirs = seconds_per_call(theirs, calls) + seconds_per_call(theirs, calls)
        t_ours += seconds_per_call(ours, calls)
        ratios.append(t_ours / t_theirs)
        ours_times.append(t_ours / 2)
        theirs_times.append(t_theirs / 2)
    return (
        statistics.median(ratios),
        statistics.median(ours_times),
        statistics.median(theirs_times),
    )


def forward_step(layer: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    def step() -> object:
        with torch.no_grad():
            return layer(x)

    return step


def forward_backward_step(layer: nn.Module, x: torch.Tensor) -> Callable[[], object]:
    leaf = x.detach().clone().requires_grad_(True)
    upstream = torch.ones_like(x)

    def step() -> object:
        layer(leaf).backward(upstream)
        leaf.grad = None
        return None

    return step


def shaped_for(rank: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The same number of elements as ``shape`` (N, C, H, W), in the layer's batched rank."""
    n, c, h, w = shape
    if rank == 3:
        return (n, c, h * w)
    if rank == 5:
        return (n, c, 2, h // 2, w)
    return shape


class SmallCNN(nn.Module):
    """A small CNN with module and functional dropout, for the audit's overhead."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.ReLU(),
            nn.Dropout2d(0.1),
            nn.Conv2d(16, 32, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.features(x).mean((2, 3))
        return self.head(nn.functional.dropout(x, 0.2, training=self.training))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke test")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (default 1: steadier on a shared machine)",
    )
    parser.add_argument("--device", default="cpu", help="where tensors and layers live (default cpu)")
    args = parser.parse_args()
    rounds, seconds = (3, 0.001) if args.quick else (151, 0.002)
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda":
        global wait_for_device
        wait_for_device = torch.cuda.synchronize

    torch.manual_seed(0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
        f"{platform.machine()}, {_device_name(device)}; {rounds} interleaved rounds of ~{seconds * 1e3:.0f} ms "
        f"per side; ratio = median(checked / torch)"
    )
    print(
        f"{'layer':<10}{'shape':<8}{'pass':<18}{'torch ms':>10}{'ours ms':>10}{'ratio':>8}  limit"
    )
    for ours_cls, torch_cls, rank in LAYERS:
        for shape_name, shape, limit in SHAPES:
            x = torch.randn(shaped_for(rank, shape), device=device)
            ours, theirs = ours_cls(0.5).to(device), torch_cls(0.5).to(device)
            for pass_name, make in (
                ("forward", forward_step),
                ("forward+backward", forward_backward_step),
            ):
                ratio, t_ours, t_theirs = interleaved_ratio(
                    repeated(make(ours, x)), repeated(make(theirs, x)), rounds, seconds
                )
                verdict = "ok" if ratio <= limit else "OVER"
                print(
                    f"{ours_cls.__name__:<10}{shape_name:<8}{pass_name:<18}"
                    f"{t_theirs * 1e3:>10.3f}{t_ours * 1e3:>10.3f}{ratio:>8.3f}  "
                    f"<= {limit:.2f} {verdict}"
                )

    model = SmallCNN().to(device).eval()
    x = torch.randn(8, 3, 32, 32, device=device)
    plain = repeated(forward_step(model, x))

    def audited(calls: int) -> None:
        """The forward passes run inside one ``with audit(model)``, as a user would."""
        with audit(model) as report:
            plain(calls)
        assert not report.findings, report.findings

    ratio, t_audit, t_plain = interleaved_ratio(audited, plain, rounds, seconds)
    print(
        f"audit: small CNN forward (8, 3, 32, 32), eval: plain {t_plain * 1e3:.3f} ms, "
        f"under audit {t_audit * 1e3:.3f} ms, slowdown x{ratio:.2f}"
    )


def _device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


if __name__ == "__main__":
    main()
