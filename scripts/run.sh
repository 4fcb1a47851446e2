#!/usr/bin/env bash
# Installs everything, then runs Lượt with the embedded SQLite database and the demo centre on :5000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/python server.py "$@"
