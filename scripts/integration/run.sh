#!/usr/bin/env bash
# Runs the official OpenAI and Anthropic Python SDKs against a live gateway in front of the
# fake provider, which plays both an OpenAI-compatible and an Anthropic upstream.
# Expects a debug build (swift build) to exist; creates its own venv, data dir and key.
# TOLLGATE_BIN_DIR: where the tollgate and fake-provider binaries are (default: the bin path of
# `swift build`), e.g. TOLLGATE_BIN_DIR=$(swift build --scratch-path X --show-bin-path).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="${TOLLGATE_BIN_DIR:-$(swift build --show-bin-path)}"
for binary in tollgate fake-provider; do
  [ -x "$bin/$binary" ] || { echo "no $bin/$binary: build it first (swift build --product $binary)"; exit 1; }
done
venv="$root/.build/sdk-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check 'openai>=1.50,<3' 'anthropic>=0.40,<1'

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The gateway runs on copies, so the repo's files stay as they are: routes/ plus the SDK checks'
# routes (90-sdk-checks.yaml), budgets/ with a price for the fake provider's reserved sdk-*
# models, and a tollgate.yaml that maps those models and points at both. Relative paths in
# tollgate.yaml resolve against the working directory (here the repo root), hence absolute ones.
cp -R routes "$work/routes"
cp scripts/integration/90-sdk-checks.yaml "$work/routes/"
cp -R budgets "$work/budgets"
awk '{ print } /^models:/ { print "  \"sdk-*\": { input: 1.00, output: 2.00 }   # the fake provider'"'"'s reserved models (SDK checks)" }' \
  budgets/prices.yaml > "$work/budgets/prices.yaml"
awk -v work="$work" -v root="$root" '
  /^routes_dir:/ { print "routes_dir: " work "/routes"; next }
  /^budgets_dir:/ { print "budgets_dir: " work "/budgets"; next }
  /^prompts_dir:/ { print "prompts_dir: " root "/prompts"; next }
  { print }
  /^models:/ {
    print "  - { pattern: \"sdk-openai-*\", provider: openai }         # the fake provider'"'"'s reserved models (SDK checks)"
    print "  - { pattern: \"sdk-anthropic-*\", provider: anthropic }"
  }' tollgate.yaml > "$work/tollgate.yaml"
for line in "^routes_dir: $work/routes\$" "^budgets_dir: $work/budgets\$" "^prompts_dir: $root/prompts\$" 'pattern: "sdk-openai-\*"'; do
  grep -q "$line" "$work/tollgate.yaml" || { echo "could not derive the SDK checks' config from tollgate.yaml ($line)"; exit 1; }
done
grep -q '"sdk-\*":' "$work/budgets/prices.yaml" || { echo "could not add the sdk-* price to budgets/prices.yaml"; exit 1; }
config="$work/tollgate.yaml"

provider_key="sk-integration-$(date +%s)"
FAKE_PROVIDER_KEY="$provider_key" "$bin/fake-provider" > "$work/provider.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^port=' "$work/provider.out" 2>/dev/null && break; sleep 0.1; done
provider_port="$(sed -n 's/^port=//p' "$work/provider.out")"
[ -n "$provider_port" ] || { echo "fake provider did not start"; cat "$work/provider.out"; exit 1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export OPENAI_BASE_URL="http://127.0.0.1:$provider_port/v1" OPENAI_API_KEY="$provider_key" TOLLGATE_DATA_DIR="$work/data"
export ANTHROPIC_BASE_URL="http://127.0.0.1:$provider_port" ANTHROPIC_API_KEY="$provider_key"
# Exact and semantic cache: the checks replay both kinds of hits through the SDKs' parsers.
export TOLLGATE_CACHE_MODE=semantic
secret="$("$bin/tollgate" keys create --config "$config" --name sdk-integration | tail -n 1)"
"$bin/tollgate" serve --config "$config" --port "$port" > "$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 || { echo "the gateway did not start"; cat "$work/gateway.log"; exit 1; }

status=0
echo "--- OpenAI SDK"
"$venv/bin/python" scripts/integration/openai_sdk_test.py "http://127.0.0.1:$port/v1" "$secret" | tee "$work/openai.out" || status=1
echo "--- Anthropic SDK"
"$venv/bin/python" scripts/integration/anthropic_sdk_test.py "http://127.0.0.1:$port" "$secret" | tee "$work/anthropic.out" || status=1
# One total over both SDKs.
cat "$work/openai.out" "$work/anthropic.out" | awk '/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 } END { print "--- both SDKs: " p " passed, " f " failed" }'

if grep -q "$provider_key" "$work/gateway.log"; then
  echo "FAIL the provider key appeared in the gateway log"; status=1
fi
if [ "$status" -ne 0 ]; then echo "--- gateway log"; tail -n 50 "$work/gateway.log"; fi
exit "$status"
