"""The ``dropout-lint`` command: an adapter from arguments to the engine and back to text.

Exit codes: 0 no findings, 1 findings, 2 a usage error or a file that could not be read,
parsed or checked (the other files are still checked and reported).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Optional, Sequence

from . import __version__
from .config import ConfigError, Settings, find_pyproject, load_settings
from .diagnostics import UNREADABLE_FILE, Diagnostic, file_problem, is_file_problem
from .discovery import DiscoveryProblem, SourceKind, iter_source_files
from .engine import lint_source
from .formats import FORMATS
from .rules import ALL_RULES, RULES_BY_CODE
from .runner import index_project, lint_files, options_for

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _codes(value: str) -> list[str]:
    return [code.strip() for code in value.split(",") if code.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dropout-lint",
        description="Find and fix dropout that silently does the wrong thing in PyTorch code.",
    )
    parser.add_argument("paths", nargs="*", default=["."], help="files or directories; - for stdin")
    parser.add_argument("--format", choices=sorted(FORMATS), default="text", help="output format")
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
    parser.add_argument("--exit-zero", action="store_true", help="exit 0 even when there are findings")
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


def _lint_stdin(args: argparse.Namespace, settings: Settings) -> list[Diagnostic]:
    path = args.stdin_filename or "-"
    source = sys.stdin.buffer.read()
    options = options_for(path, settings, index_project([]))
    return lint_source(source, path, options)


def run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    settings.enabled_rules(ALL_RULES)  # an unknown selector is a usage error, before any work
    diagnostics: list[Diagnostic] = []
    files: list[str] = []
    for item in iter_source_files(args.paths, settings):
        if isinstance(item, DiscoveryProblem):
            diagnostics.append(file_problem(item.path, UNREADABLE_FILE, item.message))
        elif item.kind is SourceKind.STDIN:
            diagnostics.extend(_lint_stdin(args, settings))
        elif item.kind is not SourceKind.NOTEBOOK:
            files.append(item.path)
    for _, found in lint_files(files, settings, args.jobs):
        diagnostics.extend(found)
    diagnostics.sort()
    sys.stdout.write(FORMATS[args.format](diagnostics, ALL_RULES))
    if any(is_file_problem(d) for d in diagnostics):
        return EXIT_ERROR
    return EXIT_FINDINGS if diagnostics and not args.exit_zero else EXIT_CLEAN


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_rules:
        sys.stdout.write(list_rules())
        return EXIT_CLEAN
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


if __name__ == "__main__":
    sys.exit(main())
