#!/usr/bin/env bash
# Runs the official OpenAI and Anthropic Python SDKs against a live gateway in front of the
# fake provider, which plays both an OpenAI-compatible and an Anthropic upstream.
# Expects a debug build (swift build) to exist; creates its own venv, data dir and key.
# TOLLGATE_BIN_DIR: where the tollgate and fake-provider binaries are (default: the bin path of
# `swift build`), e.g. TOLLGATE_BIN_DIR=$(swift build --scratch-path X --show-bin-path).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
integration_start 'openai>=1.50,<3' 'anthropic>=0.40,<1'

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
start_fake_provider "$provider_key"
export TOLLGATE_DATA_DIR="$work/data"
# Exact and semantic cache: the checks replay both kinds of hits through the SDKs' parsers.
export TOLLGATE_CACHE_MODE=semantic
secret="$("$bin/tollgate" keys create --config "$config" --name sdk-integration | tail -n 1)"
start_gateway "$config"

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
