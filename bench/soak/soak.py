#!/usr/bin/env python3
"""Soak test with faults: two gateway replicas on one Redis and one PostgreSQL ledger in front
of the fake provider, mixed traffic from several keys and users (plain, streams, cache hits,
fallbacks, budget refusals) for --duration seconds while faults are injected:

  at 20%  kill -9 replica B, restart it 2 s later on the same port and data dir
  at 45%  restart Redis empty (SHUTDOWN NOSAVE, then a new redis-server on the same port)
  at 60%  pause PostgreSQL (SIGSTOP to every process of its cluster) for PG_PAUSE_S, longer
          than the ledger's 5 s write timeout, then resume it (SIGCONT)
  at 80%  a broken routes file (both replicas must keep serving the old rules and answer
          /admin/reload with 422), then a good one (200)

The replicas' ledger queue holds 200 rows, so the pause fills it and rows spill to each
replica's local SQLite file; the soak waits until they are shipped. Afterwards it checks: no
crash (replica A and the restarted B alive, no fatal errors in their logs); every 200 a
client saw has its ledger row in PostgreSQL, except rows of replica B within its flush window
before the kill (counted and reported), and no row twice; requests were answered during the
pause; the budget-limited key's spend never passes its budget; replica A's memory and file
descriptors flat (last third of the run against the first). Prints the figures and writes
them as JSON (--json). Exit 1 when a check fails.

PostgreSQL: --postgres-url (default TOLLGATE_TEST_POSTGRES_URL, a superuser on a local cluster
that scripts/test.sh starts); the soak makes and drops its own database. Stdlib and psql only.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

BUDGET_USD = 0.01
PG_PAUSE_S = 8.0
FLUSH_WINDOW_S = 5.0  # client-side margin around the ledger's 50 ms flush interval (a loaded machine delays it)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, deadline_s, what):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.05)
    raise SystemExit(f"soak: {what} did not happen within {deadline_s} s")


def live(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/health/live")
        ok = c.getresponse().status == 200
        c.close()
        return ok
    except OSError:
        return False


class Cluster:
    """Redis, the fake provider and two gateway replicas, as processes."""

    def __init__(self, args, work):
        self.args, self.work = args, work
        self.redis_port = free_port()
        self.ports = {"A": free_port(), "B": free_port()}
        self.procs = {}
        self.env = dict(os.environ)
        self.database = f"tollgate_soak_{os.getpid()}"
        self.ledger_url = args.postgres_url.split("?")[0].rsplit("/", 1)[0] + "/" + self.database + "?sslmode=disable"

    def psql(self, sql, url=None):
        return subprocess.run(["psql", url or self.args.postgres_url, "-At", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql],
                              check=True, capture_output=True, text=True).stdout

    def create_database(self):
        self.psql(f"DROP DATABASE IF EXISTS {self.database}")
        self.psql(f"CREATE DATABASE {self.database}")

    def drop_database(self):
        subprocess.run(["psql", self.args.postgres_url, "-q", "-c", f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)"],
                       capture_output=True)

    def postgres_pids(self):
        """The cluster's postmaster and its children (backends, checkpointer, WAL writer...)."""
        data_directory = self.psql("SHOW data_directory").strip()
        postmaster = int(open(os.path.join(data_directory, "postmaster.pid")).readline())
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        return postmaster, [int(pid) for pid in children]

    def pause_postgres(self):
        postmaster, children = self.postgres_pids()
        os.kill(postmaster, signal.SIGSTOP)  # first: no new backends while the others stop
        for pid in children:
            os.kill(pid, signal.SIGSTOP)
        return postmaster, children

    def resume_postgres(self, paused):
        postmaster, children = paused
        for pid in children:
            os.kill(pid, signal.SIGCONT)
        os.kill(postmaster, signal.SIGCONT)

    def spilled_rows(self):
        total = 0
        for name in "AB":
            path = os.path.join(self.work, f"data-{name}", "ledger-spill.sqlite")
            if os.path.exists(path):
                db = sqlite3.connect(path, timeout=30)
                total += db.execute("SELECT count(*) FROM ledger_entry").fetchone()[0]
                db.close()
        return total

    def start_redis(self):
        self.procs["redis"] = subprocess.Popen(
            [self.args.redis_server, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.redis_ping(), 30, "redis-server start")

    def redis_ping(self):
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def restart_redis_empty(self):
        with socket.create_connection(("127.0.0.1", self.redis_port), timeout=2) as s:
            s.sendall(b"SHUTDOWN NOSAVE\r\n")
            try:
                s.recv(16)
            except OSError:
                pass
        self.procs["redis"].wait(timeout=30)
        self.start_redis()

    def start_provider(self):
        out = open(os.path.join(self.work, "provider.out"), "w")
        env = dict(self.env, FAKE_PROVIDER_KEY=self.args.provider_key)
        self.procs["provider"] = subprocess.Popen([os.path.join(self.args.bin, "fake-provider")], stdout=out, stderr=subprocess.STDOUT, env=env)
        path = os.path.join(self.work, "provider.out")
        wait_for(lambda: "port=" in open(path).read(), 30, "fake provider start")
        port = open(path).read().split("port=")[1].split()[0]
        self.env.update(
            OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1", OPENAI_API_KEY=self.args.provider_key,
            ANTHROPIC_BASE_URL=f"http://127.0.0.1:{port}", ANTHROPIC_API_KEY=self.args.provider_key,
            TOLLGATE_REDIS_URL=f"redis://127.0.0.1:{self.redis_port}", TOLLGATE_CACHE_MODE="exact",
            TOLLGATE_ADMIN_KEY="soak-admin", SOAK_APP_KEY="soak-app-secret-0001", SOAK_BATCH_KEY="soak-batch-secret-0002",
            SOAK_BUDGET_KEY="soak-budget-secret-0003", TOLLGATE_LEDGER_URL=self.ledger_url)

    def start_replica(self, name):
        env = dict(self.env, TOLLGATE_DATA_DIR=os.path.join(self.work, "data-" + name))
        log = open(os.path.join(self.work, f"gateway-{name}.log"), "a")
        self.procs[name] = subprocess.Popen(
            [os.path.join(self.args.bin, "tollgate"), "serve", "--config", os.path.join(self.work, "tollgate.yaml"),
             "--port", str(self.ports[name])], stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.args.root)
        wait_for(lambda: live(self.ports[name]), 60, f"replica {name} start")

    def kill9(self, name):
        self.procs[name].send_signal(signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def stop(self):
        for name in ["A", "B", "provider", "redis"]:
            proc = self.procs.get(name)
            if proc and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                proc.kill()


def prepare(args, work):
    """A config of copies: shipped routes plus the soak's routes, keys and prices."""
    root = args.root
    shutil.copytree(os.path.join(root, "routes"), os.path.join(work, "routes"))
    shutil.copytree(os.path.join(root, "budgets"), os.path.join(work, "budgets"))
    with open(os.path.join(work, "routes", "50-soak.yaml"), "w") as f:
        f.write("aliases: [soak-fallback]\n"
                "routes:\n"
                "  - name: soak-fallback\n"
                "    when: { feature: model, eq: soak-fallback }\n"
                "    target: sdk-openai-down-503\n"
                "    fallbacks: [gpt-5-mini, template: busy]\n")
    with open(os.path.join(work, "budgets", "keys.yaml"), "w") as f:
        f.write("keys:\n"
                "  - { name: soak-app, team: growth, secret_env: SOAK_APP_KEY }\n"
                "  - { name: soak-batch, team: research, secret_env: SOAK_BATCH_KEY, rpm: 300 }\n"
                f"  - {{ name: soak-budget, team: finance, secret_env: SOAK_BUDGET_KEY, daily_budget_usd: {BUDGET_USD} }}\n")
    prices = open(os.path.join(root, "budgets", "prices.yaml")).read()
    prices = prices.replace("models:\n", "models:\n  \"sdk-*\": { input: 1.00, output: 2.00 }\n", 1)
    open(os.path.join(work, "budgets", "prices.yaml"), "w").write(prices)
    lines = []
    for line in open(os.path.join(root, "tollgate.yaml")):
        if line.startswith("  max_bytes: 268435456"):
            # A small response cache fills early, so memory that still grows afterwards is a leak.
            line = "  max_bytes: 4194304\n"
        elif line.startswith("routes_dir:"):
            line = f"routes_dir: {work}/routes\n"
        elif line.startswith("budgets_dir:"):
            line = f"budgets_dir: {work}/budgets\n"
        elif line.startswith("prompts_dir:"):
            line = f"prompts_dir: {root}/prompts\n"
        lines.append(line)
        if line.startswith("  url: ${TOLLGATE_LEDGER_URL"):
            # A PostgreSQL pause fills this quickly: then rows spill to the local file.
            lines.append("  queue_capacity: 200\n")
        if line.startswith("models:"):
            lines.append('  - { pattern: "sdk-openai-*", provider: openai }\n')
    if "  queue_capacity: 200\n" not in lines:
        raise SystemExit("soak: could not set ledger.queue_capacity in the copy of tollgate.yaml")
    if not any(line == "  max_bytes: 4194304\n" for line in lines):
        raise SystemExit("soak: could not set cache.max_bytes in the copy of tollgate.yaml")
    open(os.path.join(work, "tollgate.yaml"), "w").writelines(lines)


class Traffic:
    """Worker threads sending mixed requests to both replicas; every outcome recorded."""

    KEYS = {"app": "soak-app-secret-0001", "batch": "soak-batch-secret-0002", "budget": "soak-budget-secret-0003"}
    REPEATS = [f"What is the capital of country number {i}?" for i in range(5)]

    def __init__(self, cluster, workers, seed):
        self.cluster, self.workers = cluster, workers
        self.results, self.lock = [], threading.Lock()
        self.stop = threading.Event()
        self.random = random.Random(seed)

    def request_body(self, rnd, n):
        kind = rnd.random()
        if kind < 0.35:
            return "app", {"model": "auto", "user": f"u{rnd.randrange(20)}", "messages": [{"role": "user", "content": f"question {n} {rnd.random()}"}]}, "plain"
        if kind < 0.50:
            return "app", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": rnd.choice(self.REPEATS)}]}, "repeat"
        if kind < 0.65:
            return "batch", {"model": "gpt-5-mini", "stream": True, "messages": [{"role": "user", "content": f"stream {n}"}]}, "stream"
        if kind < 0.75:
            return "app", {"model": "soak-fallback", "messages": [{"role": "user", "content": f"fallback {n}"}]}, "fallback"
        if kind < 0.90:
            return "budget", {"model": "gpt-5", "max_tokens": 200, "messages": [{"role": "user", "content": f"budget {n}"}]}, "budget"
        return "batch", {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": f"batch {n}"}]}, "batch"

    def worker(self, index):
        rnd = random.Random(self.random.random())
        n = 0
        while not self.stop.is_set():
            n += 1
            replica = "A" if (index + n) % 2 == 0 else "B"
            key, body, kind = self.request_body(rnd, f"{index}-{n}")
            started = time.time()
            outcome = {"replica": replica, "kind": kind, "key": key, "start": started}
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.cluster.ports[replica], timeout=60)
                c.request("POST", "/v1/chat/completions", json.dumps(body),
                          {"Authorization": "Bearer " + self.KEYS[key], "Content-Type": "application/json"})
                r = c.getresponse()
                data = r.read()
                outcome.update(status=r.status, request_id=r.getheader("X-Tollgate-Request-Id"),
                               cache=r.getheader("X-Tollgate-Cache"), fallback=r.getheader("X-Tollgate-Fallback"),
                               code=(json.loads(data).get("error", {}).get("code") if r.status >= 400 and data[:1] == b"{" else None),
                               complete=(not body.get("stream")) or data.rstrip().endswith(b"data: [DONE]"))
                c.close()
            except (OSError, http.client.HTTPException) as error:
                outcome.update(status=None, error=type(error).__name__)
            outcome["end"] = time.time()
            with self.lock:
                self.results.append(outcome)

    def run(self, duration, faults):
        threads = [threading.Thread(target=self.worker, args=(i,), daemon=True) for i in range(self.workers)]
        for t in threads:
            t.start()
        faults(duration)
        self.stop.set()
        for t in threads:
            t.join(timeout=120)


def sample(pid):
    """Resident memory (kB) and open file descriptors of a process."""
    rss = 0
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def admin_reload(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/admin/reload", headers={"Authorization": "Bearer soak-admin"})
    status = c.getresponse().status
    c.close()
    return status


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--duration", type=float, default=180)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--redis-server", default=shutil.which("redis-server") or "redis-server")
    parser.add_argument("--postgres-url", default=os.environ.get("TOLLGATE_TEST_POSTGRES_URL"))
    parser.add_argument("--json")
    args = parser.parse_args()
    if not args.postgres_url:
        raise SystemExit("soak: needs --postgres-url or TOLLGATE_TEST_POSTGRES_URL (scripts/test.sh starts PostgreSQL)")
    args.provider_key = "sk-soak-provider-key-0123456789"

    work = tempfile.mkdtemp(prefix="tollgate-soak-")
    cluster = Cluster(args, work)
    failures, events, samples = [], {}, []
    try:
        prepare(args, work)
        cluster.create_database()
        cluster.start_redis()
        cluster.start_provider()
        cluster.start_replica("A")
        cluster.start_replica("B")
        pid_a = cluster.procs["A"].pid
        traffic = Traffic(cluster, args.workers, args.seed)

        def faults(duration):
            start = time.time()
            plan = [(0.20, "kill"), (0.45, "redis"), (0.60, "postgres"), (0.80, "routes")]
            while time.time() - start < duration:
                elapsed = (time.time() - start) / duration
                if plan and elapsed >= plan[0][0]:
                    what = plan.pop(0)[1]
                    if what == "kill":
                        events["kill_B"] = time.time()
                        cluster.kill9("B")
                        time.sleep(2)
                        cluster.start_replica("B")
                        events["restart_B"] = time.time()
                    elif what == "redis":
                        events["redis_restart"] = time.time()
                        cluster.restart_redis_empty()
                        events["redis_back"] = time.time()
                    elif what == "postgres":
                        events["postgres_pause"] = time.time()
                        paused = cluster.pause_postgres()
                        try:
                            time.sleep(PG_PAUSE_S)
                        finally:
                            cluster.resume_postgres(paused)
                        events["postgres_resume"] = time.time()
                    else:
                        good = open(os.path.join(work, "routes", "50-soak.yaml")).read()
                        open(os.path.join(work, "routes", "60-broken.yaml"), "w").write("routes: [ { name: broken\n")
                        events["bad_routes_reload"] = [admin_reload(cluster.ports[r]) for r in "AB"]
                        os.remove(os.path.join(work, "routes", "60-broken.yaml"))
                        open(os.path.join(work, "routes", "50-soak.yaml"), "w").write(good + "  - { name: soak-extra, when: { feature: model, eq: soak-extra }, target: gpt-5-mini }\n")
                        events["good_routes_reload"] = [admin_reload(cluster.ports[r]) for r in "AB"]
                samples.append((time.time() - start, *sample(pid_a)))
                time.sleep(0.5)

        traffic.run(args.duration, faults)
        time.sleep(1)  # the last rows' flush interval is 50 ms
        alive = {name: cluster.procs[name].poll() is None for name in "AB"}
        # The spilled rows ship once PostgreSQL answers (a probe a second, 1,000 rows a batch).
        drain_start = time.time()
        wait_for(lambda: cluster.spilled_rows() == 0, 120, "shipping the spilled ledger rows")
        events["spill_drained_s"] = round(time.time() - drain_start, 2)
    finally:
        cluster.stop()

    results = traffic.results
    # The shared ledger, after a graceful stop (every queued row written).
    rows, duplicates = {}, 0
    try:
        for line in cluster.psql("SELECT request_id, key_id, team, cost_nanos, http_status FROM ledger_entry", cluster.ledger_url).splitlines():
            request_id, key_id, team, cost, status = line.split("|")
            duplicates += request_id in rows
            rows[request_id] = (key_id, team, int(cost), int(status))
        left_spilled = cluster.spilled_rows()
    finally:
        cluster.drop_database()

    ok = [r for r in results if r.get("status") == 200]
    missing = [r for r in ok if r.get("request_id") not in rows]
    in_window = [r for r in missing if r["replica"] == "B" and "kill_B" in events
                 and events["kill_B"] - FLUSH_WINDOW_S <= r["end"] <= events["kill_B"] + FLUSH_WINDOW_S]
    lost = [r for r in missing if r not in in_window]
    budget_spent = sum(cost for (_, team, cost, _) in rows.values() if team == "finance") / 1e9
    pause = (events.get("postgres_pause", 0), events.get("postgres_resume", 0))
    answered_in_pause = sum(1 for r in ok if pause[0] <= r["start"] and r["end"] <= pause[1])
    statuses = {}
    for r in results:
        label = str(r.get("status") or r.get("error"))
        statuses[label] = statuses.get(label, 0) + 1
    kinds = {}
    for r in ok:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    third = max(1, len(samples) // 3)
    first, last = samples[:third], samples[-third:]
    rss_first, rss_last = sum(s[1] for s in first) / len(first), sum(s[1] for s in last) / len(last)
    fd_first, fd_last = max(s[2] for s in first), max(s[2] for s in last)
    logs = "".join(open(os.path.join(work, f"gateway-{n}.log"), errors="replace").read() for n in "AB")
    fatal = [line for line in logs.splitlines() if "Fatal error" in line or "Crash" in line]

    summary = {
        "duration_s": args.duration, "workers": args.workers, "requests": len(results), "statuses": statuses,
        "answered_by_kind": kinds, "cache_hits": sum(1 for r in ok if r.get("cache") in ("exact", "semantic")),
        "fallbacks": sum(1 for r in ok if r.get("fallback") not in (None, "none")),
        "budget_refusals": sum(1 for r in results if r.get("code") == "budget_exceeded"),
        "ledger_rows": len(rows), "ok_without_row": len(missing), "ok_without_row_in_kill_window": len(in_window),
        "ok_without_row_lost": len(lost), "ledger_rows_twice": duplicates, "left_in_spill_files": left_spilled,
        "spilled_batches_logged": logs.count("ledger rows spilled to the local file"), "answered_during_postgres_pause": answered_in_pause,
        "budget_usd": BUDGET_USD, "budget_spent_usd": round(budget_spent, 9),
        "replica_alive_at_end": alive, "fatal_log_lines": len(fatal), "events": events,
        "rss_kb_first_third": round(rss_first), "rss_kb_last_third": round(rss_last),
        "fds_first_third_max": fd_first, "fds_last_third_max": fd_last,
        "incomplete_streams_answered_200": sum(1 for r in ok if r.get("complete") is False),
        "rss_kb_by_tenth": [round(samples[min(len(samples) - 1, i * len(samples) // 10)][1]) for i in range(10)] + [samples[-1][1]],
    }
    print(json.dumps(summary, indent=2))

    def check(condition, text):
        print(("ok " if condition else "FAIL ") + text)
        if not condition:
            failures.append(text)

    check(all(alive.values()) and not fatal, "no crash: both replicas alive at the end, no fatal errors logged")
    check(not lost, f"every 200 has its ledger row ({len(in_window)} of replica B within the kill window, reported, not counted)")
    check(duplicates == 0 and left_spilled == 0, f"no ledger row twice ({duplicates}), none left in the spill files ({left_spilled})")
    check(answered_in_pause > 0 and summary["spilled_batches_logged"] > 0,
          f"requests answered while PostgreSQL was paused ({answered_in_pause}), rows spilled meanwhile and shipped after")
    check(budget_spent <= BUDGET_USD, f"the budget key spent {budget_spent:.6f} of {BUDGET_USD} USD")
    # Past 90% the shipped routes move the key to gpt-5-mini, whose reservation (200 output
    # tokens and the prompt) is under $0.0005: once less than that is left, it must be refused.
    # (A $0.01 budget runs out after about 60 of the key's requests; a loaded 40 s run sends
    # over a thousand.)
    check(summary["budget_refusals"] > 0 or budget_spent < BUDGET_USD - 0.0005,
          "the budget key was refused once what was left could not cover its cheapest request")
    check(summary["cache_hits"] > 0 and summary["fallbacks"] > 0 and kinds.get("stream", 0) > 0, "cache hits, fallbacks and streams answered")
    check(events.get("bad_routes_reload") == [422, 422] and events.get("good_routes_reload") == [200, 200],
          "a broken routes file is refused (422) and a good one loaded (200) by both replicas")
    check(fd_last <= fd_first + 16, f"file descriptors flat ({fd_first} -> {fd_last})")
    check(rss_last <= rss_first * 1.5 + 16384, f"memory flat ({rss_first / 1024:.0f} -> {rss_last / 1024:.0f} MiB resident)")
    check(statuses.get("200", 0) > len(results) / 4, "at least a quarter of the requests answered (the rest: budget and rate refusals, a killed replica)")
    if args.json:
        summary["failures"] = failures
        open(args.json, "w").write(json.dumps(summary, indent=2) + "\n")
    if failures:
        print("--- gateway logs (last lines)")
        print("\n".join(logs.splitlines()[-40:]))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
