"""The two prefilter stages, which keep libcst away from code no rule can report on.

The byte stage reads the file's bytes (:class:`~.byte_scan.ByteScan`, through each rule's
``trigger`` and ``may_fire``); the syntax stage reads CPython's tree
(:class:`~.syntax_scan.SyntaxScan`, through each rule's ``sites``) and says which top-level
statements libcst must see (:mod:`.reduction`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional, Sequence

from .byte_scan import ByteScan
from .syntax_scan import SyntaxScan

if TYPE_CHECKING:
    from ..engine.rule import Rule


def byte_stage(data: bytes, rules: Sequence[type[Rule]]) -> list[type[Rule]]:
    """The rules whose trigger matches the bytes and whose ``may_fire`` says yes: no other can
    report in the file."""
    scan = ByteScan(data)
    return [rule for rule in rules if rule.trigger.search(data) and rule.may_fire(scan)]


def syntax_stage(
    rules: Sequence[type[Rule]], scan: SyntaxScan
) -> tuple[list[type[Rule]], Optional[set[int]]]:
    """The rules that have a site, and the top-level statements holding the sites (None:
    some rule may report anywhere). A rule whose ``sites`` fails may report anywhere."""
    found: list[type[Rule]] = []
    statements: Optional[set[int]] = set()
    for rule in rules:
        try:
            sites = rule.sites(scan)
        except Exception:  # noqa: BLE001 - the rule itself still runs, on the whole file
            sites = None
        if sites is None:
            found.append(rule)
            statements = None
            continue
        held = {scan.statement_of(node) for node in sites}
        if held:
            found.append(rule)
            if statements is not None:
                statements |= held
    return found, statements
