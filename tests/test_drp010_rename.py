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


# The syntax gate hands libcst only the statements around the layers, and every statement
# whose text holds a name the rename may take or clash with; the bodies of the others are
# emptied. Whatever names the attribute elsewhere must weigh as it does on the whole file.
ELSEWHERE = {
    "an attribute of another object": "def peek(model):\n    return model.dropout2d\n",
    "a string": "def peek(model):\n    return getattr(model, 'dropout2d')\n",
    "the new name, taken": "class Other:\n    def __init__(self):\n        self.dropout1d = 1\n",
    "only a comment": "class Other:\n    def size(self):\n        return 1  # unlike self.dropout2d\n",
    "nothing": "class Other:\n    def size(self):\n        return nn.Conv2d(1, 1, 1)\n",
}
RENAMED = "Replace `nn.Dropout2d` with `nn.Dropout1d` and rename `self.dropout2d` to `self.dropout1d` (keeps `p` and `inplace`)"
KEPT = "Replace `nn.Dropout2d` with `nn.Dropout1d` (keeps `p` and `inplace`)"


@pytest.mark.parametrize(
    ("where", "fix"),
    [
        ("an attribute of another object", None),
        ("a string", None),
        ("the new name, taken", None),
        ("only a comment", RENAMED),
        ("nothing", RENAMED),
    ],
)
def test_the_rename_weighs_every_mention_of_the_name_as_on_the_whole_file(
    where: str, fix: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dropout_lint.engine import lint as engine
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.rules import ALL_RULES

    source = MODEL.split("\n\nclass Shared")[0] + "\n\n\n" + ELSEWHERE[where]
    options = LintOptions(rules=list(ALL_RULES))
    in_part = lint_source(source, "model.py", options)
    monkeypatch.setattr(engine, "syntax_stage", lambda rules, scan: (list(rules), None))
    whole = lint_source(source, "model.py", options)
    assert in_part == whole
    assert [d.fix and d.fix.description for d in in_part if d.line == 14] == [fix]


def test_libcst_does_not_see_classes_that_only_share_a_rank_in_their_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dropout_lint.engine import lint as engine
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.rules import ALL_RULES

    parse = engine._libcst_module
    seen: list[str] = []

    def recording(source: str, path: str) -> object:
        seen.append(source)
        return parse(source, path)

    monkeypatch.setattr(engine, "_libcst_module", recording)
    source = MODEL.split("\n\nclass Shared")[0] + "\n\n\n" + ELSEWHERE["nothing"]
    findings = lint_source(source, "model.py", LintOptions(rules=list(ALL_RULES)))
    assert [d.line for d in findings] == [14, 15, 16]
    assert len(seen) == 1 and "nn.Conv2d(1, 1, 1)" not in seen[0]
