"""The ``dropout-lint`` command: an adapter from arguments to the engine and back to text.

Exit codes: 0 no findings, 1 findings, 2 a usage error or a file that could not be read,
parsed or checked (the other files are still checked and reported), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Optional, Sequence, TextIO

from .. import __version__
from ..engine.diagnostics import (
    UNREADABLE_FILE,
    Diagnostic,
    file_problem,
    is_file_problem,
)
from ..engine.lint import lint_source
from ..fixes.fixer import fix_source, is_applicable, unified_diff
from ..output.formats import FORMATS, in_report_order
from ..output.progress import ProgressBar
from ..output.report import Palette, SourceLines, TextReport, statistics, wants_color
from ..rules import ALL_RULES, RULES_BY_CODE
from ..workspace.cache import CACHE_DIRECTORY, cache_for
from ..workspace.config import (
    FIX_STYLES,
    ConfigError,
    Settings,
    find_pyproject,
    load_settings,
)
from ..workspace.discovery import (
    STDIN_PATH,
    DiscoveryProblem,
    SourceKind,
    iter_source_files,
)
from ..workspace.runner import (
    FileFix,
    FixMode,
    fix_files,
    index_project,
    lint_files,
    options_for,
)
from .notebook import is_notebook, lint_notebook

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
# "text" is "full" (source line, caret, fix) on a terminal and "concise" (one line) elsewhere.
TEXT_FORMATS = ("text", "concise", "full")


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout-lint",
        description="Find and fix dropout that silently does the wrong thing in PyTorch code.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories; - for stdin")
    parser.add_argument(
        "--format",
        choices=sorted({*FORMATS, *TEXT_FORMATS}),
        default="text",
        help="output format; text is full on a terminal, concise otherwise",
    )
    parser.add_argument("--statistics", action="store_true", help="count findings by code instead of listing them")
    parser.add_argument("--quiet", "-q", action="store_true", help="print the findings only: no summary, no progress bar")
    parser.add_argument("--no-color", action="store_true", help="no colour, even on a terminal (as does NO_COLOR)")
    parser.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (replaces the default), or ALL")
    parser.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable as well")
    parser.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    parser.add_argument("--exclude", type=_codes, help="glob patterns to exclude (replaces the default list)")
    parser.add_argument("--extend-exclude", type=_codes, help="glob patterns to exclude as well")
    parser.add_argument("--config", type=Path, help="pyproject.toml to read (default: the nearest one)")
    parser.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    parser.add_argument("--stdin-filename", help="the path to report for source read from stdin")
    parser.add_argument("--max-file-size", type=int, help="skip files larger than this many bytes")
    parser.add_argument("--jobs", "-j", type=int, help="worker processes (default: one per core)")
    parser.add_argument("--no-cache", action="store_true", help=f"neither read nor write {CACHE_DIRECTORY}/")
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
    parser.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left")
    parser.add_argument("--unsafe-fixes", action="store_true", help="apply the unsafe fixes too (with --fix or --diff)")
    parser.add_argument("--fix-only", action="store_true", help="apply fixes and report only how many")
    parser.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    parser.add_argument("--fix-style", choices=FIX_STYLES, help="DRP001's fix: a registered module (default) or training=self.training")
    parser.add_argument("--explain", metavar="CODE", help="print a rule's documentation and exit")
    parser.add_argument("--list-rules", action="store_true", help="list every rule and exit")
    parser.add_argument("--version", action="version", version=f"dropout-lint {__version__}")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value
        for key, value in {
            "select": args.select,
            "extend_select": args.extend_select,
            "ignore": args.ignore,
            "exclude": args.exclude,
            "extend_exclude": args.extend_exclude,
            "max_file_size": args.max_file_size,
            "fix_style": args.fix_style,
        }.items()
        if value is not None
    }
    config = None if args.isolated else (args.config or find_pyproject(Path.cwd()))
    return load_settings(config, overrides)


def explain(code: str) -> Optional[str]:
    rule = RULES_BY_CODE.get(code.upper())
    if rule is None:
        return None
    default = "" if rule.default_enabled else " (off by default)"
    return f"# {rule.code} ({rule.name}){default}\n\n{rule.summary}.\n{rule.explanation}"


def list_rules() -> str:
    return "".join(
        f"{rule.code}  {rule.name:<40} {'' if rule.default_enabled else '(opt-in) '}{rule.summary}\n"
        for rule in ALL_RULES
    )


def _lint_stdin(args: argparse.Namespace, settings: Settings, source_lines: SourceLines) -> list[Diagnostic]:
    path = args.stdin_filename or "-"
    source = sys.stdin.buffer.read()
    source_lines.remember(path, source)
    options = options_for(path, settings, index_project([]))
    lint = lint_notebook if is_notebook(path) else lint_source
    return lint(source, path, options)


def _report(
    args: argparse.Namespace,
    diagnostics: Sequence[Diagnostic],
    stream: TextIO,
    source_lines: SourceLines,
    with_summary: bool = True,
) -> str:
    """The run's findings in the chosen format, for ``stream`` (``--fix`` has its own summary)."""
    ordered = in_report_order(diagnostics)
    if args.statistics and args.format == "json":
        return json.dumps([row.to_json() for row in statistics(ordered)], indent=2) + "\n"
    if args.format not in TEXT_FORMATS:
        return FORMATS[args.format](ordered, ALL_RULES)
    report = TextReport(
        palette=Palette(wants_color(stream, args.no_color, os.environ)),
        show_source=args.format == "full" or (args.format == "text" and stream.isatty()),
        show_statistics=args.statistics,
        quiet=args.quiet or not with_summary,
    )
    return report.render(ordered, source_lines)


