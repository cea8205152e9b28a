"""patch() makes torch's channel dropout layers checked in place; unpatch() undoes it."""

import pytest
import torch
from dropout_lint.runtime import DropoutShapeError, patch, patched, unpatch
from torch import nn

from dropout_lint import runtime


def make_model() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 1),
        nn.Dropout2d(0.3, inplace=True),
        nn.ModuleList([nn.Dropout1d(0.1), nn.Dropout3d(0.7)]),
        nn.Dropout(0.5),
    )


def test_patch_swaps_in_place_keeping_everything():
    model = make_model().eval()
    model[2][1].train()
    layers = [model[1], model[2][0], model[2][1], model[3]]
    hook_calls = []
    model[1].register_forward_hook(lambda m, i, o: hook_calls.append(m))
    before = [(m.p, m.inplace, m.training) for m in layers]
    assert patch(model) is model
    assert [model[1], model[2][0], model[2][1], model[3]] == layers  # same objects
    assert [type(m) for m in layers] == [
        runtime.Dropout2d,
        runtime.Dropout1d,
        runtime.Dropout3d,
        nn.Dropout,
    ]
    assert [(m.p, m.inplace, m.training) for m in layers] == before
    assert isinstance(model[1], nn.Dropout2d)
    with pytest.raises(DropoutShapeError, match="Dropout2d at '1'"):
        model[:2](torch.randn(3, 8, 8))
    model[:2](torch.randn(2, 3, 8, 8))
    assert hook_calls == [model[1]]


def test_unpatch_restores_torch_layers_exactly():
    model = make_model()
    before = [(type(m), sorted(vars(m))) for m in model.modules()]
    unpatch(patch(model))
    assert [(type(m), sorted(vars(m))) for m in model.modules()] == before


def test_unpatch_leaves_layers_built_as_checked():
    model = nn.Sequential(runtime.Dropout2d(0.5, unbatched=True), nn.Dropout2d(0.5))
    unpatch(patch(model))
    assert type(model[0]) is runtime.Dropout2d and model[0].unbatched
    assert type(model[1]) is nn.Dropout2d


def test_patched_outputs_match_torch_bit_for_bit():
    model = make_model()
    x = torch.randn(2, 3, 8, 8)
    torch.manual_seed(0)
    expected = model[:2](x.clone())
    with patched(model):
        torch.manual_seed(0)
        out = model[:2](x.clone())
    assert torch.equal(out, expected)
    assert type(model[1]) is nn.Dropout2d


def test_patched_context_restores_after_an_error():
    model = make_model()
    with pytest.raises(DropoutShapeError), patched(model):
        model[1](torch.randn(3, 4, 4))
    assert type(model[1]) is nn.Dropout2d


def test_patch_on_a_layer_itself():
    layer = nn.Dropout3d(0.2)
    patch(layer)
    with pytest.raises(DropoutShapeError):
        layer(torch.randn(2, 3, 4, 4))
