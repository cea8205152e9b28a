"""Gates for modules built into a container: ``[nn.Dropout(p) for _ in ...]``,
``{"a": nn.Dropout(p)}``, ``self.drops.append(nn.Dropout(p))``.

A module built there is an item of a list, tuple, set or dict display or comprehension, or
the argument of ``append``/``insert``, maybe as a branch of ``a if c else b``; in CPython's
tree, its parent (past ``if``/``else`` expressions) is one of those nodes, and the
container is stored in an attribute (``x.a = [...]``, ``x.a += [...]``,
``x.a.extend([...])``, ``x.a.append(module)``) that, for the last three, some assignment
gives a container (``x.a = []``). Classes of the file that derive from one of the modules
are built the same way: a file that defines one lets the byte gate through.

The byte gate reads the same from the code around each call, with comments and strings
blanked (:attr:`ByteScan.code`): the brackets that hold it and what comes before
them. It turns away a container that is a call's argument (``nn.ModuleList([...])``),
nested in another, or added to a name or to an attribute every assignment gives a call
(``self.to_out = nn.ModuleList([])``); the rest passes. The bytes must also give some
attribute a container display (``x.a = [``).
"""

from __future__ import annotations

import ast
import keyword
import re
from functools import lru_cache
from typing import Callable, Iterable, Optional

from .byte_scan import (
    WORD_BYTES,
    ByteScan,
    held,
    previous_code_byte,
    token_before_chain,
    word_ends,
)
from .syntax_scan import SyntaxScan

_BRACKET = re.compile(rb"[][(){}]")
# How far the code around a call is read, so that no input makes the gate slow; past
# these, the answer is "maybe".
_LOOK_BACK = 4000
_LOOK_AHEAD = 20_000
_MAX_USES = 1000  # of an attribute's name, for its assignments
_MAX_NESTING = 200  # parentheses within parentheses: CPython's parser allows no more
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
_CLASS_WITH_BASES = re.compile(
    rb"class[ \t]+[A-Za-z0-9_\x80-\xff]+[ \t]*\((.*?)\)[ \t]*:", re.DOTALL
)
# Every dropout module's name contains this; ``Dropout2d as D`` imports one under another.
_DROPOUT = b"Dropout"
_DROPOUT_AS = re.compile(rb"Dropout[A-Za-z0-9_]*(?:[ \t\f\r\n]|\\)+as\b")
# What may separate tokens outside brackets: blanks and backslash continuations. Never
# given back (`*+`): what follows it is never a blank or a backslash, so it finds what a
# plain `*` would, and fails at once where it fails (at each of the many dots a search
# for an attribute tries).
_LINE_GAP = rb"[ \t\f]*+(?:\\\r?\n[ \t\f]*+)*+"
# An ``=`` giving something a container display: ``x.a = [``, ``x.a = dict(``; then the
# same with the attribute, slower to search. An assignment is never inside brackets.
_CONTAINER_DISPLAY = rb"(?:[\[({]|(?:list|tuple|dict)\b)"
_GIVEN_CONTAINER = re.compile(held(rb"=" + _LINE_GAP + _CONTAINER_DISPLAY))
_ATTRIBUTE_GIVEN_CONTAINER = re.compile(
    held(rb"\.[A-Za-z0-9_\x80-\xff]++" + _LINE_GAP + rb"(?::[^=]*+)?=" + _LINE_GAP + _CONTAINER_DISPLAY)
)
# After an attribute: the ``=`` of an assignment to it, maybe past an annotation.
_ASSIGNED = re.compile(held(_LINE_GAP + rb"(?::[^=]*)?=(?!=)"))
_BLANKS_ON_LINE = re.compile(held(_LINE_GAP))
_NAME = re.compile(rb"[A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*")
_STATEMENT_END = re.compile(held(_LINE_GAP + rb"(?:[\r\n;]|\Z)"))
_GROUP_TOKEN = re.compile(rb"[][(){},]|(?<![A-Za-z0-9_\x80-\xff])for(?![A-Za-z0-9_\x80-\xff])")
_CONTAINER_CALLS = (b"list", b"tuple", b"dict")
_CONSTANTS = (b"None", b"True", b"False")
# The tokens an item of a container may come after, a branch of `a if c else b` too (None:
# unreadable, a comment between).
_ITEM_TOKENS = (b"[", b"(", b",", b"{", b":", b"else", None)


