#!/usr/bin/env bash
# Soak test with faults (bench/soak/soak.py): two replicas on one Redis in front of the fake
# provider, mixed traffic while a replica is killed, Redis restarted empty and a broken routes
# file loaded; then the ledger, budget, crash and memory/fd checks. Needs a debug build
# (swift build) and redis-server. Usage: bench/soak/run.sh [seconds]   (default 180)
# The test suite runs a 40-second variant (scripts/integration/soak.sh).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="${TOLLGATE_BIN_DIR:-$(swift build --show-bin-path)}"
mkdir -p bench/out
exec python3 bench/soak/soak.py --root "$root" --bin "$bin" --duration "${1:-180}" --json bench/out/soak.json
