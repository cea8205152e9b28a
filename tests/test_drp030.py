"""DRP030 through the command: where the mode is lost, what the message says, and the gate."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from dropout_lint.analysis.mode_summaries import ProjectModeSummaries
from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.prefilter.syntax_scan import SyntaxScan
from dropout_lint.rules import RULES_BY_CODE

RULE = RULES_BY_CODE["DRP030"]
FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "drp030" / "train_classifier.py"


def lint(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dropout_lint", "--no-cache", "--isolated", *args, str(path)],
        capture_output=True,
        text=True,
    )


def line_of(text: str, source: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def test_on_by_default_and_off_when_ignored():
    assert RULE.default_enabled
    assert "DRP030" in lint(FIXTURE).stdout
    assert "DRP030" not in lint(FIXTURE, "--ignore", "DRP030").stdout


def test_the_message_names_the_helper_the_line_lost_and_the_step():
    source = FIXTURE.read_text()
    result = lint(FIXTURE, "--select", "DRP030", "--format", "concise")
    call = line_of("accuracy = evaluate(model, val_loader, device)", source)
    (line,) = [line for line in result.stdout.splitlines() if f":{call}:" in line]
    lost = line_of("    model.eval()", source)  # the first: in evaluate()
    before_main = line_of("def main_buggy", source) - 1
    step = before_main + line_of("optimizer.step()", source.split("def main_buggy", 1)[1])
    assert (
        f"`evaluate(...)` leaves `model` in eval mode (the mode is lost at line {lost}, in "
        f"`evaluate`), and the loop's next `optimizer.step()` (line {step}) runs without "
        "`model.train()`; call `model.train()` at the top of the loop body"
    ) in line


def test_a_direct_eval_is_named_as_written():
    source = (
        "def fit(model, loader, optimizer):\n"
        "    for x in loader:\n"
        "        model(x).sum().backward()\n"
        "        optimizer.step()\n"
        "        model.train(False)\n"
    )
    (found,) = lint_source(source, "fit.py", LintOptions(rules=[RULE]))
    assert (found.line, found.column) == (5, 9)
    assert found.message.startswith("`model.train(False)` leaves `model` in eval mode")


def test_files_without_a_training_step_never_reach_libcst():
    no_step = b"for x in loader:\n    model.eval()\n    model(x)\n"
    assert not RULE.trigger.search(no_step)
    no_mode = b"for x in loader:\n    loss = model(x)\n    loss.backward()\n    evaluate(model)\n"
    assert RULE.trigger.search(no_mode)  # evaluate() may be another file's


def write_project(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


TRAIN = """\
from utils import evaluate


