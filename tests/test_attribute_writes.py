"""Which attribute names a file sets after construction (analysis.attribute_writes)."""

from __future__ import annotations

from pathlib import Path

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
