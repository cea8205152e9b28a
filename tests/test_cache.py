"""The result cache, through the command: same findings cold, warm, without it and in
parallel; invalidated by content, settings, the project's paths and the other files a
finding's lint read; and harmless when it is corrupt, foreign or missing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main
from dropout_lint.workspace import cache, runner
from dropout_lint.workspace.cache import CACHE_DIRECTORY, LintCache

BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)
"""
CLEAN = """\
import torch.nn as nn


class Plain(nn.Module):
    def forward(self, x):
        return x
"""
# `Block` is a module only through `Base`, defined in another file: the project index says so.
# A training loop in one file, the helper that leaves the model in eval mode in another.
TRAIN = """\
from utils import evaluate


def fit(model, loader, optimizer, epochs):
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        evaluate(model, loader)
"""
UTILS = """\
def evaluate(model, loader):
    model.eval()
    return [model(x) for x in loader]
"""
SUBCLASS = """\
import torch.nn.functional as F
from base import Base


class Block(Base):
    def forward(self, x):
        return F.dropout(x, 0.1)
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.dropout-lint]\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "net.py").write_text(BUGGY)
    (tmp_path / "pkg" / "plain.py").write_text(CLEAN)
    (tmp_path / "pkg" / "block.py").write_text(SUBCLASS)
    (tmp_path / "pkg" / "base.py").write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["--format", "concise", "--quiet", *args])
    return code, capsys.readouterr().out.splitlines()


def parse_count(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the runner lints with libcst from now on (in this process: --jobs 1)."""
    parsed: list[str] = []
    real = runner.lint_file

    def counting(path: str, *args: object) -> object:
        parsed.append(path)
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(runner, "lint_file", counting)
    return parsed


def test_warm_run_reports_the_same_without_parsing(project: Path, capsys, monkeypatch) -> None:
    cold = run(capsys, "--jobs", "1", "pkg")
    assert cold[0] == 1 and [line.split()[1] for line in cold[1]] == ["DRP001", "DRP001"]
    parsed = parse_count(monkeypatch)
    assert run(capsys, "--jobs", "1", "pkg") == cold
    assert parsed == []
    assert run(capsys, "--jobs", "1", "--no-cache", "pkg") == cold
    assert parsed == ["pkg/block.py", "pkg/net.py"]


def test_warm_run_indexes_nothing_again(project: Path, capsys, monkeypatch) -> None:
    """No file is parsed, so the project's module classes are not resolved, and the
    helpers' mode summaries come from the cache while the files are the same; a changed
    helper is summarised again."""
    (project / "pkg" / "train.py").write_text(TRAIN)
    (project / "pkg" / "utils.py").write_text(UTILS)
    cold = run(capsys, "--jobs", "1", "pkg")
    assert any(line.startswith("pkg/train.py:9:9: DRP030") for line in cold[1])

    def not_again(*args: object) -> None:
        raise AssertionError("indexed again on a warm run")

    with monkeypatch.context() as patched:
        patched.setattr(runner, "ProjectIndex", not_again)
        patched.setattr(runner, "file_mode_summaries", not_again)
        assert run(capsys, "--jobs", "1", "pkg") == cold
    restoring = UTILS.replace("    return", "    model.train()\n    return")
    (project / "pkg" / "utils.py").write_text(restoring)
    without_drp030 = [line for line in cold[1] if "DRP030" not in line]
    assert run(capsys, "--jobs", "1", "pkg") == (1, without_drp030)


def test_warm_run_keeps_what_training_loops_import(project: Path, capsys, monkeypatch) -> None:
    """The names a training loop's imports write are kept with its survey: a warm run reads
    no file for DRP030's helpers, and an edited import is followed to its new helper."""
    (project / "pkg" / "train.py").write_text(TRAIN.replace("from utils", "from other"))
    (project / "pkg" / "utils.py").write_text(UTILS)
    (project / "pkg" / "other.py").write_text(UTILS.replace("model.eval()", "model.train()"))
    cold = run(capsys, "--jobs", "1", "pkg")
    assert not any("DRP030" in line for line in cold[1])

    def not_read(path: str) -> None:
        raise AssertionError(f"{path} read again on a warm run")

    with monkeypatch.context() as patched:
        patched.setattr(runner, "python_source", not_read)
        patched.setattr(runner, "read_source", not_read)
        assert run(capsys, "--jobs", "1", "pkg") == cold
    (project / "pkg" / "train.py").write_text(TRAIN)
    assert any(line.startswith("pkg/train.py:9:9: DRP030") for line in run(capsys, "--jobs", "1", "pkg")[1])


