"""Wrong ranks raise a DropoutShapeError that says who, what, what torch does, and what to use."""

import warnings

import pytest
import torch
import torch.nn.functional as F
from dropout_lint.runtime import (
    Dropout1d,
    Dropout2d,
    Dropout3d,
    DropoutShapeError,
    dropout2d,
    dropout3d,
)
from dropout_lint.runtime.checks import CHANNEL_DROPOUT, torch_reading
from hypothesis import given, settings
from hypothesis import strategies as st

TORCH_FUNCTIONAL = {
    "Dropout1d": F.dropout1d,
    "Dropout2d": F.dropout2d,
    "Dropout3d": F.dropout3d,
}
CHECKED = {"Dropout1d": Dropout1d, "Dropout2d": Dropout2d, "Dropout3d": Dropout3d}


def test_dropout2d_on_an_image_names_rows_and_the_alternatives():
    with pytest.raises(DropoutShapeError) as caught:
        Dropout2d(0.5)(torch.randn(3, 32, 32))
    message = str(caught.value)
    assert "(3, 32, 32)" in message
    assert "mask of shape (3, 32, 1)" in message  # what torch would have done
    assert "unbatched=True" in message and "Dropout1d" in message  # the alternatives
    assert isinstance(caught.value, ValueError)


def test_code_written_for_torchs_errors_still_catches_the_shape_error():
    try:
        Dropout2d(0.5)(torch.randn(3, 32, 32))
    except RuntimeError as error:  # what torch raises for shapes it rejects
        assert isinstance(error, DropoutShapeError)
    else:
        pytest.fail("no error raised")


def test_dropout3d_on_feature_maps_says_whole_samples_are_dropped():
    with pytest.raises(
        DropoutShapeError, match=r"whole samples are zeroed.*use Dropout2d"
    ):
        dropout3d(torch.randn(8, 16, 5, 5), 0.5, training=True)


def test_dropout1d_after_a_linear_layer_suggests_nn_dropout():
    with pytest.raises(
        DropoutShapeError, match=r"\(32, 64\).*pass unbatched=True.*nn\.Dropout"
    ):
        Dropout1d(0.5)(torch.randn(32, 64))


def test_unbatched_flag_with_batched_input_says_to_drop_the_flag():
    with pytest.raises(DropoutShapeError, match="leave out unbatched=True"):
        Dropout2d(0.5, unbatched=True)(torch.randn(2, 3, 4, 4))


def test_the_qualified_name_of_the_layer_is_in_the_message():
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 1), torch.nn.Sequential(torch.nn.ReLU(), Dropout2d(0.5))
    )
    with pytest.raises(DropoutShapeError, match=r"^Dropout2d at '1\.1' got input"):
        model(torch.randn(3, 8, 8))


def test_a_functional_call_names_the_module_calling_it():
    class Head(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return dropout2d(x, 0.2, training=self.training)

    model = torch.nn.Sequential(torch.nn.Identity(), Head())
    with pytest.raises(DropoutShapeError, match=r"^dropout2d\(\) called in '1'"):
        model(torch.randn(4, 4))


def test_checks_run_in_eval_mode_too():
    with pytest.raises(DropoutShapeError):
        Dropout2d(0.5).eval()(torch.randn(3, 4, 4))


@pytest.mark.parametrize("dtype", [torch.int64, torch.bool, torch.complex64])
def test_non_floating_input_is_a_type_error(dtype):
    with pytest.raises(TypeError, match=f"floating-point input, but got {dtype}"):
        Dropout2d(0.5)(torch.zeros(2, 3, 4, 4, dtype=dtype))


def test_checks_never_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dropout2d(0.5)(torch.randn(2, 3, 4, 4))
        with pytest.raises(DropoutShapeError):
            Dropout2d(0.5)(torch.randn(3, 4, 4))


@pytest.mark.parametrize("layer", sorted(CHECKED))
@pytest.mark.parametrize("rank", range(7))
def test_only_the_asked_for_rank_is_accepted(layer, rank):
    spec = CHANNEL_DROPOUT[layer]
    x = torch.randn((2,) * rank)
    for unbatched, accepted in (
        (False, spec.batched_rank),
        (True, spec.unbatched_rank),
    ):
        module = CHECKED[layer](0.5, unbatched=unbatched)
        if rank == accepted:
            assert module(x).shape == x.shape
        else:
            with pytest.raises(
                DropoutShapeError, match=rf"\({rank}-D\) but needs {accepted}-D"
            ):
                module(x)


@settings(max_examples=60, deadline=None)
@given(
    layer=st.sampled_from(sorted(CHECKED)),
    shape=st.lists(st.integers(1, 4), min_size=0, max_size=6).map(tuple),
)
def test_what_the_message_says_torch_does_is_what_torch_does(layer, shape):
    """The mask shape in the message is the one torch really draws for ``shape``.

    Replays torch's draws: the same seed and a Bernoulli tensor of the claimed mask shape
    must reproduce torch's output exactly.
    """
    reading = torch_reading(CHANNEL_DROPOUT[layer], shape)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = TORCH_FUNCTIONAL[layer](torch.ones(shape), 0.5, True)
        except RuntimeError:
            assert reading is None
            return
    assert reading is not None
    mask, _ = reading
    torch.manual_seed(0)
    replayed = torch.empty(mask).bernoulli_(0.5).div_(0.5).expand(shape)
    assert torch.equal(out, replayed)
