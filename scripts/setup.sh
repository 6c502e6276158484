#!/usr/bin/env bash
# Create .venv and install seq2seq (the seq2seq-zhen distribution) with its app and dev (test) extras.
#   bash scripts/setup.sh
# PyTorch: an already-installed torch is kept.  Otherwise TORCH_SPEC (default torch==2.13.0, the version this
# project is developed with) is installed first from PyTorch's CPU wheel index, TORCH_INDEX (default
# https://download.pytorch.org/whl/cpu; about 0.2 GB, against several GB for the CUDA build that plain PyPI
# gives on Linux).  Elsewhere, set TORCH_SPEC and TORCH_INDEX to suit your machine (TORCH_INDEX= for plain
# PyPI, e.g. TORCH_SPEC=torch TORCH_INDEX= for a GPU), or install torch yourself first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
TORCH_INDEX="${TORCH_INDEX-https://download.pytorch.org/whl/cpu}"
python -c "import torch" 2>/dev/null \
  || pip install -q --retries 1 "${TORCH_SPEC:-torch==2.13.0}" ${TORCH_INDEX:+--index-url "$TORCH_INDEX"}
pip install -q -e ".[app,dev]"
