"""The pytest plugin, through real pytest subprocesses: inert without its option, and then
without torch; with it, a summary of findings; with ``=strict``, failing tests."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

MODELS = textwrap.dedent(
    """
    import torch
    import torch.nn.functional as F
    from torch import nn


    class Leaky(nn.Module):
        def forward(self, x):
            return F.dropout(x, 0.5)  # active in eval mode


    def test_leaky():
        Leaky().eval()(torch.randn(2, 2))


    def test_clean():
        nn.Dropout(0.5).eval()(torch.randn(2, 2))


    def test_trained_in_eval():
        model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)).eval()
        model(torch.randn(3, 2)).sum().backward()  # a training step
    """
)


def run_pytest(directory: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=300,
    )


def line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


def test_without_the_option_the_plugin_is_loaded_but_imports_no_torch(tmp_path):
    (tmp_path / "test_plain.py").write_text(
        "import sys\n\n"
        "def test_no_torch(request):\n"
        "    assert request.config.pluginmanager.hasplugin('dropout_lint')\n"
        "    assert request.config.getoption('dropout_audit') is None\n"
        "    assert 'torch' not in sys.modules\n"
    )
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "dropout audit" not in result.stdout


def test_an_unknown_mode_is_a_usage_error(tmp_path):
    result = run_pytest(tmp_path, "--dropout-audit=loud")
    assert result.returncode == 4
    assert "invalid choice: 'loud'" in result.stderr


@pytest.fixture
def models(tmp_path) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "test_models.py"
    path.write_text(MODELS)
    return path


def test_the_option_lists_each_finding_with_its_line_and_test(models):
    result = run_pytest(models.parent, "--dropout-audit", "-W", "ignore::UserWarning")
    assert result.returncode == 0, result.stdout + result.stderr
    summary = result.stdout.split("dropout audit", 1)[1].splitlines()
    leaky = line_of(MODELS, "F.dropout(x, 0.5)")
    step = line_of(MODELS, "# a training step")
    assert [line for line in summary if line.startswith("test_models.py:")] == [
        f"test_models.py:{leaky}: active-in-eval: F.dropout(p=0.5) drops values while the model "
        "(Leaky) is in eval mode; pass training=self.training (or use the nn.Dropout module)"
        "  [test_models.py::test_leaky]",
        f"test_models.py:{step}: trained-in-eval: backward pass through a forward of the model "
        "(Sequential) that ran in eval mode (dropout in '1' ran as at inference); call "
        "model.train() before the training step, or run this forward under torch.no_grad()"
        "  [test_models.py::test_trained_in_eval]",
    ]
    assert "2 findings" in summary
    assert "3 passed" in result.stdout


def test_strict_fails_exactly_the_tests_with_findings(models):
    result = run_pytest(models.parent, "--dropout-audit=strict", "-W", "ignore::UserWarning")
    assert result.returncode == 1
    assert "FAILED test_models.py::test_leaky - Failed: dropout audit: " in result.stdout
    assert "FAILED test_models.py::test_trained_in_eval - Failed: dropout audit: " in result.stdout
    assert "2 failed, 1 passed" in result.stdout
