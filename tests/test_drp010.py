"""DRP010 on real-looking modules: the lines it reports, its messages, and its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from dropout_lint.engine.diagnostics import Applicability, Diagnostic
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.rules.channel_dropout_rank import ChannelDropoutRank

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "drp010"
SOURCES = sorted(p for p in FIXTURES.glob("*.py") if not p.name.endswith(".fixed.py"))
OPTIONS = LintOptions(rules=[ChannelDropoutRank])


def _findings(source: str) -> list[Diagnostic]:
    return lint_source(source, options=OPTIONS)


def _fixed(source: str) -> str:
    """The source after DRP010's fixes (all unsafe), as ``--fix --unsafe-fixes`` makes it."""
    return fix_source(source.encode(), "<test>", OPTIONS, unsafe_fixes=True).source.decode()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_fixture_findings_are_on_marked_lines(path: Path) -> None:
    source = path.read_text()
    expected = [n for n, line in enumerate(source.splitlines(), 1) if "# expect: DRP010" in line]
    assert [d.line for d in _findings(source)] == expected


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_fixture_fix_output(path: Path) -> None:
    fixed = path.with_name(path.stem + ".fixed.py")
    source = path.read_text()
    expected = fixed.read_text() if fixed.exists() else source
    assert _fixed(source) == expected


def test_message_names_rank_origin_and_right_layer() -> None:
    (finding,) = _findings((FIXTURES / "mnist_net.py").read_text())
    assert finding.message == (
        "`nn.Dropout2d` expects 4-D (N, C, H, W) input, but `self.dropout2` gets a 2-D tensor "
        "after `torch.flatten` at line 25: PyTorch warns (deprecated) and drops single "
        "features, as `nn.Dropout` does; use `nn.Dropout`"
    )
    assert finding.fix is not None and finding.fix.applicability is Applicability.UNSAFE


def test_three_dimensional_input_is_reported_as_ambiguous() -> None:
    findings = _findings((FIXTURES / "seq_tagger.py").read_text())
    assert "reads it as (N, C, L)" in findings[0].message
    assert "use `nn.Dropout1d` for (N, C, L)" in findings[0].message
    assert "use `nn.Dropout`" in findings[1].message


def test_no_fix_when_one_layer_sees_different_ranks() -> None:
    for name in ("shared_layer.py", "seq_tagger.py"):
        assert all(d.fix is None for d in _findings((FIXTURES / name).read_text())), name


def test_no_fix_for_a_bare_imported_name() -> None:
    source = """
import torch
from torch.nn import Dropout2d, Module

class Net(Module):
    def __init__(self):
        super().__init__()
        self.drop = Dropout2d(0.5)

    def forward(self, x):
        return self.drop(x.view(8, -1))
"""
    (finding,) = _findings(source)
    assert finding.fix is None
    assert _fixed(source) == source


def test_dropout1d_on_four_dimensional_input_raises() -> None:
    source = """
import torch
import torch.nn.functional as F

def f(training):
    x = torch.randn(8, 3, 32, 32)
    return F.dropout1d(x, 0.1, training)
"""
    (finding,) = _findings(source)
    assert "4-D tensor from `torch.randn` at line 6" in finding.message
    assert "RuntimeError" in finding.message and "use `F.dropout2d`" in finding.message


def test_layer_swapped_in_a_subclass_is_applied_through_inherited_attributes() -> None:
    source = """
import torch.nn as nn

class Base(nn.Module):
    def __init__(self):
        super().__init__()
        self.drop = nn.Dropout2d(0.1)

class Head(Base):
    def forward(self, x):
        return self.drop(x.flatten(1))
"""
    assert [d.line for d in _findings(source)] == [11]


def test_files_without_channel_dropout_are_not_parsed_for_this_rule() -> None:
    assert not ChannelDropoutRank.trigger.search(b"import torch\nnn.Dropout(0.5)\nF.dropout(x)\n")
    assert ChannelDropoutRank.trigger.search(b"F.dropout2d(x)")
