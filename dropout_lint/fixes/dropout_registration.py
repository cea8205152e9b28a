"""Registering a dropout module in ``__init__`` and calling it: the fix DRP001 and DRP020 share.

``F.dropout(x, 0.3)`` in ``forward`` becomes ``self.dropout(x)``, with
``self.dropout = nn.Dropout(p=0.3)`` added to ``__init__``. It is only done where that keeps
the behaviour: the arguments are fixed for the module's lifetime, the class has an
``__init__`` that calls ``super().__init__()`` before the new line, and every name moved into
``__init__`` means the same thing there. Otherwise :meth:`DropoutRegistrar.register` says no,
and the rule falls back to a smaller fix (or none).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Optional, Sequence, Union

import libcst as cst

from ..analysis.call_arguments import Parameter, bound_arg
from ..analysis.module_classes import Method
from ..engine.context import FileContext
from .class_facts import (
    ClassFacts,
    ClassFactsIndex,
    init_body,
    neighbour_layer_index,
    returns_or_calls_self,
    writes_self,
)
from .module_names import module_name, says_rate
from .node_edits import NodeEdits
from .portable_expressions import InitPortability
from .torch_nn_spelling import TorchNnSpelling



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


class DropoutRegistrar:
    """Plans the registrations of one file's fixes, in file order.

    Every fix carries all the edits it needs on its own (its call, the registration, the
    import), so it can be applied alone; fixes that share a module carry the same
    registration, which is made once when they are applied together.
    """

    def __init__(self, context: FileContext) -> None:
        self.context = context
        self.facts = ClassFactsIndex(context)
        self.portability = InitPortability(context)
        self.spelling = TorchNnSpelling(context, self.portability)
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
            facts.dropout_modules.add(attribute)
            assert facts.init_self is not None
            target = cst.Attribute(cst.Name(facts.init_self), cst.Name(attribute))
            statement = cst.SimpleStatementLine([cst.Assign([cst.AssignTarget(target)], constructor)])
            facts.shared[key] = (attribute, index, statement)
        attribute, index, statement = facts.shared[key]
        assert facts.init is not None and request.method.self_name is not None
        edits = NodeEdits()
        edits.insert(init_body(facts.init), index, statement)
        if new_import is not None:
            edits.insert_in_module(*new_import)
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
    ) -> Optional[tuple[ClassFacts, int, str, cst.Call, Optional[tuple[int, cst.BaseStatement]]]]:
        method = request.method
        if method.self_name is None or method.name == "__init__":
            return None
        facts = self.facts.facts_of(method.owner)
        if facts.init is None or facts.init_self is None or facts.super_index is None:
            return None
        rate = bound_arg(request.constructor_args, Parameter("p", 0))
        if rate is not None and isinstance(rate.value, cst.Attribute) and not says_rate(rate.value.attr.value):
            return None  # `p=self.config`: whatever it holds, its name does not say a rate
        dependencies: set[int] = {facts.super_index}
        args: list[cst.Arg] = []
        for arg in request.constructor_args:
            moved = self.portability.portable(arg.value, method, facts, dependencies)
            if moved is None:
                return None
            args.append(arg.with_changes(value=moved))
        new_import = None
        if request.constructor_func is None:
            spelled = self.spelling.class_spelling(request.module_class, facts)
            if spelled is None:
                return None
            func, new_import = spelled
            constructor = cst.Call(func, _keyword_style(args))
        else:
            func = self.portability.portable(request.constructor_func, method, facts, dependencies)
            if func is None:
                return None
            constructor = request.call.func.with_changes(func=func, args=args)  # type: ignore[attr-defined]
        index = self._insertion_index(facts, max(dependencies) + 1, request)
        if index is None:
            return None
        key = (request.module_class, _code(constructor))
        attribute = facts.shared[key][0] if key in facts.shared else self._free_name(request, facts)
        if attribute is None:
            return None
        return facts, index, attribute, constructor, new_import

    # --- where the new line goes -------------------------------------------------------

    def _insertion_index(self, facts: ClassFacts, earliest: int, request: DropoutRequest) -> Optional[int]:
        """Beside the layer that runs before the call (or after it), so that ``print(model)``
        lists modules in the order they run; else after the last ``self.x = ...``.

        Never before ``earliest`` (after ``super().__init__()`` and what the arguments read)
        nor after a ``return`` or a call of ``self``/its forward: ``earliest`` is the
        fallback when one comes first.
        """
        assert facts.init is not None and facts.init_self is not None
        method = request.method
        statements = init_body(facts.init).body
        key = (facts.init, method.name)
        if key not in self._blocked:
            calls = {"forward", method.name}
            self._blocked[key] = [
                returns_or_calls_self(statement, facts.init_self, calls) for statement in statements
            ]
        blocked = self._blocked[key]
        if any(blocked[:earliest]):
            return None
        beside = neighbour_layer_index(facts, method, request.call)
        if beside is not None and beside >= earliest and not any(blocked[:beside]):
            return beside
        last_write = max(
            (i + 1 for i, s in enumerate(statements) if writes_self(s, facts.init_self)),
            default=earliest,
        )
        if last_write > earliest and not any(blocked[:last_write]):
            return last_write
        return earliest

    # --- names ------------------------------------------------------------------------

    def _free_name(self, request: DropoutRequest, facts: ClassFacts) -> Optional[str]:
        """A name in the family's style (:mod:`.module_names`); for DRP020, which has no other
        fix, ``dropout_layer``, ``dropout_2``, ... when no clear name is free."""
        word = _snake_case(request.module_class)
        rate = bound_arg(request.constructor_args, Parameter("p", 0))
        rate_attribute = rate.value.attr.value if rate is not None and isinstance(rate.value, cst.Attribute) else None
        name = module_name(word, rate_attribute, request.method.name, facts.dropout_modules, facts.taken_names)
        if name is None and request.constructor_func is not None:
            numbered = (f"{word}_{n}" for n in itertools.count(2))
            name = next(n for n in itertools.chain([f"{word}_layer"], numbered) if n not in facts.taken_names)
        return name


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


def _snake_case(name: str) -> str:
    """``FeatureAlphaDropout`` -> ``feature_alpha_dropout``; ``Dropout2d`` -> ``dropout2d``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)
