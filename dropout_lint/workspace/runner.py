"""Linting many files: reading them, the project index, and parallel workers.

Results come back in the order the files were given, whatever the number of workers,
so output is the same for ``--jobs 1`` and ``--jobs 8``.
"""

from __future__ import annotations

import gc
import os
import signal
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Optional,
    Sequence,
    TypeVar,
    Union,
)

from ..analysis.attribute_writes import reassigned_attributes
from ..analysis.mode_flow import file_mode_summaries
from ..analysis.mode_summaries import (
    FunctionSummary,
    ProjectModeSummaries,
    absolute_names,
    defines_top_level_function,
    import_names,
    modules_named,
)
from ..analysis.project_index import (
    ClassStatement,
    ProjectIndex,
    class_statements,
    module_class_names,
)
from ..analysis.project_reads import (
    content_digest,
    files_read,
    forget_files_read,
    read_project_file,
)
from ..engine.diagnostics import (
    UNREADABLE_FILE,
    UNWRITABLE_FILE,
    Diagnostic,
    file_problem,
)
from ..engine.lint import LintOptions, import_checks, lint_source
from ..engine.rule import Rule
from ..fixes.noqa_directives import add_noqa
from ..integrations.notebook import (
    fix_notebook,
    is_notebook,
    lint_notebook,
    notebook_python_source,
)
from ..prefilter.stages import byte_stage
from ..rules import ALL_RULES
from ..rules.model_left_in_eval_mode import ModelLeftInEvalMode
from .atomic_write import ChangedOnDisk, replace_file_contents
from .cache import (
    FileSurvey,
    LintCache,
    StatKey,
    project_digest,
    results_key,
    stat_key,
)
from .settings import SettingsSource

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# Files per task sent to a worker: large enough to amortise the round trip.
CHUNK_SIZE = 16
# Reading and gating a file takes a fraction of a millisecond: fewer files than this are
# surveyed in this process, as starting workers would cost more than it saves.
MIN_FILES_FOR_SURVEY_WORKERS = 512
# Parsing one takes libcst a tenth of a second or more: two tasks of the lint pass (see
# _lint_tasks) are worth a worker each.
MIN_TASKS_FOR_LINT_WORKERS = 2

I = TypeVar("I")
T = TypeVar("T")


def read_source(path: str) -> Union[bytes, Diagnostic]:
    """The file's bytes, or a DRP900 diagnostic saying why they cannot be had."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as error:
        return file_problem(path, UNREADABLE_FILE, f"cannot read: {error.strerror or error}")


def options_for(
    path: str,
    settings: SettingsSource,
    project_module_classes: Collection[str],
    mode_summaries: Optional[ProjectModeSummaries] = None,
    reassigned_attributes: frozenset[str] = frozenset(),
) -> LintOptions:
    """The engine's options for ``path``, from its own settings."""
    settings = settings.settings_for(path)
    return LintOptions(
        rules=settings.rules_for(path, ALL_RULES),
        project_module_classes=project_module_classes,
        mode_summaries=mode_summaries or ProjectModeSummaries(),
        max_file_size=settings.max_file_size,
        fix_style=settings.fix_style,
        reassigned_attributes=reassigned_attributes,
    )


def lint_file(
    path: str,
    settings: SettingsSource,
    project_module_classes: Collection[str],
    mode_summaries: Optional[ProjectModeSummaries] = None,
    survey: Optional[FileSurvey] = None,
) -> list[Diagnostic]:
    """Lint one file; given its ``survey``, whose byte stage then need not run again
    (unless the file changed since)."""
    source = read_source(path)
    if isinstance(source, Diagnostic):
        return [source]
    options = options_for(path, settings, project_module_classes, mode_summaries)
    if is_notebook(path):
        return lint_notebook(source, path, options)
    passed = None
    if survey is not None and content_digest(source) == survey.digest:
        passed = survey.may_fire
    return lint_source(source, path, options, passed_byte_stage=passed)


def index_project(paths: Iterable[str]) -> frozenset[str]:
    """The module classes defined or imported in ``paths`` (unreadable files are skipped)."""
    return module_class_names((path, python_source(path)) for path in paths)


