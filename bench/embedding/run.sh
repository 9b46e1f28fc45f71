#!/usr/bin/env bash
# Side-by-side benchmark of the in-process embedder (Swift, OpenBLAS) and onnxruntime on the
# same model and machine, both pinned to one core. The two sides alternate for ROUNDS rounds
# (so that both see the same background load) and the table reports the median of the rounds.
# Writes bench/out/embedding-{swift,onnx}-N.json and prints a Markdown table for bench/RESULTS.md.
#
# Usage: bench/embedding/run.sh            (from anywhere; works in the repository root)
#   ROUNDS=3               alternating rounds
#   CORE=1                 core both sides are pinned to (taskset -c)
#   BENCH_BIN=path         a prebuilt embedding-bench (default: swift build -c release)
#   VENV=bench/out/venv    virtualenv for the reference (created from requirements.txt)
#   OPENBLAS_CORETYPE=...  passed to the Swift side (see bench/RESULTS.md: OpenBLAS 0.3.21 does
#                          not know recent Xeons and otherwise falls back to generic kernels)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROUNDS="${ROUNDS:-3}"
CORE="${CORE:-1}"
VENV="${VENV:-bench/out/venv}"
MODEL="models/all-MiniLM-L6-v2"
SENTENCES="bench/embedding/sentences.txt"
OUT="bench/out"
mkdir -p "$OUT"

scripts/setup-model.sh "$MODEL"

if [[ -z "${BENCH_BIN:-}" ]]; then
    swift build -c release --product embedding-bench >&2
    BENCH_BIN="$(swift build -c release --show-bin-path)/embedding-bench"
fi
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet -r bench/embedding/requirements.txt
fi
"$VENV/bin/python" bench/embedding/onnx_reference.py --model "$MODEL" --out "$OUT/minilm.onnx" --build-only

for round in $(seq "$ROUNDS"); do
    echo "round $round/$ROUNDS: swift (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}) on core $CORE" >&2
    taskset -c "$CORE" "$BENCH_BIN" --model "$MODEL" --sentences "$SENTENCES" > "$OUT/embedding-swift-$round.json"
    echo "round $round/$ROUNDS: onnxruntime on core $CORE" >&2
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are for OpenBLAS builds; the reference runs without them.
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c "$CORE" "$VENV/bin/python" bench/embedding/onnx_reference.py \
        --model "$MODEL" --sentences "$SENTENCES" --out "$OUT/minilm.onnx" \
        --golden Tests/TollgateEmbeddingTests/Fixtures/golden-minilm.json > "$OUT/embedding-onnx-$round.json"
done

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
runs = {side: [json.load(open(f"{out}/embedding-{side}-{r}.json")) for r in range(1, rounds + 1)] for side in ("swift", "onnx")}
for side in runs.values():
    for run in side:
        run["load_delta_mib"] = run["rss_after_load_mib"] - run["rss_before_load_mib"]
med = lambda side, key: statistics.median(run[key] for run in runs[side])
ours, ref = runs["swift"][0], runs["onnx"][0]
print(f"Short sentence: {ours['short_tokens']} tokens; batch: {ours['batch_size']} sentences, {ours['batch_tokens']} tokens. "
      f"Medians of {rounds} alternating rounds. Swift side: OpenBLAS core {ours['openblas_core']}; "
      f"reference: {ref['implementation']} (its min cosine to the golden vectors: {ref.get('golden_min_cosine', float('nan')):.8f}).\n")
print("| metric | tollgate (Swift + OpenBLAS) | onnxruntime | ours / reference |")
print("|---|---|---|---|")
def row(name, key, fmt, lower_is_better):
    a, b = med("swift", key), med("onnx", key)
    ratio = a / b
    better = (ratio < 1) == lower_is_better
    print(f"| {name} | {a:{fmt}} | {b:{fmt}} | {ratio:.2f}x ({'ours better' if better else 'reference better'}) |")
row("single sentence, p50 latency (ms)", "single_p50_ms", ".2f", True)
row("single sentence, p50 CPU time (ms)", "single_cpu_p50_ms", ".2f", True)
row(f"single sentence of {ours['single32_tokens']} tokens, p50 latency (ms)", "single32_p50_ms", ".2f", True)
row("batch of 32, p50 latency (ms)", "batch_p50_ms", ".1f", True)
row("batch of 32, throughput (sentences/s on one core)", "batch_sentences_per_s", ".0f", False)
row("batch of 32, throughput per CPU second", "batch_sentences_per_cpu_s", ".0f", False)
row("resident memory after load (MiB)", "rss_after_load_mib", ".0f", True)
row("resident memory added by loading (MiB)", "load_delta_mib", ".0f", True)
row("peak resident memory (MiB)", "peak_rss_mib", ".0f", True)
PY
