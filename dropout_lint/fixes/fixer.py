"""The fix loop: lint, apply the findings' fixes, lint again, until nothing is left to fix.

Every finding carries its fix as text edits (:mod:`dropout_lint.fixes.text_edits`),
computed when it was found, on the same pass that found it (libcst only ever sees the
statements around the rules' sites, and positions there are the file's). Each round applies
the fixes of one rule, every one whose edits overlap no other's, then lints the new text;
a fix that overlapped waits for the next round, and the next rule goes once the first has
nothing left. An import a round's fixes left unused goes with them
(:mod:`.unused_imports`). One rule per round because two rules may register modules in the
same ``__init__``, and each must see the names the other took.

The result is all or nothing: if a round fails (its output does not compile, the rounds do
not converge), the original bytes are kept and the failure is reported as DRP901. The check
before writing is CPython's parser, the one that will run the code, on the very bytes each
round makes; its tree is what the round's lint and the next round's import check read, so
each text is parsed by Python once. libcst parses what the round's lint gives it (the
statements around the sites left, where it must read the fixes' code), never the whole
fixed file: a round whose lint finds the file unreadable fails like one that does not compile.
The round's lint keeps the last findings of the statements the round cannot change
(:func:`~dropout_lint.engine.incremental.lint_after_fixes`).
"""

from __future__ import annotations

import ast
import codecs
import difflib
import io
import tokenize
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Optional, Sequence, Union

from ..engine.diagnostics import INTERNAL_ERROR, UNREADABLE_FILE, Diagnostic, file_problem
from ..engine.incremental import LintedVersion, lint_after_fixes
from ..engine.lint import LintOptions, LintTrace, lint_source
from ..engine.source_text import decoded, split_lines
from .text_edits import apply_fixes
from .unused_imports import without_imports_made_unused

# Each round fixes one rule's findings; a handful of rules converge in a few rounds.
MAX_ROUNDS = 10


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
    return fix is not None and diagnostic.code in fixable_codes and fix.applies(unsafe_fixes)


def fix_source(
    source: bytes, path: str, options: LintOptions, unsafe_fixes: bool = False
) -> FixResult:
    """``source`` with every applicable fix applied, to a fixed point.

    Unchanged files come back as the very same bytes; so does a file whose fixes failed,
    with the failure among ``remaining``.
    """
    trace = LintTrace()
    remaining = lint_source(source, path, options, trace=trace)
    fixable = {rule.code for rule in options.rules if rule.has_fix()}
    if not any(is_applicable(d, fixable, unsafe_fixes) for d in remaining):
        return FixResult(source, {}, remaining)
    assert trace.tree is not None  # a finding with a fix comes from a lint that compiled it
    sites = frozenset(trace.sites) if trace.emptied is not None else None  # known where libcst saw a part
    linted = LintedVersion(decoded(source), trace.tree, trace.rules, sites, tuple(remaining))
    outcome = _fix_to_fixed_point(source, linted, path, options, set(fixable), unsafe_fixes)
    if isinstance(outcome, str):
        return _failed(source, remaining, path, outcome)
    data, fixed, found = outcome
    if data == source:
        return FixResult(source, {}, remaining)
    return FixResult(data, fixed, found)


def _fix_to_fixed_point(
    source: bytes,
    linted: LintedVersion,
    path: str,
    options: LintOptions,
    fixable: set[str],
    unsafe_fixes: bool,
) -> Union[tuple[bytes, dict[str, int], list[Diagnostic]], str]:
    """Apply one rule's fixes per round until none applies: the new bytes, the count of
    fixes by code and the findings left; or why it failed. ``linted`` is the lint of
    ``source``."""
    encoding = _encoding(source)
    data = source
    fixed: Counter[str] = Counter()
    for _ in range(MAX_ROUNDS):
        found = list(linted.findings)
        applicable = [d for d in found if is_applicable(d, fixable, unsafe_fixes)]
        if not applicable:
            return data, dict(fixed), found
        code = min(d.code for d in applicable)
        text, count = apply_fixes(linted.text, [d.fix for d in applicable if d.code == code])  # type: ignore[misc]
        if text == linted.text:  # nothing to do after all: let the other rules go
            fixable.discard(code)
            continue
        outcome = round_output(linted.tree, linted.text, text, path, encoding, source)
        if isinstance(outcome, str):
            return f"the fix for {code} {outcome}"
        text, data, tree = outcome
        fixed[code] += count
        linted = lint_after_fixes(linted, text, data, tree, path, options)
        if any(d.code == UNREADABLE_FILE for d in linted.findings):  # libcst cannot read what it needs
            return f"the fix for {code} produced code that does not parse"
    return f"the fixes did not settle in {MAX_ROUNDS} rounds"


def round_output(
    before: ast.Module, before_text: str, text: str, path: str, encoding: str, source: bytes
) -> Union[tuple[str, bytes, ast.Module], str]:
    """A round's fixed ``text`` without the imports its fixes left unused, as the bytes of
    the file ``source`` was, with CPython's tree of those bytes (``before`` is the tree of
    ``before_text``, the text the round started from); or why it cannot be written."""
    outcome = _compiled(text, encoding, source, path)
    if isinstance(outcome, str):
        return outcome
    data, tree = outcome
    pruned = without_imports_made_unused(before, before_text, tree, text, path)
    if pruned == text:
        return text, data, tree
    outcome = _compiled(pruned, encoding, source, path)
    return outcome if isinstance(outcome, str) else (pruned, *outcome)


def _compiled(text: str, encoding: str, source: bytes, path: str) -> Union[tuple[bytes, ast.Module], str]:
    """``text`` as the bytes of the file ``source`` was, with CPython's tree of them; or why not."""
    try:
        data = _keep_bom(text.encode(encoding, "surrogatepass"), source)
    except UnicodeEncodeError:
        return f"needs characters the file's encoding ({encoding}) lacks"
    tree = _python_tree(data, path)
    if tree is None:
        return "produced code that Python cannot compile"
    return data, tree


def _encoding(source: bytes) -> str:
    return tokenize.detect_encoding(io.BytesIO(source).readline)[0]


def _keep_bom(data: bytes, original: bytes) -> bytes:
    """Encoding as the file was decoded keeps a UTF-8 BOM; should it ever not, the file
    must not lose it."""
    if original.startswith(codecs.BOM_UTF8) and not data.startswith(codecs.BOM_UTF8):
        return codecs.BOM_UTF8 + data
    return data


def _python_tree(data: bytes, path: str) -> Optional[ast.Module]:
    """CPython's tree of ``data``, which the lint of the next round reads too; None when
    Python cannot compile it."""
    try:
        return compile(data, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
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
