# Shared by the integration scripts (source it): binaries, the Python venv, a work dir removed
# on exit with every process started, the fake provider and a gateway.

# integration_start PIP_SPEC...: sets root, bin, venv (with these packages) and work.
# TOLLGATE_BIN_DIR: where the tollgate and fake-provider binaries are (default: the bin path of
# `swift build`), e.g. TOLLGATE_BIN_DIR=$(swift build --scratch-path X --show-bin-path).
integration_start() {
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  cd "$root"
  bin="${TOLLGATE_BIN_DIR:-$(swift build --show-bin-path)}"
  local binary
  for binary in tollgate fake-provider; do
    [ -x "$bin/$binary" ] || { echo "no $bin/$binary: build it first (swift build --product $binary)"; exit 1; }
  done
  venv="$root/.build/sdk-venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  [ "$#" -eq 0 ] || "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
  work="$(mktemp -d)"
  pids=()
  trap integration_cleanup EXIT
}

integration_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# start_fake_provider KEY: runs the fake provider with that API key and points the shipped
# config's provider variables at it (sets provider_port).
start_fake_provider() {
  FAKE_PROVIDER_KEY="$1" "$bin/fake-provider" > "$work/provider.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q '^port=' "$work/provider.out" 2>/dev/null && break; sleep 0.1; done
  provider_port="$(sed -n 's/^port=//p' "$work/provider.out")"
  [ -n "$provider_port" ] || { echo "fake provider did not start"; cat "$work/provider.out"; exit 1; }
  export OPENAI_BASE_URL="http://127.0.0.1:$provider_port/v1" OPENAI_API_KEY="$1"
  export ANTHROPIC_BASE_URL="http://127.0.0.1:$provider_port" ANTHROPIC_API_KEY="$1"
}

# start_gateway CONFIG: runs `tollgate serve` on a free port, logging to $work/gateway.log,
# and waits until it is live (sets port).
start_gateway() {
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  "$bin/tollgate" serve --config "$1" --port "$port" > "$work/gateway.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 || { echo "the gateway did not start"; cat "$work/gateway.log"; exit 1; }
}
