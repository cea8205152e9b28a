"""``dropout-lint server``: the linter as a Language Server Protocol server, over stdio.

Needs the ``server`` extra (pygls); nothing else in dropout-lint imports this package.
"""

from __future__ import annotations

import sys

INSTALL_HINT = "dropout-lint server needs pygls: pip install 'dropout-lint[server]'"


def main() -> int:
    """Serve one editor until it exits; 2 if pygls is not installed."""
    try:
        from .protocol import serve
    except ImportError as error:
        if error.name is None or not error.name.split(".")[0] in ("pygls", "lsprotocol", "cattrs"):
            raise
        print(f"dropout-lint: error: {INSTALL_HINT}", file=sys.stderr)
        return 2
    return serve()
