"""Which files a run checks: the paths given, with directories walked as ruff walks them.

Files named on the command line are checked unless ``force-exclude`` is on and they are
excluded. Inside walked directories, default excludes, ``exclude``/``extend-exclude`` and
``.gitignore`` files decide, each directory by its own settings (its closest configuration
file's); every real directory is walked once, in sorted order, so two runs list the same
files in the same order.
"""

from __future__ import annotations

import enum
import errno
import itertools
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional, Sequence, Union

from .path_patterns import PathPattern, PathPatterns
from .settings import Settings, SettingsSource

STDIN_PATH = "-"
# A FIFO or device named like a source file: reading it could block or never end.
NOT_A_REGULAR_FILE = "not a regular file (a pipe, socket or device); skipped"


class SourceKind(enum.Enum):
    """What a file holds, so the CLI can decide what to do with each kind."""

    PYTHON = "python"
    STUB = "stub"
    NOTEBOOK = "notebook"
    STDIN = "stdin"


SUFFIX_KINDS = {".py": SourceKind.PYTHON, ".pyi": SourceKind.STUB, ".ipynb": SourceKind.NOTEBOOK}


@dataclass(frozen=True)
class SourcePath:
    """A file to check, as the user will see it in diagnostics (``src/a.py``, or ``-``)."""

    path: str
    kind: SourceKind
    explicit: bool


@dataclass(frozen=True)
class DiscoveryProblem:
    """A path that could not be checked, and why, in one line."""

    path: str
    message: str


DiscoveryResult = Union[SourcePath, DiscoveryProblem]


class GitignorePattern(PathPattern):
    """One line of a ``.gitignore``, with git's semantics (see ``gitignore(5)``): a glob read
    as the settings' are, which may re-include (``!``) or match only directories (``/``)."""

    def __init__(self, line: str) -> None:
        self.negated = line.startswith("!")
        body = line[1:] if self.negated else line
        self.directory_only = body.endswith("/")
        super().__init__(body)


class _PatternRun:
    """Consecutive patterns of a ``.gitignore`` that all ignore, or all re-include: which
    of them matches does not matter, so a path is matched against them all at once."""

    def __init__(self, patterns: Sequence[GitignorePattern]) -> None:
        self.negated = patterns[0].negated
        self._directories = PathPatterns(patterns)
        self._files = PathPatterns([p for p in patterns if not p.directory_only])

    def matches(self, relative_path: str, is_dir: bool) -> bool:
        return (self._directories if is_dir else self._files).match(relative_path)


class GitignoreFile:
    """The patterns of one ``.gitignore``, which apply to paths below its directory."""

    def __init__(self, directory: str, text: str) -> None:
        self.directory = directory.rstrip(os.sep)
        patterns = [GitignorePattern(line) for line in map(_pattern_text, text.splitlines()) if line]
        self._runs = [
            _PatternRun(list(run)) for _, run in itertools.groupby(patterns, key=lambda p: p.negated)
        ]

    @classmethod
    def load(cls, directory: str) -> Optional["GitignoreFile"]:
        """The ``.gitignore`` in ``directory``, if there is one that can be read."""
        try:
            with open(
                os.path.join(directory, ".gitignore"), encoding="utf-8", errors="replace"
            ) as file:
                return cls(directory, file.read())
        except OSError:
            return None

    def verdict(self, absolute_path: str, is_dir: bool) -> Optional[bool]:
        """True if ignored, False if re-included by ``!``, None if no pattern matches.

        The last matching pattern decides, as in git: it is in the last run that matches.
        """
        relative = absolute_path[len(self.directory) + 1 :].replace(os.sep, "/")
        for run in reversed(self._runs):
            if run.matches(relative, is_dir):
                return not run.negated
        return None


def _pattern_text(line: str) -> str:
    """The pattern on a ``.gitignore`` line: '' for blanks and comments, trailing spaces cut."""
    if line.startswith("#"):
        return ""
    stripped = line.rstrip(" \t")
    if stripped.endswith("\\") and len(stripped) < len(line):
        stripped += " "
    return stripped


def is_gitignored(absolute_path: str, is_dir: bool, gitignores: Sequence[GitignoreFile]) -> bool:
    """Whether the deepest ``.gitignore`` with an opinion on the path ignores it."""
    for gitignore in reversed(gitignores):
        verdict = gitignore.verdict(absolute_path, is_dir)
        if verdict is not None:
            return verdict
    return False


def iter_source_files(paths: Sequence[str], settings: SettingsSource) -> Iterator[DiscoveryResult]:
    """The files to check under ``paths``, and a problem for each path that cannot be read."""
    walker = _Walker(settings)
    for given in paths:
        if given == STDIN_PATH:
            yield SourcePath(STDIN_PATH, SourceKind.STDIN, explicit=True)
        else:
            yield from walker.visit(given)


