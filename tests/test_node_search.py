"""Walking libcst trees by their fields: the same nodes, parents and order as libcst's visits.

The rules read the order of classes and calls (which subclass comes first, which caller
gives a ``forward`` its input), so the walk must give the code's nodes in the order a visit
does. The nodes of the layout (whitespace, comments, parentheses, punctuation) are skipped.
"""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, ParentNodeProvider

from dropout_lint.analysis.node_search import (
    nodes_of_type,
    parents,
    visit_batched_fields,
    visit_fields,
)

ROOT = Path(__file__).resolve().parent.parent

# Every node type whose fields are not declared in the order of the code they hold.
OUT_OF_ORDER = '''
@decorate(first())
@second
class Model(Base(third()), metaclass=meta(fourth())):
    @staticmethod
    def method(a, /, b=default(), *args, c=kw(), **kwargs) -> annotation():
        call(keyword=value(), other=another())
        x = body() if test() else orelse()
        try:
            pass
        except handler() as error:
            inside()
        match subject():
            case [pattern] if guard():
                matched()
        return lambda p=lam(): body_of_lambda()
'''


def _sources() -> list[tuple[str, str]]:
    files = sorted([*(ROOT / "fixtures").rglob("*.py"), *(ROOT / "examples").rglob("*.py")])
    return [("out_of_order", OUT_OF_ORDER), *((str(p.relative_to(ROOT)), p.read_text()) for p in files)]


# The node types of a tree's layout, which the walks skip.
LAYOUT = (
    cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Newline,
    cst.Comment, cst.Comma, cst.Colon, cst.Semicolon, cst.AssignEqual, cst.LeftParen,
    cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
)  # fmt: skip


def _is_code(node: cst.CSTNode) -> bool:
    return isinstance(node, (cst.BaseExpression, cst.BaseStatement, cst.BaseSmallStatement))


@pytest.mark.parametrize("name, source", _sources(), ids=[name for name, _ in _sources()])
def test_parents_are_libcsts(name: str, source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(ParentNodeProvider)
    found = parents(module)
    assert found == {node: parent for node, parent in expected.items() if not isinstance(node, LAYOUT)}
    assert len(found) <= len(expected) / 2  # layout is most of a tree
    assert [n for n in found if _is_code(n)] == [n for n in expected if _is_code(n)]


@pytest.mark.parametrize("name, source", _sources(), ids=[name for name, _ in _sources()])
def test_nodes_come_in_the_order_of_a_visit(name: str, source: str) -> None:
    module = cst.parse_module(source)
    visited: list[cst.CSTNode] = []

    class Recorder(cst.CSTVisitor):
        def on_visit(self, node: cst.CSTNode) -> bool:
            visited.append(node)
            return True

    module.visit(Recorder())
    assert nodes_of_type(module, cst.BaseExpression) == [
        n for n in visited if isinstance(n, cst.BaseExpression)
    ]
    assert [n for n in nodes_of_type(module, cst.CSTNode) if _is_code(n)] == [
        n for n in visited if _is_code(n)
    ]


def test_out_of_order_fields_are_walked_in_source_order() -> None:
    calls = nodes_of_type(cst.parse_module(OUT_OF_ORDER), cst.Call)
    names = [c.func.value for c in calls if isinstance(c.func, cst.Name)]
    assert names == [
        "decorate", "first", "Base", "third", "meta", "fourth", "default", "kw", "annotation",
        "call", "value", "another", "body", "test", "orelse", "handler", "inside", "subject",
        "guard", "matched", "lam", "body_of_lambda",
    ]


class _Calls(cst.CSTVisitor):
    """Every call entered and left, and nothing inside a function named ``skipped``."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, cst.Call]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return node.name.value != "skipped"

    def visit_Call(self, node: cst.Call) -> None:
        self.events.append(("visit", node))

    def leave_Call(self, original_node: cst.Call) -> None:
        self.events.append(("leave", original_node))


@pytest.mark.parametrize("name, source", _sources(), ids=[name for name, _ in _sources()])
def test_visit_fields_calls_what_a_visit_calls(name: str, source: str) -> None:
    module = cst.parse_module(source + "\ndef skipped():\n    hidden(call())\n")
    expected, found = _Calls(), _Calls()
    module.visit(expected)
    visit_fields(module, found)
    assert found.events == expected.events
    assert not any(c.func.value == "hidden" for _, c in found.events if isinstance(c.func, cst.Name))


class _Recorder(cst.BatchableCSTVisitor):
    """What the rules' visitors hook, entered and left, tagged with the recorder's name."""

    def __init__(self, tag: str, events: list[tuple[str, str, cst.CSTNode]]) -> None:
        super().__init__()
        self.tag, self.events = tag, events

    def _record(self, event: str, node: cst.CSTNode) -> None:
        self.events.append((self.tag, event, node))

    def visit_Module(self, node: cst.Module) -> None:
        self._record("visit", node)

    def leave_Module(self, original_node: cst.Module) -> None:
        self._record("leave", original_node)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._record("visit", node)
        return False  # a batched visit enters the children all the same

    def visit_Call(self, node: cst.Call) -> None:
        self._record("visit", node)

    def leave_Call(self, original_node: cst.Call) -> None:
        self._record("leave", original_node)

    def visit_Name(self, node: cst.Name) -> None:
        self._record("visit", node)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self._record("visit", node)


@pytest.mark.parametrize("name, source", _sources(), ids=[name for name, _ in _sources()])
def test_visit_batched_fields_calls_what_a_batched_visit_calls(name: str, source: str) -> None:
    module = cst.parse_module(source)
    expected: list[tuple[str, str, cst.CSTNode]] = []
    found: list[tuple[str, str, cst.CSTNode]] = []
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    wrapper.visit_batched([_Recorder("a", expected), _Recorder("b", expected)])
    visit_batched_fields(module, [_Recorder("a", found), _Recorder("b", found)])
    assert found == expected


def test_visit_batched_fields_refuses_per_field_hooks() -> None:
    class PerField(cst.BatchableCSTVisitor):
        def visit_Call_func(self, node: cst.Call) -> None:
            pass

    with pytest.raises(TypeError, match="visit_Call_func"):
        visit_batched_fields(cst.parse_module("f(x)\n"), [PerField()])
