#!/usr/bin/env bash
# Side-by-side benchmark of the in-process embedder (Swift, OpenBLAS) and onnxruntime on the
# same model, both pinned to one core. Writes bench/out/embedding-{swift,onnx}.json and prints
# a Markdown table for bench/RESULTS.md.
#
# Usage: bench/embedding/run.sh            (from the repository root)
#   CORE=1                 core to pin both sides to (taskset -c)
#   BENCH_BIN=path         a prebuilt embedding-bench (default: swift build -c release)
#   VENV=bench/out/venv    virtualenv for the reference (created with requirements.txt)
#   OPENBLAS_CORETYPE=...  passed through to the Swift side (see bench/RESULTS.md)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
CORE="${CORE:-1}"
VENV="${VENV:-bench/out/venv}"
MODEL="models/all-MiniLM-L6-v2"
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

echo "swift: $BENCH_BIN on core $CORE (OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset})" >&2
taskset -c "$CORE" "$BENCH_BIN" --model "$MODEL" --sentences bench/embedding/sentences.txt > "$OUT/embedding-swift.json"

echo "onnxruntime on core $CORE" >&2
"$VENV/bin/python" bench/embedding/onnx_reference.py --model "$MODEL" --out "$OUT/minilm.onnx" --build-only
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE only matter to numpy's OpenBLAS; unset for the reference alone.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE taskset -c "$CORE" "$VENV/bin/python" bench/embedding/onnx_reference.py \
    --model "$MODEL" --sentences bench/embedding/sentences.txt \
    --golden Tests/TollgateEmbeddingTests/Fixtures/golden-minilm.json --out "$OUT/minilm.onnx" > "$OUT/embedding-onnx.json"

python3 - "$OUT/embedding-swift.json" "$OUT/embedding-onnx.json" <<'PY'
import json, sys
ours, ref = (json.load(open(p)) for p in sys.argv[1:3])
def row(name, key, fmt, better):
    a, b = ours[key], ref[key]
    ratio = a / b
    print(f"| {name} | {a:{fmt}} | {b:{fmt}} | {ratio:.2f}x ({'ours better' if (ratio < 1) == (better == 'low') else 'reference better'}) |")
print(f"Short sentence: {ours['short_tokens']} tokens; batch: {ours['batch_size']} sentences, {ours['batch_tokens']} tokens.")
print(f"Swift side: OpenBLAS core {ours['openblas_core']}.\n")
print("| metric | tollgate (Swift + OpenBLAS) | onnxruntime | ours / reference |")
print("|---|---|---|---|")
row("single sentence p50 latency (ms)", "single_p50_ms", ".2f", "low")
row("single sentence p50 CPU time (ms)", "single_cpu_p50_ms", ".2f", "low")
row("batch of 32 p50 (ms)", "batch_p50_ms", ".1f", "low")
row("batch of 32 throughput (sentences/s, one core)", "batch_sentences_per_s", ".0f", "high")
row("resident memory after load (MiB)", "rss_after_load_mib", ".0f", "low")
ours["load_delta"] = ours["rss_after_load_mib"] - ours["rss_before_load_mib"]
ref["load_delta"] = ref["rss_after_load_mib"] - ref["rss_before_load_mib"]
row("resident memory added by loading the model (MiB)", "load_delta", ".0f", "low")
row("peak resident memory (MiB)", "peak_rss_mib", ".0f", "low")
PY
