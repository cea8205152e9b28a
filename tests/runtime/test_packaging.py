"""``import dropout_lint`` stays torch-free; ``dropout_lint.runtime`` has the public names."""

import subprocess
import sys

import dropout_lint.runtime

PUBLIC = [
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "DropoutShapeError",
    "audit",
    "DropoutAuditError",
    "patch",
    "unpatch",
    "patched",
    "audit_forward",
    "Finding",
    "AuditReport",
]


def test_public_names():
    for name in PUBLIC:
        assert hasattr(dropout_lint.runtime, name), name
    assert sorted(dropout_lint.runtime.__all__) == sorted(PUBLIC)


def test_importing_the_linter_does_not_import_torch():
    code = (
        "import sys, dropout_lint; assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
