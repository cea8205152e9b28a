"""Module classes across the linted project, keyed by module path, from a cheap scan of bytes.

``class Block(BaseBlock):`` makes ``Block`` a module when ``BaseBlock``, followed through
the file's own imports to the file that defines it, is one. Each file is scanned by
regular expression (no parsing) for its class statements and imports
(:func:`class_statements`); joining the scans (:class:`ProjectIndex`) gives the
qualified name, by module path, of every module class and of every import that
re-exports one, resolved when asked for. A class of the same name in another module is another class.

The scan of one file is separate from the join so the index can scan a file only when a
question needs its statements: the few files that reach libcst ask about a few modules.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from typing import Any, Callable, Collection, Iterable, Iterator, Optional, Sequence

from .torch_api import is_module_base

# `class Name(bases):`, searched from its keyword (fast) and kept only at the start of a
# line, as `^[ \t]*class ...` in MULTILINE mode would find it (slow: tried at every line).
# The bases run to the first `)`. They are read up to the first bracket, so that no
# keyword reads on past the next one's `(` (`class A(` repeated with no `)` read the rest
# of the file from each): where a `(` is met (a call among the bases, or a comment), the
# bases (group 2) are unset, and :class:`ClosingParens` reads on, once for all the
# keywords before it.
_AFTER_BASES = rb"\)[ \t]*:"
_CLASS = re.compile(rb"class[ \t]+(\w+)[ \t]*\((?:([^()]*)" + _AFTER_BASES + rb"|[^()]*\()")
_CLASS_END = re.compile(_AFTER_BASES)
# `import` as a word, then the names after it: `(a as b,\n c)` over lines (to the first
# `)`, read as the bases above: group 1, unset with group 2 where a `(` is met), or the
# rest of the line (group 2).
# The look-behind that makes it a word comes after the keyword, not as a `\b` before it,
# which would cost the search its fast literal prefix.
_IMPORT_WORD = rb"import(?<![A-Za-z0-9_]import)"
_LINE_NAMES = rb"[ \t]+([^\n#;]*)"
_IMPORTED = re.compile(_IMPORT_WORD + rb"(?:[ \t]*\((?:([^()]*)\)|[^()]*\()|" + _LINE_NAMES + rb")")
_IMPORTED_ON_ITS_LINE = re.compile(_IMPORT_WORD + _LINE_NAMES)
# What may precede `import` on its line in a statement: blanks, and `from module` (group 1)
# in a from-import.
_IMPORT_HEAD = re.compile(rb"[ \t]*(?:from[ \t]+([\w.]+)[ \t]*)?")
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
    return (*classes, *_imports(source, base_roots))


def matches_at_line_starts(pattern: re.Pattern[bytes], source: bytes, position: int = 0) -> Iterator[re.Match[bytes]]:
    """The matches of ``pattern`` from ``position`` on that only blanks precede on their line,
    as ``^[ \t]*pattern`` would find them in MULTILINE mode: searched from the pattern
    itself, which is faster than trying ``^`` at every line.

    A match that does not start its line is only a candidate: the search goes on within
    it if it reads on past its line, and the other matches on that line are passed over
    at once (each looking back to the line's start made a long line of them quadratic).
    """
    line_end = -1  # the end of the last line found not to start with the pattern
    while True:
        for match in pattern.finditer(source, position):
            start = match.start()
            if start > line_end:
                if not start or source[start - 1] == 10:  # `\n`, as before most statements
                    yield match
                    continue
                line_start = source.rfind(b"\n", 0, start) + 1
                if not source[line_start:start].strip(b" \t"):
                    yield match
                    continue
                line_end = source.find(b"\n", start)
                if line_end == -1:
                    return
            if match.end() > line_end:  # it read on past its line: search again from there
                position = line_end + 1
                break
        else:
            return


class ClosingParens:
    """The first ``)`` at or after a position of ``source``, found once for all the
    positions before it: each reading to it again took time quadratic in a file of
    unclosed ``(``."""

    __slots__ = ("_source", "_start", "_found")

    def __init__(self, source: bytes) -> None:
        self._source = source
        # The last position looked from (past the end: none yet), and what was found there.
        self._start, self._found = len(source) + 1, -1

    def after(self, position: int) -> int:
        """The index of the first ``)`` at or after ``position``, or -1."""
        if position < self._start or (self._found != -1 and position > self._found):
            self._start, self._found = position, self._source.find(b")", position)
        return self._found


def _classes(source: bytes) -> Iterator[ClassStatement]:
    closing: Optional[ClosingParens] = None  # made where a `(` is met: seldom
    checked_close = bases_end = -1  # the last `)` after which `:` was looked for, and its end
    position: Optional[int] = 0
    while position is not None:
        for match in matches_at_line_starts(_CLASS, source, position):
            if match[2] is not None:
                yield "class", match[1].decode("latin-1"), _bases(match[2])
                continue
            # A `(` among the bases, which run to the first `)`: a statement if `:` follows.
            closing = closing or ClosingParens(source)
            close = closing.after(match.end())
            if close != checked_close:
                after_bases = None if close == -1 else _CLASS_END.match(source, close)
                checked_close, bases_end = close, -1 if after_bases is None else after_bases.end()
            if bases_end == -1:
                position = match.start() + 1
            else:
                opening = source.find(b"(", match.start())
                yield "class", match[1].decode("latin-1"), _bases(source[opening + 1 : close])
                position = bases_end
            break
        else:
            position = None


@lru_cache(maxsize=4096)
def _bases(written: bytes) -> tuple[str, ...]:
    """The bases of a class statement, from the text between its parentheses: read once
    per text, as most classes of a project share their bases (``nn.Module``)."""
    bases = []
    for part in written.decode("latin-1").split(","):
        base = part.strip().split("[", 1)[0].strip()
        if base and "=" not in base and not base.startswith("*"):
            bases.append(base)
    return tuple(bases)


def _imports(source: bytes, base_roots: Collection[str]) -> list[ClassStatement]:
    """``import a.b as c`` and ``from m import a as b, *``, by the names they bind: those
    that may bind a class (see :func:`class_statements`).

    The ``import`` keywords are read in order, each with its names, as a search for
    ``import (names)`` with the names up to the first ``)`` reads them. Only the first
    read on a line may start a statement (what precedes it there is its head): so a line
    break comes between the one before and it, and each byte is looked back at once."""
    found: list[ClassStatement] = []
    closing: Optional[ClosingParens] = None  # made where a `(` is met: seldom
    position = previous_start = 0
    while True:
        for match in _IMPORTED.finditer(source, position):
            start = match.start()
            names = match[1]
            if names is None:
                names = match[2]
            reading_on = names is None  # a `(` among the names, which run to the first `)`
            if reading_on:
                closing = closing or ClosingParens(source)
                close = closing.after(match.end())
                if close != -1:
                    names, position = source[source.find(b"(", start) + 1 : close], close + 1
                else:  # or, with none, to the line's end, if a blank follows `import`
                    on_its_line = _IMPORTED_ON_ITS_LINE.match(source, start)
                    if on_its_line is None:
                        position = start + 1
                        break
                    names, position = on_its_line[1], on_its_line.end()
            line_start = source.rfind(b"\n", previous_start, start) + 1
            if line_start or not previous_start:  # else on the line of the one before
                head = _IMPORT_HEAD.fullmatch(source, line_start, start)
                if head is not None:  # else not a statement of its own: `x; import y`, prose
                    for statement, root in _import_bindings(head[1], names):
                        if root is None or root in base_roots:
                            found.append(statement)
            previous_start = start
            if reading_on:  # past the match: search again from there
                break
        else:
            return found


@lru_cache(maxsize=4096)
def _import_bindings(module: Optional[bytes], names: bytes) -> tuple[tuple[ClassStatement, Optional[str]], ...]:
    """The statements one import (``from module import names``, or ``import names`` where
    ``module`` is None) may give, each with the name it binds where that name is not
    capitalised (kept only in a file with a base that starts with it), else None (kept).

    Read once per distinct import: most files repeat their neighbours' imports, and
    what an import gives depends on the file only through its bases' roots.
    """
    if module is None:
        if b"as" not in names:  # `import a.b` binds `a` to `a` itself: nothing to resolve
            return ()
        return tuple(
            (("import", alias, (name,)), _root_condition(alias))
            for name, alias in _NAME_AS_ALIAS.findall(names.decode("latin-1"))
            if alias
        )
    origin = module.decode("latin-1")
    package = origin if origin.endswith(".") else origin + "."
    bindings: list[tuple[ClassStatement, Optional[str]]] = []
    for name, alias in _NAME_AS_ALIAS.findall(names.decode("latin-1")):
        if name == "*":
            bindings.append((("*", "*", (origin,)), None))
        elif "." not in name:
            bound = alias or name
            bindings.append((("import", bound, (package + name,)), _root_condition(bound)))
    return tuple(bindings)


def _root_condition(bound: str) -> Optional[str]:
    """None for an imported name that is capitalised (a class by convention, which other
    files may import from here), kept whatever the file's bases; else the name itself,
    kept only where a base of the file starts with it (``nn`` of ``nn.Module``)."""
    return None if bound[:1].isupper() else bound


def module_key(path: str) -> str:
    """The dotted name of a file's module, from its whole path: ``/src/pkg/layers.py`` is
    ``src.pkg.layers`` (and ``pkg/__init__.py`` is ``pkg``). Imports match its end."""
    directory, name = os.path.split(os.path.abspath(path))
    return _module_key(_directory_key(directory), *os.path.splitext(name), name)


def _module_key(package: str, stem: str, extension: str, name: str) -> str:
    """The key of the module of the file ``name`` (``stem`` + ``extension``) in the
    directory keyed ``package``."""
    if extension not in (".py", ".pyi", ".ipynb"):
        stem = name
    if stem == "__init__":
        return package
    return f"{package}.{stem}" if package else stem


def absolute_name(name: str, path: str) -> str:
    """``name`` as imported in the file at ``path``, with a relative import made absolute."""
    return name_in_package(name, package_key(path)) if name.startswith(".") else name


def name_to_ask(qualified_name: str, path: str) -> str:
    """A qualified name read in the file at ``path``, as the index is asked it: a relative
    import made absolute, and a bare name, which the file binds itself (by a ``def``, an
    assignment, ``import module``; its classes are looked up before), in the file's own
    module. A class of that name in another module is another class, and a bare name
    would be asked of every module, whose statements would all be read."""
    if "." not in qualified_name:
        return f"{module_key(path)}.{qualified_name}"
    return absolute_name(qualified_name, path)


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


class ProjectIndex(Collection[str]):
    """The project's module classes: the qualified names (``<module key>.<name>``) of the
    classes the files of ``paths`` define that are modules, and of those a package's
    ``__init__`` imports (re-exports).

    Resolved on demand: a name asked about (:meth:`module_class_keys`) reads the statements
    of the modules its bases lead to, and no others; iterating resolves every one. A file's
    statements come from ``statements_of(path)``, asked once, the first time a question
    needs them (:meth:`of_statements` builds an index from statements already read). Each
    answer is whether some chain of bases and imports reaches torch, whatever was asked
    before (a chain that meets a class being resolved is not a module through it).
    """

    def __init__(self, paths: Iterable[str], statements_of: Callable[[str], Sequence[ClassStatement]]) -> None:
        self._statements_of = statements_of
        self._statements: dict[str, Sequence[ClassStatement]] = {}  # those read, by path
        # A module key's files (most have one): each one's package and path.
        self._files: dict[str, list[tuple[str, str]]] = {}
        self._packages: set[str] = set()  # the keys of the packages' ``__init__`` files
        self._modules_named: dict[str, list[str]] = {}  # a module key's last part: the keys
        directory_keys: dict[str, str] = {}  # each directory as the paths write it: its key
        for path in paths:
            directory, name = os.path.split(path)
            stem, extension = os.path.splitext(name)
            if name in ("", ".", ".."):  # no file's name: the key is read from the absolute path
                key = module_key(path)
            else:  # each directory's key read once, as `module_key` reads it
                directory_key = directory_keys.get(directory)
                if directory_key is None:
                    directory_key = directory_keys[directory] = _directory_key(os.path.abspath(directory))
                key = _module_key(directory_key, stem, extension, name)
            if stem == "__init__":
                self._packages.add(key)
                package = key
            else:
                package = key.rpartition(".")[0]
            if key not in self._files:
                self._modules_named.setdefault(key.rsplit(".", 1)[-1], []).append(key)
                self._files[key] = []
            self._files[key].append((package, path))
        self._scopes: dict[str, dict[str, list[tuple[str, tuple[str, ...]]]]] = {}
        self._keys_binding: dict[str, list[str]] = {}
        # Final answers; the questions being resolved, by depth; the open ones (see
        # _resolved), with the depth of the question below them that they met.
        self._binds: dict[tuple[str, str], bool] = {}
        self._names: dict[str, bool] = {}
        self._active: dict[Any, int] = {}
        self._open: dict[Any, int] = {}
        self._opened: list[tuple[dict[Any, bool], Any]] = []
        self._lowest = 0

    @classmethod
    def of_statements(cls, files: Iterable[tuple[str, Sequence[ClassStatement]]]) -> "ProjectIndex":
        """The index of ``files``, each a path with its statements, already read."""
        statements: dict[str, Sequence[ClassStatement]] = dict(files)
        return cls(statements, statements.__getitem__)

    def module_class_keys(self, qualified_name: str) -> list[str]:
        """The module classes an absolute dotted name, as imported, may name: ``name`` in
        every module whose key ends with the name's module (in any module, for a bare
        name)."""
        module, _, name = qualified_name.rpartition(".")
        keys = self._keys_ending(module) if module else self._modules_binding(name)
        return [f"{key}.{name}" for key in keys if self._is_module_class(key, name)]

    def __contains__(self, qualified_name: object) -> bool:
        if not isinstance(qualified_name, str):
            return False
        module, _, name = qualified_name.rpartition(".")
        return module in self._files and self._is_module_class(module, name)

    def __iter__(self) -> Iterator[str]:
        return iter(
            [
                f"{key}.{name}"
                for key in self._files
                for name in self._scope(key)
                if self._is_module_class(key, name)
            ]
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def _is_module_class(self, key: str, name: str) -> bool:
        bindings = self._scope(key).get(name)
        return (
            bool(bindings)
            and name != "*"
            and (key in self._packages or any(kind == "class" for kind, _ in bindings))
            and self._binds_module(key, name)
        )

    def _scope(self, key: str) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """Each name the module ``key`` binds, with how: its statements, read once."""
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = {}
            for package, path in self._files[key]:
                for kind, name, values in self._statements_in(path):
                    if kind != "class" and values[0].startswith("."):
                        # an import's one name, as written in its file
                        values = (name_in_package(values[0], package),)
                    scope.setdefault(name, []).append((kind, values))
        return scope

    def _statements_in(self, path: str) -> Sequence[ClassStatement]:
        """The statements of the file at ``path``, read once."""
        statements = self._statements.get(path)
        if statements is None:
            statements = self._statements[path] = self._statements_of(path)
        return statements

    def _modules_binding(self, name: str) -> list[str]:
        """The modules with a statement binding ``name``, read without building their scopes
        (a bare name is asked of every module: each one's statements are read, so linting
        asks none, see :func:`name_to_ask`)."""
        known = self._keys_binding.get(name)
        if known is None:
            known = self._keys_binding[name] = [
                key
                for key, files in self._files.items()
                if any(bound == name for _, path in files for _, bound, _ in self._statements_in(path))
            ]
        return known

    def _binds_module(self, key: str, name: str) -> bool:
        """Whether ``name`` in the module ``key`` is (or imports) a module class."""
        return self._resolved(self._binds, (key, name), lambda: self._resolves_to_module(key, name))

    def _names_module(self, qualified_name: str) -> bool:
        """Whether an absolute dotted name is a module class of torch or of the project."""
        return self._resolved(self._names, qualified_name, lambda: self._names_a_module(qualified_name))

    def _resolved(self, settled: dict[Any, bool], question: Any, resolve: Callable[[], bool]) -> bool:
        """The answer to ``question``, kept in ``settled`` once it is final.

        A question met again while it is being resolved is False there (class A(B),
        class B(A)). The questions that met it are one cycle with it, whose answers are
        all the same: they stay open until the first of them asked is answered, and take
        its answer (Tarjan's strongly connected components). So no answer depends on
        the order questions are asked in.
        """
        known = settled.get(question)
        if known is not None:
            return known
        lowest = self._open.get(question, self._active.get(question))
        if lowest is not None:
            self._lowest = min(self._lowest, lowest)
            return False
        depth = self._active[question] = len(self._active)
        outer_lowest, self._lowest = self._lowest, depth
        first_open = len(self._opened)
        try:
            answer = resolve()
        finally:
            del self._active[question]
        lowest, self._lowest = self._lowest, min(outer_lowest, self._lowest)
        if answer or lowest == depth:  # a cycle's answer: True reaches every question of it
            for table, opened in self._opened[first_open:]:
                table[opened] = answer
                del self._open[opened]
            del self._opened[first_open:]
            settled[question] = answer
        else:  # False so far, for a question below it to settle
            for _, opened in self._opened[first_open:]:
                self._open[opened] = lowest
            self._opened.append((settled, question))
            self._open[question] = lowest
        return answer

    def _resolves_to_module(self, key: str, name: str) -> bool:
        scope = self._scope(key)
        bindings = scope.get(name)
        if bindings is None:  # perhaps from a star import
            return any(self._names_module(f"{star}.{name}") for _, (star,) in scope.get("*", ()))
        for kind, values in bindings:
            if kind == "class" and any(self._base_is_module(key, base) for base in values):
                return True
            if kind == "import" and self._names_module(values[0]):
                return True
        return False

    def _base_is_module(self, key: str, base: str) -> bool:
        first, _, rest = base.partition(".")
        if not rest:
            return self._binds_module(key, first)
        imports = [v[0] for kind, v in self._scope(key).get(first, ()) if kind == "import"]
        return any(self._names_module(f"{target}.{rest}") for target in imports or [first])

    def _names_a_module(self, qualified_name: str) -> bool:
        module, _, name = qualified_name.rpartition(".")
        return is_module_base(qualified_name) or (
            bool(module) and any(self._binds_module(key, name) for key in self._keys_ending(module))
        )

    def _keys_ending(self, module: str) -> list[str]:
        return [
            key
            for key in self._modules_named.get(module.rsplit(".", 1)[-1], ())
            if key == module or key.endswith("." + module)
        ]


def module_classes_of(files: Iterable[tuple[str, Sequence[ClassStatement]]]) -> frozenset[str]:
    """The module classes of :class:`ProjectIndex`, all resolved."""
    return frozenset(ProjectIndex.of_statements(files))


def module_class_names(files: Iterable[tuple[str, bytes]]) -> frozenset[str]:
    """The module classes of ``files``, each a path with its source: the scan and the join."""
    return module_classes_of((path, class_statements(source)) for path, source in files)


def is_project_module_class(qualified_name: str, index: Collection[str]) -> bool:
    """Whether an absolute dotted name, as imported, names a module class of ``index``:
    a module key that ends with the name's module, and the class in that module."""
    return bool(project_module_class_keys(qualified_name, index))


def project_module_class_keys(qualified_name: str, index: Collection[str]) -> list[str]:
    """The keys of ``index`` an absolute dotted name, as imported, may name."""
    if isinstance(index, ProjectIndex):
        return index.module_class_keys(qualified_name)
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
