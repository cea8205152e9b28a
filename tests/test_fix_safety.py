"""``--fix`` never loses a byte: killed runs, concurrent runs, odd files, and no code executed.

Every test drives the real command in a subprocess, as pre-commit and users run it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dropout_lint.workspace.runner import CHUNK_SIZE

COMMAND = [str(Path(sys.executable).with_name("dropout-lint")), "--isolated", "--no-cache"]
MODULE = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"
)


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*COMMAND, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def model_file(index: int) -> bytes:
    """A module with a few fixable findings, different in every file."""
    calls = "".join(f"        x = F.dropout(x, 0.{(index + k) % 9 + 1})\n" for k in range(3))
    return (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
        f"class Net{index}(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        f"        self.fc = nn.Linear({index + 1}, 4)\n\n"
        f"    def forward(self, x):\n        x = self.fc(x)\n{calls}        return x\n"
    ).encode()


def write_tree(root: Path, count: int) -> dict[str, bytes]:
    files = {f"pkg{i % 4}/model_{i}.py": model_file(i) for i in range(count)}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return files


def read_tree(root: Path, names: list[str]) -> dict[str, bytes]:
    return {name: (root / name).read_bytes() for name in names}


@pytest.fixture(scope="module")
def fixed_tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, bytes], dict[str, bytes], float]:
    """The corpus of the kill and concurrency tests, before and after an undisturbed --fix,
    and how long that run took."""
    root = tmp_path_factory.mktemp("reference")
    # Eight chunks of files for two workers: a Ctrl-C lets the chunks being fixed finish,
    # and the one queued next (the pool's call queue holds one more than it has workers),
    # so with fewer chunks one that lands just after the first write could still let the
    # whole run finish.
    before = write_tree(root, 8 * CHUNK_SIZE)
    started = time.monotonic()
    result = run(root, "--fix", "--jobs", "2", ".")
    duration = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    after = read_tree(root, sorted(before))
    assert all(after[name] != before[name] for name in before)
    return before, after, duration


def wait_for_first_write(root: Path, before: dict[str, bytes], deadline: float) -> None:
    """Return once some file has been fixed: a signal sent now lands mid-run."""
    while time.monotonic() < deadline:
        if any((root / name).read_bytes() != data for name, data in before.items()):
            return
        time.sleep(0.01)


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_a_killed_fix_leaves_every_file_fully_old_or_fully_new(
    tmp_path: Path, fixed_tree: tuple[dict[str, bytes], dict[str, bytes], float], signal_number: int
) -> None:
    before, after, duration = fixed_tree
    rng = random.Random(signal_number)
    caught_mid_run = 0
    trials = []  # (was running when signalled, files fixed, exit status): the failure says
    # Ctrl-C lets the files in progress finish, so a late signal can let the whole run end:
    # keep trying until one lands mid-run (every trial is checked in full either way).
    for trial in range(8):
        if caught_mid_run and trial >= 3:
            break
        root = tmp_path / f"trial{trial}"
        write_tree(root, len(before))
        process = subprocess.Popen(
            [*COMMAND, "--fix", "--jobs", "2", "."],
            cwd=root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # the signal reaches the workers too, as Ctrl-C does
        )
        wait_for_first_write(root, before, deadline=time.monotonic() + 2 * duration + 30)
        time.sleep(rng.uniform(0, 0.1))
        was_running = process.poll() is None
        if was_running:
            os.killpg(process.pid, signal_number)
        _, stderr = process.communicate(timeout=60)
        now = read_tree(root, sorted(before))
        torn = [name for name in before if now[name] not in (before[name], after[name])]
        assert torn == [], torn
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py")) == sorted(before)
        fixed = sum(now[name] == after[name] for name in before)
        if signal_number == signal.SIGINT and was_running:
            assert b"Traceback" not in stderr, stderr.decode()[-2000:]
            assert not list(root.rglob("*.tmp")), "an interrupted write left its temporary file"
            # A signal that lands once every file is written (the process may be exiting,
            # when Python no longer runs handlers) may let the run end as it would have.
            assert process.returncode != 0 or fixed == len(before), stderr.decode()[-2000:]
        caught_mid_run += 0 < fixed < len(before)
        trials.append((was_running, fixed, process.returncode))
    assert caught_mid_run >= 1, f"no kill landed mid-run: the test proved nothing; {trials}"


def test_two_concurrent_fix_runs_cannot_corrupt_a_file(
    tmp_path: Path, fixed_tree: tuple[dict[str, bytes], dict[str, bytes], float]
) -> None:
    before, after, _ = fixed_tree
    for trial in range(2):
        root = tmp_path / f"trial{trial}"
        write_tree(root, len(before))
        runs = [
            subprocess.Popen([*COMMAND, "--fix", "--jobs", "1", "."], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)
        ]
        outputs = [process.communicate(timeout=300) for process in runs]
        for process, (stdout, stderr) in zip(runs, outputs):
            assert process.returncode in (0, 2) and b"Traceback" not in stderr, stderr.decode()[-2000:]
            if process.returncode == 2:  # lost the race for a file: said so, wrote nothing
                assert b"changed on disk while it was being fixed" in stdout + stderr
        assert read_tree(root, sorted(before)) == after
        assert not list(root.rglob("*.tmp"))


def test_a_read_only_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "locked.py").write_text(MODULE)
    (tmp_path / "open.py").write_text(MODULE)
    (tmp_path / "locked.py").chmod(0o444)
    result = run(tmp_path, "--fix", ".")
    assert result.returncode == 2
    assert "locked.py:1:1: DRP903 cannot write the fixes: read-only file" in result.stdout
    assert "locked.py:7:16: DRP001" in result.stdout
    assert (tmp_path / "locked.py").read_text() == MODULE
    assert (tmp_path / "locked.py").stat().st_mode & 0o777 == 0o444
    assert "training=" in (tmp_path / "open.py").read_text() or "self.dropout" in (tmp_path / "open.py").read_text()


def test_permissions_and_ownership_survive_a_fix(tmp_path: Path) -> None:
    path = tmp_path / "model.py"
    path.write_text(MODULE)
    path.chmod(0o751)
    if os.geteuid() == 0:
        os.chown(path, 4321, 8765)
    owner = (path.stat().st_uid, path.stat().st_gid)
    assert run(tmp_path, "--fix", ".").returncode == 0
    assert path.read_text() != MODULE
    assert path.stat().st_mode & 0o7777 == 0o751
    assert (path.stat().st_uid, path.stat().st_gid) == owner


def test_a_symlink_inside_the_tree_is_fixed_at_its_target_and_stays_a_link(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "real").mkdir(parents=True)
    (tree / "real" / "model.py").write_text(MODULE)
    (tree / "alias.py").symlink_to("real/model.py")
    result = run(tmp_path, "--fix", "tree/alias.py", "tree/real")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tree / "alias.py").is_symlink() and os.readlink(tree / "alias.py") == "real/model.py"
    assert (tree / "real" / "model.py").read_text() != MODULE


def test_a_symlink_to_a_file_outside_the_tree_is_reported_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    outside = tmp_path / "elsewhere" / "shared.py"
    outside.write_text(MODULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "shared.py").symlink_to(outside)
    (tree / "own.py").write_text(MODULE)
    result = run(tmp_path, "--fix", "tree")
    assert result.returncode == 2
    assert f"tree/shared.py:1:1: DRP903 not fixed: it links to {outside.resolve()}, outside the paths given" in result.stdout
    assert outside.read_text() == MODULE and (tree / "shared.py").is_symlink()
    assert (tree / "own.py").read_text() != MODULE


def test_fix_never_touches_a_line_whose_finding_is_suppressed(tmp_path: Path) -> None:
    suppressed = [
        "        x = F.dropout(x, 0.1)  # noqa",
        "        x = F.dropout(x, 0.2)  # noqa: DRP001",
        "        x = F.dropout(F.dropout(x, 0.3), 0.4)  # noqa: DRP",
        "        x = nn.Dropout(0.5)(x)  # noqa: DRP020",
        "        if self.train:  # noqa: DRP002",
    ]
    body = [
        "import torch.nn as nn", "import torch.nn.functional as F", "", "",
        "class Net(nn.Module):", "    def __init__(self):", "        super().__init__()", "",
        "    def forward(self, x):", "        x = F.dropout(x, 0.6)", *suppressed,
        "            x = x + 1", "        x = nn.Dropout(0.7)(x)", "        return x", "",
    ]
    path = tmp_path / "model.py"
    path.write_text("\n".join(body))
    result = run(tmp_path, "--fix", "--unsafe-fixes", ".")
    fixed = path.read_text().splitlines()
    assert "Fixed 2 findings" in result.stderr, result.stderr
    assert [line for line in fixed if "noqa" in line] == suppressed


def test_the_linter_never_imports_or_runs_the_code_it_checks(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payload = f"open({str(marker)!r}, 'a').write(__name__ + '\\n')\n"
    tree = tmp_path / "tree"
    tree.mkdir()
    # Names the linter itself imports, a package __init__ and the module importing them.
    for name in ("libcst.py", "tomli.py", "dataclasses.py", "torch.py", "__init__.py", "conftest.py", "setup.py"):
        (tree / name).write_text(payload)
    (tree / "model.py").write_text("import evil\n" + payload + MODULE)
    (tree / "evil.py").write_text(payload)
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": [payload]}
    notebook = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tree / "nb.ipynb").write_text(json.dumps(notebook))
    for args in (["."], ["--fix", "."], ["--diff", "."], ["--jobs", "2", "--select", "ALL", "."]):
        result = run(tree, *args)
        assert result.returncode in (0, 1, 2) and "Traceback" not in result.stderr, result.stderr
    assert not marker.exists(), marker.read_text()
