"""DRP100 through the command: which directives are unused, and what its fix leaves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_lint.integrations.cli import main
from dropout_lint.prefilter.byte_scan import ByteScan
from dropout_lint.rules.unused_noqa import UnusedNoqa

SOURCE = '''\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)  # noqa: DRP001
        x = self.drop(x)  # noqa: DRP001
        x = self.drop(x)  # why: legacy  # noqa: E501, DRP001, DRP010
        x = self.drop(x)  # noqa: DRP003
        x = self.drop(x)  # noqa
        x = self.drop(x)  # noqa: DRP0
        s = "# noqa: DRP001"
        return x  # noqa: DRP001, DRP100
'''

FIXED = '''\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)  # noqa: DRP001
        x = self.drop(x)
        x = self.drop(x)  # why: legacy  # noqa: E501
        x = self.drop(x)
        x = self.drop(x)  # noqa
        x = self.drop(x)  # noqa: DRP0
        s = "# noqa: DRP001"
        return x  # noqa: DRP001, DRP100
'''


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(SOURCE)
    return tmp_path


def test_off_by_default(project: Path, capsys) -> None:
    assert run(capsys, ".") == (0, "")


def test_reports_directives_that_silence_nothing(project: Path, capsys) -> None:
    code, out = run(capsys, "--extend-select", "DRP100", "--quiet", ".")
    assert code == 1
    assert out.splitlines() == [
        "model.py:8:27: DRP100 Unused `noqa` directive (unused: `DRP001`) [unused-noqa]",
        "model.py:9:42: DRP100 Unused `noqa` directive (unused: `DRP001`, `DRP010`) [unused-noqa]",
        "model.py:10:27: DRP100 Unused `noqa` directive (non-enabled: `DRP003`) [unused-noqa]",
    ]


def test_the_fix_removes_only_the_unused_codes(project: Path, capsys) -> None:
    code, out = run(capsys, "--extend-select", "DRP100", "--fix", ".")
    assert code == 0 and out == ""
    assert (project / "model.py").read_text() == FIXED
    assert run(capsys, "--extend-select", "DRP100", "--fix", ".")[0] == 0
    assert (project / "model.py").read_text() == FIXED


@pytest.mark.parametrize(
    ("source", "passes"),
    [
        (b"x = 1  # noqa: DRP001\n", True),
        (b"x = 1  # NoQA : e501, drp001\n", True),
        (b"x = 1  # NOQA:\tE501 DRP\r\n", True),
        (b"x = 1  # noqa: E501\n", False),
        (b"x = 1  # noqa\n# see DRP001\n", False),
        (b"x = 1  # noqa:\nDRP = 2\n", False),
        (b"x = 1  # noqa:\rDRP = 2\n", False),
        (b"x = 1  # DRP001\n", False),
    ],
)
def test_the_gate_lets_through_directives_naming_a_drp_code_in_any_case(source: bytes, passes: bool) -> None:
    from dropout_lint.prefilter.stages import byte_stage
    from dropout_lint.rules.unused_noqa import UnusedNoqa

    assert byte_stage(source, [UnusedNoqa]) == ([UnusedNoqa] if passes else [])


NOQA_PIECES = [b"noqa", b"NOQA", b":", b" ", b"\t", b"drp", b"DRP", b"\n", b"\r", b"#", b"x", b"00"]


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(NOQA_PIECES), max_size=14).map(b"".join))
def test_the_gate_answers_as_the_search_from_every_noqa(data: bytes) -> None:
    expected = re.search(rb"noqa[ \t]*:[^\r\n]*drp", data.lower()) is not None
    assert UnusedNoqa.may_fire(ByteScan(data)) is expected