def test_an_edit_to_a_file_no_lint_read_keeps_the_other_files_findings(
    project: Path, capsys, monkeypatch
) -> None:
    """Findings are kept with the files their lint read: a script's body edited relints
    nothing (the script itself stops at the gates); the base a finding's class reads, that
    finding (and those linted after it in the same process, which may share its answers)."""
    script = project / "pkg" / "run.py"
    script.write_text("from torch.optim import Adam\n\nprint(Adam)\n")
    cold = run(capsys, "--jobs", "1", "pkg")
    parsed = parse_count(monkeypatch)
    script.write_text("from torch.optim import Adam\n\nprint(Adam, 'edited')\n")
    assert run(capsys, "--jobs", "1", "pkg") == cold and parsed == []
    (project / "pkg" / "base.py").write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    x = 1\n")
    assert run(capsys, "--jobs", "1", "pkg") == cold
    assert "pkg/block.py" in parsed


def test_a_finding_is_kept_when_a_class_it_never_read_changes(project: Path, capsys, monkeypatch) -> None:
    """No lint reads ``other.py``: editing its classes relints nothing (a digest over every
    file with a class relinted every finding of the project)."""
    other = project / "pkg" / "other.py"
    other.write_text(CLEAN.replace("Plain", "Other"))
    cold = run(capsys, "--jobs", "1", "pkg")
    parsed = parse_count(monkeypatch)
    other.write_text(CLEAN.replace("Plain", "Other") + "\n\nclass Extra(Other):\n    pass\n")
    assert run(capsys, "--jobs", "1", "pkg") == cold
    assert parsed == []


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_finding_follows_the_base_class_it_read_in_another_file(
    project: Path, capsys, monkeypatch, jobs: str
) -> None:
    """``Block``'s base is defined in base.py: when ``Base`` stops being a module, Block's
    finding goes; when it becomes one again, the finding is back. The unrelated edits in
    between relint nothing."""
    monkeypatch.setattr(runner, "MIN_TASKS_FOR_LINT_WORKERS", 1)
    base = project / "pkg" / "base.py"
    module_base = base.read_text()
    with_block = run(capsys, "--jobs", jobs, "pkg")
    assert [line.split(":")[0] for line in with_block[1]] == ["pkg/block.py", "pkg/net.py"]
    base.write_text("class Base:\n    pass\n")
    os.utime(base, ns=(1, 1))  # an old mtime: the content hash must still notice
    without_block = run(capsys, "--jobs", jobs, "pkg")
    assert [line.split(":")[0] for line in without_block[1]] == ["pkg/net.py"]
    base.write_text(module_base)
    assert run(capsys, "--jobs", jobs, "pkg") == with_block


def test_adding_or_removing_a_file_lints_again(project: Path, capsys, monkeypatch) -> None:
    """Module keys come from the project's paths: a file added or removed may change what a
    name resolves to (here ``from base import Base``), so every finding is linted again,
    even for a file with no class at all; the files of a project seen before find theirs."""
    script = project / "pkg" / "script.py"
    script.write_text("print('no class, no import')\n")
    base = project / "pkg" / "base.py"
    module_base = base.read_text()
    base.unlink()
    assert [line.split(":")[0] for line in run(capsys, "--jobs", "1", "pkg")[1]] == ["pkg/net.py"]
    base.write_text(module_base)
    with_base = run(capsys, "--jobs", "1", "pkg")
    assert [line.split(":")[0] for line in with_base[1]] == ["pkg/block.py", "pkg/net.py"]
    parsed = parse_count(monkeypatch)
    script.unlink()
    assert run(capsys, "--jobs", "1", "pkg") == with_base
    assert sorted(parsed) == ["pkg/block.py", "pkg/net.py"]
    parsed.clear()
    script.write_text("print('no class, no import')\n")
    assert run(capsys, "--jobs", "1", "pkg") == with_base
    assert parsed == []


def test_findings_are_the_same_with_cache_and_workers(project: Path, capsys) -> None:
    for index in range(40):  # enough files for the first pass to use workers too
        (project / "pkg" / f"copy{index}.py").write_text(BUGGY if index % 3 else CLEAN)
    runner_minimum = runner.MIN_FILES_FOR_SURVEY_WORKERS
    runner.MIN_FILES_FOR_SURVEY_WORKERS = 8
    try:
        expected = run(capsys, "--no-cache", "--jobs", "1", "pkg")
        assert run(capsys, "--jobs", "2", "pkg") == expected  # cold, in workers
        assert run(capsys, "--jobs", "2", "pkg") == expected  # warm
        assert run(capsys, "--jobs", "1", "pkg") == expected
    finally:
        runner.MIN_FILES_FOR_SURVEY_WORKERS = runner_minimum


def test_changed_content_is_linted_again(project: Path, capsys) -> None:
    run(capsys, "pkg")
    path = project / "pkg" / "plain.py"
    path.write_text(CLEAN.replace("return x", "return F.dropout(x)").replace("import torch.nn as nn", "import torch.nn as nn\nimport torch.nn.functional as F"))
    os.utime(path, ns=(1, 1))  # an old mtime: the content hash must still notice
    code, lines = run(capsys, "pkg")
    assert any(line.startswith("pkg/plain.py:7:16: DRP001") for line in lines)


