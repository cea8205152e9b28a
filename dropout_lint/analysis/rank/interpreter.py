"""Abstract interpretation of a function's statements, with tensor ranks as values.

The state is a map from local names (and ``self.<attr>`` keys) to values. Branches join
their states; loops iterate to a fixed point, which is reached because every value can
only move up a finite lattice (a rank, then unknown; a layer, then a choice of the finite
set of layers in the file). A name missing from a state is unbound, so joining it with a
value gives that value: Python raises ``UnboundLocalError`` on the other path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Sequence, Union

import libcst as cst

from .. import torch_api
from ..node_search import nodes_of_type, visit_fields
from .einops_patterns import einops_function
from .torch_shapes import (
    CONSTRUCTORS,
    broadcast,
    layer_transfer,
    literal_int,
    operation,
    packed_sequence_function,
    torch_function,
)
from .values import (
    Layer,
    LayerChoice,
    DictValue,
    LayerValue,
    NoneValue,
    Packed,
    Repeated,
    SequentialLayer,
    Tensor,
    TupleValue,
    Value,
    concatenated,
    is_container,
    item_of,
    join,
    join_all,
)

Env = dict[str, Value]
_SELF = "self."
# A bound on fixed-point rounds; the lattice guarantees far fewer. Past it, every name the
# loop assigns becomes unknown, which is a fixed point by construction.
_MAX_LOOP_ROUNDS = 25
_CODE = cst.Module([])


@dataclass(frozen=True)
class SourceFacts:
    """What the inference asks of the file: torch's name for a node, and its line as a
    message says it (a number, or a mark that whoever writes the message turns into one)."""

    qualified_name: Callable[[cst.CSTNode], Optional[str]]
    line: Callable[[cst.CSTNode], Union[int, str]]


@dataclass(frozen=True)
class Application:
    """A layer applied to an input: ``self.drop(x)``, or as a member of a Sequential.

    ``site`` is the call that ran it (``self.drop(x)``, ``self.head(x)``), or the
    ``nn.Sequential(...)`` itself when a Sequential is evaluated on its own (``standalone``;
    its input is then unknown by construction). ``direct`` is false for Sequential members.
    """

    layer: Layer
    site: cst.Call
    input: Value
    direct: bool
    standalone: bool


def code_of(node: cst.CSTNode) -> str:
    return _CODE.code_for_node(node)


def annotated_value(annotation: Optional[cst.Annotation], facts: SourceFacts) -> Value:
    """The rank an annotation states: jaxtyping's ``Float[Tensor, "batch seq dim"]`` is 3-D."""
    if annotation is None or not isinstance(annotation.annotation, cst.Subscript):
        return None
    subscript = annotation.annotation
    name = facts.qualified_name(subscript.value)
    if name is None or not name.startswith("jaxtyping.") or len(subscript.slice) != 2:
        return None
    shape = subscript.slice[1].slice
    if not (isinstance(shape, cst.Index) and isinstance(shape.value, cst.SimpleString)):
        return None
    dims = str(shape.value.evaluated_value).split()
    if any(dim.startswith("*") or "..." in dim for dim in dims):
        return None
    origin = f"from the annotation `{code_of(subscript)}` at line {facts.line(subscript)}"
    return Tensor(len(dims), origin)


