"""DRP010 through module classes defined in other files of the project (issue #13 item 1)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

LAYERS = """\
from torch import nn


class Flatten(nn.Module):
    def forward(self, x):
        return x.view(x.size(0), -1)
"""
NET = """\
from torch import nn

from .layers import Flatten


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.flatten = Flatten()
        self.drop = nn.Dropout2d(0.5)

    def forward(self, x):
        return self.drop(self.flatten(self.conv(x)))
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "pyproject.toml").write_text("[tool.dropout-lint]\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "layers.py").write_text(LAYERS)
    (tmp_path / "pkg" / "net.py").write_text(NET)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    main(["--format", "concise", "--quiet", "--select", "DRP010", *args])
    return capsys.readouterr().out.splitlines()


def test_the_output_rank_of_a_class_in_another_file_is_used(project: Path, capsys) -> None:
    (finding,) = run(capsys, "--no-cache", "pkg")
    assert finding.startswith("pkg/net.py:14:16: DRP010")
    assert "gets a 2-D tensor after `self.flatten` (layers.Flatten) at line 14" in finding


def test_a_class_whose_returns_disagree_is_unknown(project: Path, capsys) -> None:
    disagreeing = "if x.dim() > 3:\n            return x.flatten(2)\n        return x"
    (project / "pkg" / "layers.py").write_text(
        LAYERS.replace("return x.view(x.size(0), -1)", disagreeing)
    )
    assert run(capsys, "--no-cache", "pkg") == []


def test_a_cached_result_follows_the_other_file(project: Path, capsys) -> None:
    assert len(run(capsys, "pkg")) == 1
    layers = project / "pkg" / "layers.py"
    layers.write_text(LAYERS.replace("x.view(x.size(0), -1)", "x.view(x.size(0), -1, 1, 1)"))
    os.utime(layers, ns=(1, 1))
    assert run(capsys, "pkg") == []  # now 4-D: right for Dropout2d


def test_a_class_re_exported_by_its_package_is_followed(project: Path, capsys) -> None:
    (project / "pkg" / "layers").mkdir()
    (project / "pkg" / "layers.py").rename(project / "pkg" / "layers" / "flat.py")
    (project / "pkg" / "layers" / "__init__.py").write_text("from .flat import Flatten\n")
    (finding,) = run(capsys, "--no-cache", "pkg")
    assert "gets a 2-D tensor after `self.flatten` (layers.Flatten)" in finding