class _Walker:
    """One run's walk: remembers the real directories and files it has already visited."""

    def __init__(self, settings: SettingsSource) -> None:
        self.settings = settings
        self.walked_directories: set[tuple[int, int]] = set()
        self.yielded_files: set[tuple[int, int]] = set()

    def visit(self, given: str) -> Iterator[DiscoveryResult]:
        try:
            status = os.stat(given)
        except OSError as error:
            yield DiscoveryProblem(given, _describe(error))
            return
        settings = self.settings.settings_for(given)
        if settings.force_exclude and settings.is_excluded(given):
            return
        if stat.S_ISDIR(status.st_mode):
            absolute = os.path.abspath(given)
            gitignores = self._parent_gitignores(absolute, settings)
            yield from self._walk(os.path.normpath(given), absolute, None, gitignores, frozenset())
        elif not stat.S_ISREG(status.st_mode):
            yield DiscoveryProblem(given, NOT_A_REGULAR_FILE)
        elif self._first_visit(status):
            yield SourcePath(given, SUFFIX_KINDS.get(Path(given).suffix, SourceKind.PYTHON), True)

    def _walk(
        self,
        directory: str,
        absolute: str,
        identity: Optional[tuple[int, int]],
        gitignores: tuple[GitignoreFile, ...],
        ancestors: frozenset[tuple[int, int]],
    ) -> Iterator[DiscoveryResult]:
        """The files under ``directory``. Its ``identity`` comes from the ``stat`` of its entry
        in the directory above; a directory given on the command line (None) is stated here,
        by its normalised path."""
        try:
            if identity is None:
                identity = _identity(os.stat(directory))
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda entry: entry.name)
        except OSError as error:
            yield DiscoveryProblem(directory, f"cannot list directory: {_describe(error)}")
            return
        if identity in ancestors:
            yield DiscoveryProblem(directory, "symlink loop: points back to a directory above it")
            return
        if identity in self.walked_directories:
            return
        self.walked_directories.add(identity)
        settings = self.settings.settings_for(absolute)
        if settings.respect_gitignore and any(_is_gitignore(entry.name) for entry in entries):
            gitignores += tuple(filter(None, [GitignoreFile.load(absolute)]))
        listing = _Listing(
            "" if directory == os.curdir else os.path.join(directory, ""),
            os.path.join(absolute, ""),
            settings.entry_prefix(absolute),
            settings,
            gitignores,
            ancestors | {identity},
        )
        for entry in entries:
            yield from self._visit_entry(entry, listing)

    def _visit_entry(self, entry: os.DirEntry[str], listing: "_Listing") -> Iterator[DiscoveryResult]:
        path = listing.path + entry.name
        try:
            status = entry.stat()
        except OSError as error:
            if error.errno == errno.ELOOP:
                yield DiscoveryProblem(path, "symlink loop")
            elif entry.name.endswith(tuple(SUFFIX_KINDS)):
                yield DiscoveryProblem(path, f"broken symlink: {_describe(error)}")
            return
        is_dir = entry.is_dir()
        if listing.excludes(entry.name, is_dir):
            return
        if is_dir:
            identity = _identity(status)
            absolute = listing.absolute + entry.name
            yield from self._walk(path, absolute, identity, listing.gitignores, listing.ancestors)
            return
        kind = SUFFIX_KINDS.get(os.path.splitext(entry.name)[1])
        if kind is not None and not stat.S_ISREG(status.st_mode):
            yield DiscoveryProblem(path, NOT_A_REGULAR_FILE)
        elif kind is not None and self._first_visit(status):
            yield SourcePath(path, kind, explicit=False)

    def _first_visit(self, status: os.stat_result) -> bool:
        """Whether this real file has not been yielded yet (two paths may name one file)."""
        identity = _identity(status)
        if identity in self.yielded_files:
            return False
        self.yielded_files.add(identity)
        return True

    def _parent_gitignores(self, absolute: str, settings: Settings) -> tuple[GitignoreFile, ...]:
        """The ``.gitignore`` files above a walked root, up to its git repository's root."""
        if not settings.respect_gitignore:
            return ()
        directories = (Path(absolute), *Path(absolute).parents)
        git_root = next((i for i, d in enumerate(directories) if (d / ".git").exists()), None)
        if git_root is None:
            return ()
        loaded = (GitignoreFile.load(str(d)) for d in reversed(directories[1 : git_root + 1]))
        return tuple(gitignore for gitignore in loaded if gitignore is not None)


@dataclass(frozen=True)
class _Listing:
    """What the entries of one walked directory share, worked out once for all of them:
    the start of each one's path (as the user sees it, absolute, and relative to the
    settings' root), the directory's settings and ``.gitignore`` files, and the real
    directories above them (a symlink loop leads back to one)."""

    path: str
    absolute: str
    relative: Optional[str]  # None where an entry may be the root itself (see entry_prefix)
    settings: Settings
    gitignores: tuple[GitignoreFile, ...]
    ancestors: frozenset[tuple[int, int]]

    def excludes(self, name: str, is_dir: bool) -> bool:
        """Whether the settings' patterns or a ``.gitignore`` exclude the entry ``name``."""
        absolute = self.absolute + name
        if self.relative is None:
            relative = self.settings.relative_path(absolute)
        else:
            relative = self.relative + name
        if self.settings.exclusion.match(relative):
            return True
        return self.settings.respect_gitignore and is_gitignored(absolute, is_dir, self.gitignores)


def _is_gitignore(name: str) -> bool:
    """Whether opening ``.gitignore`` in its directory may open the entry ``name``: the
    listing already says whether there is one to read (the case aside, which a
    case-insensitive file system ignores)."""
    return name.lower() == ".gitignore"


def _identity(status: os.stat_result) -> tuple[int, int]:
    return (status.st_dev, status.st_ino)


def _describe(error: OSError) -> str:
    """One lowercase line, without the path (the problem carries it)."""
    if error.errno == errno.ELOOP:
        return "symlink loop"
    return (error.strerror or str(error)).lower()
