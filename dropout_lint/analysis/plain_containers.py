"""Dropout modules kept in a plain ``list``, ``tuple`` or ``dict`` attribute of a module.

``self.dropouts = [nn.Dropout(p) for _ in range(n)]`` holds modules that ``nn.Module``
does not register, so ``model.eval()`` never reaches them. An attribute counts when every
value assigned to it is such a container (a display, a comprehension, ``[]``, ``list()``,
``a + b`` of them; an unparenthesised tuple ``a, b`` is not read), and every use of it in
the class, its bases and subclasses of the file keeps its items inside: it is indexed,
iterated (``for d in``, ``enumerate``, ``zip``, ``reversed``, ``.items()``,
``.values()``), appended, extended, inserted into, measured with ``len`` or tested with
``in``; and each item taken out is only called (or its ``p`` read). Any other use
(``nn.Sequential(*self.dropouts)``, ``self.add_module(name, d)``, ``d.train(mode)``) may
register the items or switch their mode, so the attribute is left alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional, Sequence

import libcst as cst

from .module_classes import ModuleClasses
from .node_search import visit_fields
from .torch_api import MODULE_DICT_ATTRIBUTES

# What a constructor call builds: the dropout class, as messages name it (``nn.Dropout``).
DropoutOf = Callable[[cst.Call], Optional[str]]
# Whether a constructor call builds a module with no parameters or buffers (``nn.Identity``).
IsStateless = Callable[[cst.Call], bool]

_ADDING_METHODS = ("append", "insert")
_ITERATING_FUNCTIONS = ("enumerate", "reversed", "zip")
# Reads of an item that neither register it nor switch its mode.
_HARMLESS_ITEM_ATTRIBUTES = ("p", "inplace")
_KEY = re.compile(r"^[A-Za-z]\w*$")
_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.GeneratorExp, cst.DictComp)


@dataclass
class PlainContainer:
    """One attribute holding dropout modules in a plain container, across related classes."""

    attribute: str
    kind: str  # "list" (a list or tuple) or "dict"
    # Each value assigned to ``self.<attribute>``, with the method that assigns it.
    definitions: list[tuple[cst.BaseExpression, cst.FunctionDef]] = field(default_factory=list)
    # The dropout modules built into it, with their class: where the finding goes.
    dropouts: list[tuple[cst.Call, str]] = field(default_factory=list)
    # Each call of an item (``self.dropouts[i](x)``, ``d(x)``), with its method.
    applications: list[tuple[cst.Call, cst.FunctionDef]] = field(default_factory=list)
    # Whether every item is a module with no parameters or buffers (dropout, ``Identity``)
    # and every key a string ``nn.ModuleDict`` accepts: then converting keeps the state dict.
    convertible: bool = True
    escapes: bool = False


@dataclass(frozen=True)
class _Use:
    """``self.<attribute>`` at ``node``, in ``method`` of ``owner``."""

    node: cst.Attribute
    owner: cst.ClassDef
    method: cst.FunctionDef


def plain_dropout_containers(
    module: cst.Module, classes: ModuleClasses, dropout_of: DropoutOf, is_stateless: IsStateless
) -> list[PlainContainer]:
    """The plain-container attributes of the file's module classes that hold dropout
    modules and whose items never leave them."""
    collector = _SelfAttributeUses(classes)
    visit_fields(module, collector)
    found = []
    for attribute, uses in collector.uses.items():
        for group in _related_groups(uses, classes):
            container = _Reader(attribute, classes, dropout_of, is_stateless).read(group)
            if container is not None and container.dropouts and not container.escapes:
                found.append(container)
    return found


class _SelfAttributeUses(cst.CSTVisitor):
    """Every ``self.<attribute>`` in the methods of module classes, by attribute."""

    def __init__(self, classes: ModuleClasses) -> None:
        super().__init__()
        self.classes = classes
        self.uses: dict[str, list[_Use]] = {}
        self._methods: list[tuple[cst.ClassDef, cst.FunctionDef, Optional[str]]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        method = self.classes.enclosing_method(node)
        if method is not None and method.function is node:
            self._methods.append((method.owner, node, method.self_name))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        if self._methods and self._methods[-1][1] is original_node:
            self._methods.pop()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if not self._methods:
            return
        owner, method, self_name = self._methods[-1]
        if isinstance(node.value, cst.Name) and node.value.value == self_name:
            self.uses.setdefault(node.attr.value, []).append(_Use(node, owner, method))


def _related_groups(uses: list[_Use], classes: ModuleClasses) -> Iterator[list[_Use]]:
    """The uses split by family: classes related through bases in the file share one."""
    groups: list[tuple[set[cst.ClassDef], list[_Use]]] = []
    for use in uses:
        family = set(classes.classes_in_hierarchy(use.owner))
        joined = [group for group in groups if group[0] & family]
        merged = (family.union(*(g[0] for g in joined)), [u for g in joined for u in g[1]] + [use])
        groups = [group for group in groups if group not in joined] + [merged]
    for _, group in groups:
        yield group


class _Reader:
    """Reads every use of one attribute of one family of classes."""

    def __init__(
        self,
        attribute: str,
        classes: ModuleClasses,
        dropout_of: DropoutOf,
        is_stateless: IsStateless,
    ) -> None:
        self.classes = classes
        self.dropout_of = dropout_of
        self.is_stateless = is_stateless
        self.kinds: set[str] = set()
        self.container = PlainContainer(attribute, "list")
        # Loops over the container: (loop, target name, method, whether over it directly).
        self._loops: list[tuple[cst.CSTNode, cst.Name, cst.FunctionDef, bool]] = []
        # The index of each ``self.x[index] = value``.
        self._stored_at: list[cst.BaseSlice] = []

    def read(self, uses: Sequence[_Use]) -> Optional[PlainContainer]:
        for use in uses:
            self._use(use)
        if len(self.kinds) != 1 or "other" in self.kinds or not self.container.definitions:
            return None
        kind = self.container.kind = self.kinds.pop()
        for loop, target, method, direct in self._loops:
            if not (direct and kind == "dict"):  # a dict itself yields its keys
                for name in _names_in(loop, target.value):
                    if name is not target:
                        self._item_use(name, method)
        for index in self._stored_at:
            if not isinstance(index, cst.Index):
                self.container.convertible = False
            elif kind == "dict":
                self._key(index.value)
        return self.container

    def _parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self.classes.parent(node)

    def _escape(self) -> None:
        self.container.escapes = True

    def _use(self, use: _Use) -> None:
        node, method = use.node, use.method
        parent = self._parent(node)
        if isinstance(parent, cst.AssignTarget) and parent.target is node:
            assign = self._parent(parent)
            assert isinstance(assign, cst.Assign)
            self._define(assign.value, method)
        elif isinstance(parent, cst.AnnAssign) and parent.target is node:
            if parent.value is not None:
                self._define(parent.value, method)
        elif isinstance(parent, cst.AugAssign) and parent.target is node:
            if isinstance(parent.operator, cst.AddAssign):
                self._add_all(parent.value, gated=True)
            else:
                self._escape()
        elif isinstance(parent, cst.Attribute) and parent.value is node:
            self._method_use(parent, method)
        elif isinstance(parent, cst.Subscript) and parent.value is node:
            self._subscript_use(parent, method)
        elif self._is_iterated(node, method, item_path=(), direct=True):
            pass
        elif self._is_measured(node):
            pass
        else:
            self._escape()

    # Values put in the container

    def _define(self, value: cst.BaseExpression, method: cst.FunctionDef) -> None:
        kind = _container_kind(value)
        self.kinds.add(kind or "other")
        if kind is None:
            return
        self.container.definitions.append((value, method))
        self._add_all(value, gated=True)

    def _add_all(self, value: cst.BaseExpression, gated: bool) -> None:
        """Every item of a container expression (``[a, b]``, ``[a for ...]``, ``{"k": a}``)."""
        if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
            self._add_all(value.left, gated)
            self._add_all(value.right, gated)
        elif isinstance(value, (cst.List, cst.Tuple)):
            for element in value.elements:
                if isinstance(element, cst.StarredElement):
                    self.container.convertible = False
                else:
                    self._add(element.value, gated)
        elif isinstance(value, (cst.ListComp, cst.GeneratorExp)):
            self._add(value.elt, gated)
        elif isinstance(value, cst.Dict):
            for element in value.elements:
                if isinstance(element, cst.StarredDictElement):
                    self.container.convertible = False
                else:
                    self._key(element.key)
                    self._add(element.value, gated)
        elif isinstance(value, cst.DictComp):
            self.container.convertible = False  # its keys are not known to be strings
            self._add(value.value, gated)
        elif not _is_empty_constructor(value):
            self.container.convertible = False

    def _add(self, value: cst.BaseExpression, gated: bool) -> None:
        """One item; ``gated``: built where the syntax gate looks (a literal, ``append``)."""
        if isinstance(value, cst.IfExp):
            self._add(value.body, gated)
            self._add(value.orelse, gated)
            return
        layer = self.dropout_of(value) if isinstance(value, cst.Call) else None
        if layer is not None:
            if gated:
                self.container.dropouts.append((value, layer))
        elif not (isinstance(value, cst.Call) and self.is_stateless(value)):
            self.container.convertible = False

    def _key(self, key: cst.BaseExpression) -> None:
        value = key.evaluated_value if isinstance(key, cst.SimpleString) else None
        accepted = isinstance(value, str) and _KEY.match(value) is not None
        if not accepted or value in MODULE_DICT_ATTRIBUTES:
            self.container.convertible = False

    # Uses of the container

    def _method_use(self, attribute: cst.Attribute, method: cst.FunctionDef) -> None:
        """``self.x.append(d)``, ``self.x.extend([...])``, ``self.x.items()`` in a loop."""
        call = self._parent(attribute)
        name = attribute.attr.value
        called = isinstance(call, cst.Call) and call.func is attribute
        if not called or any(arg.star for arg in call.args):  # type: ignore[union-attr]
            self._escape()
        elif name in _ADDING_METHODS and call.args:
            self.kinds.add("list")
            self._add(call.args[-1].value, gated=True)
        elif name == "extend" and len(call.args) == 1:
            self.kinds.add("list")
            self._add_all(call.args[0].value, gated=True)
        elif name in ("items", "values", "keys") and not call.args:
            self.kinds.add("dict")
            path = {"items": (1,), "values": (), "keys": None}[name]
            if not self._is_iterated(call, method, path, direct=False):
                self._escape()
        else:
            self._escape()

    def _subscript_use(self, subscript: cst.Subscript, method: cst.FunctionDef) -> None:
        parent = self._parent(subscript)
        if isinstance(parent, cst.AssignTarget) and parent.target is subscript:
            assign = self._parent(parent)
            assert isinstance(assign, cst.Assign)
            if len(subscript.slice) == 1:
                self._stored_at.append(subscript.slice[0].slice)
            else:
                self.container.convertible = False
            self._add(assign.value, gated=False)
        else:
            self._item_use(subscript, method)

    def _item_use(self, item: cst.BaseExpression, method: cst.FunctionDef) -> None:
        """An item taken out: called (an application) or its rate read; else it escapes."""
        parent = self._parent(item)
        if isinstance(parent, cst.Call) and parent.func is item:
            self.container.applications.append((parent, method))
            return
        if isinstance(parent, cst.Attribute) and parent.value is item:
            call = self._parent(parent)
            called = isinstance(call, cst.Call) and call.func is parent
            if parent.attr.value == "forward" and called:
                self.container.applications.append((call, method))
                return
            if parent.attr.value in _HARMLESS_ITEM_ATTRIBUTES:
                return
        self._escape()

    def _is_measured(self, node: cst.BaseExpression) -> bool:
        """``len(self.x)``, ``k in self.x``."""
        parent = self._parent(node)
        if isinstance(parent, cst.ComparisonTarget):
            return isinstance(parent.operator, (cst.In, cst.NotIn)) and parent.comparator is node
        if isinstance(parent, cst.Arg):
            call = self._parent(parent)
            return (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Name)
                and call.func.value == "len"
                and len(call.args) == 1
            )
        return False

    def _is_iterated(
        self,
        iterable: cst.BaseExpression,
        method: cst.FunctionDef,
        item_path: Optional[tuple[int, ...]],
        direct: bool,
    ) -> bool:
        """Whether ``iterable`` is looped over (maybe through ``enumerate``, ``zip``,
        ``reversed``); the loop is kept, to check that each item, at ``item_path`` in its
        target, is only called. ``item_path`` None: the loop yields no items (``.keys()``);
        ``direct``: over the container itself (a dict yields its keys)."""
        parent = self._parent(iterable)
        if isinstance(parent, cst.Arg) and not parent.star and parent.keyword is None:
            call = self._parent(parent)
            if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Name)):
                return False
            function = call.func.value
            if function not in _ITERATING_FUNCTIONS or (function != "zip" and len(call.args) != 1):
                return False
            if item_path is not None:
                position = [arg for arg in call.args].index(parent)
                item_path = {
                    "enumerate": (1, *item_path),
                    "reversed": item_path,
                    "zip": (position, *item_path),
                }[function]
            return self._is_iterated(call, method, item_path, direct)
        if not (isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is iterable):
            return False
        if item_path is None:
            return True
        target = _target_at(parent.target, item_path)
        if target is None:
            return False
        loop: Optional[cst.CSTNode] = parent
        while not isinstance(loop, (cst.For, *_COMPREHENSIONS)):  # past outer ``for`` clauses
            assert loop is not None
            loop = self._parent(loop)
        self._loops.append((loop, target, method, direct))
        return True


def _target_at(target: cst.BaseExpression, path: tuple[int, ...]) -> Optional[cst.Name]:
    """The name at ``path`` in a loop target (``d`` at (1,) in ``i, d``), if it is one."""
    for index in path:
        if not isinstance(target, (cst.Tuple, cst.List)) or index >= len(target.elements):
            return None
        if any(isinstance(element, cst.StarredElement) for element in target.elements):
            return None
        target = target.elements[index].value
    return target if isinstance(target, cst.Name) else None


def _names_in(scope: cst.CSTNode, name: str) -> list[cst.Name]:
    found: list[cst.Name] = []

    class _Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            if node.value == name:
                found.append(node)

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            visit_fields(node.value, self)
            return False  # ``x.d`` is not the name ``d``

    visit_fields(scope, _Finder())
    return found


def _container_kind(value: cst.BaseExpression) -> Optional[str]:
    """``list`` for a list or tuple expression, ``dict`` for a dict one, else None."""
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Add):
        left, right = _container_kind(value.left), _container_kind(value.right)
        return left if left == right == "list" else None
    if isinstance(value, cst.Tuple) and not value.lpar:
        return None  # ``a, b``: the byte gate looks for a bracket after the ``=``
    if isinstance(value, (cst.List, cst.Tuple, cst.ListComp)):
        return "list"
    if isinstance(value, (cst.Dict, cst.DictComp)):
        return "dict"
    if _is_empty_constructor(value):
        assert isinstance(value, cst.Call) and isinstance(value.func, cst.Name)
        return "dict" if value.func.value == "dict" else "list"
    return None


def _is_empty_constructor(value: cst.BaseExpression) -> bool:
    """``list()``, ``tuple()`` or ``dict()``."""
    return (
        isinstance(value, cst.Call)
        and not value.args
        and isinstance(value.func, cst.Name)
        and value.func.value in ("list", "tuple", "dict")
    )