def index_mode_summaries(
    paths: Sequence[str],
    rules: Sequence[type[Rule]],
    candidates: Optional[Sequence[str]] = None,
) -> ProjectModeSummaries:
    """The mode summaries DRP030 reads, when it is among ``rules``: those of the files of
    ``paths`` that the files it may fire on (``candidates``; by default, those its byte
    gate lets through) import. Only those are parsed, which are few."""
    if ModelLeftInEvalMode not in rules:
        return ProjectModeSummaries()
    if candidates is None:
        candidates = [
            path for path in paths if byte_stage(python_source(path), [ModelLeftInEvalMode])
        ]
    return mode_summaries_of(paths, ((path, import_names(python_source(path))) for path in candidates))


def mode_summaries_of(
    paths: Sequence[str],
    imports: Iterable[tuple[str, Sequence[str]]],
    cache: Optional[LintCache] = None,
    digests: Optional[Mapping[str, str]] = None,
) -> ProjectModeSummaries:
    """The summaries of the files of ``paths`` that ``imports`` may name: each candidate's
    path with its :func:`import_names`. ``cache`` keeps the summaries by content: a file
    whose content digest ``digests`` gives is not read when the cache has them."""
    imported: set[str] = set()
    for path, names in imports:
        imported |= absolute_names(names, path)
    return ProjectModeSummaries(
        (path, _file_mode_summaries(path, cache, (digests or {}).get(path)))
        for path in modules_named(paths, imported)
    )


def _file_mode_summaries(
    path: str, cache: Optional[LintCache], digest: Optional[str]
) -> tuple[FunctionSummary, ...]:
    known = cache.mode_summaries(digest) if cache is not None and digest is not None else None
    if known is not None:
        return known
    source = python_source(path)
    if cache is None:
        return _summarised(source)
    digest = content_digest(source)
    known = cache.mode_summaries(digest)
    if known is None:
        known = _summarised(source)
        cache.remember_mode_summaries(digest, known)
    return known


def _summarised(source: bytes) -> tuple[FunctionSummary, ...]:
    if not defines_top_level_function(source):
        return ()  # most helpers DRP030 may follow are model files: classes, no functions
    return file_mode_summaries(source)


def python_source(path: str) -> bytes:
    """The file's Python source (a notebook's joined code cells); empty when unreadable."""
    source = read_source(path)
    return b"" if isinstance(source, Diagnostic) else python_of(path, source)


def python_of(path: str, data: bytes) -> bytes:
    """The Python source in the bytes of the file at ``path``: a notebook's joined code
    cells, or the bytes themselves."""
    return notebook_python_source(data) if is_notebook(path) else data


@dataclass(frozen=True)
class FixIndex:
    """What fixing one file needs to know of the others, read from each file once."""

    project_module_classes: Collection[str]
    mode_summaries: ProjectModeSummaries
    reassigned_attributes: frozenset[str]


def index_for_fixes(paths: Sequence[str], rules: Sequence[type[Rule]]) -> FixIndex:
    """The project's module classes, the mode summaries DRP030 reads (when it is among
    ``rules``) and the attribute names set after construction, in one read of ``paths``."""
    classes: list[tuple[str, tuple[ClassStatement, ...]]] = []
    reassigned: set[str] = set()
    mode_flow_candidates: list[str] = []
    for path in paths:
        source = python_source(path)
        classes.append((path, class_statements(source)))
        reassigned |= reassigned_attributes(source)
        if ModelLeftInEvalMode in rules and byte_stage(source, [ModelLeftInEvalMode]):
            mode_flow_candidates.append(path)
    return FixIndex(
        ProjectIndex.of_statements(classes),
        index_mode_summaries(paths, rules, mode_flow_candidates),
        frozenset(reassigned),
    )


def survey_file(path: str, rules: Sequence[type[Rule]]) -> Union[tuple[StatKey, FileSurvey], Diagnostic]:
    """Read ``path`` once: which of ``rules`` may fire on it, and, where DRP030 may, what
    its imports name (for the helpers it may call)."""
    try:
        with open(path, "rb") as file:
            stat = stat_key(os.fstat(file.fileno()))
            data = file.read()
    except OSError as error:
        return file_problem(path, UNREADABLE_FILE, f"cannot read: {error.strerror or error}")
    may_fire = tuple(rule.code for rule in byte_stage(data, rules))
    imports = ()
    if ModelLeftInEvalMode.code in may_fire:
        imports = import_names(python_of(path, data))
    return stat, FileSurvey(content_digest(data), may_fire, b"\0" in data, imports)


