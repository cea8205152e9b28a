"""dropout-lint: find and fix dropout that silently does the wrong thing in PyTorch code.

Importing this package never imports torch or flake8.
"""

__version__ = "0.1.0"
