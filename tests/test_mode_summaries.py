"""Mode summaries across files: what each file exports, which files are read, how imports find them."""

from __future__ import annotations

import ast

from dropout_lint.analysis import mode_flow
from dropout_lint.analysis.mode_flow import file_mode_summaries
from dropout_lint.analysis.mode_summaries import (
    FunctionSummary,
    ProjectModeSummaries,
    absolute_names,
    defines_top_level_function,
    import_names,
    imported_names,
    modules_named,
    top_level_function_spans,
)
from dropout_lint.analysis.project_index import absolute_name
from dropout_lint.prefilter.byte_scan import ByteScan
from dropout_lint.rules import ALL_RULES
from dropout_lint.workspace import runner
from dropout_lint.workspace.runner import index_mode_summaries

UTILS = b"""\
def evaluate(model, loader, *, device=None):
    model.eval()
    return [model(x) for x in loader]


def restore(model, loader):
    was = model.training
    model.eval()
    model.train(was)


def fit(self, loader, optimizer):
    self.model.train()
    for x in loader:
        self.model(x).sum().backward()
        optimizer.step()


def unrelated(x):
    return x + 1
"""


def test_a_file_exports_its_top_level_functions_effects_and_steps():
    summaries = {summary.name: summary for summary in file_mode_summaries(UTILS)}
    assert summaries["evaluate"] == FunctionSummary(
        "evaluate", ("model", "loader", "device"), False, (("model", "", False, 2),)
    )
    assert summaries["restore"].effects == (("model", "", True, 9),)
    assert summaries["fit"].stepping and summaries["fit"].effects == (("self", ".model", True, 13),)
    assert "unrelated" not in summaries
    assert file_mode_summaries(b"def broken(:\n    model.eval()\n") == ()


def test_imports_are_made_absolute_and_found_by_the_end_of_a_module_path():
    tree = ast.parse(
        "import utils as U\nimport pkg.tools\nfrom .engine import validate as v\n"
        "from . import engine\nfrom ..common import *\n"
        "if True:\n    from helpers import evaluate\n"
        "def f():\n    from inner import hidden\n"
    )
    assert imported_names(tree, "/src/pkg/train.py") == {
        "U": "utils",
        "pkg": "pkg",
        "v": "src.pkg.engine.validate",
        "engine": "src.pkg.engine",
        "evaluate": "helpers.evaluate",
    }
    evaluate = FunctionSummary("evaluate", ("model",), False, (("model", "", False, 2),))
    paths = ["/src/pkg/utils.py", "/src/a/helpers.py", "/src/b/helpers.py"]
    project = ProjectModeSummaries((path, [evaluate]) for path in paths)
    found = project.find("utils.evaluate")
    assert found is not None and found.path == "/src/pkg/utils.py"
    assert project.find("pkg.utils.evaluate") is found
    assert project.find("other.utils.evaluate") is None
    assert project.find("helpers.evaluate") is None  # two modules end so: neither is taken
    assert project.find("a.helpers.evaluate") is not None