def project_class_statements(path: str) -> tuple[ClassStatement, ...]:
    """The class statements of the file at ``path`` (a notebook's code cells), read when
    the project index first needs them, and noted as read (see ``project_reads``)."""
    data = read_project_file(path)
    if data is None:
        return ()
    return class_statements(python_of(path, data))


@dataclass(frozen=True)
class _Survey:
    rules: tuple[type[Rule], ...]

    def __call__(self, path: str) -> Union[tuple[StatKey, FileSurvey], Diagnostic]:
        return survey_file(path, self.rules)


@dataclass(frozen=True)
class _Job:
    settings: SettingsSource
    project_module_classes: Collection[str]
    mode_summaries: ProjectModeSummaries

    def __call__(self, task: Sequence[tuple[str, FileSurvey]]) -> tuple[list[list[Diagnostic]], dict[str, str]]:
        """Each file's findings, and the other files this process has read so far (what
        the findings may depend on: answers are shared across files)."""
        found = [
            lint_file(path, self.settings, self.project_module_classes, self.mode_summaries, survey)
            for path, survey in task
        ]
        return found, files_read()


def lint_files(
    paths: Sequence[str],
    settings: SettingsSource,
    jobs: Optional[int] = None,
    project_module_classes: Optional[Collection[str]] = None,
    cache: Optional[LintCache] = None,
) -> Iterator[tuple[str, list[Diagnostic]]]:
    """Each path with its diagnostics, in the order given.

    Two passes. The first reads every file once, for the rules' gates; the second parses
    with libcst only the files a rule may fire on, which are few, and they read the other
    files the project index or rank inference need. ``cache`` spares both for files it has
    seen with the same content, and whose lint read files that have not changed since.
    """
    forget_files_read()
    with _Workers(jobs) as workers:
        enabled = enabled_anywhere(paths, settings)
        surveys = _survey_files(paths, enabled, cache, workers)
        mode_summaries = _project_mode_summaries(paths, surveys, enabled, cache)
        indexed = [path for path, survey in zip(paths, surveys) if isinstance(survey, FileSurvey)]
        project = ""
        if cache is not None:  # a cached finding is kept under what it may depend on:
            # the project's paths, and the mode summaries of their functions
            project = project_digest(indexed) + mode_summaries.digest()
        # The files to parse, with their cache keys and surveys.
        pending: list[tuple[str, str, FileSurvey]] = []
        current = _CurrentDigests(paths, surveys)
        finished = [
            _known_result(path, survey, settings, cache, project, current, pending)
            for path, survey in zip(paths, surveys)
        ]
        if project_module_classes is None:  # read by the files to parse, on demand
            project_module_classes = ProjectIndex(indexed, project_class_statements) if pending else frozenset()
        tasks = _lint_tasks(pending)
        if workers.forks(len(tasks), MIN_TASKS_FOR_LINT_WORKERS) and (
            sum(_likely_parsed(survey) for _, _, survey in pending) >= workers.count
        ):
            import_checks(enabled)  # once here, not once in each worker
        job = _Job(settings, project_module_classes, mode_summaries)
        parsed = zip(pending, _each_file(workers.map(job, tasks, 1, MIN_TASKS_FOR_LINT_WORKERS)))
        for path, result in zip(paths, finished):
            if result is None:
                (_, key, _), (result, reads) = next(parsed)
                if cache is not None:
                    cache.remember_results(key, result, reads)
            yield path, result
    if cache is not None:
        cache.save()


def _each_file(
    done: Iterable[tuple[list[list[Diagnostic]], dict[str, str]]]
) -> Iterator[tuple[list[Diagnostic], dict[str, str]]]:
    """The findings of each file of the tasks ``done``, with the files its task read."""
    for findings, reads in done:
        for found in findings:
            yield found, reads


class _CurrentDigests:
    """The content digest of a file now, by its path as read (``project_reads``): from this
    run's surveys, by the path given, or else read ("" when unreadable, as noted there)."""

    def __init__(self, paths: Sequence[str], surveys: Sequence[Union[FileSurvey, Diagnostic]]) -> None:
        self._paths, self._surveys = paths, surveys
        self._digests: Optional[dict[str, str]] = None  # made when a finding first asks

    def __call__(self, path: str) -> str:
        if self._digests is None:
            self._digests = {
                p: s.digest if isinstance(s, FileSurvey) else "" for p, s in zip(self._paths, self._surveys)
            }
        digest = self._digests.get(path)
        if digest is None:
            source = read_source(path)
            digest = self._digests[path] = "" if isinstance(source, Diagnostic) else content_digest(source)
        return digest


