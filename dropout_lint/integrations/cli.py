"""The ``dropout-lint`` command: an adapter from arguments to the engine and back to text.

Exit codes: 0 no findings, 1 findings, 2 a usage error or a file that could not be read,
parsed or checked (the other files are still checked and reported), 130 interrupted.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping, Optional, Sequence, TextIO

from .. import __version__
from ..engine.diagnostics import (
    UNREADABLE_FILE,
    Diagnostic,
    file_problem,
    is_file_problem,
)
from ..engine.lint import lint_source
from ..engine.rule import Rule
from ..output.formats import FORMATS, in_report_order
from ..output.progress import ProgressBar
from ..output.report import (
    COLOR_CHOICES,
    Palette,
    SourceLines,
    TextReport,
    statistics,
    wants_color,
)
from ..output.rule_docs import find_documented, rule_list_json, rule_list_text
from ..output.settings_report import settings_text
from ..rules import ALL_RULES
from ..workspace.cache import CACHE_DIRECTORY, cache_for
from ..workspace.config_error import ConfigError
from ..workspace.config_files import (
    SettingsLayer,
    SettingsResolver,
    command_line_layer,
    parse_config_option,
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
    add_noqa_to_file,
    enabled_anywhere,
    fix_files,
    index_project,
    lint_files,
    options_for,
)
from ..workspace.settings import FIX_STYLES
from .notebook import is_notebook, lint_notebook

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C
# "text" is "full" (source line, caret, fix) on a terminal and "concise" (one line) elsewhere.
TEXT_FORMATS = ("text", "concise", "full")


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


class _HelpFormatter(argparse.HelpFormatter):
    """Shows each option's default, where it has one worth showing."""

    def _get_help_string(self, action: argparse.Action) -> Optional[str]:
        help_text = action.help or ""
        shown = action.default not in (None, False, argparse.SUPPRESS) and action.option_strings
        if shown and "default" not in help_text:
            help_text += " (default: %(default)s)"
        return help_text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout-lint",
        description="Find and fix dropout that silently does the wrong thing in PyTorch code.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("paths", nargs="*", help="files or directories; - for stdin (default: ., or stdin with --stdin-filename)")
    parser.add_argument("--version", action="version", version=f"dropout-lint {__version__}")

    rules = parser.add_argument_group("rule selection")
    rules.add_argument("--select", type=_codes, help="rule codes or prefixes to enable (replaces the default), or ALL")
    rules.add_argument("--extend-select", type=_codes, help="codes or prefixes to enable as well")
    rules.add_argument("--ignore", type=_codes, help="codes or prefixes to disable")
    rules.add_argument("--explain", metavar="CODE", help="print the documentation of a code (DRP001, DRP900) or short name, and exit")
    rules.add_argument("--list-rules", action="store_true", help="list every code and exit (--format json for tools)")

    fixing = parser.add_argument_group("fixing")
    fixing.add_argument("--fix", action="store_true", help="apply the safe fixes, then report what is left")
    fixing.add_argument("--unsafe-fixes", action="store_true", help="apply the unsafe fixes too (with --fix or --diff)")
    fixing.add_argument("--fix-only", action="store_true", help="apply fixes and report only how many")
    fixing.add_argument("--diff", action="store_true", help="print the fixes as a unified diff; write nothing")
    fixing.add_argument("--fix-style", choices=FIX_STYLES, help="DRP001's fix: a registered module (module) or training=self.training (default: from the configuration, else module)")
    fixing.add_argument("--show-fixes", action="store_true", help="after fixing, list the fixes made in each file, by code")
    fixing.add_argument("--add-noqa", action="store_true", help="add `# noqa: CODE` to every line with findings (merging with an existing directive), and exit")
    fixing.add_argument("--exit-non-zero-on-fix", action="store_true", help="with --fix: exit 1 when a file was fixed, even if nothing is left")

    output = parser.add_argument_group("output")
    output.add_argument("--format", choices=sorted({*FORMATS, *TEXT_FORMATS}), default="text", help="output format; text is full on a terminal, concise otherwise")
    output.add_argument("--output-file", "-o", type=Path, metavar="PATH", help="write the report to PATH instead of stdout")
    output.add_argument("--statistics", action="store_true", help="count findings by code instead of listing them")
    output.add_argument("--quiet", "-q", action="store_true", help="print the findings only: no summary, no progress bar")
    output.add_argument("--color", choices=COLOR_CHOICES, default="auto", help="colour the text report: auto is on a terminal only, unless NO_COLOR or FORCE_COLOR says otherwise")
    output.add_argument("--no-color", dest="color", action="store_const", const="never", help="the same as --color never")
    output.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")

    config = parser.add_argument_group("configuration")
    config.add_argument("--config", action="append", metavar="FILE|KEY=VALUE", help="a configuration file to use for every path (instead of each path's closest one), or a TOML KEY = VALUE setting that overrides the files (repeatable)")
    config.add_argument("--isolated", action="store_true", help="ignore every configuration file")
    config.add_argument("--exclude", type=_codes, help="glob patterns to exclude (replaces the default list)")
    config.add_argument("--extend-exclude", type=_codes, help="glob patterns to exclude as well")
    config.add_argument("--force-exclude", action=argparse.BooleanOptionalAction, help="apply the exclusions to paths named on the command line too, as pre-commit needs (default: from the configuration, else off)")
    config.add_argument("--respect-gitignore", action=argparse.BooleanOptionalAction, help="skip files that .gitignore ignores (default: from the configuration, else on)")
    config.add_argument("--stdin-filename", metavar="PATH", help="read the source from stdin and report it as PATH (its settings apply)")
    config.add_argument("--max-file-size", type=int, metavar="BYTES", help="skip files larger than this (default: from the configuration, else 4194304)")
    config.add_argument("--show-settings", metavar="PATH", help="print the settings PATH is checked with, and the file they come from, and exit")
    config.add_argument("--show-files", action="store_true", help="list the files that would be checked, and exit")
    config.add_argument("--jobs", "-j", type=int, help="worker processes (default: one per core)")
    config.add_argument("--no-cache", action="store_true", help=f"neither read nor write {CACHE_DIRECTORY}/")
    return parser


