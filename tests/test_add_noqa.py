"""``--add-noqa``: every finding silenced on its own line, merged with what is there, once."""

from __future__ import annotations

from pathlib import Path

import pytest

from dropout_lint.integrations.cli import main

BEFORE = '''\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)
        y = F.dropout(x, 0.1)  # keep: see issue 3
        z = F.dropout(x, 0.2)  # noqa: E501
        w = F.dropout(x, 0.3)  # noqa
        v = F.dropout(x, 0.4) if "#" in "a # b" else x
        u = F.dropout(x, 0.6); t = """starts here
and ends here"""
        return F.dropout(x, 0.7)  # type: ignore  # noqa:E731
'''

AFTER = '''\
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def forward(self, x):
        x = F.dropout(x, 0.5)  # noqa: DRP001
        y = F.dropout(x, 0.1)  # keep: see issue 3  # noqa: DRP001
        z = F.dropout(x, 0.2)  # noqa: E501, DRP001
        w = F.dropout(x, 0.3)  # noqa
        v = F.dropout(x, 0.4) if "#" in "a # b" else x  # noqa: DRP001
        u = F.dropout(x, 0.6); t = """starts here
and ends here"""
        return F.dropout(x, 0.7)  # type: ignore  # noqa: E731, DRP001
'''


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model.py").write_text(BEFORE)
    return tmp_path


def test_add_noqa_merges_keeps_other_codes_and_never_touches_strings(project: Path, capsys) -> None:
    code, out, err = run(capsys, "--add-noqa", ".")
    assert code == 0 and out == ""
    assert (project / "model.py").read_text() == AFTER
    assert err.splitlines() == [
        "model.py:12: no directive added: the line ends inside a string or after a backslash",
        "Added 5 noqa directives.",
    ]
    # Only the finding that could not be silenced is left.
    code, out, _ = run(capsys, "--quiet", ".")
    assert code == 1 and [line.split(": ")[0] for line in out.splitlines()] == ["model.py:12:13"]


def test_add_noqa_is_idempotent(project: Path, capsys) -> None:
    run(capsys, "--add-noqa", ".")
    code, _, err = run(capsys, "--add-noqa", ".")
    assert code == 0 and err.splitlines()[-1] == "Added 0 noqa directives."
    assert (project / "model.py").read_text() == AFTER


def test_add_noqa_keeps_crlf_and_the_encoding(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    source = "# -*- coding: latin-1 -*-\n# café\n" + BEFORE.split("        y =")[0]
    (tmp_path / "m.py").write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert run(capsys, "--add-noqa", "m.py")[0] == 0
    data = (tmp_path / "m.py").read_bytes()
    assert b"x = F.dropout(x, 0.5)  # noqa: DRP001\r\n" in data
    assert "# café".encode("latin-1") in data and b"\n" not in data.replace(b"\r\n", b"")


def test_add_noqa_with_fix_is_a_usage_error(project: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--add-noqa", "--fix", "."])
    assert exit_info.value.code == 2
