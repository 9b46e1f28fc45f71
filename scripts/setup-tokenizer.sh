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

PACKAGE="litellm"
VERSION="1.90.0"
WHEEL="litellm-${VERSION}-py3-none-any.whl"
WHEEL_SHA256="3a0fec8405606e34f501544fb9cfe4261fe073bef340d3ca9a60d3fb31c639ee"
WHEEL_DIR="litellm/litellm_core_utils/tokenizers/"

# Each rank file: its name in DEST_DIR, its name in the wheel (sha1 of its URL), its sha256.
RANK_FILES="\
o200k_base.tiktoken fb374d419588a4632f3f557e76b4b70aebbca790 446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d
cl100k_base.tiktoken 9b5ad71b2ce5302211f9c61530b329a4922fc6a4 223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7
"

die() { echo "setup-tokenizer: error: $*" >&2; exit 1; }
log() { echo "setup-tokenizer: $*" >&2; }

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FORCE=0
DEST=""
for arg in "$@"; do
    case "$arg" in
        --force) FORCE=1 ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option '$arg' (see --help)" ;;
        *) [[ -z "$DEST" ]] || die "only one DEST_DIR may be given"; DEST="$arg" ;;
    esac
done
DEST="${DEST:-$REPO_ROOT/models/tokenizers}"
PYTHON="${PYTHON:-python3}"

command -v "$PYTHON" >/dev/null || die "python3 not found (set PYTHON=...); install it with: apt-get install -y python3 python3-pip"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

checksums() { # the sha256sum --check lines for the files as named in DEST_DIR
    while read -r name _ sum; do
        if [[ -n "$name" ]]; then printf '%s  %s\n' "$sum" "$name"; fi
    done <<<"$RANK_FILES"
}

verify_dir() { # $1: directory; quiet; status 0 when every pinned file matches
    [[ -d "$1" ]] || return 1
    (cd "$1" && checksums | sha256sum --check --status --strict 2>/dev/null)
}

if [[ $FORCE -eq 0 ]] && verify_dir "$DEST"; then
    log "rank files already present and verified at $DEST"
    exit 0
fi

"$PYTHON" -m pip --version >/dev/null 2>&1 || die "pip is not available for $PYTHON; install it with: apt-get install -y python3-pip"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/tollgate-tokenizer.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

log "downloading $PACKAGE==$VERSION from PyPI (only its vendored rank files are kept)"
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

# Extract the two files under their encoding names into a staging folder beside DEST, so
# that a failed run never leaves a half-written directory behind.
mkdir -p "$(dirname "$DEST")"
STAGE="$(mktemp -d "$(dirname "$DEST")/.staging.XXXXXX")"
trap 'rm -rf "$WORK" "$STAGE"' EXIT
"$PYTHON" - "$WORK/dl/$WHEEL" "$WHEEL_DIR" "$STAGE" "$RANK_FILES" <<'PY' || die "could not unpack the wheel"
import os, shutil, sys, zipfile
wheel, prefix, out, table = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for line in table.splitlines():
        if not line.strip():
            continue
        name, cached, _ = line.split()
        with z.open(prefix + cached) as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY

if ! (cd "$STAGE" && checksums | sha256sum --check --quiet --strict); then
    die "checksum mismatch in the unpacked rank files (see above); nothing was installed"
fi

rm -rf "$DEST"
mv "$STAGE" "$DEST"
chmod 755 "$DEST"
log "rank files installed and verified at $DEST"
