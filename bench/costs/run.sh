#!/usr/bin/env bash
# Cost-controls benchmark: the same gateway binary with limits, budgets and the ledger off, on with the
# in-process store, and on with the Redis store, side by side in the same run and the same layout.
#
#   bench/costs/run.sh [--no-build] [--wait-idle]
#
# --wait-idle: for shared machines where builds come and go. Before each run, wait (up to
# WAIT_IDLE_MAX s, 1800) until the machine is idle, and redo a run (up to RETRIES times, 5) when
# other processes or hypervisor steal took more than 0.1 core during it.
#
# Environment (all optional):
#   DURATION=10      measured seconds per run          WARMUP=3    warm-up seconds per run
#   ROUNDS=3         interleaved rounds; the table shows the median of the rounds
#   SUT_CPU=0        core for the gateways, the canned upstream and redis-server
#   WRK_CPU=1        core for wrk
#   PORT_BASE=18490  canned upstream = PORT_BASE, gateways off / in-process / redis = +1 / +2 / +3,
#                    redis-server = the first free port from +4
#   SCRATCH_PATH=.build              swift build scratch path (binary: $SCRATCH_PATH/release/tollgate)
#   TOLLGATE_BIN=<path>              use this binary as is (no build)
#
# Writes bench/out/costs-<timestamp>.md (table, ratios, Redis calls per request) and
# bench/out/costs-<timestamp>/ (raw wrk output, configs, logs). See bench/README.md.
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
# shellcheck source=../lib/common.sh
source "$root/bench/lib/common.sh"

# ---------------------------------------------------------------- options
build=1
wait_idle=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --wait-idle) wait_idle=1 ;;
    -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
targets=(off in-process redis)

DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-3}"
ROUNDS="${ROUNDS:-3}"
SUT_CPU="${SUT_CPU:-0}"
WRK_CPU="${WRK_CPU:-1}"
PORT_BASE="${PORT_BASE:-18490}"
SCRATCH_PATH="${SCRATCH_PATH:-.build}"
if [ -n "${TOLLGATE_BIN:-}" ]; then
  build=0
else
  TOLLGATE_BIN="$SCRATCH_PATH/release/tollgate"
fi
concurrencies=(1 32)
BENCH_TARGET_WIDTH=10

for tool in nginx wrk taskset curl redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install nginx wrk util-linux curl redis-server)" >&2; exit 1; }
done
ncpu="$(nproc)"
if [ "$ncpu" -lt 2 ] || [ "$SUT_CPU" = "$WRK_CPU" ]; then
  echo "warning: $ncpu core(s) / SUT_CPU=$SUT_CPU WRK_CPU=$WRK_CPU: wrk shares a core with the server under test" >&2
fi
sut=(taskset -c "$SUT_CPU")
load=(taskset -c "$WRK_CPU")

port_upstream=$PORT_BASE
declare -A port_of=([off]=$((PORT_BASE + 1)) [in-process]=$((PORT_BASE + 2)) [redis]=$((PORT_BASE + 3)))
for p in $port_upstream "${port_of[@]}"; do
  if port_in_use "$p"; then echo "port $p is already in use (set PORT_BASE)" >&2; exit 1; fi
done
port_redis=$((PORT_BASE + 4))
while port_in_use "$port_redis"; do port_redis=$((port_redis + 1)); done

stamp="$(date -u +%Y%m%dT%H%M%SZ)"
bench_commit_info
out_dir="$root/bench/out"
raw_dir="$out_dir/costs-$stamp"
report="$out_dir/costs-$stamp.md"
mkdir -p "$raw_dir"

bench_setup_work
copy_more() { # budgets dirs (limits.yaml) next to the raw output
  for t in "${targets[@]}"; do
    [ -d "$work/$t/budgets" ] && mkdir -p "$raw_dir/budgets-$t" && cp "$work/$t/budgets/limits.yaml" "$raw_dir/budgets-$t/" 2>/dev/null
  done
  return 0
}
BENCH_CLEANUP_HOOK=copy_more

# ---------------------------------------------------------------- canned upstream + redis-server
start_upstream