def settings_resolver(args: argparse.Namespace) -> SettingsResolver:
    """Each path's settings: its configuration file (or ``--config FILE``), then ``--config
    KEY=VALUE`` in order, then the dedicated flags."""
    config_files: list[Path] = []
    layers: list[SettingsLayer] = []
    for value in args.config or ():
        parsed = parse_config_option(value)
        if isinstance(parsed, Path):
            config_files.append(parsed)
        else:
            layers.append(parsed)
    if len(config_files) > 1:
        raise ConfigError("--config: give one configuration file (and any number of KEY=VALUE)")
    if config_files and args.isolated:
        raise ConfigError("--config FILE and --isolated contradict each other")
    flags = {
        "select": args.select,
        "extend_select": args.extend_select,
        "ignore": args.ignore,
        "exclude": args.exclude,
        "extend_exclude": args.extend_exclude,
        "force_exclude": args.force_exclude,
        "respect_gitignore": args.respect_gitignore,
        "max_file_size": args.max_file_size,
        "fix_style": args.fix_style,
    }
    return SettingsResolver(
        overrides=(*layers, command_line_layer(flags)),
        fixed_config=config_files[0] if config_files else None,
        isolated=args.isolated,
    )


def _stdin_path(args: argparse.Namespace) -> str:
    return args.stdin_filename or STDIN_PATH


def _stdin_is_excluded(args: argparse.Namespace, resolver: SettingsResolver) -> bool:
    """``--force-exclude`` applies to ``--stdin-filename`` as to any path named, as in ruff."""
    if args.stdin_filename is None:
        return False
    settings = resolver.settings_for(args.stdin_filename)
    return settings.force_exclude and settings.is_excluded(args.stdin_filename)