def _fix_mode(args: argparse.Namespace) -> Optional[FixMode]:
    if not (args.fix or args.fix_only or args.diff):
        return None
    roots = tuple(os.path.realpath(path) for path in args.paths if path != STDIN_PATH)
    return FixMode(writable_roots=roots, unsafe_fixes=args.unsafe_fixes, write=not args.diff)


def _fix_stdin(args: argparse.Namespace, settings: Settings, mode: FixMode) -> FileFix:
    """Fixed source (or its diff) to stdout, as ruff does."""
    path = args.stdin_filename or "-"
    source = sys.stdin.buffer.read()
    result = fix_source(source, path, options_for(path, settings, index_project([])), mode.unsafe_fixes)
    if mode.write:
        sys.stdout.buffer.write(result.source)
        sys.stdout.flush()
    else:
        sys.stdout.write(unified_diff(path, source, result.source))
    return FileFix(result.remaining, result.fixed)


def _fix(
    args: argparse.Namespace,
    settings: Settings,
    files: list[str],
    mode: FixMode,
    diagnostics: list[Diagnostic],
    stdin_fix: Optional[FileFix],
) -> int:
    """``--fix``, ``--fix-only`` and ``--diff``: the workers fix; this reports."""
    fixed = changed = 0
    outcomes = [] if stdin_fix is None else [("-", stdin_fix)]
    for _, outcome in [*outcomes, *fix_files(files, settings, mode, args.jobs)]:
        diagnostics.extend(outcome.remaining)
        fixed += sum(outcome.fixed.values())
        changed += bool(outcome.fixed)
        if not mode.write:
            sys.stdout.write(outcome.diff)
    diagnostics.sort()
    problems = [d for d in diagnostics if is_file_problem(d)]
    stdin_took_stdout = "-" in args.paths and mode.write
    if args.fix and not args.fix_only:
        report = sys.stderr if stdin_took_stdout else sys.stdout
        report.write(_report(args, diagnostics, report, SourceLines(), with_summary=False))
    elif problems:
        sys.stderr.write(FORMATS["text"](problems, ALL_RULES))
    sys.stderr.write(_fix_summary(fixed, changed, diagnostics, mode))
    if problems:
        return EXIT_ERROR
    if not mode.write:
        return EXIT_FINDINGS if fixed else EXIT_CLEAN
    if args.fix_only:
        return EXIT_CLEAN
    return EXIT_FINDINGS if diagnostics and not args.exit_zero else EXIT_CLEAN


def _fix_summary(fixed: int, changed: int, remaining: list[Diagnostic], mode: FixMode) -> str:
    fixers = [rule.code for rule in ALL_RULES if rule.has_fix()]
    hidden = sum(
        1 for d in remaining if is_applicable(d, fixers, True) and not is_applicable(d, fixers, False)
    )
    verb = "Fixed" if mode.write else "Would fix"
    lines = [f"{verb} {fixed} finding{'s' if fixed != 1 else ''} in {changed} file{'s' if changed != 1 else ''}."]
    if hidden and not mode.unsafe_fixes:
        lines.append(f"{hidden} more fix{'es' if hidden != 1 else ''} available with --unsafe-fixes.")
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.enabled_rules(ALL_RULES)  # an unknown selector is a usage error, before any work
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    stdin_fix: Optional[FileFix] = None
    source_lines = SourceLines()
    for item in iter_source_files(args.paths, settings):
        if isinstance(item, DiscoveryProblem):
            diagnostics.append(file_problem(item.path, UNREADABLE_FILE, item.message))
        elif item.kind is SourceKind.STDIN:
            fix_mode = _fix_mode(args)
            if fix_mode is None:
                diagnostics.extend(_lint_stdin(args, settings, source_lines))
            else:
                stdin_fix = _fix_stdin(args, settings, fix_mode)
        else:
            files.append(item.path)
    fix_mode = _fix_mode(args)
    if fix_mode is not None:
        return _fix(args, settings, files, fix_mode, diagnostics, stdin_fix)
    with ProgressBar(len(files), sys.stderr, enabled=not args.quiet) as progress:
        cache = None if args.no_cache else cache_for(settings)
        for _, found in lint_files(files, settings, args.jobs, cache=cache):
            diagnostics.extend(found)
            progress.advance()
    sys.stdout.write(_report(args, diagnostics, sys.stdout, source_lines))
    if any(is_file_problem(d) for d in diagnostics):
        return EXIT_ERROR
    return EXIT_FINDINGS if diagnostics and not args.exit_zero else EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["server"]:  # `./server` lints a folder of that name
        from .language_server import main as serve

        return serve()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_rules:
        sys.stdout.write(list_rules())
        return EXIT_CLEAN
    if args.statistics and args.format not in (*TEXT_FORMATS, "json"):
        parser.error(f"--statistics is for the text and json formats, not {args.format}")
    if args.explain:
        text = explain(args.explain)
        if text is None:
            parser.error(f"unknown rule code {args.explain!r}; see --list-rules")
        sys.stdout.write(text)
        return EXIT_CLEAN
    try:
        return run(args)
    except ConfigError as error:
        print(f"dropout-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dropout-lint: interrupted; each file is either unchanged or fully fixed", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
