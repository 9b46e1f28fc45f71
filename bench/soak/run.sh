#!/usr/bin/env bash
# Soak test with faults (bench/soak/soak.py): two replicas on one Redis and one PostgreSQL
# ledger in front of the fake provider, mixed traffic while a replica is killed, Redis restarted
# empty, PostgreSQL paused and a broken routes file loaded; then the ledger, budget, crash and
# memory/fd checks. Needs a debug build (swift build), redis-server and a local PostgreSQL
# superuser URL in TOLLGATE_TEST_POSTGRES_URL (scripts/test.sh starts one).
# Usage: bench/soak/run.sh [seconds]   (default 180)
# The test suite runs a 40-second variant (scripts/integration/soak.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="${TOLLGATE_BIN_DIR:-$(swift build --show-bin-path)}"
mkdir -p bench/out
exec python3 bench/soak/soak.py --root "$root" --bin "$bin" --duration "${1:-180}" --json bench/out/soak.json
