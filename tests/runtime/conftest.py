"""The runtime tests need torch; without it (a linter-only install) they are skipped."""

import pytest

pytest.importorskip("torch")
