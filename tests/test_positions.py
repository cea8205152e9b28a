"""The positions a finding reports are libcst's own, though only its statement is rendered.

``FileContext.positions`` renders, with positions, only the innermost statement holding a
node asked about (``engine/positions.py``); every node must get the range libcst's
``PositionProvider`` gives it when rendering the whole module, whatever order the nodes
are asked in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dropout_lint.analysis.node_search import parents
from dropout_lint.engine.positions import NodePositions
from dropout_lint.fixes.node_edits import ModuleLayout
from dropout_lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted(path for folder in ("fixtures", "examples") for path in (ROOT / folder).rglob("*.py"))

# What moves a statement's first line or column: comments and blank lines before it, at
# the top and in blocks (and after a block's last statement), decorators with comments
# between them, continued lines, semicolons, one-line blocks, tabs and form feeds,
# strings over several lines, every line ending, and no newline at the end.
LAYOUTS = [
    "# header\n\nimport torch\n\n\nclass A(nn.Module):\n    # lead\n\n    def f(self, x):\n"
    "        y = x; z = F.dropout(y)\n        # footer of f\n\n    # footer of A\n\n\nx = 1  # end\n",
    "@a\n# between\n@b(\n    c,\n)\n\ndef f(x):\n    if x: return F.dropout(x)\n"
    "    else:\n        s = '''one\ntwo\n'''\n        return x + \\\n            s\n",
    "class A:\r\n    def f(self):\r\n\r\n        return (1,\r\n                2)\r\n",
    "class A:\r    def f(self):\r        return g(\r            x)\r",
    "if x:\n\tclass B:\n\t\tdef g(self):\n\t\t\tpass\n\x0c\ndef h():\n    return [\n        k\n    ]",
    "try:\n    import a\nexcept ImportError:  # none\n    a = None\nfinally:\n    pass\n"
    "with open(p) as f, g():\n    for i in f:\n        while i:\n            break\n    else:\n        pass\n"
    "match x:\n    case [1, *rest] if rest:\n        y = f(\n            rest)\n    case _:\n        pass\n",
    "",
    "\n\n# only a comment\n",
]


def _every_node(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """``node`` and every node under it, those of the layout included."""
    yield node
    for child in node.children:
        yield from _every_node(child)


def _assert_libcst_positions(source: str) -> None:
    module = cst.parse_module(source)
    expected = PositionProvider()._gen(MetadataWrapper(module, unsafe_skip_copy=True))
    nodes = list(_every_node(module))
    assert set(nodes) == set(expected)
    parent = parents(module)  # the nodes of the code: those rules report
    code_nodes = [node for node in nodes if node in parent]
    # Inner statements asked before the outer ones, and after; then the layout's nodes.
    for order in (code_nodes, code_nodes[::-1] + nodes):
        positions = NodePositions(ModuleLayout(module), parent.get)
        for node in order:
            assert positions[node] == expected[node], (type(node).__name__, source)


@pytest.mark.parametrize("source", LAYOUTS)
def test_every_node_is_where_libcst_puts_it(source: str) -> None:
    _assert_libcst_positions(source)


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_node_of_the_fixtures_is_where_libcst_puts_it(path: Path) -> None:
    _assert_libcst_positions(path.read_text(encoding="utf-8"))


def test_every_node_of_the_rule_examples_is_where_libcst_puts_it() -> None:
    for rule in ALL_RULES:
        for example in (*rule.valid, *rule.invalid):
            _assert_libcst_positions(example.code)


def test_only_the_statement_asked_about_is_rendered_with_positions() -> None:
    module = cst.parse_module("def f():\n    a = 1\n    return g(a)\n\n\ndef h():\n    pass\n")
    call = module.body[0].body.body[1].body[0].value
    positions = NodePositions(ModuleLayout(module), parents(module).get)
    assert (positions[call].start.line, positions[call].start.column) == (3, 11)
    assert module.body[1] not in positions._provider._computed
    assert module.body[0].body.body[0] not in positions._provider._computed
