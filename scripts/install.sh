#!/usr/bin/env bash
# Installs everything Lượt needs on a fresh Debian machine: system packages, then a virtualenv.
# Usage: scripts/install.sh [--test]   (--test adds what the test suite needs: Chromium, Redis, sox, and
# PostgreSQL: the hub's tests start a throwaway cluster of Debian's postgresql, version 15 on Debian 12)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(espeak-ng libespeak-ng1)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium redis-server sox postgresql)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if (( ${#missing[@]} )); then
  sudo_cmd=""
  [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
  echo "Installing system packages: ${missing[*]}"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
