"""Which classes of a file are ``nn.Module`` subclasses, and which code is module code.

Module code is any method of such a class, with the functions and lambdas nested in it:
the code that runs with a module's train/eval mode at hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Collection, Mapping, Optional, TypeVar

import libcst as cst

from . import torch_api
from .class_hierarchy import class_hierarchy
from .instance_parameter import instance_parameter_of
from .name_resolution import NameResolver
from .node_search import parents
from .project_index import is_project_module_class, name_to_ask

T = TypeVar("T")


@dataclass(frozen=True)
class Method:
    """A method of an ``nn.Module`` subclass."""

    owner: cst.ClassDef = field(repr=False)
    function: cst.FunctionDef = field(repr=False)

    @property
    def name(self) -> str:
        return self.function.name.value

    @property
    def self_name(self) -> Optional[str]:
        """The name the instance goes by (``self``); None for static and class methods."""
        return instance_parameter_of(self.function)


class ModuleClasses:
    """Answers "is this class an nn.Module?" and "is this node module code?" for one file.

    A class is a module when a base resolves, through the file's own imports, to a class
    of ``torch.nn`` (or Lightning's ``LightningModule``, ...), to a module class of the
    same file, or to a module class of the linted project (``project_module_classes``,
    the qualified names :mod:`.project_index` gives, matched by module path). Anything
    else, including bases that cannot be resolved and classes of another module that
    share the base's name, is not a module: precision comes first.
    """

    def __init__(
        self,
        module: cst.Module,
        names: NameResolver,
        project_module_classes: Collection[str] = (),
        path: str = "",
    ):
        self._parents: Mapping[cst.CSTNode, cst.CSTNode] = parents(module)
        self._names = names
        self._project_module_classes = project_module_classes
        self._path = path
        self._star_imports = [
            _module_name(statement)
            for statement in module.body
            if isinstance(statement, cst.SimpleStatementLine)
            for statement in statement.body
            if isinstance(statement, cst.ImportFrom) and isinstance(statement.names, cst.ImportStar)
        ]
        self._classes_by_name: dict[str, list[cst.ClassDef]] = {}
        # ``name.method(...)`` calls by method name, indexed once: looking them up per
        # finding by walking every node made a file with many findings quadratic.
        self._calls_by_method_name: dict[str, list[cst.Call]] = {}
        self._calls_by_name: dict[str, list[cst.Call]] = {}
        # Picked out by exact type, as the parser builds them: an ``isinstance`` against a
        # libcst class runs Python code in ``abc`` for each node that is not one.
        for node in self._parents:
            kind = type(node)
            if kind is cst.ClassDef:
                self._classes_by_name.setdefault(node.name.value, []).append(node)
            elif kind is cst.Call:
                self._index_call(node)
        self._is_module: dict[cst.ClassDef, bool] = {}

    def _index_call(self, call: cst.Call) -> None:
        if isinstance(call.func, cst.Attribute) and isinstance(call.func.value, cst.Name):
            self._calls_by_method_name.setdefault(call.func.attr.value, []).append(call)
        elif isinstance(call.func, cst.Name):
            self._calls_by_name.setdefault(call.func.value, []).append(call)

    @property
    def path(self) -> str:
        return self._path

    @property
    def project_module_classes(self) -> Collection[str]:
        return self._project_module_classes

    def parent(self, node: cst.CSTNode) -> Optional[cst.CSTNode]:
        return self._parents.get(node)

    def is_module_class(self, classdef: cst.ClassDef) -> bool:
        known = self._is_module.get(classdef)
        if known is None:
            self._is_module[classdef] = False  # breaks cycles (class A(B), class B(A))
            known = self._is_module[classdef] = any(
                self._is_module_base(arg.value) for arg in classdef.bases if arg.keyword is None
            )
        return known

    def classes_named(self, name: str) -> list[cst.ClassDef]:
        """The classes of this file called ``name``."""
        return list(self._classes_by_name.get(name, ()))

    def classes_calling(self, name: str) -> list[cst.ClassDef]:
        """The classes of this file with a call of the bare name ``name`` (``Block(...)``)."""
        found: list[cst.ClassDef] = []
        for call in self._calls_by_name.get(name, ()):
            current = self._parents.get(call)
            while current is not None and not isinstance(current, cst.ClassDef):
                current = self._parents.get(current)
            if current is not None and current not in found:
                found.append(current)
        return found

    def resolve_name(self, node: cst.CSTNode, lookup: Callable[[str], Optional[T]]) -> Optional[T]:
        """See :meth:`NameResolver.resolve`."""
        return self._names.resolve(node, lookup)

    def _is_module_base(self, base: cst.BaseExpression) -> bool:
        if isinstance(base, cst.Subscript):  # Generic[T], Base[Config]
            base = base.value
        if isinstance(base, cst.Name) and base.value in self._classes_by_name:
            return any(self.is_module_class(c) for c in self._classes_by_name[base.value])
        names = self._names.qualified_names(base)
        if not names and isinstance(base, cst.Name):  # unbound: perhaps from a star import
            names = {
                module + base.value if module.endswith(".") else f"{module}.{base.value}"
                for module in self._star_imports
            }
        return any(self._names_module_class(name) for name in names)

    def _names_module_class(self, qualified_name: str) -> bool:
        name = name_to_ask(qualified_name, self._path)
        return torch_api.is_module_base(name) or is_project_module_class(
            name, self._project_module_classes
        )

    def enclosing_method(self, node: cst.CSTNode) -> Optional[Method]:
        """The method of a module class that ``node`` is part of, if any."""
        current: Optional[cst.CSTNode] = node
        while current is not None:
            parent = self._parents.get(current)
            if isinstance(current, cst.FunctionDef) and isinstance(parent, cst.IndentedBlock):
                owner = self._parents.get(parent)
                if isinstance(owner, cst.ClassDef):
                    return Method(owner, current) if self.is_module_class(owner) else None
            current = parent
        return None

    def calls_to_method(self, function: cst.FunctionDef) -> list[tuple[cst.Call, cst.FunctionDef]]:
        """Each ``self.<name>(...)`` call of this method in its class, with the calling method.

        Calls from subclasses in the same file count too; calls from elsewhere are unknown.
        """
        owner = self.parent(self.parent(function) or function)
        if not isinstance(owner, cst.ClassDef):
            return []
        found: list[tuple[cst.Call, cst.FunctionDef]] = []
        for node in self._calls_by_method_name.get(function.name.value, ()):
            caller = self.enclosing_method(node)
            if (
                caller is not None
                and caller.self_name == node.func.value.value  # type: ignore[attr-defined]
                and owner in self.classes_in_hierarchy(caller.owner)
            ):
                found.append((node, caller.function))
        return found

    def classes_in_hierarchy(self, classdef: cst.ClassDef) -> list[cst.ClassDef]:
        """The class and its bases defined in this file, nearest first."""
        return class_hierarchy(
            classdef,
            lambda current: (
                arg.value.value
                for arg in current.bases
                if arg.keyword is None and isinstance(arg.value, cst.Name)
            ),
            lambda name: self._classes_by_name.get(name, ()),
        )


def _module_name(statement: cst.ImportFrom) -> str:
    """The module an import reads from, as written: ``..layers`` for ``from ..layers import *``."""
    dots = "." * len(statement.relative)
    if statement.module is None:
        return dots
    return dots + cst.Module([]).code_for_node(statement.module)
