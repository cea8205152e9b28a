"""The layers drop whole channels at rate p and scale the rest by 1/(1-p)."""

import math

import pytest
import torch
from dropout_lint.runtime import Dropout1d, Dropout2d, Dropout3d

CASES = [
    (Dropout1d, (64, 256, 8)),
    (Dropout2d, (64, 256, 4, 4)),
    (Dropout3d, (32, 128, 2, 2, 2)),
]


def binomial_bound(p: float, n: int, sigmas: float = 5.0) -> float:
    return sigmas * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize(("layer", "shape"), CASES, ids=["1d", "2d", "3d"])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_whole_channels_dropped_at_rate_p_and_rest_scaled(layer, shape, p):
    torch.manual_seed(1234)
    out = layer(p)(torch.ones(shape, dtype=torch.float64))
    channels = out.flatten(2)  # (N, C, everything spatial)
    first = channels[..., :1]
    assert torch.equal(channels, first.expand_as(channels)), (
        "a channel was partly zeroed"
    )
    kept_value = torch.tensor(1.0, dtype=torch.float64) / (1 - p)
    values = set(first.unique().tolist())
    assert values <= {0.0, kept_value.item()}
    n_channels = shape[0] * shape[1]
    dropped = (first == 0).double().mean().item()
    assert abs(dropped - p) <= binomial_bound(p, n_channels)
    # Expectation is kept: the mean of the output is 1 up to the same binomial noise.
    assert abs(out.mean().item() - 1) <= binomial_bound(p, n_channels) / (1 - p)


def test_each_sample_gets_its_own_mask():
    torch.manual_seed(99)
    p = 0.5
    out = Dropout2d(p)(torch.ones(2, 4096, 2, 2))
    differ = (out[0, :, 0, 0] != out[1, :, 0, 0]).double().mean().item()
    expected = 2 * p * (1 - p)
    assert abs(differ - expected) <= 5 * math.sqrt(expected * (1 - expected) / 4096)


def test_gradient_is_the_same_mask():
    torch.manual_seed(3)
    x = torch.randn(16, 32, 3, 3, requires_grad=True)
    out = Dropout2d(0.4)(x)
    out.backward(torch.ones_like(out))
    mask = out.detach() / x.detach()
    assert torch.allclose(x.grad, mask)
