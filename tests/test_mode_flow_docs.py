"""The examples in docs/mode-flow.md do what the page says they do."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = (Path(__file__).resolve().parent.parent / "docs" / "mode-flow.md").read_text()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", DOC, re.DOTALL)


def block(language: str, containing: str) -> str:
    (found,) = [text for lang, text in BLOCKS if lang == language and containing in text]
    return found


def test_the_drp030_example_prints_what_the_page_shows(tmp_path):
    (tmp_path / "train.py").write_text(block("python", "def evaluate(model, loader):"))
    console = block("console", "dropout-lint train.py").splitlines()
    command = console[0].removeprefix("$ dropout-lint ").split()
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", "--isolated", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.stdout.splitlines() == console[1:]


def test_the_audit_example_prints_what_its_comment_says():
    pytest.importorskip("torch")
    source = block("python", "from dropout_lint.runtime import audit")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "mode-flow.md", "exec"), {})
    expected = re.search(r"print\(.*\)\s+# (.*)", source).group(1)
    assert printed.getvalue().strip() == expected


README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def test_the_readme_plugin_example_prints_what_it_shows(tmp_path):
    pytest.importorskip("torch")
    section = README.split("## Mode flow: training in eval mode", 1)[1].split("\n## ", 1)[0]
    (test_file,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    (console,) = re.findall(r"```console\n(.*?)```", section, re.DOTALL)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_train.py").write_text(test_file)
    command = console.splitlines()[0].removeprefix("$ pytest ").split()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *command],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    shown = [line for line in console.splitlines()[1:] if line != "..."]
    printed = result.stdout.splitlines()
    for line in shown:
        if line.endswith("..."):
            assert any(out.startswith(line[:-3]) for out in printed), line
        else:
            assert line in printed, line
