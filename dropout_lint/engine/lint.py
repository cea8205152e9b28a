"""The one lint engine: bytes in, diagnostics out. The CLI and flake8 plugin are adapters.

One pass per file, each step only for what the step before lets through: the bytes say
which rules may fire (:mod:`dropout_lint.prefilter.byte_scan`); CPython's tree says where
(:mod:`dropout_lint.prefilter.syntax_scan`); libcst parses the top-level statements around those
sites, with only the methods the rules read in their classes
(:mod:`dropout_lint.prefilter.reduction`), resolves metadata once, and runs the rules in a
single batched traversal.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Collection, Optional, Sequence, Union

from ..analysis.mode_summaries import ProjectModeSummaries
from ..prefilter.stages import Sites, byte_stage, syntax_stage
from ..prefilter.syntax_scan import SyntaxScan
from .deep_stack import call_with_deep_stack
from .diagnostics import (
    FILE_TOO_LARGE,
    INTERNAL_ERROR,
    UNREADABLE_FILE,
    Diagnostic,
    file_problem,
)
from .noqa import unsuppressed
from .rule import Rule
from .source_text import decoded

if TYPE_CHECKING:  # imported when a file reaches libcst: most never do
    import libcst as cst

    from .context import FileContext
    from .rule_visitor import RuleVisitor

DEFAULT_MAX_FILE_SIZE = 4 * 1024 * 1024


@dataclass(frozen=True)
class LintOptions:
    """What the engine needs besides the file: which rules, and what the project knows."""

    rules: Sequence[type[Rule]]
    project_module_classes: Collection[str] = frozenset()
    # The mode summaries of the project's functions, for DRP030 across files.
    mode_summaries: ProjectModeSummaries = field(default_factory=ProjectModeSummaries)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    fix_style: str = "module"
    # Attribute names the project sets after construction (analysis.attribute_writes).
    reassigned_attributes: Collection[str] = frozenset()
    # Whether findings carry their fixes: a caller that only reports them (the flake8
    # plugin) spares working out the edits.
    fixes: bool = True


@dataclass
class LintTrace:
    """What :func:`lint_source` went through, for a caller that lints the file again after an
    edit (:mod:`.incremental`): the rules the byte stage let through, CPython's tree, and
    which bodies libcst saw emptied: ``no_sites`` (no rule had a site: libcst saw nothing),
    else ``emptied``, the bodies of top-level definitions (the findings came from the
    reduced file; None: from the whole file; the methods it emptied inside the classes it
    kept change no finding), with ``sites``, the indices of the top-level statements that
    hold a site."""

    rules: tuple[type[Rule], ...] = ()
    tree: Optional[ast.Module] = None
    no_sites: bool = False
    emptied: Optional[tuple[range, ...]] = None
    sites: frozenset[int] = frozenset()


def parse(source: Union[str, bytes], path: str) -> Union[cst.Module, Diagnostic]:
    """The file's libcst tree, or a DRP900 diagnostic saying why there is none.

    Bytes are decoded as Python does (BOM, coding cookie); text is taken as it is.
    CPython's own parser goes first: it is fast, its messages are the ones users know,
    and its nesting limits keep pathological input away from libcst.
    """
    tree = python_tree(source, path)
    return tree if isinstance(tree, Diagnostic) else _libcst_module(source, path)


def python_tree(source: Union[str, bytes], path: str) -> Union[ast.Module, Diagnostic]:
    """CPython's tree of the source, or a DRP900 diagnostic saying why there is none."""
    try:
        return ast.parse(source)
    except SyntaxError as error:
        return file_problem(
            path,
            UNREADABLE_FILE,
            f"syntax error: {error.msg}",
            line=max(error.lineno or 1, 1),
            column=max(error.offset or 1, 1),
        )
    except (RecursionError, MemoryError):
        return file_problem(path, UNREADABLE_FILE, "too deeply nested for Python's parser")
    except ValueError as error:  # e.g. source null bytes given as text
        return file_problem(path, UNREADABLE_FILE, f"cannot parse: {error}")


def _libcst_module(source: Union[str, bytes], path: str) -> Union[cst.Module, Diagnostic]:
    import libcst as cst

    try:
        return call_with_deep_stack(lambda: cst.parse_module(source))
    except cst.ParserSyntaxError as error:
        message = error.message.splitlines()[0] if error.message else "invalid syntax"
        return file_problem(
            path,
            UNREADABLE_FILE,
            f"syntax error (libcst): {message}",
            line=max(error.raw_line, 1),
            column=error.raw_column + 1,
        )
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        return file_problem(path, UNREADABLE_FILE, f"cannot decode: {error}")
    except RecursionError:
        return file_problem(path, UNREADABLE_FILE, "too deeply nested to parse")


