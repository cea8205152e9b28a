#!/usr/bin/env bash
# The runtime's checks that need a GPU: the CUDA tests, then the runtime bench on cuda.
#
# Run on a machine with CUDA and torch, from a checkout holding wheels in .whl/: this
# project's (`pip wheel --no-deps -w .whl .`) and libcst's for that machine's Python. They
# are installed into a scratch directory, so the machine's own torch is the one tested.
set -uo pipefail
repo=$(pwd)
site=$(mktemp -d)
python3 -m pip install -q --no-index --no-deps --no-compile --target "$site" "$repo"/.whl/*.whl || exit 1
export PYTHONPATH="$site"
cd "$(mktemp -d)"  # import dropout_lint from the wheel: in the checkout, runtime/ lives apart
python3 -c "import torch, dropout_lint.runtime; print('torch', torch.__version__, torch.cuda.get_device_name())"
python3 -m pytest -q -p no:cacheprovider -rs "$repo/tests/runtime"
python3 -W ignore "$repo/bench/runtime_bench.py" --device cuda
