"""Linting many files: reading them, the project index, and parallel workers.

Results come back in the order the files were given, whatever the number of workers,
so output is the same for ``--jobs 1`` and ``--jobs 8``.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar, Union

from .atomic_write import ChangedOnDisk, replace_file_contents
from .config import Settings
from .diagnostics import UNREADABLE_FILE, Diagnostic, file_problem
from .engine import LintOptions, lint_source
from .fixing import fix_source, unified_diff
from .notebook import fix_notebook, is_notebook, lint_notebook, notebook_python_source
from .project_index import module_class_names
from .rules import ALL_RULES

# Files per task sent to a worker: large enough to amortise the round trip.
CHUNK_SIZE = 16

T = TypeVar("T")


def read_source(path: str) -> Union[bytes, Diagnostic]:
    """The file's bytes, or a DRP900 diagnostic saying why they cannot be had."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        return file_problem(path, UNREADABLE_FILE, f"cannot read: {error.strerror or error}")


def options_for(path: str, settings: Settings, project_module_classes: frozenset[str]) -> LintOptions:
    return LintOptions(
        rules=settings.rules_for(path, ALL_RULES),
        project_module_classes=project_module_classes,
        max_file_size=settings.max_file_size,
        fix_style=settings.fix_style,
    )


def lint_file(path: str, settings: Settings, project_module_classes: frozenset[str]) -> list[Diagnostic]:
    source = read_source(path)
    if isinstance(source, Diagnostic):
        return [source]
    lint = lint_notebook if is_notebook(path) else lint_source
    return lint(source, path, options_for(path, settings, project_module_classes))


def index_project(paths: Iterable[str]) -> frozenset[str]:
    """Module class names defined anywhere in ``paths`` (unreadable files are skipped)."""
    return module_class_names(
        notebook_python_source(source) if is_notebook(path) else source
        for path, source in zip(paths, map(read_source, paths))
        if isinstance(source, bytes)
    )


@dataclass(frozen=True)
class _Job:
    settings: Settings
    project_module_classes: frozenset[str]

    def __call__(self, path: str) -> list[Diagnostic]:
        return lint_file(path, self.settings, self.project_module_classes)


def lint_files(
    paths: Sequence[str],
    settings: Settings,
    jobs: Optional[int] = None,
    project_module_classes: Optional[frozenset[str]] = None,
) -> Iterator[tuple[str, list[Diagnostic]]]:
    """Each path with its diagnostics, in the order given."""
    if project_module_classes is None:
        project_module_classes = index_project(paths)
    yield from _in_workers(_Job(settings, project_module_classes), paths, jobs)


def _in_workers(job: Callable[[str], T], paths: Sequence[str], jobs: Optional[int]) -> Iterator[tuple[str, T]]:
    """``job`` over ``paths`` in worker processes, results in the order given."""
    workers = min(jobs or os.cpu_count() or 1, max(1, len(paths) // CHUNK_SIZE))
    if workers <= 1:
        yield from zip(paths, map(job, paths))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from zip(paths, pool.map(job, paths, chunksize=CHUNK_SIZE))


@dataclass(frozen=True)
class FixMode:
    """What ``--fix``/``--diff`` asks of each file."""

    unsafe_fixes: bool = False
    write: bool = True


@dataclass(frozen=True)
class FileFix:
    """One file after fixing: the findings left, the fixes made, and the diff (for ``--diff``)."""

    remaining: Sequence[Diagnostic]
    fixed: Mapping[str, int]
    diff: str = ""


def fix_file(
    path: str, settings: Settings, project_module_classes: frozenset[str], mode: FixMode
) -> FileFix:
    """Fix one file in place (or only diff it); a file that cannot be written is reported."""
    source = read_source(path)
    if isinstance(source, Diagnostic):
        return FileFix([source], {})
    fix = fix_notebook if is_notebook(path) else fix_source
    result = fix(source, path, options_for(path, settings, project_module_classes), mode.unsafe_fixes)
    if result.source == source:
        return FileFix(result.remaining, result.fixed)
    if not mode.write:
        return FileFix(result.remaining, result.fixed, unified_diff(path, source, result.source))
    try:
        replace_file_contents(path, result.source, expected=source)
    except ChangedOnDisk:
        problem = "changed on disk while it was being fixed; not written"
    except OSError as error:
        problem = f"cannot write the fixes: {error.strerror or error}"
    else:
        return FileFix(result.remaining, result.fixed)
    return FileFix([*lint_file(path, settings, project_module_classes), file_problem(path, UNREADABLE_FILE, problem)], {})


@dataclass(frozen=True)
class _FixJob:
    settings: Settings
    project_module_classes: frozenset[str]
    mode: FixMode

    def __call__(self, path: str) -> FileFix:
        return fix_file(path, self.settings, self.project_module_classes, self.mode)


def fix_files(
    paths: Sequence[str], settings: Settings, mode: FixMode, jobs: Optional[int] = None
) -> Iterator[tuple[str, FileFix]]:
    """Each path with its fixes, in the order given; the files are written by the workers."""
    yield from _in_workers(_FixJob(settings, index_project(paths), mode), paths, jobs)
