"""The files of the linted project that define module classes, read for rank inference.

The project index keys a module class by its file's module path (``src.pkg.layers.Flatten``
for ``/src/pkg/layers.py``), so an imported class leads back to the file defining it. A
class is followed only when exactly one indexed class matches the import and its file
defines it (a package re-export does not count). Each file is parsed once per content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Collection, Optional

import libcst as cst

from ..module_classes import ModuleClasses
from ..name_resolution import NameResolver
from ..project_reads import read_project_file
from ..project_index import name_to_ask, project_module_class_keys
from .interpreter import SourceFacts

# Parsed files kept per process, by path: the source and index they were parsed with, and
# the result (None: unparsable).
_PARSED: dict[str, tuple[bytes, Collection[str], Optional["ProjectFile"]]] = {}
_MAX_PARSED = 32


@dataclass(frozen=True)
class ProjectFile:
    """A parsed file of the project: its module classes and the facts inference reads."""

    path: str
    module: cst.Module
    classes: ModuleClasses
    facts: SourceFacts


def defining_file(
    qualified_name: str, importer: str, index: Collection[str], hops: int = 2
) -> Optional[tuple[ProjectFile, cst.ClassDef]]:
    """The file and class a name imported in the file ``importer`` refers to, if it is
    one module class of ``index`` that its file defines, or that a package re-exports
    from one (``from .mlp import Mlp`` in ``layers/__init__.py``), ``hops`` deep."""
    name = name_to_ask(qualified_name, importer)
    class_name = name.rsplit(".", 1)[-1]
    keys = project_module_class_keys(name, index)
    if len(keys) != 1:
        return None
    module_key = keys[0][: -len(class_name) - 1]
    for path in _paths_of(module_key):
        parsed = _parsed(path, index)
        if parsed is None:
            continue
        found = parsed.classes.classes_named(class_name)
        if len(found) == 1 and parsed.classes.is_module_class(found[0]):
            return parsed, found[0]
        origin = _imported_from(parsed.module, class_name)
        if not found and origin is not None and hops > 0:
            return defining_file(origin, path, index, hops - 1)
    return None


def _imported_from(module: cst.Module, name: str) -> Optional[str]:
    """``.mlp.Mlp`` when the module binds ``name`` by one ``from .mlp import Mlp``."""
    found = [
        _module_text(statement) + alias.name.value
        for line in module.body
        if isinstance(line, cst.SimpleStatementLine)
        for statement in line.body
        if isinstance(statement, cst.ImportFrom) and not isinstance(statement.names, cst.ImportStar)
        for alias in statement.names
        if isinstance(alias.name, cst.Name) and _bound_name(alias) == name
    ]
    return found[0] if len(found) == 1 else None


def _bound_name(alias: cst.ImportAlias) -> str:
    bound = alias.asname.name if alias.asname is not None else alias.name
    return bound.value if isinstance(bound, cst.Name) else ""


def _module_text(statement: cst.ImportFrom) -> str:
    """``.mlp.`` for ``from .mlp import``, ``.`` for ``from . import``."""
    dots = "." * len(statement.relative)
    if statement.module is None:
        return dots
    return f"{dots}{cst.Module([]).code_for_node(statement.module)}."


def _paths_of(module_key: str) -> list[str]:
    """The files a module key may come from (see ``project_index.module_key``): its dots
    join folders, or are part of a folder's name (``dropout_lint-0.1.0``)."""
    parts = module_key.split(".")
    found: list[str] = []

    def walk(folder: str, index: int) -> None:
        if index == len(parts):
            if os.path.isfile(os.path.join(folder, "__init__.py")):
                found.append(os.path.join(folder, "__init__.py"))
            return
        for end in range(index + 1, len(parts) + 1):
            candidate = os.path.join(folder, ".".join(parts[index:end]))
            if end == len(parts) and os.path.isfile(candidate + ".py"):
                found.append(candidate + ".py")
            if os.path.isdir(candidate):
                walk(candidate, end)

    walk(os.sep, 0)
    return found


def _parsed(path: str, index: Collection[str]) -> Optional[ProjectFile]:
    """The file parsed, once per content (a long-lived server sees files change)."""
    source = read_project_file(path)
    if source is None:
        return None
    known = _PARSED.get(path)
    if known is not None and known[0] == source and known[1] is index:
        return known[2]
    if len(_PARSED) >= _MAX_PARSED:
        _PARSED.pop(next(iter(_PARSED)))
    parsed = _parse(path, source, index)
    _PARSED[path] = (source, index, parsed)
    return parsed


def _parse(path: str, source: bytes, index: Collection[str]) -> Optional[ProjectFile]:
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, UnicodeDecodeError, RecursionError):
        return None
    classes = ModuleClasses(module, NameResolver(module), index, path)
    facts = SourceFacts(lambda node: classes.resolve_name(node, lambda name: name), lambda node: 0)
    return ProjectFile(path, module, classes, facts)
