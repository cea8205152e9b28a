"""What rank inference (DRP010) adds to a lint run over a large codebase.

Usage: python bench/rank_cost.py DIR [DIR ...]

Lints every .py file twice, with the other default rules and with them plus DRP010, and
reports the difference, how many files DRP010's trigger lets through, and the time spent
inside ``dropout_lint.analysis.rank.analyze`` itself.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.rules import ALL_RULES, channel_dropout_rank
from dropout_lint.rules.channel_dropout_rank import ChannelDropoutRank


def _lint_all(sources: list[tuple[str, bytes]], options: LintOptions) -> float:
    start = time.perf_counter()
    for path, data in sources:
        lint_source(data, path, options)
    return time.perf_counter() - start


def main(directories: list[str]) -> None:
    sources = [
        (str(p), p.read_bytes())
        for d in directories
        for p in sorted(Path(d).rglob("*.py"))
    ]
    others = [r for r in ALL_RULES if r.default_enabled and r is not ChannelDropoutRank]
    triggered = sum(1 for _, data in sources if ChannelDropoutRank.trigger.search(data))

    analyses = {"count": 0, "seconds": 0.0}
    original = channel_dropout_rank.analyze

    def timed_analyze(*args, **kwargs):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            analyses["count"] += 1
            analyses["seconds"] += time.perf_counter() - start

    base = _lint_all(sources, LintOptions(rules=others))
    channel_dropout_rank.analyze = timed_analyze
    try:
        with_rule = _lint_all(sources, LintOptions(rules=[*others, ChannelDropoutRank]))
    finally:
        channel_dropout_rank.analyze = original
    alone = _lint_all(sources, LintOptions(rules=[ChannelDropoutRank]))
    lines = sum(data.count(b"\n") for _, data in sources)
    print(
        f"files: {len(sources)} ({lines:,} lines); DRP010 trigger matches {triggered}"
    )
    print(
        f"other default rules: {base:.2f} s; with DRP010: {with_rule:.2f} s "
        f"(+{with_rule - base:.2f} s, {100 * (with_rule - base) / base:+.1f}%); DRP010 alone: {alone:.2f} s"
    )
    print(
        f"rank inference: {analyses['count']} units, {analyses['seconds'] * 1000:.1f} ms in total"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