_ASKS_PROJECT = frozenset(rule.code for rule in ALL_RULES if rule.asks_project())


def _likely_parsed(survey: FileSurvey) -> bool:
    """Whether the file may fire for a rule that asks nothing of the project first: most of
    those reach libcst (19 of 28 on the bench tree), while most files only a rule that asks
    the project may fire on stop there (411 of 427: DRP030's)."""
    return not _ASKS_PROJECT.issuperset(survey.may_fire)


def _lint_tasks(pending: Sequence[tuple[str, str, FileSurvey]]) -> list[list[tuple[str, FileSurvey]]]:
    """The files to lint, in order, as the tasks sent to the workers: a file likely parsed
    alone, the others up to ``CHUNK_SIZE`` together (most stop at a gate within a
    millisecond, and each task's round trip costs this process about 0.1 ms)."""
    tasks: list[list[tuple[str, FileSurvey]]] = []
    last_is_full = True
    for path, _, survey in pending:
        parsed = _likely_parsed(survey)
        if parsed or last_is_full:
            tasks.append([])
        tasks[-1].append((path, survey))
        last_is_full = parsed or len(tasks[-1]) == CHUNK_SIZE
    return tasks


def enabled_anywhere(paths: Sequence[str], settings: SettingsSource) -> tuple[type[Rule], ...]:
    """The rules that the settings of some of ``paths`` enable, in code order. The files of
    one directory share its settings: one of them is asked for."""
    one_per_directory = {os.path.dirname(path): path for path in paths}.values()
    distinct = {id(s): s for s in map(settings.settings_for, one_per_directory)}.values()
    enabled = {rule for each in distinct for rule in each.enabled_rules(ALL_RULES)}
    return tuple(rule for rule in ALL_RULES if rule in enabled)


