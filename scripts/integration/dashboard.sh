#!/usr/bin/env bash
# The dashboard in a real browser: a gateway (its own data dir, admin key and budgets) in front
# of the fake provider, known traffic, then headless Chromium driven by Selenium signs in and
# checks the page's figures against `tollgate report` (dashboard_browser_test.py). Screenshots
# go to .build/dashboard/. Needs chromium and chromium-driver (scripts/test.sh installs them)
# and a debug build; TOLLGATE_BIN_DIR as for run.sh.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
bin="${TOLLGATE_BIN_DIR:-$(swift build --show-bin-path)}"
for binary in tollgate fake-provider; do
  [ -x "$bin/$binary" ] || { echo "no $bin/$binary: build it first (swift build --product $binary)"; exit 1; }
done
venv="$root/.build/sdk-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20,<5'

work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Budgets: research's is small enough for the seeded traffic to pass it.
cp -R budgets "$work/budgets"
cat > "$work/budgets/limits.yaml" <<'YAML'
time_zone: UTC
soft_limit_pct: 80
teams:
  research: { daily_budget_usd: 0.50 }
  growth: { daily_budget_usd: 20 }
global: { daily_budget_usd: 100 }
YAML
awk -v work="$work" -v root="$root" '
  /^routes_dir:/ { print "routes_dir: " root "/routes"; next }
  /^budgets_dir:/ { print "budgets_dir: " work "/budgets"; next }
  /^prompts_dir:/ { print "prompts_dir: " root "/prompts"; next }
  /^time_zone:/ { next }
  { print }' tollgate.yaml > "$work/tollgate.yaml"
echo "time_zone: UTC" >> "$work/tollgate.yaml"
config="$work/tollgate.yaml"

provider_key="sk-dashboard-$(date +%s)"
FAKE_PROVIDER_KEY="$provider_key" "$bin/fake-provider" > "$work/provider.out" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^port=' "$work/provider.out" 2>/dev/null && break; sleep 0.1; done
provider_port="$(sed -n 's/^port=//p' "$work/provider.out")"
[ -n "$provider_port" ] || { echo "fake provider did not start"; cat "$work/provider.out"; exit 1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
admin_key="admin-$(date +%s)-dashboard"
export OPENAI_BASE_URL="http://127.0.0.1:$provider_port/v1" OPENAI_API_KEY="$provider_key" TOLLGATE_DATA_DIR="$work/data"
export ANTHROPIC_BASE_URL="http://127.0.0.1:$provider_port" ANTHROPIC_API_KEY="$provider_key" TOLLGATE_ADMIN_KEY="$admin_key"
"$bin/tollgate" serve --config "$config" --port "$port" > "$work/gateway.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$port/health/live" >/dev/null 2>&1 || { echo "the gateway did not start"; cat "$work/gateway.log"; exit 1; }

mkdir -p "$root/.build/dashboard"
status=0
"$venv/bin/python" scripts/integration/dashboard_browser_test.py \
  --url "http://127.0.0.1:$port" --admin-key "$admin_key" --tollgate "$bin/tollgate" --config "$config" \
  --ledger "$work/data/ledger.sqlite" --screenshots "$root/.build/dashboard" || status=1
if [ "$status" -ne 0 ]; then echo "--- gateway log"; tail -n 50 "$work/gateway.log"; fi
exit "$status"
