#!/usr/bin/env bash
# Prepares a fresh Debian machine (with Swift) to build and run Tollgate: system libraries,
# the embedding model, the tokenizer rank files, and a release build. Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

source scripts/lib/apt-packages.sh
ensure_packages "${TOLLGATE_BUILD_PACKAGES[@]}"

scripts/setup-model.sh
scripts/setup-tokenizer.sh
swift build -c release --product tollgate
