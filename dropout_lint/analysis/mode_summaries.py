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
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import astuple, dataclass
from typing import Any, Optional

from .project_index import absolute_name, module_key

@dataclass(frozen=True)
class FunctionSummary:
    """One function's effects: ``effects`` holds ``(parameter, suffix, to_train, line)``,
    ``suffix`` being ``""`` or the attribute path (``.model`` of ``self.model``)."""

    name: str
    parameters: tuple[str, ...]
    stepping: bool
    effects: tuple[tuple[str, str, bool, int], ...]

    @classmethod
    def from_stored(cls, stored: Any) -> "FunctionSummary":
        """The summary from its stored form (``astuple``, through JSON)."""
        name, parameters, stepping, effects = stored
        return cls(
            str(name),
            tuple(map(str, parameters)),
            bool(stepping),
            tuple((str(p), str(s), bool(t), int(line)) for p, s, t, line in effects),
        )

    def stored(self) -> tuple[Any, ...]:
        return astuple(self)


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

    def find(self, qualified_name: str) -> Optional[ImportedSummary]:
        """The summary of the function an absolute dotted name (as imported) names: the one
        whose module key ends with the name's module. None when none or several do."""
        found = [
            key
            for key in self._by_last_name.get(qualified_name.rsplit(".", 1)[-1], ())
            if key == qualified_name or key.endswith("." + qualified_name)
        ]
        return self._by_name[found[0]] if len(found) == 1 else None

    def digest(self) -> str:
        """A short hash of every summary, for cache keys."""
        text = repr(sorted((name, astuple(found)) for name, found in self._by_name.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


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


class AnyImport:
    """Stands for summaries not known yet: every imported function may take a training step
    and leave every argument named in the call in eval mode, and none sets one to train.
    Findings read with it are a superset of those read with any project's summaries."""


ANY_IMPORT = AnyImport()
