"""bench/speed.py --quick runs end to end on its generated corpus: every dropout-lint run
finds the same findings, cached or not, in workers or not. No timing is checked."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench" / "speed.py"
ROW = re.compile(r"^\| (?P<tool>[^|]+?) +\| +(?P<files>\d+) \| +(?P<lines>\d+) \| +[\d.]+ \| "
                 r"+[\d.]+ \| +\d+ \| +\d+ \| +(?P<findings>[\d ]+|-) \|$")
RATIO = re.compile(r"^\| (?P<name>[^|]+?) +\| +(?P<value>[\d.]+|n/a) \| +[^|]+ \| *(yes|no|-) *\|$")


def test_quick_bench_prints_the_table_and_ratios() -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    rows = {m["tool"]: m for m in map(ROW.match, run.stdout.splitlines()) if m}
    ratios = {m["name"]: m["value"] for m in map(RATIO.match, run.stdout.splitlines()) if m}

    lint_rows = ["dropout-lint cold", "dropout-lint warm", "dropout-lint --jobs 1"]
    assert {*lint_rows, "dropout-lint cold, half tree", "dropout-lint --diff", "flake8 with plugin",
            "flake8 without plugin"} <= rows.keys()
    findings = {rows[name]["findings"] for name in lint_rows}
    assert len(findings) == 1 and int(findings.pop()) > 0  # one count, the same in every run
    assert 0 < int(rows["dropout-lint cold, half tree"]["files"]) < int(rows["dropout-lint cold"]["files"])
    assert "dropout-lint" in run.stdout.split("flake8 with plugin:")[1].splitlines()[0]
    assert "dropout-lint" not in run.stdout.split("flake8 without plugin:")[1].splitlines()[0]
    assert ratios.keys() == {
        "dropout-lint cold / ruff", "dropout-lint cold / ruff one rule",
        "TorchFix / dropout-lint cold", "dropout-lint warm, seconds",
        "flake8 with / without plugin", "peak RSS, tree / half tree", "dropout-lint --diff, seconds",
    }
    assert ratios["dropout-lint warm, seconds"] != "n/a"
    assert ratios["dropout-lint --diff, seconds"] != "n/a"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("speed_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["speed_bench"] = bench  # dataclasses look their module up by name
    spec.loader.exec_module(bench)
    return bench


def test_fix_workload_is_the_tree_with_the_mode_argument_removed(tmp_path: Path) -> None:
    bench = load_bench()
    source = tmp_path / "pkg"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "a.py").write_text(
        "y = F.dropout(x, p=0.1, training=self.training)\n"
        "z = F.dropout(x, training=self.training, p=0.2)\n"
    )
    (source / "b.py").write_text("y = F.dropout(x, p=0.1, training=False)\n")
    target = bench.strip_mode_arguments(source, tmp_path / "fix")
    assert [p.relative_to(target).as_posix() for p in bench.python_files([target])] == ["sub/a.py"]
    assert (target / "sub" / "a.py").read_text() == "y = F.dropout(x, p=0.1)\nz = F.dropout(x, p=0.2)\n"


@pytest.mark.skipif(not (BENCH.parent.parent / ".git").exists(), reason="not a git checkout")
def test_before_runs_import_the_revisions_package(tmp_path: Path) -> None:
    bench = load_bench()
    before = bench.export_revision("HEAD", tmp_path / "before")
    lint = bench.Command("dropout-lint cold", [sys.executable, "-m", "dropout_lint"], tmp_path, 1, 1)
    ruff = bench.Command("ruff", ["ruff"], tmp_path, 1, 1)
    flake8 = bench.Command("flake8 with plugin, timm", ["flake8"], tmp_path, 1, 1,
                           env={"PYTHONPATH": "/site-view"})
    repeated = bench._before_commands([lint, ruff, flake8], before)
    assert [c.name for c in repeated] == ["dropout-lint cold (before)", "flake8 with plugin, timm (before)"]
    assert repeated[1].env["PYTHONPATH"] == f"{before}{os.pathsep}/site-view"
    imported = subprocess.run(
        [sys.executable, "-c", "import dropout_lint; print(dropout_lint.__file__)"],
        env=repeated[0].env, cwd=tmp_path, capture_output=True, text=True, check=True,
    )
    assert Path(imported.stdout.strip()) == before / "dropout_lint" / "__init__.py"
