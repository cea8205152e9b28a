"""Odd and hostile input: every case gets a clear answer, and the process never dies.

Each case runs in a subprocess, so a crash in native code (a segfault) fails the test
instead of killing the test run.
"""

from __future__ import annotations

import builtins
import errno
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

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


ODD_FILES = [
    ("bom", b"\xef\xbb\xbf" + MODULE.encode(), 0),
    ("latin-1 cookie", b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + MODULE.encode(), 2),
    ("crlf", MODULE.replace("\n", "\r\n").encode(), 0),
    ("mixed line endings", MODULE.replace("\n", "\r\n", 3).encode(), 0),
    ("tabs", MODULE.replace("    ", "\t").encode(), 0),
    ("form feed", ("\x0c\n" + MODULE).encode(), 1),
    ("very long line", (f"LONG = '{'a' * 1_000_000}'\n" + MODULE).encode(), 1),
    ("200 nested lists", (MODULE + "y = " + "[" * 200 + "]" * 200 + "\n").encode(), 0),
]


@pytest.mark.parametrize(
    "name, data, line_shift",
    ODD_FILES,
    # The name alone: a 1 MB id in PYTEST_CURRENT_TEST makes subprocesses fail (E2BIG).
    ids=[case[0] for case in ODD_FILES],
)
def test_odd_but_valid_files_are_linted(tmp_path: Path, name: str, data: bytes, line_shift: int) -> None:
    assert len(os.environ["PYTEST_CURRENT_TEST"]) < 500  # exported to the subprocess below
    code, found = lint_file(tmp_path, data)
    assert code == 1 and codes(found) == [(7 + line_shift, "DRP001")], name


UNREADABLE_FILES = [
    ("syntax error", MODULE.replace("(self, x)", "(self, x").encode(), "syntax error"),
    ("python 2", b"print 'hello'\n" + MODULE.encode(), "Missing parentheses"),
    ("invalid utf-8", (MODULE + "# \xff\n").encode("latin-1"), "utf-8"),
    ("unknown encoding", b"# -*- coding: klingon -*-\n" + MODULE.encode(), "unknown encoding"),
    ("nul byte", MODULE.encode() + b"\0", "NUL"),
    ("5000 nested parentheses", (MODULE + "y = " + "(" * 5000 + ")" * 5000 + "\n").encode(), "nested"),
    ("40000-term sum", (MODULE + "y = " + "+".join(["1"] * 40000) + "\n").encode(), "nested"),
]


@pytest.mark.parametrize(
    "name, data, message",
    UNREADABLE_FILES,
    ids=[case[0] for case in UNREADABLE_FILES],
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


def generated_models(size: int) -> bytes:
    """Real-looking model classes, each with a finding, to ``size`` bytes."""
    parts, total, index = [MODULE.encode()], len(MODULE), 0
    while total < size:
        part = (
            f"\n\nclass Net{index}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            f"        self.fc = nn.Linear({index + 1}, 10)\n\n    def forward(self, x):\n"
            f"        return F.dropout(self.fc(x), 0.{index % 9 + 1})\n"
        ).encode()
        parts.append(part)
        total, index = total + len(part), index + 1
    return b"".join(parts)


def test_a_20_mb_file_is_skipped_by_the_default_limit_quickly(tmp_path: Path) -> None:
    (tmp_path / "huge.py").write_bytes(generated_models(20 * 1024 * 1024))
    (tmp_path / "small.py").write_bytes(MODULE.encode())
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", "."], capture_output=True, text=True, cwd=tmp_path, timeout=120
    )
    assert time.monotonic() - started < 60  # libcst would take minutes and gigabytes
    assert result.returncode == 2
    assert "huge.py:1:1: DRP902 skipped: 20,971," in result.stdout and "max-file-size of 4,194,304" in result.stdout
    assert "small.py:7:16: DRP001" in result.stdout


