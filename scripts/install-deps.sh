#!/usr/bin/env bash
# Installs the C libraries JamPasir builds against, when missing (Debian 12/13, Ubuntu 24.04).
# Run by `make run`, `make test` and CI; does nothing when everything is present.
set -euo pipefail

packages=(libgpiod-dev libudev-dev libsqlite3-dev pkg-config sqlite3 python3 espeak-ng sox curl)

if ! command -v swift >/dev/null 2>&1; then
    echo "swift is not on PATH: install Swift 6 (https://www.swift.org/install/linux/) and try again" >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root to install: ${missing[*]} (install sudo, or run as root)" >&2; exit 1; }
    sudo="sudo"
fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
