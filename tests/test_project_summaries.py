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


def test_the_file_rank_inference_reads_is_noted_with_its_content(project: Path) -> None:
    """The index here reads no file (its statements are given): the layers file that rank
    inference parses for ``Flatten.forward`` is what the finding read, a dependency the
    result cache keeps."""
    from dropout_lint.analysis import project_reads
    from dropout_lint.analysis.project_index import ProjectIndex, class_statements
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.rules import ALL_RULES

    layers, net = project / "pkg" / "layers.py", project / "pkg" / "net.py"
    index = ProjectIndex.of_statements((str(path), class_statements(path.read_bytes())) for path in (layers, net))
    project_reads.forget_files_read()
    options = LintOptions(rules=ALL_RULES, project_module_classes=index)
    assert [d.code for d in lint_source(net.read_bytes(), str(net), options)] == ["DRP010"]
    assert project_reads.files_read() == {str(layers): project_reads.content_digest(layers.read_bytes())}


def test_a_cached_finding_is_kept_while_the_file_it_read_is(project: Path, capsys, monkeypatch) -> None:
    """A file no lint read (a script beside) edited: the finding is not linted again."""
    from dropout_lint.workspace import runner

    script = project / "pkg" / "script.py"
    script.write_text("from torch import nn\n\n\nclass Script(nn.Module):\n    pass\n")
    (finding,) = run(capsys, "--jobs", "1", "pkg")
    parsed: list[str] = []
    real = runner.lint_file
    monkeypatch.setattr(runner, "lint_file", lambda path, *args: parsed.append(path) or real(path, *args))
    script.write_text("from torch import nn\n\n\nclass Script(nn.Module):\n    size = 2\n")
    assert run(capsys, "--jobs", "1", "pkg") == [finding]
    assert parsed == []
    layers = project / "pkg" / "layers.py"
    layers.write_text(LAYERS.replace("x.view(x.size(0), -1)", "x.view(x.size(0), -1, 1, 1)"))
    assert run(capsys, "--jobs", "1", "pkg") == []
    assert parsed == ["pkg/net.py"]


def test_a_class_re_exported_by_its_package_is_followed(project: Path, capsys) -> None:
    (project / "pkg" / "layers").mkdir()
    (project / "pkg" / "layers.py").rename(project / "pkg" / "layers" / "flat.py")
    (project / "pkg" / "layers" / "__init__.py").write_text("from .flat import Flatten\n")
    (finding,) = run(capsys, "--no-cache", "pkg")
    assert "gets a 2-D tensor after `self.flatten` (layers.Flatten)" in finding
