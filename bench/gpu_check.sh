#!/usr/bin/env bash
# Speed check of the GPU (BioBERT) profile, from the repository root on a machine with a GPU:
#   bash bench/gpu_check.sh [STEPS] [PRETRAIN_STEPS]
# Expects the project installed in the active environment and converted corpora in
# corpus/ (spacy project run convert). Results go to $OUT (default metrics/gpu).
set -euo pipefail
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv || true
python3 bench/gpu_check.py --steps "${1:-300}" --pretrain-steps "${2:-200}" \
  --out "${OUT:-metrics/gpu}"
