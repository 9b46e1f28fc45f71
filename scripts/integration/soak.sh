#!/usr/bin/env bash
# The soak test with faults (bench/soak), short: 40 seconds. TOLLGATE_BIN_DIR as for run.sh.
set -euo pipefail
exec "$(dirname "$0")/../../bench/soak/run.sh" 40
