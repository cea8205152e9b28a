"""A progress bar on stderr for long runs, and silence everywhere else.

It appears only when stderr is a terminal, the run has enough files to be worth watching,
and it has already taken longer than a moment; so CI logs, pipes and quick runs never see
it. It draws with a carriage return only (no cursor codes) and erases itself when done, so
the report that follows starts on a clean line.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TextIO

# Below this many files a run is over before a bar could help.
MIN_FILES = 20
# Seconds before the bar appears, and between redraws.
DELAY = 0.5
REDRAW_INTERVAL = 0.1
BAR_WIDTH = 30


class ProgressBar:
    """``[#########.....] 120/480 files``, redrawn at most every ``REDRAW_INTERVAL``.

    ``clock`` and ``stream`` are injected so the on/off logic can be tested without
    a terminal or waiting.
    """

    def __init__(
        self,
        total: int,
        stream: TextIO,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
    ) -> None:
        self.total = total
        self.done = 0
        self._stream = stream
        self._clock = clock
        self._started = clock()
        self._last_draw: Optional[float] = None
        self._width = 0
        self._active = enabled and total >= MIN_FILES and _is_terminal(stream)

    @property
    def visible(self) -> bool:
        """Whether the bar is on screen now."""
        return self._width > 0

    def advance(self, count: int = 1) -> None:
        self.done += count
        if not self._active:
            return
        now = self._clock()
        if now - self._started < DELAY:
            return
        if self._last_draw is not None and now - self._last_draw < REDRAW_INTERVAL and self.done < self.total:
            return
        self._last_draw = now
        self._draw()

    def close(self) -> None:
        """Erase the bar, leaving the cursor at the start of an empty line."""
        if self.visible:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _draw(self) -> None:
        filled = BAR_WIDTH * self.done // max(self.total, 1)
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {self.done}/{self.total} files"
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(text))


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
