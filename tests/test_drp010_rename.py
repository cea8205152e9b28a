"""DRP010's class swap keeps names honest: ``self.dropout2d = nn.Dropout1d(...)`` never ships."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

MODEL = '''\
import torch.nn as nn


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(16, 32, 3)
        self.dropout2d = nn.Dropout2d(0.2)
        self.fc = nn.Linear(32, 8)
        self.drop_2d = nn.Dropout2d(0.1)
        self.head = nn.Dropout2d(0.3)

    def forward(self, x):
        x = self.dropout2d(self.conv(x))
        x = self.head(x)
        return self.drop_2d(self.fc(x.mean(-1)))


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.spatial_2d = nn.Dropout2d(0.2)
        self.conv = nn.Conv1d(16, 32, 3)

    def forward(self, x):
        return self.spatial_2d(self.conv(x))


def peek(model: Shared) -> nn.Module:
    return model.spatial_2d
'''

FIXED = MODEL.replace(
    "self.dropout2d = nn.Dropout2d(0.2)", "self.dropout1d = nn.Dropout1d(0.2)"
).replace(
    "x = self.dropout2d(self.conv(x))", "x = self.dropout1d(self.conv(x))"
).replace(
    "self.drop_2d = nn.Dropout2d(0.1)", "self.drop = nn.Dropout(0.1)"
).replace(
    "return self.drop_2d(self.fc(x.mean(-1)))", "return self.drop(self.fc(x.mean(-1)))"
).replace(
    "self.head = nn.Dropout2d(0.3)", "self.head = nn.Dropout1d(0.3)"
)


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(MODEL)
    return tmp_path


def test_fix_renames_attributes_named_after_the_old_layer(project: Path, capsys) -> None:
    run(capsys, "--fix", "model.py")  # DRP010's swap is unsafe: plain --fix leaves it
    assert (project / "model.py").read_text() == MODEL
    run(capsys, "--fix", "--unsafe-fixes", "model.py")
    assert (project / "model.py").read_text() == FIXED


def test_the_fix_says_what_it_renames_and_refuses_a_rename_it_cannot_see_through(project: Path, capsys) -> None:
    findings = json.loads(run(capsys, "--format", "json", "model.py")[1])
    fixes = {d["line"]: d["fix"] and d["fix"]["description"] for d in findings}
    assert fixes == {
        14: "Replace `nn.Dropout2d` with `nn.Dropout1d` and rename `self.dropout2d` to `self.dropout1d` (keeps `p` and `inplace`)",
        15: "Replace `nn.Dropout2d` with `nn.Dropout1d` (keeps `p` and `inplace`)",
        16: "Replace `nn.Dropout2d` with `nn.Dropout` and rename `self.drop_2d` to `self.drop` (keeps `p` and `inplace`)",
        # `model.spatial_2d` is read outside the class: renaming would break it, and a swap
        # without the rename would leave a name that lies. No fix.
        26: None,
    }
