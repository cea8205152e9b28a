"""Results of earlier runs, so that linting an unchanged tree costs a ``stat`` per file.

The cache lives in ``.dropout-lint-cache/`` in the project root, one JSON file per tool
build and settings. In it, each file's content hash leads to what one read of it found
(the rules that may fire) and, for files a rule had to parse, to their findings, keyed as
well by the rules run and the project's paths (:func:`project_digest`), and kept with the
other files their lint read (the project index's statements, rank inference's classes),
each with its content hash: a finding is reused only while each of those is unchanged. A
path's (size, mtime, ctime, inode) leads to its content hash without reading it. The mode
summaries of the helpers DRP030 follows are kept too, under each helper's content hash.

It is only an optimisation: a missing, corrupt or foreign cache is ignored, writes are
atomic, and the directory is safe to delete. Fixes are never cached, only findings.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Optional, Sequence

from .. import __version__
from ..analysis.mode_summaries import FunctionSummary
from ..analysis.project_reads import content_digest
from ..engine.diagnostics import Applicability, Diagnostic, Edit, Fix

if TYPE_CHECKING:
    from ..engine.rule import Rule

CACHE_DIRECTORY = ".dropout-lint-cache"
_FORMAT = 4  # 2: fixes carry their edits; 3: surveys, the names imports write; 4: the files read
# A file modified this recently may change again within the clock's resolution without
# its (size, mtime) changing: such a file is hashed again on the next run.
_RACY_NS = 2_000_000_000
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by dropout-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_DIAGNOSTIC_FIELDS = tuple(
    f.name for f in dataclasses.fields(Diagnostic) if f.name not in ("path", "node")
)

# What each stored field must be; a field not listed here is taken as stored.
_FIELD_TYPES: dict[str, Any] = {
    "line": int,
    "column": int,
    "end_line": int,
    "end_column": int,
    "code": str,
    "message": str,
    "name": str,
    "fix": (list, type(None)),
    "cell": (int, type(None)),
}

StatKey = tuple[int, int, int, int]


def stat_key(stat: os.stat_result) -> StatKey:
    return (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


@dataclasses.dataclass(frozen=True)
class FileSurvey:
    """What one read of a file tells a run, before any parsing (and what the cache keeps).

    ``may_fire`` holds the codes of the enabled rules whose gate let the file through;
    ``imports``, where DRP030 is one, the names its imports write (``import_names``).
    """

    digest: str
    may_fire: tuple[str, ...]
    has_nul: bool
    imports: tuple[str, ...] = ()


def _tool_fingerprint() -> str:
    """The version, and the package's own source: an edited checkout never reads old results."""
    digest = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parents[1]
    for path in package_sources():
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def package_sources() -> list[Path]:
    """Every source file of the ``dropout_lint`` package, in every folder."""
    return sorted(Path(__file__).resolve().parents[1].rglob("*.py"))


