#!/usr/bin/env bash
# The test command (README, .ci/run): build the sdist and wheel, install the wheel
# (not the source tree) into a fresh venv, then ruff, mypy and pytest, slow tests
# included. Set SPACY_BIOBERT_TEST_VENV to reuse a venv elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${SPACY_BIOBERT_TEST_VENV:-.venv-test}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PIP_DISABLE_PIP_VERSION_CHECK=1

python3 -m venv "$VENV"
# shellcheck disable=SC1091
. "$VENV/bin/activate"
# The CPU build of torch first: an unpinned torch would pull a multi-GB CUDA build.
pip install -q torch==2.13.0
pip install -q build
rm -rf dist
python -m build --outdir dist . >/dev/null
wheel=$(ls dist/spacy_biobert-*.whl)
pip uninstall -q -y spacy-biobert >/dev/null 2>&1 || true
pip install -q "${wheel}[dev]"
pip check

echo "== ruff"
ruff check spacy_biobert tests bench setup.py
echo "== mypy"
mypy spacy_biobert
echo "== pytest (against the installed wheel)"
export SPACY_BIOBERT_TEST_INSTALLED=1 SPACY_BIOBERT_SLOW=1
# --import-mode=importlib keeps the source tree off sys.path: tests import the wheel.
python -I -m pytest --import-mode=importlib -p no:cacheprovider -q tests "$@"
