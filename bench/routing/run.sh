#!/usr/bin/env bash
# Builds routing-bench in release mode and runs it pinned to one core.
# Usage: bench/routing/run.sh [iterations]   (from the package that declares routing-bench)
set -euo pipefail
swift build -c release --product routing-bench
taskset -c 1 "$(swift build -c release --show-bin-path)/routing-bench" "${1:-1000000}"
