"""What the package index gets: the sdist and wheel built from a pristine copy of the tree.

The metadata declares what the files hold (an MIT LICENSE, typed, the Python versions),
links back to the project, leaves torch unbounded above, and the sdist carries tests that
pass once unpacked.
"""

from __future__ import annotations

import email
import glob
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Optional

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(
    "*.egg-info", "build", "dist", ".git", ".venv", "__pycache__", ".*cache*"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel), built with the installed setuptools, as ``pip wheel`` would."""
    work = tmp_path_factory.mktemp("packaging")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=IGNORED)
    for kind in ("sdist", "wheel"):
        (work / kind).mkdir()
        build = f"import sys; from setuptools import build_meta; build_meta.build_{kind}(sys.argv[1])"
        subprocess.run(
            [sys.executable, "-c", build, str(work / kind)],
            cwd=source, check=True, capture_output=True,
        )
    (sdist,) = (work / "sdist").glob("dropout_lint-*.tar.gz")
    (wheel,) = (work / "wheel").glob("dropout_lint-*.whl")
    return sdist, wheel


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        return email.message_from_bytes(archive.read(name))


def test_the_build_requirement_reads_the_license_expression() -> None:
    """An SPDX ``license = "MIT"`` needs setuptools 77 (PEP 639); older ones reject it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert isinstance(project["project"]["license"], str)
    (requirement,) = project["build-system"]["requires"]
    minimum = re.fullmatch(r"setuptools>=(\d+)", requirement)
    assert minimum is not None and int(minimum.group(1)) >= 77


def test_the_license_file_matches_the_declared_license(built: tuple[Path, Path]) -> None:
    sdist, wheel = built
    metadata = wheel_metadata(wheel)
    assert metadata["License-Expression"] == "MIT"
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    with zipfile.ZipFile(wheel) as archive:
        assert any(name.endswith("licenses/LICENSE") for name in archive.namelist())
    with tarfile.open(sdist) as archive:
        assert any(name.endswith("/LICENSE") for name in archive.getnames())


def test_metadata_links_classifies_and_leaves_torch_unbounded(built: tuple[Path, Path]) -> None:
    metadata = wheel_metadata(built[1])
    urls = dict(value.split(", ", 1) for value in metadata.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues"} <= set(urls)
    assert all(url.startswith("https://") for url in urls.values())
    classifiers = metadata.get_all("Classifier")
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.9" in classifiers
    (torch,) = [r for r in metadata.get_all("Requires-Dist") if r.startswith("torch")]
    assert torch.startswith("torch>=2.1") and "<" not in torch.split(";")[0]


def test_the_sdist_carries_its_tests_and_they_pass(built: tuple[Path, Path], tmp_path: Path) -> None:
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
        archive.extractall(tmp_path)
    top = names[0].split("/")[0]
    for needed in ("tests/test_rule_examples.py", "tests/test_fixtures.py", "tests/golden", "fixtures"):
        assert f"{top}/{needed}" in names or any(n.startswith(f"{top}/{needed}/") for n in names)
    unpacked = tmp_path / top
    # The unpacked tree's own code (first on the path with -m), not this checkout's.
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/test_rule_examples.py", "tests/test_fixtures.py"],
        cwd=unpacked, capture_output=True, text=True, timeout=900,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " passed" in result.stdout


def test_the_runtime_without_torch_says_which_extra_to_install() -> None:
    blocked = (
        "import sys; sys.modules['torch'] = None  # as if torch were not installed\n"
        "try:\n    import dropout_lint.runtime\n"
        "except ImportError as error:\n    print(type(error).__name__, error)\n"
    )
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("ImportError dropout_lint.runtime needs PyTorch")
    assert 'pip install "dropout-lint[runtime]"' in result.stdout


def _oldest_python() -> Optional[str]:
    """An interpreter of the oldest Python the package supports (3.9), if this machine has one."""
    candidates = [shutil.which("python3.9"), *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python")))]
    for candidate in filter(None, candidates):
        probe = subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 9)"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


BYTE_STAGE_PROBE = """
import json, sys
from pathlib import Path
from dropout_lint.prefilter.stages import byte_stage
from dropout_lint.rules import ALL_RULES
paths = sorted(p for folder in sys.argv[1:] for p in Path(folder).rglob("*.py"))
print(json.dumps({str(p): [r.code for r in byte_stage(p.read_bytes(), ALL_RULES)] for p in paths}))
"""


def test_the_gates_answer_alike_on_the_oldest_python_supported() -> None:
    """The rules' declarations and gates import nothing newer than Python 3.9 and answer as
    here: the possessive quantifiers some patterns use (`*+`, Python 3.11) once made every
    import fail there."""
    python = _oldest_python()
    if python is None:
        pytest.skip("no Python 3.9 on this machine")
    folders = [str(ROOT / "fixtures"), str(ROOT / "examples")]
    answers = []
    for interpreter in (python, sys.executable):
        result = subprocess.run(
            [interpreter, "-c", BYTE_STAGE_PROBE, *folders],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        answers.append(result.stdout)
    assert answers[0] == answers[1] and '"DRP001"' in answers[0]
