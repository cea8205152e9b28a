"""Runtime half of dropout-lint: checked channel dropout layers, a live audit and a patcher.

Importing this imports torch (the ``runtime`` extra); ``import dropout_lint`` alone never does.
"""

try:
    import torch  # noqa: F401 - only to say what is missing, before the imports below
except ModuleNotFoundError as error:  # pragma: no cover - tested in a subprocess without torch
    if error.name != "torch":
        raise
    raise ImportError(
        "dropout_lint.runtime needs PyTorch, which is not installed: "
        'pip install "dropout-lint[runtime]" (or install torch yourself)'
    ) from error

from .audit import AuditReport, DropoutAuditError, Finding, audit, audit_forward
from .checks import DropoutShapeError
from .functional import dropout1d, dropout2d, dropout3d
from .modules import Dropout1d, Dropout2d, Dropout3d
from .patch import patch, patched, unpatch

__all__ = [
    "AuditReport",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "DropoutAuditError",
    "DropoutShapeError",
    "Finding",
    "audit",
    "audit_forward",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "patch",
    "patched",
    "unpatch",
]
