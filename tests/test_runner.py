"""The worker pool that linting and fixing share: order, worker counts, and Ctrl-C."""

from __future__ import annotations

import concurrent.futures
import gc
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from dropout_lint.workspace import runner
from dropout_lint.workspace.runner import FixMode, fix_files, lint_files
from dropout_lint.workspace.settings import Settings

BUGGY = (
    "import torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
    "class Net(nn.Module):\n    def forward(self, x):\n        return F.dropout(x, {p})\n"
)


class RecordingPool(ProcessPoolExecutor):
    """A real pool that remembers how it was started and shut down."""

    started: list[dict] = []
    shutdowns: list[bool] = []

    def __init__(self, max_workers: int, initializer=None, initargs=()) -> None:
        RecordingPool.started.append({"max_workers": max_workers, "job": type(initargs[0]).__name__})
        super().__init__(max_workers=max_workers, initializer=initializer, initargs=initargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        RecordingPool.shutdowns.append(cancel_futures)
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch) -> type[RecordingPool]:
    RecordingPool.started, RecordingPool.shutdowns = [], []
    # The runner imports the pool when it first needs one.
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", RecordingPool)
    return RecordingPool


def write_files(root: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        path = root / f"m{index:02}.py"
        path.write_text(BUGGY.format(p=f"0.{index % 9 + 1}"))
        paths.append(str(path))
    return paths


def test_fixing_uses_one_worker_per_chunk_of_files_and_keeps_the_order(tmp_path: Path, pool) -> None:
    paths = write_files(tmp_path, 40)
    mode = FixMode(writable_roots=(str(tmp_path),), write=False)
    results = list(fix_files(paths, Settings(root=tmp_path), mode, jobs=4))
    assert [path for path, _ in results] == paths
    assert all(f"F.dropout(x, 0.{i % 9 + 1})" in fix.diff for i, (_, fix) in enumerate(results))
    # 40 files // CHUNK_SIZE (16) = 2 workers, though 4 were allowed.
    assert pool.started == [{"max_workers": 2, "job": "_FixJob"}]
    assert pool.shutdowns == [True]


def test_fixing_a_few_files_starts_no_worker(tmp_path: Path, pool) -> None:
    paths = write_files(tmp_path, 5)
    mode = FixMode(writable_roots=(str(tmp_path),), write=False)
    assert [path for path, _ in fix_files(paths, Settings(root=tmp_path), mode, jobs=4)] == paths
    assert pool.started == []


def test_linting_starts_the_workers_asked_for(tmp_path: Path, pool) -> None:
    paths = write_files(tmp_path, 6)
    results = list(lint_files(paths, Settings(root=tmp_path), jobs=3))
    assert [path for path, _ in results] == paths
    assert all([d.code for d in found] == ["DRP001"] for _, found in results)
    assert pool.started == [{"max_workers": 3, "job": "_Job"}]


def test_each_file_passes_the_byte_stage_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The survey's byte stage serves the lint pass too; a file changed in between is
    gated again."""
    from dropout_lint.engine import lint
    from dropout_lint.prefilter import stages

    gated: list[bytes] = []

    def counting(data: bytes, rules):  # type: ignore[no-untyped-def]
        gated.append(data)
        return stages.byte_stage(data, rules)

    monkeypatch.setattr(runner, "byte_stage", counting)
    monkeypatch.setattr(lint, "byte_stage", counting)
    paths = write_files(tmp_path, 3)
    results = list(lint_files(paths, Settings(root=tmp_path), jobs=1))
    assert all([d.code for d in found] == ["DRP001"] for _, found in results)
    assert sorted(gated) == sorted(Path(path).read_bytes() for path in paths)

    gated.clear()
    surveyed = runner.survey_file(paths[0], runner.ALL_RULES)
    Path(paths[0]).write_text(BUGGY.format(p="0.5") + "# changed\n")
    assert [d.code for d in runner.lint_file(paths[0], Settings(root=tmp_path), frozenset(), surveyed[1])] == ["DRP001"]
    assert len(gated) == 2


def test_only_the_files_a_question_of_the_index_needs_are_scanned_for_classes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The survey scans no file for class statements: the project index scans a file when
    a question first needs it, here the base of the one class that reaches libcst (a file
    of the same name elsewhere is never read), each once, noted as read with its digest."""
    from dropout_lint.analysis import project_reads

    scanned: list[bytes] = []
    real = runner.class_statements

    def counting(source: bytes):  # type: ignore[no-untyped-def]
        scanned.append(source)
        return real(source)

    monkeypatch.setattr(runner, "class_statements", counting)
    (tmp_path / "zoo").mkdir()
    (tmp_path / "other").mkdir()
    base = tmp_path / "zoo" / "base.py"
    base.write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n")
    (tmp_path / "other" / "layers.py").write_text("class Base:\n    pass\n")
    (tmp_path / "zoo" / "block.py").write_text(
        BUGGY.format(p="0.5").replace("import torch.nn as nn", "from .base import Base").replace("nn.Module", "Base")
    )
    paths = write_files(tmp_path, 3) + [str(tmp_path / name) for name in ("other/layers.py", "zoo/base.py", "zoo/block.py")]
    results = dict(lint_files(paths, Settings(root=tmp_path), jobs=1))
    assert [d.code for d in results[str(tmp_path / "zoo" / "block.py")]] == ["DRP001"]
    assert scanned == [base.read_bytes()]
    assert project_reads.files_read() == {str(base): project_reads.content_digest(base.read_bytes())}


def test_stopping_early_cancels_the_files_not_started(tmp_path: Path, pool) -> None:
    """What Ctrl-C does: the generator is closed, the pool shut down with cancel_futures."""
    paths = write_files(tmp_path, 64)
    mode = FixMode(writable_roots=(str(tmp_path),), write=False)
    results = fix_files(paths, Settings(root=tmp_path), mode, jobs=2)
    assert next(results)[0] == paths[0]
    results.close()
    assert pool.shutdowns == [True]


def test_workers_leave_ctrl_c_to_the_main_process() -> None:
    with runner._Workers(2) as workers:
        handlers = list(workers.map(signal.getsignal, [signal.SIGINT] * 4, 1, 1))
    assert handlers == [signal.SIG_IGN] * 4


def test_each_pass_gives_its_job_to_its_workers_once(tmp_path: Path, pool, monkeypatch) -> None:
    """The survey and the lint pass each start workers with their job: the lint pass's job
    (the project's index) is not pickled with every file."""
    import pickle

    monkeypatch.setattr(runner, "MIN_FILES_FOR_SURVEY_WORKERS", 1)
    pickled: list[bytes] = []
    dumps = pickle.dumps

    def recording(value, protocol=None):  # type: ignore[no-untyped-def]
        pickled.append(dumps(value, protocol))
        return pickled[-1]

    paths = write_files(tmp_path, 6)
    monkeypatch.setattr("multiprocessing.reduction.ForkingPickler.dumps", staticmethod(recording))
    results = list(lint_files(paths, Settings(root=tmp_path), jobs=2))
    assert all([d.code for d in found] == ["DRP001"] for _, found in results)
    assert pool.started == [{"max_workers": 2, "job": "_Survey"}, {"max_workers": 2, "job": "_Job"}]
    sent = b"".join(pickled)
    assert b"_run_job" in sent  # what the workers are sent: the files, to the job they hold
    assert b"_Job" not in sent and b"_Survey" not in sent


TRAINING_LOOP = (
    "def fit(model, loader, optimizer):\n"
    "    for x in loader:\n"
    "        model(x).sum().backward()\n"
    "        optimizer.step()\n"
)


@pytest.mark.parametrize(
    ("sources", "parent_imports"),
    [
        ([BUGGY.format(p="0.5")] * 2, True),  # both files reach libcst: the workers share one import
        ([BUGGY.format(p="0.5"), TRAINING_LOOP], False),  # one file does: its worker imports it
        ([TRAINING_LOOP] * 2, False),  # DRP030's project check stops both before any parse
    ],
)
def test_the_parent_imports_libcst_for_the_lint_workers_only_when_several_may_need_it(
    tmp_path: Path, sources: list[str], parent_imports: bool
) -> None:
    """Workers forked after the parent imported libcst share that import; one that imports
    it itself pays a fifth of a second. So the parent imports it first only when at least
    as many files as there are workers may fire for a rule that asks nothing of the project."""
    for index, source in enumerate(sources):
        (tmp_path / f"m{index}.py").write_text(source)
    probe = (
        "import sys; from dropout_lint.workspace.runner import lint_files;"
        "from dropout_lint.workspace.settings import Settings;"
        "found = list(lint_files(sys.argv[2:], Settings(root=sys.argv[1]), jobs=2));"
        "print(sum(len(d) for _, d in found), 'libcst' in sys.modules)"
    )
    paths = [str(tmp_path / f"m{index}.py") for index in range(len(sources))]
    result = subprocess.run(
        [sys.executable, "-c", probe, str(tmp_path), *paths], capture_output=True, text=True, check=True
    )
    findings = sum(source.startswith("import torch") for source in sources)
    assert result.stdout.split() == [str(findings), str(parent_imports)]


def test_files_likely_parsed_go_alone_to_the_workers_the_others_together(tmp_path: Path, pool) -> None:
    """A file only DRP030 may fire on mostly stops at its gate: such files share a task."""
    sources = [TRAINING_LOOP] * 20 + [BUGGY.format(p="0.5")] * 2 + [TRAINING_LOOP] * 3 + [BUGGY.format(p="0.2")]
    paths = []
    for index, source in enumerate(sources):
        (tmp_path / f"m{index:02}.py").write_text(source)
        paths.append(str(tmp_path / f"m{index:02}.py"))
    surveys = [runner.survey_file(path, runner.ALL_RULES)[1] for path in paths]
    tasks = runner._lint_tasks([(path, "", survey) for path, survey in zip(paths, surveys)])
    assert [len(task) for task in tasks] == [runner.CHUNK_SIZE, 4, 1, 1, 3, 1]
    assert [path for task in tasks for path, _ in task] == paths
    in_workers = list(lint_files(paths, Settings(root=tmp_path), jobs=2))
    assert pool.started == [{"max_workers": 2, "job": "_Job"}]
    assert in_workers == list(lint_files(paths, Settings(root=tmp_path), jobs=1))
    assert [[d.code for d in found] for _, found in in_workers] == [[]] * 20 + [["DRP001"]] * 2 + [[]] * 3 + [["DRP001"]]


def test_the_workers_freeze_and_thaw_what_this_process_holds() -> None:
    assert gc.get_freeze_count() == 0
    with runner._Workers(2) as workers:
        assert list(workers.map(abs, [-1, -2], 1, 1)) == [1, 2]
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_the_workers_leave_alone_what_an_application_froze() -> None:
    """``gc.unfreeze`` thaws every frozen object: an application that froze its own (a
    server before it forks, say) keeps them frozen, and gets nothing more frozen."""
    held = [object() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with runner._Workers(2) as workers:
            assert list(workers.map(abs, [-1, -2], 1, 1)) == [1, 2]
            assert list(workers.map(abs, [-3, -4], 1, 1)) == [3, 4]
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()
    assert held
