"""Static tensor-rank inference over a module's methods and ``nn.Sequential`` literals.

An abstract interpretation whose value for a tensor is its rank, or unknown. Ranks come
from torch layers registered on ``self``, tensor methods and torch functions, constructors
with literal sizes and jaxtyping annotations; they flow through assignments, tuples,
branches and loops. Unknown stays unknown: a rank is only ever reported when every path
agrees on it.

Rules ask for one unit at a time (a class, a function, or a file's top-level statements)
and read the result: the value of any expression, and every application of a torch layer.
"""

from __future__ import annotations

from typing import Union

import libcst as cst

from ..instance_parameter import instance_parameter_of
from ..module_classes import ModuleClasses
from .interpreter import Application, Interpreter, SourceFacts
from .values import Layer, Tensor, Value, join_all

__all__ = [
    "Application",
    "Layer",
    "RankAnalysis",
    "SourceFacts",
    "Tensor",
    "Value",
    "analyze",
]

Unit = Union[cst.ClassDef, cst.FunctionDef, cst.Module]


class RankAnalysis:
    """The inferred values of one unit's expressions and the layer applications in it."""

    def __init__(self, interpreter: Interpreter) -> None:
        self._values = interpreter.values
        self.applications: list[Application] = list(interpreter.applications.values())

    def value_of(self, node: cst.CSTNode) -> Value:
        """What is known of ``node`` where it is evaluated (None: unknown or never reached)."""
        return self._values.get(node)

    def rank_of(self, node: cst.CSTNode) -> Union[Tensor, None]:
        value = self._values.get(node)
        return value if isinstance(value, Tensor) else None

    def applications_of(self, layer_node: cst.Call) -> list[Application]:
        """Where the layer built by ``layer_node`` is applied, and to what."""
        return [a for a in self.applications if a.layer.node is layer_node]


def _methods(classdef: cst.ClassDef) -> list[cst.FunctionDef]:
    body = classdef.body
    if not isinstance(body, cst.IndentedBlock):
        return []
    return [statement for statement in body.body if isinstance(statement, cst.FunctionDef)]


def _class_attributes(
    classdef: cst.ClassDef, classes: ModuleClasses, facts: SourceFacts
) -> dict[str, Value]:
    """What every method of the class and its bases in this file assigns to ``self.<attr>``.

    An attribute assigned in several places is the join of all of them, so a layer
    swapped in a later method makes the attribute a choice, never a wrong certainty.
    """
    collector = Interpreter(facts, attributes={})
    for owner in reversed(classes.classes_in_hierarchy(classdef)):
        for method in _methods(owner):
            collector.run_function(method, instance_parameter_of(method))
    return {attr: join_all(values) for attr, values in collector.assigned_attributes.items()}


def analyze(unit: Unit, classes: ModuleClasses, facts: SourceFacts) -> RankAnalysis:
    """Infer the ranks in a class's methods, a function, or a module's top-level code."""
    if isinstance(unit, cst.ClassDef):
        interpreter = Interpreter(facts, _class_attributes(unit, classes, facts))
        for method in _methods(unit):
            interpreter.run_function(method, instance_parameter_of(method))
    elif isinstance(unit, cst.FunctionDef):
        interpreter = Interpreter(facts, attributes={})
        interpreter.run_function(unit, None)
    else:
        interpreter = Interpreter(facts, attributes={})
        interpreter.run_statements(
            [s for s in unit.body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))]
        )
    return RankAnalysis(interpreter)
