"""bench/server_latency.py --quick drives the real server end to end and prints both rows.
No timing is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
BENCH = Path(__file__).resolve().parent.parent / "bench" / "server_latency.py"
ROW = re.compile(r"^\| (?P<file>[a-z ]+) \| (?P<lines>\d+) \| (?P<findings>\d+) \| (?P<server>[\d.]+) \| [\d.]+ \| -?[\d.]+ \| < \d+ \|$")


def test_quick_bench_prints_both_medians() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = {m["file"]: m for m in map(ROW.match, run.stdout.splitlines()) if m}
    assert rows.keys() == {"model file", "no candidate"}
    assert int(rows["model file"]["lines"]) >= 3000 and int(rows["no candidate"]["lines"]) >= 3000
    assert rows["model file"]["findings"] == "2" and rows["no candidate"]["findings"] == "0"
