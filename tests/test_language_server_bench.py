"""bench/server_latency.py --quick drives the real server end to end and prints a row for
each file and place it edits. No timing is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")
BENCH = Path(__file__).resolve().parent.parent / "bench" / "server_latency.py"
ROW = re.compile(
    r"^\| (?P<file>[a-z ]+) \| (?P<place>[a-z ]+) \| (?P<lines>\d+) \| (?P<findings>\d+) "
    r"\| (?P<server>[\d.]+) \| [\d.]+ \| [\d.]+ \| < \d+ \|$"
)


def test_quick_bench_prints_every_median() -> None:
    run = subprocess.run([sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    rows = [m for m in map(ROW.match, run.stdout.splitlines()) if m]
    assert [(row["file"], row["place"]) for row in rows] == [
        ("model file", "line typed between imports"),
        ("model file", "line typed in a block without a finding"),
        ("model file", "line typed in the block with a finding"),
        ("no candidate", "line typed between imports"),
    ]
    assert all(int(row["lines"]) >= 3000 for row in rows)
    assert [row["findings"] for row in rows] == ["2", "2", "2", "0"]
