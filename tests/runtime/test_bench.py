"""The bench's --quick mode runs end to end, as CI smoke-tests it (no timing is checked)."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "runtime_bench.py"


def test_quick_bench_prints_every_comparison():
    result = subprocess.run(
        [sys.executable, "-W", "ignore", str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    rows = [line for line in result.stdout.splitlines() if line.startswith("Dropout")]
    assert len(rows) == 3 * 2 * 2  # layers x shapes x (forward, forward+backward)
    assert "audit: small CNN forward" in result.stdout
