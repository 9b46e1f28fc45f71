#!/usr/bin/env bash
# The dashboard in a real browser: a gateway (its own data dir, admin key and budgets) in front
# of the fake provider, known traffic, then headless Chromium driven by Selenium signs in and
# checks the page's figures against `tollgate report` (dashboard_browser_test.py). Screenshots
# go to .build/dashboard/. Needs chromium and chromium-driver (scripts/test.sh installs them)
# and a debug build; TOLLGATE_BIN_DIR as for run.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
integration_start 'selenium>=4.20,<5'

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

start_fake_provider "sk-dashboard-$(date +%s)"
admin_key="admin-$(date +%s)-dashboard"
export TOLLGATE_DATA_DIR="$work/data" TOLLGATE_ADMIN_KEY="$admin_key"
start_gateway "$config"

mkdir -p "$root/.build/dashboard"
status=0
"$venv/bin/python" scripts/integration/dashboard_browser_test.py \
  --url "http://127.0.0.1:$port" --admin-key "$admin_key" --tollgate "$bin/tollgate" --config "$config" \
  --ledger "$work/data/ledger.sqlite" --screenshots "$root/.build/dashboard" || status=1
if [ "$status" -ne 0 ]; then echo "--- gateway log"; tail -n 50 "$work/gateway.log"; fi
exit "$status"
