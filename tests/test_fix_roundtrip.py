"""``scripts/fix_roundtrip.py`` on a generated corpus: what CI proves on every change.

The same script is run by hand on unpacked transformers and timm (README, "Reliability").
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "fix_roundtrip.py"


@pytest.fixture(scope="module")
def roundtrip() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fix_roundtrip", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["fix_roundtrip"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def test_fix_round_trip_on_a_generated_corpus(roundtrip: ModuleType, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    roundtrip.write_corpus(corpus, count=30, seed=20240611)
    outcome = roundtrip.check_tree(corpus, tmp_path / "work")
    assert outcome.violations == []
    # The corpus exercises the fixes: most files have findings, many are changed, some not.
    assert outcome.files == 30
    assert outcome.changed >= 12 and outcome.files_with_findings > outcome.changed / 2
    assert outcome.changed < outcome.files


def test_the_checker_catches_a_fix_that_changes_other_code(roundtrip: ModuleType) -> None:
    """The round trip is only as good as its AST check: it must see a stray change."""
    before = b"import torch.nn.functional as F\n\n\ndef f(x):\n    y = F.dropout(x, 0.5)\n    return y + 1\n"
    call = roundtrip.Span(5, 9, 5, 26)
    honest = before.replace(b"0.5)", b"0.5, training=True)")
    assert list(roundtrip.check_file("a.py", before, honest, [call])) == []
    stray = honest.replace(b"y + 1", b"y + 2")
    assert [v.split(":")[0] for v in roundtrip.check_file("a.py", before, stray, [call])] == ["a.py"]
    registration = before.replace(b"    y =", b"    self.drop = nn.Dropout(0.5)\n    y =")
    assert list(roundtrip.check_file("a.py", before, registration, [call])) == []
    assert list(roundtrip.check_file("b.py", before, honest, [])) == ["b.py: changed, but it had no finding"]
    assert "compiled before" in next(roundtrip.check_file("a.py", before, before + b"(\n", [call]))


def test_generated_corpus_parses_and_is_reproducible(roundtrip: ModuleType, tmp_path: Path) -> None:
    roundtrip.write_corpus(tmp_path / "a", count=20, seed=7)
    roundtrip.write_corpus(tmp_path / "b", count=20, seed=7)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.py"))
    assert len(files) == 20
    for relative in files:
        data = (tmp_path / "a" / relative).read_bytes()
        assert data == (tmp_path / "b" / relative).read_bytes()
        ast.parse(data)
