"""Turning a plain container of dropout modules into ``nn.ModuleList`` or ``nn.ModuleDict``.

``self.dropouts = [nn.Dropout(p) for _ in range(n)]`` becomes
``self.dropouts = nn.ModuleList([nn.Dropout(p) for _ in range(n)])``, ``[]`` becomes
``nn.ModuleList()``, a tuple a list, ``{"a": ...}`` ``nn.ModuleDict({"a": ...})``: at every
place the attribute is assigned. Only done when each assignment in an ``__init__`` follows
its ``super().__init__()`` (a module cannot be assigned before), and the container is
``convertible`` (see :class:`~dropout_lint.analysis.plain_containers.PlainContainer`).
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.module_classes import ModuleClasses
from ..analysis.plain_containers import PlainContainer
from .class_facts import ClassFactsIndex
from .node_edits import NodeEdits
from .torch_nn_spelling import TorchNnSpelling


def converted_container(
    container: PlainContainer, facts: ClassFactsIndex, spelling: TorchNnSpelling
) -> Optional[NodeEdits]:
    """The edits that make every assignment of the container a registered one; None when
    that cannot be done safely."""
    if not container.convertible:
        return None
    class_name = "ModuleDict" if container.kind == "dict" else "ModuleList"
    classes = facts.classes
    edits = NodeEdits()
    for value, function in container.definitions:
        method = classes.enclosing_method(value)
        if method is None:
            return None
        owner = facts.facts_of(method.owner)
        if owner.init is None:
            return None
        if function.name.value == "__init__" and not (
            owner.init is function
            and owner.super_index is not None
            and _statement_index(value, function, classes) > owner.super_index
        ):
            return None
        spelled = spelling.class_spelling(class_name, owner)
        if spelled is None:
            return None
        constructor, new_import = spelled
        edits.replace(value, _wrapped(constructor, value))
        if new_import is not None and new_import not in edits.module_insertions:
            edits.insert_in_module(*new_import)
    return edits


def _statement_index(node: cst.CSTNode, function: cst.FunctionDef, classes: ModuleClasses) -> int:
    """The index, in ``function``'s body, of the statement holding ``node``."""
    body = function.body
    current: cst.CSTNode = node
    while classes.parent(current) is not body:
        parent = classes.parent(current)
        assert parent is not None
        current = parent
    assert isinstance(body, cst.IndentedBlock)
    return list(body.body).index(current)  # type: ignore[arg-type]


def _wrapped(constructor: cst.BaseExpression, value: cst.BaseExpression) -> cst.Call:
    if isinstance(value, (cst.List, cst.Tuple, cst.Dict)) and not value.elements:
        return cst.Call(constructor)
    if isinstance(value, cst.Call) and not value.args:  # list(), dict()
        return cst.Call(constructor)
    if isinstance(value, cst.Tuple):
        value = cst.List(value.elements)
    return cst.Call(constructor, [cst.Arg(value)])
