#!/usr/bin/env bash
# Install everything the tests need (torch pinned to the CPU build) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install --quiet --quiet "torch==2.13.0"
python -m pip install --quiet --quiet -e ".[test,runtime]"
python -m pytest -q "$@"
