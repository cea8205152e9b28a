"""Regenerate the rule table in README.md from the rules themselves."""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dropout_lint.rules import ALL_RULES  # noqa: E402

README = Path(__file__).resolve().parent.parent / "README.md"
_TABLE = re.compile(r"(<!-- rules:start[^>]*-->\n).*?(<!-- rules:end -->)", re.DOTALL)


def rule_table() -> str:
    rows = ["| code | name | what it finds | fix |", "| --- | --- | --- | --- |"]
    for rule in ALL_RULES:
        summary = rule.summary + ("" if rule.default_enabled else " (opt-in)")
        fix = "yes" if rule.has_fix() else "no"
        rows.append(f"| {rule.code} | `{rule.name}` | {summary} | {fix} |")
    return "\n".join(rows) + "\n"


def render(readme: str) -> str:
    return _TABLE.sub(lambda m: m.group(1) + rule_table() + m.group(2), readme)


if __name__ == "__main__":
    README.write_text(render(README.read_text(encoding="utf-8")), encoding="utf-8")