def import_checks(rules: Sequence[type[Rule]]) -> None:
    """Import now what checking ``rules`` on libcst's tree needs (libcst, the file context,
    the rules' visitors), as a file's first parse would: processes forked after this share
    one import, which costs each process that makes its own a fifth of a second."""
    importlib.import_module(f"{__package__}.context")
    for rule in rules:
        rule.visitor()


def check_module(
    module: cst.Module,
    path: str,
    rules: Sequence[type[Rule]],
    options: LintOptions,
    text: Optional[str] = None,
) -> list[Diagnostic]:
    """Run ``rules`` over a parsed module: the findings no ``# noqa`` suppresses, each with
    its fix's edits, and what the rules say of the directives themselves (DRP100), given
    every rule enabled for the file. Diagnostics keep their nodes.

    A rule that crashes is reported as DRP901 with its code; the other rules still run.
    ``text``, where the caller has it, is the text ``module`` was parsed from.
    """
    return check_context(file_context(module, path, options, text), rules, options.rules, options.fixes)


def file_context(
    module: cst.Module, path: str, options: LintOptions, text: Optional[str] = None
) -> FileContext:
    """The context rules share while they check one parsed file (parsed from ``text``)."""
    from libcst.metadata import MetadataWrapper

    from .context import FileContext

    return FileContext(
        path,
        MetadataWrapper(module, unsafe_skip_copy=True),
        options.project_module_classes,
        options.fix_style,
        options.mode_summaries,
        options.reassigned_attributes,
        text,
    )


def check_context(
    context: FileContext,
    rules: Sequence[type[Rule]],
    enabled: Optional[Sequence[type[Rule]]] = None,
    fixes: bool = True,
) -> list[Diagnostic]:
    """Run ``rules`` over the module of ``context``; see :func:`check_module`. ``enabled``
    defaults to ``rules``; without ``fixes``, findings carry none."""
    from ..analysis.node_search import visit_batched_fields

    visitors = [rule.visitor()(context) for rule in rules]
    try:
        call_with_deep_stack(lambda: visit_batched_fields(context.module, visitors))
    except Exception:  # noqa: BLE001 - isolate the failing rule below
        visitors, problems = _visit_one_by_one(context, rules)
    else:
        problems = []
    judges = [rule for rule in rules if rule.judges_suppressions()]
    if not judges and not any(visitor.diagnostics for visitor in visitors):
        return problems
    source = context.code
    found: list[Diagnostic] = []
    for visitor in visitors:
        reported = list(unsuppressed(visitor.diagnostics, source))
        if fixes:
            found.extend(call_with_deep_stack(lambda: _with_fix_edits(visitor, reported)))
        else:
            found.extend(replace(diagnostic, fix=None) for diagnostic in reported)
    every = [d for visitor in visitors for d in visitor.diagnostics]
    for rule in judges:
        found.extend(rule.check_suppressions(context.path, source, every, enabled or rules))
    return found + problems


def _visit_one_by_one(
    context: FileContext, rules: Sequence[type[Rule]]
) -> tuple[list[RuleVisitor], list[Diagnostic]]:
    """The visitors that ran cleanly, each on its own, and a DRP901 for each that crashed."""
    from ..analysis.node_search import visit_batched_fields

    visitors: list[RuleVisitor] = []
    problems: list[Diagnostic] = []
    for rule in rules:
        visitor = rule.visitor()(context)
        try:
            call_with_deep_stack(lambda: visit_batched_fields(context.module, [visitor]))
        except Exception as error:  # noqa: BLE001 - a rule bug must not stop the run
            problems.append(_internal_error(context.path, rule, error))
        else:
            visitors.append(visitor)
    return visitors, problems


