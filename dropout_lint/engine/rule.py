"""The shape of a rule: one class per file, with its code, documentation, examples and visitor.

A rule is a libcst batchable visitor. The engine runs every enabled rule over one parse of
the file, in a single traversal, and collects what each one reports.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Callable,
    ClassVar,
    Iterable,
    Optional,
    Sequence,
    TypeVar,
    Union,
)

import libcst as cst
from libcst.metadata import CodeRange, PositionProvider, ScopeProvider

from ..analysis.module_classes import agreed_answer, qualified_names_in
from ..prefilter.attribute_reads import AttributeReads
from ..prefilter.call_sites import CallSites, trigger_for
from .diagnostics import Diagnostic, Fix

if TYPE_CHECKING:
    from ..fixes.node_edits import NodeEdits
    from ..prefilter.byte_scan import ByteScan
    from ..prefilter.syntax_scan import SyntaxScan
    from .context import FileContext

T = TypeVar("T")


@dataclass(frozen=True)
class Valid:
    """Code the rule must not report."""

    code: str


@dataclass(frozen=True)
class Invalid:
    """Code the rule must report, once on each line marked ``# expect``.

    ``fixed`` is the expected output of the rule's fix, when the rule has one.
    """

    code: str
    fixed: Optional[str] = None


class Rule(cst.BatchableCSTVisitor):
    """Base class of every rule. Subclasses set the class attributes and visit nodes.

    ``explanation`` is Markdown with the sections of ruff's rule docs: what it does, why
    is this bad, example, use instead, fix safety, references. ``trigger`` is a regular
    expression over the source: a file it does not match cannot contain a finding, so the
    engine neither parses it nor runs the rule on it. ``may_fire`` is a finer gate, asked
    only when ``trigger`` matched, and ``sites`` a finer one still, on CPython's tree.

    A rule that looks for calls or attribute reads states them once, in ``looks_for``; its
    ``trigger``, ``may_fire`` and ``sites`` are derived from that statement (see
    :mod:`dropout_lint.prefilter.call_sites` and :mod:`dropout_lint.prefilter.attribute_reads`),
    and its visitor confirms each call or read.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    explanation: ClassVar[str]
    trigger: ClassVar[re.Pattern[str]]
    default_enabled: ClassVar[bool] = True
    looks_for: ClassVar[tuple[Union[CallSites, AttributeReads], ...]] = ()
    valid: ClassVar[Sequence[Valid]] = ()
    invalid: ClassVar[Sequence[Invalid]] = ()

    METADATA_DEPENDENCIES = (PositionProvider, ScopeProvider)

    def __init__(self, context: "FileContext") -> None:
        super().__init__()
        self.context = context
        self.diagnostics: list[Diagnostic] = []

    def report(self, node: cst.CSTNode, message: str, fix: Optional[Fix] = None) -> None:
        """Record a finding at ``node``."""
        position: CodeRange = self.get_metadata(PositionProvider, node)
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
        """``agreed_answer`` for ``node``, from the metadata of the current visit."""
        names = qualified_names_in(self.get_metadata(ScopeProvider, node, None), node)
        return agreed_answer((name.name for name in names), lookup)

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.looks_for and "trigger" not in cls.__dict__:
            cls.trigger = trigger_for(cls.looks_for)

    @classmethod
    def may_fire(cls, scan: "ByteScan") -> bool:
        """Whether the rule may report anything in the file ``scan`` reads.

        It may only say False when the rule would certainly find nothing, for the file is
        then not parsed for it. By default, what ``looks_for`` allows, or True (always
        right) for a rule that states nothing.
        """
        return any(statement.may_fire(scan) for statement in cls.looks_for) if cls.looks_for else True

    @classmethod
    def sites(cls, scan: "SyntaxScan") -> Optional[Iterable[ast.AST]]:
        """The nodes of CPython's tree around which the rule may report; None: anywhere.

        Asked only when ``may_fire`` said yes. The engine gives libcst only the top-level
        statements holding a site (see :mod:`dropout_lint.prefilter.reduction`), and nothing
        at all when no rule has one; so every finding must be in the statement of some site.
        By default, the calls and reads ``looks_for`` states, or None for a rule that states
        none.
        """
        if not cls.looks_for:
            return None
        return [site for statement in cls.looks_for for site in statement.sites(scan)]

    @classmethod
    def check_suppressions(
        cls, path: str, text: str, found: Sequence[Diagnostic], enabled: Sequence[type["Rule"]]
    ) -> list[Diagnostic]:
        """Findings about the file's ``# noqa`` directives, from every finding made before
        they applied (``found``) and the rules ``enabled`` for the file. The default: none."""
        return []

    @classmethod
    def judges_suppressions(cls) -> bool:
        return cls.check_suppressions.__func__ is not Rule.check_suppressions.__func__  # type: ignore[attr-defined]

    @classmethod
    def has_fix(cls) -> bool:
        return cls.node_edits is not Rule.node_edits

    def node_edits(self, diagnostic: Diagnostic) -> Optional["NodeEdits"]:
        """The tree edits that fix one of this visit's findings; None when there are none.

        Asked after the traversal, for each finding that is reported (not suppressed) and
        offers a fix, in the order of the file; the engine turns the edits into the text
        edits the finding carries. The default: the rule has no fix.
        """
        return None
