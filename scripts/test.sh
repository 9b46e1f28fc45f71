#!/usr/bin/env bash
# Runs every test: the Swift test suite (unit and live-server tests against the fake
# provider), then the official OpenAI and Anthropic Python SDKs against a live gateway, the
# dashboard in headless Chromium (screenshots in .build/dashboard/), routes replay end to end,
# an installed binary and `tollgate demo`, the Deploy/ files (schemas, systemd-analyze, their
# command lines run for real) and a 40-second soak test with faults.
# Installs missing system packages (redis-server, postgresql, chromium included), starts PostgreSQL, and fetches the embedding model
# and the tokenizer rank files if missing, so it works on a fresh machine by itself.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# The tests of shared limits start their own redis-server, the dashboard's runs in headless
# Chromium driven by chromedriver, and the alert rules are checked by promtool (Debian's
# prometheus package), the systemd unit by systemd-analyze, the compose load balancer config by
# haproxy and the unit's system-call filter against strace: all must be installed.
source scripts/lib/apt-packages.sh
ensure_packages "${TOLLGATE_BUILD_PACKAGES[@]}" redis-server chromium chromium-driver prometheus systemd haproxy strace postgresql
# The PostgreSQL ledger's tests make throwaway databases on Debian's cluster.
source scripts/lib/postgres.sh
start_test_postgres
scripts/setup-model.sh
scripts/setup-tokenizer.sh
swift build --build-tests
swift test --skip-build 2>&1 | tee .build/swift-test.log
scripts/integration/run.sh
scripts/integration/dashboard.sh
scripts/integration/replay.sh
scripts/integration/installed.sh
scripts/integration/deploy.sh
scripts/integration/soak.sh
