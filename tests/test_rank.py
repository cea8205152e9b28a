"""Rank inference, one source of rank (or join, or loop) per test.

Each snippet calls ``reveal(expr)``; the test reads what the inference knows of ``expr``
there. ``None`` means unknown.
"""

from __future__ import annotations

from typing import Optional

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from dropout_lint.analysis.module_classes import ModuleClasses
from dropout_lint.analysis.name_resolution import NameResolver
from dropout_lint.analysis.rank import SourceFacts, Tensor, analyze

HEADER = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from collections import OrderedDict
from jaxtyping import Float
from torch import Tensor
"""


def _analyses(source: str):
    wrapper = MetadataWrapper(cst.parse_module(HEADER + source))
    names = NameResolver(wrapper.module)
    scope = ModuleClasses(wrapper.module, names)
    positions = wrapper.resolve(PositionProvider)

    def qualified_name(node: cst.CSTNode) -> Optional[str]:
        found = names.qualified_names(node)
        return found.pop() if len(found) == 1 else None

    facts = SourceFacts(qualified_name, lambda node: positions[node].start.line - HEADER.count("\n"))
    units = [s for s in wrapper.module.body if isinstance(s, (cst.ClassDef, cst.FunctionDef))]
    return wrapper.module, [analyze(unit, scope, facts) for unit in (*units, wrapper.module)]


class _Reveals(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.arguments: list[cst.BaseExpression] = []

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "reveal":
            self.arguments.append(node.args[0].value)


def revealed(source: str) -> list[Optional[int]]:
    """The rank of each ``reveal(...)`` argument, in source order."""
    module, analyses = _analyses(source)
    reveals = _Reveals()
    module.visit(reveals)
    ranks = []
    for argument in reveals.arguments:
        known = [a.rank_of(argument) for a in analyses if a.rank_of(argument) is not None]
        ranks.append(known[0].rank if known else None)
    return ranks


def revealed_tensor(source: str) -> Tensor:
    module, analyses = _analyses(source)
    reveals = _Reveals()
    module.visit(reveals)
    found = [a.rank_of(reveals.arguments[0]) for a in analyses]
    return next(t for t in found if t is not None)


def method(body: str, init: str = "pass") -> str:
    """A module whose ``__init__`` runs ``init`` and whose ``forward(self, x)`` runs ``body``."""
    indent = lambda text: "\n".join("        " + line for line in text.strip().splitlines())
    return f"""
class Net(nn.Module):
    def __init__(self):
        super().__init__()
{indent(init)}

    def forward(self, x, y):
{indent(body)}
"""


LAYERS = """
self.conv1d = nn.Conv1d(3, 8, 3)
self.conv = nn.Conv2d(3, 8, 3)
self.conv3d = torch.nn.Conv3d(3, 8, 3)
self.fc = nn.Linear(8, 8)
self.act = nn.GELU()
self.norm = nn.LayerNorm(8)
self.bn = nn.BatchNorm2d(8)
self.pool = nn.MaxPool2d(2)
self.flatten = nn.Flatten()
self.flatten2 = nn.Flatten(start_dim=2)
self.flatten_end = nn.Flatten(0, 1)
self.lstm = nn.LSTM(8, 8, batch_first=True)
self.gru = nn.GRU(8, 8)
self.embed = nn.Embedding(100, 8)
self.block = SomeBlock()
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        ("reveal(self.conv(x))", 4),
        ("reveal(self.conv1d(x))", 3),
        ("reveal(self.conv3d(x))", 5),
        ("reveal(self.fc(self.conv(x)))", 4),
        ("reveal(self.act(self.norm(self.conv1d(x))))", 3),
        ("reveal(self.pool(self.conv(x)))", 4),
        ("reveal(self.bn(x))", 4),
        ("reveal(self.flatten(x))", 2),
        ("reveal(self.flatten2(x))", 3),
        ("reveal(self.flatten_end(self.conv(x)))", 3),
        ("reveal(self.flatten_end(x))", None),
        ("out, (h, c) = self.lstm(x)\nreveal(out)\nreveal(h)", [3, 3]),
        ("out, h = self.gru(self.fc(torch.randn(5, 8)))\nreveal(out)", 2),
        ("reveal(self.lstm(x)[0])", 3),
        ("reveal(self.embed(torch.zeros(4, 7)))", 3),
        ("reveal(self.embed(x))", None),
        ("reveal(self.fc(x))", None),
        ("reveal(self.block(self.conv(x)))", None),
    ],
)
def test_layers_registered_in_init(body: str, expected) -> None:
    expected = expected if isinstance(expected, list) else [expected]
    assert revealed(method(body, LAYERS)) == expected


