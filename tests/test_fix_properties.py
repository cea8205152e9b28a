"""Properties of ``--fix`` on generated modules and on every fixture file.

For any source: the output compiles, a second fix changes nothing, and the only lines that
change are those of the reported calls (or, for a plain container of dropout modules, its
assignments), plus inserted registrations and imports, and torch imports the fix left unused.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dropout_lint.engine.lint import LintOptions, lint_source
from dropout_lint.fixes.fixer import fix_source
from dropout_lint.rules import ALL_RULES

# The rules whose fixes edit the reported call (DRP010's swaps the layer where it is defined).
FIXES_AT_THE_CALL = ("DRP001", "DRP002", "DRP020")
OPTIONS = {
    style: LintOptions(rules=[r for r in ALL_RULES if r.code in FIXES_AT_THE_CALL], fix_style=style)
    for style in ("module", "training-flag")
}
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
_INSERTED = re.compile(
    r"^\s*(?:\w+\.\w+ = (?:\w+\.)*(?:Alpha|FeatureAlpha)?Dropout(?:[123]d)?\(.*\)"
    r"|import torch\.nn as nn|from torch import nn)\s*$"
)
# An import the fix left unused goes (or loses the names it no longer needs).
_TORCH_IMPORT = re.compile(r"^(?:import torch[\w.]*(?: as \w+)?|from torch[\w.]* import .+)\s*$")
_TRAINING_ARGUMENT = re.compile(r"^\s*training=\w+\.training,?\s*$")

IMPORTS = [
    ("import torch.nn as nn\nimport torch.nn.functional as F\n", "nn.Module", "F.dropout"),
    ("import torch\n", "torch.nn.Module", "torch.nn.functional.dropout2d"),
    ("from torch import nn\nfrom torch.nn.functional import alpha_dropout as drop\n", "nn.Module", "drop"),
    ("from torch.nn import Module, functional as F\n", "Module", "F.dropout1d"),
]


@st.composite
def modules(draw) -> str:
    """A module class with a mix of fixable, unfixable, clean and suppressed dropout calls."""
    imports, base, function = draw(st.sampled_from(IMPORTS))
    init = draw(st.sampled_from(["none", "super", "super+p", "no-super"]))
    lines = [imports, "", "", f"class Net({base}):"]
    if init != "none":
        lines.append("    def __init__(self, p=0.2):")
        lines.append("        super().__init__()" if init != "no-super" else "        self.ready = True")
        if init == "super+p":
            lines.append("        self.p = p  # the rate")
        lines.append("        self.dropout = 0.5")
        lines.append("")
    lines.append("    def forward(self, x, rate=0.1):")
    calls = draw(st.lists(st.tuples(
        st.sampled_from(["0.1", "0.5", "self.p", "rate", "", "p=0.25", "0.1 * 2"]),
        st.sampled_from(["", ", inplace=False", ", training=self.training"]),
        st.sampled_from(["one-line", "multi-line", "noqa"]),
    ), min_size=1, max_size=4))
    for rate, extra, layout in calls:
        if rate == "self.p" and init != "super+p":
            rate = "0.3"
        arguments = ", ".join(part for part in ("x", rate) if part) + extra
        if layout == "multi-line":
            parts = arguments.split(", ")
            lines.append(f"        x = {function}(  # keep")
            lines.extend(f"            {part}," for part in parts)
            lines.append("        )")
        else:
            suffix = "  # noqa: DRP001" if layout == "noqa" else ""
            lines.append(f"        x = {function}({arguments}){suffix}")
    lines.append("        return x")
    source = "\n".join(lines) + "\n"
    if draw(st.booleans()):
        source = source.replace("    ", "\t")
    return source.replace("\n", "\r\n") if draw(st.booleans()) else source


def assert_fix_properties(source: bytes, path: str, style: str) -> None:
    options = OPTIONS[style]
    fixed = fix_source(source, path, options, unsafe_fixes=True).source
    compile(fixed, path, "exec", dont_inherit=True)
    assert fix_source(fixed, path, options, unsafe_fixes=True).source == fixed
    reported: set[int] = set()
    for diagnostic in lint_source(source, path, options):
        if diagnostic.fix is not None:
            reported.update(range(diagnostic.line, diagnostic.end_line + 1))
            if diagnostic.fix.description.startswith("Make `self."):
                # DRP020 on a plain container: it is converted where it is assigned.
                for edit in diagnostic.fix.edits:
                    reported.update(range(edit.start[0], edit.end[0] + 1))
    if not reported:
        assert fixed == source
        return
    before = source.decode("utf-8").splitlines()
    after = fixed.decode("utf-8").splitlines()
    # Lines a fix may insert anywhere are set aside before the two texts are aligned: in
    # repetitive code, where an inserted `training=self.training,` goes is ambiguous to a
    # line diff (it may align it one call later). None of them may be lost.
    kept = Counter(line for line in before if _may_insert(line))
    assert not kept - Counter(line for line in after if _may_insert(line))
    core = [(number, line) for number, line in enumerate(before, 1) if not _may_insert(line)]
    matcher = difflib.SequenceMatcher(
        a=[line for _, line in core], b=[line for line in after if not _may_insert(line)], autojunk=False
    )
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        assert tag != "insert", matcher.b[j1:j2]
        if tag in ("replace", "delete"):
            changed = {number for number, line in core[i1:i2] if not _TORCH_IMPORT.match(line)}
            assert changed <= reported, (tag, matcher.a[i1:i2], matcher.b[j1:j2])


def _may_insert(line: str) -> bool:
    """A registration, an import of `nn`, or a `training=` argument on a line of its own."""
    return bool(_INSERTED.match(line) or _TRAINING_ARGUMENT.match(line))


def test_an_inserted_argument_in_repeated_calls_is_not_taken_for_another_change() -> None:
    """Found by hypothesis: a line diff aligned the inserted `training=` one call later."""
    call = "        x = F.dropout(  # keep\n            x,\n            0.1,\n{extra}        )\n"
    source = (
        "import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Net(nn.Module):\n"
        "    def forward(self, x):\n"
        + call.format(extra="")
        + call.format(extra="            training=self.training,\n")
        + call.format(extra="")
        + "        return x\n"
    )
    assert_fix_properties(source.encode(), "generated.py", "module")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(source=modules(), style=st.sampled_from(sorted(OPTIONS)))
def test_fix_properties_on_generated_modules(source: str, style: str) -> None:
    assert_fix_properties(source.encode(), "generated.py", style)


@pytest.mark.parametrize(
    "path", sorted(p for p in FIXTURES.rglob("*.py") if not p.name.endswith(".fixed.py")),
    ids=lambda p: str(p.relative_to(FIXTURES)),
)
def test_fix_properties_on_fixture_files(path: Path) -> None:
    for style in sorted(OPTIONS):
        assert_fix_properties(path.read_bytes(), str(path), style)
