"""Where settings come from: configuration files, ``--config`` and the command-line flags.

Each file is checked with the settings of the closest configuration file above it, as in
ruff: in each directory ``.dropout-lint.toml``, then ``dropout-lint.toml`` (settings at top
level), then a ``pyproject.toml`` with a ``[tool.dropout-lint]`` table (one without the table
is passed over). Files are not merged: the closest one wins. A file with no configuration
above it gets the one found from the current directory, else the defaults. ``--config FILE``
replaces the search; ``--config KEY=VALUE`` and then the flags go on top of whichever applies.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from .config_error import ConfigError
from .rule_selection import ALL_SELECTOR, SELECTOR_SHAPE, RuleSelection
from .settings import FIX_STYLES, Settings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.9 and 3.10 only
    import tomli as tomllib

TOOL_TABLE = "dropout-lint"
PYPROJECT = "pyproject.toml"
# In the order one directory's files are preferred, as ruff prefers .ruff.toml, ruff.toml.
CONFIG_FILE_NAMES = (".dropout-lint.toml", "dropout-lint.toml", PYPROJECT)


@dataclass(frozen=True)
class SettingsLayer:
    """Validated settings from one source, keyed by :class:`Settings` field names."""

    values: Mapping[str, Any]
    source: str


def config_file_in(directory: Union[str, Path]) -> Optional[Path]:
    """The configuration file of ``directory`` itself, if it has one."""
    for name in CONFIG_FILE_NAMES:
        candidate = os.path.join(directory, name)  # not pathlib: asked of every directory walked
        if os.path.isfile(candidate) and (
            name != PYPROJECT or TOOL_TABLE in _read_toml(Path(candidate)).get("tool", {})
        ):
            return Path(candidate)
    return None


def find_config_file(start: Path) -> Optional[Path]:
    """The closest configuration file at or above ``start``."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        found = config_file_in(directory)
        if found is not None:
            return found
    return None


def read_config_file(path: Path) -> Mapping[str, Any]:
    """The settings table of ``path``: ``[tool.dropout-lint]`` of a pyproject, else the top level."""
    document = _read_toml(path)
    if path.name == PYPROJECT:
        return document.get("tool", {}).get(TOOL_TABLE, {})
    return document


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read settings: {error}") from error


def file_layer(path: Path) -> SettingsLayer:
    return SettingsLayer(_validated(read_config_file(path), str(path), kebab_case=True), str(path))


def parse_config_option(value: str) -> Union[Path, SettingsLayer]:
    """``--config``'s argument: a configuration file, or a ``KEY = VALUE`` TOML override."""
    if os.path.isfile(value):
        return Path(value)
    try:
        table = tomllib.loads(value)
    except tomllib.TOMLDecodeError as error:
        looks_like_path = value.endswith(".toml") or os.sep in value
        what = "no such file" if looks_like_path else f"not a file, nor TOML `KEY = VALUE` ({error})"
        raise ConfigError(f"--config {value!r}: {what}") from error
    source = f"--config {value!r}"
    return SettingsLayer(_validated(table, source, kebab_case=True), source)


def command_line_layer(overrides: Mapping[str, Any], source: str = "command line") -> SettingsLayer:
    """The dedicated flags (``--select``, ...), keyed by field name; None means not given.

    ``source`` names where they come from in messages: the editor's settings are keyed the same way.
    """
    given = {key: value for key, value in overrides.items() if value is not None}
    return SettingsLayer(_validated(given, source, kebab_case=False), source)


def merged_settings(
    layers: Sequence[SettingsLayer], root: Path, config_file: Optional[Path] = None
) -> Settings:
    """``layers`` applied in order: ``extend-exclude`` and the rule selection accumulate,
    every other key replaces the one before it, as in ruff."""
    selections = tuple(
        RuleSelection(
            select=layer.values.get("select"),
            extend_select=layer.values.get("extend_select", ()),
            ignore=layer.values.get("ignore", ()),
            source=layer.source,
        )
        for layer in layers
        if layer.values.keys() & _SELECTION_KEYS
    )
    merged: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.values.items():
            if key == "extend_exclude":
                merged[key] = merged.get(key, ()) + value
            elif key not in _SELECTION_KEYS:
                merged[key] = value
    return Settings(rule_selections=selections, root=root, config_file=config_file, **merged)


