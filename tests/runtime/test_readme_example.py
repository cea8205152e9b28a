"""The README's runtime example runs as written and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

README = Path(__file__).resolve().parents[2] / "README.md"


def runtime_example() -> str:
    section = README.read_text(encoding="utf-8").split("## Runtime layers and the live audit", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_readme_runtime_example_prints_what_it_claims() -> None:
    from dropout_lint.runtime import DropoutShapeError

    code = runtime_example()
    raising = "checked(torch.randn(3, 32, 32))"
    before, after = code.split(raising, 1)
    namespace: dict[str, object] = {}
    exec(compile(before, "README.md", "exec"), namespace)
    with pytest.raises(DropoutShapeError, match=re.escape("Dropout2d at '1' got input of")):
        exec(compile(raising, "README.md", "exec"), namespace)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(after.split("\n", 1)[1], "README.md", "exec"), namespace)
    claimed = re.search(r"^# (\[.*\])$", after, re.MULTILINE).group(1)
    assert printed.getvalue().strip() == claimed
