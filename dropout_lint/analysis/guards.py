"""Whether code only runs in training mode, judged from the conditions around it.

``implies_training(test)``: when ``test`` is true, the module is training, or a flag
the author set chose to run the code in eval as well (``self.training or
self.apply_during_inference``: Monte Carlo dropout, kept on deliberately).
``covers_eval(test)``: when the module is in eval mode (and no such flag is set),
``test`` is true (so the code after ``if test: return`` or in its ``else:`` only runs
in training).
"""

from __future__ import annotations

import re
from typing import Optional

import libcst as cst

from .module_classes import Method, ModuleClasses
from .node_search import visit_fields

# The names people give a train/eval flag: self.training, training, is_training, ...
_MODE_NAME = re.compile(r"^(?:is_)?train(?:ing)?$")


def is_mode_flag(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Attribute):
        return bool(_MODE_NAME.match(node.attr.value))
    if isinstance(node, cst.Name):
        return bool(_MODE_NAME.match(node.value))
    return False


def _compared_to_bool(node: cst.BaseExpression) -> Optional[bool]:
    """For ``flag is True`` / ``flag == False`` / ``flag is not True``: what it asserts of flag."""
    if not (isinstance(node, cst.Comparison) and len(node.comparisons) == 1):
        return None
    target = node.comparisons[0]
    if not (is_mode_flag(node.left) and isinstance(target.comparator, cst.Name)):
        return None
    if target.comparator.value not in ("True", "False"):
        return None
    value = target.comparator.value == "True"
    if isinstance(target.operator, (cst.Is, cst.Equal)):
        return value
    if isinstance(target.operator, (cst.IsNot, cst.NotEqual)):
        return not value
    return None


def _is_flag(node: cst.BaseExpression) -> bool:
    """A plain flag (``self.apply_during_inference``, ``mc_dropout``), not a computation."""
    return isinstance(node, (cst.Name, cst.Attribute))


def _is_negated_flag(node: cst.BaseExpression) -> bool:
    return (
        isinstance(node, cst.UnaryOperation)
        and isinstance(node.operator, cst.Not)
        and _is_flag(node.expression)
    )


def implies_training(test: cst.BaseExpression) -> bool:
    if is_mode_flag(test):
        return True
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return covers_eval(test.expression)
    if isinstance(test, cst.BooleanOperation):
        left, right = implies_training(test.left), implies_training(test.right)
        if isinstance(test.operator, cst.And):
            return left or right
        # `self.training or self.apply_during_inference`: a flag opts in to eval.
        return (left or right) and (left or _is_flag(test.left)) and (right or _is_flag(test.right))
    return _compared_to_bool(test) is True


def covers_eval(test: cst.BaseExpression) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return implies_training(test.expression)
    if isinstance(test, cst.BooleanOperation):
        left, right = covers_eval(test.left), covers_eval(test.right)
        if isinstance(test.operator, cst.Or):
            return left or right
        # `not self.training and not self.apply_during_inference`, as above.
        return (left or right) and (
            (left or _is_negated_flag(test.left)) and (right or _is_negated_flag(test.right))
        )
    return _compared_to_bool(test) is False


def _always_exits(body: cst.BaseSuite) -> bool:
    statements = body.body
    if not statements:
        return False
    last = statements[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, (cst.Return, cst.Raise)) for s in last.body)
    return isinstance(last, (cst.Return, cst.Raise))


def _earlier_exit_on_eval(block: cst.BaseSuite | cst.Module, statement: cst.CSTNode) -> bool:
    """``if not self.training: return x`` earlier in the same block."""
    for sibling in block.body:
        if sibling is statement:
            return False
        if (
            isinstance(sibling, cst.If)
            and sibling.orelse is None
            and _always_exits(sibling.body)
            and covers_eval(sibling.test)
        ):
            return True
    return False


