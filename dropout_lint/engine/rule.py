"""The shape of a rule: one class per file, with its code, documentation, examples and gates.

A rule's declaration (this class) is all that the registry, ``--explain`` and the two
prefilter stages read, and it imports no libcst. What checks it on libcst's tree is its
visitor (:mod:`.rule_visitor`), imported only when a file reaches that stage: the engine
runs every enabled rule's visitor over one parse of the file, in a single traversal.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Iterable, Optional, Sequence, Union

from ..prefilter.attribute_reads import AttributeReads
from ..prefilter.call_sites import CallSites, trigger_for
from ..prefilter.reduction import ClassReads
from .diagnostics import Diagnostic

if TYPE_CHECKING:
    from ..analysis.mode_summaries import ProjectModeSummaries
    from ..prefilter.byte_scan import ByteScan
    from ..prefilter.syntax_scan import SyntaxScan
    from .rule_visitor import RuleVisitor


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


class Rule:
    """Base class of every rule's declaration. Subclasses set the class attributes; the
    rule's visitor (:meth:`visitor`) subclasses the declaration and visits libcst's nodes.

    ``explanation`` is Markdown with the sections of ruff's rule docs: what it does, why
    is this bad, example, use instead, fix safety, references. ``trigger`` is a regular
    expression over the source: a file it does not match cannot contain a finding, so the
    engine neither parses it nor runs the rule on it. ``may_fire`` is a finer gate, asked
    only when ``trigger`` matched, and ``sites`` a finer one still, on CPython's tree.

    A rule that looks for calls or attribute reads states them once, in ``looks_for``; its
    ``trigger``, ``may_fire`` and ``sites`` are derived from that statement (see
    :mod:`dropout_lint.prefilter.call_sites` and :mod:`dropout_lint.prefilter.attribute_reads`),
    and its visitor confirms each call or read. Nothing here imports libcst: a file that
    no gate lets through costs no libcst, not even its import.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    explanation: ClassVar[str]
    trigger: ClassVar[re.Pattern[str]]
    default_enabled: ClassVar[bool] = True
    looks_for: ClassVar[tuple[Union[CallSites, AttributeReads], ...]] = ()
    # What the rule reads of a class besides the methods holding its sites; None: all of it.
    class_reads: ClassVar[Optional[ClassReads]] = None
    valid: ClassVar[Sequence[Valid]] = ()
    invalid: ClassVar[Sequence[Invalid]] = ()

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "looks_for" in cls.__dict__ and cls.looks_for and "trigger" not in cls.__dict__:
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
    def may_fire_in_project(cls, text: str, mode_summaries: "ProjectModeSummaries") -> bool:
        """Whether the rule may report in a file that ``may_fire`` let through, given its
        ``text`` and what the project's other files say (``mode_summaries``).

        Asked before the file is parsed, so it may only say False when the rule would
        certainly find nothing. By default, yes.
        """
        return True

    @classmethod
    def asks_project(cls) -> bool:
        """Whether the rule has a ``may_fire_in_project`` of its own."""
        return cls.may_fire_in_project.__func__ is not Rule.may_fire_in_project.__func__  # type: ignore[attr-defined]

    @classmethod
    def sites(cls, scan: "SyntaxScan") -> Optional[Iterable[ast.AST]]:
        """The nodes of CPython's tree around which the rule may report; None: anywhere.

        Asked only when ``may_fire`` said yes. The engine gives libcst only the top-level
        statements holding a site (see :mod:`dropout_lint.prefilter.reduction`), and nothing
        at all when no rule has one; so every finding must be in the statement of some site,
        and, for a rule that states its ``class_reads``, in a method holding a site.
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
    def visitor(cls) -> type["RuleVisitor"]:
        """The class that checks the rule on libcst's tree, imported (with libcst) on first
        use: see :func:`.rule_visitor.visitor_of`."""
        from .rule_visitor import visitor_of

        return visitor_of(cls)

    @classmethod
    def has_fix(cls) -> bool:
        """Whether the rule's visitor computes fixes (this imports the visitor)."""
        from .rule_visitor import RuleVisitor

        return cls.visitor().node_edits is not RuleVisitor.node_edits
