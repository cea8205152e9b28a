"""Finding nodes of one type in a libcst subtree.

What ``libcst.matchers.findall(node, m.Kind())`` does for a plain node type, without
importing ``libcst.matchers``: that import takes longer than libcst's own (most of a
second on a loaded machine), in every process that lints a file.
"""

from __future__ import annotations

from typing import TypeVar

import libcst as cst

N = TypeVar("N", bound=cst.CSTNode)


def nodes_of_type(node: cst.CSTNode, kind: type[N]) -> list[N]:
    """Every node of type ``kind`` in ``node``'s subtree, ``node`` included, in the order
    of the source."""
    found: list[N] = []

    class _Collector(cst.CSTVisitor):
        def on_visit(self, visited: cst.CSTNode) -> bool:
            if isinstance(visited, kind):
                found.append(visited)
            return True

    node.visit(_Collector())
    return found
