"""Channel dropout (``Dropout1d/2d/3d``): the ranks each layer is made for, and what torch
does with every other rank.

One table, read by both halves of the project: DRP010 (which ranks are wrong, its
messages, its fix) and the runtime's checked layers and audit. It imports neither torch
nor libcst, so the linter and the runtime can both import it. The readings are those of
torch 2.x's ``F.dropout{1,2,3}d``; ``tests/runtime/test_checks.py`` replays torch's own
draws to prove them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Optional


@dataclass(frozen=True)
class TorchReading:
    """What torch's functional does with input of one rank.

    ``channel_dim`` is 1 when torch reads dim 0 as the batch and dim 1 as the channels, 0
    when it reads the input as one unbatched sample (adding a batch dim of its own), None
    when it raises. ``warns``: a once-per-process deprecation warning (never under
    ``torch.compile``), at a line inside torch.
    """

    channel_dim: Optional[int]
    warns: bool = False

    @property
    def raises(self) -> bool:
        return self.channel_dim is None

    def mask(self, shape: tuple[int, ...]) -> Optional[tuple[int, ...]]:
        """The shape of the Bernoulli mask torch draws for ``shape``; None when it raises.

        ``feature_dropout`` keeps the first two dims of what it gets and broadcasts over
        the rest; an unbatched reading first adds a batch dim, then drops it again.
        """
        if self.channel_dim is None:
            return None
        padded = (1, *shape) if self.channel_dim == 0 else shape
        if len(padded) < 2:
            return None
        mask = padded[:2] + (1,) * (len(padded) - 2)
        return mask[1:] if self.channel_dim == 0 else mask


BATCH = TorchReading(channel_dim=1)
SAMPLE = TorchReading(channel_dim=0)
RAISES = TorchReading(channel_dim=None)


@dataclass(frozen=True)
class ChannelDropout:
    """One channel dropout: a channel dim and ``spatial`` trailing dims, with or without a
    batch dim in front, and torch's reading of every rank (``readings``, else ``other``)."""

    layer: str
    spatial: tuple[str, ...]
    readings: Mapping[int, TorchReading] = field(repr=False)
    other: TorchReading = field(repr=False)

    @property
    def function(self) -> str:
        return self.layer.lower()

    @property
    def batched_rank(self) -> int:
        return len(self.spatial) + 2

    @property
    def unbatched_rank(self) -> int:
        return len(self.spatial) + 1

    def layout(self, unbatched: bool) -> str:
        dims = ("C", *self.spatial) if unbatched else ("N", "C", *self.spatial)
        return "(" + ", ".join(dims) + ")"

    def reading(self, rank: int) -> TorchReading:
        """What torch does with input of ``rank`` dims."""
        return self.readings.get(rank, self.other)

    def torch_takes(self, rank: int) -> bool:
        """Whether torch reads ``rank`` as the layer is documented to: a batch of the
        batched rank, or one sample of the unbatched rank, without a warning."""
        reading = self.reading(rank)
        return not reading.warns and (
            (rank == self.batched_rank and reading == BATCH)
            or (rank == self.unbatched_rank and reading == SAMPLE)
        )

    def expected(self) -> str:
        """The ranks torch takes, in words: ``2-D (C, L) or 3-D (N, C, L)``."""
        layouts = {
            self.unbatched_rank: self.layout(True),
            self.batched_rank: self.layout(False),
        }
        return " or ".join(
            f"{rank}-D {layout}" for rank, layout in layouts.items() if self.torch_takes(rank)
        )


CHANNEL_DROPOUT: dict[str, ChannelDropout] = {
    spec.layer: spec
    for spec in (
        # dropout1d raises unless it gets 2-D (one sample) or 3-D (a batch).
        ChannelDropout("Dropout1d", ("L",), {2: SAMPLE, 3: BATCH}, RAISES),
        # dropout2d reads every rank from 2 up as a batch, and warns unless it is 4-D:
        # 3-D is (N, C, L), not one (C, H, W) image (pytorch/pytorch#77081); 2-D is
        # (N, C), so single features are dropped.
        ChannelDropout(
            "Dropout2d",
            ("H", "W"),
            {0: RAISES, 1: RAISES, 4: BATCH},
            TorchReading(channel_dim=1, warns=True),
        ),
        # dropout3d reads all but 5-D as one unbatched sample, and warns unless it is 4-D.
        ChannelDropout(
            "Dropout3d",
            ("D", "H", "W"),
            {0: RAISES, 4: SAMPLE, 5: BATCH},
            TorchReading(channel_dim=0, warns=True),
        ),
    )
}

# The channel dropout made for a batch of each rank.
_LAYER_FOR_BATCHED_RANK = {spec.batched_rank: spec.layer for spec in CHANNEL_DROPOUT.values()}


def channel_dropout_for(rank: int) -> Optional[str]:
    """The channel dropout made for a batch of ``rank`` dims, if any."""
    return _LAYER_FOR_BATCHED_RANK.get(rank)


def dropout_for(rank: int) -> str:
    """The dropout layer for a batch of ``rank`` dims: channel dropout, else ``Dropout``."""
    return _LAYER_FOR_BATCHED_RANK.get(rank, "Dropout")


def renamed_attribute(attribute: str, layer: str, replacement: str) -> str:
    """``attribute`` with the old layer's rank (``2d`` in ``dropout2d``) changed to the new
    one's, or dropped for ``Dropout``; the same name when it does not mention the rank.
    DRP010's fix renames the attribute that holds the layer so; its syntax gate names the
    statements every spelling may appear in."""
    old_rank = layer[-2:].lower()  # "2d" of "Dropout2d"
    new_rank = replacement[-2:].lower() if replacement[-1] == "d" else ""
    pattern = re.compile(rf"(?<![0-9])_?{old_rank}(?![a-z0-9])", re.IGNORECASE)
    match = pattern.search(attribute)
    if match is None:
        return attribute
    underscore = "_" if match.group().startswith("_") and new_rank else ""
    return attribute[: match.start()] + underscore + new_rank + attribute[match.end() :]
