#!/usr/bin/env bash
# The prepared GPU check (run on a machine with a GPU, from the repo root):
#   bash bench/gpu_check.sh [STEPS] [PRETRAIN_STEPS]
# Expects converted corpora in corpus/ (spacy project run convert) and, where the
# machine lacks spaCy, a tarball of site-packages at .gpu/site.tgz.
set -euo pipefail
if [ -f .gpu/site.tgz ]; then
  mkdir -p /tmp/site && tar xzf .gpu/site.tgz -C /tmp/site
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total --format=csv || true
python3 bench/gpu_check.py --steps "${1:-300}" --pretrain-steps "${2:-200}" \
  --out "${OUT:-metrics/gpu}"