def may_build_dropout_into_container(scan: ByteScan, names: Iterable[str]) -> bool:
    """Whether the bytes may build a dropout module (``names``: torch's dropout classes)
    into a container that something is given (``x.a = [``), or define a class deriving
    from one; never wrongly False."""
    data = scan.data
    if _GIVEN_CONTAINER.search(data) is None:
        return False
    if _may_store_an_item(scan, names):
        return True
    if _DROPOUT_AS.search(data):
        return True  # imported under another name, which a base may spell
    return any(_DROPOUT in bases.group(1) for bases in _CLASS_WITH_BASES.finditer(data))


def _may_store_an_item(scan: ByteScan, names: Iterable[str]) -> bool:
    """Whether a call of one of ``names`` may be an item of a container stored in an
    attribute, or be added to one. The token before each call, read in the bytes, rules out
    most (``= nn.Dropout(p)``); the code is read only around the others, in a file that
    gives some attribute a container display."""
    starts = [
        start
        for name in names
        for start in scan.callee_starts(name)
        if token_before_chain(scan.data, start)[0] in _ITEM_TOKENS
    ]
    if not starts or _ATTRIBUTE_GIVEN_CONTAINER.search(scan.data) is None:
        return False
    code = scan.code
    return code is None or any(_may_be_stored_item(code.text, start) for start in starts)


# The reading of the code around a call below follows _built_into_container's reading of
# CPython's tree, erring towards "maybe". `code` is the text of ByteScan.code: no comment or
# string can fool a search for brackets or words in it.


def _may_be_stored_item(code: bytes, name_start: int) -> bool:
    """Whether the call whose callee's last name starts at ``name_start`` may be an item
    of a container stored in an attribute (``x.a = [...]``), or the argument of
    ``x.a.append``/``insert`` for an attribute ``a`` that may be given a container."""
    if code[name_start] not in WORD_BYTES:
        return False  # in a comment or a string
    token, start = token_before_chain(code, name_start)
    return _may_be_item_after(code, token, start)


def _may_be_item_after(code: bytes, token: Optional[bytes], start: int) -> bool:
    """:func:`_may_be_stored_item` for an expression after ``token``, which starts at
    ``start``: a word, one byte of punctuation, ``b""`` at the start, None if unreadable."""
    for _ in range(_MAX_NESTING):
        if token == b",":
            start = _open_bracket_before(code, start)
            if start < 0:
                return True  # at the top of a statement (`x.a = b, c`), or far: maybe
            token = code[start : start + 1]
            if token == b"(" and not _is_call(code, start):
                return _may_be_stored(code, start)  # an item of a tuple
        if token != b"(":
            if token in (b"[", b"{"):
                return _may_be_stored(code, start)
            return token in (b":", b"else", None)  # a dict's value, `a if c else b`, unreadable
        if _is_call(code, start):
            return _may_be_added(code, start, _ADDING_METHODS)
        one_expression = _holds_one_expression(code, start)
        if one_expression is None:
            return True  # too long to read: maybe
        if not one_expression:
            return _may_be_stored(code, start)  # a tuple or a generator
        token, start = _token_before(code, start)  # parenthesised: what holds the parentheses
    return True  # nested deeper than Python's parser allows, which will say so


def _may_be_stored(code: bytes, opening: int) -> bool:
    """Whether the container display opening at ``opening`` may be stored in an attribute
    (``x.a = [...]``, ``x.a += [...]``) or extend one (``x.a.extend([...])``): not when it
    is itself an item of a container, a dict's key or value, a subscript, or the argument
    of a call other than ``extend``."""
    token, start = _token_before(code, opening)
    if token in (b"[", b"{", b":", b"*"):
        return False  # nested, a dict's key or value, a subscript, unpacked, multiplied
    if token == b",":
        start = _open_bracket_before(code, start)
        if start < 0:
            return True  # at the top of a statement (`x.a = b, [...]`), or far: maybe
        token = code[start : start + 1]
        if token != b"(" or not _is_call(code, start):
            return False  # an item of a list, set, dict or tuple
    if token == b"(":
        return not _is_call(code, start) or _may_be_added(code, start, ("extend",))
    if token == b"=" and code[start - 1 : start] == b"+":
        return _attribute_may_be_given_container(code, start - 1)  # `x.a += [...]`
    return True


def _may_be_added(code: bytes, paren: int, methods: tuple[str, ...]) -> bool:
    """Whether the call whose arguments open at ``paren`` may add them to an attribute by
    one of ``methods`` (``x.a.append(...)``), for an ``a`` maybe given a container."""
    method, method_start = _token_before(code, paren)
    if method.decode("latin-1") not in methods:
        return False  # a call of a name, or of another method
    dot, dot_start = _token_before(code, method_start)
    return dot == b"." and _attribute_may_be_given_container(code, dot_start)


