#!/usr/bin/env bash
# Create .venv and install seq2seq with its test/app extras.
#   bash scripts/setup.sh
# PyTorch: an already-installed torch is kept.  Otherwise TORCH_SPEC is installed first
# (default torch==2.13.0, the CPU wheel this project is developed with).  Elsewhere, set
# TORCH_SPEC to what suits your machine, e.g. TORCH_SPEC=torch, or install torch yourself first.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
. .venv/bin/activate
python -c "import torch" 2>/dev/null || pip install -q "${TORCH_SPEC:-torch==2.13.0}"
pip install -q -e ".[dev]"