"${sut[@]}" redis-server --port "$port_redis" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  --loglevel warning --logfile "$work/redis.log" > /dev/null 2>&1 &
pids+=($!)
redis_pid=$!
for _ in $(seq 1 100); do redis-cli -p "$port_redis" ping > /dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$port_redis" ping > /dev/null 2>&1 || { echo "redis-server did not start on port $port_redis" >&2; cat "$work/redis.log" >&2; exit 1; }
redis_version="$(redis-server --version | awk '{print $3}' | sed 's/^v=//')"

# ---------------------------------------------------------------- gateways
build_gateway

# Limits far above what the run can use: every request is checked against every scope, none is refused.
# Tokens per request are reserved as prompt estimate + default_output_reservation (4096) and
# settled to the usage (20); the daily budgets cover millions of requests at gpt-4o-mini prices.
RPM=100000000; TPM=100000000000; CONC=100000; BUDGET=1000000
write_limits() { # target -> limits.yaml
  if [ "$1" = off ]; then
    echo "# no team, user or global limits"
  else
    cat <<YAML
# bench/costs/run.sh: every scope limited, nothing refused during the run
time_zone: UTC
global: { rpm: $RPM, tpm: $TPM, max_concurrent: $CONC, daily_budget_usd: $BUDGET }
teams:
  bench: { rpm: $RPM, tpm: $TPM, max_concurrent: $CONC, daily_budget_usd: $BUDGET }
users:
  "*": { rpm: $RPM, tpm: $TPM, max_concurrent: $CONC, daily_budget_usd: $BUDGET }
YAML
  fi
}
# The request ledger: on for the limited gateways; off for "off" only if the config has a switch for it.
ledger_src=Sources/TollgateCore/Ledger/LedgerConfig.swift
if [ ! -f "$ledger_src" ]; then
  ledger_off_note="no ledger in this commit"; ledger_on_note="$ledger_off_note"; ledger_switch=none
elif grep -qE 'case enabled\b' "$ledger_src"; then
  ledger_off_note="ledger off (\`ledger: { enabled: false }\`)"; ledger_on_note="ledger at its defaults"; ledger_switch=enabled
else
  ledger_off_note="ledger left at its defaults like the others (the config has no switch to turn it off)"
  ledger_on_note="ledger at its defaults"; ledger_switch=none
fi
configure_ledger() { # target config
  [ "$ledger_switch" = enabled ] && [ "$1" = off ] || return 0
  if grep -qE '^ledger:' "$2"; then
    sed -i -E 's/^ledger:.*/ledger:\n  enabled: false/' "$2"
  else
    printf '\nledger:\n  enabled: false\n' >> "$2"
  fi
}

export OPENAI_API_KEY=sk-bench
export OPENAI_BASE_URL="http://127.0.0.1:$port_upstream/v1"
unset TOLLGATE_REDIS_URL TOLLGATE_ADMIN_KEY || true
declare -A key_of gateway_pid
for t in "${targets[@]}"; do
  dir="$work/$t"
  mkdir -p "$dir/data" "$dir/budgets"
  cp budgets/prices.yaml budgets/keys.yaml "$dir/budgets/"
  write_limits "$t" > "$dir/budgets/limits.yaml"
  cfg="$work/tollgate-$t.yaml"
  # The repo's config with quieter logging and this gateway's budgets dir; routes resolve from the repo root.
  sed -E -e 's/^(  level:)[[:space:]]*[a-z]+/\1 warning/' -e "s|^budgets_dir:.*|budgets_dir: $dir/budgets|" tollgate.yaml > "$cfg"
  grep -qE '^  level: warning' "$cfg" || { echo "could not set logging.level in the config copy" >&2; exit 1; }
  configure_ledger "$t" "$cfg"
  env_args=(TOLLGATE_DATA_DIR="$dir/data")
  [ "$t" = redis ] && env_args+=(TOLLGATE_REDIS_URL="redis://127.0.0.1:$port_redis")
  if [ "$t" = off ]; then
    key_args=(--name bench-off)
  else
    key_args=(--name "bench-$t" --team bench --rpm "$RPM" --tpm "$TPM" --max-concurrent "$CONC" --daily-budget "$BUDGET")
  fi
  key_of[$t]="$(env "${env_args[@]}" "$TOLLGATE_BIN" keys create --config "$cfg" "${key_args[@]}" | tail -n 1)"
  [ -n "${key_of[$t]}" ] || { echo "tollgate keys create printed no secret ($t)" >&2; exit 1; }
  env "${env_args[@]}" "${sut[@]}" "$TOLLGATE_BIN" serve --config "$cfg" --port "${port_of[$t]}" > "$work/gateway-$t.log" 2>&1 &
  pids+=($!)
  gateway_pid[$t]=$!
