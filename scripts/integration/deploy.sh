#!/usr/bin/env bash
# Deploy/ checked without a Docker engine or a cluster (neither exists here):
#  - scripts/integration/deploy_check.py static: the Dockerfile, compose.yaml (Compose
#    Specification schema), its HAProxy and Prometheus files, the Kubernetes manifests
#    (Kubernetes' strict schemas) and the systemd unit parsed and checked against each other and
#    tollgate.yaml: ports, paths, health checks, variables, the ConfigMaps' content;
#  - the tools that exist here: render-configmaps.sh and `kubectl kustomize` (kubectl),
#    `haproxy -c`, `promtool check config`, and `systemd-analyze verify` and `security` on the
#    unit (required: CI installs systemd);
#  - deploy_check.py live: the built binary run as each deployment runs it (the unit's ExecStart,
#    the image's command with the compose settings, the Deployment's container on its ConfigMaps)
#    as a non-root user without privileges, against the fake provider and a local redis-server,
#    behind HAProxy and scraped by Prometheus where those are installed.
# TOLLGATE_BIN_DIR as for run.sh. A missing optional tool prints "skipped: ...".
set -euo pipefail
source "$(dirname "$0")/lib.sh"
integration_start 'pyyaml>=6,<7' 'kubernetes-validate==1.37.0' 'check-jsonschema==0.39.0'
python="$venv/bin/python"
status=0
passed=0
failed=0
checker() { # MODE ARGS...: runs deploy_check.py, adds its ok and FAIL lines to the totals
  local code=0
  "$python" scripts/integration/deploy_check.py "$@" | tee "$work/check-$1.out" || code=$?
  passed=$((passed + $(grep -c '^ok ' "$work/check-$1.out" || true)))
  failed=$((failed + $(grep -c '^FAIL ' "$work/check-$1.out" || true)))
  if [ "$code" -ne 0 ]; then
    status=1
    grep -q '^FAIL ' "$work/check-$1.out" || { echo "FAIL deploy_check.py $1 stopped (exit $code)"; failed=$((failed + 1)); }
  fi
}
result() { # 0|1 MESSAGE
  if [ "$1" -eq 0 ]; then echo "ok $2"; passed=$((passed + 1)); else echo "FAIL $2"; failed=$((failed + 1)); status=1; fi
}
succeeds() { "$@" && echo 0 || echo 1; } # the command's success as 0 or 1, never stopping the script

checker static

echo "# tools"
if command -v kubectl > /dev/null; then
  Deploy/kubernetes/render-configmaps.sh "$work/render" > /dev/null
  # Compared as YAML: kubectl versions format the same objects differently.
  cat > "$work/same-render.py" <<'PY'
import sys, yaml
from pathlib import Path
rendered, committed = Path(sys.argv[1]), Path("Deploy/kubernetes")
for name in ("configmaps.yaml", "deployment.yaml"):
    if list(yaml.safe_load_all((rendered / name).read_text())) != list(yaml.safe_load_all((committed / name).read_text())):
        sys.exit(f"{name} differs from a fresh render")
PY
  result "$(succeeds "$python" "$work/same-render.py" "$work/render")" \
    "render-configmaps.sh reproduces the committed configmaps.yaml and checksum (else run it and commit)"
  if kubectl kustomize Deploy/kubernetes > "$work/kustomized.yaml" 2> "$work/kustomize.err"; then code=0; else code=1; fi
  result "$code" "kubectl kustomize Deploy/kubernetes builds $(grep -c '^kind:' "$work/kustomized.yaml" || true) objects$( [ "$code" -eq 0 ] || cat "$work/kustomize.err")"
else
  echo "skipped: kubectl not installed (render-configmaps.sh, kustomize build)"
fi

if command -v haproxy > /dev/null; then
  # The services' names do not resolve outside compose: only those warnings are expected.
  haproxy -c -f Deploy/compose/haproxy.cfg > "$work/haproxy-check.out" 2>&1 && code=0 || code=$?
  unexpected="$(grep '\[WARNING\]\|\[ALERT\]' "$work/haproxy-check.out" | grep -v 'could not resolve address' || true)"
  result "$(succeeds test "$code" -eq 0 -a -z "$unexpected")" "haproxy -c accepts Deploy/compose/haproxy.cfg${unexpected:+: $unexpected}"
