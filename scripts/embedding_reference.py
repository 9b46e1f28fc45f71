#!/usr/bin/env python3
"""Golden vectors for Tollgate's in-process embedder (Tests/TollgateEmbeddingTests/Fixtures).

An independent reference for the Swift implementation: token ids come from the
Hugging Face `tokenizers` package reading the model's own tokenizer.json, and the
forward pass is a plain numpy BERT in float64 over the same model.safetensors
(mean or CLS pooling per 1_Pooling/config.json, then L2 normalisation).

Writes, into the fixtures folder:
  golden-minilm.json   ~50 tricky sentences: text, token ids, embedding (6 decimals)
  tiny.safetensors     a few small tensors (F32, F16, I64) for the reader's tests,
                       written by the `safetensors` package when it is installed
  tiny-bert-cls/       a random 2-layer BERT (hidden 32) in the other supported layout:
                       F16 weights named `bert.*`, vocab.txt without tokenizer.json, CLS
                       pooling, max_seq_length 16; with its golden.json (ids and vectors)

Usage:
  scripts/setup-model.sh
  python3 -m venv /tmp/ref && /tmp/ref/bin/pip install -r scripts/embedding_reference.requirements.txt
  /tmp/ref/bin/python scripts/embedding_reference.py [--model models/all-MiniLM-L6-v2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

REPO = Path(__file__).resolve().parent.parent

# MARK: - Sentences

LONG_WORDS = (
    "The gateway forwards every request to the cheapest provider that satisfies the "
    "routing rules, records the spend in the ledger, and answers repeated questions from "
    "the semantic cache when the embedding of the new prompt is close enough to one it "
    "has already seen. "
)


def sentences() -> list[str]:
    return [
        "Hello, world!",
        "The quick brown fox jumps over the lazy dog.",
        "",
        "   \t  ",
        "What is the capital of France?",
        "How do I reset my password?",
        "Summarize the following article in three bullet points.",
        "Tollgate routes LLM requests to OpenAI, Anthropic, and Azure.",
        "Café résumé naïve façade coöperate",
        "ÀÉÎÕÜ ÇÑ Åse Øre",
        "Vietnamese: Tiếng Việt có dấu",
        "İstanbul, Straße, ẞ and ǅ",
        "Ελληνικά: Σίσυφος ΣΑΣ",
        "Привет, как дела?",
        "مرحبا بالعالم",
        "שלום עולם",
        "नमस्ते दुनिया",
        "Thai: ภาษาไทย",
        "한국어 문장입니다",
        "東京は日本の首都です。",
        "我爱自然语言处理",
        "Mixed 中文 and English 単語 together",
        "ｶﾀｶﾅ half-width katakana and ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ",
        "CJK extension: a\U0002B820b a\U0002B920b a\u3007b a\u9FEFb",
        "I ❤️ NY 🗽🍕🥰 🫨",
        "👨‍👩‍👧‍👦 family, 👍🏽 thumbs, flags 🇫🇷🇯🇵",
        "Tabs\tand\nnewlines\r\nmixed\u2028line\u3000ideographic space",
        "Control\u0001chars\u0000and\ufffdreplacement\u0085nel",
        "Zero\u200bwidth\u200djoiner and soft\u00adhyphen, \ue000private use, \u0378unassigned",
        "non\u00a0breaking space",
        "Combining: x\u0301 \u0301 e\u0301\u0302",
        "unbelievably antidisestablishmentarianism",
        "supercalifragilisticexpialidocious",
        "a" * 100 + " " + "b" * 101,
        "e-mail: john.doe@example.com, https://example.com/path?q=1&x=2",
        "$100 + 20% = ¥3,000 (approx.) #hashtag @user ^caret ~tilde `tick` |pipe|",
        "\u201cSmart quotes\u201d and \u2018single\u2019 \u2014 dashes \u2013 and \u2026 ellipsis",
        "It's 3:45pm; don't panic!!!",
        "Numbers: 3.14159 2,718 1e-10 0x1F -42",
        "func foo(x: Int) -> Int { return x * 2 }",
        '{"key": [1, 2, 3], "nested": {"a": null}}',
        "math: ∑ x² ≤ ∞ ± √2 ≠ π, €5 ©x",
        "ﬁ ligature ﬂ",
        "The [CLS] and [SEP] tokens [MASK] here [UNK], x[PAD]y and [cls]",
        "repeated!!!??? ...,,,;;;",
        "U.S.A. vs. U.K. \u2014 i.e., e.g.",
        "A",
        " ".join(["token"] * 120),
        (LONG_WORDS * 3).strip(),
        (LONG_WORDS * 12).strip(),
        "Ünïcödé over 256 tokens: " + "naïve café " * 150,
    ]


# MARK: - safetensors (numpy only)

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "F64": np.float64, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = raw[base + start : base + end]
        dtype = info["dtype"]
        if dtype == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[dtype]).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"])
    return out


# MARK: - BERT in numpy (float64)


class Bert:
    def __init__(self, model_dir: Path):
        cfg = json.loads((model_dir / "config.json").read_text())
        pool = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
        self.heads = cfg["num_attention_heads"]
        self.layers = cfg["num_hidden_layers"]
        self.eps = cfg.get("layer_norm_eps", 1e-12)
        self.cls_pooling = bool(pool.get("pooling_mode_cls_token"))
        tensors = read_safetensors(model_dir / "model.safetensors")
        self.w = {k.removeprefix("bert."): v.astype(np.float64) for k, v in tensors.items()}

    def _ln(self, x, prefix):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + self.eps) * self.w[prefix + ".weight"] + self.w[prefix + ".bias"]

    def _lin(self, x, prefix):
        return x @ self.w[prefix + ".weight"].T + self.w[prefix + ".bias"]

    def embed(self, ids: list[int]) -> np.ndarray:
        w = self.w
        n = len(ids)
        x = w["embeddings.word_embeddings.weight"][ids]
        x = x + w["embeddings.position_embeddings.weight"][:n]
        x = x + w["embeddings.token_type_embeddings.weight"][0]
        x = self._ln(x, "embeddings.LayerNorm")
        erf = np.vectorize(math.erf)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            h = x.shape[1]
            dh = h // self.heads
            q = self._lin(x, p + "attention.self.query").reshape(n, self.heads, dh).transpose(1, 0, 2)
            k = self._lin(x, p + "attention.self.key").reshape(n, self.heads, dh).transpose(1, 0, 2)
            v = self._lin(x, p + "attention.self.value").reshape(n, self.heads, dh).transpose(1, 0, 2)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(1, 0, 2).reshape(n, h)
            x = self._ln(self._lin(ctx, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inter = self._lin(x, p + "intermediate.dense")
            inter = 0.5 * inter * (1.0 + erf(inter / math.sqrt(2.0)))
            x = self._ln(self._lin(inter, p + "output.dense") + x, p + "output.LayerNorm")
        pooled = x[0] if self.cls_pooling else x.mean(0)
        return pooled / np.linalg.norm(pooled)


# MARK: - Fixtures


def max_tokens(model_dir: Path) -> int:
    cfg = json.loads((model_dir / "config.json").read_text())
    limit = cfg["max_position_embeddings"]
    st = model_dir / "sentence_bert_config.json"
    if st.exists():
        limit = min(limit, json.loads(st.read_text()).get("max_seq_length", limit))
    return limit


def write_golden(model_dir: Path, out: Path) -> None:
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    limit = max_tokens(model_dir)
    tok.no_padding()
    tok.enable_truncation(limit)
    bert = Bert(model_dir)
    cases = []
    for text in sentences():
        ids = tok.encode(text).ids
        vec = bert.embed(ids)
        cases.append({"text": text, "ids": ids, "embedding": [round(float(v), 6) for v in vec]})
        print(f"{len(ids):4d} tokens  {text[:60]!r}", file=sys.stderr)
    doc = {
        "model": model_dir.name,
        "maxTokens": limit,
        "generator": "scripts/embedding_reference.py (tokenizers + numpy float64)",
        "cases": cases,
    }
    path = out / "golden-minilm.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({path.stat().st_size} bytes, {len(cases)} cases)", file=sys.stderr)


def write_tiny_safetensors(out: Path) -> None:
    try:
        from safetensors.numpy import save_file
    except ImportError:
        print("safetensors not installed: tiny.safetensors left as is", file=sys.stderr)
        return
    f32 = (np.arange(6, dtype=np.float32) * 0.5 - 1.0).reshape(2, 3)
    f16 = np.array([1.0, -2.5, 0.0001, 65504.0, -0.0, 0.333], dtype=np.float16).reshape(3, 2)
    i64 = np.arange(4, dtype=np.int64).reshape(1, 4)
    tensors = {"layer.weight": f32, "half": f16, "position_ids": i64}
    save_file(tensors, str(out / "tiny.safetensors"), metadata={"format": "pt"})
    (out / "tiny.safetensors").chmod(0o644)
    print(f"wrote {out / 'tiny.safetensors'}", file=sys.stderr)


TINY_WORDS = [
    "the", "cat", "sat", "on", "mat", "hello", "world", "embed", "##ding", "##s", "cafe", "un", "##believ", "##able",
]


def write_tiny_model(out: Path) -> None:
    """A tiny random BERT exercising F16 weights, a `bert.` prefix, vocab.txt and CLS pooling."""
    try:
        from safetensors.numpy import save_file
        from tokenizers import BertWordPieceTokenizer
    except ImportError:
        print("safetensors not installed: tiny-bert-cls left as is", file=sys.stderr)
        return
    d = out / "tiny-bert-cls"
    (d / "1_Pooling").mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'")
    vocab += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"] + TINY_WORDS
    (d / "vocab.txt").write_text("\n".join(vocab) + "\n")
    (d / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, "tokenize_chinese_chars": True}))
    (d / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 16, "do_lower_case": False}))
    (d / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False}))
    h, inter, layers = 32, 64, 2
    cfg = {"model_type": "bert", "hidden_size": h, "num_hidden_layers": layers, "num_attention_heads": 4, "intermediate_size": inter,
           "max_position_embeddings": 64, "type_vocab_size": 2, "vocab_size": len(vocab), "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
    (d / "config.json").write_text(json.dumps(cfg, indent=2))
    rng = np.random.default_rng(6)
    t = {}
    def mat(*shape, scale=0.3):
        return (rng.standard_normal(shape) * scale).astype(np.float16)
    t["bert.embeddings.word_embeddings.weight"] = mat(len(vocab), h, scale=1.0)
    t["bert.embeddings.position_embeddings.weight"] = mat(64, h, scale=0.5)
    t["bert.embeddings.token_type_embeddings.weight"] = mat(2, h, scale=0.5)
    t["bert.embeddings.LayerNorm.weight"] = (1 + mat(h, scale=0.1)).astype(np.float16)
    t["bert.embeddings.LayerNorm.bias"] = mat(h, scale=0.1)
    for i in range(layers):
        p = f"bert.encoder.layer.{i}."
        for name in ("query", "key", "value"):
            t[p + f"attention.self.{name}.weight"] = mat(h, h)
            t[p + f"attention.self.{name}.bias"] = mat(h, scale=0.1)
        t[p + "attention.output.dense.weight"] = mat(h, h)
        t[p + "attention.output.dense.bias"] = mat(h, scale=0.1)
        t[p + "intermediate.dense.weight"] = mat(inter, h)
        t[p + "intermediate.dense.bias"] = mat(inter, scale=0.1)
        t[p + "output.dense.weight"] = mat(h, inter)
        t[p + "output.dense.bias"] = mat(h, scale=0.1)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            t[p + ln + ".weight"] = (1 + mat(h, scale=0.1)).astype(np.float16)
            t[p + ln + ".bias"] = mat(h, scale=0.1)
    save_file(t, str(d / "model.safetensors"), metadata={"format": "pt"})

    tok = BertWordPieceTokenizer(str(d / "vocab.txt"), lowercase=True)
    tok.enable_truncation(16)
    bert = Bert(d)
    cases = []
    for text in ["The cat sat on the mat.", "Hello, World! Embeddings", "Unbelievable café", "", "xyz? 42",
                 "the cat sat on the mat and the cat sat on the mat again and again"]:
        ids = tok.encode(text).ids
        cases.append({"text": text, "ids": ids, "embedding": [round(float(v), 6) for v in bert.embed(ids)]})
    (d / "golden.json").write_text(json.dumps({"model": d.name, "maxTokens": 16, "cases": cases}, ensure_ascii=False) + "\n")
    for f in d.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    print(f"wrote {d}", file=sys.stderr)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "all-MiniLM-L6-v2")
    ap.add_argument("--out", type=Path, default=REPO / "Tests" / "TollgateEmbeddingTests" / "Fixtures")
    args = ap.parse_args()
    if not (args.model / "model.safetensors").exists():
        print(f"error: no model at {args.model}; run scripts/setup-model.sh first", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    write_golden(args.model, args.out)
    write_tiny_safetensors(args.out)
    write_tiny_model(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
