"""The built wheel carries every module of the linter and of the runtime companion.

An editable install hides a missing package (the source tree is on the path); a user's
``pip install .`` does not.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_source_module(tmp_path: Path) -> None:
    # A pristine copy: a checkout's egg-info (left by `pip install -e .`) lists every file
    # already built, and setuptools would package from it, hiding a missing package.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            "*.egg-info", "build", "dist", ".git", ".venv", "__pycache__", ".*cache*"
        ),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("dropout_lint-*.whl")
    packaged = {name for name in zipfile.ZipFile(wheel).namelist() if name.endswith(".py")}
    expected = {
        path.relative_to(ROOT).as_posix() for path in (ROOT / "dropout_lint").rglob("*.py")
    } | {
        "dropout_lint/runtime/" + path.relative_to(ROOT / "runtime").as_posix()
        for path in (ROOT / "runtime").rglob("*.py")
    }
    assert expected - packaged == set()
    entry_points = zipfile.ZipFile(wheel).read(
        next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("entry_points.txt"))
    ).decode()
    assert "dropout-lint = dropout_lint.integrations.cli:main" in entry_points
    assert "DRP = dropout_lint.integrations.flake8_plugin:DropoutLintPlugin" in entry_points
    assert "dropout_lint = dropout_lint.integrations.pytest_plugin" in entry_points
