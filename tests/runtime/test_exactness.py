"""For valid input the checked layers are torch's, bit for bit: same draws, same maths."""

import pytest
import torch
import torch.nn.functional as F
from dropout_lint.runtime import (
    Dropout1d,
    Dropout2d,
    Dropout3d,
    dropout1d,
    dropout2d,
    dropout3d,
)
from hypothesis import given, settings
from hypothesis import strategies as st

# (checked layer, torch layer, checked functional, torch functional, batched shapes)
LAYERS = [
    (Dropout1d, torch.nn.Dropout1d, dropout1d, F.dropout1d, [(4, 6, 9), (1, 3, 1)]),
    (
        Dropout2d,
        torch.nn.Dropout2d,
        dropout2d,
        F.dropout2d,
        [(4, 6, 5, 3), (3, 8, 7, 7)],
    ),
    (
        Dropout3d,
        torch.nn.Dropout3d,
        dropout3d,
        F.dropout3d,
        [(2, 3, 4, 5, 2), (1, 4, 1, 2, 1)],
    ),
]
IDS = ["1d", "2d", "3d"]
DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16]
RATES = [0.0, 0.1, 0.5, 0.9, 1.0]
_SAME_SIZE_INT = {2: torch.int16, 4: torch.int32, 8: torch.int64}


def bits(t: torch.Tensor) -> torch.Tensor:
    """The tensor's bit patterns, so NaN == NaN and -0.0 != 0.0."""
    return t.view(_SAME_SIZE_INT[t.element_size()])


def assert_same_bits(a: torch.Tensor, b: torch.Tensor) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape and a.stride() == b.stride()
    assert torch.equal(bits(a), bits(b))


