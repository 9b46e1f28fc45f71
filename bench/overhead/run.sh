#!/usr/bin/env bash
# Overhead benchmark: direct upstream vs nginx keep-alive proxy vs Tollgate, same run, same layout.
#
#   bench/overhead/run.sh [--no-build] [--only direct,nginx,gateway,hit,health] [--wait-idle]
#
# gateway: the proxy path (X-Tollgate-Cache: off, so the repeated request is never a cache hit);
# hit: the same request answered by the exact cache; health: GET /health/live, the framework's
# empty route. `--only nginx,gateway,hit,health` is the response cache's benchmark (issue 18).
#
# --wait-idle: for shared machines where builds come and go. Before each run, wait (up to
# WAIT_IDLE_MAX s, 1800) until the machine is idle, and redo a run (up to RETRIES times, 5) when
# other processes or hypervisor steal took more than 0.1 core during it.
#
# Environment (all optional):
#   DURATION=10      measured seconds per run          WARMUP=3    warm-up seconds per run
#   ROUNDS=3         interleaved rounds; the table shows the median of the rounds
#   SUT_CPU=0        core for the server under test and the canned upstream
#   WRK_CPU=1        core for wrk
#   PORT_BASE=18480  canned upstream = PORT_BASE, nginx proxy = +1, gateway = +2
#   SCRATCH_PATH=.build              swift build scratch path (binary: $SCRATCH_PATH/release/tollgate)
#   TOLLGATE_BIN=<path>              use this binary as is (no build)
#
# Writes bench/out/overhead-<timestamp>.md (table) and bench/out/overhead-<timestamp>/ (raw wrk output,
# configs, logs). See bench/README.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# shellcheck source=../lib/common.sh
source "$root/bench/lib/common.sh"

# ---------------------------------------------------------------- options
build=1
wait_idle=0
only="direct,nginx,gateway"
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --wait-idle) wait_idle=1 ;;
    --only) only="${2:?--only needs a list, e.g. direct,nginx}"; shift ;;
    --only=*) only="${1#--only=}" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
targets=()
for t in direct nginx gateway hit health; do
  case ",$only," in *",$t,"*) targets+=("$t") ;; esac
done
[ ${#targets[@]} -gt 0 ] || { echo "--only: nothing to run in '$only' (direct, nginx, gateway, hit, health)" >&2; exit 2; }
has_target() { case " ${targets[*]} " in *" $1 "*) return 0 ;; esac; return 1; }
# hit and health are served by the gateway too.
runs_gateway() { has_target gateway || has_target hit || has_target health; }

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
ROUNDS="${ROUNDS:-3}"
SUT_CPU="${SUT_CPU:-0}"
WRK_CPU="${WRK_CPU:-1}"
PORT_BASE="${PORT_BASE:-18480}"
SCRATCH_PATH="${SCRATCH_PATH:-.build}"
if [ -n "${TOLLGATE_BIN:-}" ]; then
  build=0
else
  TOLLGATE_BIN="$SCRATCH_PATH/release/tollgate"
fi
concurrencies=(1 32)

for tool in nginx wrk taskset curl; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx wrk util-linux curl)" >&2; exit 1; }
done
ncpu="$(nproc)"
if [ "$ncpu" -lt 2 ] || [ "$SUT_CPU" = "$WRK_CPU" ]; then
  echo "warning: $ncpu core(s) / SUT_CPU=$SUT_CPU WRK_CPU=$WRK_CPU: wrk shares a core with the server under test" >&2
fi
sut=(taskset -c "$SUT_CPU")
load=(taskset -c "$WRK_CPU")

port_upstream=$PORT_BASE
port_nginx=$((PORT_BASE + 1))
port_gateway=$((PORT_BASE + 2))
for p in $port_upstream $port_nginx $port_gateway; do
  if port_in_use "$p"; then
    echo "port $p is already in use (set PORT_BASE)" >&2; exit 1
  fi
