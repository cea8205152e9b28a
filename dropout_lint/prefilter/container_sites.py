"""Gates for modules built into a container: ``[nn.Dropout(p) for _ in ...]``,
``{"a": nn.Dropout(p)}``, ``self.drops.append(nn.Dropout(p))``.

A module built there is an item of a list, tuple, set or dict display or comprehension, or
the argument of ``append``/``insert``, maybe as a branch of ``a if c else b``. In the bytes,
the token before its callee is then one of ``[ ( , { : else``; in CPython's tree, its
parent (past ``if``/``else`` expressions) is one of those nodes, and the container is
stored in an attribute (``x.a = [...]``, ``x.a += [...]``, ``x.a.extend([...])``,
``x.a.append(module)``). Classes of the file that
derive from one of the modules are built the same way: a file that defines one lets the
byte gate through.
"""

from __future__ import annotations

import ast
import re
from typing import Callable, Iterable, Optional

from .byte_scan import GAP, ByteScan
from .syntax_scan import SyntaxScan

_CONTAINER_TOKENS = frozenset((b"[", b"(", b",", b"{", b":", b"else", None))
_ADDING_METHODS = ("append", "insert")
_CONTAINERS = (
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
_CLASS_WITH_BASES = re.compile(rb"class[ \t]+\w+[ \t]*\(([^)]*)\)")
_AS = re.compile(rb"(?:\s|\\)+as\b")
# ``x.a = [``, ``x.a: list = (``, ``x.a = dict(``: an attribute given a container display.
_ATTRIBUTE_GIVEN_CONTAINER = re.compile(
    rb"\.[A-Za-z0-9_\x80-\xff]+"
    + GAP
    + rb"(?::[^=\r\n]*)?="
    + GAP
    + rb"(?:[\[({]|(?:list|tuple|dict)\b)"
)


def may_build_into_container(scan: ByteScan, class_names: Iterable[str]) -> bool:
    """Whether the bytes may build one of ``class_names`` into a container (or define a
    class whose bases name one of them), and give an attribute a container display
    (``self.a = [``, unparenthesised tuples aside); never wrongly False."""
    names = tuple(class_names)
    if _ATTRIBUTE_GIVEN_CONTAINER.search(scan.data) is None:
        return False
    if any(_AS.match(scan.data, end) for name in names for end in _ends(scan.data, name.encode())):
        return True  # imported under another name, which a base may spell
    if any(
        any(name.encode() in bases.group(1) for name in names)
        for bases in _CLASS_WITH_BASES.finditer(scan.data)
    ):
        return True
    return any(
        token in _CONTAINER_TOKENS for name in names for token in scan.tokens_before_calls(name)
    )


def _ends(data: bytes, word: bytes) -> Iterable[int]:
    start = data.find(word)
    while start != -1:
        yield start + len(word)
        start = data.find(word, start + 1)


def container_sites(scan: SyntaxScan, lookup: Callable[[str], Optional[object]]) -> list[ast.Call]:
    """The calls in methods that may build a class ``lookup`` knows, or a class of the file
    deriving from one, into a container."""
    derived = _derived_classes(scan, lookup)
    plain = _attributes_given_containers(scan)
    return [
        node
        for node in scan.nodes()
        if isinstance(node, ast.Call)
        and scan.method_of(node) is not None
        and (
            (isinstance(node.func, ast.Name) and node.func.id in derived)
            or any(lookup(name) is not None for name in scan.possible_names(node.func))
        )
        and _built_into_container(node, scan, plain)
    ]


def _derived_classes(scan: SyntaxScan, lookup: Callable[[str], Optional[object]]) -> set[str]:
    """The names of the file's classes with a base (maybe through others of the file) that
    may be a class ``lookup`` knows."""
    return {
        classdef.name
        for classdef in (node for node in scan.nodes() if isinstance(node, ast.ClassDef))
        if any(
            lookup(name) is not None
            for owner in scan.classes_in_hierarchy(classdef)
            for base in owner.bases
            for name in scan.possible_names(base)
        )
    }


def _attributes_given_containers(scan: SyntaxScan) -> set[str]:
    """The attributes assigned a container anywhere in the file: ``x.a = []``."""
    return {
        target.attr
        for node in scan.nodes()
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and _is_container(node.value)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Attribute)
    }


def _is_container(value: Optional[ast.expr]) -> bool:
    if isinstance(value, ast.BinOp):
        return True
    if isinstance(value, ast.Call):
        return isinstance(value.func, ast.Name) and value.func.id in ("list", "tuple", "dict")
    return isinstance(value, _CONTAINERS)


def _built_into_container(node: ast.expr, scan: SyntaxScan, plain: set[str]) -> bool:
    """Whether ``node`` is an item of a container stored in an attribute (``x.a = [...]``),
    or added to an attribute (``x.a += [...]``, ``x.a.extend([...])``,
    ``x.a.append(node)``) that is given a container somewhere (``x.a = []``)."""
    parent = scan.parent(node)
    while isinstance(parent, ast.IfExp) and node is not parent.test:
        node, parent = parent, scan.parent(parent)
    if isinstance(parent, ast.Call):
        return _adds_to_attribute(parent, node, _ADDING_METHODS, plain)
    if isinstance(parent, ast.Dict):
        is_item = any(value is node for value in parent.values)
    elif isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
        is_item = parent.elt is node
    elif isinstance(parent, ast.DictComp):
        is_item = parent.value is node
    else:
        is_item = isinstance(parent, (ast.List, ast.Tuple, ast.Set))
    return is_item and _stored_in_attribute(parent, scan, plain)  # type: ignore[arg-type]


def _stored_in_attribute(container: ast.expr, scan: SyntaxScan, plain: set[str]) -> bool:
    parent = scan.parent(container)
    while isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.Add):
        container, parent = parent, scan.parent(parent)
    if isinstance(parent, ast.Assign):
        stored = any(isinstance(target, ast.Attribute) for target in parent.targets)
        return parent.value is container and stored
    if isinstance(parent, ast.AnnAssign):
        return parent.value is container and isinstance(parent.target, ast.Attribute)
    if isinstance(parent, ast.AugAssign):
        target = parent.target
        added = isinstance(target, ast.Attribute) and target.attr in plain
        return parent.value is container and added
    if not isinstance(parent, ast.Call):
        return False
    return _adds_to_attribute(parent, container, ("extend",), plain)


def _adds_to_attribute(
    call: ast.Call, argument: ast.expr, methods: tuple[str, ...], plain: set[str]
) -> bool:
    """``x.a.append(argument)``, for a method in ``methods`` and an attribute in ``plain``."""
    return (
        isinstance(call.func, ast.Attribute)
        and call.func.attr in methods
        and isinstance(call.func.value, ast.Attribute)
        and call.func.value.attr in plain
        and any(arg is argument for arg in call.args)
    )
