"""Fuzzing the engine and the fixer with generated input: no exception, ever.

For any bytes the engine returns diagnostics (a DRP900 for what it cannot read), and for any
Python source (hypothesmith writes it from the grammar) ``--fix`` output compiles, is a fixed
point, and is the very same bytes when there was nothing to fix. A short run is always on;
``pytest -m slow`` runs the long one.
"""

from __future__ import annotations

import ast

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.engine.diagnostics import Diagnostic, is_file_problem
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.prefilter.stages import byte_stage
from dropout_lint.rules import ALL_RULES

OPTIONS = LintOptions(rules=list(ALL_RULES))
# Enough torch around the generated code that the rules' gates open and libcst parses it.
PRELUDE = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\nfrom torch.nn.functional import dropout\n"
DROPOUT_SNIPPETS = [
    "F.dropout(x, 0.5)", "dropout(x)", "nn.Dropout(0.1)(x)", "self.train", "nn.Dropout2d(p)(x.flatten(1))",
    "torch.nn.functional.alpha_dropout(x, p=0.2, training=self.train)", "F.dropout2d(*a, **k)",
]
FUZZ = settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def python_sources() -> st.SearchStrategy[str]:
    """Grammar-generated modules, some inside an nn.Module method next to dropout calls."""
    generated = hypothesmith.from_grammar()
    in_a_module = st.builds(
        lambda body, snippet: (
            f"{PRELUDE}\n\nclass Net(nn.Module):\n    def forward(self, x, p=0.1):\n"
            f"        y = {snippet}\n" + "".join(f"        {line}\n" for line in body.splitlines() if line.strip())
            + "        return y\n"
        ),
        generated.filter(lambda s: "\\" not in s and not s.lstrip().startswith(("@", "else", "elif", "except", "finally"))),
        st.sampled_from(DROPOUT_SNIPPETS),
    )
    return st.one_of(generated.map(lambda s: PRELUDE + s), in_a_module)


def hostile_bytes() -> st.SearchStrategy[bytes]:
    """Byte soup around Python: broken encodings, NULs, stray brackets, BOMs, odd line ends."""
    pieces = st.sampled_from([
        PRELUDE.encode(), b"F.dropout(x, 0.5)\n", b"class A(nn.Module):\n", b"    def f(self):\n",
        b"\xef\xbb\xbf", b"# -*- coding: latin-1 -*-\n", b"# coding: klingon\n", b"\xff\xfe", b"\0",
        b"(" * 300, b")" * 50, b"\r", b"\r\n", b"\t", b"\x0c", b'"""', b"'", b"\\\n", b"f'{x!r:{y}}'",
        b"lambda: (yield)\n", b"print 'py2'\n", b"\xe9", "\u00e9".encode(), b"x" * 2000,
    ])
    return st.lists(st.one_of(pieces, st.binary(max_size=40)), max_size=25).map(b"".join)


def assert_clean_outcome(found: list[Diagnostic]) -> None:
    for diagnostic in found:
        assert diagnostic.code != "DRP901", diagnostic.message  # a rule or fixer crashed
        assert diagnostic.line >= 1 and diagnostic.column >= 1


def assert_fix_properties(source: bytes) -> None:
    result = fix_source(source, "fuzz.py", OPTIONS, unsafe_fixes=True)
    assert_clean_outcome(list(result.remaining))
    if not result.fixed:
        assert result.source == source
        return
    compile(result.source, "fuzz.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    assert fix_source(result.source, "fuzz.py", OPTIONS, unsafe_fixes=True).source == result.source


def check_engine_on(data: bytes) -> None:
    found = lint_source(data, "fuzz.py", OPTIONS)
    assert_clean_outcome(found)
    try:
        compile(data, "fuzz.py", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        if byte_stage(data, OPTIONS.rules):  # else it is not parsed at all
            assert [d.code for d in found if is_file_problem(d)] in (["DRP900"], ["DRP902"]), found
        return
    assert_fix_properties(data)


@settings(FUZZ, max_examples=100)
@given(source=python_sources())
def test_generated_python_is_linted_and_fixed_without_an_exception(source: str) -> None:
    check_engine_on(source.encode("utf-8", "surrogatepass"))


@settings(FUZZ, max_examples=300)
@given(data=hostile_bytes())
def test_any_bytes_give_diagnostics_never_an_exception(data: bytes) -> None:
    check_engine_on(data)


@pytest.mark.slow
@settings(FUZZ, max_examples=2000, derandomize=False)
@given(source=python_sources())
def test_generated_python_long_run(source: str) -> None:
    check_engine_on(source.encode("utf-8", "surrogatepass"))


@pytest.mark.slow
@settings(FUZZ, max_examples=5000, derandomize=False)
@given(data=hostile_bytes())
def test_any_bytes_long_run(data: bytes) -> None:
    check_engine_on(data)