def fit(model, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        evaluate(model, val_loader)
"""
EVALUATE = "def evaluate(model, loader):\n    model.eval()\n    return [model(x) for x in loader]\n"
RESTORING = (
    "def evaluate(model, loader):\n    was = model.training\n    model.eval()\n"
    "    result = [model(x) for x in loader]\n    model.train(was)\n    return result\n"
)


def test_a_helper_of_another_file_is_followed_through_the_project(tmp_path):
    write_project(tmp_path, {"train.py": TRAIN, "utils.py": EVALUATE})
    result = lint(tmp_path, "--select", "DRP030", "--format", "concise")
    (line,) = [line for line in result.stdout.splitlines() if "DRP030" in line]
    assert line.startswith(f"{tmp_path / 'train.py'}:9:9: DRP030 `evaluate(...)` leaves `model`")
    assert f"(the mode is lost at line 2 of {tmp_path / 'utils.py'}, in `evaluate`)" in line
    alone = lint(tmp_path / "train.py", "--select", "DRP030")  # utils.py not linted: unknown
    assert "DRP030" not in alone.stdout


def test_a_cached_run_sees_a_helper_change_in_another_file(tmp_path):
    write_project(tmp_path, {"train.py": TRAIN, "utils.py": EVALUATE})
    command = [sys.executable, "-m", "dropout_lint", "--isolated", "--select", "DRP030", "."]
    run = lambda: subprocess.run(command, capture_output=True, text=True, cwd=tmp_path).stdout  # noqa: E731
    assert "DRP030" in run()
    assert (tmp_path / ".dropout-lint-cache").is_dir()
    (tmp_path / "utils.py").write_text(RESTORING)
    assert "DRP030" not in run()
    (tmp_path / "utils.py").write_text(EVALUATE)
    assert "DRP030" in run()


LOOP = """
def fit(model, loader, val_loader, optimizer, epochs):
    model.train()
    for epoch in range(epochs):
        for x in loader:
            loss = model(x).sum()
            loss.backward()
            optimizer.step()
        {change}
"""


def test_a_loop_with_no_mode_change_is_done_before_its_tree_is_walked():
    """Most files with a `.step()` change no mode: their sites are none, read from the text,
    and the syntax scan's walk never runs (flake8 pays for it in every such file)."""
    source = LOOP.format(change="print(epoch)")
    scan = SyntaxScan(ast.parse(source), source)
    assert list(RULE.sites(scan)) == []
    assert "_index" not in vars(scan)


def test_a_mode_change_written_across_lines_is_still_found():
    """The text check errs towards "maybe": a dot and `eval` apart, across a line break or a
    comment, are still a mode change, and the loop that loses the mode is reported."""
    for change in ("(model.  # back to eval\n         eval())", "model. \\\n            eval()"):
        source = LOOP.format(change=change)
        found = lint_source(source, "fit.py", LintOptions(rules=[RULE]))
        assert [d.code for d in found] == ["DRP030"], change


# The gate before the parse reads the code, not strings and comments: a loop loses a mode
# only with a change to eval (`.eval()`, `.train(False)`) and a training step (`.backward(`,
# an optimizer's or a scaler's `.step(`), or the name of another file's function making one.
@pytest.mark.parametrize(
    "change, step",
    [
        ('"""Call `model.eval()` to evaluate."""', "optimizer.step()"),
        ("# model.eval() here would lose the mode", "optimizer.step()"),
        ("score = editdistance.eval(prediction, target)", "optimizer.step()"),
        ("model.train()", "optimizer.step()"),
        ("model.train(True)", "optimizer.step()"),
        ("model.eval()", "scheduler.step()"),
        ("model.eval()", "self.search.step(x)"),
        ("model.eval()", "x[0].step()"),
        ("model.eval()", "adopt.step()"),
        ("model.eval()", "# optimizer.step() and loss.backward() in a comment"),
        ("model.eval()", "log('loss.backward() done')"),
    ],
)
def test_the_gate_stops_files_whose_code_cannot_lose_a_mode(change, step):
    source = GATE_LOOP.format(change=change, step=step)
    assert RULE.trigger.search(source.encode())
    assert not RULE.may_fire_in_project(source, ProjectModeSummaries())
    assert lint_source(source, "fit.py", LintOptions(rules=[RULE])) == []


GATE_LOOP = """
def fit(model, loader, optimizer, scheduler, editdistance, log, x, adopt):
    for x in loader:
        model(x).sum()
        {step}
        {change}
"""


@pytest.mark.parametrize(
    "change, step",
    [
        ("model.eval()", "optimizer.step()"),
        ("model.eval( )", "self.optim_g.step()"),
        ("model.\\\n            eval()", "scaler.step(optimizer)"),
        ("(model  # c\n         .eval())", "(optimizer).step()"),
        ("model.train(False)", "opt.step()"),
        ("model.train(mode=False)", "AdamOptimizer.step()"),
        ("model.train((False))", "loss.backward()"),
        ("model.train(  # off\n            False)", "accelerator.backward(loss)"),
        ("print(f'{model.eval()}')", "loss.backward()"),
        # Python reads it as `eval` (the ASCII `.train` in the comment passes the first check)
        ("model.ｅｖａｌ()  # not model.train()", "loss.backward()"),
    ],
)
def test_the_gate_lets_through_every_spelling_of_a_lost_mode(change, step):
    source = GATE_LOOP.format(change=change, step=step)
    assert RULE.may_fire_in_project(source, ProjectModeSummaries())
    found = lint_source(source, "fit.py", LintOptions(rules=[RULE]))
    assert [d.code for d in found] == ["DRP030"], (change, step)


def test_the_gate_lets_through_a_step_taken_by_another_files_function(tmp_path):
    """The loop's only step is in a helper of another file: the file's own `.step()` is in a
    comment (the trigger), and the helper's name is in the code."""
    train = (
        "from utils import evaluate, train_one_epoch\n\n\n"
        "def fit(model, loader, optimizer, epochs):\n"
        "    for epoch in range(epochs):\n"
        "        train_one_epoch(model, loader, optimizer)  # optimizer.step() is in there\n"
        "        evaluate(model, loader)\n"
    )
    helpers = EVALUATE + (
        "\n\ndef train_one_epoch(model, loader, optimizer):\n    for x in loader:\n"
        "        model(x).sum().backward()\n        optimizer.step()\n"
    )
    write_project(tmp_path, {"train.py": train, "utils.py": helpers})
    result = lint(tmp_path, "--select", "DRP030", "--format", "concise")
    assert f"{tmp_path / 'train.py'}:7:9: DRP030" in result.stdout
