#!/usr/bin/env bash
# Install dropout-lint from this checkout and lint the bundled MNIST example.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --quiet .
dropout-lint examples/
