"""Whether an expression can move from a method into ``__init__`` and mean the same there.

A registered module is built once, in ``__init__``, from the arguments the call had in its
method; that keeps the behaviour only when their values are fixed for the module's lifetime
and every name in them is bound to the same thing in ``__init__``.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst

from ..analysis.module_classes import Method
from ..analysis.name_resolution import Binding, Scope
from ..engine.context import FileContext
from .class_facts import ClassFacts, init_body


class InitPortability:
    """Answers for one file."""

    def __init__(self, context: FileContext) -> None:
        self.context = context

    def portable(
        self,
        expression: cst.BaseExpression,
        method: Method,
        facts: ClassFacts,
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
            operand = self.portable(expression.expression, method, facts, dependencies)
            return None if operand is None else expression.with_changes(expression=operand)
        if isinstance(expression, cst.BinaryOperation):
            left = self.portable(expression.left, method, facts, dependencies)
            right = self.portable(expression.right, method, facts, dependencies)
            if left is None or right is None:
                return None
            return expression.with_changes(left=left, right=right)
        if isinstance(expression, cst.Name):
            if expression.value in ("True", "False", "None"):
                return expression
            if expression.value == method.self_name:
                return None
            used = self.context.names.scope_of(expression)
            if used is None or not self.is_sole_global(expression.value, self.init_scope(facts), used):
                return None
            return expression
        if isinstance(expression, cst.Attribute):
            root = expression
            while isinstance(root.value, cst.Attribute):
                root = root.value
            if isinstance(root.value, cst.Name) and root.value.value == method.self_name:
                index = facts.lifetime_constant(root.attr.value)
                if index is None or _reads_reassigned(expression, facts):
                    return None
                dependencies.add(index)
                return _renamed_root(expression, facts.init_self)
            value = self.portable(expression.value, method, facts, dependencies)
            return None if value is None else expression.with_changes(value=value)
        return None

    def init_scope(self, facts: ClassFacts) -> Scope:
        """The scope of the body of the class's ``__init__``."""
        assert facts.init is not None
        scope = self.context.names.scope_of(init_body(facts.init).body[0])
        assert scope is not None
        return scope

    def is_sole_global(self, name: str, init_scope: Scope, used: Optional[Scope] = None) -> bool:
        """Bound once, at module level, and meaning the same in ``__init__`` (and at ``used``)."""
        bindings = init_scope.lookup(name)
        if len(bindings) != 1 or not bindings[0].scope.is_module:
            return False
        if used is not None and {id(b) for b in used.lookup(name)} != {id(bindings[0])}:
            return False
        return self._at_module_level(bindings[0])

    def _at_module_level(self, binding: Binding) -> bool:
        node: Optional[cst.CSTNode] = binding.node
        while node is not None and not isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            node = self.context.classes.parent(node)
        return node is not None and self.context.classes.parent(node) is self.context.module


def _reads_reassigned(expression: cst.Attribute, facts: ClassFacts) -> bool:
    """Whether ``self.config.p`` reads an attribute the project sets after construction."""
    node: cst.BaseExpression = expression
    while isinstance(node, cst.Attribute):
        if node.attr.value in facts.reassigned_elsewhere:
            return True
        node = node.value
    return False


def _renamed_root(expression: cst.Attribute, name: str) -> cst.Attribute:
    """``self.a.b`` with its root renamed: ``__init__`` may call its instance differently."""
    if isinstance(expression.value, cst.Attribute):
        return expression.with_changes(value=_renamed_root(expression.value, name))
    return expression.with_changes(value=cst.Name(name))
