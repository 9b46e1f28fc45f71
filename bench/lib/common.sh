# Shared harness for the wrk benchmarks (bench/overhead/run.sh, bench/costs/run.sh). Source it after
# `set -euo pipefail`; it defines functions only, apart from the canned completion below.
#
# The caller sets (before using the functions that need them):
#   work      scratch dir (bench_setup_work creates it)   raw_dir   where raw output and copies go
#   ncpu      $(nproc)                                    sut=(taskset -c N)  load=(taskset -c M)
#   port_upstream   the canned upstream's port            ROUNDS, DURATION, WARMUP, wait_idle (0|1)

# ---------------------------------------------------------------- process lifetime
# Creates $work and installs the EXIT/INT/TERM traps; every pid appended to `pids` is stopped
# (TERM, then KILL after 5 s) on exit, and configs / logs / wrk scripts are copied to $raw_dir.
# BENCH_CLEANUP_HOOK may name a function to run first (e.g. to copy more files).
bench_setup_work() {
  work="$(mktemp -d /tmp/tollgate-bench.XXXXXX)"
  pids=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}
bench_cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "${BENCH_CLEANUP_HOOK:-}" ]; then "$BENCH_CLEANUP_HOOK" || true; fi
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  # keep configs and logs next to the raw wrk output
  cp "$work"/*.conf "$work"/*.log "$work"/*.yaml "$work"/*.lua "$raw_dir"/ 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}

wait_http() { # url name pid
  for _ in $(seq 1 300); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    kill -0 "$3" 2>/dev/null || { echo "$2 exited during start-up" >&2; return 1; }
    sleep 0.1
  done
  echo "$2 did not answer $1 within 30 s" >&2; return 1
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Commit of the checkout, flagged when tracked files changed; sets commit and head_time.
bench_commit_info() {
  commit="$(git rev-parse --short HEAD 2>/dev/null || echo uncommitted)"
  if [ "$commit" != uncommitted ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null || true)" ]; then
    commit="$commit (working tree has uncommitted changes)"
  fi
  head_time="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
}

# ---------------------------------------------------------------- canned upstream (nginx)
# A realistic non-streaming chat.completion (what gpt-4o-mini returns for a short prompt).
completion='{"id":"chatcmpl-BENCH0000000000000000000001","object":"chat.completion","created":1735689600,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":10,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_bench0001"}'

nginx_common() { # name
  local user_line=""
  [ "$(id -u)" -eq 0 ] && user_line="user root;"
  cat <<EOF
$user_line
worker_processes 1;
daemon off;
pid $work/$1.pid;
error_log $work/$1.error.log warn;
events { worker_connections 4096; }
EOF
}
nginx_http_common() { # name
  cat <<EOF
  access_log off;
  keepalive_timeout 300s;
  keepalive_requests 100000000;
  client_body_temp_path $work/$1-tmp/body;
  proxy_temp_path $work/$1-tmp/proxy;
  fastcgi_temp_path $work/$1-tmp/fastcgi;
  uwsgi_temp_path $work/$1-tmp/uwsgi;
  scgi_temp_path $work/$1-tmp/scgi;
EOF
}

# Writes $work/upstream.conf: nginx, 1 worker, `return 200 $completion` on $port_upstream.
write_upstream_conf() {
  {
    nginx_common upstream
    echo "http {"
    nginx_http_common upstream
    cat <<EOF
  server {
    listen 127.0.0.1:$port_upstream reuseport;
    location = /v1/chat/completions {
      default_type application/json;
      return 200 '$completion';
    }
    location / { return 404; }
  }
}
EOF
  } > "$work/upstream.conf"
}

start_nginx() { # name  (config $work/<name>.conf, pinned to the SUT core)
  mkdir -p "$work/$1-tmp"
  nginx -t -q -p "$work" -c "$work/$1.conf" 2> "$work/$1.start.log" || { cat "$work/$1.start.log" >&2; exit 1; }
  "${sut[@]}" nginx -p "$work" -c "$work/$1.conf" >> "$work/$1.start.log" 2>&1 &
  pids+=($!)
}

start_upstream() {
  write_upstream_conf
  start_nginx upstream
  wait_http "http://127.0.0.1:$port_upstream/" upstream "${pids[-1]}"
}

# ---------------------------------------------------------------- wrk output
to_us() { # wrk duration (e.g. 85.00us, 1.23ms, 2.00s) -> microseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
    if (u == "us") f = 1; else if (u == "ms") f = 1000; else if (u == "s") f = 1000000;
    else if (u == "m") f = 60000000; else if (u == "h") f = 3600000000; else f = -1
    if (f < 0) print "NaN"; else printf "%.1f", n * f }'
}
# parse <file> -> "rps p50_us p99_us requests non2xx socket_errors"
parse() {
  local rps p50 p99 reqs non2xx sockerr
  rps="$(awk '/^Requests\/sec:/ {print $2}' "$1")"
  p50="$(to_us "$(awk '$1 == "50%" {print $2}' "$1")")"
  p99="$(to_us "$(awk '$1 == "99%" {print $2}' "$1")")"
  reqs="$(awk '/requests in/ {print $1}' "$1")"
  non2xx="$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$1")"
  sockerr="$(awk '/Socket errors:/ {s = 0; for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i; print s}' "$1")"
  echo "${rps:-NaN} ${p50:-NaN} ${p99:-NaN} ${reqs:-0} ${non2xx:-0} ${sockerr:-0}"
}

threads_for() { if [ "$1" -ge 2 ]; then echo 2; else echo 1; fi; }

# ---------------------------------------------------------------- CPU disturbance accounting
# CPU accounting, to tell whether something else ran during a measurement (values in clock ticks).
# machine: "busy steal total" summed over all CPUs (busy = user+nice+system+irq+softirq).
cpu_machine() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
# others: "pid starttime ticks" for every user-space process outside this script's process group,
# ticks = own + reaped children's user+system time (so short-lived compiler jobs show up in their
# parent once they finish).
own_pgrp="$(awk '{ sub(/^.*\) /, ""); print $3 }' /proc/$$/stat)"
cpu_others() {
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v pg="$own_pgrp" '
    { pid = $1; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
      if (f[3] == pg || pid == 2 || f[2] == 2) next          # ours, or a kernel thread
      print pid, f[20], f[12] + f[13] + f[14] + f[15] }'
}
# Ticks used by other processes between two cpu_others snapshots (files).
others_delta() {
  awk 'NR == FNR { t[$1 " " $2] = $3; next } { k = $1 " " $2; d += (k in t) ? $3 - t[k] : $3 } END { print d + 0 }' "$1" "$2"
}
# Busy CPUs (in cores) over a 2 s window; used by --wait-idle while our servers are idle.
busy_cores_now() {
  local a b
  a="$(cpu_machine)"; sleep 2; b="$(cpu_machine)"
  awk -v a="$a" -v b="$b" -v n="$ncpu" 'BEGIN { split(a, x, " "); split(b, y, " ")
    printf "%.2f", (y[1] - x[1]) / ((y[3] - x[3]) / n) }'
}
wait_until_idle() {
  local busy waited=0 said=0
  while :; do
    busy="$(busy_cores_now)"
    awk -v b="$busy" 'BEGIN { exit !(b < 0.15) }' && return 0
    if [ "$said" -eq 0 ]; then echo "waiting for the machine to go idle ($busy cores busy)..." >&2; said=1; fi
    waited=$((waited + 2))
    if [ "$waited" -ge "${WAIT_IDLE_MAX:-1800}" ]; then
      echo "warning: still $busy cores busy after ${WAIT_IDLE_MAX:-1800} s; measuring anyway" >&2; return 0
    fi
    sleep 8; waited=$((waited + 8))
  done
}

# ---------------------------------------------------------------- one measured run
# measure_run <target> <c> <url> <lua> <raw file> <label>
# A WARMUP-second wrk run (thrown away), then a DURATION-second run with --latency into <raw file>,
# with the CPU that other processes and steal took meanwhile. With wait_idle=1 it waits for an idle
# machine first and measures again (up to RETRIES times, 5) when the run was disturbed by more than
# 0.1 core. Sets measured="rps p50 p99 reqs non2xx sockerr other_cores steal_cores attempts" and
# prints one progress line (prefixed by <label>) to stderr.
# Optional hooks, called around the measured run only (not the warm-up), with <target> <c>:
#   BENCH_BEFORE_MEASURE, BENCH_AFTER_MEASURE (function names).
measure_run() {
  local t="$1" c="$2" url="$3" lua="$4" raw="$5" label="$6"
  local th attempt=0 m0 m1 other rps p50 p99 reqs non2xx sockerr other_cores steal_cores
  th="$(threads_for "$c")"
  while :; do
    attempt=$((attempt + 1))
    [ "$wait_idle" -eq 1 ] && wait_until_idle
    "${load[@]}" wrk -t"$th" -c"$c" -d"${WARMUP}s" -s "$lua" "$url" > /dev/null 2>&1 || true
    if [ -n "${BENCH_BEFORE_MEASURE:-}" ]; then "$BENCH_BEFORE_MEASURE" "$t" "$c"; fi
    cpu_others > "$work/others.0"; m0="$(cpu_machine)"
    "${load[@]}" wrk -t"$th" -c"$c" -d"${DURATION}s" --latency -s "$lua" "$url" > "$raw" 2>&1 || true
    m1="$(cpu_machine)"; cpu_others > "$work/others.1"
    if [ -n "${BENCH_AFTER_MEASURE:-}" ]; then "$BENCH_AFTER_MEASURE" "$t" "$c"; fi
    # CPU used meanwhile by processes that are not ours, and hypervisor steal, in cores (1.0 = a whole
    # core). "Other" over-counts a little: a parent reaping a child adds all of the child's time.
    other="$(awk -v a="$m0" -v b="$m1" -v o="$(others_delta "$work/others.0" "$work/others.1")" -v n="$ncpu" '
      BEGIN { split(a, x, " "); split(b, y, " "); w = (y[3] - x[3]) / n; o /= w; if (o > n) o = n
              printf "%.2f %.2f", o, (y[2] - x[2]) / w }')"
    measured="$(parse "$raw") $other $attempt"
    read -r rps p50 p99 reqs non2xx sockerr other_cores steal_cores _ <<< "$measured"
    printf "%s  %-${BENCH_TARGET_WIDTH:-7}s c=%-2d  %10s rps  p50 %8s us  p99 %9s us  non-2xx %s  socket errors %s  other CPU %s cores  steal %s\n" \
      "$label" "$t" "$c" "$rps" "$p50" "$p99" "$non2xx" "$sockerr" "$other_cores" "$steal_cores" >&2
    # With --wait-idle, a run disturbed by other work (or steal) is done again, up to RETRIES times.
    [ "$wait_idle" -eq 1 ] || break
    awk -v o="$other_cores" -v s="$steal_cores" 'BEGIN { exit !(o + s > 0.10) }' || break
    if [ "$attempt" -gt "${RETRIES:-5}" ]; then echo "  still disturbed after $attempt attempts; keeping it" >&2; break; fi
    echo "  disturbed (other CPU $other_cores cores, steal $steal_cores): measuring again" >&2
  done
}

# ---------------------------------------------------------------- medians over rounds
# `results` is an associative array: results[target,c,round] = "rps p50 p99 reqs non2xx sockerr other steal attempts"
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR] = $1} END {
  if (NR == 0) { print "NaN"; exit }
  if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
field() { # target c index(1-based) -> values over rounds
  local vals="" r
  for r in $(seq 1 "$ROUNDS"); do vals+=" $(echo "${results[$1,$2,$r]}" | awk -v i="$3" '{print $i}')"; done
  echo "$vals"
}
sum_field() { field "$@" | tr ' ' '\n' | awk '{s += $1} END {print s + 0}'; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }

# ---------------------------------------------------------------- shared steps of the run scripts
build_gateway() { # builds $TOLLGATE_BIN when $build is 1, then checks it is there
  if [ "$build" -eq 1 ]; then
    echo "building: swift build -c release --product tollgate --scratch-path $SCRATCH_PATH" >&2
    if ! swift build -c release --product tollgate --scratch-path "$SCRATCH_PATH" 2>&1 | tail -n 20 >&2; then
      echo "build failed" >&2; exit 1
    fi
  fi
  [ -x "$TOLLGATE_BIN" ] || { echo "no gateway binary at $TOLLGATE_BIN (build it, or set TOLLGATE_BIN)" >&2; exit 1; }
}

summarize_rounds() { # fills med[target,c,rps|p50|p99|reqs|non2xx|sockerr] and other_max from results
  declare -gA med
  local t c
  for t in "${targets[@]}"; do
    for c in "${concurrencies[@]}"; do
      med[$t,$c,rps]="$(field "$t" "$c" 1 | median)"
      med[$t,$c,p50]="$(field "$t" "$c" 2 | median)"
      med[$t,$c,p99]="$(field "$t" "$c" 3 | median)"
      med[$t,$c,reqs]="$(sum_field "$t" "$c" 4)"
      med[$t,$c,non2xx]="$(sum_field "$t" "$c" 5)"
      med[$t,$c,sockerr]="$(sum_field "$t" "$c" 6)"
      other_max="$(field "$t" "$c" 7 | tr ' ' '\n' | awk -v m="${other_max:-0}" 'NF { if ($1 > m) m = $1 } END { print m }')"
    done
  done
}

binary_note() { # where $TOLLGATE_BIN came from, for the report
  if [ "$build" -eq 1 ]; then echo "built by this run"; return; fi
  local note="not built by this run, modified $(date -u -r "$TOLLGATE_BIN" '+%Y-%m-%d %H:%M UTC')"
  if [ "$(stat -c %Y "$TOLLGATE_BIN")" -lt "$head_time" ]; then
    note="$note — **older than the HEAD commit, so it may not be built from it**"
  fi
  echo "$note"
}

disturbance_line() { # the report line on other processes' CPU during the kept runs
  echo "- Other processes' CPU during the kept runs: at most $other_max cores (see All rounds)$([ "$wait_idle" -eq 1 ] && echo "; --wait-idle: runs disturbed by more than 0.1 core were measured again")$(awk -v m="$other_max" 'BEGIN { if (m > 0.1) printf " — **something else was running; treat these numbers with suspicion**" }')"
}

report_problems() { # [extra reason]: a warning when runs had non-2xx or socket errors, or a smoke request failed
  local problems=0 t c
  for t in "${targets[@]}"; do
    for c in "${concurrencies[@]}"; do
      if [ "${med[$t,$c,non2xx]}" != 0 ] || [ "${med[$t,$c,sockerr]}" != 0 ]; then problems=1; fi
    done
  done
  if [ "$problems" -eq 1 ] || [ ${#smoke_failed[@]} -gt 0 ]; then
    echo
    echo "**Warning:** some runs had non-2xx responses or socket errors; their RPS and latencies do not measure the proxy path${1:+ ($1)}."
    for t in "${smoke_failed[@]}"; do
      echo "- smoke request to $t: \`$(head -c 300 "$raw_dir/smoke-$t.json" 2>/dev/null | tr '\n' ' ')\`"
    done
  fi
}
