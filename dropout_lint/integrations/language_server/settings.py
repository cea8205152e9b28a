"""The editor's settings, and the settings a document is checked with.

The editor sends its settings in ``initializationOptions`` and ``workspace/didChangeConfiguration``,
camelCased (``extendSelect``, ``unsafeFixes``), bare or under a ``"dropout-lint"`` key; the
latter's settings go over the former's, one by one (eglot sends ``{}`` when it has none). A file
is checked with the settings ``dropout-lint PATH`` finds for it, run in the workspace's root
(the closest configuration file, as the command resolves it); the editor's fill in only what
that file leaves unsaid, as ruff's server does with ``configurationPreference =
"filesystemFirst"``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ...rules import ALL_RULES
from ...workspace.config_error import ConfigError
from ...workspace.config_files import SettingsResolver, command_line_layer, read_config_file
from ...workspace.settings import FIX_STYLES, Settings

SECTION = "dropout-lint"
RUN_ON_TYPE, RUN_ON_SAVE = "onType", "onSave"
LOG_LEVELS = ("error", "warning", "info", "debug")
# Rule selection is one setting: a project that selects or ignores anything owns all of it,
# and so do editor settings over earlier ones.
_SELECTION = ("select", "extend_select", "ignore")
_EDITOR_SELECTION = {"select", "extendSelect", "ignore"}  # the same, as the editor spells them
_PROJECT_KEYS = {"select": _SELECTION, "extend-select": _SELECTION, "ignore": _SELECTION, "fix-style": ("fix_style",)}


@dataclass(frozen=True)
class ClientSettings:
    """What the editor asked for. Rule codes are checked when used (:func:`settings_for`),
    as the command checks its flags."""

    lint: Mapping[str, Any] = field(default_factory=dict)
    unsafe_fixes: bool = False
    run: str = RUN_ON_TYPE
    log_level: str = "info"

    def to_json(self) -> dict[str, Any]:
        return {
            **{_camel(key): list(value) if isinstance(value, tuple) else value for key, value in self.lint.items()},
            "unsafeFixes": self.unsafe_fixes,
            "run": self.run,
            "logLevel": self.log_level,
        }

    @property
    def logging_level(self) -> int:
        return getattr(logging, self.log_level.upper())


def client_settings(*layers: Any) -> ClientSettings:
    """The editor's settings from its JSON objects, each setting from the last that gives it
    (``initializationOptions``, then ``workspace/didChangeConfiguration``'s; rule selection
    is one setting); ConfigError names what is wrong."""
    raw: dict[str, Any] = {}
    for layer in map(_section, layers):
        if _EDITOR_SELECTION & set(layer):
            raw = {key: value for key, value in raw.items() if key not in _EDITOR_SELECTION}
        raw.update(layer)
    lint_keys = {*_EDITOR_SELECTION, "fixStyle"}
    known = {*lint_keys, "unsafeFixes", "run", "logLevel"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"editor settings: unknown setting {unknown[0]!r} (known: {', '.join(sorted(known))})")
    lint = {
        _snake(key): tuple(value) if isinstance(value, list) else value
        for key, value in raw.items()
        if key in lint_keys
    }
    unsafe_fixes = raw.get("unsafeFixes", False)
    if not isinstance(unsafe_fixes, bool):
        raise ConfigError(f"editor settings: 'unsafeFixes' must be true or false, not {unsafe_fixes!r}")
    run = raw.get("run", RUN_ON_TYPE)
    if run not in (RUN_ON_TYPE, RUN_ON_SAVE):
        raise ConfigError(f"editor settings: 'run' must be {RUN_ON_TYPE!r} or {RUN_ON_SAVE!r}, not {run!r}")
    log_level = raw.get("logLevel", "info")
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"editor settings: 'logLevel' must be one of {', '.join(LOG_LEVELS)}, not {log_level!r}")
    if lint.get("fix_style", FIX_STYLES[0]) not in FIX_STYLES:
        raise ConfigError(f"editor settings: 'fixStyle' must be one of {', '.join(FIX_STYLES)}, not {lint['fix_style']!r}")
    return ClientSettings(lint, unsafe_fixes, run, log_level)


def _section(raw: Any) -> Mapping[str, Any]:
    """This server's part of one JSON object of editor settings: all of it, or its
    ``"dropout-lint"`` object; nothing from null."""
    if raw is None:
        return {}
    if isinstance(raw, Mapping) and isinstance(raw.get(SECTION), Mapping):
        return raw[SECTION]
    if not isinstance(raw, Mapping):
        raise ConfigError(f"editor settings must be an object, not {type(raw).__name__}")
    return raw


def settings_for(path: str, client: ClientSettings, root: Path) -> Settings:
    """The settings ``dropout-lint path`` run in ``root`` would use, with the editor's filling
    the gaps; ConfigError if either cannot be used."""
    config = SettingsResolver(cwd=root).settings_for(path).config_file
    written = read_config_file(config) if config is not None else {}
    project_speaks = {name for key in written for name in _PROJECT_KEYS.get(key, ())}
    unsaid = {key: value for key, value in client.lint.items() if key not in project_speaks}
    editor = command_line_layer(unsaid, source="editor settings")
    return SettingsResolver(overrides=(editor,), fixed_config=config, isolated=config is None, cwd=root).default


def describe(path: str, client: ClientSettings, root: Path) -> dict[str, Any]:
    """The resolved settings for ``path``, as ``dropout-lint.showSettings`` returns them."""
    settings = settings_for(path, client, root)
    return {
        "path": path,
        "configFile": str(settings.config_file) if settings.config_file is not None else None,
        "rules": [rule.code for rule in settings.rules_for(path, ALL_RULES)],
        "fixStyle": settings.fix_style,
        "maxFileSize": settings.max_file_size,
        "editor": client.to_json(),
    }


def _snake(name: str) -> str:
    return "".join(f"_{char.lower()}" if char.isupper() else char for char in name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
