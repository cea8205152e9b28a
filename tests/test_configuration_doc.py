"""The commands docs/configuration.md shows are run here, in a repository laid out as it says."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

MODEL = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        return F.dropout(x, 0.5, training=True)
"""


def console_blocks(text: str) -> list[list[tuple[str, list[str]]]]:
    """Each ```console block as (command, output lines) pairs."""
    blocks = []
    for body in re.findall(r"```console\n(.*?)```", text, re.DOTALL):
        pairs: list[tuple[str, list[str]]] = []
        for line in body.splitlines():
            if line.startswith("$ "):
                pairs.append((line[2:].split("  #")[0].strip(), []))
            else:
                pairs[-1][1].append(line)
        blocks.append(pairs)
    return blocks


def dropout_lint(repo: Path, command: str) -> subprocess.CompletedProcess:
    assert command.startswith("dropout-lint ")
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", *command.split()[1:]],
        cwd=repo, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A monorepo: services/api has its own settings, which turn DRP003 on."""
    repo = tmp_path / "repo"
    api = repo / "services" / "api"
    api.mkdir(parents=True)
    (api / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-select = ["DRP003"]\n')
    (api / "model.py").write_text(MODEL)
    (repo / "train.py").write_text(MODEL)
    return repo


def test_show_settings_prints_what_the_doc_shows(repo: Path) -> None:
    (block,) = [b for b in console_blocks(DOC) if b[0][0].startswith("dropout-lint --show-settings")]
    ((command, shown),) = block
    result = dropout_lint(repo, command)
    assert result.returncode == 0, result.stderr
    expected = [line.replace("/repo/", f"{repo}/") for line in shown if line != "..."]
    assert result.stdout.splitlines()[: len(expected)] == expected


def test_the_adoption_walkthrough_ends_clean(repo: Path) -> None:
    (block,) = [b for b in console_blocks(DOC) if any("--add-noqa" in c for c, _ in b)]
    outcomes = [dropout_lint(repo, command) for command, _ in block]
    statistics, fix, add_noqa, stale = outcomes
    assert statistics.returncode == 1 and "DRP001" in statistics.stdout
    assert fix.returncode == 1 and "functional-dropout-without-training" in fix.stderr
    assert add_noqa.returncode == 0 and add_noqa.stderr.splitlines()[-1] == "Added 1 noqa directive."  # DRP003, left by --fix
    assert (stale.returncode, stale.stdout) == (0, "")
    assert "# noqa: DRP003" in (repo / "services" / "api" / "model.py").read_text()
