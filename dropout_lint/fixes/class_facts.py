"""What registering a module in a class needs to know of it, gathered once per class.

The class's ``__init__`` and where it calls ``super().__init__()``, every name the class,
its bases and its subclasses in the file take (attributes, class-level names, identifier
strings such as ``setattr(self, "drop", ...)``), and where each ``self.<attribute>`` is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Collection, Optional, Sequence

import libcst as cst

from ..analysis.module_classes import Method, ModuleClasses
from ..analysis.node_search import nodes_of_type, visit_fields
from ..analysis.torch_api import DROPOUT_MODULES
from ..engine.context import FileContext

_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


@dataclass
class ClassFacts:
    """What registering a module in one class needs to know, gathered once per class."""

    classdef: cst.ClassDef
    init: Optional[cst.FunctionDef]
    init_self: Optional[str]
    super_index: Optional[int]
    taken_names: set[str]
    # Attribute -> where ``self.<attribute>`` is assigned: (class, method, top-level index).
    writes: dict[str, list[tuple[cst.ClassDef, cst.FunctionDef, int]]]
    class_level_names: set[str]
    subclasses: list[cst.ClassDef]
    hierarchy: list[cst.ClassDef]
    # The ``self.<attribute> = <...>.Dropout(...)`` modules of the class and its relatives.
    dropout_modules: set[str] = field(default_factory=set)
    # Attribute names the project sets after construction, in any file.
    reassigned_elsewhere: Collection[str] = frozenset()
    # (module_class, constructor code) -> the attribute registered for it, and where.
    shared: dict[tuple[str, str], tuple[str, int, cst.BaseStatement]] = field(default_factory=dict)

    def lifetime_constant(self, attribute: str) -> Optional[int]:
        """The ``__init__`` index after which ``self.<attribute>`` holds its final value.

        None when it is set outside an ``__init__``, in a subclass, is a method or property,
        is set nowhere this file can see, or the project sets it after construction
        (``model.drop_rate = 0.0`` in another file); also when a base class sets it and this
        class has no ``__init__`` of its own that calls ``super().__init__()``.
        """
        if attribute in self.reassigned_elsewhere:
            return None
        if any(
            isinstance(statement, cst.FunctionDef) and statement.name.value == attribute
            for owner in self.hierarchy + self.subclasses
            for statement in class_body(owner)
        ):
            return None
        writes = self.writes.get(attribute, [])
        if any(function.name.value != "__init__" for _, function, _ in writes):
            return None
        if any(owner in self.subclasses for owner, _, _ in writes):
            return None
        own = [index for owner, function, index in writes if function is self.init]
        if own:
            return max(own)
        if writes or attribute in self.class_level_names:
            return self.super_index  # None without an own ``__init__`` calling ``super().__init__()``
        return None


class ClassFactsIndex:
    """The facts of each class of one file, gathered on first use."""

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.classes: ModuleClasses = context.classes
        self._facts: dict[cst.ClassDef, ClassFacts] = {}
        self._classes: Optional[list[cst.ClassDef]] = None

    def facts_of(self, classdef: cst.ClassDef) -> ClassFacts:
        if classdef in self._facts:
            return self._facts[classdef]
        hierarchy = self.classes.classes_in_hierarchy(classdef)
        subclasses = [
            other
            for other in self._all_classes()
            if other is not classdef and classdef in self.classes.classes_in_hierarchy(other)
        ]
        inits = [s for s in class_body(classdef) if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"]
        init = inits[0] if len(inits) == 1 and isinstance(inits[0].body, cst.IndentedBlock) else None
        init_self = Method(classdef, init).self_name if init is not None else None
        facts = ClassFacts(
            classdef=classdef,
            init=init,
            init_self=init_self,
            super_index=_super_init_index(init, init_self) if init and init_self else None,
            taken_names=set(),
            writes={},
            class_level_names=set(),
            subclasses=subclasses,
            hierarchy=hierarchy,
            reassigned_elsewhere=self.context.reassigned_attributes,
        )
        for owner in hierarchy + subclasses:
            self._gather(owner, facts)
        self._facts[classdef] = facts
        return facts

    def _all_classes(self) -> list[cst.ClassDef]:
        if self._classes is None:
            self._classes = nodes_of_type(self.context.module, cst.ClassDef)
        return self._classes

    def _gather(self, owner: cst.ClassDef, facts: ClassFacts) -> None:
        strings = _StringCollector()
        visit_fields(owner, strings)
        facts.taken_names |= strings.identifiers
        for statement in class_body(owner):
            names = _class_level_names(statement)
            facts.class_level_names |= names
            facts.taken_names |= names
            if not isinstance(statement, cst.FunctionDef):
                continue
            self_name = Method(owner, statement).self_name
            if self_name is None or not isinstance(statement.body, cst.IndentedBlock):
                continue
            for index, inner in enumerate(statement.body.body):
                collector = _SelfAttributes(self_name)
                visit_fields(inner, collector)
                facts.taken_names |= collector.used
                facts.dropout_modules |= collector.dropout_modules
                for attribute in collector.written:
                    facts.writes.setdefault(attribute, []).append((owner, statement, index))


class _StringCollector(cst.CSTVisitor):
    """Identifier-like strings: ``setattr(self, "dropout", ...)``, ``add_module("dropout", ...)``."""

    def __init__(self) -> None:
        super().__init__()
        self.identifiers: set[str] = set()

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and _IDENTIFIER.match(value):
            self.identifiers.add(value)


class _SelfAttributes(cst.CSTVisitor):
    """The ``self.<name>`` attributes a statement reads or writes, and those it writes."""

    def __init__(self, self_name: str) -> None:
        super().__init__()
        self.self_name = self_name
        self.used: set[str] = set()
        self.written: set[str] = set()
        self.dropout_modules: set[str] = set()

    def visit_Assign(self, node: cst.Assign) -> None:
        value = node.value
        if not isinstance(value, cst.Call):
            return
        func = value.func
        called = func.attr.value if isinstance(func, cst.Attribute) else getattr(func, "value", None)
        if called in DROPOUT_MODULES:
            self.dropout_modules |= {
                t.target.attr.value
                for t in node.targets
                if isinstance(t.target, cst.Attribute)
                and isinstance(t.target.value, cst.Name)
                and t.target.value.value == self.self_name
            }

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and node.value.value == self.self_name:
            self.used.add(node.attr.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._written(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._written(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._written(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._written(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._written(node.name)

    def visit_Del(self, node: cst.Del) -> None:
        self._written(node.target)

    def _written(self, target: cst.BaseExpression) -> None:
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._written(element.value)
        elif isinstance(target, cst.StarredElement):
            self._written(target.value)
        elif (
            isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == self.self_name
        ):
            self.written.add(target.attr.value)


class _ReturnOrSelfCall(cst.CSTVisitor):
    def __init__(self, self_name: str, methods: set[str]) -> None:
        super().__init__()
        self.self_name = self_name
        self.methods = methods
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        self.found = True

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value == self.self_name:
            self.found = True
        elif (
            isinstance(func, cst.Attribute)
            and isinstance(func.value, cst.Name)
            and func.value.value == self.self_name
            and func.attr.value in self.methods
        ):
            self.found = True


class _SelfCallsInRunOrder(cst.CSTVisitor):
    """Calls in the order they finish (arguments before the call that takes them), each with
    the ``self.<attribute>`` it calls, if any."""

    def __init__(self, self_name: str) -> None:
        super().__init__()
        self.self_name = self_name
        self.calls: list[tuple[cst.Call, Optional[str]]] = []

    def leave_Call(self, original_node: cst.Call) -> None:
        func = original_node.func
        called = (
            func.attr.value
            if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value == self.self_name
            else None
        )
        self.calls.append((original_node, called))


def neighbour_layer_index(facts: ClassFacts, method: Method, call: cst.Call) -> Optional[int]:
    """Where a module for ``call`` goes in ``__init__`` to be listed in run order: after the
    statement that builds the layer ``method`` calls last before ``call``, else before the one
    that builds the layer it calls first after it; None when it calls neither."""
    if method.self_name is None or facts.init is None:
        return None
    order = _SelfCallsInRunOrder(method.self_name)
    visit_fields(method.function, order)
    built = {
        attribute: [index for _, function, index in writes if function is facts.init]
        for attribute, writes in facts.writes.items()
    }
    position = next((i for i, (node, _) in enumerate(order.calls) if node is call), None)
    if position is None:
        return None
    before = [built[a][-1] + 1 for _, a in order.calls[:position] if a is not None and built.get(a)]
    if before:
        return before[-1]
    after = [built[a][0] for _, a in order.calls[position + 1 :] if a is not None and built.get(a)]
    return after[0] if after else None


def returns_or_calls_self(statement: cst.CSTNode, self_name: str, methods: set[str]) -> bool:
    """Whether ``statement`` may leave ``__init__`` or run the code that needs the module."""
    finder = _ReturnOrSelfCall(self_name, methods)
    visit_fields(statement, finder)
    return finder.found


def writes_self(statement: cst.BaseStatement, self_name: str) -> bool:
    collector = _SelfAttributes(self_name)
    visit_fields(statement, collector)
    return bool(collector.written)


def _super_init_index(init: cst.FunctionDef, self_name: str) -> Optional[int]:
    """Index of the top-level ``super().__init__(...)`` (or ``Base.__init__(self, ...)``)."""
    for index, statement in enumerate(init_body(init).body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        expression = statement.body[0]
        if not isinstance(expression, cst.Expr) or not isinstance(expression.value, cst.Call):
            continue
        func = expression.value.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "__init__"):
            continue
        target = func.value
        if isinstance(target, cst.Call) and isinstance(target.func, cst.Name) and target.func.value == "super":
            return index
        args = expression.value.args
        if args and isinstance(args[0].value, cst.Name) and args[0].value.value == self_name:
            return index
    return None


def class_body(classdef: cst.ClassDef) -> Sequence[cst.BaseStatement]:
    body = classdef.body
    return body.body if isinstance(body, cst.IndentedBlock) else ()  # type: ignore[return-value]


def _class_level_names(statement: cst.BaseStatement) -> set[str]:
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return {statement.name.value}
    names: set[str] = set()
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets: list[cst.BaseExpression] = []
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                targets = [small.target]
            names |= {t.value for t in targets if isinstance(t, cst.Name)}
    return names


def init_body(function: cst.FunctionDef) -> cst.IndentedBlock:
    assert isinstance(function.body, cst.IndentedBlock)
    return function.body
