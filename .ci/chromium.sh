#!/usr/bin/env bash
# Headless Chromium for tests/test_visualize.py (it opens the displaCy page and takes a
# screenshot). Idempotent: returns at once when a chromium binary is already on PATH.
# Debian/Ubuntu only; needs root (or sudo) for apt-get.
set -euo pipefail
for bin in chromium chromium-browser; do
    if command -v "$bin" >/dev/null 2>&1; then
        echo "chromium present: $(command -v "$bin")"
        exit 0
    fi
done
SUDO=""
if [ "$(id -u)" != "0" ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium
