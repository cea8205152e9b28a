"""Mode summaries of a project's functions, shared across files by import.

Each file's top-level functions are summarised on their own
(:func:`~.mode_flow.file_mode_summaries`): whether the function takes a training step, and
what it leaves the mode of each parameter (or attribute of one) as. Joined by module path
(:class:`ProjectModeSummaries`, keyed as :mod:`.project_index` keys module classes), they
let a training loop in ``train.py`` see that ``evaluate`` from ``utils.py`` (or
``from .engine import validate``) leaves the model in eval mode, or that
``train_one_epoch`` sets it back to train. A summary is computed from its own file only:
a helper of ``utils.py`` that calls one of ``engine.py`` is not followed further.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass
from functools import cached_property
from typing import Optional

from .project_index import (
    ClosingParens,
    absolute_name,
    matches_at_line_starts,
    module_key,
    name_in_package,
    package_key,
)

@dataclass(frozen=True)
class FunctionSummary:
    """One function's effects: ``effects`` holds ``(parameter, suffix, to_train, line)``,
    ``suffix`` being ``""`` or the attribute path (``.model`` of ``self.model``)."""

    name: str
    parameters: tuple[str, ...]
    stepping: bool
    effects: tuple[tuple[str, str, bool, int], ...]


@dataclass(frozen=True)
class ImportedSummary:
    """A summary with the file it comes from, as a call site sees it."""

    path: str
    summary: FunctionSummary


class ProjectModeSummaries:
    """Every file's summaries, by the qualified name of the function: ``<module key>.<name>``."""

    def __init__(self, files: Iterable[tuple[str, Iterable[FunctionSummary]]] = ()) -> None:
        self._by_name: dict[str, ImportedSummary] = {}
        for path, summaries in files:
            key = module_key(path)
            for summary in summaries:
                self._by_name[f"{key}.{summary.name}"] = ImportedSummary(path, summary)
        self._by_last_name: dict[str, list[str]] = {}
        for qualified in self._by_name:
            self._by_last_name.setdefault(qualified.rsplit(".", 1)[-1], []).append(qualified)

    def __bool__(self) -> bool:
        return bool(self._by_name)

    def __eq__(self, other: object) -> bool:
        """Equal summaries are equal options: the server builds them anew for each check,
        and its re-lint after an edit reuses the last findings only under equal options."""
        return isinstance(other, ProjectModeSummaries) and self._by_name == other._by_name

    def __hash__(self) -> int:
        return hash(frozenset(self._by_name.items()))

    def find(self, qualified_name: str) -> Optional[ImportedSummary]:
        """The summary of the function an absolute dotted name (as imported) names: the one
        whose module key ends with the name's module. None when none or several do."""
        found = [
            key
            for key in self._by_last_name.get(qualified_name.rsplit(".", 1)[-1], ())
            if key == qualified_name or key.endswith("." + qualified_name)
        ]
        return self._by_name[found[0]] if len(found) == 1 else None

    @cached_property
    def evaluating_names(self) -> frozenset[str]:
        """The own names of the summarised functions that leave something in eval mode: a
        file that writes none of them (and no mode change of its own) loses no mode."""
        return frozenset(
            found.summary.name
            for found in self._by_name.values()
            if any(not to_train for _, _, to_train, _ in found.summary.effects)
        )

    @cached_property
    def stepping_names(self) -> frozenset[str]:
        """The own names of the summarised functions that take a training step: a file that
        writes none of them (and no step of its own) takes no step."""
        return frozenset(found.summary.name for found in self._by_name.values() if found.summary.stepping)

    def function_names(self) -> frozenset[str]:
        """The summarised functions' own names: :meth:`find` finds only a name ending in one."""
        return frozenset(self._by_last_name)

    def digest(self) -> str:
        """A short hash of every summary, for cache keys."""
        import hashlib  # for the command's cache: the flake8 plugin has no use for it

        text = repr(sorted((name, astuple(found)) for name, found in self._by_name.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


# A line that may start a top-level function: `def` or `async` at its very start (after
# form feeds), at the start of the file (maybe after a byte order mark) or after a line
# break. Searched from the line break, a literal: `(?:^|\r)...` in MULTILINE mode has none,
# and `re` tried it at every byte (seventeen times the time, on files with no such line).
_DEF_OR_ASYNC = rb"\f*(?:def|async)(?![A-Za-z0-9_\x80-\xff])"
_TOP_LEVEL_DEF_FIRST = re.compile(rb"(?:\xef\xbb\xbf)?" + _DEF_OR_ASYNC)
_TOP_LEVEL_DEF_AFTER = (re.compile(rb"\n" + _DEF_OR_ASYNC), re.compile(rb"\r" + _DEF_OR_ASYNC))


def defines_top_level_function(source: bytes) -> bool:
    """Whether the source may define a top-level function, the only kind summarised: False
    only when no line starts with ``def`` or ``async``."""
    return _TOP_LEVEL_DEF_FIRST.match(source) is not None or any(
        line.search(source) is not None for line in _TOP_LEVEL_DEF_AFTER
    )


# The same, and `class`: what ends a top-level function's text, outside strings.
_DEFINITION = rb"\f*(?:(def|async)|class)(?![A-Za-z0-9_\x80-\xff])"
_TOP_LEVEL_DEFINITION_FIRST = re.compile(rb"(?:\xef\xbb\xbf)?" + _DEFINITION)
_TOP_LEVEL_DEFINITION_AFTER = re.compile(rb"[\r\n]" + _DEFINITION)


def top_level_function_spans(code: bytes) -> list[range]:
    """Byte ranges of ``code`` that together hold every top-level function's text, from its
    ``def`` on: each from a line that starts with ``def`` or ``async`` to the next that starts
    with one of those or ``class`` (with any other statements between). ``code`` is a file's
    bytes with comments and strings blanked at the same positions, so that no line of a
    string counts (``ByteScan.code``)."""
    first = _TOP_LEVEL_DEFINITION_FIRST.match(code)
    starts = [] if first is None else [(0, first.group(1) is not None)]
    starts += [
        (match.start() + 1, match.group(1) is not None)
        for match in _TOP_LEVEL_DEFINITION_AFTER.finditer(code)
    ]
    ends = [start for start, _ in starts[1:]] + [len(code)]
    return [range(start, end) for (start, is_function), end in zip(starts, ends) if is_function]


# `from m import a, b` (or `(a,\n b)` over lines, to the first `)`) and `import a.b as c, d`,
# each kept only at a line's start: searched from their keyword, which is fast, where
# `^[ \t]*from` in MULTILINE mode is tried at every line. A list in brackets is read up to
# the first bracket, and on from a `(` met (group `open`) by `ClosingParens`, as the
# project index reads class bases.
_FROM_IMPORT = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]*(\((?:[^()]*\)|(?P<open>))|[^\n#;]*)")
_REST_OF_LINE = re.compile(rb"[^\n#;]*")
_IMPORT = re.compile(rb"import[ \t]+([^\n#;]*)")
# A name of an import's list, without its `as` alias.
_NAME = re.compile(r"([\w.]+)(?:\s+as\s+\w+)?")


def import_names(source: bytes) -> tuple[str, ...]:
    """The dotted names the file's imports may name a module of the project by, read from
    its bytes, as it writes them: ``from .engine import validate`` gives ``.engine`` and
    ``.engine.validate``. They do not depend on the file's path: the cache keeps them."""
    found: list[str] = []
    closing: Optional[ClosingParens] = None  # made where a `(` is met: seldom
    position: Optional[int] = 0
    while position is not None:
        for match in matches_at_line_starts(_FROM_IMPORT, source, position):
            names = match[2]
            reading_on = match["open"] is not None
            if reading_on:  # to the first `)`, or else to the line's end
                opening = match.start(2)
                closing = closing or ClosingParens(source)
                close = closing.after(opening)
                names = source[opening : close + 1] if close != -1 else _REST_OF_LINE.match(source, opening)[0]
            origin = match[1].decode("latin-1")
            if origin.strip("."):
                found.append(origin)
            joint = "" if origin.endswith(".") else "."
            found.extend(f"{origin}{joint}{name}" for name in _NAME.findall(names.decode("latin-1")))
            if reading_on:  # past the match: search again from there
                position = opening + len(names)
                break
        else:
            position = None
    for match in matches_at_line_starts(_IMPORT, source):
        # `import .x` is no Python: such a name (in a docstring, say) names no module
        found.extend(name for name in _NAME.findall(match.group(1).decode("latin-1")) if name[0] != ".")
    return tuple(dict.fromkeys(found))


def absolute_names(names: Iterable[str], path: str) -> set[str]:
    """``names`` (:func:`import_names`) as imported in the file at ``path``, made absolute:
    ``<package>.engine``. A superset of what :func:`imported_names` resolves."""
    package = package_key(path)
    found = {name_in_package(name, package) if name[0] == "." else name for name in names}
    found.discard("")
    return found


def modules_named(paths: Iterable[str], names: Iterable[str]) -> list[str]:
    """The paths whose module key ends with one of the dotted ``names``."""
    wanted: dict[str, set[str]] = {}
    for name in names:
        wanted.setdefault(name.rsplit(".", 1)[-1], set()).add(name)
    found = []
    for path in paths:
        last = _last_key_part(path)
        if last is not None and last not in wanted:
            continue  # the key's last part, read from the name alone, is none of them
        key = module_key(path)
        candidates = wanted.get(key.rsplit(".", 1)[-1], ())
        if any(key == name or key.endswith("." + name) for name in candidates):
            found.append(path)
    return found


def _last_key_part(path: str) -> Optional[str]:
    """The last part of the file's module key, when its own name gives it (not a
    package's ``__init__``, whose key ends with its directory's name)."""
    name = os.path.basename(path)
    stem, extension = os.path.splitext(name)
    if extension not in (".py", ".pyi", ".ipynb"):
        stem = name
    if stem in ("", ".", "..", "__init__"):
        return None
    return stem.rsplit(".", 1)[-1]


def imported_names(tree: ast.Module, path: str) -> Mapping[str, str]:
    """The absolute dotted name each module-level import of the file binds to a local name:
    ``from .engine import validate as v`` binds ``v`` to ``<package>.engine.validate``."""
    bound: dict[str, str] = {}
    pending: list[ast.AST] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".", 1)[0]
                bound[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            origin = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    continue
                joint = "" if origin.endswith(".") or not origin else "."
                bound[alias.asname or alias.name] = absolute_name(
                    f"{origin}{joint}{alias.name}", path
                )
        elif isinstance(node, ast.stmt):
            pending.extend(ast.iter_child_nodes(node))
    return bound

