"""The project index: module classes by module path, through each file's own imports."""

from __future__ import annotations

from pathlib import Path

from dropout_lint.analysis.project_index import (
    absolute_name,
    class_statements,
    is_project_module_class,
)
from dropout_lint.workspace.runner import index_project


def index_of(tmp_path: Path, files: dict[str, str]) -> frozenset[str]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return index_project([str(tmp_path / name) for name in files])


def test_a_base_is_followed_to_the_module_that_defines_it(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "zoo/layers.py": "from torch import nn\nclass Block(nn.Module): pass\n",
            "zoo/config.py": "class Block:\n    pass\n",
            "zoo/net.py": "from .layers import Block\nclass Net(Block): pass\n",
            "zoo/hparams.py": "from zoo.config import Block\nclass Small(Block): pass\n",
        },
    )
    assert is_project_module_class("zoo.layers.Block", index)
    assert is_project_module_class("zoo.net.Net", index)
    assert not is_project_module_class("zoo.config.Block", index)
    assert not is_project_module_class("zoo.hparams.Small", index)


def test_reexports_aliases_star_imports_and_cycles(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "pkg/__init__.py": "from .blocks.base import (\n    Base as PublicBase,\n)\n",
            "pkg/blocks/__init__.py": "",
            "pkg/blocks/base.py": "import torch.nn as tnn\nclass Base(tnn.Module): pass\n",
            "pkg/heads.py": "import pkg as p\nclass Head(p.PublicBase): pass\n",
            "pkg/star.py": "from .blocks.base import *\nclass Tail(Base): pass\n",
            "pkg/loop.py": "class A(B): pass\nclass B(A): pass\n",
        },
    )
    assert is_project_module_class("pkg.PublicBase", index)
    assert is_project_module_class("pkg.heads.Head", index)
    assert is_project_module_class("pkg.star.Tail", index)
    assert not is_project_module_class("pkg.loop.A", index)


def test_relative_names_are_read_from_the_importing_file() -> None:
    assert absolute_name(".layers.Block", "/src/pkg/net.py") == "src.pkg.layers.Block"
    assert absolute_name("..base.Base", "/src/pkg/sub/net.py") == "src.pkg.base.Base"
    assert absolute_name(".", "/src/pkg/__init__.py") == "src.pkg"
    assert absolute_name("torch.nn.Module", "/src/pkg/net.py") == "torch.nn.Module"


def test_the_scan_keeps_imports_that_may_bind_a_class() -> None:
    source = b"""\
import os
import torch.nn as nn
from typing import Optional
from .layers import Block, helper as h
from . import (
    Head,
)
# reimport Foo as Bar
class Net(nn.Module):
    pass
"""
    assert class_statements(source) == (
        ("class", "Net", ("nn.Module",)),
        ("import", "nn", ("torch.nn",)),
        ("import", "Optional", ("typing.Optional",)),
        ("import", "Block", (".layers.Block",)),
        ("import", "Head", (".Head",)),
    )


def test_a_module_named_after_import_hides_no_import() -> None:
    # `dynamic_import import` holds the word twice: the first is a name's end, and the
    # scan must go on to the keyword after it.
    source = b"from .dynamic_import import Block\nfrom pkg.reimport import (Head as H)\n"
    assert class_statements(source) == (
        ("import", "Block", (".dynamic_import.Block",)),
        ("import", "H", ("pkg.reimport.Head",)),
    )


def test_a_base_imported_from_a_module_named_after_import_is_followed(tmp_path: Path) -> None:
    index = index_of(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/model_import.py": "import torch.nn as nn\nclass Block(nn.Module):\n    pass\n",
            "pkg/net.py": "from .model_import import Block\nclass Net(Block):\n    pass\n",
        },
    )
    assert any(name.endswith("pkg.net.Net") for name in index)
