"""The pre-commit hooks, installed and run by pre-commit itself from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("pre_commit")

ROOT = Path(__file__).resolve().parent.parent
BUGGY = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"
)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def _try_repo(project: Path, hook: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PRE_COMMIT_HOME": str(project.parent / "pre-commit-home")}
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    path = tmp_path_factory.mktemp("hooks") / "project"
    path.mkdir()
    _git(path, "init", "-q")
    _git(path, "config", "user.email", "ci@example.com")
    _git(path, "config", "user.name", "CI")
    (path / "README.md").write_text("not python\n")
    _git(path, "add", ".")
    _git(path, "commit", "-qm", "init")
    return path


def test_hook_passes_when_no_python_file_is_staged(project: Path) -> None:
    result = _try_repo(project, "dropout-lint")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no files to check" in result.stdout.lower() or "Passed" in result.stdout


def test_hook_fails_on_a_staged_bug_and_names_it(project: Path) -> None:
    (project / "model.py").write_text(BUGGY)
    _git(project, "add", "model.py")
    result = _try_repo(project, "dropout-lint")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "model.py:7:16: DRP001" in result.stdout


def test_hooks_leave_excluded_files_alone_though_pre_commit_names_them(tmp_path: Path) -> None:
    """pre-commit passes every file by name; `--force-exclude` in the hooks honours the excludes."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    project = tmp_path / "monorepo"
    (project / "legacy").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.dropout-lint]\nextend-exclude = ["legacy/"]\n')
    (project / "legacy" / "old.py").write_text(BUGGY)
    (project / "model.py").write_text(BUGGY)
    _git(project, "init", "-q")
    _git(project, "config", "user.email", "ci@example.com")
    _git(project, "config", "user.name", "CI")
    _git(project, "add", ".")
    _git(project, "commit", "-qm", "init")
    result = _try_repo(project, "dropout-lint-fix", "--all-files")
    assert result.returncode == 1, result.stdout + result.stderr  # pre-commit: files were modified
    assert (project / "legacy" / "old.py").read_text() == BUGGY
    assert (project / "model.py").read_text() != BUGGY
    result = _try_repo(project, "dropout-lint", "--all-files")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "legacy" not in result.stdout