class _TargetNames(cst.CSTVisitor):
    """The names (and ``self.<attr>`` keys) a statement may bind, at any depth."""

    def __init__(self, self_name: Optional[str]) -> None:
        super().__init__()
        self.self_name = self_name
        self.names: set[str] = set()

    def _add(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.names.add(target.value)
        elif isinstance(target, cst.Attribute):
            if isinstance(target.value, cst.Name) and target.value.value == self.self_name:
                self.names.add(_SELF + target.attr.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._add(element.value)
        elif isinstance(target, cst.StarredElement):
            self._add(target.value)
        elif isinstance(target, cst.Subscript):  # ``layers[0] = ...`` changes ``layers``
            self._add(target.value)

    def visit_Del(self, node: cst.Del) -> None:
        self._add(node.target)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._add(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._add(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._add(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._add(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._add(node.target)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.names.add(node.name.value)
        return False

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            self.names.add(code_of(node.name).split(".")[0])

    def visit_Call(self, node: cst.Call) -> None:
        # self.add_module("drop", ...) binds self.drop; x.add_module(...) changes x.
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _MUTATORS:
            self._add(node.func.value)
            name = _module_name(node)
            if name is not None and _is_self(node.func.value, self.self_name):
                self.names.add(_SELF + name)


# Methods that register a module on their receiver, and methods that change a list or dict.
_REGISTERING = ("add_module", "register_module")
_CONTAINER_MUTATORS = (
    "append extend insert pop remove clear reverse sort update setdefault popitem".split()
)
_MUTATORS = (*_REGISTERING, *_CONTAINER_MUTATORS)
# Builtins that read a sequence without changing it.
_READING_BUILTINS = frozenset(
    "len enumerate zip reversed list tuple sorted sum max min iter isinstance print range".split()
)
# Module methods that return the module itself: `nn.Dropout2d(0.5).to(device)` is the layer.
_RETURNS_SELF = frozenset(
    "to cuda cpu half float double bfloat16 train eval requires_grad_ apply type share_memory".split()
)
# How deep calls to helper methods and the file's module classes are followed.
_MAX_CALL_DEPTH = 4


def _is_self(node: cst.BaseExpression, self_name: Optional[str]) -> bool:
    return self_name is not None and isinstance(node, cst.Name) and node.value == self_name


def _module_name(call: cst.Call) -> Optional[str]:
    """The literal name given to ``add_module("name", layer)``."""
    first = call.args[0].value if call.args else None
    if isinstance(first, cst.SimpleString) and isinstance(first.evaluated_value, str):
        return first.evaluated_value
    return None


def join_envs(envs: Sequence[Optional[Env]]) -> Optional[Env]:
    """The state after paths that end in ``envs`` meet; None when none of them gets here."""
    reachable = [env for env in envs if env is not None]
    if not reachable:
        return None
    joined: Env = {}
    for key in {key for env in reachable for key in env}:
        joined[key] = join_all(env[key] for env in reachable if key in env)
    return joined


@dataclass(frozen=True)
class Callables:
    """What calls the interpreter can follow besides torch's: the methods of the class
    being analysed (``self._helper(x)``), each with its instance parameter, and module
    classes of the file, by the call that builds one (``Flatten()``)."""

    methods: Mapping[str, tuple[cst.FunctionDef, Optional[str]]]
    module_at: Callable[[cst.Call], Optional["Layer"]]


NO_CALLABLES = Callables({}, lambda call: None)


@dataclass
class _Loop:
    breaks: list[Env]
    continues: list[Env]


class Interpreter:
    """Runs functions abstractly. ``attributes`` is what is known of ``self.<attr>``."""

    def __init__(
        self,
        facts: SourceFacts,
        attributes: Mapping[str, Value],
        callables: Callables = NO_CALLABLES,
        calling: tuple[cst.FunctionDef, ...] = (),
    ) -> None:
        self.facts = facts
        self.attributes = attributes
        self.callables = callables
        self.values: dict[cst.CSTNode, Value] = {}
        self.applications: dict[tuple[cst.Call, cst.Call], Application] = {}
        self.assigned_attributes: dict[str, list[Value]] = {}
        self._self_name: Optional[str] = None
        self._loops: list[_Loop] = []
        self._nested: list[cst.FunctionDef] = []
        self._calling = calling
        self._returns: Optional[list[Value]] = None

    # Functions

    def run_function(
        self,
        function: cst.FunctionDef,
        self_name: Optional[str],
        given: Mapping[str, Value] = {},  # noqa: B006 - read only
    ) -> None:
        """Interpret ``function`` from its parameters (an annotation's rank, else what
        ``given`` says of the parameter), then the functions nested in it."""
        self._self_name = self_name
        env: Env = {}
        if self_name is not None:
            env.update({_SELF + attr: value for attr, value in self.attributes.items()})
        params = function.params
        for param in (
            *params.posonly_params,
            *params.params,
            *params.kwonly_params,
            *(p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)),
        ):
            if param.name.value == self_name:
                env[param.name.value] = None
            else:
                stated = annotated_value(param.annotation, self.facts)
                env[param.name.value] = stated if stated is not None else given.get(param.name.value)
        self._suite(function.body, env)
        nested, self._nested = self._nested, []
        for inner in nested:
            shadows_self = any(p.name.value == self_name for p in inner.params.params)
            self.run_function(inner, None if shadows_self else self_name)

    def result_of(
        self,
        function: cst.FunctionDef,
        self_name: Optional[str],
        positional: Sequence[Value],
        keywords: Mapping[str, Value],
    ) -> Value:
        """What ``function`` returns for these arguments, when every return agrees.

        It runs in an interpreter of its own, so its values and applications stay out of
        this one's; a function already being followed (recursion), one too deep, or a
        generator is unknown.
        """
        if function in self._calling or len(self._calling) >= _MAX_CALL_DEPTH:
            return None
        if nodes_of_type(function.body, cst.Yield):
            return None
        callee = Interpreter(self.facts, self.attributes, self.callables, (*self._calling, function))
        callee._self_name = self_name
        env: Env = {}
        if self_name is not None:
            env.update({_SELF + attr: value for attr, value in self.attributes.items()})
        params = function.params
        if isinstance(params.star_arg, cst.Param):
            return None
        named = [*params.posonly_params, *params.params]
        if self_name is not None and named and named[0].name.value == self_name:
            env[self_name] = None
            named = named[1:]
        if len(positional) > len(named):
            return None
        for index, param in enumerate((*named, *params.kwonly_params)):
            name = param.name.value
            if index < len(positional) and index < len(named):
                env[name] = positional[index]
            elif name in keywords:
                env[name] = keywords[name]
            elif param.default is not None:
                env[name] = callee._eval(param.default, dict(env))
            else:
                return None
        callee._returns = []
        end = callee._suite(function.body, env)
        returns = callee._returns + ([NoneValue()] if end is not None else [])
        return join_all(returns)

    def run_statements(self, statements: Sequence[cst.BaseStatement]) -> None:
        """Interpret module-level statements (functions and classes are left out)."""
        self._self_name = None
        self._block(statements, {})
        self._nested = []

    # Statements

    def _suite(self, suite: cst.BaseSuite, env: Env) -> Optional[Env]:
        if isinstance(suite, cst.IndentedBlock):
            return self._block(suite.body, env)
        return self._small_statements(suite.body, env)

    def _block(self, statements: Sequence[cst.BaseStatement], env: Optional[Env]) -> Optional[Env]:
        for statement in statements:
            if env is None:
                return None
            env = self._statement(statement, env)
        return env

    def _statement(self, statement: cst.BaseStatement, env: Env) -> Optional[Env]:
        if isinstance(statement, cst.SimpleStatementLine):
            return self._small_statements(statement.body, env)
        if isinstance(statement, cst.If):
            return self._if(statement, env)
        if isinstance(statement, (cst.For, cst.While)):
            return self._loop(statement, env)
        if isinstance(statement, cst.Try):
            return self._try(statement, env)
        if isinstance(statement, cst.With):
            for item in statement.items:
                self._eval(item.item, env)
                if item.asname is not None:
                    self._assign(item.asname.name, None, env)
            return self._suite(statement.body, env)
        if isinstance(statement, cst.FunctionDef):
            env[statement.name.value] = None
            self._nested.append(statement)
            return env
        return self._forget(statement, env)

    def _forget(self, node: cst.CSTNode, env: Env) -> Env:
        """What a statement not modelled (``match``, a class) may bind becomes unknown."""
        targets = _TargetNames(self._self_name)
        visit_fields(node, targets)
        for name in targets.names:
            env[name] = None
        return env

    def _small_statements(
        self, statements: Sequence[cst.BaseSmallStatement], env: Env
    ) -> Optional[Env]:
        for statement in statements:
            if isinstance(statement, cst.Assign):
                value = self._eval(statement.value, env)
                for target in statement.targets:
                    self._assign(target.target, value, env)
            elif isinstance(statement, cst.AnnAssign):
                value = self._eval(statement.value, env) if statement.value else None
                stated = annotated_value(statement.annotation, self.facts)
                if statement.value is not None or stated is not None:
                    self._assign(statement.target, stated if stated is not None else value, env)
            elif isinstance(statement, cst.AugAssign):
                current = self._eval(statement.target, env)
                other = self._eval(statement.value, env)
                if is_container(current) and isinstance(statement.operator, cst.AddAssign):
                    joined = concatenated(current, other)
                    self._replace_container(statement.target, current, joined, env)
                else:
                    self._assign(statement.target, broadcast(current, other, statement.value), env)
            elif isinstance(statement, cst.Expr):
                self._eval(statement.value, env)
            elif isinstance(statement, (cst.Return, cst.Raise)):
                returned: Value = NoneValue()
                if isinstance(statement, cst.Return) and statement.value is not None:
                    returned = self._eval(statement.value, env)
                if isinstance(statement, cst.Return) and self._returns is not None:
                    self._returns.append(returned)
                return None
            elif isinstance(statement, (cst.Break, cst.Continue)):
                if self._loops:
                    loop = self._loops[-1]
                    exits = loop.breaks if isinstance(statement, cst.Break) else loop.continues
                    exits.append(dict(env))
                return None
            elif isinstance(statement, cst.Assert):
                self._eval(statement.test, env)
            else:
                self._forget(statement, env)
        return env

    def _if(self, statement: cst.If, env: Env) -> Optional[Env]:
        self._eval(statement.test, env)
        then = self._suite(statement.body, dict(env))
        orelse: Optional[Env] = dict(env)
        if isinstance(statement.orelse, cst.If):
            orelse = self._if(statement.orelse, dict(env))
        elif isinstance(statement.orelse, cst.Else):
            orelse = self._suite(statement.orelse.body, dict(env))
        return join_envs([then, orelse])

    def _loop(self, statement: Union[cst.For, cst.While], env: Env) -> Optional[Env]:
        element: Value = None
        if isinstance(statement, cst.For):
            iterated = self._eval(statement.iter, env)
            if isinstance(iterated, (Repeated, TupleValue)):  # a dict yields its keys
                element = item_of(iterated)
            if _holds_choice(element) and _may_skip_items(statement.body):
                element = None  # `if isinstance(layer, nn.Dropout2d): continue`
        head = dict(env)
        for round_number in range(_MAX_LOOP_ROUNDS + 1):
            if round_number == _MAX_LOOP_ROUNDS:
                head = self._forget(statement, head)
            state = dict(head)
            if isinstance(statement, cst.While):
                self._eval(statement.test, state)
            else:
                self._assign(statement.target, element, state)
            loop = _Loop([], [])
            self._loops.append(loop)
            end = self._suite(statement.body, state)
            self._loops.pop()
            following = join_envs([head, end, *loop.continues])
            if following == head or round_number == _MAX_LOOP_ROUNDS:
                break
            assert following is not None
            head = following
        finished: Optional[Env] = dict(head)
        if statement.orelse is not None:
            finished = self._suite(statement.orelse.body, dict(head))
        return join_envs([finished, *loop.breaks])

    def _try(self, statement: cst.Try, env: Env) -> Optional[Env]:
        # An exception can leave the body at any point: what it binds is unknown after.
        interrupted = self._forget(statement.body, dict(env))
        completed = self._suite(statement.body, dict(env))
        if statement.orelse is not None and completed is not None:
            completed = self._suite(statement.orelse.body, completed)
        outcomes = [completed]
        for handler in statement.handlers:
            state = dict(interrupted)
            if handler.type is not None:
                self._eval(handler.type, state)
            if handler.name is not None:
                self._assign(handler.name.name, None, state)
            outcomes.append(self._suite(handler.body, state))
        after = join_envs(outcomes)
        if statement.finalbody is None:
            return after
        final = self._suite(statement.finalbody.body, join_envs([after, interrupted]) or {})
        return final if after is not None else None

    def _assign(self, target: cst.BaseExpression, value: Value, env: Env) -> None:
        if isinstance(target, cst.Name):
            env[target.value] = value
        elif isinstance(target, cst.Attribute) and _is_self(target.value, self._self_name):
            self._set_attribute(target.attr.value, value, env)
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = target.elements
            starred = any(isinstance(e, cst.StarredElement) for e in elements)
            for index, element in enumerate(elements):
                item: Value = None
                if isinstance(element, cst.StarredElement):
                    item = None
                elif isinstance(value, Repeated):
                    item = value.item
                elif isinstance(value, TupleValue) and not starred:
                    item = value.items[index] if len(value.items) == len(elements) else None
                self._assign(element.value, item, env)
        elif isinstance(target, cst.Subscript):
            container = self._eval(target.value, env)
            if is_container(container) or isinstance(container, SequentialLayer):
                stored = join_all([item_of(container), value]) if is_container(container) else None
                grown = DictValue(stored) if isinstance(container, DictValue) else Repeated(stored)
                self._replace_container(target.value, container, grown if stored else None, env)
        elif isinstance(target, cst.Attribute):
            self._eval(target.value, env)

    def _set_attribute(self, attr: str, value: Value, env: Env) -> None:
        env[_SELF + attr] = value
        self.assigned_attributes.setdefault(attr, []).append(value)

    def _replace_container(
        self, target: cst.BaseExpression, old: Value, new: Value, env: Env
    ) -> None:
        """``target`` held the list, dict or Sequential ``old``, which was changed in place
        and is now ``new``; every other name for the same object becomes unknown."""
        self._assign(target, new, env)
        for key, value in list(env.items()):
            if value is old and env.get(key) is not new:
                env[key] = None
                if key.startswith(_SELF):
                    self.assigned_attributes.setdefault(key[len(_SELF) :], []).append(None)

    def _release_arguments(self, node: cst.Call, env: Env) -> None:
        """Lists and dicts passed to a call the analysis does not follow may be changed."""
        for arg in node.args:
            value = self.values.get(arg.value)
            if is_container(value) or isinstance(value, SequentialLayer):
                self._replace_container(arg.value, value, None, env)

    # Expressions

    def _eval(self, node: cst.BaseExpression, env: Env) -> Value:
        value = self._evaluate(node, env)
        self.values[node] = value
        return value

    def _evaluate(self, node: cst.BaseExpression, env: Env) -> Value:
        if isinstance(node, cst.Name):
            if node.value == "None":
                return NoneValue()
            return env.get(node.value)
        if isinstance(node, cst.Attribute):
            if _is_self(node.value, self._self_name):
                return env.get(_SELF + node.attr.value, self.attributes.get(node.attr.value))
            receiver = self._eval(node.value, env)
            if node.attr.value == "data" and isinstance(receiver, Packed):
                return receiver.data
            if node.attr.value == "data" and isinstance(receiver, Tensor):
                return None if receiver.unless_packed else receiver
            if node.attr.value in ("T", "mT") and isinstance(receiver, Tensor):
                # `.T` reverses the dims and `.mT` swaps the last two: dim 0 may move.
                keeps_batch = node.attr.value == "mT" and receiver.rank > 2
                return receiver if keeps_batch else receiver.with_batch(None)
            return None
        if isinstance(node, cst.Call):
            return self._call(node, env)
        if isinstance(node, cst.Subscript):
            return self._subscript(node, env)
        if isinstance(node, cst.BinaryOperation):
            left, right = self._eval(node.left, env), self._eval(node.right, env)
            if isinstance(node.operator, cst.Add) and is_container(left):
                return concatenated(left, right)
            if isinstance(node.operator, cst.MatrixMultiply):
                return _matmul(left, right)
            if literal_int(node.left) is not None or isinstance(node.left, cst.Float):
                return broadcast(right, left, node.left)
            return broadcast(left, right, node.right)
        if isinstance(node, cst.UnaryOperation):
            operand = self._eval(node.expression, env)
            return operand if isinstance(operand, Tensor) else None
        if isinstance(node, cst.IfExp):
            self._eval(node.test, env)
            return join(self._eval(node.body, env), self._eval(node.orelse, env))
        if isinstance(node, (cst.Tuple, cst.List)):
            items = [self._eval(element.value, env) for element in node.elements]
            if any(isinstance(element, cst.StarredElement) for element in node.elements):
                return None
            return TupleValue(tuple(items))
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            item = self._comprehension(node, node.elt, env)
            return Repeated(item) if item is not None else None
        if isinstance(node, cst.DictComp):
            return DictValue(self._comprehension(node, node.value, env))
        if isinstance(node, cst.Dict):
            if any(isinstance(element, cst.StarredDictElement) for element in node.elements):
                return None
            for element in node.elements:
                self._eval(element.key, env)  # type: ignore[union-attr]
            values = [self._eval(element.value, env) for element in node.elements]
            return DictValue(join_all(values))
        if isinstance(node, cst.NamedExpr):
            value = self._eval(node.value, env)
            self._assign(node.target, value, env)
            return value
        if isinstance(node, (cst.BooleanOperation, cst.Comparison)):
            for child in node.children:
                if isinstance(child, cst.BaseExpression):
                    self._eval(child, env)
            return None
        if isinstance(node, cst.Await):
            self._eval(node.expression, env)
        return None

    def _comprehension(
        self, node: cst.BaseExpression, element: cst.BaseExpression, env: Env
    ) -> Value:
        """The value of a comprehension's element, each ``for`` target bound to an item of
        what it iterates; in a scope of its own, as Python runs it."""
        scope = dict(env)
        clause: Optional[cst.CompFor] = node.for_in  # type: ignore[attr-defined]
        while clause is not None:
            item = item_of(self._eval(clause.iter, scope))
            if _holds_choice(item) and clause.ifs:
                item = None  # `[layer(x) for layer in layers if ...]` may skip any of them
            self._assign(clause.target, item, scope)
            for condition in clause.ifs:
                self._eval(condition.test, scope)
            clause = clause.inner_for_in
        if isinstance(node, cst.DictComp):
            self._eval(node.key, scope)
        return self._eval(element, scope)

    def _subscript(self, node: cst.Subscript, env: Env) -> Value:
        container = self._eval(node.value, env)
        indices = [element.slice for element in node.slice]
        for index in indices:
            if isinstance(index, cst.Index):
                self._eval(index.value, env)
        if isinstance(container, DictValue):
            return container.values
        if isinstance(container, (TupleValue, Repeated)):
            if len(indices) != 1 or not isinstance(indices[0], cst.Index):
                return None  # a slice: a list again
            position = literal_int(indices[0].value)
            if isinstance(container, Repeated):
                return container.item
            if position is None:  # some item, which one unknown: not one of several layers
                item = item_of(container)
                return None if _holds_choice(item) else item
            in_range = -len(container.items) <= position < len(container.items)
            return container.items[position] if in_range else None
        if not isinstance(container, Tensor):
            return None
        return _indexed(container, indices, f"after indexing at line {self.facts.line(node)}")

    def _call(self, node: cst.Call, env: Env) -> Value:
        func = node.func
        for arg in node.args:
            self._eval(arg.value, env)
        value_of = self.values.get
        line = self.facts.line(node)
        name = self.facts.qualified_name(func) if _is_dotted_name(func) else None
        if name is not None and name.startswith("torch."):
            return self._torch_call(name, node, env)
        if name is not None and name.startswith("einops."):
            return einops_function(name, node, value_of, f"after `{code_of(func)}` at line {line}")
        if name is not None and name.startswith("builtins."):
            return self._builtin_call(name[len("builtins.") :], node, env)
        if isinstance(func, cst.Attribute) and not _is_self(func.value, self._self_name):
            receiver = self._eval(func.value, env)
            method = func.attr.value
            if method == "forward" and _is_layer(receiver):
                return self._apply(receiver, self._first_input(node), node, direct=True)
            if method in _RETURNS_SELF and _is_layer(receiver):
                return receiver
            if method in _MUTATORS:
                return self._mutate(node, func, receiver, env)
            if isinstance(receiver, DictValue):
                return _mapping_view(method, receiver)
            self._release_arguments(node, env)
            return operation(
                method, receiver, node.args, value_of, f"after `.{method}()` at line {line}"
            )
        if isinstance(func, cst.Attribute) and func.attr.value in _REGISTERING:
            return self._mutate(node, func, None, env)
        callee = self._eval(func, env)
        if _is_layer(callee):
            return self._apply(callee, self._first_input(node), node, direct=True)
        self._release_arguments(node, env)
        if isinstance(func, cst.Attribute) and callee is None:
            return self._helper_result(func.attr.value, node, env)
        return self.callables.module_at(node)

    def _builtin_call(self, name: str, node: cst.Call, env: Env) -> Value:
        """``enumerate``, ``zip``, ``reversed``, ``list`` and ``tuple`` of known sequences;
        other builtins change nothing the analysis knows, or are unknown."""
        if name not in _READING_BUILTINS:
            self._release_arguments(node, env)
            return None
        if any(arg.star or arg.keyword is not None for arg in node.args):
            return None
        values = [self.values.get(arg.value) for arg in node.args]
        if name in ("list", "tuple") and len(values) == 1:
            return values[0] if isinstance(values[0], (TupleValue, Repeated)) else None
        sequences = [v if isinstance(v, (TupleValue, Repeated)) else None for v in values]
        if name == "enumerate" and len(values) == 1:
            return Repeated(TupleValue((None, item_of(sequences[0]))))
        if name == "zip" and values:
            return Repeated(TupleValue(tuple(item_of(sequence) for sequence in sequences)))
        if name == "reversed" and len(values) == 1 and sequences[0] is not None:
            return Repeated(item_of(sequences[0])) if item_of(sequences[0]) is not None else None
        return None

    def _helper_result(self, name: str, node: cst.Call, env: Env) -> Value:
        """``self._helper(x)``: what the class's method returns for these arguments."""
        method = self.callables.methods.get(name)
        if method is None or _SELF + name in env:  # an attribute of that name shadows it
            return None
        if any(arg.star for arg in node.args):
            return None
        positional = [self.values.get(arg.value) for arg in node.args if arg.keyword is None]
        keywords = {
            arg.keyword.value: self.values.get(arg.value)
            for arg in node.args
            if arg.keyword is not None
        }
        function, self_name = method
        return self.result_of(function, self_name, positional, keywords)

    def _first_input(self, node: cst.Call) -> Value:
        first = [arg for arg in node.args if arg.keyword is None]
        return self.values.get(first[0].value) if first and not first[0].star else None

    def _mutate(
        self, node: cst.Call, func: cst.Attribute, receiver: Value, env: Env
    ) -> Value:
        """``seq.add_module(name, layer)``, ``seq.append(layer)``, ``self.add_module(...)``,
        ``layers.append(layer)``, ``outs.extend(...)``: the receiver as it is after."""
        added = self.values.get(node.args[-1].value) if node.args else None
        method = func.attr.value
        if _is_self(func.value, self._self_name):
            name = _module_name(node)
            if name is not None and method in _REGISTERING:
                self._set_attribute(name, added if _is_layer(added) else None, env)
            return None
        changed: Value = None
        if any(arg.star for arg in node.args):
            changed = None
        elif isinstance(receiver, SequentialLayer) and method in ("append", *_REGISTERING):
            layer = added if _is_layer(added) else None
            changed = SequentialLayer((*receiver.layers, layer), receiver.node)
        elif isinstance(receiver, (TupleValue, Repeated)) and method == "append":
            changed = concatenated(receiver, TupleValue((added,)))
        elif isinstance(receiver, (TupleValue, Repeated)) and method == "extend":
            changed = concatenated(receiver, added)
        elif isinstance(receiver, (TupleValue, Repeated)) and method == "insert":
            changed = concatenated(Repeated(item_of(receiver)), TupleValue((added,)))
        self._replace_container(func.value, receiver, changed, env)
        return None

    def _torch_call(self, name: str, node: cst.Call, env: Env) -> Value:
        line = self.facts.line(node)
        class_name = torch_api.torch_nn_class(name)
        if class_name == "Sequential":
            sequential = SequentialLayer(self._sequential_members(node), node)
            self._apply(sequential, None, node, direct=False, standalone=True)
            return sequential
        if class_name == "Parameter":
            return self._first_input(node)
        if class_name == "ModuleList":
            given = self._first_input(node)
            if not node.args:
                return TupleValue(())
            return given if isinstance(given, (TupleValue, Repeated)) else None
        if class_name == "ModuleDict":
            given = self._first_input(node)
            return given if isinstance(given, DictValue) else None
        if name.startswith("torch.nn.utils.rnn."):
            called = f"`{code_of(node.func)}` at line {line}"
            function = name.rsplit(".", 1)[-1]
            return packed_sequence_function(function, node.args, self.values.get, called)
        if class_name is not None:
            transfer = layer_transfer(class_name, node)
            return Layer(class_name, node, transfer) if transfer is not None else None
        short_name = name.rsplit(".", 1)[-1]
        if name.count(".") == 1 or name.startswith("torch.nn.functional."):
            origin = f"after `{code_of(node.func)}` at line {line}"
            if short_name in CONSTRUCTORS:
                origin = f"from `{code_of(node.func)}` at line {line}"
            return torch_function(short_name, node.args, self.values.get, origin)
        return None

    def _sequential_members(self, node: cst.Call) -> tuple[Optional[LayerValue], ...]:
        if any(arg.keyword is not None for arg in node.args):
            return (None,)
        if len(node.args) == 1 and isinstance(node.args[0].value, cst.Call):
            ordered = node.args[0].value
            if self.facts.qualified_name(ordered.func) == "collections.OrderedDict":
                return self._ordered_members(ordered)
        values: list[Value] = []
        for arg in node.args:
            value = self.values.get(arg.value)
            if arg.star == "*" and isinstance(value, TupleValue):
                values.extend(value.items)  # nn.Sequential(*layers), layers built in order
            elif arg.star:
                return (None,)
            else:
                values.append(value)
        return tuple(value if _is_layer(value) else None for value in values)

    def _ordered_members(self, ordered: cst.Call) -> tuple[Optional[LayerValue], ...]:
        """``OrderedDict([("conv", nn.Conv2d(...)), ...])``: the layers in order."""
        pairs = ordered.args[0].value if len(ordered.args) == 1 else None
        if not isinstance(pairs, (cst.List, cst.Tuple)):
            return (None,)
        members = []
        for element in pairs.elements:
            pair = element.value
            if not isinstance(pair, cst.Tuple) or len(pair.elements) != 2:
                return (None,)
            layer = self.values.get(pair.elements[1].value)
            members.append(layer if _is_layer(layer) else None)
        return tuple(members)

    def _apply(
        self,
        layer: Value,
        value: Value,
        site: cst.Call,
        direct: bool,
        standalone: bool = False,
    ) -> Value:
        """The output of ``layer`` on ``value``; records every torch layer it runs."""
        if isinstance(layer, Layer):
            self.applications[(layer.node, site)] = Application(
                layer, site, value, direct, standalone
            )
            spelled = layer.class_name if "." in layer.class_name else f"nn.{layer.class_name}"
            origin = (
                f"after `{code_of(site.func)}` ({spelled}) at line "
                f"{self.facts.line(site)}"
                if direct
                else f"after `{spelled}` at line {self.facts.line(layer.node)}"
            )
            return layer.transfer.apply(value, origin)
        if isinstance(layer, SequentialLayer):
            for member in layer.layers:
                value = self._apply(member, value, site, False, standalone) if member else None
            return value
        if isinstance(layer, LayerChoice):
            outputs = [
                self._apply(option, value, site, direct, standalone)
                for option in layer.options
                if not isinstance(option, NoneValue)
            ]
            return join_all(outputs)
        return None


def _holds_choice(value: Value) -> bool:
    """Whether ``value`` is, or holds, one of several layers."""
    if isinstance(value, TupleValue):
        return any(_holds_choice(item) for item in value.items)
    return isinstance(value, LayerChoice) or (
        isinstance(value, Repeated) and _holds_choice(value.item)
    )


_TYPE_TESTS = frozenset({"isinstance", "type", "hasattr"})


def _may_skip_items(body: cst.BaseSuite) -> bool:
    """Whether a loop over layers may leave some out: it checks their type or skips."""
    return any(
        isinstance(node, (cst.Continue, cst.Break))
        or (isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in _TYPE_TESTS)
        for node in nodes_of_type(body, cst.CSTNode)
    )


def _mapping_view(method: str, mapping: DictValue) -> Value:
    """``.values()`` and ``.items()`` of a dict whose values are known."""
    if method == "values":
        return Repeated(mapping.values) if mapping.values is not None else None
    if method == "items":
        return Repeated(TupleValue((None, mapping.values)))
    return None


def _is_dotted_name(node: cst.BaseExpression) -> bool:
    """``torch.nn.Conv2d``, not ``torch.randn(2).unsqueeze``: only names can be torch's."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


def _is_layer(value: Value) -> bool:
    if isinstance(value, LayerChoice):
        return any(not isinstance(option, NoneValue) for option in value.options)
    return isinstance(value, (Layer, SequentialLayer))


def _matmul(left: Value, right: Value) -> Value:
    """``a @ b`` for batched matrices; the 1-D cases are left unknown."""
    if isinstance(left, Tensor) and isinstance(right, Tensor) and min(left.rank, right.rank) >= 2:
        return left if left.rank >= right.rank else right
    return None


def _indexed(tensor: Tensor, indices: Sequence[cst.BaseSlice], origin: str) -> Value:
    """``x[:, 0]``, ``x[..., None]``: slices keep a dim, ints drop one, None adds one."""
    consumed = dropped = added = 0
    for index in indices:
        if isinstance(index, cst.Slice):
            consumed += 1
        elif isinstance(index.value, cst.Ellipsis):
            continue
        elif isinstance(index.value, cst.Name) and index.value.value == "None":
            added += 1
        elif literal_int(index.value) is not None:
            consumed += 1
            dropped += 1
        else:
            return None
    if consumed > tensor.rank:
        return None
    if dropped == added:
        return tensor if dropped == 0 else tensor.with_batch(None)
    return Tensor(tensor.rank - dropped + added, origin)
