"""Jupyter notebooks, linted and fixed through the command, with the MNIST tutorial fixture."""

from __future__ import annotations

import difflib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from dropout_lint.engine.lint import LintOptions
from dropout_lint.integrations.cli import main
from dropout_lint.integrations.notebook import (
    lint_notebook,
    python_lines,
    read_notebook,
    split_into_cells,
)
from dropout_lint.rules import ALL_RULES

NOTEBOOKS = Path(__file__).resolve().parent.parent / "fixtures" / "notebooks"
TUTORIAL = NOTEBOOKS / "mnist_tutorial.ipynb"
DEFAULT_OPTIONS = LintOptions(rules=[rule for rule in ALL_RULES if rule.default_enabled])

BUGGY_MODULE = [
    "import torch.nn as nn\n",
    "import torch.nn.functional as F\n",
    "\n",
    "class Net(nn.Module):\n",
    "    def forward(self, x):\n",
    "        return F.dropout(x, 0.5)",
]


def markdown(text: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "metadata": {}, "source": text}


def notebook(*sources: Any, **top: Any) -> dict[str, Any]:
    """An nbformat 4 document: a source (str or list) is a code cell; dicts are other cells."""
    cells = [
        source
        if isinstance(source, dict)
        else {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": source}
        for source in sources
    ]
    return {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5, **top}


def jupyter_bytes(document: dict[str, Any]) -> bytes:
    """As Jupyter writes notebooks (nbformat.write)."""
    return (json.dumps(document, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().out


@pytest.fixture
def tutorial(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(TUTORIAL, tmp_path / TUTORIAL.name)
    return tmp_path / TUTORIAL.name


# Linting


def test_directories_walk_notebooks_and_report_cell_line_column(tutorial: Path, capsys) -> None:
    code, out = run(capsys, ".")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(
        "mnist_tutorial.ipynb:cell 6:11:13: DRP010 `nn.Dropout2d` expects 4-D (N, C, H, W) input, "
        "but `self.dropout1` gets a 2-D tensor after `torch.flatten` at line 10:"
    )
    assert lines[1].startswith("mnist_tutorial.ipynb:cell 6:13:13: DRP001 `F.dropout` without `training=`")
    assert lines[2:] == ["2 findings in 1 file, 1 fixable with --fix (1 more with --unsafe-fixes)"]


def test_json_carries_the_cell_and_the_line_within_it(tutorial: Path, capsys) -> None:
    _, out = run(capsys, "--format", "json", tutorial.name)
    found = json.loads(out)
    assert [(d["cell"], d["line"], d["column"], d["end_line"], d["code"]) for d in found] == [
        (6, 11, 13, 11, "DRP010"),
        (6, 13, 13, 13, "DRP001"),
    ]
    assert list(found[0])[:3] == ["path", "cell", "line"]


def test_python_files_have_no_cell_key(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.py").write_text("".join(BUGGY_MODULE))
    _, out = run(capsys, "--format", "json", "net.py")
    assert "cell" not in json.loads(out)[0]


def test_a_class_from_an_earlier_cell_is_understood() -> None:
    """``Net(MNISTBase)`` is module code only because cell 5 makes ``MNISTBase`` a module."""
    document = json.loads(TUTORIAL.read_text(encoding="utf-8"))
    net_cell_only = notebook(document["cells"][2]["source"], document["cells"][5]["source"])
    assert [d.code for d in lint_notebook(TUTORIAL.read_bytes(), "nb.ipynb", DEFAULT_OPTIONS)] == [
        "DRP010",
        "DRP001",
    ]
    assert "DRP001" not in [d.code for d in lint_notebook(jupyter_bytes(net_cell_only), "nb.ipynb", DEFAULT_OPTIONS)]


def test_cells_count_markdown_and_skip_empty_code_cells() -> None:
    document = notebook(markdown("# Title"), [], ["%load_ext autoreload"], markdown("text"), BUGGY_MODULE)
    found = lint_notebook(jupyter_bytes(document), "nb.ipynb", DEFAULT_OPTIONS)
    assert [(d.cell, d.line, d.column) for d in found] == [(5, 6, 16)]


def test_noqa_in_a_cell() -> None:
    document = notebook([*BUGGY_MODULE[:-1], BUGGY_MODULE[-1] + "  # noqa: DRP001"])
    assert lint_notebook(jupyter_bytes(document), "nb.ipynb", DEFAULT_OPTIONS) == []


def test_syntax_error_is_reported_in_its_cell() -> None:
    document = notebook(BUGGY_MODULE, ["x = 1\n", "def f(:\n"])
    (problem,) = lint_notebook(jupyter_bytes(document), "nb.ipynb", DEFAULT_OPTIONS)
    assert (problem.code, problem.cell, problem.line) == ("DRP900", 2, 2)


def test_other_kernels_are_not_linted() -> None:
    document = notebook(BUGGY_MODULE, metadata={"kernelspec": {"language": "R", "name": "ir"}})
    assert lint_notebook(jupyter_bytes(document), "nb.ipynb", DEFAULT_OPTIONS) == []


@pytest.mark.parametrize(
    "data, why",
    [
        (b'{"cells": [', "not a Jupyter notebook: invalid JSON: Expecting value at line 1 column 12"),
        (b"[1, 2]", "not a Jupyter notebook: the JSON is not an object"),
        (b'{"nbformat": 3, "worksheets": []}', "not a Jupyter notebook: nbformat 3 is not supported"),
        (b'{"cells": [{"cell_type": "code", "source": 7}]}', "not a Jupyter notebook: cell 1 has a source"),
        (b"\xff\xfe{}", "not a Jupyter notebook: not UTF-8"),
    ],
    ids=["truncated", "list", "nbformat3", "bad-source", "not-utf8"],
)
def test_a_file_that_is_not_a_notebook_is_one_drp900(tmp_path: Path, monkeypatch, capsys, data, why) -> None:
    monkeypatch.chdir(tmp_path)
    Path("broken.ipynb").write_bytes(data)
    code, out = run(capsys, ".")
    assert code == 2
    (line,) = out.splitlines()[:-1]
    assert line.startswith(f"broken.ipynb:1:1: DRP900 {why}")


def test_checkpoints_are_not_walked(tutorial: Path, capsys) -> None:
    (tutorial.parent / ".ipynb_checkpoints").mkdir()
    shutil.copy(tutorial, tutorial.parent / ".ipynb_checkpoints" / "mnist_tutorial-checkpoint.ipynb")
    _, out = run(capsys, ".")
    assert "checkpoint" not in out


def test_stdin_notebook(tutorial: Path, capsys, monkeypatch) -> None:
    class Stdin:
        buffer = __import__("io").BytesIO(tutorial.read_bytes())

    monkeypatch.setattr(sys, "stdin", Stdin)
    _, out = run(capsys, "-", "--stdin-filename", "lesson.ipynb")
    assert out.startswith("lesson.ipynb:cell 6:11:13: DRP010")


# IPython syntax


@pytest.mark.parametrize(
    "cell, expected",
    [
        (["%matplotlib inline\n", "import torch\n"], ["pass\n", "import torch\n"]),
        (["!pip install -q torch\n"], ["pass\n"]),
        (["files = !ls data\n", "gpu, = %sx nvidia-smi -L\n"], ["pass\n", "pass\n"]),
        (["F.dropout?\n", "??nn.Dropout\n", "x.shape??"], ["pass\n", "pass\n", "pass"]),
        (["for i in range(3):\n", "    !echo $i\n"], ["for i in range(3):\n", "    pass\n"]),
        (["!pip install \\\n", "    torch\n", "x = 1\n"], ["pass\n", "pass\n", "x = 1\n"]),
        (["%%bash\n", "echo hi\n", "ls\n"], ["pass\n", "pass\n", "pass\n"]),
        (["\n", "%%time\n", "!nproc\n", "y = 2\n"], ["\n", "pass\n", "pass\n", "y = 2\n"]),
        (['doc = """\n', "!important\n", '"""\n'], ['doc = """\n', "!important\n", '"""\n']),
        (["x = f(\n", "    a,\n", "    ?b)\n"], ["x = f(\n", "    a,\n", "    ?b)\n"]),
        (["y = x  # really?\n", "z = x != y\n"], ["y = x  # really?\n", "z = x != y\n"]),
        (["s = 'it\\'s'\n", "%env A=1\n"], ["s = 'it\\'s'\n", "pass\n"]),
    ],
    ids=[
        "line-magic",
        "shell",
        "assigned-escapes",
        "help",
        "indented-shell",
        "continued-magic",
        "bash-cell",
        "time-cell-body-is-python",
        "inside-a-string",
        "inside-brackets",
        "comment-and-operator",
        "after-an-escaped-quote",
    ],
)
def test_ipython_syntax_becomes_pass_line_for_line(cell: list[str], expected: list[str]) -> None:
    assert list(python_lines(cell)) == expected


def test_magics_do_not_hide_findings_or_shift_them() -> None:
    cell = ["%%time\n", "!nvidia-smi\n", *BUGGY_MODULE]
    (found,) = lint_notebook(jupyter_bytes(notebook(["%matplotlib inline"], cell)), "nb.ipynb", DEFAULT_OPTIONS)
    assert (found.cell, found.line, found.column) == (2, 8, 16)


# Fixing


def test_fix_rewrites_only_the_changed_source_lines(tutorial: Path, capsys) -> None:
    code, out = run(capsys, "--fix", tutorial.name)
    assert code == 1 and "DRP010" in out and "DRP001" not in out
    fixed = tutorial.read_bytes()
    assert fixed == (NOTEBOOKS / "mnist_tutorial.fixed.ipynb").read_bytes()
    changes = [
        line
        for line in difflib.unified_diff(TUTORIAL.read_text("utf-8").splitlines(), fixed.decode().splitlines(), n=0)
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    assert changes == [
        '+    "        self.dropout = nn.Dropout(p=0.5)\\n",',
        '-    "        x = F.dropout(x, 0.5)\\n",',
        '+    "        x = self.dropout(x)\\n",',
    ]


def test_fixed_notebook_keeps_outputs_metadata_and_other_cells(tutorial: Path, capsys) -> None:
    run(capsys, "--fix", tutorial.name)
    before = json.loads(TUTORIAL.read_text("utf-8"))
    after = json.loads(tutorial.read_text("utf-8"))
    assert after["metadata"] == before["metadata"]
    for number, (old, new) in enumerate(zip(before["cells"], after["cells"]), 1):
        assert {k: v for k, v in new.items() if k != "source"} == {k: v for k, v in old.items() if k != "source"}
        assert (new["source"] != old["source"]) == (number == 6)


@pytest.mark.parametrize(
    "dumps",
    [
        lambda d: json.dumps(d, indent=2) + "\n",
        lambda d: json.dumps(d, indent=1, ensure_ascii=False),
        lambda d: json.dumps(d, indent=4, ensure_ascii=True).replace("\n", "\r\n") + "\r\n",
        lambda d: json.dumps(d),
    ],
    ids=["indent-2-ascii", "no-trailing-newline", "crlf-indent-4", "one-line"],
)
@pytest.mark.parametrize("as_list", [True, False], ids=["list-source", "string-source"])
def test_fix_keeps_the_json_layout(tmp_path: Path, monkeypatch, capsys, dumps, as_list: bool) -> None:
    monkeypatch.chdir(tmp_path)
    source = BUGGY_MODULE if as_list else "".join(BUGGY_MODULE)
    document = notebook(markdown("Dropout — «é»"), ["%matplotlib inline"], source, metadata={"z": 1, "a": 2})
    Path("nb.ipynb").write_bytes(dumps(document).encode())
    run(capsys, "--fix", "--fix-style", "training-flag", "nb.ipynb")
    fixed_source = [*BUGGY_MODULE[:-1], "        return F.dropout(x, 0.5, training=self.training)"]
    document["cells"][2]["source"] = fixed_source if as_list else "".join(fixed_source)
    assert Path("nb.ipynb").read_bytes() == dumps(document).encode()


def test_a_fix_that_would_cross_cells_or_touch_a_magic_is_refused() -> None:
    document = notebook(["a = 1\n", "b = 2"], ["%time f()\n", "c = 3"])
    parsed = read_notebook(jupyter_bytes(document), "nb.ipynb")
    assert split_into_cells(parsed, "a = 1\nb = 20\npass\nc = 3\n") == {1: "a = 1\nb = 20"}
    assert split_into_cells(parsed, "a = 1\nb = 20\nc = 30\n").startswith("a fix changed lines in cells 1 and 2")
    assert split_into_cells(parsed, "a = 1\nb = 2\nf()\nc = 3\n") == "a fix changed a line of IPython syntax"
    assert split_into_cells(parsed, "import x\na = 1\nb = 2\npass\nc = 3\n") == {1: "import x\na = 1\nb = 2"}
