"""``--show-settings PATH``: the settings a path is checked with, and where they come from."""

from __future__ import annotations

import json
from typing import Any

from ..rules import ALL_RULES
from ..workspace.settings import Settings


def settings_text(path: str, settings: Settings) -> str:
    """The resolved settings of ``path`` in TOML-like lines, after the file they came from."""
    source = str(settings.config_file) if settings.config_file is not None else "none (defaults)"
    rows: list[tuple[str, Any]] = [
        ("rules", [rule.code for rule in settings.rules_for(path, ALL_RULES)]),
        ("enabled", [rule.code for rule in settings.enabled_rules(ALL_RULES)]),
        ("exclude", list(settings.exclude)),
        ("extend-exclude", list(settings.extend_exclude)),
        ("per-file-ignores", {glob: list(codes) for glob, codes in settings.per_file_ignores.items()}),
        ("force-exclude", settings.force_exclude),
        ("respect-gitignore", settings.respect_gitignore),
        ("fix-style", settings.fix_style),
        ("max-file-size", settings.max_file_size),
        ("root", str(settings.root)),
    ]
    lines = [
        f"Settings for: {path}",
        f"Configuration file: {source}",
        *(f"Rule selection from {selection.source}: select={_value(selection.select)}, "
          f"extend-select={_value(selection.extend_select)}, ignore={_value(selection.ignore)}"
          for selection in settings.rule_selections),
        f"Excluded: {'yes' if settings.is_excluded(path) else 'no'}",
        "",
        *(f"{key} = {_value(value)}" for key, value in rows),
    ]
    return "\n".join(lines) + "\n"


def _value(value: Any) -> str:
    if value is None:
        return "(not set)"
    return json.dumps(list(value) if isinstance(value, tuple) else value)