done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
bench_commit_info
out_dir="$root/bench/out"
raw_dir="$out_dir/overhead-$stamp"
report="$out_dir/overhead-$stamp.md"
mkdir -p "$raw_dir"

# ---------------------------------------------------------------- cleanup
bench_setup_work

# ---------------------------------------------------------------- canned upstream + nginx proxy
{
  nginx_common proxy
  echo "http {"
  nginx_http_common proxy
  cat <<EOF
  upstream canned {
    server 127.0.0.1:$port_upstream;
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:$port_nginx reuseport;
    location / {
      proxy_pass http://canned;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
EOF
} > "$work/proxy.conf"

start_upstream
if has_target nginx; then
  start_nginx proxy
  wait_http "http://127.0.0.1:$port_nginx/" "nginx proxy" "${pids[-1]}"
fi

# ---------------------------------------------------------------- gateway
gateway_key="sk-not-used"
if runs_gateway; then
  build_gateway
  # The repo's config with quieter logging; relative dirs (budgets, routes, models) resolve from the repo root.
  sed -E 's/^(  level:)[[:space:]]*[a-z]+/\1 warning/' tollgate.yaml > "$work/tollgate.yaml"
  grep -qE '^  level: warning' "$work/tollgate.yaml" || { echo "could not set logging.level in the config copy" >&2; exit 1; }
  export OPENAI_API_KEY=sk-bench
  export OPENAI_BASE_URL="http://127.0.0.1:$port_upstream/v1"
  export TOLLGATE_DATA_DIR="$work/data"
  unset TOLLGATE_REDIS_URL TOLLGATE_ADMIN_KEY || true
  mkdir -p "$TOLLGATE_DATA_DIR"
  gateway_key="$("$TOLLGATE_BIN" keys create --config "$work/tollgate.yaml" --name bench | tail -n 1)"
  [ -n "$gateway_key" ] || { echo "tollgate keys create printed no secret" >&2; exit 1; }
  "${sut[@]}" "$TOLLGATE_BIN" serve --config "$work/tollgate.yaml" --port "$port_gateway" > "$work/gateway.log" 2>&1 &
  pids+=($!)
  gateway_pid=$!
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null "http://127.0.0.1:$port_gateway/health/live" && break
    kill -0 "$gateway_pid" 2>/dev/null || { echo "gateway exited during start-up:" >&2; tail -n 30 "$work/gateway.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$port_gateway/health/live" || { echo "gateway not live after 30 s" >&2; tail -n 30 "$work/gateway.log" >&2; exit 1; }
fi

# ---------------------------------------------------------------- wrk scripts + smoke test
# Every request body is the same, so the gateway target asks for no cache (X-Tollgate-Cache:
# off): it measures the proxy path. `hit` sends the same request without that header, so all
# but the first are exact cache hits; `health` is GET /health/live, the framework's empty route.
request_body='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Say hello"}]}'
for t in "${targets[@]}"; do
  {
    if [ "$t" = health ]; then
      echo 'wrk.method = "GET"'
      echo 'wrk.path = "/health/live"'
    else
      echo 'wrk.method = "POST"'
      echo 'wrk.path = "/v1/chat/completions"'
      echo "wrk.body = '$request_body'"
      echo 'wrk.headers["Content-Type"] = "application/json"'
      echo "wrk.headers[\"Authorization\"] = \"Bearer $gateway_key\""
      if [ "$t" = gateway ]; then echo 'wrk.headers["X-Tollgate-Cache"] = "off"'; fi
    fi
  } > "$work/request-$t.lua"
done

url_of() {
  case "$1" in
    direct) echo "http://127.0.0.1:$port_upstream" ;;
    nginx) echo "http://127.0.0.1:$port_nginx" ;;
    gateway | hit | health) echo "http://127.0.0.1:$port_gateway" ;;
  esac
}
path_of() { if [ "$1" = health ]; then echo /health/live; else echo /v1/chat/completions; fi; }
smoke_failed=()
for t in "${targets[@]}"; do
  if [ "$t" = health ]; then
    code="$(curl -s -o "$work/smoke-$t.json" -w '%{http_code}' "$(url_of "$t")/health/live")" || code="curl-failed"
  else
    extra=()
    if [ "$t" = gateway ]; then extra=(-H 'X-Tollgate-Cache: off'); fi
    code="$(curl -s -o "$work/smoke-$t.json" -w '%{http_code}' -X POST "$(url_of "$t")/v1/chat/completions" "${extra[@]}" \
      -H 'Content-Type: application/json' -H "Authorization: Bearer $gateway_key" -d "$request_body")" || code="curl-failed"
  fi
  cp "$work/smoke-$t.json" "$raw_dir/smoke-$t.json" 2>/dev/null || true
  if [ "$code" != 200 ]; then
    smoke_failed+=("$t")
    echo "warning: $t answered $code to the smoke request: $(head -c 400 "$work/smoke-$t.json" 2>/dev/null)" >&2
  fi