done
for t in "${targets[@]}"; do
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null "http://127.0.0.1:${port_of[$t]}/health/live" && break
    kill -0 "${gateway_pid[$t]}" 2>/dev/null || { echo "gateway $t exited during start-up:" >&2; tail -n 30 "$work/gateway-$t.log" >&2; exit 1; }
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:${port_of[$t]}/health/live" || { echo "gateway $t not live after 30 s" >&2; tail -n 30 "$work/gateway-$t.log" >&2; exit 1; }
done

# ---------------------------------------------------------------- wrk scripts + smoke test
# The OpenAI `user` field puts every request in a user scope (one user: the busiest case for a scope).
request_body='{"model":"gpt-4o-mini","user":"bench-user","messages":[{"role":"user","content":"Say hello"}]}'
for t in "${targets[@]}"; do
  cat > "$work/request-$t.lua" <<LUA
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.body = '$request_body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer ${key_of[$t]}"
LUA
done
url_of() { echo "http://127.0.0.1:${port_of[$1]}"; }
smoke_failed=()
declare -A limit_headers
for t in "${targets[@]}"; do
  code="$(curl -s -D "$work/smoke-$t.headers" -o "$work/smoke-$t.json" -w '%{http_code}' -X POST "$(url_of "$t")/v1/chat/completions" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer ${key_of[$t]}" -d "$request_body")" || code="curl-failed"
  cp "$work/smoke-$t.json" "$work/smoke-$t.headers" "$raw_dir/" 2>/dev/null || true
  limit_headers[$t]="$(grep -ic '^x-ratelimit-' "$work/smoke-$t.headers" 2>/dev/null || true)"
  if [ "$code" != 200 ]; then
    smoke_failed+=("$t")
    echo "warning: $t answered $code to the smoke request: $(head -c 400 "$work/smoke-$t.json" 2>/dev/null)" >&2
  fi
done
# Limits must be live on the limited gateways and absent on "off".
[ "${limit_headers[off]:-0}" -eq 0 ] || echo "warning: 'off' sent x-ratelimit headers: something limits it" >&2
for t in in-process redis; do
  [ "${limit_headers[$t]:-0}" -gt 0 ] || echo "warning: $t sent no x-ratelimit headers: its limits are not applied" >&2
done

