"""The project index: module classes by module path, through each file's own imports."""

from __future__ import annotations

from pathlib import Path

from dropout_lint.analysis.project_index import (
    ProjectIndex,
    absolute_name,
    class_statements,
    is_project_module_class,
    module_classes_of,
    module_key,
    name_to_ask,
    project_module_class_keys,
)
from dropout_lint.workspace.runner import index_project, project_class_statements


def write_files(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return [str(tmp_path / name) for name in files]


def index_of(tmp_path: Path, files: dict[str, str]) -> frozenset[str]:
    return index_project(write_files(tmp_path, files))


def reading_index(paths: list[str]) -> tuple[ProjectIndex, list[str]]:
    """The index of ``paths``, reading their statements on demand, and the paths it read."""
    read: list[str] = []

    def reading(path: str) -> tuple:
        read.append(path)
        return project_class_statements(path)

    return ProjectIndex(paths, reading), read


# Two classes called Block, in two modules: one a module class, the other not.
ZOO = {
    "zoo/layers.py": "from torch import nn\nclass Block(nn.Module): pass\n",
    "zoo/config.py": "class Block:\n    pass\n",
    "zoo/net.py": "from .layers import Block\nclass Net(Block): pass\n",
    "zoo/hparams.py": "from zoo.config import Block\nclass Small(Block): pass\n",
}


def test_a_base_is_followed_to_the_module_that_defines_it(tmp_path: Path) -> None:
    index = index_of(tmp_path, ZOO)
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


def test_a_bare_name_is_asked_of_the_file_that_binds_it() -> None:
    """A bare qualified name is bound in the file itself (a ``def``, an assignment): its
    module is the file's own, not every module with a class of that name."""
    assert name_to_ask("Helper", "/src/pkg/net.py") == "src.pkg.net.Helper"
    assert name_to_ask(".layers.Block", "/src/pkg/net.py") == "src.pkg.layers.Block"
    assert name_to_ask("torch.nn.Module", "/src/pkg/net.py") == "torch.nn.Module"


def test_a_base_bound_by_an_assignment_reads_no_other_file(tmp_path: Path) -> None:
    """``Base = make_base()`` is not the module class ``Base`` of another file: linting
    the file reads its own statements only (asking every module would read every file)."""
    from dropout_lint.engine.lint import LintOptions, lint_source
    from dropout_lint.rules import ALL_RULES

    layers, net = write_files(
        tmp_path,
        {
            "layers.py": "import torch.nn as nn\nclass Base(nn.Module): pass\n",
            "net.py": "import torch.nn.functional as F\nfrom factory import make_base\nBase = make_base()\n\n\n"
            "class Net(Base):\n    def forward(self, x):\n        return F.dropout(x, 0.5)\n",
        },
    )
    index, read = reading_index([layers, net])
    options = LintOptions(rules=ALL_RULES, project_module_classes=index)
    assert lint_source(Path(net).read_bytes(), net, options) == []
    assert read == [net]


def test_an_index_of_paths_reads_each_file_a_question_needs_once(tmp_path: Path) -> None:
    paths = write_files(tmp_path, ZOO)
    layers, _, net, _ = paths
    index, read = reading_index(paths)
    assert is_project_module_class("zoo.net.Net", index)
    assert is_project_module_class("zoo.layers.Block", index)
    assert read == [net, layers]  # the question's module, then its base's
    assert set(index) == index_project(paths)
    assert sorted(read) == sorted(paths)  # each read once


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


def test_the_scan_keeps_latin1_capitals_and_names_a_base_starts_with() -> None:
    source = (
        "from m import \u00c9t\u00e9, \u00e9t\u00e9\n"
        "from torch import nn as tnn, functional\n"
        "import a.b as mods, c.d as other\n"
        "class X(tnn.Module, mods.Base): pass\n"
    ).encode("latin-1")
    assert class_statements(source) == (
        ("class", "X", ("tnn.Module", "mods.Base")),
        ("import", "\u00c9t\u00e9", ("m.\u00c9t\u00e9",)),
        ("import", "tnn", ("torch.nn",)),
        ("import", "mods", ("a.b",)),
    )


def test_a_module_named_after_import_hides_no_import() -> None:
    # `dynamic_import import` holds the word twice: the first is a name's end, and the
    # scan must go on to the keyword after it.
    source = b"from .dynamic_import import Block\nfrom pkg.reimport import (Head as H)\n"
    assert class_statements(source) == (
        ("import", "Block", (".dynamic_import.Block",)),
        ("import", "H", ("pkg.reimport.Head",)),
    )


def test_an_import_list_runs_to_its_first_closing_bracket_past_an_opening_one() -> None:
    # A `(` in a comment does not end the list: the scan reads on to the first `)`, every
    # word in it a name (it does not read comments), and finds `Tail` after it.
    source = b"from . import (Head,  # (import Body\n    Tail)\nclass Net(Head): pass\n"
    assert class_statements(source) == (
        ("class", "Net", ("Head",)),
        ("import", "Head", (".Head",)),
        ("import", "Body", (".Body",)),
        ("import", "Tail", (".Tail",)),
    )


def test_the_scan_reads_an_import_only_where_it_starts_a_statement() -> None:
    source = b"""\
try:
    from .blocks import Block
except ImportError:
    from .import Head
from . import *
x = 1; import a.b as Left
if x: from m import Right
# see: from m import Commented
import torch.nn.functional as F, torch.nn as nn
from m import a.b
"""
    assert class_statements(source) == (
        ("import", "Block", (".blocks.Block",)),
        ("import", "Head", (".Head",)),
        ("*", "*", (".",)),
        ("import", "F", ("torch.nn.functional",)),
    )


def test_the_same_import_keeps_a_lowercase_name_only_in_the_file_whose_base_starts_with_it() -> None:
    # what one import gives is read once for every file that writes it: the file's own
    # bases still decide whether `nn` is kept
    imports = b"from torch import nn, Tensor\nimport torch.nn as tnn\n"
    assert class_statements(imports + b"class Net(nn.Module): pass\n") == (
        ("class", "Net", ("nn.Module",)),
        ("import", "nn", ("torch.nn",)),
        ("import", "Tensor", ("torch.Tensor",)),
    )
    assert class_statements(imports + b"class Net(tnn.Module): pass\n") == (
        ("class", "Net", ("tnn.Module",)),
        ("import", "Tensor", ("torch.Tensor",)),
        ("import", "tnn", ("torch.nn",)),
    )
    assert class_statements(imports) == (("import", "Tensor", ("torch.Tensor",)),)


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


class _Watched(tuple):
    """A file's statements that note when the index reads them."""

    read: list[str] = []

    def __new__(cls, path: str, statements: tuple) -> "_Watched":
        watched = super().__new__(cls, statements)
        watched.path = path
        return watched

    def __iter__(self):
        _Watched.read.append(self.path)
        return super().__iter__()


def test_a_name_is_resolved_through_a_chain_of_files_reading_no_others(tmp_path: Path) -> None:
    files = {
        "zoo/base.py": "import torch.nn as nn\nclass Base(nn.Module): pass\n",
        "zoo/middle.py": "from .base import Base as Inner\n",
        "zoo/__init__.py": "from .middle import Inner as Public\n",
        "app/net.py": "from zoo import Public\nclass Net(Public): pass\nclass Plain(Other): pass\n",
        "app/other.py": "import torch.nn as nn\nclass Other(nn.Module): pass\nclass Unrelated(nn.Module): pass\n",
    }
    _Watched.read = []
    index = ProjectIndex.of_statements(
        (str(tmp_path / name), _Watched(name, class_statements(text.encode()))) for name, text in files.items()
    )
    assert is_project_module_class("app.net.Net", index)
    assert sorted(set(_Watched.read)) == ["app/net.py", "zoo/__init__.py", "zoo/base.py", "zoo/middle.py"]
    assert not is_project_module_class("app.net.Plain", index)  # `Other` is not imported there
    assert "app/other.py" not in _Watched.read
    assert set(index) == {
        f"{module_key(str(tmp_path / name))}.{cls}"
        for name, cls in [("zoo/base.py", "Base"), ("zoo/__init__.py", "Public"), ("app/net.py", "Net"),
                          ("app/other.py", "Other"), ("app/other.py", "Unrelated")]
    }


def test_answers_do_not_depend_on_the_order_of_the_questions(tmp_path: Path) -> None:
    """`A` and `B` name each other: both are modules, through `B`'s second base, whichever
    is asked first (the first one asked meets the other while it is being resolved)."""
    source = b"import torch.nn as nn\nclass A(B): pass\nclass B(A, nn.Module): pass\nclass C(D): pass\nclass D(C): pass\n"
    path = str(tmp_path / "cycle.py")
    key = module_key(path)
    for order in (["A", "B", "C", "D"], ["B", "A", "D", "C"]):
        index = ProjectIndex.of_statements([(path, class_statements(source))])
        answers = {name: is_project_module_class(f"{key}.{name}", index) for name in order}
        assert answers == {"A": True, "B": True, "C": False, "D": False}, order


def test_lazy_answers_are_those_of_the_whole_index(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "from .blocks.base import (\n    Base as PublicBase,\n)\nfrom .heads import *\n",
        "pkg/blocks/__init__.py": "from .base import Base\n",
        "pkg/blocks/base.py": "import torch.nn as tnn\nclass Base(tnn.Module): pass\nclass Config: pass\n",
        "pkg/heads.py": "import pkg as p\nclass Head(p.PublicBase): pass\nclass Loop(Loop2): pass\nclass Loop2(Loop): pass\n",
        "other/heads.py": "from pkg.blocks import Base\nclass Head(Base): pass\nclass Base2(Config): pass\n",
    }
    statements = [(str(tmp_path / name), class_statements(text.encode())) for name, text in files.items()]
    whole = module_classes_of(statements)
    names = ["Head", "heads.Head", "pkg.heads.Head", "Base", "blocks.Base", "pkg.PublicBase", "Loop",
             "pkg.heads.Loop2", "other.heads.Base2", "Config", "pkg.Head", "blocks.base.Config"]
    for name in names:
        index = ProjectIndex.of_statements(statements)
        assert sorted(project_module_class_keys(name, index)) == sorted(project_module_class_keys(name, whole)), name
    assert len(project_module_class_keys("Head", whole)) == 2
