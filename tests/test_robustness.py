"""A rule that crashes is contained; output never depends on hash seed, jobs or order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import libcst as cst

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.engine.rule import Rule
from dropout_lint.rules import RULES_BY_CODE

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SOURCE = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"
)


class CrashingRule(Rule):
    code = "DRP999"
    name = "crashing-rule"
    summary = "Always crashes"
    explanation = ""
    trigger = re.compile(rb"dropout")

    def visit_Call(self, node: cst.Call) -> None:
        raise ZeroDivisionError("boom")


def test_a_crashing_rule_is_reported_and_the_other_rules_still_run() -> None:
    options = LintOptions(rules=[RULES_BY_CODE["DRP001"], CrashingRule])
    found = lint_source(SOURCE, "net.py", options)
    assert [(d.code, d.line) for d in found] == [("DRP901", 1), ("DRP001", 7)]
    crash = found[0]
    assert crash.path == "net.py"
    assert "DRP999" in crash.message and "ZeroDivisionError: boom" in crash.message


def _run(args: list[str], cwd: Path, seed: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--select", "ALL", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        timeout=600,
    )


def test_output_is_byte_identical_across_hash_seeds_jobs_and_path_order(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    for path in sorted(FIXTURES.rglob("*.py")):
        target = tree / path.relative_to(FIXTURES)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
    directories = sorted(p.name for p in tree.iterdir())
    runs = [
        _run(["--jobs", "1", *directories], tree, "0"),
        _run(["--jobs", "2", *directories], tree, "1"),
        _run(["--jobs", "2", *reversed(directories)], tree, "12345"),
        _run(["--jobs", "1", "."], tree, "random"),
    ]
    assert {run.returncode for run in runs} == {1}
    outputs = {run.stdout for run in runs}
    assert len(outputs) == 1, [run.stdout.decode()[:500] for run in runs]
    assert outputs.pop().count(b": DRP") >= 40
