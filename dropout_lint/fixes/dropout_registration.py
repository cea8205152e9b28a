"""Registering a dropout module in ``__init__`` and calling it: the fix DRP001 and DRP020 share.

``F.dropout(x, 0.3)`` in ``forward`` becomes ``self.dropout(x)``, with
``self.dropout = nn.Dropout(p=0.3)`` added to ``__init__``. It is only done where that keeps
the behaviour: the arguments are fixed for the module's lifetime, the class has an
``__init__`` that calls ``super().__init__()`` before the new line, and every name moved into
``__init__`` means the same thing there. Otherwise :meth:`DropoutRegistrar.register` says no,
and the rule falls back to a smaller fix (or none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator, Optional, Sequence, Union

import libcst as cst
from libcst.metadata import GlobalScope, ScopeProvider
from libcst.metadata.scope_provider import Assignment, BaseAssignment, Scope

from ..analysis.module_classes import Method, ModuleClasses
from ..engine.context import FileContext
from .node_edits import NodeEdits

# Attribute names tried for a new module, after its snake-case class name (``dropout``).
_NAME_SUFFIXES = ("", "_layer")
_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")
_RATE_SUFFIX = re.compile(r"_(?:prob|probability|rate|ratio|p)$")
_TORCH_NN_CLASS = ("torch.nn.{}", "torch.nn.modules.{}", "torch.nn.modules.dropout.{}")


@dataclass(frozen=True)
class DropoutRequest:
    """One call to replace by a call of a registered dropout module.

    ``constructor_func`` is the class expression of an existing constructor call (DRP020),
    moved as it is; None means "spell ``module_class`` as the file spells ``torch.nn``".
    ``constructor_args`` and ``call_args`` are as written in ``method``.
    """

    call: cst.Call
    method: Method
    module_class: str
    constructor_args: Sequence[cst.Arg]
    call_args: Sequence[cst.Arg]
    constructor_func: Optional[cst.BaseExpression] = None


@dataclass
class _ClassFacts:
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
    # (module_class, constructor code) -> the attribute registered for it, and where.
    shared: dict[tuple[str, str], tuple[str, int, cst.BaseStatement]] = field(default_factory=dict)


class DropoutRegistrar:
    """Plans the registrations of one file's fixes, in file order.

    Every fix carries all the edits it needs on its own (its call, the registration, the
    import), so it can be applied alone; fixes that share a module carry the same
    registration, which is made once when they are applied together.
    """

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.classes: ModuleClasses = context.classes
        self.scopes = context.wrapper.resolve(ScopeProvider)
        self._facts: dict[cst.ClassDef, _ClassFacts] = {}
        self._added_import: Optional[tuple[int, cst.BaseStatement]] = None
        self._names: Optional[set[str]] = None
        self._classes: Optional[list[cst.ClassDef]] = None
        self._blocked: dict[tuple[cst.FunctionDef, str], list[bool]] = {}

    def register(self, request: DropoutRequest) -> Optional[NodeEdits]:
        """The edits that register a module for ``request`` and call it, if that can be
        done safely; None otherwise."""
        plan = self._plan(request)
        if plan is None:
            return None
        facts, index, attribute, constructor, new_import = plan
        key = (request.module_class, _code(constructor))
        if key not in facts.shared:
            facts.taken_names.add(attribute)
            assert facts.init_self is not None
            target = cst.Attribute(cst.Name(facts.init_self), cst.Name(attribute))
            statement = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], constructor)])
            facts.shared[key] = (attribute, index, statement)
        attribute, index, statement = facts.shared[key]
        assert facts.init is not None and request.method.self_name is not None
        edits = NodeEdits()
        edits.insert(_body(facts.init), index, statement)
        if new_import is not None:
            edits.insert_in_module(*new_import)
            self._added_import = new_import
        edits.replace(
            request.call,
            request.call.with_changes(
                func=cst.Attribute(cst.Name(request.method.self_name), cst.Name(attribute)),
                args=request.call_args,
            ),
        )
        return edits

    def can_register(self, request: DropoutRequest) -> bool:
        return self._plan(request) is not None

    def _plan(
        self, request: DropoutRequest
    ) -> Optional[tuple[_ClassFacts, int, str, cst.Call, Optional[tuple[int, cst.BaseStatement]]]]:
        method = request.method
        if method.self_name is None or method.name == "__init__":
            return None
        facts = self._class_facts(method.owner)
        if facts.init is None or facts.init_self is None or facts.super_index is None:
            return None
        dependencies: set[int] = {facts.super_index}
        args: list[cst.Arg] = []
        for arg in request.constructor_args:
            moved = self._portable(arg.value, method, facts, dependencies)
            if moved is None:
                return None
            args.append(arg.with_changes(value=moved))
        new_import = None
        if request.constructor_func is None:
            spelled = self._class_spelling(request.module_class, facts)
            if spelled is None:
                return None
            func, new_import = spelled
            constructor = cst.Call(func, _keyword_style(args))
        else:
            func = self._portable(request.constructor_func, method, facts, dependencies)
            if func is None:
                return None
            constructor = request.call.func.with_changes(func=func, args=args)  # type: ignore[attr-defined]
        index = self._insertion_index(facts, max(dependencies) + 1, method)
        if index is None:
            return None
        key = (request.module_class, _code(constructor))
        attribute = facts.shared[key][0] if key in facts.shared else self._free_name(request, facts)
        return facts, index, attribute, constructor, new_import

    # --- where the new line goes -------------------------------------------------------

    def _insertion_index(self, facts: _ClassFacts, earliest: int, method: Method) -> Optional[int]:
        """After the last ``self.x = ...`` of ``__init__`` when nothing in between stops it.

        ``earliest`` (after ``super().__init__()`` and what the arguments read) is the
        fallback when a ``return`` or a call of ``self``/its forward comes first.
        """
        assert facts.init is not None and facts.init_self is not None
        statements = _body(facts.init).body
        key = (facts.init, method.name)
        if key not in self._blocked:
            calls = {"forward", method.name}
            self._blocked[key] = [
                _returns_or_calls_self(statement, facts.init_self, calls) for statement in statements
            ]
        blocked = self._blocked[key]
        if any(blocked[:earliest]):
            return None
        last_write = max(
            (i + 1 for i, s in enumerate(statements) if _writes_self(s, facts.init_self)),
            default=earliest,
        )
        if last_write > earliest and not any(blocked[:last_write]):
            return last_write
        return earliest

    # --- names ------------------------------------------------------------------------

    def _free_name(self, request: DropoutRequest, facts: _ClassFacts) -> str:
        """A name after the rate's (``attention_dropout``), else the class's (``dropout``)."""
        base = _snake_case(request.module_class)
        stem = _rate_stem(request.constructor_args)
        stems = [stem, base] if stem is not None and stem != base else [base]
        candidates = [name + suffix for name in stems for suffix in _NAME_SUFFIXES]
        number = 2
        while True:
            for candidate in candidates:
                if candidate not in facts.taken_names:
                    return candidate
            candidates = [f"{base}_{number}"]
            number += 1

    def _class_spelling(
        self, module_class: str, facts: _ClassFacts
    ) -> Optional[tuple[cst.BaseExpression, Optional[tuple[int, cst.BaseStatement]]]]:
        """``nn.Dropout``, ``torch.nn.Dropout`` or ``Dropout``, as this file imports them.

        When nothing suitable is imported, ``import torch.nn as nn`` is added (once).
        """
        assert facts.init is not None
        init_scope = self.scopes[_body(facts.init).body[0]]
        wanted = {pattern.format(module_class) for pattern in _TORCH_NN_CLASS}
        choices: list[tuple[int, cst.BaseExpression]] = []
        for bound, qualified in self._top_level_imports():
            if not self._is_sole_global(bound, init_scope):
                continue
            if qualified in wanted:
                choices.append((0, cst.Name(bound)))
            elif qualified == "torch.nn":
                choices.append((1, cst.Attribute(cst.Name(bound), cst.Name(module_class))))
            elif qualified == "torch":
                choices.append(
                    (2, cst.Attribute(cst.Attribute(cst.Name(bound), cst.Name("nn")), cst.Name(module_class)))
                )
        if choices:
            return min(choices, key=lambda choice: choice[0])[1], None
        if self._name_in_use("nn"):
            return None
        spelled = cst.Attribute(cst.Name("nn"), cst.Name(module_class))
        if self._added_import is not None:
            return spelled, self._added_import
        new_import = self._import_torch_nn()
        return (spelled, new_import) if new_import is not None else None

    def _top_level_imports(self) -> Iterator[tuple[str, str]]:
        """(bound name, qualified name) of each module-level import of the file."""
        for statement in self.context.module.body:
            if not isinstance(statement, cst.SimpleStatementLine):
                continue
            for small in statement.body:
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        dotted = _dotted(alias.name)
                        if alias.asname is not None:
                            yield _dotted(alias.asname.name), dotted
                        else:
                            yield dotted.split(".")[0], dotted.split(".")[0]
                elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    if small.module is None or small.relative:
                        continue
                    for alias in small.names:
                        name = _dotted(alias.name)
                        bound = _dotted(alias.asname.name) if alias.asname else name
                        yield bound, f"{_dotted(small.module)}.{name}"

    def _import_torch_nn(self) -> Optional[tuple[int, cst.BaseStatement]]:
        """``import torch.nn as nn`` after the file's last module-level import, if it has one."""
        body = self.context.module.body
        if any(
            isinstance(small, cst.ImportFrom) and isinstance(small.names, cst.ImportStar)
            for statement in body
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
        ):
            return None
        last_import = max(
            (
                index
                for index, statement in enumerate(body)
                if isinstance(statement, cst.SimpleStatementLine)
                and any(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
            ),
            default=None,
        )
        if last_import is None:
            return None
        return last_import + 1, cst.parse_statement("import torch.nn as nn\n")

    def _name_in_use(self, name: str) -> bool:
        """Whether ``name`` appears anywhere in the file, so adding it could change a meaning."""
        if self._names is None:
            self._names = {node.value for node in self.scopes if isinstance(node, cst.Name)}
        return name in self._names

    # --- moving expressions into __init__ ---------------------------------------------

    def _portable(
        self,
        expression: cst.BaseExpression,
        method: Method,
        facts: _ClassFacts,
        dependencies: set[int],
    ) -> Optional[cst.BaseExpression]:
        """``expression`` rewritten for ``__init__``, when its value is fixed for the lifetime.

        Allowed: literals, arithmetic, module-level names bound once (not shadowed in
        ``__init__``), and ``self.<attribute>...`` where the attribute is only ever set in
        ``__init__``. Adds to ``dependencies`` the ``__init__`` statements it must follow.
        """
        assert facts.init is not None and facts.init_self is not None
        if isinstance(expression, (cst.Integer, cst.Float)):
            return expression
        if isinstance(expression, cst.UnaryOperation):
            operand = self._portable(expression.expression, method, facts, dependencies)
            return None if operand is None else expression.with_changes(expression=operand)
        if isinstance(expression, cst.BinaryOperation):
            left = self._portable(expression.left, method, facts, dependencies)
            right = self._portable(expression.right, method, facts, dependencies)
            if left is None or right is None:
                return None
            return expression.with_changes(left=left, right=right)
        if isinstance(expression, cst.Name):
            if expression.value in ("True", "False", "None"):
                return expression
            init_scope = self.scopes[_body(facts.init).body[0]]
            if expression.value == method.self_name:
                return None
            used = self.scopes.get(expression)
            if used is None or not self._is_sole_global(expression.value, init_scope, used):
                return None
            return expression
        if isinstance(expression, cst.Attribute):
            root = expression
            while isinstance(root.value, cst.Attribute):
                root = root.value
            if isinstance(root.value, cst.Name) and root.value.value == method.self_name:
                index = self._lifetime_constant(root.attr.value, facts)
                if index is None:
                    return None
                dependencies.add(index)
                return _renamed_root(expression, facts.init_self)
            value = self._portable(expression.value, method, facts, dependencies)
            return None if value is None else expression.with_changes(value=value)
        return None

    def _is_sole_global(self, name: str, init_scope: Scope, used: Optional[Scope] = None) -> bool:
        """Bound once, at module level, and meaning the same in ``__init__`` (and at ``used``)."""
        assignments = list(init_scope[name])
        if len(assignments) != 1 or not isinstance(assignments[0].scope, GlobalScope):
            return False
        if used is not None and {id(a) for a in used[name]} != {id(assignments[0])}:
            return False
        return self._at_module_level(assignments[0])

    def _at_module_level(self, assignment: BaseAssignment) -> bool:
        if not isinstance(assignment, Assignment):
            return False
        node: Optional[cst.CSTNode] = assignment.node
        while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            node = self.classes.parent(node)
        return node is not None and self.classes.parent(node) is self.context.module

    def _lifetime_constant(self, attribute: str, facts: _ClassFacts) -> Optional[int]:
        """The ``__init__`` index after which ``self.<attribute>`` holds its final value.

        None when it is set outside an ``__init__``, in a subclass, is a method or property,
        or is set nowhere this file can see.
        """
        if any(
            isinstance(statement, cst.FunctionDef) and statement.name.value == attribute
            for owner in facts.hierarchy + facts.subclasses
            for statement in _class_body(owner)
        ):
            return None
        writes = facts.writes.get(attribute, [])
        if any(function.name.value != "__init__" for _, function, _ in writes):
            return None
        if any(owner in facts.subclasses for owner, _, _ in writes):
            return None
        own = [index for owner, function, index in writes if function is facts.init]
        if own:
            return max(own)
        if writes or attribute in facts.class_level_names:
            assert facts.super_index is not None
            return facts.super_index
        return None

    # --- facts about a class ----------------------------------------------------------

    def _class_facts(self, classdef: cst.ClassDef) -> _ClassFacts:
        if classdef in self._facts:
            return self._facts[classdef]
        hierarchy = self.classes.classes_in_hierarchy(classdef)
        subclasses = [
            other
            for other in self._all_classes()
            if other is not classdef and classdef in self.classes.classes_in_hierarchy(other)
        ]
        inits = [s for s in _class_body(classdef) if isinstance(s, cst.FunctionDef) and s.name.value == "__init__"]
        init = inits[0] if len(inits) == 1 and isinstance(inits[0].body, cst.IndentedBlock) else None
        init_self = Method(classdef, init).self_name if init is not None else None
        facts = _ClassFacts(
            classdef=classdef,
            init=init,
            init_self=init_self,
            super_index=_super_init_index(init, init_self) if init and init_self else None,
            taken_names=set(),
            writes={},
            class_level_names=set(),
            subclasses=subclasses,
            hierarchy=hierarchy,
        )
        for owner in hierarchy + subclasses:
            self._gather(owner, facts)
        self._facts[classdef] = facts
        return facts

    def _all_classes(self) -> list[cst.ClassDef]:
        if self._classes is None:
            finder = _ClassFinder()
            self.context.module.visit(finder)
            self._classes = finder.classes
        return self._classes

    def _gather(self, owner: cst.ClassDef, facts: _ClassFacts) -> None:
        strings = _StringCollector()
        owner.visit(strings)
        facts.taken_names |= strings.identifiers
        for statement in _class_body(owner):
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
                inner.visit(collector)
                facts.taken_names |= collector.used
                for attribute in collector.written:
                    facts.writes.setdefault(attribute, []).append((owner, statement, index))


class _ClassFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.classes: list[cst.ClassDef] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)


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