@pytest.mark.parametrize(
    "expression, expected",
    [
        ("x.view(8, -1)", 2),
        ("x.view((8, 4, -1))", 3),
        ("x.reshape(b, c, h * w)", 3),
        ("x.view(-1)", 1),
        ("x.view(shape)", None),
        ("x.view(*shape)", None),
        ("torch.reshape(x, (b, -1))", 2),
        ("x.flatten(1)", 2),
        ("x.flatten()", 1),
        ("torch.flatten(x, 1)", 2),
        ("torch.flatten(x, start_dim=2)", 3),
        ("torch.flatten(x, 0, 1)", None),
        ("torch.flatten(torch.randn(2, 3, 4, 5), 1, 2)", 3),
        ("torch.randn(2, 3).unsqueeze(0)", 3),
        ("x.unsqueeze(0)", None),
        ("torch.randn(2, 1, 3).squeeze(1)", 2),
        ("torch.randn(2, 1, 3).squeeze()", None),
        ("x.permute(0, 2, 3, 1)", 4),
        ("torch.randn(2, 3, 4).transpose(1, 2)", 3),
        ("torch.randn(2, 3, 4).mean(dim=1)", 2),
        ("torch.randn(2, 3, 4).mean(-1, keepdim=True)", 3),
        ("torch.randn(2, 3, 4).sum((1, 2))", 1),
        ("torch.randn(2, 3, 4).amax(dim=1, keepdim=flag)", None),
        ("torch.randn(2, 3, 4).sum()", 0),
        ("torch.cat([torch.randn(2, 3), x], dim=1)", 2),
        ("torch.stack([torch.randn(2, 3), torch.randn(2, 3)])", 3),
        ("torch.randn(2, 3, 4)[:, 0]", 2),
        ("torch.randn(2, 3)[:, None, :, None]", 4),
        ("torch.randn(2, 3)[..., None]", 3),
        ("torch.randn(2, 3)[idx]", None),
        ("F.relu(F.conv2d(x, w))", 4),
        ("F.max_pool2d(torch.randn(2, 3, 8, 8), 2)", 4),
        ("F.embedding(torch.zeros(2, 5), w)", 3),
        ("torch.randn(8, 16)", 2),
        ("torch.zeros((8, 16, 4))", 3),
        ("torch.ones(n)", None),
        ("torch.tensor([[1, 2], [3, 4]])", 2),
        ("torch.randn(2, 3) + 1.0", 2),
        ("torch.randn(2, 3) * torch.randn(4, 2, 3)", 3),
        ("torch.randn(2, 3) + y", None),
    ],
)
def test_tensor_methods_functions_and_constructors(expression: str, expected) -> None:
    assert revealed(f"def f(x, y, b, c, h, w, n, shape, flag, idx):\n    reveal({expression})\n") == [expected]


def test_jaxtyping_annotations_state_the_rank() -> None:
    source = """
def f(x: Float[Tensor, "batch seq dim"], y: Float[Tensor, "*batch dim"], z: Tensor):
    reveal(x)
    reveal(y)
    reveal(z)
    w: Float[Tensor, "b c h w"] = g(x)
    reveal(w)
"""
    assert revealed(source) == [3, None, None, 4]


def test_the_message_says_where_the_rank_comes_from() -> None:
    source = "def f(x):\n    x = torch.flatten(x, 1)\n    x = F.relu(x)\n    reveal(x)\n"
    assert revealed_tensor(source).describe() == "2-D tensor after `torch.flatten` at line 2"


