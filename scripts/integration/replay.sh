#!/usr/bin/env bash
# `tollgate routes replay` end to end: a gateway on the shipped routes records each request's
# features in its ledger; replaying them through the same rules moves nothing, and through a
# copy whose `complex` tier is out of reach moves the hard prompt from gpt-5 to gpt-5-mini at
# a lower cost. The ledger must not hold the prompts' text. TOLLGATE_BIN_DIR as for run.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
integration_start

awk -v root="$root" '
  /^routes_dir:/ { print "routes_dir: " root "/routes"; next }
  /^budgets_dir:/ { print "budgets_dir: " root "/budgets"; next }
  /^prompts_dir:/ { print "prompts_dir: " root "/prompts"; next }
  { print }' tollgate.yaml > "$work/tollgate.yaml"
config="$work/tollgate.yaml"
start_fake_provider "sk-replay-$(date +%s)"
export TOLLGATE_DATA_DIR="$work/data"
secret="$("$bin/tollgate" keys create --config "$config" --name replay | tail -n 1)"
start_gateway "$config"

ask() {
  curl -fsS "http://127.0.0.1:$port/v1/chat/completions" -H "Authorization: Bearer $secret" \
    -H 'Content-Type: application/json' -d "$1" > /dev/null
}
ask '{"model":"auto","messages":[{"role":"user","content":"What is the capital of France?"}]}'
ask '{"model":"auto","messages":[{"role":"user","content":"Debug this zq-private-marker step by step and find the root cause:\n```\nselect * from t\n```\n```\nmore\n```"}]}'
ask '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello"}]}'
# Rows are written in batches: wait for all three (a far deadline, not a timing assumption).
for _ in $(seq 1 600); do
  count="$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from ledger_entry").fetchone()[0])' "$work/data/ledger.sqlite" 2>/dev/null || echo 0)"
  [ "$count" -ge 3 ] && break
  sleep 0.1
done
[ "$count" -ge 3 ] || { echo "FAIL the ledger has $count rows, expected 3"; exit 1; }

status=0
check() {  # check NAME PYTHON-EXPRESSION JSON-FILE
  if python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$3"; then
    echo "ok $1"
  else
    echo "FAIL $1"; cat "$3"; status=1
  fi
}
if python3 -c 'import sqlite3,sys; sys.exit(0 if any("zq-private-marker" in (f or "") for (f,) in sqlite3.connect(sys.argv[1]).execute("select features from ledger_entry")) else 1)' "$work/data/ledger.sqlite"; then
  echo "FAIL the features column holds prompt text"; status=1
fi

"$bin/tollgate" routes replay --config "$config" --since 1d --format json > "$work/same.json"
check "the same rules move nothing" 'r["replayed"] == 3 and r["unrecorded"] == 0 and r["moved"] == 0 and r["cost_before_nanos"] == r["cost_after_nanos"] > 0' "$work/same.json"

cp -R routes "$work/candidate"
sed -i 's/^    complex: 3 .*/    complex: 1000/' "$work/candidate/00-default.yaml"
grep -q '^    complex: 1000$' "$work/candidate/00-default.yaml" || { echo "could not edit the candidate rules"; exit 1; }
"$bin/tollgate" routes replay --config "$config" --rules "$work/candidate" --since 1d --format json > "$work/candidate.json"
check "the hard prompt moves to a cheaper model" 'r["moved"] == 1 and r["undetermined_requests"] == 0 and r["cost_after_nanos"] < r["cost_before_nanos"] and [(p["from_route"], p["from_model"], p["to_route"], p["to_model"]) for p in r["pairs"] if p["from_model"] != p["to_model"]] == [("auto-complex", "gpt-5", "auto-standard", "gpt-5-mini")]' "$work/candidate.json"
"$bin/tollgate" routes replay --config "$config" --rules "$work/candidate" --since 1d | tee "$work/candidate.txt"
grep -q '^Would move: 1 of 3' "$work/candidate.txt" || { echo "FAIL the table's summary"; status=1; }

if [ "$status" -ne 0 ]; then echo "--- gateway log"; tail -n 50 "$work/gateway.log"; fi
exit "$status"
