"""The fix loop: lint, apply the rules' fixes, re-parse, repeat until nothing is left to fix.

One rule's fixes are applied per pass, on the tree its diagnostics came from; then the file
is rendered and parsed again, so the next rule sees the code as it now is. The result is
all or nothing: if any pass fails (a fix crashes, the output does not parse, the passes do
not converge), the original bytes are kept and the failure is reported as DRP901.

The loop runs first on the statements the rules see (:mod:`dropout_lint.prefilter.reduction`), and
its edits are carried into the file; when they cannot be carried exactly, it runs again
on the whole file.
"""

from __future__ import annotations

import ast
import codecs
import difflib
import io
import tokenize
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Iterable, Mapping, Optional, Sequence, Union

import libcst as cst

from ..engine.diagnostics import INTERNAL_ERROR, Applicability, Diagnostic, file_problem
from ..engine.lint import LintOptions, check_context, file_context, lint_source
from ..engine.noqa import after_noqa
from ..engine.source_text import decoded, split_lines
from ..prefilter.reduction import reduced
from ..prefilter.stages import byte_stage, syntax_stage
from ..prefilter.syntax_scan import SyntaxScan

# Each pass fixes one rule's findings; a handful of rules converge in a few passes.
MAX_PASSES = 10


@dataclass(frozen=True)
class FixResult:
    """A file after fixing: its new source, how many findings each code fixed, what is left."""

    source: bytes
    fixed: Mapping[str, int] = field(default_factory=dict)
    remaining: Sequence[Diagnostic] = ()

    @property
    def fixed_count(self) -> int:
        return sum(self.fixed.values())


def is_applicable(diagnostic: Diagnostic, fixable_codes: Iterable[str], unsafe_fixes: bool) -> bool:
    """Whether ``--fix`` (with or without ``--unsafe-fixes``) applies this diagnostic's fix."""
    fix = diagnostic.fix
    return (
        fix is not None
        and diagnostic.code in fixable_codes
        and (unsafe_fixes or fix.applicability is Applicability.SAFE)
    )


def fix_source(
    source: bytes, path: str, options: LintOptions, unsafe_fixes: bool = False
) -> FixResult:
    """``source`` with every applicable fix applied, to a fixed point.

    Unchanged files come back as the very same bytes; so does a file whose fixes failed,
    with the failure among ``remaining``.
    """
    remaining = lint_source(source, path, options)
    if not _has_applicable(remaining, options, unsafe_fixes):
        return FixResult(source, {}, remaining)
    fixed_in_part = _fix_in_part(source, path, options, unsafe_fixes)
    if fixed_in_part is not None:
        return fixed_in_part
    outcome = _fix_to_fixed_point(source, path, options, unsafe_fixes)
    if isinstance(outcome, str):
        return _failed(source, remaining, path, outcome)
    data, fixed, found = outcome
    if data == source:
        return FixResult(source, {}, remaining)
    return FixResult(data, fixed, sorted(d.detached() for d in found))


def _has_applicable(found: Iterable[Diagnostic], options: LintOptions, unsafe_fixes: bool) -> bool:
    fixable = [rule.code for rule in options.rules if rule.has_fix()]
    return any(is_applicable(d, fixable, unsafe_fixes) for d in found)


def _fix_in_part(
    source: bytes, path: str, options: LintOptions, unsafe_fixes: bool
) -> Optional[FixResult]:
    """Fix only the statements the rules see (:mod:`dropout_lint.prefilter.reduction`) and carry
    the edits into the file, so fixing costs what linting does. None when that cannot be
    done exactly: a rule may fire anywhere, an edit falls in an emptied body, a pass
    fails, or the result is not a fixed point. The whole file is fixed then."""
    try:
        text = decoded(source)
        tree = ast.parse(source)
    except (SyntaxError, ValueError, UnicodeDecodeError, LookupError, RecursionError, MemoryError):
        return None
    rules, statements = syntax_stage(byte_stage(source, options.rules), SyntaxScan(tree, text))
    if statements is None:
        return None
    part = reduced(text, tree, statements)
    outcome = _fix_to_fixed_point(
        part.text.encode("utf-8", "surrogatepass"), path, replace(options, rules=rules), unsafe_fixes
    )
    if isinstance(outcome, str):
        return None
    edited = part.carry_edits(text, outcome[0].decode("utf-8", "surrogatepass"))
    if edited is None:
        return None
    try:
        data = edited.encode(_encoding(source), "surrogatepass")
    except UnicodeEncodeError:
        return None
    if _parse_problem(data, path, check_python=True) is not None:
        return None
    remaining = lint_source(data, path, options)
    if _has_applicable(remaining, options, unsafe_fixes):
        return None
    return FixResult(data, outcome[1], remaining)


