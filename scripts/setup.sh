#!/usr/bin/env bash
# Prepares a fresh Debian machine (with Swift) to build and run Tollgate: system libraries,
# the embedding model, the tokenizer rank files, and a release build. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

packages=(libcurl4-openssl-dev libhiredis-dev libsqlite3-dev libopenblas-dev python3-pip python3-venv curl)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

scripts/setup-model.sh
scripts/setup-tokenizer.sh
swift build -c release --product tollgate
