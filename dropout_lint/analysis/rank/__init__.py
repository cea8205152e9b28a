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

from dataclasses import dataclass, replace
from typing import Optional, Union

import libcst as cst

from ..instance_parameter import instance_parameter_of
from ..module_classes import ModuleClasses
from .interpreter import Application, Callables, Interpreter, SourceFacts, code_of
from .project_files import defining_file
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
# The module classes of other files of the project, by path; and the classes whose
# ``forward`` is being followed across files.
_PROJECT_MODULES: dict[str, "_FileModules"] = {}
_MAX_PROJECT_FILES = 32
_FOLLOWING: set[tuple[str, str]] = set()


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


def _class_attributes(classdef: cst.ClassDef, context: "_FileModules") -> dict[str, Value]:
    """What every method of the class and its bases in this file assigns to ``self.<attr>``.

    An attribute assigned in several places is the join of all of them, so a layer
    swapped in a later method makes the attribute a choice, never a wrong certainty.
    """
    collector = Interpreter(context.facts, {}, context.callables_of(classdef))
    for owner in reversed(context.classes.classes_in_hierarchy(classdef)):
        for method in _methods(owner):
            collector.run_function(method, instance_parameter_of(method))
    return {attr: join_all(values) for attr, values in collector.assigned_attributes.items()}


@dataclass(frozen=True)
class _Summary:
    """A module class of the file, as a layer: its ``forward``'s result for the input."""

    modules: "_FileModules"
    classdef: cst.ClassDef

    def apply(self, value: Value, origin: str) -> Value:
        return self.modules.output_of(self.classdef, value)


@dataclass(frozen=True)
class _ProjectSummary:
    """A module class of another file of the project, as a layer: its ``forward``'s result
    for the input, told as coming from the call here (the other file's lines mean nothing
    in this one's messages). Only a tensor is kept."""

    modules: "_FileModules"
    classdef: cst.ClassDef

    def apply(self, value: Value, origin: str) -> Value:
        key = (self.modules.classes.path, self.classdef.name.value)
        if key in _FOLLOWING:
            return None  # recursion through imports
        _FOLLOWING.add(key)
        try:
            result = self.modules.output_of(self.classdef, value)
        finally:
            _FOLLOWING.discard(key)
        if not isinstance(result, Tensor):
            return None
        return Tensor(result.rank, origin, batch=origin if result.batch else None)


class _FileModules:
    """The file's module classes, for calls to them and to their helper methods.

    A class's attributes are computed once; a class whose ``forward`` is being followed
    is unknown inside itself (recursion).
    """

    def __init__(self, classes: ModuleClasses, facts: SourceFacts) -> None:
        self.classes = classes
        self.facts = facts
        self._attributes: dict[cst.ClassDef, dict[str, Value]] = {}
        self._active: set[cst.ClassDef] = set()

    def callables_of(self, classdef: Optional[cst.ClassDef]) -> Callables:
        methods: dict[str, tuple[cst.FunctionDef, Optional[str]]] = {}
        if classdef is not None:
            for owner in self.classes.classes_in_hierarchy(classdef):
                for method in _methods(owner):
                    methods.setdefault(method.name.value, (method, instance_parameter_of(method)))
        return Callables(methods, self.module_at)

    def attributes_of(self, classdef: cst.ClassDef) -> dict[str, Value]:
        known = self._attributes.get(classdef)
        if known is None:
            self._attributes[classdef] = {}  # a class that builds itself: nothing known
            known = self._attributes[classdef] = _class_attributes(classdef, self)
        return known

    def module_at(self, call: cst.Call) -> Optional[Layer]:
        """``Flatten()``: a layer whose effect is its class's ``forward``, if a module class
        of this file (one class of that name), or of another file of the project, is
        built there."""
        name = self.facts.qualified_name(call.func)
        if name is None:
            return None
        found = self.classes.classes_named(name)
        if found:
            if len(found) != 1 or not self.classes.is_module_class(found[0]):
                return None
            return Layer(found[0].name.value, call, _Summary(self, found[0]))
        defined = defining_file(name, self.classes.path, self.classes.project_module_classes)
        if defined is None:
            return None
        project_file, classdef = defined
        known = _PROJECT_MODULES.get(project_file.path)
        if known is None or known.classes is not project_file.classes:
            if len(_PROJECT_MODULES) >= _MAX_PROJECT_FILES:
                _PROJECT_MODULES.pop(next(iter(_PROJECT_MODULES)))
            known = _PROJECT_MODULES[project_file.path] = _FileModules(
                project_file.classes, project_file.facts
            )
        module_name = name.rsplit(".", 2)[-2] if name.count(".") >= 1 else ""
        return Layer(f"{module_name}.{classdef.name.value}", call, _ProjectSummary(known, classdef))

    def output_of(self, classdef: cst.ClassDef, value: Value) -> Value:
        forward = self.callables_of(classdef).methods.get("forward")
        if forward is None or classdef in self._active:
            return None
        self._active.add(classdef)
        try:
            interpreter = Interpreter(
                self.facts, self.attributes_of(classdef), self.callables_of(classdef)
            )
            return interpreter.result_of(forward[0], forward[1], [value], {})
        finally:
            self._active.discard(classdef)


