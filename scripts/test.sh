#!/usr/bin/env bash
# Installs everything (browser and Redis included), then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --test
exec .venv/bin/python -m pytest "$@"