@pytest.mark.parametrize(
    "body, expected",
    [
        ("if y:\n    x = x.view(b, -1)\nelse:\n    x = x.flatten(1)\nreveal(x)", 2),
        ("if y:\n    x = x.view(b, -1)\nelse:\n    x = self.conv(x)\nreveal(x)", None),
        ("x = x.view(b, -1)\nif y:\n    x = x.unsqueeze(1)\nreveal(x)", None),
        ("x = x.view(b, -1)\nif y:\n    return x.unsqueeze(1)\nreveal(x)", 2),
        ("x = x.view(b, -1)\nz = x if y else x.unsqueeze(1)\nreveal(z)", None),
        ("x = x.view(b, -1)\ntry:\n    x = x.unsqueeze(1)\nexcept ValueError:\n    pass\nreveal(x)", None),
        ("x = self.conv(x)\nx = x.flatten(1)\nreveal(x)", 2),
    ],
)
def test_branches_join(body: str, expected) -> None:
    assert revealed(method(body, "self.conv = nn.Conv2d(3, 8, 3)").replace("b, -1", "8, -1")) == [
        expected
    ]


@pytest.mark.parametrize(
    "body, expected",
    [
        ("x = x.view(8, -1)\nfor _ in range(3):\n    x = self.fc(x)\nreveal(x)", 2),
        ("x = x.view(8, -1)\nfor _ in range(3):\n    x = x.unsqueeze(1)\nreveal(x)", None),
        ("x = x.view(8, -1)\nwhile y:\n    reveal(x)\n    x = x.unsqueeze(1)", None),
        ("x = x.view(8, -1)\nwhile y:\n    if x.numel():\n        break\n    x = x[None]\nreveal(x)", None),
        ("x = x.view(8, -1)\nfor t in torch.randn(4, 8, 3).unbind(1):\n    reveal(t)\n    x = t", 2),
        ("for part in torch.randn(4, 8, 3).chunk(2, dim=1):\n    reveal(part)", 3),
    ],
)
def test_loops_reach_a_sound_fixed_point(body: str, expected) -> None:
    assert revealed(method(body, "self.fc = nn.Linear(8, 8)")) == [expected]


def test_sequential_literals_carry_the_rank_through_their_layers() -> None:
    source = method(
        "reveal(self.head(x))\nreveal(self.features(x))\nreveal(self.dict_head(x))\nreveal(self.opaque(x))",
        """
self.head = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4))
self.features = nn.Sequential()
self.features.add_module("conv", nn.Conv1d(3, 8, 3))
self.features.add_module("act", nn.ReLU())
self.dict_head = nn.Sequential(OrderedDict([("conv", nn.Conv3d(3, 8, 3)), ("act", nn.ReLU())]))
self.opaque = nn.Sequential(*layers)
""",
    )
    # self.features is empty on one path (before add_module): the join is unknown.
    assert revealed(source) == [2, None, 5, None]


def test_layer_applications_are_recorded_with_their_input() -> None:
    module, analyses = _analyses(
        method(
            "x = self.drop(x.flatten(1))\nreturn self.head(x)",
            "self.drop = nn.Dropout2d(0.5)\nself.head = nn.Sequential(nn.Linear(8, 8), nn.Dropout2d(0.1))",
        )
    )
    applications = {
        (a.layer.class_name, a.direct, a.standalone, a.input.rank if a.input else None)
        for a in analyses[0].applications
    }
    assert ("Dropout2d", True, False, 2) in applications  # self.drop(x)
    assert ("Dropout2d", False, False, 2) in applications  # inside self.head(x)
    assert ("Dropout2d", False, True, None) in applications  # the Sequential on its own


def test_layer_chosen_by_a_condition_is_either() -> None:
    source = method(
        "reveal(self.drop(self.conv(x)))",
        "self.conv = nn.Conv2d(3, 8, 3)\nself.drop = nn.Dropout2d(0.1) if p else nn.Identity()",
    )
    assert revealed(source) == [4]


def test_names_that_are_not_torch_never_count() -> None:
    source = """
import mylib as torch

def f(x):
    reveal(torch.flatten(x, 1))
    reveal(torch.randn(8, 16))
"""
    assert revealed(source) == [None, None]