def _caller_context(classdef: cst.ClassDef, modules: _FileModules) -> dict[str, Value]:
    """The rank of ``forward``'s input, from where the module classes of the file apply
    this one (``self.block(h)``), when every such call agrees on it: ``{"x": tensor}``."""
    forward = next((m for m in _methods(classdef) if m.name.value == "forward"), None)
    if forward is None or instance_parameter_of(forward) is None:
        return {}
    params = forward.params.params
    if len(params) < 2:
        return {}
    inputs: list[tuple[Value, cst.Call]] = []
    for parent in modules.classes.classes_calling(classdef.name.value):
        if parent is classdef or not modules.classes.is_module_class(parent):
            continue
        interpreter = Interpreter(
            modules.facts, modules.attributes_of(parent), modules.callables_of(parent)
        )
        for method in _methods(parent):
            interpreter.run_function(method, instance_parameter_of(method))
        inputs.extend(
            (application.input, application.site)
            for application in interpreter.applications.values()
            if isinstance(application.layer.transfer, _Summary)
            and application.layer.transfer.classdef is classdef
            and not application.standalone
        )
    joined = join_all(value for value, _ in inputs)
    if not isinstance(joined, Tensor):
        return {}
    site = inputs[0][1]
    origin = f"{joined.origin}, passed by `{code_of(site.func)}` at line {modules.facts.line(site)}"
    return {params[1].name.value: replace(joined, origin=origin)}


def analyze(unit: Unit, classes: ModuleClasses, facts: SourceFacts) -> RankAnalysis:
    """Infer the ranks in a class's methods, a function, or a module's top-level code.

    A class's ``forward`` whose input rank is unknown (no annotation) takes it from the
    module classes of the file that apply it, when they all agree (caller context)."""
    modules = _FileModules(classes, facts)
    if isinstance(unit, cst.ClassDef):
        interpreter = Interpreter(facts, modules.attributes_of(unit), modules.callables_of(unit))
        context = _caller_context(unit, modules)
        for method in _methods(unit):
            given = context if method.name.value == "forward" else {}
            interpreter.run_function(method, instance_parameter_of(method), given)
    elif isinstance(unit, cst.FunctionDef):
        interpreter = Interpreter(facts, {}, modules.callables_of(None))
        interpreter.run_function(unit, None)
    else:
        interpreter = Interpreter(facts, {}, modules.callables_of(None))
        interpreter.run_statements(
            [s for s in unit.body if not isinstance(s, (cst.FunctionDef, cst.ClassDef))]
        )
    return RankAnalysis(interpreter)
