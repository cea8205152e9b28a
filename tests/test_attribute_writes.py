"""Which attribute names a file sets after construction (analysis.attribute_writes)."""

from __future__ import annotations

import re
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from dropout_lint.analysis.attribute_writes import reassigned_attributes
from dropout_lint.rules import ALL_RULES
from dropout_lint.workspace.runner import index_for_fixes

SOURCE = b"""
class Block(nn.Module):
    def __init__(self, p, q):
        super().__init__()
        self.p = p
        self.q += q
        if p:
            self.mode = "on"

    def set_rate(self, rate):
        self.rate = rate
        if self.p == rate:
            self.count += 1

model.drop_rate = 0.0
model.encoder.layers[0].attention.dropout_p = 0.0
self.encoder.dropout = 0
setattr(model, "head_p", 0.1)
check(model.scale == 2, model.limit <= 3)
"""


def test_writes_outside_init_on_other_objects_and_by_setattr_count() -> None:
    assert reassigned_attributes(SOURCE) == {"rate", "count", "drop_rate", "dropout_p", "dropout", "head_p"}


def test_the_project_joins_its_files(tmp_path: Path) -> None:
    for name, source in {"a.py": "a.p = 1\n", "b.py": "b.q = 2\n", "c.py": "self.r = 3\n"}.items():
        (tmp_path / name).write_text(source)
    paths = sorted(str(path) for path in tmp_path.iterdir())
    assert index_for_fixes(paths, ALL_RULES).reassigned_attributes == {"p", "q", "r"}


# As the scan read them before it took linear time: each write from every letter, each
# write's function read back from it. What `reassigned_attributes` must still answer.
def reassigned_attributes_read_back(source: bytes) -> set[str]:
    write = re.compile(rb"([A-Za-z_][\w.]*)\.([A-Za-z_]\w*)[ \t]*(?:[-+*/%@&|^]|//|\*\*|<<|>>)?=(?!=)")
    definition = re.compile(rb"^([ \t]*)(?:async[ \t]+)?def[ \t]+(\w+)", re.MULTILINE)
    definitions = [(m.start(), len(m.group(1)), m.group(2)) for m in definition.finditer(source)]
    found = set(re.findall(rb"setattr\(\s*[^,()]+,\s*['\"]([A-Za-z_]\w*)['\"]", source))
    for match in write.finditer(source):
        line_start = source.rfind(b"\n", 0, match.start()) + 1
        indent = len(source[line_start : match.start()]) - len(source[line_start : match.start()].lstrip(b" \t"))
        enclosing = [name for start, depth, name in definitions if start < match.start() and depth < indent]
        if match.group(1) != b"self" or enclosing[-1:] != [b"__init__"]:
            found.add(match.group(2))
    return {name.decode("latin-1") for name in found}


WRITE_PIECES = [
    b"self", b"model", b".", b"p", b"_", b"1", b" ", b"\t", b"\n", b"=", b"+=", b"==", b"def ", b"__init__",
    b"async ", b"set", b"(", b")", b":", b"\n    ", b"\n        ", b"setattr(m, 'q', 1)",
]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(WRITE_PIECES), max_size=24).map(b"".join))
def test_the_scan_answers_as_reading_back_from_every_write(source: bytes) -> None:
    assert reassigned_attributes(source) == reassigned_attributes_read_back(source)


def test_long_runs_and_many_writes_take_linear_time() -> None:
    """Each took minutes at this size: a run of name characters (a match tried from each of
    its letters), writes to `self` on one line (each read back to its start), and each after
    thousands of `def`s indented more."""
    for source in [
        b"x = " + b"a" * 200_000 + b"\n",
        b"def __init__(self):\n    " + b"self.a = 1; " * 300_000 + b"\n",
        b"class A:\n" + b"    def f(self): pass\nself.p = 1\n" * 100_000,
    ]:
        started = time.process_time()
        reassigned_attributes(source)
        assert time.process_time() - started < 5