def _lint_stdin(args: argparse.Namespace, resolver: SettingsResolver, source_lines: SourceLines) -> list[Diagnostic]:
    path = _stdin_path(args)
    source = sys.stdin.buffer.read()
    if _stdin_is_excluded(args, resolver):
        return []
    source_lines.remember(path, source)
    lint = lint_notebook if is_notebook(path) else lint_source
    return lint(source, path, options_for(path, resolver, index_project([])))


def _report(
    args: argparse.Namespace,
    diagnostics: Sequence[Diagnostic],
    stream: TextIO,
    source_lines: SourceLines,
    rules_run: Sequence[type[Rule]],
    with_summary: bool = True,
) -> str:
    """The run's findings in the chosen format, for ``stream`` (``--fix`` has its own summary)."""
    ordered = in_report_order(diagnostics)
    if args.statistics and args.format == "json":
        return json.dumps([row.to_json() for row in statistics(ordered)], indent=2) + "\n"
    if args.format not in TEXT_FORMATS:
        return FORMATS[args.format](ordered, rules_run)
    report = TextReport(
        palette=Palette(wants_color(stream, args.color, os.environ)),
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


def _fix_stdin(args: argparse.Namespace, resolver: SettingsResolver, mode: FixMode) -> FileFix:
    """Fixed source (or its diff) to stdout, as ruff does; an excluded one comes back as it was."""
    from ..fixes.fixer import fix_source, unified_diff  # imported only when fixing

    path = _stdin_path(args)
    source = sys.stdin.buffer.read()
    if _stdin_is_excluded(args, resolver):
        if mode.write:
            sys.stdout.buffer.write(source)
            sys.stdout.flush()
        return FileFix([], {})
    result = fix_source(source, path, options_for(path, resolver, index_project([])), mode.unsafe_fixes)
    if mode.write:
        sys.stdout.buffer.write(result.source)
        sys.stdout.flush()
    else:
        sys.stdout.write(unified_diff(path, source, result.source))
    return FileFix(result.remaining, result.fixed)


class _ReportStream:
    """Where the report goes: ``--output-file`` (created with its directories), else ``default``."""

    def __init__(self, output_file: Optional[Path], default: TextIO) -> None:
        self.output_file = output_file
        self.default = default

    def __enter__(self) -> TextIO:
        if self.output_file is None:
            return self.default
        self.output_file.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.output_file.open("w", encoding="utf-8")
        return self._file

    def __exit__(self, *exc_info: object) -> None:
        if self.output_file is not None:
            self._file.close()


def _fix(
    args: argparse.Namespace,
    resolver: SettingsResolver,
    files: list[str],
    mode: FixMode,
    diagnostics: list[Diagnostic],
    stdin_fix: Optional[FileFix],
) -> int:
    """``--fix``, ``--fix-only`` and ``--diff``: the workers fix; this reports."""
    fixed_by_file: list[tuple[str, Mapping[str, int]]] = []
    outcomes = [] if stdin_fix is None else [(_stdin_path(args), stdin_fix)]
    for path, outcome in [*outcomes, *fix_files(files, resolver, mode, args.jobs)]:
        diagnostics.extend(outcome.remaining)
        if outcome.fixed:
            fixed_by_file.append((path, outcome.fixed))
        if not mode.write:
            sys.stdout.write(outcome.diff)
    diagnostics.sort()
    fixed = sum(sum(counts.values()) for _, counts in fixed_by_file)
    problems = [d for d in diagnostics if is_file_problem(d)]
    stdin_took_stdout = STDIN_PATH in args.paths and mode.write
    if args.fix and not args.fix_only:
        default = sys.stderr if stdin_took_stdout else sys.stdout
        with _ReportStream(args.output_file, default) as stream:
            rules_run = enabled_anywhere(files or [_stdin_path(args)], resolver)
            stream.write(_report(args, diagnostics, stream, SourceLines(), rules_run, with_summary=False))
    elif problems:
        sys.stderr.write(FORMATS["text"](problems, ALL_RULES))
    sys.stderr.write(_fix_summary(fixed, len(fixed_by_file), diagnostics, mode))
    if args.show_fixes:
        sys.stderr.write(_fixes_made(fixed_by_file, mode))
    if problems:
        return EXIT_ERROR
    if not mode.write:
        return EXIT_FINDINGS if fixed else EXIT_CLEAN
    if args.exit_zero:
        return EXIT_CLEAN
    if args.exit_non_zero_on_fix and fixed:
        return EXIT_FINDINGS
    if args.fix_only:
        return EXIT_CLEAN
    return EXIT_FINDINGS if diagnostics else EXIT_CLEAN


def _fix_summary(fixed: int, changed: int, remaining: list[Diagnostic], mode: FixMode) -> str:
    from ..fixes.fixer import is_applicable

    fixers = [rule.code for rule in ALL_RULES if rule.has_fix()]
    hidden = sum(
        1 for d in remaining if is_applicable(d, fixers, True) and not is_applicable(d, fixers, False)
    )
    verb = "Fixed" if mode.write else "Would fix"
    lines = [f"{verb} {fixed} finding{'s' if fixed != 1 else ''} in {changed} file{'s' if changed != 1 else ''}."]
    if hidden and not mode.unsafe_fixes:
        lines.append(f"{hidden} more fix{'es' if hidden != 1 else ''} available with --unsafe-fixes.")
    return "\n".join(lines) + "\n"


def _fixes_made(fixed_by_file: Sequence[tuple[str, Mapping[str, int]]], mode: FixMode) -> str:
    """``--show-fixes``: each file fixed, with how many findings of each code, as ruff lists them."""
    names = {rule.code: rule.name for rule in ALL_RULES}
    lines = [f"{'Fixed' if mode.write else 'Would fix'} in:"] if fixed_by_file else []
    for path, counts in sorted(fixed_by_file):
        lines.append(f"- {path}:")
        lines += [f"    {count} × {code} ({names.get(code, '')})" for code, count in sorted(counts.items())]
    return "".join(line + "\n" for line in lines)


def _show_files(args: argparse.Namespace, resolver: SettingsResolver) -> int:
    problems = 0
    for item in iter_source_files(args.paths, resolver):
        if isinstance(item, DiscoveryProblem):
            problems += 1
            print(f"{item.path}: {item.message}", file=sys.stderr)
        elif item.kind is not SourceKind.STDIN:
            print(item.path)
    return EXIT_ERROR if problems else EXIT_CLEAN


def _add_noqa(args: argparse.Namespace, resolver: SettingsResolver, files: list[str], problems: list[Diagnostic]) -> int:
    """``--add-noqa``: every finding silenced where it is; notebooks are left alone."""
    added = 0
    for path, found in lint_files(files, resolver, args.jobs):
        problems.extend(d for d in found if is_file_problem(d))
        findings = [d for d in found if not is_file_problem(d)]
        if findings and is_notebook(path):
            print(f"{path}: notebook left alone: --add-noqa writes Python files only", file=sys.stderr)
        elif findings:
            outcome = add_noqa_to_file(path, findings)
            added += outcome.added
            problems.extend(outcome.problems)
            for line in outcome.unplaceable:
                print(f"{path}:{line}: no directive added: the line ends inside a string or after a backslash", file=sys.stderr)
    sys.stdout.write(FORMATS["text"](problems, ALL_RULES))
    print(f"Added {added} noqa directive{'s' if added != 1 else ''}.", file=sys.stderr)
    return EXIT_ERROR if problems else EXIT_CLEAN


def run(args: argparse.Namespace) -> int:
    resolver = settings_resolver(args)
    resolver.default.enabled_rules(ALL_RULES)  # an unknown selector is a usage error, before any work
    if args.show_settings is not None:
        sys.stdout.write(settings_text(args.show_settings, resolver.settings_for(args.show_settings)))
        return EXIT_CLEAN
    if args.show_files:
        return _show_files(args, resolver)
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    stdin_fix: Optional[FileFix] = None
    source_lines = SourceLines()
    fix_mode = _fix_mode(args)
    for item in iter_source_files(args.paths, resolver):
        if isinstance(item, DiscoveryProblem):
            diagnostics.append(file_problem(item.path, UNREADABLE_FILE, item.message))
        elif item.kind is SourceKind.STDIN:
            if fix_mode is None:
                diagnostics.extend(_lint_stdin(args, resolver, source_lines))
            else:
                stdin_fix = _fix_stdin(args, resolver, fix_mode)
        else:
            files.append(item.path)
    if args.add_noqa:
        return _add_noqa(args, resolver, files, diagnostics)
    if fix_mode is not None:
        return _fix(args, resolver, files, fix_mode, diagnostics, stdin_fix)
    enabled = enabled_anywhere(files, resolver)
    rules_run = enabled_anywhere([*files, _stdin_path(args)], resolver) if args.stdin_filename else enabled
    with ProgressBar(len(files), sys.stderr, enabled=not args.quiet) as progress:
        cache = None if args.no_cache else cache_for(resolver.default.root, enabled)
        for _, found in lint_files(files, resolver, args.jobs, cache=cache):
            diagnostics.extend(found)
            progress.advance()
    with _ReportStream(args.output_file, sys.stdout) as stream:
        stream.write(_report(args, diagnostics, stream, source_lines, rules_run))
    if any(is_file_problem(d) for d in diagnostics):
        return EXIT_ERROR
    return EXIT_FINDINGS if diagnostics and not args.exit_zero else EXIT_CLEAN


# Objects allocated, net, between two collections of the youngest generation (CPython's
# default: 700), and how many collections of each before one of the next.
_RARE_COLLECTIONS = (100_000, 20, 20)


@contextmanager
def _collecting_rarely() -> Iterator[None]:
    """Run the cyclic garbage collector rarely while the command works, as mypy does: a run
    allocates millions of objects (syntax nodes, matches) and frees them by reference count,
    with few cycles, while each collection walks the objects still alive (a thirtieth of a
    cold run's CPU over 6,561 files). Its workers, forked inside, inherit the setting."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*_RARE_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def main(argv: Optional[Sequence[str]] = None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["server"]:  # `./server` lints a folder of that name
        from .language_server import main as serve

        return serve()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.paths:
        args.paths = [STDIN_PATH] if args.stdin_filename is not None else ["."]
    if args.list_rules:
        if args.format not in ("json", *TEXT_FORMATS):
            parser.error(f"--list-rules is for the text and json formats, not {args.format}")
        sys.stdout.write(rule_list_json(ALL_RULES) if args.format == "json" else rule_list_text(ALL_RULES))
        return EXIT_CLEAN
    if args.add_noqa and (args.fix or args.fix_only or args.diff or STDIN_PATH in args.paths):
        parser.error("--add-noqa writes files: not with --fix, --fix-only, --diff or stdin")
    if args.statistics and args.format not in (*TEXT_FORMATS, "json"):
        parser.error(f"--statistics is for the text and json formats, not {args.format}")
    if args.explain:
        text = find_documented(args.explain, ALL_RULES)
        if text is None:
            parser.error(f"unknown rule code or name {args.explain!r}; see --list-rules")
        sys.stdout.write(text)
        return EXIT_CLEAN
    try:
        with _collecting_rarely():
            return run(args)
    except ConfigError as error:
        print(f"dropout-lint: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("dropout-lint: interrupted; each file is either unchanged or fully fixed", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