# ---------------------------------------------------------------- Redis command counting
# commandstats around every measured run of the redis gateway (the warm-up is not counted). Redis
# counts the commands a Lua script runs as well as the EVALSHA that ran it, so the commands named in
# the gateway's scripts (QuotaScripts.swift) are counted apart: they cost no round trip.
script_commands="$(grep -oE "redis\.p?call\(['\"][A-Za-z]+['\"]" Sources/TollgateServer/Costs/QuotaScripts.swift 2>/dev/null \
  | sed -E "s/.*\(['\"]//; s/['\"]$//" | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')"
redis_stats() { # -> "evalsha evalsha_usec other_client_commands in_script_commands" so far (INFO excluded)
  redis-cli -p "$port_redis" info commandstats | tr -d '\r' | awk -F'[:,=]' -v inner=" $script_commands" '
    /^cmdstat_/ { name = substr($1, 9); calls = $3; usec = $5
      if (name == "evalsha") { e += calls; eu += usec }
      else if (index(inner, " " name " ")) s += calls
      else if (name != "info") o += calls }
    END { print e + 0, eu + 0, o + 0, s + 0 }'
}
declare -A redis_calls   # [c,round] = "evalsha evalsha_usec other in_script"
redis_before=""
# CPU time (user + system, clock ticks) of the measured gateway and of redis-server: CPU per request
# is steadier than RPS on a shared machine (other work slows the gateway down, but costs it little CPU).
proc_ticks() { awk '{ sub(/^.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat" 2>/dev/null || echo 0; }
clk_tck="$(getconf CLK_TCK)"
declare -A cpu_last
before_measure() {
  cpu_before="$(proc_ticks "${gateway_pid[$1]}") $(proc_ticks "$redis_pid")"
  [ "$1" = redis ] && redis_before="$(redis_stats)"; return 0
}
after_measure() {
  cpu_last="$(awk -v a="$cpu_before" -v b="$(proc_ticks "${gateway_pid[$1]}") $(proc_ticks "$redis_pid")" \
    'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2] }')"
  [ "$1" = redis ] || return 0
  local after; after="$(redis_stats)"
  redis_last="$(awk -v a="$redis_before" -v b="$after" 'BEGIN { split(a, x, " "); split(b, y, " "); print y[1] - x[1], y[2] - x[2], y[3] - x[3], y[4] - x[4] }')"
  redis-cli -p "$port_redis" info commandstats | tr -d '\r' | grep '^cmdstat_' > "$raw_dir/redis-commandstats-after-c$2-r$round.txt" || true
}
BENCH_BEFORE_MEASURE=before_measure
BENCH_AFTER_MEASURE=after_measure

# ---------------------------------------------------------------- measure
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
if awk -v l="${load_start%% *}" 'BEGIN { exit !(l > 1.0) }'; then
  echo "warning: load average is $load_start before the benchmark; other work on these cores skews the numbers" >&2
fi
declare -A results   # [target,c,round] = "rps p50 p99 reqs non2xx sockerr other_cores steal_cores attempts"
declare -A cpu_us redis_cpu_us   # [target,c,round] = CPU µs per request (gateway, redis-server)
total_runs=$(( ROUNDS * ${#concurrencies[@]} * ${#targets[@]} ))
run_no=0
echo "layout: gateways + canned upstream + redis-server on CPU $SUT_CPU, wrk on CPU $WRK_CPU; ${ROUNDS} rounds x ${WARMUP}s warm-up + ${DURATION}s measured" >&2
for round in $(seq 1 "$ROUNDS"); do
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      run_no=$((run_no + 1))
      measure_run "$t" "$c" "$(url_of "$t")/v1/chat/completions" "$work/request-$t.lua" "$raw_dir/$t-c$c-r$round.txt" \
        "$(printf '[%2d/%d] round %d' "$run_no" "$total_runs" "$round")"
      results[$t,$c,$round]="$measured"
      read -r _ _ _ reqs _ <<< "$measured"
      read -r gt rt <<< "$cpu_last"
      cpu_us[$t,$c,$round]="$(calc '%.1f' "($reqs > 0) ? $gt * 1000000 / $clk_tck / $reqs : 0")"
      redis_cpu_us[$t,$c,$round]="$(calc '%.1f' "($reqs > 0) ? $rt * 1000000 / $clk_tck / $reqs : 0")"
      echo "    CPU per request: gateway ${cpu_us[$t,$c,$round]} µs, redis-server ${redis_cpu_us[$t,$c,$round]} µs" >&2
      if [ "$t" = redis ]; then
        redis_calls[$c,$round]="$redis_last"
        read -r e eu o si <<< "$redis_last"
        read -r _ _ _ reqs _ <<< "$measured"
        echo "    redis: $e EVALSHA + $o other commands for $reqs requests ($(calc '%.3f' "($reqs > 0) ? ($e + $o) / $reqs : 0") round trips per request; $si commands inside the scripts)" >&2
      fi
    done
  done
done

load_end="$(cut -d' ' -f1-3 /proc/loadavg)"
summarize_rounds
for t in "${targets[@]}"; do
  for c in "${concurrencies[@]}"; do
    vals=""; rvals=""
    for r in $(seq 1 "$ROUNDS"); do vals+=" ${cpu_us[$t,$c,$r]}"; rvals+=" ${redis_cpu_us[$t,$c,$r]}"; done
    med[$t,$c,cpu]="$(echo "$vals" | median)"
    med[$t,$c,rcpu]="$(echo "$rvals" | median)"
  done
done
# Redis commands per request, over all measured redis runs of a concurrency.
declare -A rc
for c in "${concurrencies[@]}"; do
  e=0; eu=0; o=0; si=0
  for r in $(seq 1 "$ROUNDS"); do
    read -r de deu do_ dsi <<< "${redis_calls[$c,$r]}"; e=$((e + de)); eu=$((eu + deu)); o=$((o + do_)); si=$((si + dsi))
  done
  n="${med[redis,$c,reqs]}"
  rc[$c,evalsha]=$e; rc[$c,other]=$o; rc[$c,inner]=$si
  rc[$c,per_req]="$(calc '%.3f' "($n > 0) ? $e / $n : 0")"
  rc[$c,all_per_req]="$(calc '%.3f' "($n > 0) ? ($e + $o) / $n : 0")"
  rc[$c,inner_per_req]="$(calc '%.1f' "($n > 0) ? $si / $n : 0")"
  rc[$c,usec]="$(calc '%.1f' "($e > 0) ? $eu / $e : 0")"
done
redis_keys="$(redis-cli -p "$port_redis" dbsize 2>/dev/null || echo '?')"
# Did the gateways write the ledger? Rows in each data dir's SQLite file while they still run.
declare -A ledger_rows
sleep 0.2   # one flush interval (<= 50 ms) and then some
for t in "${targets[@]}"; do
  db="$work/$t/data/ledger.sqlite"
  if [ ! -f "$db" ]; then ledger_rows[$t]="no ledger file"
  elif command -v sqlite3 > /dev/null; then ledger_rows[$t]="$(sqlite3 "$db" 'SELECT count(*) FROM ledger_entry' 2>/dev/null || echo '?') rows"
  else ledger_rows[$t]="a ledger file (sqlite3 not installed to count rows)"; fi
done
ledger_line="off: ${ledger_rows[off]}; in-process: ${ledger_rows[in-process]}; redis: ${ledger_rows[redis]}"

# ---------------------------------------------------------------- report
cpu_model="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)"
{
  echo "# Tollgate cost-controls benchmark"
  echo
  echo "- Commit: \`$commit\`"
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- Host: $ncpu x $cpu_model; $(nginx -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -n 1 | awk '{print $1, $2}'); redis-server $redis_version"
  echo "- Gateways: \`$TOLLGATE_BIN\` ($(binary_note)), three processes, each with its own data dir, budgets dir and config copy, logging.level warning"
  echo "  - off: key without limits, no limits.yaml entries; $ledger_off_note"
  echo "  - in-process: key with rpm/tpm/max_concurrent/daily budget in team \`bench\`, limits.yaml with team, user \`*\` and global rpm/tpm/max_concurrent/daily_budget_usd (all far above the load), in-process store; $ledger_on_note"
  echo "  - redis: as in-process, plus \`TOLLGATE_REDIS_URL\` to a redis-server on loopback (\`--save '' --appendonly no\`)"
  echo "- Ledger in each gateway's data dir at the end of the run (what was really written): $ledger_line"
  echo "- Layout: canned upstream, redis-server and the three gateways pinned to CPU $SUT_CPU, wrk pinned to CPU $WRK_CPU (taskset); only the gateway being measured gets traffic"
  echo "- Request: POST /v1/chat/completions with \`\"user\":\"bench-user\"\`, ${#request_body}-byte body; canned response ${#completion} bytes; keep-alive everywhere"
  echo "- Load average (1/5/15 min): $load_start at start, $load_end at end (the benchmark itself adds about 1-2)"
  disturbance_line
  echo "- Runs: $ROUNDS interleaved rounds; each run = ${WARMUP}s warm-up + ${DURATION}s measured; wrk -t1 -c1 and -t2 -c32; values are the median of the rounds"
  echo
  echo "| Gateway | Concurrency | RPS | p50 (µs) | p99 (µs) | Gateway CPU / request (µs) | redis-server CPU / request (µs) | Requests | Non-2xx | Socket errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      printf '| %s | %s | %.0f | %.0f | %.0f | %.0f | %s | %s | %s | %s |\n' "$t" "$c" "${med[$t,$c,rps]}" "${med[$t,$c,p50]}" "${med[$t,$c,p99]}" \
        "${med[$t,$c,cpu]}" "$([ "$t" = redis ] && calc '%.0f' "${med[$t,$c,rcpu]}" || echo -)" "${med[$t,$c,reqs]}" "${med[$t,$c,non2xx]}" "${med[$t,$c,sockerr]}"
    done
  done
  echo
  echo "## Ratios"
  echo
  for t in in-process redis; do
    ratio="$(calc '%.2f' "${med[$t,32,rps]} / ${med[off,32,rps]}")"
    if [ "$t" = in-process ]; then
      verdict="$(awk -v r="$ratio" 'BEGIN { print (r >= 0.85 ? "PASS" : "FAIL") }')"
      echo "- **in-process RPS / off RPS at c=32: $ratio** (target >= 0.85, i.e. cost controls take <= 15% of throughput: $verdict)"
    else
      echo "- **redis RPS / off RPS at c=32: $ratio**"
    fi
    echo "- $t RPS / off RPS at c=1: $(calc '%.2f' "${med[$t,1,rps]} / ${med[off,1,rps]}")"
    echo "- $t gateway CPU per request / off at c=32: $(calc '%.2f' "${med[$t,32,cpu]} / ${med[off,32,cpu]}") ($(calc '%+.0f' "${med[$t,32,cpu]} - ${med[off,32,cpu]}") µs)"
    echo "- **$t added p50 at c=1: $(calc '%+.0f' "${med[$t,1,p50]} - ${med[off,1,p50]}") µs** (over off)"
    echo "- $t added p99 at c=1: $(calc '%+.0f' "${med[$t,1,p99]} - ${med[off,1,p99]}") µs"
  done
  echo
  echo "## Redis commands per request"
  echo
  echo "Counted with \`INFO commandstats\` before and after each measured redis run (warm-ups and INFO itself"
  echo "excluded), divided by the requests wrk completed in those runs. Redis also counts the commands a"
  echo "Lua script runs; those ($script_commands) are shown apart: they cost no round trip."
  echo
  echo "| Concurrency | Requests | EVALSHA | Other commands from the gateway | Round trips / request | EVALSHA / request | Commands inside the scripts / request | Redis time per EVALSHA (µs) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${concurrencies[@]}"; do
    echo "| $c | ${med[redis,$c,reqs]} | ${rc[$c,evalsha]} | ${rc[$c,other]} | ${rc[$c,all_per_req]} | ${rc[$c,per_req]} | ${rc[$c,inner_per_req]} | ${rc[$c,usec]} |"
  done
  echo
  echo "Per request: one EVALSHA claim (check-and-reserve over every scope) on the critical path, before the"
  echo "upstream call, and one EVALSHA settlement after the response has been handed back (not awaited by"
  echo "the request). wrk counts only completed responses, so requests cut off at the end of a run add up"
  echo "to 32 claims to the c=32 count. \"Redis time per EVALSHA\" is commandstats' usec per call: wall time"
  echo "inside redis-server, which shares CPU $SUT_CPU with the gateway, so it includes preemption at c=32."
  echo "Keys in Redis after the run: $redis_keys."
  report_problems "a limit may have refused requests"
  echo
  echo "<details><summary>All rounds</summary>"
  echo
  echo "| Gateway | Concurrency | Round | RPS | p50 (µs) | p99 (µs) | Non-2xx | Gateway CPU / request (µs) | Redis round trips / request | Other CPU (cores) | Steal (cores) | Attempts |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for c in "${concurrencies[@]}"; do
    for t in "${targets[@]}"; do
      for r in $(seq 1 "$ROUNDS"); do
        read -r rps p50 p99 reqs non2xx sockerr other_cores steal_cores attempts <<< "${results[$t,$c,$r]}"
        per="-"
        if [ "$t" = redis ]; then read -r e _ o _ <<< "${redis_calls[$c,$r]}"; per="$(calc '%.3f' "($reqs > 0) ? ($e + $o) / $reqs : 0")"; fi
        printf '| %s | %s | %s | %.0f | %.0f | %.0f | %s | %.0f | %s | %s | %s | %s |\n' "$t" "$c" "$r" "$rps" "$p50" "$p99" "$non2xx" "${cpu_us[$t,$c,$r]}" "$per" "$other_cores" "$steal_cores" "$attempts"
      done
    done
  done
  echo
  echo "</details>"
  echo
  echo "Raw wrk output, configs, limits and logs: \`bench/out/costs-$stamp/\`"
} > "$report"

for t in "${targets[@]}"; do
  if [ -s "$work/gateway-$t.log" ]; then
    echo "note: gateway $t logged $(wc -l < "$work/gateway-$t.log") line(s) at warning or above; see $raw_dir/gateway-$t.log" >&2
  fi
done
echo >&2
cat "$report"
echo >&2
echo "written: $report" >&2