def _survey_files(
    paths: Sequence[str], rules: Sequence[type[Rule]], cache: Optional[LintCache], workers: "_Workers"
) -> list[Union[FileSurvey, Diagnostic]]:
    """Each file's survey, from the cache when its stat says it has not changed."""
    surveys: list[Union[FileSurvey, Diagnostic, None]] = [None] * len(paths)
    unknown: list[int] = []
    for position, path in enumerate(paths):
        known = _cached_survey(path, cache) if cache is not None else None
        if known is None:
            unknown.append(position)
        surveys[position] = known
    chunk = max(16, min(256, len(unknown) // (8 * workers.count)))
    found = workers.map(
        _Survey(tuple(rules)), [paths[i] for i in unknown], chunk, MIN_FILES_FOR_SURVEY_WORKERS
    )
    for position, result in zip(unknown, found):
        if isinstance(result, tuple):
            stat, survey = result
            if cache is not None:
                cache.remember_survey(os.path.abspath(paths[position]), stat, survey)
            surveys[position] = survey
        else:
            surveys[position] = result
    return surveys  # type: ignore[return-value]


def _project_mode_summaries(
    paths: Sequence[str],
    surveys: Sequence[Union[FileSurvey, Diagnostic]],
    rules: Sequence[type[Rule]],
    cache: Optional[LintCache],
) -> ProjectModeSummaries:
    """:func:`index_mode_summaries` from the surveys: the files DRP030 may fire on, with
    their imports, and the content digests that find a helper's summaries in the cache."""
    if ModelLeftInEvalMode not in rules:
        return ProjectModeSummaries()
    files = [
        (path, survey) for path, survey in zip(paths, surveys) if isinstance(survey, FileSurvey)
    ]
    digests = None if cache is None else {
        path: survey.digest for path, survey in files if not is_notebook(path)
    }
    return mode_summaries_of(
        paths,
        ((path, survey.imports) for path, survey in files if ModelLeftInEvalMode.code in survey.may_fire),
        cache,
        digests,
    )


def _cached_survey(path: str, cache: LintCache) -> Optional[FileSurvey]:
    try:
        stat = stat_key(os.stat(path))
    except OSError:
        return None
    digest = cache.digest_for(os.path.abspath(path), stat)
    return cache.survey(digest) if digest is not None else None


def _known_result(
    path: str,
    survey: Union[FileSurvey, Diagnostic],
    settings: SettingsSource,
    cache: Optional[LintCache],
    project: str,
    current: Callable[[str], str],
    pending: list[tuple[str, str, FileSurvey]],
) -> Optional[list[Diagnostic]]:
    """The file's findings when they are known without parsing (cached: under ``project``,
    and with what they read as ``current`` says it is now); else it joins ``pending``, with
    the key its findings are cached under (none without a cache)."""
    if isinstance(survey, Diagnostic):
        return [survey]
    if not (survey.may_fire or survey.has_nul or is_notebook(path)):
        return []  # no rule may fire: lint_source would not parse it either
    own = settings.settings_for(path)
    codes = [rule.code for rule in own.rules_for(path, ALL_RULES)]
    if not (survey.has_nul or is_notebook(path) or set(codes) & set(survey.may_fire)):
        return []
    if cache is None:
        pending.append((path, "", survey))
        return None
    key = results_key(survey.digest, codes, project, (own.max_file_size, own.fix_style))
    stored = cache.results(key, path, current)
    if stored is None:
        pending.append((path, key, survey))
    return stored


class _Workers:
    """Worker processes for one pass at a time, started when a pass has enough work to share.

    Both ``lint_files`` and ``fix_files`` run their jobs here. Each pass gets its own workers,
    given the pass's job as they start (a forked worker inherits it), so the job is not
    pickled with every file: the lint pass's job holds the project's index, 1.5 MB over
    6,561 files. Leaving the ``with`` block, on Ctrl-C too, lets the files being worked on
    finish and starts no more.

    What this process holds when workers start (its modules, libcst's once the lint pass
    has imported it, the surveys) is frozen for the garbage collector (``gc.freeze``) until
    the block is left: forked workers inherit all of it, and their collections, and this
    process's, no longer walk it each time (on the bench tree, a lint worker's took 0.13 s
    of CPU before, 0.05 s since). Not where something else, an application that calls
    ``lint_files``, has frozen objects itself: ``gc.unfreeze`` would thaw those too.
    """

    def __init__(self, jobs: Optional[int]) -> None:
        self.count = jobs or _available_cores()
        self._pool: Optional[ProcessPoolExecutor] = None
        self._freezes: Optional[bool] = None  # decided when the first workers start

    def map(self, job: Callable[[I], T], items: Sequence[I], chunk: int, minimum: int) -> Iterator[T]:
        """``job`` over ``items``, results in order; in this process if there are fewer
        than ``minimum``. The workers of an earlier pass, whose results must all be in, are
        stopped."""
        if not self._starts(len(items), minimum):
            return map(job, items)
        from concurrent.futures import ProcessPoolExecutor  # a run with few files has none

        if self._pool is not None:
            self._pool.shutdown()
        if self._freezes is None:
            self._freezes = gc.get_freeze_count() == 0
        if self._freezes:
            gc.freeze()
        self._pool = ProcessPoolExecutor(
            max_workers=self.count, initializer=_start_worker, initargs=(job,)
        )
        return self._pool.map(_run_job, items, chunksize=chunk)

    def forks(self, items: int, minimum: int) -> bool:
        """Whether ``map`` over so many items starts workers forked from this process, which
        then share the modules it has imported."""
        import multiprocessing

        return self._starts(items, minimum) and multiprocessing.get_start_method() == "fork"

    def _starts(self, items: int, minimum: int) -> bool:
        return self.count > 1 and items >= minimum

    def __enter__(self) -> "_Workers":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
        if self._freezes:
            gc.unfreeze()


# The job of the pass a worker process serves.
_job: Optional[Callable[[Any], Any]] = None


def _start_worker(job: Callable[[Any], Any]) -> None:
    """Take the pass's job; Ctrl-C is the main process's to handle: it stops the run
    between files, cleanly."""
    global _job
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _job = job


def _run_job(item: Any) -> Any:
    assert _job is not None, "a worker runs jobs only after _start_worker"
    return _job(item)


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class FixMode:
    """What ``--fix``/``--diff`` asks of each file.

    ``writable_roots`` are the real paths of what the user asked to check: a fix is
    written only to a file whose real path is under one of them, so a symlink in the
    tree cannot make ``--fix`` write somewhere else.
    """

    writable_roots: tuple[str, ...]
    unsafe_fixes: bool = False
    write: bool = True


@dataclass(frozen=True)
class FileFix:
    """One file after fixing: the findings left, the fixes made, and the diff (for ``--diff``)."""

    remaining: Sequence[Diagnostic]
    fixed: Mapping[str, int]
    diff: str = ""


def fix_file(path: str, settings: SettingsSource, mode: FixMode, index: FixIndex) -> FileFix:
    """Fix one file in place (or only diff it); a file that cannot be written is reported."""
    from ..fixes.fixer import fix_source, unified_diff  # imported only when fixing

    source = read_source(path)
    if isinstance(source, Diagnostic):
        return FileFix([source], {})
    fix = fix_notebook if is_notebook(path) else fix_source
    options = options_for(
        path, settings, index.project_module_classes, index.mode_summaries, index.reassigned_attributes
    )
    result = fix(source, path, options, mode.unsafe_fixes)
    if result.source == source:
        return FileFix(result.remaining, result.fixed)
    if not mode.write:
        return FileFix(result.remaining, result.fixed, unified_diff(path, source, result.source))
    target = os.path.realpath(path)
    if not any(_is_within(target, root) for root in mode.writable_roots):
        problem = f"not fixed: it links to {target}, outside the paths given"
    else:
        try:
            replace_file_contents(path, result.source, expected=source)
        except ChangedOnDisk:
            problem = "changed on disk while it was being fixed; not written"
        except OSError as error:
            problem = f"cannot write the fixes: {error.strerror or error}"
        else:
            return FileFix(result.remaining, result.fixed)
    remaining = lint_file(path, settings, index.project_module_classes, index.mode_summaries)
    return FileFix([*remaining, file_problem(path, UNWRITABLE_FILE, problem)], {})


def _is_within(path: str, root: str) -> bool:
    return path == root or os.path.commonpath([path, root]) == root


@dataclass(frozen=True)
class _FixJob:
    settings: SettingsSource
    mode: FixMode
    index: FixIndex

    def __call__(self, path: str) -> FileFix:
        return fix_file(path, self.settings, self.mode, self.index)


def fix_files(
    paths: Sequence[str], settings: SettingsSource, mode: FixMode, jobs: Optional[int] = None
) -> Iterator[tuple[str, FileFix]]:
    """Each path with its fixes, in the order given; the files are written by the workers.

    One worker per ``CHUNK_SIZE`` files at most: fixing is slow, and chunks keep it fair.
    """
    count = min(jobs or _available_cores(), max(1, len(paths) // CHUNK_SIZE))
    index = index_for_fixes(paths, enabled_anywhere(paths, settings))
    job = _FixJob(settings, mode, index)
    with _Workers(count) as workers:
        yield from zip(paths, workers.map(job, paths, CHUNK_SIZE, minimum=1))


@dataclass(frozen=True)
class NoqaAdded:
    """``--add-noqa`` on one file: the directives added, the lines that could not hold one,
    and the file's problems (unreadable, unwritable, or a notebook, which is left alone)."""

    added: int
    unplaceable: tuple[int, ...] = ()
    problems: Sequence[Diagnostic] = ()


def add_noqa_to_file(path: str, findings: Sequence[Diagnostic]) -> NoqaAdded:
    """Write ``# noqa: CODE`` on each line of ``findings`` into ``path`` (atomically)."""
    codes_by_line: dict[int, set[str]] = {}
    for finding in findings:
        codes_by_line.setdefault(finding.line, set()).add(finding.code)
    source = read_source(path)
    if isinstance(source, Diagnostic):
        return NoqaAdded(0, problems=[source])
    outcome = add_noqa(source, codes_by_line)
    if outcome.added:
        try:
            replace_file_contents(path, outcome.source, expected=source)
        except ChangedOnDisk:
            problem = "changed on disk while directives were being added; not written"
            return NoqaAdded(0, problems=[file_problem(path, UNWRITABLE_FILE, problem)])
        except OSError as error:
            problem = f"cannot write the noqa directives: {error.strerror or error}"
            return NoqaAdded(0, problems=[file_problem(path, UNWRITABLE_FILE, problem)])
    return NoqaAdded(outcome.added, outcome.unplaceable)
