"""Which rules run, from ``select``/``extend-select``/``ignore``, as ruff decides it.

Each source of settings (a config file, ``--config KEY=VALUE``, the command line) is one
:class:`RuleSelection`, applied in order; within one, the most specific selector that matches
a rule decides, and ``ignore`` beats ``select`` at equal specificity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from ..engine.rule import Rule
from .config_error import ConfigError

ALL_SELECTOR = "ALL"
SELECTOR_SHAPE = re.compile(r"[A-Z]+[0-9]*")


@dataclass(frozen=True)
class RuleSelection:
    """One source's ``select``/``extend-select``/``ignore``. ``select=None``: not given."""

    select: Optional[tuple[str, ...]] = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source: str = "defaults"


def resolve_rule_selection(
    selections: Sequence[RuleSelection], all_rules: Sequence[type[Rule]]
) -> tuple[type[Rule], ...]:
    """The rules enabled by ``selections`` applied in order, with ruff's specificity rule."""
    enabled = {rule for rule in all_rules if rule.default_enabled}
    for selection in selections:
        updates: dict[type[Rule], bool] = {}
        selecting = [*(selection.select or ()), *selection.extend_select]
        tagged = [(s, True) for s in selecting] + [(s, False) for s in selection.ignore]
        # Less specific first, so the more specific selectors overwrite; ignore after select.
        for selector, turn_on in sorted(
            tagged, key=lambda item: (_specificity(item[0]), not item[1])
        ):
            for rule in rules_matching(selector, all_rules, selection.source):
                if turn_on and not _selects(selector, rule):
                    continue
                updates[rule] = turn_on
        if selection.select is not None:
            enabled = {rule for rule, on in updates.items() if on}
        else:
            enabled |= {rule for rule, on in updates.items() if on}
            enabled -= {rule for rule, on in updates.items() if not on}
    return tuple(rule for rule in all_rules if rule in enabled)


def _specificity(selector: str) -> int:
    return 0 if selector == ALL_SELECTOR else len(selector)


def _selects(selector: str, rule: type[Rule]) -> bool:
    """Rules off by default are only turned on by their full code or ``ALL``."""
    return rule.default_enabled or selector in (ALL_SELECTOR, rule.code)


def rules_matching(
    selector: str, all_rules: Sequence[type[Rule]], source: str
) -> list[type[Rule]]:
    matched = [
        rule for rule in all_rules if selector == ALL_SELECTOR or rule.code.startswith(selector)
    ]
    if not matched:
        raise ConfigError(f"{source}: unknown rule selector {selector!r}")
    return matched