done

# ---------------------------------------------------------------- measure
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${load_start%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  echo "warning: load average is $load_start before the benchmark; other work on these cores skews the numbers" >&2
fi
declare -A results   # [target,c,round] = "rps p50 p99 reqs non2xx sockerr other_cores steal_cores"
total_runs=$(( ROUNDS * ${#concurrencies[@]} * ${#targets[@]} ))
run_no=0
echo "layout: servers + canned upstream on CPU $SUT_CPU, wrk on CPU $WRK_CPU; ${ROUNDS} rounds x ${WARMUP}s warm-up + ${DURATION}s measured" >&2
for round in $(seq 1 "$ROUNDS"); do
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      run_no=$((run_no + 1))
      url="$(url_of "$t")$(path_of "$t")"
      measure_run "$t" "$c" "$url" "$work/request-$t.lua" "$raw_dir/$t-c$c-r$round.txt" "$(printf '[%2d/%d] round %d' "$run_no" "$total_runs" "$round")"
      results[$t,$c,$round]="$measured"
    done
  done
done

load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
summarize_rounds

# ---------------------------------------------------------------- report
cpu_model="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)"
{
  echo "# Tollgate overhead benchmark"
  echo
  echo "- Commit: \`$commit\`"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- Host: $ncpu x $cpu_model; $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}')"
  if runs_gateway; then
    echo "- Gateway: \`$TOLLGATE_BIN\` ($(binary_note)), logging.level warning, no Redis, exact cache on: \`gateway\` sends X-Tollgate-Cache: off (a miss, proxied), \`hit\` does not (exact hits), \`health\` is GET /health/live"
  fi
  echo "- Layout: canned upstream and the server under test pinned to CPU $SUT_CPU, wrk pinned to CPU $WRK_CPU (taskset); identical for all targets"
  echo "- Request: POST /v1/chat/completions, ${#request_body}-byte body; canned response ${#completion} bytes; keep-alive everywhere"
  echo "- Load average (1/5/15 min): $load_start at start, $load_end at end (the benchmark itself adds about 1-2)"
  disturbance_line
  echo "- Runs: $ROUNDS interleaved rounds; each run = ${WARMUP}s warm-up + ${DURATION}s measured; wrk -t1 -c1 and -t2 -c32; values are the median of the rounds"
  echo
  echo "| Target | Concurrency | RPS | p50 (µs) | p99 (µs) | Requests | Non-2xx | Socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      printf '| %s | %s | %.0f | %.0f | %.0f | %s | %s | %s |\n' "$t" "$c" "${med[$t,$c,rps]}" "${med[$t,$c,p50]}" "${med[$t,$c,p99]}" \
        "${med[$t,$c,reqs]}" "${med[$t,$c,non2xx]}" "${med[$t,$c,sockerr]}"
    done
  done
  echo
  echo "## Ratios"
  echo
  if has_target direct && has_target nginx; then
    echo "- nginx RPS / direct RPS at c=32: $(calc '%.2f' "${med[nginx,32,rps]} / ${med[direct,32,rps]}")"
    echo "- nginx added p50 at c=1: $(calc '%+.0f' "${med[nginx,1,p50]} - ${med[direct,1,p50]}") µs"
    echo "- nginx added p99 at c=1: $(calc '%+.0f' "${med[nginx,1,p99]} - ${med[direct,1,p99]}") µs"
  fi
  if has_target gateway && has_target nginx; then
    ratio="$(calc '%.2f' "${med[gateway,32,rps]} / ${med[nginx,32,rps]}")"
    verdict="$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5 ? "PASS" : "FAIL") }')"
    echo "- **gateway RPS / nginx RPS at c=32: $ratio** (target >= 0.50: $verdict)"
  fi
  if has_target gateway && has_target direct; then
    echo "- gateway RPS / direct RPS at c=32: $(calc '%.2f' "${med[gateway,32,rps]} / ${med[direct,32,rps]}")"
    added="$(calc '%.0f' "${med[gateway,1,p50]} - ${med[direct,1,p50]}")"
    verdict="$(awk -v a="$added" 'BEGIN { print (a <= 100 ? "PASS" : "FAIL") }')"
    echo "- **gateway added p50 at c=1: $(calc '%+.0f' "$added") µs** (target <= 100 µs: $verdict)"
    echo "- gateway added p99 at c=1: $(calc '%+.0f' "${med[gateway,1,p99]} - ${med[direct,1,p99]}") µs"
  fi
  # The gateway's core is saturated at c=32, so its CPU per request is 1 / RPS there.
  if has_target hit && has_target health; then
    ratio="$(calc '%.2f' "${med[health,32,rps]} / ${med[hit,32,rps]}")"
    verdict="$(awk -v r="$ratio" 'BEGIN { print (r <= 1.25 ? "PASS" : "FAIL") }')"
    echo "- **exact hit CPU per request / GET /health/live's at c=32: $ratio** (target <= 1.25: $verdict)"
  fi
  if has_target hit && has_target nginx; then
    echo "- exact hit RPS / nginx proxy RPS at c=32: $(calc '%.2f' "${med[hit,32,rps]} / ${med[nginx,32,rps]}")"
  fi
  if has_target hit && has_target gateway; then
    echo "- exact hit RPS / miss (proxied) RPS at c=32: $(calc '%.2f' "${med[hit,32,rps]} / ${med[gateway,32,rps]}"); p50 at c=1: $(calc '%.0f' "${med[hit,1,p50]}") µs against $(calc '%.0f' "${med[gateway,1,p50]}") µs"
  fi
  report_problems
  echo
  echo "<details><summary>All rounds</summary>"
  echo
  echo "| Target | Concurrency | Round | RPS | p50 (µs) | p99 (µs) | Non-2xx | Other CPU (cores) | Steal (cores) | Attempts |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      for r in $(seq 1 "$ROUNDS"); do
        read -r rps p50 p99 reqs non2xx sockerr other_cores steal_cores attempts <<< "${results[$t,$c,$r]}"
        printf '| %s | %s | %s | %.0f | %.0f | %.0f | %s | %s | %s | %s |\n' "$t" "$c" "$r" "$rps" "$p50" "$p99" "$non2xx" "$other_cores" "$steal_cores" "$attempts"
      done
    done
  done
  echo
  echo "</details>"
  echo
  echo "Raw wrk output, configs and logs: \`bench/out/overhead-$stamp/\`"
} > "$report"

if runs_gateway; then
  echo "--- gateway stderr (last 20 lines, level warning)" >> "$raw_dir/gateway-tail.txt"
  tail -n 20 "$work/gateway.log" >> "$raw_dir/gateway-tail.txt" 2>/dev/null || true
  if [ -s "$work/gateway.log" ]; then
    echo "note: the gateway logged $(wc -l < "$work/gateway.log") line(s) at warning or above; see $raw_dir/gateway.log" >&2
  fi
fi
echo >&2
cat "$report"
echo >&2
echo "written: $report" >&2
