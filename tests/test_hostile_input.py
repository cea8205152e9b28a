"""Odd and hostile input: every case gets a clear answer, and the process never dies.

Each case runs in a subprocess, so a crash in native code (a segfault) fails the test
instead of killing the test run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

MODULE = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"
)
FINDING = [(7, "DRP001")]


def lint_file(tmp_path: Path, data: bytes, name: str = "case.py") -> tuple[int, list[tuple[int, str, str]]]:
    path = tmp_path / name
    path.write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--format", "json", path.name],
        capture_output=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode in (0, 1, 2), (result.returncode, result.stderr[-2000:])
    found = json.loads(result.stdout)
    return result.returncode, [(d["line"], d["code"], d["message"]) for d in found]


def codes(found: list[tuple[int, str, str]]) -> list[tuple[int, str]]:
    return [(line, code) for line, code, _ in found]


@pytest.mark.parametrize(
    "name, data, line_shift",
    [
        ("bom", b"\xef\xbb\xbf" + MODULE.encode(), 0),
        ("latin-1 cookie", b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + MODULE.encode(), 2),
        ("crlf", MODULE.replace("\n", "\r\n").encode(), 0),
        ("mixed line endings", MODULE.replace("\n", "\r\n", 3).encode(), 0),
        ("tabs", MODULE.replace("    ", "\t").encode(), 0),
        ("form feed", ("\x0c\n" + MODULE).encode(), 1),
        ("very long line", (f"LONG = '{'a' * 1_000_000}'\n" + MODULE).encode(), 1),
        ("200 nested lists", (MODULE + "y = " + "[" * 200 + "]" * 200 + "\n").encode(), 0),
    ],
)
def test_odd_but_valid_files_are_linted(tmp_path: Path, name: str, data: bytes, line_shift: int) -> None:
    code, found = lint_file(tmp_path, data)
    assert code == 1 and codes(found) == [(7 + line_shift, "DRP001")], name


@pytest.mark.parametrize(
    "name, data, message",
    [
        ("syntax error", MODULE.replace("(self, x)", "(self, x").encode(), "syntax error"),
        ("python 2", b"print 'hello'\n" + MODULE.encode(), "Missing parentheses"),
        ("invalid utf-8", (MODULE + "# \xff\n").encode("latin-1"), "utf-8"),
        ("unknown encoding", b"# -*- coding: klingon -*-\n" + MODULE.encode(), "unknown encoding"),
        ("nul byte", MODULE.encode() + b"\0", "NUL"),
        ("5000 nested parentheses", (MODULE + "y = " + "(" * 5000 + ")" * 5000 + "\n").encode(), "nested"),
        ("40000-term sum", (MODULE + "y = " + "+".join(["1"] * 40000) + "\n").encode(), "nested"),
    ],
)
def test_unreadable_files_get_one_clear_diagnostic(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    code, found = lint_file(tmp_path, data)
    assert code == 2, name
    assert [c for _, c, _ in found] == ["DRP900"] and message in found[0][2], found


def test_empty_file_and_stub(tmp_path: Path) -> None:
    assert lint_file(tmp_path, b"") == (0, [])
    code, found = lint_file(tmp_path, MODULE.encode(), name="net.pyi")
    assert code == 1 and codes(found) == FINDING


def test_file_over_the_size_limit_is_skipped_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_bytes(MODULE.encode() + b"# padding\n" * 300_000)
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--max-file-size", "1000000", path.name],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "DRP902" in result.stdout and "max-file-size" in result.stdout