def load_settings(config_path: Optional[Path], overrides: Mapping[str, Any]) -> Settings:
    """The settings of ``config_path`` (if any) with the flags in ``overrides`` on top."""
    layers = [command_line_layer(overrides)]
    if config_path is None:
        return merged_settings(layers, Path.cwd())
    absolute = Path(os.path.abspath(config_path))
    return merged_settings([file_layer(absolute), *layers], absolute.parent, absolute)


@dataclass
class SettingsResolver:
    """The settings of each path: its closest configuration file's, with ``overrides`` on top.

    ``fixed_config`` (``--config FILE``) is used for every path; ``isolated`` reads no file.
    Answers are memoized per directory; the resolver travels to worker processes with them.
    """

    overrides: Sequence[SettingsLayer] = ()
    fixed_config: Optional[Path] = None
    isolated: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    default: Settings = field(init=False)
    _by_directory: dict[str, Settings] = field(default_factory=dict, repr=False)
    _by_file: dict[Path, Settings] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.fixed_config is not None or self.isolated:
            self.default = self._settings_of(self.fixed_config)
        else:
            self.default = self._settings_of(find_config_file(self.cwd))

    @property
    def hierarchical(self) -> bool:
        return self.fixed_config is None and not self.isolated

    def settings_for(self, path: str) -> Settings:
        """The settings that ``path`` (a file or a directory) is checked with."""
        if not self.hierarchical:
            return self.default
        absolute = os.path.abspath(path)
        directory = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        return self._for_directory(directory)

    def _for_directory(self, directory: str) -> Settings:
        known = self._by_directory.get(directory)
        if known is not None:
            return known
        found = config_file_in(directory)
        parent = os.path.dirname(directory)
        if found is not None:
            settings = self._settings_of(found)
        elif parent == directory:
            settings = self.default
        else:
            settings = self._for_directory(parent)
        self._by_directory[directory] = settings
        return settings

    def _settings_of(self, config_file: Optional[Path]) -> Settings:
        if config_file is None:
            return merged_settings(self.overrides, Path(os.path.abspath(self.cwd)))
        absolute = Path(os.path.abspath(config_file))
        if absolute not in self._by_file:
            layers = [file_layer(absolute), *self.overrides]
            self._by_file[absolute] = merged_settings(layers, absolute.parent, absolute)
        return self._by_file[absolute]


_SELECTION_KEYS = frozenset({"select", "extend_select", "ignore"})


def _validated(raw: Mapping[str, Any], source: str, *, kebab_case: bool) -> dict[str, Any]:
    """``raw`` checked key by key and converted to :class:`Settings` field values."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        field_name = key.replace("-", "_") if kebab_case else key
        spelled = field_name.replace("_", "-") if kebab_case else field_name
        if field_name not in _CONVERTERS or (kebab_case and key != spelled):
            raise ConfigError(
                f"{source}: unknown setting {key!r} (known: {', '.join(_known(kebab_case))})"
            )
        values[field_name] = _CONVERTERS[field_name](value, f"{source}: {key!r}")
    return values


def _known(kebab_case: bool) -> list[str]:
    return sorted(name.replace("_", "-") if kebab_case else name for name in _CONVERTERS)


def _selectors(value: Any, where: str) -> tuple[str, ...]:
    codes = _strings(value, where)
    for code in codes:
        if not (code == ALL_SELECTOR or SELECTOR_SHAPE.fullmatch(code)):
            raise ConfigError(
                f"{where}: {code!r} is not a rule code or prefix (like 'DRP0' or 'DRP001')"
            )
    return codes


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ConfigError(f"{where} must be a list of strings, not {type(value).__name__}")
    if not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def _per_file_ignores(value: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be a table of glob = [codes], not {type(value).__name__}")
    if not all(isinstance(glob, str) for glob in value):
        raise ConfigError(f"{where} must be keyed by glob strings")
    return {glob: _selectors(codes, f"{where}[{glob!r}]") for glob, codes in value.items()}


def _fix_style(value: Any, where: str) -> str:
    if value not in FIX_STYLES:
        raise ConfigError(
            f"{where} must be one of {', '.join(map(repr, FIX_STYLES))}, not {value!r}"
        )
    return value


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} must be a positive integer (bytes), not {value!r}")
    return value


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


_CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "select": _selectors,
    "extend_select": _selectors,
    "ignore": _selectors,
    "exclude": _strings,
    "extend_exclude": _strings,
    "per_file_ignores": _per_file_ignores,
    "fix_style": _fix_style,
    "max_file_size": _positive_int,
    "respect_gitignore": _boolean,
    "force_exclude": _boolean,
}
