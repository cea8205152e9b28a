"""Settings from ``[tool.dropout-lint]`` and the command line, and which rules run on a file.

Rule selection follows ruff: each source of settings (the config file, then the command
line) is one :class:`RuleSelection`, applied in order; within one, the most specific
selector that matches a rule decides, and ``ignore`` beats ``select`` at equal specificity.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from ..engine.lint import DEFAULT_MAX_FILE_SIZE
from ..engine.rule import Rule

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.9 and 3.10 only
    import tomli as tomllib

TOOL_TABLE = "dropout-lint"
ALL_SELECTOR = "ALL"
FIX_STYLES = ("module", "training-flag")
_SELECTOR_SHAPE = re.compile(r"[A-Z]+[0-9]*")

# Directories and files no one wants linted, matched by name at any depth, as in ruff.
DEFAULT_EXCLUDE: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".dropout-lint-cache",
    "__pycache__",
    "__pypackages__",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".eggs",
    "*.egg-info",
    ".ipynb_checkpoints",
    "_build",
    "buck-out",
)


class ConfigError(Exception):
    """Settings that cannot be used as written. The CLI reports it and exits with 2."""


class PathPattern:
    """A glob from the settings, matched against a POSIX path relative to the project root.

    ``*`` and ``?`` stay within one path component, ``**`` spans any number of them. A
    pattern without a slash (``"test_*.py"``, ``"build"``) matches a name in any directory.
    """

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.matches_name_only = "/" not in pattern.rstrip("/")
        self._regex = re.compile(glob_to_regex(pattern.strip("/")))

    def __repr__(self) -> str:
        return f"PathPattern({self.pattern!r})"

    def matches(self, relative_path: str) -> bool:
        """Whether this pattern names ``relative_path`` itself (not a directory above it)."""
        subject = relative_path.rsplit("/", 1)[-1] if self.matches_name_only else relative_path
        return self._regex.fullmatch(subject) is not None

    @property
    def regex(self) -> str:
        """The regular expression, for ``fullmatch``, of the name or path it matches."""
        return self._regex.pattern

    def matches_within(self, relative_path: str) -> bool:
        """Whether this pattern names ``relative_path`` or a directory that contains it."""
        parts = relative_path.split("/")
        return any(self.matches("/".join(parts[:end])) for end in range(len(parts), 0, -1))


class PathPatterns:
    """Many patterns, matched at once: one regular expression for the names, one for paths."""

    def __init__(self, patterns: Sequence[PathPattern]) -> None:
        self._names = _any_of(p.regex for p in patterns if p.matches_name_only)
        self._paths = _any_of(p.regex for p in patterns if not p.matches_name_only)

    def match(self, relative_path: str) -> bool:
        """Whether some pattern ``matches`` ``relative_path``."""
        name = relative_path.rsplit("/", 1)[-1]
        return bool(
            (self._names is not None and self._names.fullmatch(name))
            or (self._paths is not None and self._paths.fullmatch(relative_path))
        )


def _any_of(regexes: Iterable[str]) -> Optional[re.Pattern[str]]:
    alternatives = [f"(?:{regex})" for regex in regexes]
    return re.compile("|".join(alternatives)) if alternatives else None


def glob_to_regex(glob: str) -> str:
    """The regular expression (for ``fullmatch``) of a slash-separated glob."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if glob.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif glob.startswith("/**", index) and index + 3 == len(glob):
            out.append("/.+")
            index += 3
        elif glob.startswith("**", index):
            out.append(".*")
            index += 2
        elif char == "*":
            out.append("[^/]*")
            index += 1
        elif char == "?":
            out.append("[^/]")
            index += 1
        elif char == "[" and "]" in glob[index + 2 :]:
            end = glob.index("]", index + 2)
            body = glob[index + 1 : end]
            negated = body.startswith(("!", "^"))
            body = body[1:] if negated else body
            out.append(("[^/" if negated else "[") + body.replace("\\", "\\\\") + "]")
            index = end + 1
        elif char == "\\" and index + 1 < len(glob):
            out.append(re.escape(glob[index + 1]))
            index += 2
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


@dataclass(frozen=True)
class RuleSelection:
    """One source's ``select``/``extend-select``/``ignore``. ``select=None``: not given."""

    select: Optional[tuple[str, ...]] = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    source: str = "defaults"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, already validated and merged (command line over file)."""

    rule_selections: tuple[RuleSelection, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fix_style: str = "module"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    root: Path = field(default_factory=Path.cwd)
    _cache: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        """Worker processes get the settings without this process's memo."""
        return {**vars(self), "_cache": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, value)

    def rules_for(self, path: str, all_rules: Sequence[type[Rule]]) -> tuple[type[Rule], ...]:
        """The rules to run on ``path``: the selected ones less its per-file ignores.

        Called once per file, so the answer is memoized per set of matching patterns.
        """
        rules = tuple(all_rules)
        enabled = self.enabled_rules(rules)
        ignore_patterns = self._per_file_ignore_patterns(rules)
        relative = self.relative_path(path)
        matching = frozenset(
            index
            for index, (pattern, _) in enumerate(ignore_patterns)
            if pattern.matches_within(relative)
        )
        key = ("rules_for", rules, matching)
        if key not in self._cache:
            ignored = {code for index in matching for code in ignore_patterns[index][1]}
            self._cache[key] = tuple(rule for rule in enabled if rule.code not in ignored)
        return self._cache[key]

    def relative_path(self, path: str) -> str:
        """``path`` as a POSIX path relative to ``root``, or absolute when outside it.

        String operations, not ``pathlib``: discovery asks this of every entry it walks.
        """
        absolute = os.path.abspath(path)
        root = os.path.abspath(self.root)
        if absolute == root:
            return "."
        inside = os.path.join(root, "")
        relative = absolute[len(inside) :] if absolute.startswith(inside) else absolute
        return relative.replace(os.sep, "/")

    def enabled_rules(self, all_rules: Sequence[type[Rule]]) -> tuple[type[Rule], ...]:
        """The selected rules before per-file ignores (for SARIF's rule list, say).

        Raises ConfigError for a selector that names no rule, here or in per-file-ignores,
        so the CLI can call it once up front and stop before linting anything.
        """
        rules = tuple(all_rules)
        key = ("enabled", rules)
        if key not in self._cache:
            self._per_file_ignore_patterns(rules)
            self._cache[key] = resolve_rule_selection(self.rule_selections, rules)
        return self._cache[key]

    def _per_file_ignore_patterns(
        self, all_rules: tuple[type[Rule], ...]
    ) -> tuple[tuple[PathPattern, frozenset[str]], ...]:
        key = ("per_file_ignores", all_rules)
        if key not in self._cache:
            self._cache[key] = tuple(
                (
                    PathPattern(glob),
                    frozenset(
                        rule.code
                        for selector in selectors
                        for rule in _rules_matching(selector, all_rules, "per-file-ignores")
                    ),
                )
                for glob, selectors in self.per_file_ignores.items()
            )
        return self._cache[key]


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
            for rule in _rules_matching(selector, all_rules, selection.source):
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


def _rules_matching(
    selector: str, all_rules: Sequence[type[Rule]], source: str
) -> list[type[Rule]]:
    matched = [
        rule for rule in all_rules if selector == ALL_SELECTOR or rule.code.startswith(selector)
    ]
    if not matched:
        raise ConfigError(f"{source}: unknown rule selector {selector!r}")
    return matched


def find_pyproject(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start`` with a ``[tool.dropout-lint]`` table.

    A pyproject without the table is skipped, as ruff does, so a monorepo's inner packages
    can share the settings of the top one.
    """
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and TOOL_TABLE in _read_toml(candidate).get("tool", {}):
            return candidate
    return None


def tool_table(config_path: Path) -> dict[str, Any]:
    """The ``[tool.dropout-lint]`` table of ``config_path``, as written (empty if none)."""
    return _read_toml(config_path).get("tool", {}).get(TOOL_TABLE, {})


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as file:
            return tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ConfigError(f"{path}: cannot read settings: {error}") from error


def load_settings(config_path: Optional[Path], overrides: Mapping[str, Any]) -> Settings:
    """Settings from ``config_path``'s ``[tool.dropout-lint]`` table, then ``overrides``.

    ``overrides`` come from the command line, keyed by :class:`Settings` field names
    (``extend_select``, ``fix_style``, ...); a value of None means "not given".
    ``extend_exclude`` adds to the file's list; every other override replaces it.
    """
    file_values: dict[str, Any] = {}
    root = Path.cwd()
    source = "defaults"
    if config_path is not None:
        table = tool_table(config_path)
        source = str(config_path)
        file_values = _validated(table, source, kebab_case=True)
        root = Path(os.path.abspath(config_path)).parent
    given = {key: value for key, value in overrides.items() if value is not None}
    cli_values = _validated(given, "command line", kebab_case=False)
    return _merge(file_values, source, cli_values, root)


def _merge(
    file_values: dict[str, Any], source: str, cli_values: dict[str, Any], root: Path
) -> Settings:
    selections = tuple(
        RuleSelection(
            select=values.get("select"),
            extend_select=values.get("extend_select", ()),
            ignore=values.get("ignore", ()),
            source=origin,
        )
        for values, origin in ((file_values, source), (cli_values, "command line"))
        if values.keys() & {"select", "extend_select", "ignore"}
    )
    merged = {key: value for key, value in file_values.items() if key not in _SELECTION_KEYS}
    for key, value in cli_values.items():
        if key == "extend_exclude":
            merged[key] = merged.get(key, ()) + value
        elif key not in _SELECTION_KEYS:
            merged[key] = value
    return Settings(rule_selections=selections, root=root, **merged)


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
        if not (code == ALL_SELECTOR or _SELECTOR_SHAPE.fullmatch(code)):
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
}