def _with_fix_edits(visitor: RuleVisitor, reported: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The findings with the text edits of their fixes, asked of the rule in file order.

    A fix the rule cannot express as edits is dropped; a crash while computing one is a
    DRP901, and the findings stay, without fixes.
    """
    if not visitor.has_fix():
        return list(reported)
    context = visitor.context
    found = []
    try:
        for diagnostic in sorted(reported):
            fix = diagnostic.fix
            if fix is not None:
                edits = visitor.node_edits(diagnostic)
                text_edits = context.layout.text_edits(edits, context.classes.parent) if edits else ()
                fix = replace(fix, edits=text_edits) if text_edits else None
            found.append(replace(diagnostic, fix=fix))
    except Exception as error:  # noqa: BLE001 - a fixer bug must not cost the findings
        problem = _internal_error(visitor.context.path, type(visitor), error, "the fix of ")
        return [*(replace(d, fix=None) for d in reported), problem]
    return found


def _internal_error(path: str, rule: type[Rule], error: Exception, what: str = "") -> Diagnostic:
    return file_problem(
        path,
        INTERNAL_ERROR,
        f"internal error in {what}{rule.code} ({rule.name}): "
        f"{type(error).__name__}: {error}; please report it",
    )


def lint_source(
    source: Union[str, bytes],
    path: str = "<string>",
    options: Optional[LintOptions] = None,
    tree: Optional[ast.Module] = None,
    trace: Optional[LintTrace] = None,
    passed_byte_stage: Optional[Collection[str]] = None,
) -> list[Diagnostic]:
    """Lint one file's source: its unsuppressed findings, sorted, without tree nodes.

    ``options`` defaults to the rules that are on by default; ``tree`` is CPython's tree
    of the source, when the caller has it already (flake8 does); ``passed_byte_stage``
    the codes of the rules whose byte stage these very bytes passed, when the caller has
    run it already (the runner's survey does), so that it is not run twice; ``trace``, if
    given, is filled in with how the findings were found.
    """
    if options is None:
        from ..rules import ALL_RULES

        options = LintOptions(rules=[r for r in ALL_RULES if r.default_enabled])
    data = source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source
    if b"\0" in data:
        return [file_problem(path, UNREADABLE_FILE, "contains a NUL byte; not Python source")]
    if passed_byte_stage is None:
        rules = byte_stage(data, options.rules)
    else:
        rules = [rule for rule in options.rules if rule.code in passed_byte_stage]
    if trace is not None:
        trace.rules = tuple(rules)
    if not rules:
        return []
    if len(data) > options.max_file_size:
        return [
            file_problem(
                path,
                FILE_TOO_LARGE,
                f"skipped: {len(data):,} bytes is over the max-file-size of "
                f"{options.max_file_size:,} bytes",
            )
        ]
    if trace is None:  # the server's re-lint after an edit reads a trace of every stage
        rules = _allowed_by_project(rules, source, options)
        if not rules:
            return []
    tree = python_tree(source, path) if tree is None else tree
    if isinstance(tree, Diagnostic):
        return [tree]
    if trace is not None:
        trace.tree = tree
    try:
        text = decoded(source)
    except (UnicodeDecodeError, LookupError, SyntaxError) as error:
        return [file_problem(path, UNREADABLE_FILE, f"cannot decode: {error}")]
    rules, sites = syntax_stage(rules, SyntaxScan(tree, text, path, options.mode_summaries))
    if not rules:
        if trace is not None:
            trace.no_sites = True
        return []
    if sites is not None:
        found = _reduced_findings(text, tree, path, rules, options, sites, trace)
        if found is not None:
            return found
    module = _libcst_module(text, path)
    if isinstance(module, Diagnostic):
        return [module]
    return _sorted_findings(module, path, rules, options, text)


def _reduced_findings(
    text: str,
    tree: ast.Module,
    path: str,
    rules: Sequence[type[Rule]],
    options: LintOptions,
    sites: Sites,
    trace: Optional[LintTrace],
) -> Optional[list[Diagnostic]]:
    """The findings of the file reduced to what the rules read around ``sites``, or None
    when libcst cannot read it or a fix's edits do not hold there. Methods the rules do not
    read are left out first; when that does not hold, the classes are seen whole."""
    from ..prefilter.reduction import reduced  # only for a file with a site: few are

    for methods in (sites.methods, None) if sites.methods is not None else (None,):
        part = reduced(text, tree, sites.statements, methods)
        module = _libcst_module(part.text, path)
        if isinstance(module, Diagnostic):
            return None
        found = _sorted_findings(module, path, rules, options, part.text)
        if all(part.holds_all(d.fix.edits) for d in found if d.fix is not None):
            if trace is not None:
                trace.emptied, trace.sites = part.emptied, frozenset(sites.statements)
            return found
    return None


def _allowed_by_project(
    rules: Sequence[type[Rule]], source: Union[str, bytes], options: LintOptions
) -> list[type[Rule]]:
    """The rules that may fire given what the project's other files say, asked before
    parsing (all of them when the text cannot be decoded: the parse says why)."""
    try:
        text = decoded(source)
    except (UnicodeDecodeError, LookupError, SyntaxError):
        return list(rules)
    return [rule for rule in rules if rule.may_fire_in_project(text, options.mode_summaries)]


def _sorted_findings(
    module: cst.Module, path: str, rules: Sequence[type[Rule]], options: LintOptions, text: str
) -> list[Diagnostic]:
    return sorted(d.detached() for d in check_module(module, path, rules, options, text))
