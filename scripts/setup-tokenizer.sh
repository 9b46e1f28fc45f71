#!/usr/bin/env bash
# Fetches the BPE rank files of OpenAI's tokenizers (tiktoken's o200k_base and cl100k_base)
# into models/tokenizers/, for Tollgate's local token counter.
#
# tiktoken itself downloads them at run time from a host this environment cannot reach, so
# they come from the pinned PyPI package litellm==1.90.0 (`pip download --no-deps`), which
# vendors them as tiktoken cache files named by the SHA-1 of their URL. The wheel and both
# files are checked against the sha256 sums below (the files' sums are the ones tiktoken
# itself pins). Idempotent: an existing, verified directory is left alone. Needs python3
# with pip and sha256sum (coreutils).
#
# Usage: scripts/setup-tokenizer.sh [--force] [DEST_DIR]
#   DEST_DIR  defaults to <repo>/models/tokenizers
#   --force   download and unpack again even if DEST_DIR verifies
set -euo pipefail

TOOL="setup-tokenizer"
WHAT="rank files"
PACKAGE="litellm"
VERSION="1.90.0"
WHEEL="litellm-${VERSION}-py3-none-any.whl"
WHEEL_SHA256="3a0fec8405606e34f501544fb9cfe4261fe073bef340d3ca9a60d3fb31c639ee"
DEFAULT_DEST="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/models/tokenizers"

# sha256, name in DEST_DIR, path in the wheel (tiktoken's cache name: sha1 of the file's URL).
FILES="\
446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d o200k_base.tiktoken litellm/litellm_core_utils/tokenizers/fb374d419588a4632f3f557e76b4b70aebbca790
223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7 cl100k_base.tiktoken litellm/litellm_core_utils/tokenizers/9b5ad71b2ce5302211f9c61530b329a4922fc6a4
"

source "$(dirname "${BASH_SOURCE[0]}")/lib/pinned-wheel.sh"
pinned_wheel_main "$@"