def revealed_batches(source: str) -> list[bool]:
    """Whether each ``reveal(...)`` argument is known to be a batch, in source order."""
    module, analyses = _analyses(source)
    reveals = _Reveals()
    module.visit(reveals)
    known = []
    for argument in reveals.arguments:
        tensors = [a.rank_of(argument) for a in analyses if a.rank_of(argument) is not None]
        known.append(bool(tensors) and tensors[0].batch is not None)
    return known


def test_batch_evidence_comes_from_batch_only_layers_and_batched_ranks() -> None:
    source = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.norm = nn.BatchNorm1d(8)

    def forward(self, x, seq, feats):
        reveal(self.bn(x))
        reveal(self.pool(torch.randn(8, 3, 4, 4)))
        reveal(self.pool(torch.randn(3, 4, 4)))
        reveal(self.norm(feats))
        reveal(F.conv2d(torch.randn(2, 3, 8, 8), seq))
"""
    assert revealed_batches(source) == [True, True, False, False, True]


def test_batch_evidence_is_kept_only_while_dim_zero_stays_first() -> None:
    source = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        h = self.conv(x)
        reveal(torch.flatten(h, 1))
        reveal(h.flatten(0, 1))
        reveal(h.view(h.size(0), -1))
        reveal(h.reshape(h.shape[0], 8, -1))
        reveal(h.view(8, -1))
        reveal(h.permute(0, 2, 3, 1))
        reveal(h.permute(1, 0, 2, 3))
        reveal(h.transpose(1, 2))
        reveal(h.transpose(0, 1))
        reveal(h.T)
        reveal(self.fc(torch.flatten(h, 1)))
        reveal(h[0])
        reveal(h.unsqueeze(1))
        reveal(h.unsqueeze(0))
"""
    assert revealed_batches(source) == [
        True, False, True, True, False, True, False, True, False, False, True, False, True, False
    ]


def test_paths_that_disagree_on_the_batch_join_to_no_batch() -> None:
    source = """
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.bn = nn.BatchNorm2d(8)

    def forward(self, x, flag):
        y = self.bn(x) if flag else torch.randn(2, 8, 4, 4)
        reveal(y)
"""
    assert revealed(source) == [4]
    assert revealed_batches(source) == [False]


PACKING = """
from torch.nn.utils.rnn import pack_padded_sequence, pack_sequence, pad_packed_sequence
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        ("reveal(pack_padded_sequence(self.embed(torch.zeros(4, 7)), n).data)", 2),
        ("reveal(pack_padded_sequence(torch.zeros(4, 7), n).data)", 1),
        ("reveal(pack_sequence([torch.randn(5, 8), torch.randn(3, 8)]).data)", 2),
        ("out, h = self.gru(pack_padded_sequence(x, n))\nreveal(out.data)\nreveal(h)", [2, 3]),
        ("out, (h, c) = self.lstm(x)\nreveal(out.data)", None),  # x may be packed
        ("out, _ = self.lstm(x)\nreveal(pad_packed_sequence(out)[0])", 3),
        ("reveal(pad_packed_sequence(pack_padded_sequence(torch.zeros(4, 7), n))[0])", 2),
    ],
)
def test_packed_sequences(body: str, expected) -> None:
    expected = expected if isinstance(expected, list) else [expected]
    assert revealed(PACKING + method(body, LAYERS)) == expected


@pytest.mark.parametrize(
    "body, expected",
    [
        ("outs = []\nfor i in range(3):\n    outs.append(self.conv(x))\nreveal(torch.cat(outs, 1))", 4),
        ("outs = [x.mean(1) for _ in range(2)]\nreveal(torch.stack(outs))", None),
        ("outs = [torch.randn(2, 3) for _ in range(2)]\nreveal(torch.stack(outs))", 3),
        ("a = [torch.randn(2, 3)]\na += [torch.randn(4, 3)]\nreveal(torch.cat(a))", 2),
        ("a = [torch.randn(2, 3)]\nb = a\nb.append(x)\nreveal(torch.cat(a))", None),
        ("a = [torch.randn(2, 3)]\na.extend(y)\nreveal(torch.cat(a))", None),
        ("a = [torch.randn(2, 3)]\na[0] = x\nreveal(torch.cat(a))", None),
        ("a = [torch.randn(2, 3)]\nhelper(a)\nreveal(torch.cat(a))", None),
        ("for i, t in enumerate([torch.randn(2)]):\n    reveal(t)", 1),
        ("for t, u in zip([torch.randn(2)], y):\n    reveal(t)\n    reveal(u)", [1, None]),
    ],
)
def test_lists_of_tensors(body: str, expected) -> None:
    expected = expected if isinstance(expected, list) else [expected]
    assert revealed(method(body, LAYERS)) == expected


CONTAINERS = """
layers = [nn.Flatten(), nn.Linear(8, 8)]
layers.append(nn.GELU())
self.head = nn.Sequential(*layers)
self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
self.mixed = nn.ModuleList([nn.Conv2d(3, 8, 3), nn.Flatten()])
self.by_name = nn.ModuleDict({"a": nn.Linear(8, 8), "b": nn.GELU()})
grown = []
for _ in range(2):
    grown += [nn.Linear(8, 8), nn.ReLU()]
