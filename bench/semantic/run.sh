#!/usr/bin/env bash
# The semantic cache's measurements (issue 18):
#   study:  the false-hit guard fitted and tested on Quora Question Pairs (../shared/data/qqp/,
#           research use only: read from there, never copied into the repository), both curves
#           (raw cosine and guarded) as JSON in bench/out/semantic-study.json;
#   lookup: search latency at 1k/10k/100k x 384 against streaming the matrix once, single
#           and batched 32, and the guard's cost, as JSON in bench/out/semantic-lookup.json.
#
# Usage: bench/semantic/run.sh [study|lookup|all]      (default all)
#   QQP=path/to/similiar_qqp_full.json.gz   SAMPLES=8   FIT=4   CORE=1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
what="${1:-all}"
QQP="${QQP:-../shared/data/qqp/similiar_qqp_full.json.gz}"
SAMPLES="${SAMPLES:-8}"
FIT="${FIT:-4}"
CORE="${CORE:-1}"
OUT=bench/out
mkdir -p "$OUT"

scripts/setup-model.sh
swift build -c release --product semantic-bench >&2
bin="$(swift build -c release --show-bin-path)/semantic-bench"

if [[ "$what" == study || "$what" == all ]]; then
    data="$(mktemp)"
    trap 'rm -f "$data"' EXIT
    gzip -dc "$QQP" > "$data"
    "$bin" study --data "$data" --samples "$SAMPLES" --fit "$FIT" > "$OUT/semantic-study.json"
    echo "wrote $OUT/semantic-study.json" >&2
fi
if [[ "$what" == lookup || "$what" == all ]]; then
    taskset -c "$CORE" "$bin" lookup > "$OUT/semantic-lookup.json"
    echo "wrote $OUT/semantic-lookup.json" >&2
fi
