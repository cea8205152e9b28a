"""What a name may refer to: libcst's scope analysis, computed without libcst's visits.

:class:`NameResolver` gives the answers of libcst's ``ScopeProvider`` (the scope of a node,
``scope[name]``, ``scope.get_qualified_names_for(node)``) by libcst's rules, from one walk
that reads the nodes' fields (:func:`.node_search.children`). libcst makes two visits for
them (expression contexts, then scopes), which rebuild every node: most of a check's time.

The rules, as libcst has them: a binding anywhere in a scope counts for the scopes nested in
it, but a read in the scope itself sees only the bindings made before it (those of the
enclosing scope when there are none); a class's scope is hidden from the functions in it;
``global``/``nonlocal`` send bindings elsewhere; decorators, defaults, annotations and bases
are read in the enclosing scope; ``del`` and ``match`` patterns read without binding; string
annotations are read as code.
"""

from __future__ import annotations

import builtins
from typing import Callable, Iterator, NamedTuple, Optional, TypeVar, Union

import libcst as cst
from libcst.helpers import get_full_name_for_node

from .node_search import children

_MODULE, _FUNCTION, _CLASS, _COMPREHENSION, _ANNOTATION, _BUILTINS = (
    "module", "function", "class", "comprehension", "annotation", "builtins"
)
_LOAD, _STORE, _DELETE = "load", "store", "delete"
T = TypeVar("T")

# The nodes whose end libcst counts in the scope they are in: a read sees the bindings of its
# own scope counted before it.
_COUNTED = frozenset({
    cst.AnnAssign, cst.AsName, cst.Assign, cst.AugAssign, cst.ClassDef, cst.CompFor,
    cst.FunctionDef, cst.Global, cst.Import, cst.ImportFrom, cst.NamedExpr, cst.Nonlocal,
    cst.Parameters, cst.WithItem, cst.TypeVar, cst.TypeAlias, cst.TypeVarTuple, cst.ParamSpec,
})  # fmt: skip
_TYPING_MODULES = ("typing", "typing_extensions")
# The spellings under which a name bound in the file, not imported, is one of these calls.
_TYPING_CALLS = {"typing.cast", "typing.NewType", "typing.TypeVar"}
_TYPING_CALL_SPELLINGS = _TYPING_CALLS | {name.partition(".")[2] for name in _TYPING_CALLS}


class Binding:
    """A name bound in a scope by an assignment, a definition or a parameter (``node``), an
    import (``node`` is the import statement), or a builtin (``node`` is None)."""

    __slots__ = ("name", "scope", "node", "index")

    def __init__(self, name: str, scope: "Scope", node: Optional[cst.CSTNode], index: int) -> None:
        self.name, self.scope, self.node, self.index = name, scope, node, index

    def qualified_names(self, full_name: str) -> set[str]:
        """What ``full_name`` (this binding's name, or a dotted name under it) stands for."""
        if self.node is None:
            return {f"builtins.{self.name}"}
        if isinstance(self.node, (cst.Import, cst.ImportFrom)):
            return _imported_names(self.node, full_name)
        prefix = self.scope.prefix
        return {f"{prefix}.{full_name}" if prefix else full_name}


class Scope:
    """A module, function, lambda, class, comprehension or annotation scope, or the builtins."""

    def __init__(self, kind: str, parent: Optional["Scope"], name: Optional[str] = None) -> None:
        self.kind = kind
        self.parent: Scope = parent if parent is not None else self
        self.globals: Scope = self.parent.globals if kind not in (_MODULE, _BUILTINS) else self
        self.bindings: dict[str, list[Binding]] = {}
        self.count = 0  # the binding events in this scope so far, as libcst numbers them
        self.declared: dict[str, Scope] = {}  # global and nonlocal names: where they bind
        outer = self.parent.prefix if parent is not None else ""
        parts = {
            _FUNCTION: (outer, name, "<locals>"),
            _CLASS: (outer, name),
            _COMPREHENSION: (outer, "<comprehension>"),
            _ANNOTATION: (outer,),
        }.get(kind, ())
        self.prefix = ".".join(part for part in parts if part)

    @property
    def is_module(self) -> bool:
        return self.kind == _MODULE

    def lookup(self, name: str, reader: Optional["Scope"] = None) -> list[Binding]:
        """The bindings ``name`` may have when read here (``scope[name]`` in libcst): those of
        the nearest scope binding it, wherever in that scope they are."""
        reader = reader if reader is not None else self
        found = self.bindings.get(name)
        if self.kind == _BUILTINS:
            if found is None and hasattr(builtins, name):
                found = self.bindings[name] = [Binding(name, self, None, -1)]
            return found or []
        declared = self.declared.get(name)
        if declared is not None:
            return self._visible_parent(reader, declared).lookup(name, reader)
        return found if found else self._visible_parent(reader).lookup(name, reader)

    def __contains__(self, name: str) -> bool:
        if self.kind == _BUILTINS:
            return hasattr(builtins, name)
        declared = self.declared.get(name)
        if declared is not None:
            return name in declared
        return name in self.bindings or name in self._visible_parent(self)

    def target(self, name: str) -> "Scope":
        """The scope a binding of ``name`` made here goes to."""
        declared = self.declared.get(name)
        return self if declared is None else self._visible_parent(self, declared).target(name)

    def _visible_parent(self, reader: "Scope", first: Optional["Scope"] = None) -> "Scope":
        parent = first if first is not None else self.parent
        while parent.kind == _CLASS and not (reader.parent is parent and reader.kind == _ANNOTATION):
            parent = parent.parent
        return parent


