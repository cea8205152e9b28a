"""The command's output and fixing options: --output-file, --show-files, --show-fixes,
--exit-non-zero-on-fix, --color, --explain, --list-rules, --help, and SARIF's rule list."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main
from dropout_lint.rules import ALL_RULES

BUGGY = """\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "model.py").write_text(BUGGY)
    (tmp_path / "pkg" / "other.py").write_text(BUGGY)
    (tmp_path / "pkg" / "notes.txt").write_text("not python\n")
    return tmp_path


def test_output_file_gets_the_report_and_stdout_stays_empty(project: Path, capsys) -> None:
    code, out, _ = run(capsys, "--output-file", "reports/lint.json", "--format", "json", "pkg")
    assert code == 1 and out == ""
    report = json.loads((project / "reports" / "lint.json").read_text())
    assert [(d["path"], d["code"]) for d in report] == [("pkg/model.py", "DRP001"), ("pkg/other.py", "DRP001")]


def test_output_file_with_fix_gets_what_is_left(project: Path, capsys) -> None:
    code, out, _ = run(capsys, "--fix", "--unsafe-fixes", "-o", "left.txt", "pkg")
    assert code == 0 and out == ""
    assert (project / "left.txt").read_text() == ""


def test_show_files_lists_what_would_be_checked(project: Path, capsys) -> None:
    (project / "pkg" / "__pycache__").mkdir()
    (project / "pkg" / "__pycache__" / "x.py").write_text("")
    assert run(capsys, "--show-files", ".") == (0, "pkg/model.py\npkg/other.py\n", "")


def test_show_fixes_lists_each_file_fixed_by_code(project: Path, capsys) -> None:
    code, _, err = run(capsys, "--fix", "--show-fixes", "pkg")
    assert code == 0
    assert err.splitlines()[-5:] == [
        "Fixed in:",
        "- pkg/model.py:",
        "    1 × DRP001 (functional-dropout-without-training)",
        "- pkg/other.py:",
        "    1 × DRP001 (functional-dropout-without-training)",
    ]


def test_exit_non_zero_on_fix(project: Path, capsys) -> None:
    assert run(capsys, "--fix", "--exit-non-zero-on-fix", "pkg/model.py")[0] == 1
    # Nothing left to fix the second time: exit 0.
    assert run(capsys, "--fix", "--exit-non-zero-on-fix", "pkg/model.py")[0] == 0
    assert run(capsys, "--fix", "pkg/other.py")[0] == 0


@pytest.mark.parametrize("color, painted", [("always", True), ("never", False), ("auto", False)])
def test_color_choice(project: Path, capsys, color: str, painted: bool) -> None:
    out = run(capsys, "--color", color, "pkg")[1]
    assert ("\x1b[" in out) is painted


@pytest.mark.parametrize(
    "query, heading",
    [
        ("DRP001", "# DRP001 (functional-dropout-without-training)"),
        ("functional-dropout-without-training", "# DRP001 (functional-dropout-without-training)"),
        ("drp900", "# DRP900 (unreadable-file), a problem with the file itself"),
        ("unwritable-file", "# DRP903 (unwritable-file), a problem with the file itself"),
        ("DRP902", "# DRP902 (file-too-large), a problem with the file itself"),
    ],
)
def test_explain_takes_any_code_or_short_name(capsys, query: str, heading: str) -> None:
    code, out, _ = run(capsys, "--explain", query)
    assert code == 0 and out.splitlines()[0] == heading
    assert "## What" in out


def test_every_code_a_run_can_report_has_an_explanation(capsys) -> None:
    from dropout_lint.engine.diagnostics import FILE_PROBLEM_NAMES

    for code in [*(rule.code for rule in ALL_RULES), *FILE_PROBLEM_NAMES]:
        assert run(capsys, "--explain", code)[0] == 0


def test_list_rules_as_json(capsys) -> None:
    code, out, _ = run(capsys, "--list-rules", "--format", "json")
    rules = json.loads(out)
    assert code == 0
    assert [rule["code"] for rule in rules] == [rule.code for rule in ALL_RULES]
    first = rules[0]
    assert set(first) == {"code", "name", "summary", "default_enabled", "fixable", "explanation"}
    assert first["name"] == "functional-dropout-without-training" and first["fixable"] is True


def test_help_is_grouped_and_shows_defaults(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    sections = re.findall(r"^([a-z][a-z ]+):$", text, re.MULTILINE)
    assert sections[-4:] == ["rule selection", "fixing", "output", "configuration"]
    assert re.search(r"--format .*\(default:\s+text\)", text, re.DOTALL)
    assert re.search(r"--color \{auto,always,never\}.*\(default:\s+auto\)", text, re.DOTALL)


def test_sarif_lists_only_the_rules_that_ran(project: Path, capsys) -> None:
    def described(*args: str) -> list[str]:
        log = json.loads(run(capsys, "--format", "sarif", *args, "pkg")[1])
        return [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]

    default = [rule.code for rule in ALL_RULES if rule.default_enabled]
    assert described() == default and "DRP003" not in default
    assert described("--extend-select", "DRP003") == sorted([*default, "DRP003"])
    assert described("--ignore", "DRP0") == []


def test_statistics_count_the_fixes_behind_unsafe_fixes(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rank.py").write_text(
        "import torch.nn as nn\n\nhead = nn.Sequential(nn.Flatten(), nn.Linear(512, 10), nn.Dropout2d(0.3))\n"
    )
    rows = json.loads(run(capsys, "--statistics", "--format", "json", ".")[1])
    assert rows == [
        {"code": "DRP010", "name": "channel-dropout-wrong-rank", "count": 1, "fixable": 0, "unsafe_fixable": 1}
    ]
    out = run(capsys, ".")[1]
    assert out.splitlines()[-1] == "1 finding in 1 file, 1 fixable with --fix --unsafe-fixes"