class LintCache:
    """One run's view of the cache: what was stored before, and what this run adds."""

    def __init__(self, directory: Path, namespace: str) -> None:
        self.directory = directory
        self._file = directory / f"{namespace}.json"
        self._started_ns = time.time_ns()
        self._paths: dict[str, Any] = {}
        self._surveys: dict[str, Any] = {}
        self._results: dict[str, Any] = {}
        self._reads: dict[str, Any] = {}  # files some findings' lint read: by a digest of them
        self._reads_current: dict[str, bool] = {}  # whether they are unchanged, once checked
        self._mode_summaries: dict[str, Any] = {}
        self._mode_summaries_used: set[str] = set()
        self._digests_seen: set[str] = set()
        self._changed = False
        self._load()

    @classmethod
    def open(cls, directory: Path, settings_fingerprint: Sequence[Any]) -> "LintCache":
        """The cache in ``directory`` for this tool build and these settings."""
        key = json.dumps([_FORMAT, _tool_fingerprint(), *settings_fingerprint], default=str)
        return cls(directory, hashlib.sha256(key.encode()).hexdigest()[:24])

    def _load(self) -> None:
        try:
            with open(self._file, "rb") as file:
                stored = json.load(file)
            if stored.get("format") == _FORMAT:
                self._paths = dict(stored["paths"])
                self._surveys = dict(stored["surveys"])
                self._results = dict(stored["results"])
                self._reads = dict(stored["reads"])
                self._mode_summaries = dict(stored.get("mode_summaries", {}))
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self._paths, self._surveys, self._results, self._reads = {}, {}, {}, {}
            self._mode_summaries = {}

    def digest_for(self, path: str, stat: StatKey) -> Optional[str]:
        """The content hash of ``path`` when its stat is the one stored with it."""
        entry = self._paths.get(path)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == list(stat):
            return entry[1] if isinstance(entry[1], str) else None
        return None

    def survey(self, digest: str) -> Optional[FileSurvey]:
        entry = self._surveys.get(digest)
        try:
            may_fire, has_nul, imports = entry  # type: ignore[misc]
            return FileSurvey(
                digest,
                tuple(map(str, may_fire)),
                bool(has_nul),
                tuple(map(str, imports)),
            )
        except (TypeError, ValueError):
            return None

    def mode_summaries(self, digest: str) -> Optional[tuple[FunctionSummary, ...]]:
        """The mode summaries of the file whose Python source has ``digest``, if stored."""
        entry = self._mode_summaries.get(digest)
        try:
            summaries = tuple(
                FunctionSummary(
                    str(name),
                    tuple(map(str, parameters)),
                    bool(stepping),
                    tuple(
                        (str(parameter), str(suffix), bool(to_train), int(line))
                        for parameter, suffix, to_train, line in effects
                    ),
                )
                for name, parameters, stepping, effects in entry  # type: ignore[union-attr]
            )
        except (TypeError, ValueError):
            return None
        self._mode_summaries_used.add(digest)
        return summaries

    def remember_mode_summaries(self, digest: str, summaries: Sequence[FunctionSummary]) -> None:
        self._mode_summaries[digest] = [dataclasses.astuple(summary) for summary in summaries]
        self._mode_summaries_used.add(digest)
        self._changed = True

    def remember_survey(self, path: str, stat: StatKey, survey: FileSurvey) -> None:
        if stat[1] < self._started_ns - _RACY_NS:
            self._paths[path] = [list(stat), survey.digest]
        else:
            self._paths.pop(path, None)
        self._surveys[survey.digest] = [survey.may_fire, survey.has_nul, survey.imports]
        self._digests_seen.add(survey.digest)
        self._changed = True

    def results(self, key: str, path: str, digest_of: Callable[[str], str]) -> Optional[list[Diagnostic]]:
        """The findings stored under ``key``, reported at ``path``, when every file their
        lint read still has the content it had (``digest_of`` gives it now, by the path
        it was read at); None if there are none."""
        entry = self._results.get(key)
        if not isinstance(entry, list) or len(entry) != 2:
            return None
        reads, findings = entry
        if not (isinstance(findings, list) and self._unchanged(reads, digest_of)):
            return None
        try:
            return [_diagnostic(path, item) for item in findings]
        except (TypeError, ValueError, KeyError):
            return None

    def _unchanged(self, reads: Any, digest_of: Callable[[str], str]) -> bool:
        """Whether the files stored under ``reads`` are as they were read, checked once."""
        if not isinstance(reads, str):
            return False
        known = self._reads_current.get(reads)
        if known is None:
            files = self._reads.get(reads)
            known = self._reads_current[reads] = isinstance(files, dict) and all(
                digest_of(path) == digest for path, digest in files.items()
            )
        return known

    def remember_results(self, key: str, diagnostics: Sequence[Diagnostic], reads: Mapping[str, str]) -> None:
        """Keep the findings under ``key``, with the files their lint read (each path with
        the digest of its content then): most findings share them."""
        files = dict(sorted(reads.items()))
        name = content_digest(json.dumps(files).encode("utf-8", "surrogatepass"))
        self._reads[name] = files
        self._results[key] = [name, [_stored(d) for d in diagnostics]]
        self._changed = True

    def save(self) -> None:
        """Write what this run added, atomically; entries no path leads to are dropped."""
        if not self._changed:
            return
        live = self._digests_seen | {
            entry[1] for entry in self._paths.values() if isinstance(entry, list) and len(entry) == 2
        }
        results = {k: r for k, r in self._results.items() if k.split("|", 1)[0] in live}
        reads_kept = {str(entry[0]) for entry in results.values() if isinstance(entry, list) and entry}
        stored = {
            "format": _FORMAT,
            "paths": self._paths,
            "surveys": {d: s for d, s in self._surveys.items() if d in live},
            "results": results,
            "reads": {name: files for name, files in self._reads.items() if name in reads_kept},
            "mode_summaries": {
                d: m for d, m in self._mode_summaries.items() if d in self._mode_summaries_used
            },
        }
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _mark_as_cache(self.directory)
            descriptor, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                    # One string, written once: `json.dump` to a file encodes in Python, five
                    # times slower than `dumps`, which uses the C encoder (the bench tree's
                    # 6.5 MB: 0.43 s against 0.08 s).
                    file.write(json.dumps(stored, separators=(",", ":")))
                os.replace(temporary, self._file)
            except BaseException:
                os.unlink(temporary)
                raise
        except (OSError, TypeError, ValueError):
            pass  # a cache that cannot be written only costs the next run time