def _returns_or_calls_self(statement: cst.CSTNode, self_name: str, methods: set[str]) -> bool:
    """Whether ``statement`` may leave ``__init__`` or run the code that needs the module."""
    finder = _ReturnOrSelfCall(self_name, methods)
    statement.visit(finder)
    return finder.found


def _writes_self(statement: cst.BaseStatement, self_name: str) -> bool:
    collector = _SelfAttributes(self_name)
    statement.visit(collector)
    return bool(collector.written)


def _super_init_index(init: cst.FunctionDef, self_name: str) -> Optional[int]:
    """Index of the top-level ``super().__init__(...)`` (or ``Base.__init__(self, ...)``)."""
    for index, statement in enumerate(_body(init).body):
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


def _class_body(classdef: cst.ClassDef) -> Sequence[cst.BaseStatement]:
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


def _body(function: cst.FunctionDef) -> cst.IndentedBlock:
    assert isinstance(function.body, cst.IndentedBlock)
    return function.body


def _renamed_root(expression: cst.Attribute, name: str) -> cst.Attribute:
    """``self.a.b`` with its root renamed: ``__init__`` may call its instance differently."""
    if isinstance(expression.value, cst.Attribute):
        return expression.with_changes(value=_renamed_root(expression.value, name))
    return expression.with_changes(value=cst.Name(name))


