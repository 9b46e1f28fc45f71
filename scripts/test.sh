#!/usr/bin/env bash
# Runs every test: the Swift test suite (unit and live-server tests against the fake
# provider), then the official OpenAI and Anthropic Python SDKs against a live gateway.
# Needs the system libraries from scripts/setup.sh; fetches the embedding model and the
# tokenizer rank files if missing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/setup-model.sh
scripts/setup-tokenizer.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
scripts/integration/run.sh