else
  echo "skipped: haproxy not installed (haproxy -c, the load balancer in front of live replicas)"
fi

if command -v promtool > /dev/null; then
  # The rules file at its compose mount point, here from the repository.
  sed "s#/etc/prometheus/rules/alerts.yaml#$root/Deploy/prometheus/alerts.yaml#" Deploy/compose/prometheus.yml > "$work/prometheus.yml"
  if promtool check config "$work/prometheus.yml" > "$work/promtool.out" 2>&1; then code=0; else code=1; fi
  result "$code" "promtool check config accepts Deploy/compose/prometheus.yml and the rules it loads$( [ "$code" -eq 0 ] || cat "$work/promtool.out")"
else
  echo "skipped: promtool not installed (promtool check config)"
fi

if command -v systemd-analyze > /dev/null; then
  # verify wants ExecStart's binary to exist: the built one stands for /usr/local/bin/tollgate.
  mkdir -p "$work/unit"
  sed "s#^ExecStart=/usr/local/bin/tollgate #ExecStart=$bin/tollgate #" Deploy/systemd/tollgate.service > "$work/unit/tollgate.service"
  systemd-analyze verify "$work/unit/tollgate.service" > "$work/verify.out" 2>&1 || true
  # It may also complain about unrelated units of this machine: only the unit's lines count.
  problems="$(grep 'tollgate.service' "$work/verify.out" || true)"
  result "$(succeeds test -z "$problems")" "systemd-analyze verify tollgate.service${problems:+: $problems}"
  exposure="$(systemd-analyze security --offline=yes "$work/unit/tollgate.service" 2>&1 | sed -n 's/.*Overall exposure level for tollgate.service: \([0-9.]*\).*/\1/p')"
  result "$(succeeds awk -v e="${exposure:-99}" 'BEGIN { exit !(e <= 2.0) }')" "systemd-analyze security --offline: exposure ${exposure:-unknown} (at most 2.0)"
else
  result 1 "systemd-analyze is not installed (apt-get install systemd)"
fi

echo "# live"
live_args=(--bin "$bin" --work "$work/live")
if command -v redis-server > /dev/null; then
  redis_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping > /dev/null 2>&1 && break; sleep 0.1; done
  live_args+=(--redis-url "redis://127.0.0.1:$redis_port")
else
  echo "skipped: redis-server not installed (the compose replicas and the Kubernetes container need Redis)"
fi
if [ -n "${TOLLGATE_TEST_POSTGRES_URL:-}" ]; then
  # The replicas' shared ledger and keys: a database of its own on the test cluster.
  ledger_db="tollgate_deploy_$$"
  psql "$TOLLGATE_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $ledger_db" -c "CREATE DATABASE $ledger_db"
  live_args+=(--ledger-url "${TOLLGATE_TEST_POSTGRES_URL%%/postgres\?*}/$ledger_db?sslmode=disable")
else
  echo "skipped: no TOLLGATE_TEST_POSTGRES_URL (the replicas' shared PostgreSQL ledger)"
fi
command -v strace > /dev/null && live_args+=(--strace) || echo "skipped: strace not installed (system calls against SystemCallFilter)"
command -v haproxy > /dev/null && live_args+=(--haproxy)
command -v prometheus > /dev/null && live_args+=(--prometheus) || echo "skipped: prometheus not installed (scraping live replicas)"
start_fake_provider "sk-deploy-check"
# The live runs are other users (the unit's, the image's): they must reach their layouts.
chmod 711 "$work"
mkdir -p "$work/live"
checker live "${live_args[@]}"
[ -z "${ledger_db:-}" ] || psql "$TOLLGATE_TEST_POSTGRES_URL" -q -c "DROP DATABASE IF EXISTS $ledger_db WITH (FORCE)" || true

echo "deploy: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || status=1
exit "$status"
