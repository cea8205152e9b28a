"""bench/speed.py --quick runs end to end on its generated corpus: every dropout-lint run
finds the same findings, cached or not, in workers or not. No timing is checked."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "speed.py"
ROW = re.compile(r"^\| (?P<tool>[^|]+?) +\| +(?P<files>\d+) \| +(?P<lines>\d+) \| +[\d.]+ \| "
                 r"+\d+ \| +\d+ \| +(?P<findings>[\d ]+|-) \|$")
RATIO = re.compile(r"^\| (?P<name>[^|]+?) +\| +(?P<value>[\d.]+|n/a) \| +[^|]+ \| *(yes|no|-) *\|$")


def test_quick_bench_prints_the_table_and_ratios() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    rows = {m["tool"]: m for m in map(ROW.match, run.stdout.splitlines()) if m}
    ratios = {m["name"]: m["value"] for m in map(RATIO.match, run.stdout.splitlines()) if m}

    lint_rows = ["dropout-lint cold", "dropout-lint warm", "dropout-lint --jobs 1"]
    assert {*lint_rows, "dropout-lint cold, half tree", "flake8 with plugin",
            "flake8 without plugin"} <= rows.keys()
    findings = {rows[name]["findings"] for name in lint_rows}
    assert len(findings) == 1 and int(findings.pop()) > 0  # one count, the same in every run
    assert 0 < int(rows["dropout-lint cold, half tree"]["files"]) < int(rows["dropout-lint cold"]["files"])
    assert "dropout-lint" in run.stdout.split("flake8 with plugin:")[1].splitlines()[0]
    assert "dropout-lint" not in run.stdout.split("flake8 without plugin:")[1].splitlines()[0]
    assert ratios.keys() == {
        "dropout-lint cold / ruff", "TorchFix / dropout-lint cold", "dropout-lint warm, seconds",
        "flake8 with / without plugin", "peak RSS, tree / half tree",
    }
    assert ratios["dropout-lint warm, seconds"] != "n/a"