def test_only_the_files_that_candidates_import_are_summarised(tmp_path):
    files = {
        "pkg/train.py": "from .engine import validate\nimport utils as U\nloss.backward()\n",
        "pkg/engine.py": "def validate(model):\n    model.eval()\n",
        "utils.py": "def evaluate(model):\n    model.eval()\n",
        "other.py": "def evaluate_other(model):\n    model.eval()\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    paths = [str(tmp_path / name) for name in files]
    source = (tmp_path / "pkg/train.py").read_bytes()
    package = absolute_name(".", str(tmp_path / "pkg/train.py"))
    assert absolute_names(import_names(source), str(tmp_path / "pkg/train.py")) == {
        f"{package}.engine",
        f"{package}.engine.validate",
        "utils",
    }
    assert modules_named(paths, ["utils", f"{package}.engine"]) == paths[1:3]
    project = index_mode_summaries(paths, ALL_RULES)
    assert project.find("pkg.engine.validate") and project.find("utils.evaluate")
    assert project.find("other.evaluate_other") is None  # nobody that trains imports it
    assert not index_mode_summaries(paths, [rule for rule in ALL_RULES if rule.code != "DRP030"])


def test_a_helper_without_a_top_level_function_is_not_parsed(tmp_path, monkeypatch):
    """Only top-level functions are summarised: a model file whose `.train()` and `.eval()`
    are all in methods exports nothing, and is not parsed to find that out."""
    model = "import torch\n\n\nclass Net(torch.nn.Module):\n    def reset(self):\n        self.eval()\n"
    assert not defines_top_level_function(model.encode())
    assert file_mode_summaries(model.encode()) == ()
    (tmp_path / "train.py").write_text("import model\nimport utils\nloss.backward()\n")
    (tmp_path / "model.py").write_text(model)
    (tmp_path / "utils.py").write_text("def evaluate(model):\n    model.eval()\n")
    parsed = []
    summarise = runner.file_mode_summaries
    monkeypatch.setattr(runner, "file_mode_summaries", lambda source: parsed.append(source) or summarise(source))
    project = index_mode_summaries([str(tmp_path / name) for name in ("train.py", "model.py", "utils.py")], ALL_RULES)
    assert project.find("utils.evaluate") and parsed == [(tmp_path / "utils.py").read_bytes()]


def test_every_way_a_top_level_function_may_start_is_seen():
    for source in [
        b"def f(): pass\n",
        b"x = 1\r\ndef f(): pass\r\n",
        b"x = 1\rdef f(): pass\r",
        b"\xef\xbb\xbfdef f(): pass\n",
        b"x = 1\n\x0cdef f(): pass\n",
        b"@decorated\nasync def f(): pass\n",
        b"async\\\n def f(): pass\n",
    ]:
        assert defines_top_level_function(source), source
        assert any(isinstance(node, ast.AsyncFunctionDef | ast.FunctionDef) for node in ast.parse(source).body)
    assert not defines_top_level_function(b"class A:\n    def f(self): pass\ndefault = 1\nasyncio = 2\n")
    assert not defines_top_level_function(b"if x:\n    def f(): pass\n\tasync def g(): pass\r  def h(): pass\n")


HELPERS = b"""\
import torch


def make_head(model, dim):
    \"\"\"A head.
class Head: a line of this string that starts like a class.
\"\"\"
    return torch.nn.Linear(dim, 2)


class Net(torch.nn.Module):
    def reset(self):
        self.eval()
"""


def test_only_a_helper_whose_functions_change_a_mode_is_parsed(monkeypatch):
    """A model file with a top-level function and its `.eval()` in a method is not parsed;
    the text after a string's line that starts like a class still counts as the function's."""
    parsed = []
    parse = mode_flow.ast.parse
    monkeypatch.setattr(mode_flow.ast, "parse", lambda source, *a, **k: parsed.append(source) or parse(source, *a, **k))
    assert runner._summarised(HELPERS) == () and HELPERS not in parsed
    in_function = HELPERS.replace(b"    return torch", b"    model.eval()\n    return torch")
    assert top_level_function_spans(ByteScan(in_function).code.text)
    assert runner._summarised(in_function) == mode_flow.file_mode_summaries(in_function)
    assert in_function in parsed and runner._summarised(in_function)[0].name == "make_head"


TRAIN_LOOP = """\
import utils as U


def fit(model, loader, val_loader, optimizer, epochs):
    for epoch in range(epochs):
        for x in loader:
            model(x).sum().backward()
            optimizer.step()
        {validation}
"""


def _linted(source: str, monkeypatch) -> tuple[list[str], int]:
    """DRP030's findings in ``source``, checked beside a ``utils`` whose ``evaluate``
    leaves its model in eval mode, and how many times CPython parsed the file."""
    from dropout_lint.engine import lint as engine
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.rules.model_left_in_eval_mode import ModelLeftInEvalMode

    summaries = ProjectModeSummaries([("utils.py", file_mode_summaries(UTILS))])
    assert summaries.evaluating_names == {"evaluate"}  # restore gives back the mode it found
    parses = []
    parse = engine.python_tree
    monkeypatch.setattr(engine, "python_tree", lambda *args: parses.append(1) or parse(*args))
    options = LintOptions(rules=[ModelLeftInEvalMode], mode_summaries=summaries)
    return [d.code for d in lint_source(source, "train.py", options)], len(parses)


def test_a_loop_that_evaluates_through_another_file_is_parsed_and_reported(monkeypatch):
    assert _linted(TRAIN_LOOP.format(validation="U.evaluate(model, val_loader)"), monkeypatch) == (
        ["DRP030"],
        1,
    )


def test_a_loop_that_changes_no_mode_is_not_parsed_for_drp030(monkeypatch):
    """No mode change in the file and no name of another file's function that makes one:
    the mode cannot be lost, whatever the project holds, and the file is never parsed."""
    assert _linted(TRAIN_LOOP.format(validation="U.unrelated(epoch)"), monkeypatch) == ([], 0)
    assert _linted(TRAIN_LOOP.format(validation="model.eval()"), monkeypatch) == (["DRP030"], 1)
