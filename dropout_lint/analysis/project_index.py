"""Module classes across the linted project, keyed by module path, from a cheap scan of bytes.

``class Block(BaseBlock):`` makes ``Block`` a module when ``BaseBlock``, followed through
the file's own imports to the file that defines it, is one. Each file is scanned by
regular expression (no parsing) for its class statements and imports
(:func:`class_statements`); joining the scans (:func:`module_classes_of`) gives the
qualified name, by module path, of every module class and of every import that
re-exports one. A class of the same name in another module is another class.

The scan of one file is separate from the join so the runner can scan each file in
the pass that reads it, and the cache can keep each file's statements.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Collection, Iterable, Sequence

from .torch_api import is_module_base

# `class Name(bases):`, searched from its keyword (fast) and kept only at the start of a
# line, as `^[ \t]*class ...` in MULTILINE mode would find it (slow: tried at every line).
_CLASS = re.compile(rb"class[ \t]+(\w+)[ \t]*\(([^)]*)\)[ \t]*:")
# The names after `import`: `(a as b,\n c)` over lines, or the rest of the line. (No
# `\b` before it: that would cost the search its fast literal prefix; _imports checks.)
_IMPORTED = re.compile(rb"import(?:[ \t]*\(([^)]*)\)|[ \t]+([^\n#;]*))")
_FROM = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+")
_NAME_AS_ALIAS = re.compile(r"([\w.]+|\*)(?:\s+as\s+(\w+))?")

# One statement that binds a name in a file: (kind, name, values), where kind is
# "class" (values: its bases as written), "import" (values: the one dotted name it binds,
# relative to the file's package when it starts with a dot) or "*" (values: the module
# a star import reads, under the name "*").
ClassStatement = tuple[str, str, tuple[str, ...]]


def class_statements(source: bytes) -> tuple[ClassStatement, ...]:
    """Every class statement at the start of a line, and the imports that may bind a class.

    Kept imports are those of a capitalised name (a class, by convention, perhaps
    re-exported for other files) and those of a name a base here starts with (``nn`` of
    ``nn.Module``). Text is decoded as Latin-1, which maps bytes to characters one to
    one, so names compare as they did as bytes and the result can be stored as JSON.
    """
    classes = list(_classes(source))
    base_roots = {base.split(".", 1)[0] for _, _, bases in classes for base in bases}
    imports = [
        statement
        for statement in _imports(source)
        if statement[1] in base_roots or statement[1][:1].isupper() or statement[0] == "*"
    ]
    return (*classes, *imports)


def _at_line_start(source: bytes, position: int) -> bool:
    line_start = source.rfind(b"\n", 0, position) + 1
    return not source[line_start:position].strip(b" \t")


def _classes(source: bytes) -> Iterable[ClassStatement]:
    position = 0
    while True:
        match = _CLASS.search(source, position)
        if match is None:
            return
        if _at_line_start(source, match.start()):
            name, bases = match.group(1).decode("latin-1"), match.group(2).decode("latin-1")
            yield "class", name, _bases(bases)
            position = match.end()
        else:
            position = match.start() + 1


def _bases(text: str) -> tuple[str, ...]:
    bases = []
    for part in text.split(","):
        base = part.strip().split("[", 1)[0].strip()
        if base and "=" not in base and not base.startswith("*"):
            bases.append(base)
    return tuple(bases)


def _imports(source: bytes) -> Iterable[ClassStatement]:
    """``import a.b as c`` and ``from m import a as b, *``, by the names they bind."""
    match = _IMPORTED.search(source)
    while match is not None:
        before = source[match.start() - 1 : match.start()]
        if before.isalnum() or before == b"_":
            # `dynamic_import import x`: the end of a name, not the keyword; look again
            # right after it, as the match ran on to the end of the line.
            match = _IMPORTED.search(source, match.start() + len(b"import"))
            continue
        end = match.end()
        line_start = source.rfind(b"\n", 0, match.start()) + 1
        head = source[line_start : match.start()].strip(b" \t")
        names = (match.group(1) or match.group(2) or b"").decode("latin-1")
        match = _IMPORTED.search(source, end)
        if not head:
            for name, alias in _NAME_AS_ALIAS.findall(names):
                if alias:  # `import a.b` binds `a` to `a` itself: nothing to resolve
                    yield "import", alias, (name,)
            continue
        origin = _FROM.fullmatch(head + b" ")
        if origin is None:
            continue
        module = origin.group(1).decode("latin-1")
        for name, alias in _NAME_AS_ALIAS.findall(names):
            if name == "*":
                yield "*", "*", (module,)
            elif "." not in name:
                target = module + name if module.endswith(".") else f"{module}.{name}"
                yield "import", alias or name, (target,)


def module_key(path: str) -> str:
    """The dotted name of a file's module, from its whole path: ``/src/pkg/layers.py`` is
    ``src.pkg.layers`` (and ``pkg/__init__.py`` is ``pkg``). Imports match its end."""
    directory, name = os.path.split(os.path.abspath(path))
    stem, extension = os.path.splitext(name)
    if extension not in (".py", ".pyi", ".ipynb"):
        stem = name
    if stem == "__init__":
        return _directory_key(directory)
    package = _directory_key(directory)
    return f"{package}.{stem}" if package else stem


def absolute_name(name: str, path: str) -> str:
    """``name`` as imported in the file at ``path``, with a relative import made absolute."""
    return name_in_package(name, package_key(path)) if name.startswith(".") else name


def package_key(path: str) -> str:
    """The key of the package the file at ``path`` is in (relative imports start there)."""
    return _directory_key(os.path.dirname(os.path.abspath(path)))


@lru_cache(maxsize=4096)
def _directory_key(directory: str) -> str:
    """The dotted name of an absolute directory (a package's key); asked for every file of
    the project, and the same few hundred directories hold them."""
    return ".".join(part for part in directory.split(os.sep) if part)


def name_in_package(name: str, package: str) -> str:
    """The relative ``name`` (``..layers.Block``) read in the package ``package``."""
    rest = name.lstrip(".")
    levels = len(name) - len(rest) - 1
    base = package.rsplit(".", levels)[0] if levels else package
    return f"{base}.{rest}" if rest else base


class _Project:
    """The join: every file's bindings, and which of them name module classes."""

    def __init__(self, files: Iterable[tuple[str, Sequence[ClassStatement]]]) -> None:
        self.scopes: dict[str, dict[str, list[tuple[str, tuple[str, ...]]]]] = {}
        self.packages: set[str] = set()  # the keys of the packages' ``__init__`` files
        self._modules_named: dict[str, list[str]] = {}  # a module key's last part: the keys
        for path, statements in files:
            key = module_key(path)
            if _is_package_init(path):
                self.packages.add(key)
                package = key
            else:
                package = key.rpartition(".")[0]
            if key not in self.scopes:
                self._modules_named.setdefault(key.rsplit(".", 1)[-1], []).append(key)
            scope = self.scopes.setdefault(key, {})
            for kind, name, values in statements:
                if kind != "class" and values[0].startswith("."):
                    # an import's one name, as written in `path`
                    values = (name_in_package(values[0], package),)
                scope.setdefault(name, []).append((kind, values))
        self._binds: dict[tuple[str, str], bool] = {}
        self._names: dict[str, bool] = {}

    def binds_module(self, key: str, name: str) -> bool:
        """Whether ``name`` in the module ``key`` is (or imports) a module class."""
        known = self._binds.get((key, name))
        if known is None:
            self._binds[key, name] = False  # breaks cycles (class A(B), class B(A))
            known = self._binds[key, name] = self._resolves_to_module(key, name)
        return known

    def _resolves_to_module(self, key: str, name: str) -> bool:
        bindings = self.scopes[key].get(name)
        if bindings is None:  # perhaps from a star import
            return any(
                self.names_module(f"{star}.{name}")
                for _, (star,) in self.scopes[key].get("*", ())
            )
        for kind, values in bindings:
            if kind == "class" and any(self._base_is_module(key, base) for base in values):
                return True
            if kind == "import" and self.names_module(values[0]):
                return True
        return False

    def _base_is_module(self, key: str, base: str) -> bool:
        first, _, rest = base.partition(".")
        if not rest:
            return self.binds_module(key, first)
        imports = [v[0] for kind, v in self.scopes[key].get(first, ()) if kind == "import"]
        return any(self.names_module(f"{target}.{rest}") for target in imports or [first])

    def names_module(self, qualified_name: str) -> bool:
        """Whether an absolute dotted name is a module class of torch or of the project."""
        known = self._names.get(qualified_name)
        if known is None:
            self._names[qualified_name] = False
            module, _, name = qualified_name.rpartition(".")
            known = self._names[qualified_name] = is_module_base(qualified_name) or (
                bool(module)
                and any(self.binds_module(key, name) for key in self._keys_ending(module))
            )
        return known

    def _keys_ending(self, module: str) -> list[str]:
        return [
            key
            for key in self._modules_named.get(module.rsplit(".", 1)[-1], ())
            if key == module or key.endswith("." + module)
        ]


def module_classes_of(files: Iterable[tuple[str, Sequence[ClassStatement]]]) -> frozenset[str]:
    """The qualified names (``<module key>.<name>``) of the module classes that ``files``,
    each a path with its statements, define, and of those a package's ``__init__``
    imports (re-exports). Other imports are only followed from the bases that use them."""
    project = _Project(files)
    return frozenset(
        f"{key}.{name}"
        for key, scope in project.scopes.items()
        for name, bindings in scope.items()
        if name != "*"
        and (key in project.packages or any(kind == "class" for kind, _ in bindings))
        and project.binds_module(key, name)
    )


def _is_package_init(path: str) -> bool:
    return os.path.splitext(os.path.basename(path))[0] == "__init__"


def module_class_names(files: Iterable[tuple[str, bytes]]) -> frozenset[str]:
    """The module classes of ``files``, each a path with its source: the scan and the join."""
    return module_classes_of((path, class_statements(source)) for path, source in files)


def is_project_module_class(qualified_name: str, index: Collection[str]) -> bool:
    """Whether an absolute dotted name, as imported, names a module class of ``index``:
    a module key that ends with the name's module, and the class in that module."""
    return bool(project_module_class_keys(qualified_name, index))


def project_module_class_keys(qualified_name: str, index: Collection[str]) -> list[str]:
    """The keys of ``index`` an absolute dotted name, as imported, may name."""
    return [
        key
        for key in _by_last_name(index).get(qualified_name.rsplit(".", 1)[-1], ())
        if key == qualified_name or key.endswith("." + qualified_name)
    ]


@lru_cache(maxsize=4)
def _by_last_name(index: Collection[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key in index:
        grouped.setdefault(key.rsplit(".", 1)[-1], []).append(key)
    return grouped