def lint_within(tmp_path: Path, name: str, source: str, select: str, seconds: int) -> subprocess.CompletedProcess[str]:
    """Lint ``source``, written to ``name``, with the rules ``select``, in a subprocess that
    must finish within ``seconds`` (the cases using it once ran for minutes or hours)."""
    (tmp_path / name).write_text(source)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", "--select", select, name],
        capture_output=True, text=True, cwd=tmp_path, timeout=2 * seconds,
    )
    assert time.monotonic() - started < seconds, name
    return result


BANNER = "#" * 72 + "\n"


def test_a_banner_comment_after_a_full_stop_is_read_in_linear_time(tmp_path: Path) -> None:
    """A line of `#` after a sentence (a comment or docstring ending in a full stop) once
    sent DRP030's search for `.eval` into exponential backtracking: the run never ended."""
    source = (
        "# Training loop.\n" + BANNER + "def fit(model, loader, val_loader, optimizer, k):\n"
        "    model.train()\n"
        "    for epoch in range(10):\n"
        "        for x in loader:\n"
        "            model(x).sum().backward()\n"
        "            optimizer.step()\n"
        "        if epoch % k == 0:  # every k-th epoch, and training goes on.\n"
        "            " + BANNER + "            model.eval()\n"
        "            evaluate(model, val_loader)\n"
    )
    result = lint_within(tmp_path, "fit.py", source, "DRP030", 60)
    assert result.returncode == 1, result.stderr
    assert "fit.py:11:13: DRP030" in result.stdout


def test_a_comment_of_dots_and_hashes_is_read_in_linear_time(tmp_path: Path) -> None:
    """DRP030 looks for `.eval` and `.step` with comments between the dot and the name: the
    search from every dot of ` #. #. #...` read the rest of the line from each (24 kB: 7 s;
    150 kB: minutes)."""
    source = (
        "def fit(model, loader, val_loader, optimizer, k):\n"
        "    # Dots and hashes: ." + " #." * 50_000 + "\n"
        "    model.train()\n"
        "    for epoch in range(10):\n"
        "        for x in loader:\n"
        "            model(x).sum().backward()\n"
        "            optimizer.step()\n"
        "        if epoch % k == 0:\n"
        "            model.eval()\n"
        "            evaluate(model, val_loader)\n"
    )
    result = lint_within(tmp_path, "fit.py", source, "DRP030", 30)
    assert result.returncode == 1, result.stderr
    assert "fit.py:9:13: DRP030" in result.stdout


HEADER = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"


@pytest.mark.parametrize(
    "name, line",
    [
        # A word searched for, then `#`: each read the rest of the line as a comment.
        ("words before comments", "x = 1  # dropout" + "#dropout" * 60_000),
        # Calls that stay open: each read its arguments to the end of the file.
        ("calls left open", "y = (" + "torch.nn.Dropout2d(" * 30_000),
        # A call followed by a comment of calls: each read the rest of the line.
        ("calls in a comment", "z = F.dropout(x)  #" + "F.dropout(x)#" * 40_000),
        # Escaped quotes in a call's arguments: each quote read to the end of the line.
        ("quotes left open", "y = F.dropout(x, " + "\\'" * 100_000),
        # `noqa:` after `noqa:` (DRP100's gate): each read the rest of the line for a code.
        ("noqa after noqa", "x = 1  # noqa:" + " noqa:" * 60_000),
    ],
)
def test_long_lines_of_calls_and_comments_are_read_in_linear_time(tmp_path: Path, name: str, line: str) -> None:
    """The survey reads every file under the size limit: each of these took minutes."""
    result = lint_within(tmp_path, f"{name.replace(' ', '_')}.py", HEADER + line + "\n", "ALL", 30)
    assert result.returncode in (0, 1, 2), result.stderr