def _attribute_may_be_given_container(code: bytes, end: int) -> bool:
    """Whether the expression that ends before ``end`` may be ``x.a`` for an ``a`` that an
    assignment in the file may give a container; not a name or a subscript."""
    name, start = _token_before(code, end)
    if name == b")":
        return True  # `(x.a).append(...)`: maybe
    dot, _ = _token_before(code, start)
    return _is_word(name) and dot == b"." and _may_be_given_container(code, name)


@lru_cache(maxsize=16)
def _may_be_given_container(code: bytes, attribute: bytes) -> bool:
    """Whether some assignment to ``<x>.attribute`` may give it a container: any whose
    value is not plainly something else (``nn.ModuleList([])``, ``None``, ``x.a[:n]``).
    Kept for the calls of a file that add to the same attribute."""
    for count, end in enumerate(word_ends(code, attribute)):
        if count == _MAX_USES:
            return True  # too many to read: maybe
        dot, _ = _token_before(code, end - len(attribute))
        assignment = _ASSIGNED.match(code, end)
        if dot == b"." and assignment and not _is_plainly_no_container(code, assignment.end()):
            return True
    return False


def _is_plainly_no_container(code: bytes, position: int) -> bool:
    """Whether the value starting at ``position`` is a name (or ``None``, ``True``,
    ``False``) with nothing but attributes, calls and subscripts after it, to the end of
    its statement (``nn.ModuleList([])``, ``x.a[:n]``), and no call of ``list``,
    ``tuple`` or ``dict``."""
    name = _NAME.match(code, _BLANKS_ON_LINE.match(code, position).end())
    if name is None or name.group() in _CONTAINER_CALLS:
        return False
    if keyword.iskeyword(name.group().decode("latin-1")) and name.group() not in _CONSTANTS:
        return False
    index = name.end()
    while _STATEMENT_END.match(code, index) is None:
        index = _BLANKS_ON_LINE.match(code, index).end()
        if code[index : index + 1] == b".":
            trailer = _NAME.match(code, _BLANKS_ON_LINE.match(code, index + 1).end())
            end = -1 if trailer is None else trailer.end()
        elif code[index : index + 1] in (b"(", b"["):
            end = _closing_bracket(code, index) + 1
        else:
            return False
        if end <= 0:
            return False
        index = end
    return True


def _token_before(code: bytes, position: int) -> tuple[bytes, int]:
    """The token that ends before ``position`` and where it starts: a word, one byte of
    punctuation, or ``b""`` at the start of the file."""
    end = previous_code_byte(code, position)
    if end < 0:
        return b"", 0
    start = end
    if code[end] in WORD_BYTES:
        while start > 0 and code[start - 1] in WORD_BYTES:
            start -= 1
    return code[start : end + 1], start


def _is_word(token: bytes) -> bool:
    return bool(token) and token[0] in WORD_BYTES


def _is_call(code: bytes, paren: int) -> bool:
    """Whether the ``(`` at ``paren`` opens a call's arguments: it follows a name, a ``)``,
    a ``]`` or a string; not a keyword (``in (a, b)``), an operator or a bracket."""
    token, _ = _token_before(code, paren)
    if _is_word(token):
        return not keyword.iskeyword(token.decode("latin-1"))
    return token in (b")", b"]", b"'")


def _holds_one_expression(code: bytes, paren: int) -> Optional[bool]:
    """Whether the parentheses opening at ``paren`` hold one expression: no ``,`` or
    ``for`` among the tokens they hold directly (not a tuple or a generator); None when
    they do not close within a long way."""
    depth = 0
    for match in _GROUP_TOKEN.finditer(code, paren, paren + _LOOK_AHEAD):
        token = match.group()
        if token in b"([{":
            depth += 1
        elif token in b")]}":
            depth -= 1
            if depth == 0:
                return True
        elif depth == 1:
            return False  # `,` or `for`
    return None


def _open_bracket_before(code: bytes, position: int) -> int:
    """Where the bracket enclosing ``position`` opens; -1 when there is none within a long
    way back."""
    start = max(0, position - _LOOK_BACK)
    depth = 0
    for match in _BRACKET.finditer(code[start:position][::-1]):
        if match.group() in b")]}":
            depth += 1
        elif depth == 0:
            return position - 1 - match.start()
        else:
            depth -= 1
    return -1


def _closing_bracket(code: bytes, opening: int) -> int:
    """Where the bracket opening at ``opening`` closes; -1 if it does not within a long way."""
    depth = 0
    for match in _BRACKET.finditer(code, opening, opening + _LOOK_AHEAD):
        if match.group() in b"([{":
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return match.start()
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
