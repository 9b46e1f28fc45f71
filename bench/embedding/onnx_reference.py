#!/usr/bin/env python3
"""Reference side of the embedding benchmark: all-MiniLM-L6-v2 on onnxruntime (CPU, 1 thread).

PyPI, the only package index reachable here, has no CPU-only PyTorch (its Linux torch is the
CUDA build, about 4 GB with its nvidia-* dependencies), so the reference is onnxruntime, the
usual CPU runtime for sentence-transformers models. The ONNX graph is built here from the same
model.safetensors from standard operators (Gather, LayerNormalization, MatMul, Softmax, Erf
GELU), which onnxruntime fuses itself at ORT_ENABLE_ALL (BiasGelu, FusedMatMul, prepacked MatMul
weights); `--graph fused` instead builds the form of onnxruntime's BERT optimiser (contrib
operators EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu), which measured
no faster here on one thread. Mean or CLS pooling and L2 normalisation are in the graph. Tokenisation uses the `tokenizers` package with the
model's tokenizer.json, truncation 256, padding to the longest input of a batch, as
sentence-transformers does. Timings include tokenisation, as the Swift side's do.

  python onnx_reference.py --model models/all-MiniLM-L6-v2 --sentences bench/embedding/sentences.txt \
      [--golden Tests/TollgateEmbeddingTests/Fixtures/golden-minilm.json] [--out bench/out/minilm.onnx]

Prints one JSON object (same keys as embedding-bench).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import struct
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = {"F32": "<f4", "F16": "<f2", "I64": "<i8"}[info["dtype"]]
        out[name.removeprefix("bert.")] = np.frombuffer(raw[8 + n + start : 8 + n + end], dtype=dtype).reshape(info["shape"])
    return out


def build_graph(model_dir: Path) -> onnx.ModelProto:
    cfg = json.loads((model_dir / "config.json").read_text())
    pool = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    w = {k: v.astype(np.float32) for k, v in read_safetensors(model_dir / "model.safetensors").items() if k != "embeddings.position_ids"}
    hsz, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    dh = hsz // heads
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(op, inputs, outputs=None, **attrs):
        outputs = outputs or [f"{op.lower()}_{len(nodes)}"]
        nodes.append(helper.make_node(op, inputs, outputs, **attrs))
        return outputs[0]

    def linear(x, prefix):
        wt = const(prefix + ".weight_t", w[prefix + ".weight"].T.copy())
        return node("Add", [node("MatMul", [x, wt]), const(prefix + ".bias", w[prefix + ".bias"])])

    def layer_norm(x, prefix):
        return node("LayerNormalization", [x, const(prefix + ".weight", w[prefix + ".weight"]), const(prefix + ".bias", w[prefix + ".bias"])], axis=-1, epsilon=eps)

    ids, mask = "input_ids", "attention_mask"
    shape = node("Shape", [ids])
    seq = node("Gather", [shape, const("one", np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const("zero", np.array(0, dtype=np.int64)), seq, const("step", np.array(1, dtype=np.int64))])
    x = node("Add", [node("Gather", [const("word", w["embeddings.word_embeddings.weight"]), ids]),
                     node("Gather", [const("pos", w["embeddings.position_embeddings.weight"]), positions])])
    x = node("Add", [x, const("type0", w["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")

    mask_f = node("Cast", [mask], to=TensorProto.FLOAT)
    bias = node("Mul", [node("Sub", [const("onef", np.array(1, dtype=np.float32)), mask_f]), const("neg", np.array(-10000.0, dtype=np.float32))])
    bias = node("Unsqueeze", [bias, const("axes12", np.array([1, 2], dtype=np.int64))])
    split_shape = const("split_shape", np.array([0, 0, heads, dh], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, hsz], dtype=np.int64))
    scale = const("scale", np.array(1 / np.sqrt(dh), dtype=np.float32))

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.query"), split_shape])], perm=[0, 2, 1, 3])
        k = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.key"), split_shape])], perm=[0, 2, 3, 1])
        v = node("Transpose", [node("Reshape", [linear(x, p + "attention.self.value"), split_shape])], perm=[0, 2, 1, 3])
        scores = node("Add", [node("Div", [node("MatMul", [q, k]), const(f"sqrt{i}", np.array(np.sqrt(dh), dtype=np.float32))]), bias])
        ctx = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(node("Add", [linear(ctx, p + "attention.output.dense"), x]), p + "attention.output.LayerNorm")
        h = linear(x, p + "intermediate.dense")
        gelu = node("Mul", [node("Mul", [h, const(f"half{i}", np.array(0.5, dtype=np.float32))]),
                            node("Add", [node("Erf", [node("Div", [h, const(f"sqrt2_{i}", np.array(np.sqrt(2.0), dtype=np.float32))])]), const(f"one{i}", np.array(1.0, dtype=np.float32))])])
        x = layer_norm(node("Add", [linear(gelu, p + "output.dense"), x]), p + "output.LayerNorm")

    if pool.get("pooling_mode_cls_token"):
        pooled = node("Gather", [x, const("zero_idx", np.array(0, dtype=np.int64))], axis=1)
    else:
        m = node("Unsqueeze", [mask_f, const("axis2", np.array([2], dtype=np.int64))])
        total = node("ReduceSum", [node("Mul", [x, m]), const("axis1", np.array([1], dtype=np.int64))], keepdims=0)
        count = node("Clip", [node("ReduceSum", [m, const("axis1b", np.array([1], dtype=np.int64))], keepdims=0), const("tiny", np.array(1e-9, dtype=np.float32))])
        pooled = node("Div", [total, count])
    norm = node("Clip", [node("ReduceL2", [pooled], axes=[-1], keepdims=1), const("tiny2", np.array(1e-12, dtype=np.float32))])
    node("Div", [pooled, norm], ["sentence_embedding"])

    graph = helper.make_graph(
        nodes, "minilm",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["batch", "seq"]), helper.make_tensor_value_info(mask, TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hsz])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_fused_graph(model_dir: Path) -> onnx.ModelProto:
    """The graph onnxruntime's BERT optimiser would produce: its contrib operators
    EmbedLayerNormalization, Attention (fused QKV, raw padding mask), SkipLayerNormalization and
    BiasGelu, with the projections as MatMul on prepacked weights."""
    cfg = json.loads((model_dir / "config.json").read_text())
    pool = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    w = {k: v.astype(np.float32) for k, v in read_safetensors(model_dir / "model.safetensors").items() if k != "embeddings.position_ids"}
    hsz, heads, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    inits, nodes = [], []

    def const(name, array):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op, inputs, outputs=None, domain="", **attrs):
        outputs = outputs or [f"{op.lower()}_{len(nodes)}"]
        nodes.append(helper.make_node(op, inputs, outputs, domain=domain, **attrs))
        return outputs[0]

    ms = "com.microsoft"
    ids32 = node("Cast", ["input_ids"], to=TensorProto.INT32)
    mask32 = node("Cast", ["attention_mask"], to=TensorProto.INT32)
    segments = node("Mul", [ids32, const("zero_i32", np.array(0, dtype=np.int32))])
    x = node("EmbedLayerNormalization", [ids32, segments, const("word", w["embeddings.word_embeddings.weight"]),
             const("pos", w["embeddings.position_embeddings.weight"]), const("seg", w["embeddings.token_type_embeddings.weight"]),
             const("emb_ln_g", w["embeddings.LayerNorm.weight"]), const("emb_ln_b", w["embeddings.LayerNorm.bias"])],
             ["embedded", "mask_index_unused"], domain=ms, epsilon=eps)
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")], axis=1)
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        attn = node("Attention", [x, const(f"qkv_w{i}", qkv_w), const(f"qkv_b{i}", qkv_b), mask32], domain=ms, num_heads=heads)
        out = node("MatMul", [attn, const(f"o_w{i}", w[p + "attention.output.dense.weight"].T)])
        x = node("SkipLayerNormalization", [out, x, const(f"ln1_g{i}", w[p + "attention.output.LayerNorm.weight"]),
                 const(f"ln1_b{i}", w[p + "attention.output.LayerNorm.bias"]), const(f"o_b{i}", w[p + "attention.output.dense.bias"])],
                 domain=ms, epsilon=eps)
        h = node("BiasGelu", [node("MatMul", [x, const(f"i_w{i}", w[p + "intermediate.dense.weight"].T)]), const(f"i_b{i}", w[p + "intermediate.dense.bias"])], domain=ms)
        out = node("MatMul", [h, const(f"d_w{i}", w[p + "output.dense.weight"].T)])
        x = node("SkipLayerNormalization", [out, x, const(f"ln2_g{i}", w[p + "output.LayerNorm.weight"]),
                 const(f"ln2_b{i}", w[p + "output.LayerNorm.bias"]), const(f"d_b{i}", w[p + "output.dense.bias"])],
                 domain=ms, epsilon=eps)

    mask_f = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    if pool.get("pooling_mode_cls_token"):
        pooled = node("Gather", [x, const("zero_idx", np.array(0, dtype=np.int64))], axis=1)
    else:
        m = node("Unsqueeze", [mask_f, const("axis2", np.array([2], dtype=np.int64))])
        total = node("ReduceSum", [node("Mul", [x, m]), const("axis1", np.array([1], dtype=np.int64))], keepdims=0)
        count = node("Clip", [node("ReduceSum", [m, const("axis1b", np.array([1], dtype=np.int64))], keepdims=0), const("tiny", np.array(1e-9, dtype=np.float32))])
        pooled = node("Div", [total, count])
    norm = node("Clip", [node("ReduceL2", [pooled], axes=[-1], keepdims=1), const("tiny2", np.array(1e-12, dtype=np.float32))])
    node("Div", [pooled, norm], ["sentence_embedding"])
    graph = helper.make_graph(
        nodes, "minilm-fused",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "seq"])],
        [helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hsz])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)])
    model.ir_version = 8
    return model


def rss_mib() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text().splitlines()
    get = lambda key: next(float(l.split()[1]) / 1024 for l in status if l.startswith(key + ":"))
    return get("VmRSS"), get("VmHWM")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, default=Path("models/all-MiniLM-L6-v2"))
    ap.add_argument("--sentences", type=Path, default=Path("bench/embedding/sentences.txt"))
    ap.add_argument("--golden", type=Path)
    ap.add_argument("--out", type=Path, default=Path("bench/out/minilm.onnx"))
    ap.add_argument("--single-iterations", type=int, default=300)
    ap.add_argument("--batch-iterations", type=int, default=20)
    ap.add_argument("--graph", choices=["plain", "fused"], default="plain")
    ap.add_argument("--build-only", action="store_true", help="write the ONNX file and exit (keeps graph building out of the measured process)")
    args = ap.parse_args()

    cfg = json.loads((args.model / "config.json").read_text())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model_path = args.out if args.graph == "plain" else args.out.with_suffix(".fused.onnx")
    if args.build_only or not model_path.exists():
        onnx.save(build_fused_graph(args.model) if args.graph == "fused" else build_graph(args.model), str(model_path))
        if args.build_only:
            return 0

    baseline = rss_mib()
    t0 = time.perf_counter()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    limit = min(cfg["max_position_embeddings"], json.loads((args.model / "sentence_bert_config.json").read_text())["max_seq_length"])
    tokenizer.enable_truncation(limit)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    load_ms = (time.perf_counter() - t0) * 1000
    after_load = rss_mib()

    def embed(texts: list[str]) -> np.ndarray:
        enc = tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in enc], dtype=np.int64)
        mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
        return session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    lines = [l for l in args.sentences.read_text().splitlines() if l]
    short, batch = lines[0], lines[:32]
    lengths = [len(e.ids) for e in (tokenizer.encode(t) for t in batch)]
    long = max((n, -i) for i, n in enumerate(lengths) if n <= 32)
    long = batch[-long[1]]

    result = {}
    if args.golden:
        golden = json.loads(args.golden.read_text())
        texts = [c["text"] for c in golden["cases"]]
        vectors = np.concatenate([embed(texts[i : i + 8]) for i in range(0, len(texts), 8)])
        ref = np.array([c["embedding"] for c in golden["cases"]], dtype=np.float64)
        cos = (vectors * ref).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(ref, axis=1)
        result["golden_min_cosine"] = float(cos.min())

    for _ in range(20):
        embed([short])
    lat, lat_cpu = [], []
    for _ in range(args.single_iterations):
        t, c = time.perf_counter(), time.process_time()
        embed([short])
        lat_cpu.append((time.process_time() - c) * 1000)
        lat.append((time.perf_counter() - t) * 1000)
    lat.sort()
    lat_cpu.sort()
    lat32 = []
    for _ in range(args.single_iterations // 2):
        t = time.perf_counter()
        embed([long])
        lat32.append((time.perf_counter() - t) * 1000)
    lat32.sort()
    for _ in range(2):
        embed(batch)
    times, times_cpu = [], []
    for _ in range(args.batch_iterations):
        t, c = time.perf_counter(), time.process_time()
        embed(batch)
        times_cpu.append(time.process_time() - c)
        times.append(time.perf_counter() - t)
    times.sort()
    times_cpu.sort()
    pct = lambda xs, p: xs[min(len(xs) - 1, round((len(xs) - 1) * p))]
    after_run = rss_mib()
    result.update({
        "implementation": f"onnxruntime {ort.__version__} CPU, 1 thread, {args.graph} graph + tokenizers",
        "model_load_ms": load_ms,
        "short_sentence": short,
        "short_tokens": len(tokenizer.encode(short).ids),
        "single_p50_ms": pct(lat, 0.5),
        "single_p90_ms": pct(lat, 0.9),
        "single_min_ms": lat[0],
        "single_cpu_p50_ms": pct(lat_cpu, 0.5),
        "single32_tokens": len(tokenizer.encode(long).ids),
        "single32_p50_ms": pct(lat32, 0.5),
        "batch_size": len(batch),
        "batch_tokens": sum(sum(e.attention_mask) for e in tokenizer.encode_batch(batch)),
        "batch_p50_ms": pct(times, 0.5) * 1000,
        "batch_sentences_per_s": len(batch) / pct(times, 0.5),
        "batch_cpu_p50_ms": pct(times_cpu, 0.5) * 1000,
        "batch_sentences_per_cpu_s": len(batch) / pct(times_cpu, 0.5),
        "rss_before_load_mib": baseline[0],
        "rss_after_load_mib": after_load[0],
        "rss_after_run_mib": after_run[0],
        "peak_rss_mib": after_run[1],
    })
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