@pytest.mark.parametrize(
    "name, body",
    [
        # Calls in a function, not a method: each was walked back to the function's header.
        ("calls in a long function", "def f(x):\n" + "    x = F.dropout(x, 0.5)\n" * 40_000),
        # Reads in a class that stores `train`: each read in the class is looked at.
        ("reads in a long method", "class A:\n    train = 1\n\n    def f(self, x):\n"
         + "        if self.train:\n            x = -x\n" * 40_000),
    ],
)
def test_long_blocks_are_read_in_linear_time(tmp_path: Path, name: str, body: str) -> None:
    """The gates ask which method holds each call or read. Each once walked back through
    the lines before it to the headers around it: 40,000 calls in one function took 40 s."""
    result = lint_within(tmp_path, f"{name.replace(' ', '_')}.py", HEADER + body, "ALL", 20)
    assert result.returncode == 0, result.stderr


TRAINING_STEP = "def fit(model, loader, optimizer):\n    for x in loader:\n        model(x).sum().backward()\n        optimizer.step()\n\n\n"


@pytest.mark.parametrize(
    "name, source",
    [
        # The project index: each `class A(` read its bases to the end of the file for a `)`.
        ("class statements left open", "class A(\n" * 70_000),
        # The project index and the mode summaries (DRP030 may fire): each list read to the end.
        ("import lists left open", TRAINING_STEP + "from . import (a,\n" * 35_000),
        # The mode summaries: each `import` after the first on a line read the line's rest.
        ("imports after imports", TRAINING_STEP + "x = 1  # import" + " x import" * 60_000 + "\n"),
    ],
)
def test_unclosed_class_statements_and_imports_are_read_in_linear_time(tmp_path: Path, name: str, source: str) -> None:
    """The survey reads every file's class statements and imports: each of these took
    minutes (a 4 MB file, hours)."""
    result = lint_within(tmp_path, f"{name.replace(' ', '_')}.py", source, "ALL", 30)
    assert result.returncode in (0, 1, 2), result.stderr


def test_a_2_mb_file_under_the_limit_is_linted(tmp_path: Path) -> None:
    """Mostly docstrings, as big generated files are: libcst's cost is in nodes, not bytes."""
    docstring = '    """' + "Weights table, kept for reference. " * 3000 + '"""\n'
    tables = "".join(f"\n\ndef table_{i}():\n{docstring}    return {i}\n" for i in range(20))
    data = (MODULE + tables).encode()
    assert 2_000_000 < len(data) < 4 * 1024 * 1024
    code, found = lint_file(tmp_path, data)
    assert code == 1 and codes(found) == FINDING


def test_missing_paths_loops_and_pipes_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "tree" / "pkg").mkdir(parents=True)
    (tmp_path / "tree" / "model.py").write_text(MODULE)
    (tmp_path / "tree" / "pkg" / "loop").symlink_to("..")
    os.mkfifo(tmp_path / "tree" / "pipe.py")  # reading it would block forever
    result = subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", "tree", "missing.py"],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert "missing.py:1:1: DRP900 no such file or directory [unreadable-file]" in lines
    assert "tree/pipe.py:1:1: DRP900 not a regular file (a pipe, socket or device); skipped [unreadable-file]" in lines
    assert any(line.startswith("tree/pkg/loop:1:1: DRP900 symlink loop") for line in lines), lines
    assert any(line.startswith("tree/model.py:7:16: DRP001") for line in lines), lines


def test_an_unreadable_file_in_a_walk_is_reported_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process, so that it holds for root too (chmod 000 does not stop root reading)."""
    (tmp_path / "model.py").write_text(MODULE)
    (tmp_path / "secret.py").write_text(MODULE)
    real_open = builtins.open

    def open_denying_secret(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(file).endswith("secret.py"):
            raise PermissionError(errno.EACCES, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(builtins, "open", open_denying_secret)
    assert main(["--isolated", "--no-cache", "--jobs", "1", "."]) == 2
    lines = capsys.readouterr().out.splitlines()
    assert "secret.py:1:1: DRP900 cannot read: Permission denied [unreadable-file]" in lines
    assert any(line.startswith("model.py:7:16: DRP001") for line in lines), lines


