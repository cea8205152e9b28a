"""Which findings a ``# noqa`` comment silences: only comments count, as the tokenizer reads them."""

from __future__ import annotations

from dropout_lint.engine.lint import lint_source

BUGGY_LINE = "        return F.dropout(x, 0.5){tail}\n"
TEMPLATE = "import torch.nn as nn\nimport torch.nn.functional as F\n\nclass Net(nn.Module):\n    def forward(self, x):\n"


def codes(tail: str) -> list[str]:
    return [d.code for d in lint_source(TEMPLATE + BUGGY_LINE.format(tail=tail))]


def test_a_directive_in_a_comment_silences_its_code_and_the_codes_it_prefixes() -> None:
    assert codes("  # noqa: DRP001") == []
    assert codes("  # noqa: DRP0") == []
    assert codes("  # noqa") == []
    assert codes("  # why: legacy  # noqa: E501, DRP001") == []


def test_a_directive_for_another_code_silences_nothing_here() -> None:
    assert codes("  # noqa: DRP010") == ["DRP001"]


def test_a_directive_inside_a_string_is_not_a_comment() -> None:
    assert codes(' if "# noqa: DRP001" else x') == ["DRP001"]
    assert codes(" or '# noqa'") == ["DRP001"]