class _Read(NamedTuple):
    """A ``Name`` read in ``scope`` after ``index`` of its binding events, in the attribute
    chain ``within`` (``torch.nn.functional.dropout`` for ``torch``), if it is the root of one."""

    name: cst.Name
    scope: Scope
    index: int
    within: Optional[cst.Attribute]

    def target(self) -> tuple[str, cst.CSTNode]:
        """What the read reads: the longest dotted name of its chain bound where it is
        (``torch.nn`` after ``import torch.nn``), with its node; else the name itself."""
        if self.within is not None:
            for dotted, node in _dotted_names(self.within):
                if dotted in self.scope:
                    return dotted, node
        return self.name.value, self.name

    def referents(self) -> list[Binding]:
        name = self.target()[0]
        found = self.scope.lookup(name)
        earlier = [b for b in found if b.scope is not self.scope or b.index < self.index]
        if not earlier and found:
            earlier = self.scope.parent.lookup(name, self.scope)
        return earlier


class NameResolver:
    """The scopes of one module, and what its names refer to."""

    def __init__(self, module: cst.Module) -> None:
        walk = _Walk()
        walk.visit(module)
        self._scopes = walk.scopes
        self._reads = walk.reads
        self._string_reads = walk.string_reads
        # Each node's qualified names, worked out on first use: each rule resolves the
        # callee of every call, so most nodes are asked about several times.
        self._qualified: dict[cst.CSTNode, frozenset[str]] = {}

    def scope_of(self, node: cst.CSTNode) -> Optional[Scope]:
        """The scope ``node`` is in; None for a node libcst's analysis does not reach
        (the attribute name of ``a.b``, a keyword argument's name, an import's parts)."""
        return self._scopes.get(node)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` may refer to (``torch.nn.functional.dropout`` for
        ``F.dropout`` after ``import torch.nn.functional as F``)."""
        return set(self._qualified_names(node))

    def _qualified_names(self, node: cst.CSTNode) -> frozenset[str]:
        found = self._qualified.get(node)
        if found is None:
            found = self._qualified[node] = frozenset(self._find_qualified_names(node))
        return found

    def _find_qualified_names(self, node: cst.CSTNode) -> set[str]:
        scope = self._scopes.get(node)
        if scope is None:
            return set()
        reads = self._reads_of(node)
        if reads:
            return {name for read in reads for b in read.referents() for name in b.qualified_names(b.name)}
        return _names_by_prefix(scope, node)

    def resolve(self, node: cst.CSTNode, lookup: Callable[[str], Optional[T]]) -> Optional[T]:
        """What ``lookup`` says of every qualified name ``node`` may refer to, when they all agree.

        A name bound in several ways (``try: import torch.nn.functional as F`` / ``except:
        import chainer.functions as F``) only counts when every binding agrees, so the
        answer never depends on which one a set happens to yield first.
        """
        answers = {lookup(name) for name in self._qualified_names(node)}
        return answers.pop() if len(answers) == 1 else None

    def names(self) -> set[str]:
        """Every identifier the analysis reads or binds, string annotations included."""
        return {node.value for node in self._scopes if isinstance(node, cst.Name)}

    def _reads_of(self, node: cst.CSTNode) -> list[_Read]:
        if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
            return self._string_reads.get(node, [])
        root = node
        while isinstance(root, cst.Attribute):
            root = root.value
        read = self._reads.get(root) if isinstance(root, cst.Name) else None
        return [read] if read is not None and read.target()[1] is node else []


def _names_by_prefix(scope: Scope, node: cst.CSTNode) -> set[str]:
    """The qualified names of ``node`` from the bindings of its longest dotted prefix
    bound in ``scope``: what libcst answers for a node that is not itself a read."""
    full_name = get_full_name_for_node(node)
    if full_name is None:
        return set()
    found: list[Binding] = []
    prefix = full_name
    while prefix:
        if prefix in scope:
            found = scope.lookup(prefix)
            break
        prefix = prefix.rpartition(".")[0]
    for binding in found:
        if binding.node is not None and _binds_node(binding.node, node):
            return binding.qualified_names(full_name)
    return {name for binding in found for name in binding.qualified_names(full_name)}


def _binds_node(binding: cst.CSTNode, node: cst.CSTNode) -> bool:
    """Whether ``node`` is the name ``binding`` binds (or the binding itself)."""
    if node is binding:
        return True
    if isinstance(binding, (cst.Import, cst.ImportFrom)) and not isinstance(binding.names, cst.ImportStar):
        return any(
            alias.name is node or (alias.asname is not None and alias.asname.name is node)
            for alias in binding.names
        )
    return False


def _imported_names(statement: Union[cst.Import, cst.ImportFrom], full_name: str) -> set[str]:
    """What ``full_name`` stands for, given the names ``statement`` imports: for each of
    them, its longest dotted prefix (or its alias) that ``full_name`` starts with."""
    found: set[str] = set()
    if isinstance(statement.names, cst.ImportStar):
        return found
    module = ""
    if isinstance(statement, cst.ImportFrom):
        named = get_full_name_for_node(statement.module) if statement.module is not None else None
        module = "." * len(statement.relative) + (named or "")
    for alias in statement.names:
        imported = get_full_name_for_node(alias.name)
        if not imported:
            continue
        parts = imported.split(".")
        for length in range(len(parts), 0, -1):
            spelled = ".".join(parts[:length])
            if module.endswith("."):  # from . import a: .a
                real = module + spelled
            else:
                real = f"{module}.{spelled}" if module else spelled
            if alias.asname is not None:
                spelled = alias.evaluated_alias or spelled
            if full_name.startswith(spelled):
                rest = full_name[len(spelled):]
                if rest and not rest.startswith("."):
                    continue
                rest = rest.lstrip(".")
                found.add(f"{real}.{rest}" if rest else real)
                break
    return found


def _dotted_names(node: Union[cst.Attribute, cst.Name]) -> Iterator[tuple[str, cst.CSTNode]]:
    """``a.b.c``, ``a.b``, ``a`` with their nodes, for a chain of names (a call in the chain
    stands for its function); nothing when the chain starts elsewhere."""
    if isinstance(node, cst.Name):
        yield node.value, node
        return
    value = node.value
    if isinstance(value, cst.Call):
        if isinstance(value.func, (cst.Attribute, cst.Name)):
            yield from _dotted_names(value.func)
    elif isinstance(value, (cst.Attribute, cst.Name)):
        inner = list(_dotted_names(value))
        if inner:
            yield f"{inner[0][0]}.{node.attr.value}", node
            yield from inner


class _Walk:
    """One walk over a module that records its scopes, bindings and reads as libcst does,
    in libcst's order: the order fixes which bindings a read sees."""

    def __init__(self) -> None:
        self.scopes: dict[cst.CSTNode, Scope] = {}
        self.reads: dict[cst.Name, _Read] = {}
        self.string_reads: dict[cst.BaseString, list[_Read]] = {}
        self.scope = Scope(_MODULE, Scope(_BUILTINS, None))
        self.context = _LOAD
        self.within: Optional[cst.Attribute] = None  # the chain a name read is the root of
        self.hint = False  # in a subscript of a typing name, or a typing.cast's type
        self.annotation = False
        self.literal = False  # in typing.Literal[...]: its strings are not code
        self.string: Optional[cst.BaseString] = None  # the string annotation being read
        self.typing_names: set[str] = set()  # names bound by imports from typing
        self._handlers = {
            cst.Name: self._name,
            cst.Attribute: self._attribute,
            cst.Call: self._call,
            cst.Arg: lambda node: self.visit(node.value),
            cst.Subscript: self._subscript,
            cst.Annotation: self._annotation,
            cst.SimpleString: self._string_annotation,
            cst.ConcatenatedString: self._concatenated_string,
            cst.Import: self._import,
            cst.ImportFrom: self._import,
            cst.FunctionDef: self._function,
            cst.Lambda: self._lambda,
            cst.Param: self._param,
            cst.ClassDef: self._class,
            cst.Global: lambda node: self._declare(node, self.scope.globals),
            cst.Nonlocal: lambda node: self._declare(node, self.scope.parent),
            cst.ListComp: self._comprehension,
            cst.SetComp: self._comprehension,
            cst.DictComp: self._comprehension,
            cst.GeneratorExp: self._comprehension,
            cst.CompFor: self._comp_for,
            cst.For: self._for,
            cst.Assign: self._assign,
            cst.AnnAssign: lambda node: self._stored(node.target, node.annotation, node.value),
            cst.AugAssign: lambda node: self._stored(node.target, node.value),
            cst.NamedExpr: lambda node: self._stored(node.target, node.value),
            cst.AsName: lambda node: self._stored(node.name),
            cst.Del: lambda node: self._visit_as(node.target, _DELETE),
            cst.TypeAlias: self._type_alias,
            cst.TypeVar: self._type_variable,
            cst.TypeVarTuple: self._type_variable,
            cst.ParamSpec: self._type_variable,
        }

    def visit(self, node: cst.CSTNode) -> None:
        scope = self.scope
        self.scopes[node] = scope
        handler = self._handlers.get(type(node))
        if handler is None:
            for child in children(node):
                self.visit(child)
        else:
            handler(node)
        if type(node) in _COUNTED:
            scope.count += 1

    def _visit_as(self, node: Optional[cst.CSTNode], context: str) -> None:
        if node is not None:
            outer, self.context = self.context, context
            self.visit(node)
            self.context = outer

    def _bind(self, name: str, node: cst.CSTNode) -> None:
        scope = self.scope.target(name)
        scope.bindings.setdefault(name, []).append(Binding(name, scope, node, scope.count))

    def _stored(self, target: cst.CSTNode, *values: Optional[cst.CSTNode]) -> None:
        """An assignment-like node: its target stores, its other parts read."""
        self._visit_as(target, _STORE)
        for value in values:
            if value is not None:
                self.visit(value)

    def _name(self, node: cst.Name) -> None:
        if self.context == _STORE and self.string is None:
            self._bind(node.value, node)
            return
        read = _Read(node, self.scope, self.scope.count, self.within)
        if self.string is None:
            self.reads[node] = read
        else:
            self.string_reads.setdefault(self.string, []).append(read)

    def _attribute(self, node: cst.Attribute) -> None:
        outer = self.context, self.within
        self.context, self.within = _LOAD, node if self.within is None else self.within
        self.visit(node.value)
        self.context, self.within = outer

    def _assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._visit_as(target, _STORE)
        self.visit(node.value)

    def _call(self, node: cst.Call) -> None:
        outer = self.within, self.hint
        self.within, self.hint = None, False
        typing = self._typing_names_of(node) & _TYPING_CALLS
        if not typing:
            for child in children(node):
                self.visit(child)
        elif typing != {"typing.cast"}:  # NewType, TypeVar: the name is not read, the rest are types
            self.visit(node.func)
            self.hint = True
            for arg in node.args[1:]:
                self.visit(arg)
        else:
            self.visit(node.func)
            for index, arg in enumerate(node.args):
                self.hint = index == 0
                self.visit(arg)
        self.within, self.hint = outer

    def _subscript(self, node: cst.Subscript) -> None:
        outer = self.context, self.hint, self.literal
        names = self._typing_names_of(node.value) if isinstance(node.value, cst.Name) else set()
        self.context = _LOAD
        self.hint = any(name.startswith(("typing.", "typing_extensions.")) for name in names)
        self.literal = self.literal or bool(names & {"typing.Literal", "typing_extensions.Literal"})
        for child in children(node):
            self.visit(child)
        self.context, self.hint, self.literal = outer

    def _typing_names_of(self, node: cst.CSTNode) -> set[str]:
        """The qualified names ``node`` has so far (libcst asks while visiting), when they may
        be typing's: the others are not worked out."""
        full_name = get_full_name_for_node(node)
        if full_name is None or not (
            full_name.partition(".")[0] in self.typing_names
            or full_name in _TYPING_CALL_SPELLINGS
            or self.scope.prefix.partition(".")[0] in _TYPING_MODULES
        ):
            return set()
        return _names_by_prefix(self.scope, node)

    def _annotation(self, node: cst.Annotation) -> None:
        outer, self.annotation = self.annotation, True
        for child in children(node):
            self.visit(child)
        self.annotation = outer

    def _concatenated_string(self, node: cst.ConcatenatedString) -> None:
        if not self._string_annotation(node):
            for child in children(node):
                self.visit(child)

    def _string_annotation(self, node: Union[cst.SimpleString, cst.ConcatenatedString]) -> bool:
        """Read a string annotation (``"nn.Module"``) as the code it holds; whether it was one."""
        if not (self.hint or self.annotation) or self.literal:
            return False
        value = node.evaluated_value
        if not value:
            return False
        outer = self.string
        self.string = node if outer is None else outer
        try:
            self.visit(cst.parse_module(value))
        except cst.ParserSyntaxError:
            pass
        self.string = outer
        return True

    def _import(self, node: Union[cst.Import, cst.ImportFrom]) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            self.scopes[alias] = self.scope
            bound = alias.asname.name if alias.asname is not None else alias.name
            for name, _ in _dotted_names(bound):  # type: ignore[arg-type]
                self._bind(name, node)
                if _from_typing(node, alias):
                    self.typing_names.add(name.partition(".")[0])

    def _function(self, node: cst.FunctionDef) -> None:
        outer = self.scope
        self._bind(node.name.value, node)
        self.scopes[node.name] = outer
        if node.type_parameters is not None:
            self.scope = Scope(_ANNOTATION, outer)
            self.visit(node.type_parameters)
        around = self.scope
        self.scope = Scope(_FUNCTION, around, node.name.value)
        self.visit(node.params)
        self.visit(node.body)
        self.scope = around
        for decorator in node.decorators:
            self.visit(decorator)
        if node.returns is not None:
            self.visit(node.returns)
        self.scope = outer

    def _lambda(self, node: cst.Lambda) -> None:
        outer = self.scope
        self.scope = Scope(_FUNCTION, outer)
        self.visit(node.params)
        self.visit(node.body)
        self.scope = outer

    def _param(self, node: cst.Param) -> None:
        """A parameter binds in its function; its default and annotation read outside it."""
        self._bind(node.name.value, node)
        self.scopes[node.name] = inner = self.scope
        self.scope = inner.parent
        for part in (node.default, node.annotation):
            if part is not None:
                self.visit(part)
        self.scope = inner

    def _class(self, node: cst.ClassDef) -> None:
        outer = self.scope
        self._bind(node.name.value, node)
        self.scopes[node.name] = outer
        for decorator in node.decorators:
            self.visit(decorator)
        if node.type_parameters is not None:
            self.scope = Scope(_ANNOTATION, outer)
            self.visit(node.type_parameters)
        for argument in (*node.bases, *node.keywords):
            self.visit(argument)
        self.scope = Scope(_CLASS, self.scope, node.name.value)
        for statement in node.body.body:
            self.visit(statement)
        self.scope = outer

    def _declare(self, node: Union[cst.Global, cst.Nonlocal], where: Scope) -> None:
        if not self.scope.is_module:  # ``global`` there changes nothing
            for item in node.names:
                self.scope.declared[item.name.value] = where

    def _comprehension(self, node: Union[cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp]) -> None:
        """The first iterable is read outside the comprehension's scope, the rest inside."""
        outer, first = self.scope, node.for_in
        self.visit(first.iter)
        self.scopes[first] = outer
        self.scope = Scope(_COMPREHENSION, outer)
        self._visit_as(first.target, _STORE)
        self.scope.count += 1
        for part in (*first.ifs, first.inner_for_in):
            if part is not None:
                self.visit(part)
        parts = (node.key, node.value) if isinstance(node, cst.DictComp) else (node.elt,)
        for part in parts:
            self.visit(part)
        self.scope = outer

    def _comp_for(self, node: cst.CompFor) -> None:
        self._stored(node.target, node.iter, *node.ifs, node.inner_for_in)

    def _for(self, node: cst.For) -> None:
        self._visit_as(node.target, _STORE)
        self.scope.count += 1
        for part in (node.iter, node.body, node.orelse):
            if part is not None:
                self.visit(part)

    def _type_alias(self, node: cst.TypeAlias) -> None:
        self._bind(node.name.value, node)
        outer = self.scope
        self.scope = Scope(_ANNOTATION, outer)
        if node.type_parameters is not None:
            self.visit(node.type_parameters)
        self.visit(node.value)
        self.scope = outer

    def _type_variable(self, node: Union[cst.TypeVar, cst.TypeVarTuple, cst.ParamSpec]) -> None:
        self._bind(node.name.value, node)
        if isinstance(node, cst.TypeVar) and node.bound is not None:
            self.visit(node.bound)


def _from_typing(statement: Union[cst.Import, cst.ImportFrom], alias: cst.ImportAlias) -> bool:
    """Whether ``alias`` of ``statement`` imports typing or typing_extensions or from them."""
    if isinstance(statement, cst.Import):
        imported = get_full_name_for_node(alias.name)
    elif statement.module is not None and not statement.relative:
        imported = get_full_name_for_node(statement.module)
    else:
        imported = None
    return (imported or "").partition(".")[0] in _TYPING_MODULES
