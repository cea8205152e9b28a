"""The README's Output examples are what the command prints, run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("### Output", 1)[1].split("\n### ", 1)[0]
BLOCKS = re.findall(r"```console\n\$ (dropout-lint [^\n|]*)(?: \| cat)?\n(.*?)```", SECTION, re.DOTALL)


def test_the_output_section_shows_both_forms() -> None:
    assert [command.split()[1] for command, _ in BLOCKS] == ["--format", "examples/"]


@pytest.mark.parametrize("command, shown", BLOCKS, ids=["full", "pipe"])
def test_a_readme_output_example_is_what_the_command_prints(command: str, shown: str) -> None:
    arguments = command.split()[1:]
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", *arguments],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stdout == shown


def test_readme_links_work_on_the_package_index() -> None:
    """PyPI shows the README alone: a relative link there leads nowhere."""
    links = re.findall(r"\]\(([^)]+)\)", README)
    assert links and all(link.startswith(("https://", "http://", "#")) for link in links), [
        link for link in links if not link.startswith(("https://", "http://", "#"))
    ]


def test_the_quick_start_demo_prints_what_the_readme_shows(tmp_path: Path) -> None:
    """``python examples/mnist.py``, ``--fix --unsafe-fixes``, and the script again, on a copy."""
    pytest.importorskip("torch")
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (block,) = [b for b in re.findall(r"```console\n(.*?)```", quick_start, re.DOTALL) if "mnist.py" in b]
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "mnist.py").write_bytes((ROOT / "examples" / "mnist.py").read_bytes())
    commands = {
        "python": [sys.executable, "-W", "ignore"],
        "dropout-lint": [sys.executable, "-m", "dropout_lint", "--no-cache", "--isolated"],
    }
    lines = block.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        program, *arguments = line[2:].split("#", 1)[0].split()
        result = subprocess.run([*commands[program], *arguments], cwd=tmp_path, capture_output=True, text=True)
        assert (result.stdout + result.stderr).strip() == lines[index + 1], line