self.grown = nn.Sequential(*grown)
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        ("reveal(self.head(x))", 2),
        ("h = torch.randn(2, 8)\nfor block in self.blocks:\n    h = block(h)\nreveal(h)", 2),
        ("reveal(self.blocks[0](torch.randn(2, 8)))", 2),
        ("reveal(self.mixed[1](torch.randn(2, 3, 5, 5)))", 2),
        ("reveal(self.mixed[i](torch.randn(2, 3, 5, 5)))", None),
        ("for name, m in self.by_name.items():\n    reveal(m(torch.randn(2, 8)))", 2),
        ("reveal(self.by_name['a'](torch.randn(4, 8)))", 2),
        ("reveal(self.grown(torch.randn(2, 8)))", None),  # built in a loop: order unknown
    ],
)
def test_containers_of_layers(body: str, expected) -> None:
    expected = expected if isinstance(expected, list) else [expected]
    assert revealed(method(body, CONTAINERS)) == expected


EINOPS = """
from einops import rearrange, reduce
from einops.layers.torch import Rearrange
"""


@pytest.mark.parametrize(
    "body, expected",
    [
        ("reveal(rearrange(x, 'b c h w -> b (h w) c'))", 3),
        ("reveal(rearrange(x, 'b (h w) c -> b c h w', h=4))", 4),
        ("reveal(reduce(x, 'b c h w -> b c', 'mean'))", 2),
        ("reveal(rearrange(x, 'b c () -> b c 1 1'))", 4),
        ("reveal(rearrange(x, '... c -> c ...'))", None),
        ("reveal(rearrange(torch.randn(2, 3), 'b c h w -> b c (h w)'))", None),
        ("reveal(rearrange(x, pattern))", None),
        ("reveal(Rearrange('b c h w -> b (c h w)')(x))", 2),
    ],
)
def test_einops_patterns(body: str, expected) -> None:
    assert revealed(EINOPS + method(body)) == [expected]


CALLERS = """
class Inner(nn.Module):
    def forward(self, x, mask=None):
        reveal(x)
        return x


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()
        self.conv1d = nn.Conv1d(3, 3, 3)
        self.conv = nn.Conv2d(3, 3, 3)

    def forward(self, x):
        return self.inner(self.conv1d(x), mask=None)
"""


def test_forward_input_comes_from_the_callers_when_they_agree() -> None:
    assert revealed(CALLERS) == [3]
    message = revealed_tensor(CALLERS).origin
    assert message == "after `self.conv1d` (nn.Conv1d) at line 16, passed by `self.inner` at line 16"


def test_callers_that_disagree_leave_the_input_unknown() -> None:
    disagreeing = CALLERS.replace(
        "return self.inner(self.conv1d(x), mask=None)",
        "return self.inner(self.conv1d(x)), self.inner(self.conv(x))",
    )
    assert revealed(disagreeing) == [None]
    unknown_caller = CALLERS.replace("self.conv1d(x)", "x")
    assert revealed(unknown_caller) == [None]
