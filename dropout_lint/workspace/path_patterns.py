"""Globs from the settings, matched against POSIX paths relative to the project root.

``*`` and ``?`` stay within one path component and ``**`` spans any number of them, as in
ruff; discovery reads the patterns of ``.gitignore`` files as these too.
"""

from __future__ import annotations

import re
from typing import Iterable, Optional, Sequence


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
            out.append(_bracket(glob[index + 1 : end]))
            index = end + 1
        elif char == "\\" and index + 1 < len(glob):
            out.append(re.escape(glob[index + 1]))
            index += 2
        else:
            out.append(re.escape(char))
            index += 1
    return "".join(out)


def _bracket(body: str) -> str:
    """The regular expression of a glob's bracket expression, given what is between the
    brackets: one character other than ``/`` that its characters and ranges hold, or, after
    ``!`` or ``^``, that they do not. As in git, a range that runs backwards (``z-a``)
    holds nothing, so every glob gives a valid expression (``re`` refused ``[z-a]``)."""
    negated = body.startswith(("!", "^"))
    held = "".join(
        re.escape(first) if first == last else f"{re.escape(first)}-{re.escape(last)}"
        for first, last in _bracket_items(body[1:] if negated else body)
        if first <= last
    )
    if negated:
        return f"[^/{held}]"
    return f"(?!/)[{held}]" if held else "(?!)"


def _bracket_items(body: str) -> list[tuple[str, str]]:
    """Each character (``x``: ``(x, x)``) and range (``a-z``: ``(a, z)``) of a bracket
    expression. ``\\`` makes the next character stand for itself, a dash too; a dash
    first or last is itself."""
    characters: list[str] = []
    range_dashes: set[int] = set()
    index = 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            index += 1
        elif body[index] == "-":
            range_dashes.add(len(characters))
        characters.append(body[index])
        index += 1
    items: list[tuple[str, str]] = []
    index = 0
    while index < len(characters):
        if index + 1 in range_dashes and index + 2 < len(characters):
            items.append((characters[index], characters[index + 2]))
            index += 3
        else:
            items.append((characters[index], characters[index]))
            index += 1
    return items
