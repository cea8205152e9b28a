"""What checks a rule on libcst's tree: its visitor, imported only when a file gets there.

A rule's file in ``dropout_lint/rules/`` declares it (code, documentation, examples, gates);
its visitor is the subclass of that declaration in the module of the same name under
``rules/visitors/``. So the registry, ``--explain`` and the two prefilter stages import
neither libcst nor what the visitors need (rank inference, the fixes), and a run where no
file passes the gates imports none of it.
"""

from __future__ import annotations

import importlib
import inspect
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Callable, Mapping, Optional, TypeVar

import libcst as cst
from libcst.metadata import CodeRange

from .diagnostics import Diagnostic, Fix
from .rule import Rule

if TYPE_CHECKING:
    from ..fixes.node_edits import NodeEdits
    from .context import FileContext

T = TypeVar("T")


class RuleVisitor(Rule, cst.BatchableCSTVisitor):
    """Base class of every rule's visitor: a libcst batchable visitor over one file's tree,
    which records what it finds with :meth:`report`. The visit resolves no libcst metadata:
    names are resolved by the context's :class:`~dropout_lint.analysis.name_resolution.NameResolver`,
    and :meth:`report` asks the context for positions, so a file with no finding never
    renders them."""

    def __init__(self, context: "FileContext") -> None:
        super().__init__()
        self.context = context
        self.diagnostics: list[Diagnostic] = []

    def report(self, node: cst.CSTNode, message: str, fix: Optional[Fix] = None) -> None:
        """Record a finding at ``node``."""
        position: CodeRange = self.context.positions[node]
        self.diagnostics.append(
            Diagnostic(
                path=self.context.path,
                line=position.start.line,
                column=position.start.column + 1,
                end_line=position.end.line,
                end_column=position.end.column + 1,
                code=self.code,
                message=message,
                name=self.name,
                fix=fix,
                node=node,
            )
        )

    def resolve_name(self, node: cst.CSTNode, lookup: Callable[[str], Optional[T]]) -> Optional[T]:
        """See :meth:`~dropout_lint.analysis.name_resolution.NameResolver.resolve`."""
        return self.context.names.resolve(node, lookup)

    def node_edits(self, diagnostic: Diagnostic) -> Optional["NodeEdits"]:
        """The tree edits that fix one of this visit's findings; None when there are none.

        Asked after the traversal, for each finding that is reported (not suppressed) and
        offers a fix, in the order of the file; the engine turns the edits into the text
        edits the finding carries. The default: the rule has no fix.
        """
        return None

    def get_visitors(self) -> Mapping[str, Callable[..., object]]:
        """The ``visit_``/``leave_`` methods this visitor defines, for libcst's batched visit.

        Found on the class: libcst's own lookup reads every attribute of the instance, which
        runs each cached property (the fixes' registrar of DRP001 and DRP020, built on every
        file they visit even when nothing is found)."""
        return {name: getattr(self, name) for name in _hook_names(type(self))}


@cache
def _hook_names(visitor: type[RuleVisitor]) -> tuple[str, ...]:
    """The names of the hook methods ``visitor`` defines, less libcst's empty stubs."""
    return tuple(
        name
        for name, member in inspect.getmembers(visitor, inspect.isfunction)
        if name.startswith(("visit_", "leave_")) and not getattr(member, "_is_no_op", False)
    )


@cache
def visitor_of(rule: type[Rule]) -> type[RuleVisitor]:
    """The visitor of ``rule``: the subclass of it in ``visitors/<its module's name>`` beside
    its module. A rule with no such module (one that only reads ``# noqa`` comments, or one
    written in a test with its ``visit_`` methods in the declaration) is its own visitor."""
    if issubclass(rule, RuleVisitor):
        return rule
    module = _visitors_module(rule)
    found = [
        value
        for value in (vars(module).values() if module is not None else ())
        if isinstance(value, type) and issubclass(value, rule) and issubclass(value, RuleVisitor)
    ]
    if len(found) > 1:
        raise TypeError(f"{rule.code} has {len(found)} visitors in {rule.__module__}'s visitors")
    return found[0] if found else type(rule.__name__, (rule, RuleVisitor), {"__module__": rule.__module__})


def _visitors_module(rule: type[Rule]) -> Optional[ModuleType]:
    """``visitors/<name>`` beside the module ``<name>`` that declares ``rule``, if there is one."""
    package, _, name = rule.__module__.rpartition(".")
    if not package:
        return None
    visitors = f"{package}.visitors"
    try:
        return importlib.import_module(f"{visitors}.{name}")
    except ModuleNotFoundError as error:
        if error.name not in (visitors, f"{visitors}.{name}"):
            raise
        return None
