"""Gates for modules built into a container: ``[nn.Dropout(p) for _ in ...]``,
``{"a": nn.Dropout(p)}``, ``self.drops.append(nn.Dropout(p))``.

A module built there is an item of a list, tuple, set or dict display or comprehension, or
the argument of ``append``/``insert``, maybe as a branch of ``a if c else b``. In the bytes,
the token before its callee is then one of ``[ ( , { : else``; in CPython's tree, its
parent (past ``if``/``else`` expressions) is one of those nodes, and the container is
stored in an attribute (``x.a = [...]``, ``x.a += [...]``, ``x.a.extend([...])``,
``x.a.append(module)``). Classes of the file that
derive from one of the modules are built the same way: a file that defines one lets the
byte gate through. The bytes must also give something a container display (``= [``).
"""

from __future__ import annotations

import ast
import keyword
import re
from typing import Callable, Iterable, Optional

from .byte_scan import ByteScan
from .syntax_scan import SyntaxScan

_BRACKET_OR_QUOTE = re.compile(rb"[][(){}'\"#]")
_LOOK_BACK = 4000
_TRAILING_WORD = re.compile(rb"[A-Za-z0-9_\x80-\xff]+\Z")
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
# A class statement's bases, up to the ``):`` that ends them (bases may call: ``f(x)``).
# A class statement's bases, up to the ``):`` that ends them (bases may call: ``f(x)``).
_CLASS_WITH_BASES = re.compile(
    rb"class[ \t]+[A-Za-z0-9_\x80-\xff]+[ \t]*\((.*?)\)[ \t]*:", re.DOTALL
)
# Every dropout module's name contains this; ``Dropout2d as D`` imports one under another.
_DROPOUT = b"Dropout"
_DROPOUT_AS = re.compile(rb"Dropout[A-Za-z0-9_]*(?:[ \t\f\r\n]|\\)+as\b")
# An ``=`` giving something a container display: ``x.a = [``, ``x.a = dict(``; then the
# same with the attribute, slower to search. An assignment is never inside brackets, so
# only blanks and backslash continuations come between.
_LINE_GAP = rb"(?:[ \t\f]|\\\r?\n)*"
_CONTAINER_DISPLAY = rb"(?:[\[({]|(?:list|tuple|dict)\b)"
_GIVEN_CONTAINER = re.compile(rb"=" + _LINE_GAP + _CONTAINER_DISPLAY)
_ATTRIBUTE_GIVEN_CONTAINER = re.compile(
    rb"\.[A-Za-z0-9_\x80-\xff]+" + _LINE_GAP + rb"(?::[^=]*)?=" + _LINE_GAP + _CONTAINER_DISPLAY
)


def may_build_dropout_into_container(scan: ByteScan, names: Iterable[str]) -> bool:
    """Whether the bytes may build a dropout module (``names``: torch's dropout classes)
    into a container that something is given (``x.a = [``), or define a class deriving
    from one; never wrongly False."""
    data = scan.data
    if _GIVEN_CONTAINER.search(data) is None:
        return False
    if any(
        _may_be_container_item(data, token, start)
        for name in names
        for token, start in scan.tokens_before_calls(name)
    ):
        return _ATTRIBUTE_GIVEN_CONTAINER.search(data) is not None
    if _DROPOUT_AS.search(data):
        return True  # imported under another name, which a base may spell
    return any(_DROPOUT in bases.group(1) for bases in _CLASS_WITH_BASES.finditer(data))


def _may_be_container_item(data: bytes, token: Optional[bytes], start: int) -> bool:
    """Whether a call after ``token`` (at ``start``) may be an item of a container or the
    argument of ``append``/``insert``: not when the bytes show it is an argument of
    another call (``nn.Sequential(a, nn.Dropout(p))``)."""
    if token not in _CONTAINER_TOKENS:
        return False
    if token == b",":
        start = _open_bracket_before(data, start)
        if start < 0:
            return True  # unreadable: maybe
        token = data[start : start + 1]
    if token != b"(":
        return True
    end = start
    while end > 0 and data[end - 1] in b" \t\f":
        end -= 1
    called = _TRAILING_WORD.search(data, max(0, end - 100), end)  # names are shorter
    if called is None:
        return True  # a parenthesised expression or tuple, or ``f(x)(...)``: maybe
    word = called.group().decode("latin-1")
    return word in _ADDING_METHODS or keyword.iskeyword(word)


def _open_bracket_before(data: bytes, position: int) -> int:
    """Where the bracket enclosing ``position`` opens; -1 when a string, a comment or a
    long way make the bytes before unreadable."""
    start = max(0, position - _LOOK_BACK)
    depth = 0
    for match in _BRACKET_OR_QUOTE.finditer(data[start:position][::-1]):
        byte = match.group()
        if byte in b"'\"#":
            return -1
        if byte in b")]}":
            depth += 1
        elif depth == 0:
            return position - 1 - match.start()
        else:
            depth -= 1
    return -1


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
