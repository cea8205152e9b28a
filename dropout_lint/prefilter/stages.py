"""The two prefilter stages, which keep libcst away from code no rule can report on.

The byte stage reads the file's bytes (:class:`~.byte_scan.ByteScan`, through each rule's
``trigger`` and ``may_fire``); the syntax stage reads CPython's tree
(:class:`~.syntax_scan.SyntaxScan`, through each rule's ``sites``) and says which top-level
statements libcst must see, and which methods of their classes (:mod:`.reduction`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Sequence

from .byte_scan import ByteScan
from .reduction import ClassReads, MethodSites
from .syntax_scan import SyntaxScan

if TYPE_CHECKING:
    from ..engine.rule import Rule


@dataclass(frozen=True)
class Sites:
    """Where the rules that have a site may report: the top-level statements holding one,
    and where in their classes (None: the rules read the classes whole)."""

    statements: set[int]
    methods: Optional[MethodSites]


def byte_stage(data: bytes, rules: Sequence[type[Rule]]) -> list[type[Rule]]:
    """The rules whose trigger matches the bytes and whose ``may_fire`` says yes: no other can
    report in the file."""
    scan = ByteScan(data)
    matched: dict[re.Pattern[bytes], bool] = {}  # rules may share one (DRP001 and DRP003)
    return [rule for rule in rules if _matches(rule.trigger, data, matched) and rule.may_fire(scan)]


def _matches(trigger: re.Pattern[bytes], data: bytes, matched: dict[re.Pattern[bytes], bool]) -> bool:
    """Whether ``trigger`` matches ``data``, searched once for the rules that share it."""
    if trigger not in matched:
        matched[trigger] = trigger.search(data) is not None
    return matched[trigger]


def syntax_stage(rules: Sequence[type[Rule]], scan: SyntaxScan) -> tuple[list[type[Rule]], Optional[Sites]]:
    """The rules that have a site, and where the sites are (None: some rule may report
    anywhere). A rule whose ``sites`` fails may report anywhere."""
    found: list[type[Rule]] = []
    statements: Optional[set[int]] = set()
    spans: list[tuple[int, int]] = []
    reads: Optional[ClassReads] = ClassReads()
    for rule in rules:
        try:
            sites = rule.sites(scan)
        except Exception:  # noqa: BLE001 - the rule itself still runs, on the whole file
            sites = None
        if sites is None:
            found.append(rule)
            statements = None
            continue
        sites = list(sites)
        held = {scan.statement_of(node) for node in sites}
        if held:
            found.append(rule)
            if statements is not None:
                statements |= held
            if reads is not None and rule.class_reads is not None:
                reads |= rule.class_reads
                spans.extend((node.lineno, node.end_lineno) for node in sites)  # type: ignore[attr-defined]
            else:
                reads = None
    if statements is None:
        return found, None
    return found, Sites(statements, None if reads is None else MethodSites(spans, reads))