def _encoding(source: bytes) -> str:
    return tokenize.detect_encoding(io.BytesIO(source).readline)[0]


_Fixed = tuple[bytes, dict[str, int], list[Diagnostic]]


def _fix_to_fixed_point(
    source: bytes, path: str, options: LintOptions, unsafe_fixes: bool
) -> Union[_Fixed, str]:
    """Apply one rule's fixes per pass until none applies: the new bytes, the count of
    fixes by code and the (unsuppressed) findings left; or why it failed."""
    fixers = {rule.code: rule for rule in options.rules if rule.has_fix()}
    data = source
    fixed: Counter[str] = Counter()
    stuck: set[str] = set()
    parses_as_python = _compiles(source, path)
    for _ in range(MAX_PASSES):
        module = cst.parse_module(data)
        context = file_context(module, path, options)
        ran = byte_stage(data, options.rules)
        found = after_noqa(check_context(context, ran), module.code, path, ran, options.rules)
        applicable = [d for d in found if is_applicable(d, fixers.keys() - stuck, unsafe_fixes)]
        if not applicable:
            return data, dict(fixed), found
        code = min(d.code for d in applicable)
        chosen = [d for d in applicable if d.code == code]
        try:
            new_module = fixers[code].fix_module(context, chosen)
        except Exception as error:  # noqa: BLE001 - a fixer bug must not cost the file
            return f"the fix for {code} failed: {type(error).__name__}: {error}"
        new_data = _keep_bom(new_module.bytes, source)
        if new_data == data:
            stuck.add(code)
            continue
        problem = _parse_problem(new_data, path, parses_as_python)
        if problem is not None:
            return f"the fix for {code} produced {problem}"
        fixed[code] += len(chosen)
        data = new_data
    return f"the fixes did not settle in {MAX_PASSES} passes"


def _keep_bom(data: bytes, original: bytes) -> bytes:
    """libcst keeps a UTF-8 BOM; should it ever not, the file must not lose it."""
    if original.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8 + data
    return data


def _compiles(data: bytes, path: str) -> bool:
    try:
        compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _parse_problem(data: bytes, path: str, check_python: bool) -> Optional[str]:
    """Why the fixed source would not parse (by libcst, and by Python when it did before)."""
    try:
        cst.parse_module(data)
    except Exception as error:  # noqa: BLE001 - any failure means "do not write"
        return f"code that does not parse ({type(error).__name__})"
    if check_python and not _compiles(data, path):
        return "code that Python cannot compile"
    return None


def _failed(source: bytes, remaining: Sequence[Diagnostic], path: str, why: str) -> FixResult:
    problem = file_problem(
        path, INTERNAL_ERROR, f"internal error: {why}; the file was left unchanged; please report it"
    )
    return FixResult(source, {}, sorted([*remaining, problem]))


def unified_diff(path: str, before: bytes, after: bytes) -> str:
    """What ``--diff`` prints for one file: a unified diff of the decoded source."""
    encoding = _encoding(before)
    old, new = (split_lines(data.decode(encoding)) for data in (before, after))
    lines = []
    for line in difflib.unified_diff(old, new, fromfile=path, tofile=path):
        lines.append(line)
        if not line.endswith(("\n", "\r")):
            lines.append("\n\\ No newline at end of file\n")
    return "".join(lines)