def test_settings_and_project_index_are_part_of_the_key(project: Path, capsys) -> None:
    assert len(run(capsys, "pkg")[1]) == 2
    assert run(capsys, "--ignore", "DRP001", "pkg") == (0, [])
    (project / "pyproject.toml").write_text(
        '[tool.dropout-lint]\nper-file-ignores = { "pkg/net.py" = ["DRP001"] }\n'
    )
    assert [line.split(":")[0] for line in run(capsys, "pkg")[1]] == ["pkg/block.py"]
    (project / "pkg" / "base.py").write_text("class Base:\n    pass\n")  # no longer a module
    assert run(capsys, "pkg") == (0, [])


def test_cache_directory_is_marked_and_safe_to_delete(project: Path, capsys) -> None:
    expected = run(capsys, "pkg")
    directory = project / CACHE_DIRECTORY
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    for entry in directory.iterdir():
        entry.unlink()
    directory.rmdir()
    assert run(capsys, "pkg") == expected
    assert run(capsys, "--no-cache", "pkg") == expected


def test_no_cache_writes_nothing(project: Path, capsys) -> None:
    run(capsys, "--no-cache", "pkg")
    assert not (project / CACHE_DIRECTORY).exists()


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: "",
        lambda text: text[: len(text) // 2],
        lambda text: "[1, 2, 3]",
        lambda text: json.dumps({"format": 1, "paths": 7, "surveys": {}, "results": {}}),
        # Every result entry replaced by findings of the wrong shape.
        lambda text: json.dumps(
            {**json.loads(text), "results": {k: [{"line": "one"}] for k in json.loads(text)["results"]}}
        ),
        lambda text: json.dumps(
            {**json.loads(text), "surveys": {k: [[["X", 1]], "DRP001", 0] for k in json.loads(text)["surveys"]}}
        ),
        lambda text: json.dumps(
            {
                **json.loads(text),
                "mode_summaries": dict.fromkeys(json.loads(text)["mode_summaries"], [["f", 1]]),
            }
        ),
    ],
    ids=[
        "empty", "truncated", "foreign", "wrong-types", "bad-results", "bad-surveys",
        "bad-summaries",
    ],
)
def test_corrupt_cache_is_ignored(project: Path, capsys, damage) -> None:
    (project / "pkg" / "train.py").write_text(TRAIN)  # so that mode summaries are stored
    (project / "pkg" / "utils.py").write_text(UTILS)
    expected = run(capsys, "pkg")
    assert any("DRP030" in line for line in expected[1])
    [cache_file] = (project / CACHE_DIRECTORY).glob("*.json")
    cache_file.write_text(damage(cache_file.read_text()))
    assert run(capsys, "pkg") == expected
    assert run(capsys, "pkg") == expected  # and the rewritten cache is good


def test_unwritable_cache_directory_is_not_an_error(project: Path, capsys) -> None:
    (project / CACHE_DIRECTORY).write_text("a file where the directory should be")
    expected = run(capsys, "--no-cache", "pkg")
    assert run(capsys, "pkg") == expected


def test_recently_modified_files_are_hashed_again(tmp_path: Path) -> None:
    """A stat seen within the clock's resolution of the run may hide a later change."""
    cache = LintCache(tmp_path, "test")
    from dropout_lint.workspace.cache import FileSurvey

    survey = FileSurvey("abc", (), (), False)
    now = cache._started_ns
    cache.remember_survey("/old.py", (1, now - 10**10, now - 10**10, 1), survey)
    cache.remember_survey("/new.py", (1, now, now, 2), survey)
    assert cache.digest_for("/old.py", (1, now - 10**10, now - 10**10, 1)) == "abc"
    assert cache.digest_for("/new.py", (1, now, now, 2)) is None


def test_the_tool_fingerprint_covers_every_folder_of_the_package() -> None:
    """An edited rule or engine file must invalidate the cache, wherever it lives."""
    from dropout_lint.workspace.cache import package_sources

    package = Path(cache.__file__).resolve().parents[1]
    names = {path.relative_to(package).as_posix() for path in package_sources()}
    assert {"engine/lint.py", "rules/functional_dropout_without_training.py", "__init__.py"} <= names


def test_a_cached_finding_keeps_its_fix_and_edits() -> None:
    from dropout_lint.engine.lint import lint_source

    source = "import torch.nn as nn\nimport torch.nn.functional as F\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n"
    [finding] = lint_source(source, "net.py")
    assert finding.fix is not None and finding.fix.edits
    stored = json.loads(json.dumps(cache._stored(finding)))
    restored = cache._diagnostic("net.py", stored)
    assert restored == finding and restored.fix == finding.fix