def runs_only_in_training(
    node: cst.CSTNode, classes: ModuleClasses, stop: cst.FunctionDef, _seen: frozenset = frozenset()
) -> bool:
    """Whether ``node`` can only run while the mode flag is true.

    The conditions around it count up to ``stop``, its method; past that, a method whose
    every call in its class (``self.method(...)``) runs only in training counts too.
    """
    current: cst.CSTNode = node
    while current is not stop:
        parent = classes.parent(current)
        if parent is None:
            return False
        if isinstance(parent, (cst.If, cst.IfExp, cst.While)):
            if current is parent.body and implies_training(parent.test):
                return True
            if current is parent.orelse and covers_eval(parent.test):
                return True
        elif isinstance(parent, cst.BooleanOperation) and current is parent.right:
            if isinstance(parent.operator, cst.And) and implies_training(parent.left):
                return True
            if isinstance(parent.operator, cst.Or) and covers_eval(parent.left):
                return True
        elif isinstance(parent, (cst.IndentedBlock, cst.SimpleStatementSuite, cst.Module)):
            if _earlier_exit_on_eval(parent, current):
                return True
        current = parent
    return _called_only_in_training(stop, classes, _seen | {stop})


def _called_only_in_training(
    method: cst.FunctionDef, classes: ModuleClasses, seen: frozenset
) -> bool:
    calls = classes.calls_to_method(method)
    return bool(calls) and all(
        caller not in seen and runs_only_in_training(call, classes, caller, seen)
        for call, caller in calls
    )


def controlled_by_caller(
    call: cst.Call, rate: Optional[cst.BaseExpression], method: Method, classes: ModuleClasses
) -> bool:
    """Whether the caller, not the module's mode, decides if ``call`` drops: its rate, or
    a flag in a condition around it, comes from a parameter of ``method`` (directly, or
    unpacked from one: ``x, dropout_switch = input`` for Monte Carlo dropout)."""
    from_caller = _names_from_parameters(method)
    if rate is not None and _reads_any(rate, from_caller):
        return True
    current: cst.CSTNode = call
    while current is not method.function:
        parent = classes.parent(current)
        if parent is None:
            return False
        if isinstance(parent, (cst.If, cst.IfExp, cst.While)) and current is not parent.test:
            if _is_flag_test(parent.test, from_caller):
                return True
        current = parent
    return False


def _is_flag_test(test: cst.BaseExpression, names: frozenset[str]) -> bool:
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _is_flag_test(test.expression, names)
    if isinstance(test, cst.BooleanOperation):
        return _is_flag_test(test.left, names) or _is_flag_test(test.right, names)
    return isinstance(test, cst.Name) and test.value in names


def _reads_any(expression: cst.BaseExpression, names: frozenset[str]) -> bool:
    class _Reader(cst.CSTVisitor):
        found = False

        def visit_Name(self, node: cst.Name) -> None:
            self.found = self.found or node.value in names

        def visit_Attribute(self, node: cst.Attribute) -> bool:
            visit_fields(node.value, self)  # `p.rate` reads `p`; `.rate` is no variable
            return False

    reader = _Reader()
    visit_fields(expression, reader)
    return reader.found


def _names_from_parameters(method: Method) -> frozenset[str]:
    """The method's parameters but the instance, and names unpacked or read from them.

    A parameter whose default turns dropout on (``p=0.1``, ``mc=True``) is left out: a
    caller that passes nothing gets dropout after ``eval()``, which is the module's bug.
    """
    params = method.function.params
    names = {
        param.name.value
        for param in (*params.posonly_params, *params.params, *params.kwonly_params)
        if param.name.value != method.self_name and not _turns_on(param.default)
    }
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    for statement in _assignments(method.function):
        if _is_taken_from(statement.value, names):
            for target in statement.targets:
                names.update(_bound_names(target.target))
    return frozenset(names)


def _turns_on(default: Optional[cst.BaseExpression]) -> bool:
    """A literal default that is true: a nonzero number or ``True``."""
    if isinstance(default, (cst.Integer, cst.Float)):
        return default.evaluated_value != 0
    return isinstance(default, cst.Name) and default.value == "True"


def _assignments(function: cst.FunctionDef) -> list[cst.Assign]:
    class _Collector(cst.CSTVisitor):
        def __init__(self) -> None:
            self.found: list[cst.Assign] = []

        def visit_Assign(self, node: cst.Assign) -> None:
            self.found.append(node)

    collector = _Collector()
    visit_fields(function.body, collector)
    return collector.found


def _is_taken_from(value: cst.BaseExpression, names: set[str]) -> bool:
    """``input``, ``input[1]``, ``input.switch``, ``kwargs.get("switch")``."""
    if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
        value = value.func.value
    while isinstance(value, (cst.Subscript, cst.Attribute)):
        value = value.value
    return isinstance(value, cst.Name) and value.value in names


def _bound_names(target: cst.BaseExpression) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [name for element in target.elements for name in _bound_names(element.value)]
    return []