def run(layer, x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Output and input gradient under ``seed``, with a fixed non-uniform upstream gradient."""
    x = x.detach().clone().requires_grad_(True)
    torch.manual_seed(seed)
    out = layer(x)
    upstream = torch.linspace(-2, 2, out.numel(), dtype=out.dtype).reshape(out.shape)
    out.backward(upstream)
    return out.detach(), x.grad


@pytest.mark.parametrize(("ours", "theirs", "_f", "_g", "shapes"), LAYERS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("p", RATES)
def test_module_matches_torch_bit_for_bit(ours, theirs, _f, _g, shapes, dtype, p):
    for seed, shape in enumerate(shapes):
        x = torch.randn(shape, dtype=dtype)
        out, grad = run(ours(p), x, seed)
        expected_out, expected_grad = run(theirs(p), x, seed)
        assert_same_bits(out, expected_out)
        assert_same_bits(grad, expected_grad)


@pytest.mark.parametrize(("_m", "_n", "ours", "theirs", "shapes"), LAYERS, ids=IDS)
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_functional_matches_torch_with_nan_and_inf(_m, _n, ours, theirs, shapes, p):
    x = torch.randn(shapes[0])
    x.view(-1)[:3] = torch.tensor([float("nan"), float("inf"), -0.0])
    out, grad = run(lambda t: ours(t, p, training=True), x, 7)
    expected_out, expected_grad = run(lambda t: theirs(t, p, True), x, 7)
    assert_same_bits(out, expected_out)
    assert_same_bits(grad, expected_grad)
    if p == 1.0:  # zeroed by multiplication, so NaN stays NaN as in torch
        assert out.view(-1)[0].isnan()


@pytest.mark.parametrize("memory_format", [torch.channels_last, torch.channels_last_3d])
def test_channels_last_is_kept_and_exact(memory_format):
    ours, theirs, shape = (
        (Dropout2d, torch.nn.Dropout2d, (4, 6, 5, 3))
        if memory_format == torch.channels_last
        else (Dropout3d, torch.nn.Dropout3d, (2, 3, 4, 5, 2))
    )
    x = torch.randn(shape).to(memory_format=memory_format)
    out, grad = run(ours(0.4), x, 3)
    expected_out, expected_grad = run(theirs(0.4), x, 3)
    assert out.is_contiguous(memory_format=memory_format)
    assert_same_bits(out, expected_out)
    assert_same_bits(grad, expected_grad)


@pytest.mark.parametrize(("ours", "theirs", "_f", "_g", "shapes"), LAYERS, ids=IDS)
def test_inplace_matches_torch_and_returns_the_input(ours, theirs, _f, _g, shapes):
    x = torch.randn(shapes[0])
    mine, reference = x.clone(), x.clone()
    torch.manual_seed(11)
    out = ours(0.5, inplace=True)(mine)
    torch.manual_seed(11)
    theirs(0.5, inplace=True)(reference)
    assert out is mine
    assert_same_bits(mine, reference)


def test_unbatched_equals_torch_on_a_batch_of_one():
    image = torch.randn(6, 5, 5)
    torch.manual_seed(5)
    out = Dropout2d(0.5, unbatched=True)(image)
    torch.manual_seed(5)
    expected = F.dropout2d(image.unsqueeze(0), 0.5, True).squeeze(0)
    assert_same_bits(out, expected)
    # The documented unbatched inputs of torch's Dropout1d/3d match directly.
    for ours, theirs, shape in (
        (dropout1d, F.dropout1d, (6, 9)),
        (dropout3d, F.dropout3d, (3, 4, 4, 4)),
    ):
        x = torch.randn(shape)
        got, grad = run(
            lambda t, f=ours: f(t, 0.5, training=True, unbatched=True), x, 9
        )
        want, want_grad = run(lambda t, f=theirs: f(t, 0.5, True), x, 9)
        assert_same_bits(got, want)
        assert_same_bits(grad, want_grad)


def test_unbatched_inplace_writes_through_and_returns_the_input():
    x = torch.randn(6, 5, 5)
    reference = x.clone()
    torch.manual_seed(2)
    out = dropout2d(x, 0.5, training=True, inplace=True, unbatched=True)
    torch.manual_seed(2)
    expected = F.dropout2d(reference.unsqueeze(0), 0.5, True).squeeze(0)
    assert out is x and x.shape == (6, 5, 5)
    assert_same_bits(x, expected)


@pytest.mark.parametrize(("ours", "_n", "functional", "_g", "shapes"), LAYERS, ids=IDS)
def test_identity_cases_return_the_input_object(ours, _n, functional, _g, shapes):
    x = torch.randn(shapes[0])
    assert ours(0.5).eval()(x) is x
    assert ours(0.0)(x) is x
    assert functional(x, 0.5, training=False) is x
    empty = torch.randn((0,) + shapes[0][1:])
    assert ours(0.5)(empty) is empty
    unbatched_empty = torch.randn((0,) + shapes[0][2:])
    assert (
        functional(unbatched_empty, 0.5, training=True, unbatched=True)
        is unbatched_empty
    )


def test_eval_mode_draws_no_random_numbers():
    torch.manual_seed(0)
    Dropout2d(0.5).eval()(torch.randn(2, 3, 4, 4))
    after_eval = torch.rand(1)
    torch.manual_seed(0)
    torch.randn(2, 3, 4, 4)
    assert torch.equal(after_eval, torch.rand(1))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan")])
def test_probability_outside_unit_interval_is_a_value_error(p):
    with pytest.raises(ValueError, match="between 0 and 1"):
        dropout2d(torch.randn(2, 3, 4, 4), p, training=True)


def test_constructor_rejects_bad_probability_like_torch():
    with pytest.raises(ValueError, match="between 0 and 1"):
        Dropout2d(1.5)


def test_training_must_be_spelled_out():
    x = torch.randn(2, 3, 4, 4)
    with pytest.raises(TypeError):
        dropout2d(x, 0.5)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        dropout2d(x, 0.5, True)  # type: ignore[misc]


def test_layers_are_torch_layers_to_the_outside():
    layer = Dropout2d(0.25, inplace=True)
    assert isinstance(layer, torch.nn.Dropout2d)
    assert repr(layer) == repr(torch.nn.Dropout2d(0.25, inplace=True))
    assert (
        repr(Dropout2d(0.25, unbatched=True))
        == "Dropout2d(p=0.25, inplace=False, unbatched=True)"
    )
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), Dropout2d(0.1))
    reference = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 1), torch.nn.Dropout2d(0.1))
    assert model.state_dict().keys() == reference.state_dict().keys()
    reference.load_state_dict(model.state_dict())


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(LAYERS),
    sizes=st.lists(st.integers(0, 5), min_size=5, max_size=5),
    p=st.floats(0.0, 1.0),
    dtype=st.sampled_from(DTYPES),
    seed=st.integers(0, 2**31 - 1),
)
def test_any_valid_input_matches_torch(case, sizes, p, dtype, seed):
    ours, theirs, _, _, shapes = case
    shape = tuple(sizes[: len(shapes[0])])
    x = torch.randn(shape, dtype=dtype)
    out, grad = run(ours(p), x, seed)
    expected_out, expected_grad = run(theirs(p), x, seed)
    assert_same_bits(out, expected_out)
    assert_same_bits(grad, expected_grad)
