"""Linting many files: reading them, the project index, and parallel workers.

Results come back in the order the files were given, whatever the number of workers,
so output is the same for ``--jobs 1`` and ``--jobs 8``.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Iterable, Iterator, Optional, Sequence, Union

from .config import Settings
from .diagnostics import UNREADABLE_FILE, Diagnostic, file_problem
from .engine import LintOptions, lint_source
from .project_index import module_class_names
from .rules import ALL_RULES

# Files per task sent to a worker: large enough to amortise the round trip.
CHUNK_SIZE = 16


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
    )


def lint_file(path: str, settings: Settings, project_module_classes: frozenset[str]) -> list[Diagnostic]:
    source = read_source(path)
    if isinstance(source, Diagnostic):
        return [source]
    return lint_source(source, path, options_for(path, settings, project_module_classes))


def index_project(paths: Iterable[str]) -> frozenset[str]:
    """Module class names defined anywhere in ``paths`` (unreadable files are skipped)."""
    return module_class_names(
        source for source in map(read_source, paths) if isinstance(source, bytes)
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
    job = _Job(settings, project_module_classes)
    workers = min(jobs or os.cpu_count() or 1, max(1, len(paths) // CHUNK_SIZE))
    if workers <= 1:
        yield from zip(paths, map(job, paths))
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from zip(paths, pool.map(job, paths, chunksize=CHUNK_SIZE))
