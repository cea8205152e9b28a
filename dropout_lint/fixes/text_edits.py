"""Text edits: taken from a fix's rendering, and applied many fixes at a time.

A finding's fix is a handful of :class:`~dropout_lint.engine.diagnostics.Edit`\\ s, found by
comparing the file's text with its text after the fix alone. Fixes are applied together when
their edits do not overlap, as ruff applies them: identical edits (the same import, the same
shared module registration) are made once, insertions at one place keep the fixes' order,
and a fix that overlaps one already taken waits for the next round.
"""

from __future__ import annotations

import bisect
import difflib
from typing import Iterable, Iterator, Sequence

from ..engine.diagnostics import Edit, Fix
from ..engine.source_text import line_starts, split_lines


def text_edits(before: str, after: str) -> tuple[Edit, ...]:
    """The smallest edits, one per changed run of lines, that turn ``before`` into ``after``."""
    old, new = split_lines(before), split_lines(after)
    edits = []
    for i1, i2, j1, j2 in _changed_runs(old, new, 0, len(old), 0, len(new)):
        removed, added = "".join(old[i1:i2]), "".join(new[j1:j2])
        prefix = _word_start(removed, added, _common_prefix(removed, added))
        suffix = _common_prefix(removed[prefix:][::-1], added[prefix:][::-1])
        while suffix and not _boundary(removed, len(removed) - suffix, added, len(added) - suffix):
            suffix -= 1
        start = _advance((i1 + 1, 1), removed[:prefix])
        end = _advance(start, removed[prefix : len(removed) - suffix])
        edits.append(Edit(start, end, added[prefix : len(added) - suffix]))
    return tuple(edits)


def _changed_runs(
    old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int
) -> Iterator[tuple[int, int, int, int]]:
    """The runs ``old[i1:i2]`` -> ``new[j1:j2]`` that differ, in order: a patience diff.

    A fix changes a few lines of a long file, so equal ends are skipped first, and lines
    found once on each side anchor the rest; a run with no such line is one change, or, if
    short, left to difflib.
    """
    while i1 < i2 and j1 < j2 and old[i1] == new[j1]:
        i1, j1 = i1 + 1, j1 + 1
    while i1 < i2 and j1 < j2 and old[i2 - 1] == new[j2 - 1]:
        i2, j2 = i2 - 1, j2 - 1
    if i1 == i2 or j1 == j2:
        if i1 != i2 or j1 != j2:
            yield i1, i2, j1, j2
        return
    anchors = _unique_common_lines(old, new, i1, i2, j1, j2)
    if not anchors:
        if (i2 - i1) * (j2 - j1) > 40_000:
            yield i1, i2, j1, j2
            return
        matcher = difflib.SequenceMatcher(None, old[i1:i2], new[j1:j2], autojunk=False)
        for tag, a1, a2, b1, b2 in matcher.get_opcodes():
            if tag != "equal":
                yield i1 + a1, i1 + a2, j1 + b1, j1 + b2
        return
    for i, j in anchors:
        yield from _changed_runs(old, new, i1, i, j1, j)
        i1, j1 = i + 1, j + 1
    yield from _changed_runs(old, new, i1, i2, j1, j2)


def _unique_common_lines(
    old: list[str], new: list[str], i1: int, i2: int, j1: int, j2: int
) -> list[tuple[int, int]]:
    """Lines found exactly once in each range, paired, longest increasing run of both."""
    counts: dict[str, list[int]] = {}
    for i in range(i1, i2):
        counts.setdefault(old[i], [0, 0, i, -1])[0] += 1
    for j in range(j1, j2):
        entry = counts.get(new[j])
        if entry is not None:
            entry[1] += 1
            entry[3] = j
    pairs = sorted((i, j) for once_old, once_new, i, j in counts.values() if once_old == 1 == once_new)
    return _longest_increasing(pairs)


def _longest_increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest subsequence of ``pairs`` (sorted by first) increasing in the second."""
    tails: list[int] = []
    ends: list[int] = []
    previous: list[int] = []
    for index, (_, j) in enumerate(pairs):
        at = bisect.bisect_left(tails, j)
        previous.append(ends[at - 1] if at else -1)
        if at == len(tails):
            tails.append(j)
            ends.append(index)
        else:
            tails[at] = j
            ends[at] = index
    result = []
    index = ends[-1] if ends else -1
    while index != -1:
        result.append(pairs[index])
        index = previous[index]
    return result[::-1]


def apply_fixes(text: str, fixes: Sequence[Fix]) -> tuple[str, int]:
    """``text`` with every fix whose edits overlap no edit of an earlier fix taken; the new
    text and how many fixes were taken."""
    starts = line_starts(text)
    taken: list[tuple[int, int, str]] = []
    count = 0
    for fix in fixes:
        spans = [(_offset(starts, e.start), _offset(starts, e.end), e.content) for e in fix.edits]
        fresh = [span for span in spans if span not in taken]
        if not spans or any(_overlap(span, other) for span in fresh for other in taken):
            continue
        taken.extend(dict.fromkeys(fresh))
        count += 1
    return _spliced(text, taken), count


def _overlap(a: tuple[int, int, str], b: tuple[int, int, str]) -> bool:
    """Whether two edits touch the same text: an insertion only overlaps a replacement
    around it, never another insertion or a replacement it borders."""
    return a[0] < b[1] and b[0] < a[1]


def _spliced(text: str, edits: Iterable[tuple[int, int, str]]) -> str:
    """Make the edits (non-overlapping, each taken in order) on ``text``."""
    ordered = sorted(enumerate(edits), key=lambda item: (item[1][0], item[1][1], item[0]))
    pieces, position = [], 0
    for _, (start, end, content) in ordered:
        pieces.append(text[position:start])
        pieces.append(content)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _offset(starts: list[int], position: tuple[int, int]) -> int:
    line, column = position
    return starts[line - 1] + column - 1


def _advance(position: tuple[int, int], text: str) -> tuple[int, int]:
    """The position just after ``text`` written from ``position``."""
    lines = split_lines(text)
    if not lines:
        return position
    if lines[-1].endswith(("\n", "\r")):
        return position[0] + len(lines), 1
    if len(lines) == 1:
        return position[0], position[1] + len(lines[0])
    return position[0] + len(lines) - 1, len(lines[-1]) + 1


def _word_start(removed: str, added: str, prefix: int) -> int:
    """``prefix`` moved back to a boundary: edits replace whole words (``Dropout2d``, not
    ``2d``) and never split a CR from its LF."""
    while prefix and not _boundary(removed, prefix, added, prefix):
        prefix -= 1
    return prefix


def _boundary(removed: str, at: int, added: str, added_at: int) -> bool:
    """Whether an edit may start (or end) at ``at`` in ``removed`` (``added_at`` in ``added``)."""
    before = removed[at - 1 : at]
    if before == "\r" and "\n" in (removed[at : at + 1], added[added_at : added_at + 1]):
        return False
    word = before.isalnum() or before == "_"
    after = removed[at : at + 1] + added[added_at : added_at + 1]
    return not (word and any(c.isalnum() or c == "_" for c in after))


def _common_prefix(a: str, b: str) -> int:
    size = 0
    for x, y in zip(a, b):
        if x != y:
            break
        size += 1
    return size
