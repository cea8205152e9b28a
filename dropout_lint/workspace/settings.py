"""The settings one file is checked with, validated and merged from every source."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Optional, Protocol, Sequence

from ..engine.lint import DEFAULT_MAX_FILE_SIZE
from ..engine.rule import Rule
from .path_patterns import PathPattern, PathPatterns
from .rule_selection import RuleSelection, resolve_rule_selection, rules_matching

FIX_STYLES = ("module", "training-flag")

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


class SettingsSource(Protocol):
    """Whatever knows each path's settings: one :class:`Settings`, or a hierarchy of them."""

    def settings_for(self, path: str) -> "Settings": ...


@dataclass(frozen=True)
class Settings:
    """Everything configurable, already validated and merged (command line over file).

    ``root`` is the directory of ``config_file`` (globs are relative to it), or the current
    directory when no file was read.
    """

    rule_selections: tuple[RuleSelection, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fix_style: str = "module"
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = True
    force_exclude: bool = False
    root: Path = field(default_factory=Path.cwd)
    config_file: Optional[Path] = None
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

        String operations, not ``pathlib``: asked for every file linted, and every directory
        discovery walks.
        """
        absolute = os.path.abspath(path)
        root = self._absolute_root()
        if absolute == root:
            return "."
        inside = root if root.endswith(os.sep) else root + os.sep
        relative = absolute[len(inside) :] if absolute.startswith(inside) else absolute
        return relative.replace(os.sep, "/")

    def entry_prefix(self, directory: str) -> Optional[str]:
        """What the :meth:`relative_path` of each entry of ``directory`` starts with, its name
        following (``""`` in ``root``, ``"a/b/"`` below it): discovery asks it once per
        directory, not once per entry. None where ``root`` is itself an entry of
        ``directory``, the one entry whose relative path (``.``) is not of that form."""
        absolute = os.path.abspath(directory)
        root = self._absolute_root()
        if absolute == root:
            return ""
        if os.path.dirname(root) == absolute:
            return None
        relative = self.relative_path(absolute)
        return relative if relative.endswith("/") else relative + "/"

    def _absolute_root(self) -> str:
        """``root``, absolute: the closest configuration's directory, or the current one."""
        root = self._cache.get("root")
        if root is None:
            root = self._cache["root"] = os.path.abspath(self.root)
        return root

    def settings_for(self, path: str) -> "Settings":
        """The settings of ``path``: these, for every path (see ``SettingsResolver``)."""
        return self

    @property
    def exclusion(self) -> PathPatterns:
        """``exclude`` and ``extend-exclude``, compiled once."""
        if "exclusion" not in self._cache:
            globs = (*self.exclude, *self.extend_exclude)
            self._cache["exclusion"] = PathPatterns([PathPattern(glob) for glob in globs])
        return self._cache["exclusion"]

    def is_excluded(self, path: str) -> bool:
        """Whether ``path`` or a directory above it (up to ``root``) is excluded.

        How ``--force-exclude`` judges the paths named on the command line.
        """
        parts = self.relative_path(path).split("/")
        return any(self.exclusion.match("/".join(parts[:end])) for end in range(len(parts), 0, -1))

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
                        for rule in rules_matching(selector, all_rules, "per-file-ignores")
                    ),
                )
                for glob, selectors in self.per_file_ignores.items()
            )
        return self._cache[key]