def _keyword_style(args: Sequence[cst.Arg]) -> list[cst.Arg]:
    """Arguments as ``p=0.3, inplace=True``, separated by ", "."""
    result = []
    for index, arg in enumerate(args):
        comma: Union[cst.Comma, cst.MaybeSentinel] = (
            cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
            if index < len(args) - 1
            else cst.MaybeSentinel.DEFAULT
        )
        result.append(
            arg.with_changes(
                comma=comma,
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
                whitespace_after_arg=cst.SimpleWhitespace(""),
            )
        )
    return result


def _rate_stem(args: Sequence[cst.Arg]) -> Optional[str]:
    """``attention_dropout`` for a rate ``self.attention_dropout`` or ``config.attention_dropout_prob``.

    Only for rates whose name says dropout, so the module's name does too.
    """
    positional = [arg for arg in args if arg.keyword is None]
    rate = next((arg for arg in args if arg.keyword is not None and arg.keyword.value == "p"), None)
    rate = rate or (positional[0] if positional else None)
    if rate is None or not isinstance(rate.value, cst.Attribute):
        return None
    stem = _RATE_SUFFIX.sub("", rate.value.attr.value)
    return stem if "drop" in stem and _IDENTIFIER.match(stem) else None


def _snake_case(name: str) -> str:
    """``FeatureAlphaDropout`` -> ``feature_alpha_dropout``; ``Dropout2d`` -> ``dropout2d``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _dotted(node: Union[cst.Name, cst.Attribute, cst.BaseExpression]) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return ""


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