def results_key(
    digest: str, rule_codes: Sequence[str], project: str, options: Sequence[Any] = ()
) -> str:
    """Findings depend on the content, the rules run, the project (``project``: its paths,
    and what else every file may read), and the file's other options (its max-file-size and
    fix style, which differ per config file). The other files a lint read are kept beside."""
    return f"{digest}|{','.join(rule_codes)}|{project}|{json.dumps(list(options))}"


def project_digest(paths: Iterable[str]) -> str:
    """The project's paths and the current directory: module keys come from absolute paths,
    so a file added, removed or moved may change what any name of the index resolves to."""
    digest = hashlib.sha256(os.getcwd().encode("utf-8", "surrogatepass"))
    for path in paths:
        digest.update(f"{path}\0".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def _stored(diagnostic: Diagnostic) -> dict[str, Any]:
    stored = {name: getattr(diagnostic, name) for name in _DIAGNOSTIC_FIELDS}
    if diagnostic.fix is not None:
        fix = diagnostic.fix
        edits = [[*edit.start, *edit.end, edit.content] for edit in fix.edits]
        stored["fix"] = [fix.description, fix.applicability.value, edits]
    return stored


def _diagnostic(path: str, stored: dict[str, Any]) -> Diagnostic:
    """The stored finding, checked field by field: a foreign entry raises ValueError."""
    values = {name: stored[name] for name in _DIAGNOSTIC_FIELDS}
    for name, value in values.items():
        expected = _FIELD_TYPES.get(name)
        if expected is not None and not isinstance(value, expected):
            raise ValueError(f"{name} is {type(value).__name__}")
    if values["fix"] is not None:
        description, applicability, edits = values["fix"]
        values["fix"] = Fix(
            str(description),
            Applicability(applicability),
            tuple(Edit((int(a), int(b)), (int(c), int(d)), str(text)) for a, b, c, d, text in edits),
        )
    return Diagnostic(path=path, **values)


def _mark_as_cache(directory: Path) -> None:
    """``CACHEDIR.TAG`` for backup tools, and a ``.gitignore`` that ignores everything."""
    for name, text in (("CACHEDIR.TAG", _CACHEDIR_TAG), (".gitignore", "# Created by dropout-lint.\n*\n")):
        marker = directory / name
        if not marker.exists():
            marker.write_text(text, encoding="utf-8")


def cache_for(root: Path, enabled_rules: Sequence[type["Rule"]]) -> LintCache:
    """The cache in the project ``root``, for the rules some file's settings enable.

    Which rules each file runs, and its other options, are part of each result's key.
    """
    return LintCache.open(Path(root) / CACHE_DIRECTORY, [[rule.code for rule in enabled_rules]])
