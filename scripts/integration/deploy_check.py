#!/usr/bin/env python3
"""Checks Deploy/ against the gateway it deploys (run by scripts/integration/deploy.sh).

  deploy_check.py static
      Parses Deploy/Dockerfile, Deploy/compose.yaml (with the compose-spec JSON schema), its
      HAProxy and Prometheus files, every Kubernetes manifest (with Kubernetes' own schemas,
      strict, for the oldest and newest supported versions) and the systemd unit, and checks
      them against each other and against tollgate.yaml: ports, paths, health checks,
      variables, the ConfigMaps' content.

  deploy_check.py live --bin DIR --work DIR [--redis-url URL] [--strace] [--haproxy]
                      [--prometheus]
      Runs the built gateway as each deployment would: the systemd unit's ExecStart from a
      copy of the layout it assumes, the image's command with the compose service's settings
      (two replicas, behind the compose HAProxy configuration and scraped by the compose
      Prometheus configuration when those are installed) and the Kubernetes Deployment's
      container with its ConfigMaps laid out as the kubelet mounts them. Each runs as a non-root
      user, under no-new-privileges with an empty capability bounding set and
      memory-deny-write-execute, and answers its health checks, a chat completion through the
      fake provider and a local embedding, then drains on SIGTERM in time.

Prints "ok ...", "FAIL ..." or "skipped: ..." per check; exits 1 when anything failed.
"""
from __future__ import annotations

import argparse
import ctypes
import fnmatch
import hashlib
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "Deploy"
K8S = DEPLOY / "kubernetes"
UNIT = DEPLOY / "systemd" / "tollgate.service"
# The oldest and newest Kubernetes minor versions the manifests are validated against.
K8S_VERSIONS = ("1.29", "1.37")
# Variables read by something other than the gateway's own code, and why.
RUNTIME_VARIABLES = {"SWIFT_BACKTRACE": "the Swift runtime's crash backtracer"}
COMPOSE_VARIABLES = {"POSTGRES_PASSWORD"}

failures = 0
passes = 0


def ok(message: str) -> None:
    global passes
    passes += 1
    print(f"ok {message}", flush=True)


def fail(message: str) -> None:
    global failures
    failures += 1
    print(f"FAIL {message}", flush=True)


def skipped(message: str) -> None:
    print(f"skipped: {message}", flush=True)


def check(condition: bool, message: str, detail: str = "") -> bool:
    if condition:
        ok(message)
    else:
        fail(message + (f": {detail}" if detail else ""))
    return condition


def seconds(value) -> float:
    """'30s', '1m30s', '45', 45 -> seconds (Go, systemd and compose durations)."""
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    total = 0.0
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h)", text):
        total += float(number) * units[unit]
    return total


# ---------------------------------------------------------------------------------------------
# What the gateway reads


class Gateway:
    """tollgate.yaml and the variables this build reads."""

    def __init__(self) -> None:
        self.config = yaml.safe_load((ROOT / "tollgate.yaml").read_text())
        server = self.config.get("server", {})
        self.port = int(server.get("port", 8080))
        self.grace = seconds(server.get("shutdown_grace_period", "30s"))
        self.dirs = {
            "routes": self.config.get("routes_dir", "routes"),
            "budgets": self.config.get("budgets_dir", "budgets"),
            "prompts": self.config.get("prompts_dir", "prompts"),
        }
        self.model_dir = self.config.get("embeddings", {}).get("model_dir", "models/all-MiniLM-L6-v2")
        self.tokenizer_dir = "models/tokenizers"  # Tokenizers.defaultDirectory, relative to the working dir
        providers = self.config.get("providers", {}) or {}
        self.provider_keys = sorted(p["api_key_env"] for p in providers.values() if p.get("api_key_env"))
        self.provider_total = max(
            (seconds(p.get("timeouts", {}).get("total", "600s")) for p in providers.values()), default=600
        )
        self.variables = self._variables()
        self.spec_variables = self._spec_variables()

    def _variables(self) -> set[str]:
        names: set[str] = set()
        shipped = [ROOT / "tollgate.yaml"] + [
            f for d in ("routes", "budgets", "prompts") for f in sorted((ROOT / d).glob("*")) if f.is_file()
        ]
        for path in shipped:
            names |= set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", path.read_text()))
        names |= set(self.provider_keys)
        keys = yaml.safe_load((ROOT / "budgets" / "keys.yaml").read_text()) or {}
        names |= {k["secret_env"] for k in keys.get("keys") or [] if k.get("secret_env")}
        for source in (ROOT / "Sources").rglob("*.swift"):
            names |= set(re.findall(r'(?:environment\[|getenv\()"([A-Z][A-Z0-9_]*)"', source.read_text()))
        return names

    @staticmethod
    def _spec_variables() -> set[str]:
        for spec in (ROOT.parent / "shared" / "SPEC.md", Path("/work/shared/SPEC.md")):
            if spec.is_file():
                return set(re.findall(r"\b((?:TOLLGATE|OPENAI|ANTHROPIC)_[A-Z0-9_]+)\b", spec.read_text()))
        return set()

    def check_variables(self, where: str, names) -> None:
        names = sorted(set(names))
        unknown = []
        for name in names:
            if name in self.variables or name in RUNTIME_VARIABLES:
                continue
            note = " (SPEC.md names it, but this build does not read it)" if name in self.spec_variables else ""
            unknown.append(name + note)
        check(not unknown, f"{where}: every variable is one the gateway reads ({', '.join(names)})",
              "not read by tollgate: " + ", ".join(unknown))


def repo_config_files() -> list[str]:
    """The files the ConfigMaps hold, in the checksum's order (as render-configmaps.sh)."""
    files = ["tollgate.yaml"]
    for directory in ("routes", "budgets", "prompts"):
        files += sorted(str(p.relative_to(ROOT)) for p in (ROOT / directory).iterdir() if p.is_file())
    return files


def config_checksum() -> str:
    lines = "".join(f"{hashlib.sha256((ROOT / f).read_bytes()).hexdigest()}  {f}\n" for f in repo_config_files())
    return hashlib.sha256(lines.encode()).hexdigest()


# ---------------------------------------------------------------------------------------------
# Dockerfile


class Dockerfile:
    def __init__(self, path: Path) -> None:
        text = path.read_text()
        self.args: dict[str, str] = {}
        self.stages: list[dict] = []  # {"from", "name", "instructions": [(INSTR, rest)]}
        joined, buffer = [], ""
        for line in text.splitlines():
            if not buffer and line.lstrip().startswith("#"):
                continue
            if line.rstrip().endswith("\\"):
                buffer += line.rstrip()[:-1] + " "
                continue
            buffer += line
            if buffer.strip():
                joined.append(buffer.strip())
            buffer = ""
        for line in joined:
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            rest = rest.strip()
            if instruction == "ARG" and not self.stages:
                name, _, default = rest.partition("=")
                self.args[name] = default
            elif instruction == "FROM":
                parts = rest.split()
                image = re.sub(r"\$\{(\w+)\}", lambda m: self.args.get(m.group(1), ""), parts[0])
                name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
                self.stages.append({"from": image, "name": name, "instructions": []})
            elif self.stages:
                self.stages[-1]["instructions"].append((instruction, rest))
        self.final = self.stages[-1]["instructions"] if self.stages else []

    def last(self, instruction: str, stage=None):
        found = [rest for instr, rest in (stage or self.final) if instr == instruction]
        return found[-1] if found else None

    def all(self, instruction: str, stage=None):
        return [rest for instr, rest in (stage or self.final) if instr == instruction]

    def exec_form(self, instruction: str) -> list[str]:
        rest = self.last(instruction)
        if rest is None:
            return []
        if rest.upper().startswith("CMD "):  # HEALTHCHECK ... CMD [...]
            rest = rest[4:]
        try:
            return json.loads(rest)
        except json.JSONDecodeError:
            return []

    def env(self) -> dict[str, str]:
        values = {}
        for rest in self.all("ENV"):
            for token in shlex.split(rest):
                name, _, value = token.partition("=")
                values[name] = value
        return values

    def healthcheck(self) -> tuple[dict[str, str], list[str]]:
        rest = self.last("HEALTHCHECK") or ""
        options = dict(re.findall(r"--([\w-]+)=(\S+)", rest))
        command = rest[rest.find("CMD ") + 4:] if "CMD " in rest else ""
        try:
            return options, json.loads(command)
        except json.JSONDecodeError:
            return options, shlex.split(command)

    def copies(self):
        """(from_stage or None, [sources], destination) for every COPY of the final stage."""
        result = []
        for rest in self.all("COPY"):
            tokens = shlex.split(rest)
            source_stage = None
            for token in [t for t in tokens if t.startswith("--")]:
                if token.startswith("--from="):
                    source_stage = token.split("=", 1)[1]
            paths = [t for t in tokens if not t.startswith("--")]
            result.append((source_stage, paths[:-1], paths[-1]))
        return result


def dockerignore_includes(patterns: list[str], path: str) -> bool:
    """BuildKit's rule, simplified: the last matching pattern wins; a pattern matches the path
    or any of its parent directories."""
    included = True
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        pattern = pattern.strip("/")
        if any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes):
            included = negate
    return included


def check_dockerfile(gw: Gateway) -> dict:
    print("# Dockerfile", flush=True)
    d = Dockerfile(DEPLOY / "Dockerfile")
    image: dict = {}
    check(len(d.stages) >= 2, f"Dockerfile has {len(d.stages)} stages (multi-stage)")
    check(d.stages[0]["from"].startswith("swift:") and "bookworm" in d.stages[0]["from"],
          f"Dockerfile builds in the Swift image ({d.stages[0]['from']})")
    check(d.stages[-1]["from"] == "debian:bookworm-slim", f"Dockerfile runs on {d.stages[-1]['from']}")
    build = d.stages[0]["instructions"]
    build_runs = " ".join(d.all("RUN", build))
    check("--product tollgate" in build_runs and "-c release" in build_runs and "--static-swift-stdlib" in build_runs,
          "Dockerfile builds the release binary with the Swift runtime linked in statically")
    for package in ("libcurl4-openssl-dev", "libhiredis-dev", "libsqlite3-dev", "libopenblas-dev"):
        if package not in build_runs:
            fail(f"Dockerfile build stage does not install {package}")
    runtime_runs = " ".join(d.all("RUN"))
    missing = [p for p in ("libcurl4", "libhiredis0.14", "libsqlite3-0", "libopenblas0", "ca-certificates", "tzdata")
               if not re.search(rf"(?<![\w.-]){re.escape(p)}(?![\w.-])", runtime_runs)]
    check(not missing, "Dockerfile runtime installs libcurl4, libhiredis0.14, libsqlite3-0, libopenblas0, CA certificates, tzdata",
          "missing " + ", ".join(missing))
    check(not re.search(r"\b[\w.+-]+-dev\b", runtime_runs), "Dockerfile runtime installs no -dev package")

    user = d.last("USER") or "root"
    uid = user.split(":")[0]
    check(uid.isdigit() and int(uid) != 0, f"Dockerfile runs as a numeric non-root user ({user})")
    image["uid"] = int(uid) if uid.isdigit() else 0
    image["gid"] = int(user.split(":")[1]) if ":" in user and user.split(":")[1].isdigit() else image["uid"]
    after_user = [rest for instr, rest in d.final[[i for i, (instr, _) in enumerate(d.final) if instr == "USER"][-1]:]
                  if instr == "RUN"] if d.last("USER") else []
    check(any(re.search(r"\btollgate routes check\b", rest) for rest in after_user),
          "Dockerfile runs the binary on the runtime image as its user (tollgate routes check): a missing library fails the build")
    workdir = d.last("WORKDIR") or "/"
    image["workdir"] = workdir
    image["env"] = d.env()
    image["entrypoint"] = d.exec_form("ENTRYPOINT")
    image["cmd"] = d.exec_form("CMD")
    gw.check_variables("Dockerfile ENV", image["env"].keys())
    data_dir = image["env"].get("TOLLGATE_DATA_DIR", "")
    image["data_dir"] = data_dir
    check(data_dir.startswith("/") and re.search(rf"install -d -o {uid} -g \d+ -m 07\d0 {re.escape(data_dir)}\b", runtime_runs) is not None,
          f"Dockerfile makes TOLLGATE_DATA_DIR ({data_dir}) owned by the user, and only it")

    exposed = " ".join(d.all("EXPOSE")).split()
    check(str(gw.port) in [e.split("/")[0] for e in exposed], f"Dockerfile exposes server.port {gw.port}", f"EXPOSE {exposed}")
    options, health = d.healthcheck()
    health_text = " ".join(health)
    check(f"127.0.0.1:{gw.port}/health/live" in health_text or f"localhost:{gw.port}/health/live" in health_text,
          f"Dockerfile HEALTHCHECK asks /health/live on port {gw.port}", health_text)
    image["healthcheck"] = health
    check(seconds(options.get("start-period", "0s")) >= 10, "Dockerfile HEALTHCHECK gives the gateway a start period")

    argv = image["entrypoint"] + image["cmd"]
    check(bool(argv) and argv[0].endswith("/tollgate") and "serve" in argv, f"Dockerfile runs tollgate serve ({' '.join(argv)})")
    config = argv[argv.index("--config") + 1] if "--config" in argv else None
    check("--host" in argv and argv[argv.index("--host") + 1] == "0.0.0.0",
          "Dockerfile's command listens on all interfaces (--host 0.0.0.0)")
    copies = d.copies()
    destinations = {dest.rstrip("/"): (stage, sources) for stage, sources, dest in copies}
    image["config"] = config
    check(config is not None and config in destinations and destinations[config][1] == ["tollgate.yaml"],
          f"Dockerfile copies tollgate.yaml to the --config path ({config})")
    for key, directory in gw.dirs.items():
        target = os.path.normpath(os.path.join(workdir, directory))
        check(target in destinations and destinations[target][1] == [key],
              f"Dockerfile copies {key}/ to {target} (WORKDIR + tollgate.yaml's {key}_dir)")
    # The models stage fetches both, the runtime copies them to WORKDIR/models.
    models_stage = next((s for s in d.stages if s["name"] == "models"), None)
    models_runs = " ".join(d.all("RUN", models_stage["instructions"])) if models_stage else ""
    model_copy = next(((sources, dest) for stage, sources, dest in copies if stage == "models"), None)
    for what, relative, script in (("embedding model", gw.model_dir, "setup-model.sh"),
                                   ("tokenizer rank files", gw.tokenizer_dir, "setup-tokenizer.sh")):
        image_path = os.path.normpath(os.path.join(workdir, relative))
        fetched = None
        if model_copy:
            source, dest = model_copy[0][0].rstrip("/"), model_copy[1].rstrip("/")
            if image_path.startswith(dest + "/"):
                fetched = source + image_path[len(dest):]
        check(fetched is not None and re.search(rf"{script} {re.escape(fetched)}(\s|$)", models_runs) is not None,
              f"Dockerfile puts the {what} at {image_path} ({script} into the models stage, copied over)")
    check(any(stage == "build" and dest.endswith("/tollgate") for stage, _, dest in copies),
          "Dockerfile copies the binary from the build stage")
    backtrace = image["env"].get("SWIFT_BACKTRACE", "")
    helper = re.search(r"swift-backtrace=(\S+?)(,|$)", backtrace)
    if backtrace:
        check(helper is not None and any(dest == helper.group(1) for stage, _, dest in copies if stage == "build"),
              "Dockerfile copies the backtracer that SWIFT_BACKTRACE names")

    ignore = [line.strip() for line in (DEPLOY / "Dockerfile.dockerignore").read_text().splitlines()
              if line.strip() and not line.strip().startswith("#")]
    context_sources = [s for stage in d.stages for instr, rest in stage["instructions"] if instr == "COPY"
                       for s in shlex.split(rest)[:-1] if not s.startswith("--") and "--from=" not in rest]
    excluded = [s for s in context_sources if not dockerignore_includes(ignore, s)]
    check(not excluded, f"Dockerfile.dockerignore keeps every file COPY needs ({len(context_sources)} sources)",
          "ignored: " + ", ".join(excluded))
    leaked = [p for p in (".build/debug/tollgate", "models/tokenizers/o200k_base.tiktoken", ".git/HEAD", "data/ledger.sqlite",
                          "Package.resolved") if dockerignore_includes(ignore, p)]
    check(not leaked, "Dockerfile.dockerignore leaves .build/, models/, .git/, data/ and Package.resolved out",
          "sent: " + ", ".join(leaked))
    return image


# ---------------------------------------------------------------------------------------------
# compose


def compose_schema_check(document: dict) -> None:
    try:
        import importlib.resources
        import jsonschema
        schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
        schema = json.loads(schema_file.read_text())
    except (ImportError, FileNotFoundError, ModuleNotFoundError) as error:
        skipped(f"compose-spec schema (check-jsonschema not installed: {error})")
        return
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    check(not errors, "compose.yaml is valid against the Compose Specification's JSON schema",
          "; ".join(f"{'/'.join(map(str, e.path))}: {e.message[:200]}" for e in errors[:5]))


def parse_mount(entry, base: Path):
    """A compose short- or long-syntax volume -> (kind, source, target, read_only)."""
    if isinstance(entry, dict):
        kind, source, target = entry.get("type", "volume"), entry.get("source"), entry["target"]
        read_only = bool(entry.get("read_only"))
    else:
        parts = entry.split(":")
        source, target = parts[0], parts[1]
        read_only = len(parts) > 2 and "ro" in parts[2].split(",")
        kind = "bind" if source.startswith((".", "/", "~")) else "volume"
    if kind == "bind":
        source = str((base / source).resolve())
    return kind, source, target, read_only


def compose_environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def published_container_ports(service: dict) -> set[int]:
    ports = set()
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            ports.add(int(entry["target"]))
        else:
            ports.add(int(str(entry).split(":")[-1].split("/")[0]))
    return ports


def parse_haproxy(path: Path) -> dict:
    sections: dict[str, list[list[str]]] = {}
    current = None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not raw.startswith((" ", "\t")):
            current = line
            sections[current] = []
        elif current:
            sections[current].append(line.split())
    return sections


def check_compose(gw: Gateway, image: dict) -> dict:
    print("# compose", flush=True)
    text = (DEPLOY / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    compose_schema_check(compose)
    services = compose.get("services", {})
    gateways = sorted(name for name, s in services.items()
                      if (s.get("build") or {}).get("dockerfile", "").endswith("Dockerfile"))
    check(len(gateways) >= 2, f"compose runs {len(gateways)} gateway replicas ({', '.join(gateways)})")
    redis = [name for name, s in services.items() if str(s.get("image", "")).startswith(("redis:", "valkey/"))]
    check(len(redis) == 1, f"compose runs one Redis ({', '.join(redis)})")
    redis_name = redis[0] if redis else "redis"
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    # Compose's own: the PostgreSQL service's password, which the ledger URL repeats.
    gw.check_variables("compose.yaml interpolation", interpolated - COMPOSE_VARIABLES)
    postgres = [n for n, s in services.items() if str(s.get("image", "")).startswith("postgres:")]
    check(len(postgres) == 1 and "TOLLGATE_LEDGER_URL" in gw.variables,
          "compose runs one PostgreSQL, for the ledger the gateway reads from TOLLGATE_LEDGER_URL", ", ".join(postgres))
    pg_name = postgres[0] if postgres else "postgres"
    pg = services.get(pg_name, {})
    pg_env = compose_environment(pg)
    pg_health = " ".join(pg.get("healthcheck", {}).get("test", []))
    pg_mounts = [parse_mount(v, DEPLOY) for v in pg.get("volumes") or []]
    check("pg_isready" in pg_health and any(kind == "volume" and target == "/var/lib/postgresql/data" for kind, _, target, _ in pg_mounts),
          f"compose {pg_name}: a pg_isready health check and its data on a volume", pg_health)
    check("POSTGRES_PASSWORD:?" in str(pg_env.get("POSTGRES_PASSWORD", "")),
          f"compose {pg_name}: the password comes from POSTGRES_PASSWORD, required (no default in the file)")

    data_volumes = []
    for name in gateways:
        service = services[name]
        env = compose_environment(service)
        gw.check_variables(f"compose {name} environment", env.keys())
        check(env.get("TOLLGATE_REDIS_URL") == f"redis://{redis_name}:6379",
              f"compose {name}: TOLLGATE_REDIS_URL points at the {redis_name} service", env.get("TOLLGATE_REDIS_URL", "unset"))
        ledger_url = env.get("TOLLGATE_LEDGER_URL", "")
        check(ledger_url.startswith("postgres://") and f"@{pg_name}:5432/{pg_env.get('POSTGRES_DB')}" in ledger_url
              and f"{pg_env.get('POSTGRES_USER')}:" in ledger_url and "${POSTGRES_PASSWORD" in ledger_url,
              f"compose {name}: TOLLGATE_LEDGER_URL points at the {pg_name} service's database, user and password", ledger_url or "unset")
        depends = service.get("depends_on") or {}
        check(isinstance(depends, dict) and (depends.get(redis_name) or {}).get("condition") == "service_healthy"
              and (depends.get(pg_name) or {}).get("condition") == "service_healthy",
              f"compose {name} starts once Redis and PostgreSQL are healthy")
        health = " ".join(service.get("healthcheck", {}).get("test", [])) or " ".join(image["healthcheck"])
        check(f":{gw.port}/health/live" in health, f"compose {name} health check asks /health/live on port {gw.port}", health)
        grace = seconds(service.get("stop_grace_period", "10s"))
        check(grace > gw.grace, f"compose {name}: stop_grace_period {grace:g}s > shutdown_grace_period {gw.grace:g}s")
        check(service.get("read_only") is True and "ALL" in (service.get("cap_drop") or [])
              and "no-new-privileges:true" in (service.get("security_opt") or []),
              f"compose {name}: read-only root, no capabilities, no-new-privileges")
        command = service.get("command") or image["cmd"]
        config = command[command.index("--config") + 1] if "--config" in command else None
        mounts = [parse_mount(v, DEPLOY) for v in service.get("volumes") or []]
        by_target = {target: (kind, source, ro) for kind, source, target, ro in mounts}
        wanted = {config: ROOT / "tollgate.yaml"}
        for key, directory in gw.dirs.items():
            wanted[os.path.normpath(os.path.join(image["workdir"], directory))] = ROOT / key
        for target, source in wanted.items():
            mount = by_target.get(target)
            check(mount is not None and mount[0] == "bind" and Path(mount[1]) == source.resolve() and mount[2],
                  f"compose {name} mounts {source.relative_to(ROOT)} read-only at {target}", str(mount))
        data = by_target.get(image["data_dir"])
        check(data is not None and data[0] == "volume", f"compose {name} keeps TOLLGATE_DATA_DIR ({image['data_dir']}) on a volume")
        if data:
            data_volumes.append(data[1])
        service["_config"] = config
    check(len(set(data_volumes)) == len(data_volumes), "compose gives each replica its own data volume (replica id, ledger spill file)")

    redis_command = " ".join(map(str, services.get(redis_name, {}).get("command") or []))
    policy = re.search(r"--maxmemory-policy\s+(\S+)", redis_command)
    check(policy is None or not policy.group(1).startswith("allkeys"),
          "compose Redis never evicts keys without a TTL (the gateways' seed markers)", redis_command)

    # Load balancer.
    balancers = [n for n, s in services.items() if str(s.get("image", "")).startswith("haproxy:")]
    lb = {}
    if check(len(balancers) == 1, "compose runs HAProxy in front of the replicas"):
        lb_service = services[balancers[0]]
        mounts = [parse_mount(v, DEPLOY) for v in lb_service.get("volumes") or []]
        cfg_path = next((Path(src) for kind, src, target, _ in mounts if target.endswith("haproxy.cfg")), None)
        if check(cfg_path is not None and cfg_path.is_file(), f"compose mounts the HAProxy configuration ({cfg_path})"):
            sections = parse_haproxy(cfg_path)
            backend = next((lines for title, lines in sections.items() if title.startswith("backend")), [])
            servers = {line[2].rsplit(":", 1)[0]: int(line[2].rsplit(":", 1)[1]) for line in backend if line[0] == "server"}
            check(set(servers) == set(gateways) and set(servers.values()) == {gw.port},
                  f"HAProxy balances over {', '.join(sorted(servers))} on port {gw.port}", str(servers))
            backend_text = " ".join(" ".join(line) for line in backend)
            check("/health/ready" in backend_text and "check" in backend_text, "HAProxy takes a replica out while /health/ready fails")
            frontend = next((lines for title, lines in sections.items() if title.startswith("frontend")), [])
            binds = {int(line[1].rsplit(":", 1)[1]) for line in frontend if line[0] == "bind"}
            check(binds and binds <= published_container_ports(lb_service),
                  f"compose publishes HAProxy's port ({', '.join(map(str, binds))})")
            defaults = next((lines for title, lines in sections.items() if title.startswith("defaults")), [])
            timeouts = {line[1]: seconds(line[2]) for line in defaults if line[0] == "timeout"}
            check(min(timeouts.get("server", 0), timeouts.get("client", 0)) > gw.provider_total,
                  f"HAProxy's client and server timeouts exceed the providers' total timeout ({gw.provider_total:g}s): streams are not cut")
            lb = {"config": cfg_path, "port": min(binds) if binds else None}

    # Prometheus.
    proms = [n for n, s in services.items() if "prometheus" in str(s.get("image", ""))]
    prom = {}
    if check(len(proms) == 1, "compose runs Prometheus"):
        mounts = [parse_mount(v, DEPLOY) for v in services[proms[0]].get("volumes") or []]
        config_path = next((Path(src) for kind, src, target, _ in mounts if target.endswith("prometheus.yml")), None)
        rules_target = next((target for kind, src, target, _ in mounts
                             if kind == "bind" and Path(src) == (DEPLOY / "prometheus" / "alerts.yaml").resolve()), None)
        if check(config_path is not None and config_path.is_file(), "compose mounts a Prometheus configuration"):
            prometheus = yaml.safe_load(config_path.read_text())
            check(rules_target is not None and rules_target in (prometheus.get("rule_files") or []),
                  f"Prometheus loads Deploy/prometheus/alerts.yaml (mounted at {rules_target})")
            jobs = prometheus.get("scrape_configs") or []
            targets = {(job.get("metrics_path", "/metrics"), t) for job in jobs
                       for sc in job.get("static_configs") or [] for t in sc.get("targets") or []}
            want = {("/metrics", f"{g}:{gw.port}") for g in gateways}
            check(want <= targets, f"Prometheus scrapes /metrics of {', '.join(sorted(t for _, t in want))}", str(targets))
            prom = {"config": config_path, "rules_target": rules_target}
    return {"services": services, "gateways": gateways, "lb": lb, "prometheus": prom, "redis": redis_name}


# ---------------------------------------------------------------------------------------------
# Kubernetes


def load_manifests() -> list[tuple[str, dict]]:
    documents = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                documents.append((path.name, document))
    return documents


def resolve_port(port, container: dict):
    if isinstance(port, int):
        return port
    return next((p["containerPort"] for p in container.get("ports", []) if p.get("name") == port), None)


def selects(selector: dict, labels: dict) -> bool:
    match = selector.get("matchLabels", selector) if isinstance(selector, dict) else {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def check_kubernetes(gw: Gateway, image: dict) -> dict:
    print("# Kubernetes", flush=True)
    documents = load_manifests()
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    files = sorted({name for name, _ in documents})
    check(sorted(kustomization.get("resources", [])) == files, f"kustomization.yaml lists every manifest ({', '.join(files)})",
          str(kustomization.get("resources")))
    try:
        import kubernetes_validate
        for name, document in documents:
            what = f"{name} {document.get('kind')}/{document.get('metadata', {}).get('name')}"
            problems = []
            for version in K8S_VERSIONS:
                try:
                    kubernetes_validate.validate(document, version, strict=True)
                except kubernetes_validate.ValidationError as error:
                    problems.append(f"{version}: {'/'.join(map(str, error.path))}: {error.message[:200]}")
                except Exception as error:  # schema not found and the like
                    problems.append(f"{version}: {type(error).__name__}: {str(error)[:200]}")
            check(not problems, f"{what} is valid for Kubernetes {' and '.join(K8S_VERSIONS)} (strict schema)", "; ".join(problems))
    except ImportError:
        skipped("Kubernetes schema validation (kubernetes-validate not installed)")

    kinds: dict[str, list[dict]] = {}
    for _, document in documents:
        kinds.setdefault(document["kind"], []).append(document)
    deployment = (kinds.get("Deployment") or [None])[0]
    result: dict = {}
    if not check(deployment is not None, "a Deployment"):
        return result
    pod = deployment["spec"]["template"]
    pod_labels = pod["metadata"]["labels"]
    spec = pod["spec"]
    container = spec["containers"][0]
    check(selects(deployment["spec"]["selector"], pod_labels), "Deployment's selector matches its pods' labels")
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    check(gw.port in ports.values(), f"Deployment's container port is server.port {gw.port}", str(ports))
    probes = {}
    for kind, path in (("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live"), ("startupProbe", "/health/live")):
        probe = (container.get(kind) or {}).get("httpGet") or {}
        port = resolve_port(probe.get("port"), container)
        check(probe.get("path") == path and port == gw.port, f"Deployment {kind} asks {path} on port {gw.port}",
              f"{probe.get('path')} on {port}")
        probes[kind] = probe.get("path")
    resources = container.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    check("cpu" in requests and "memory" in requests and "memory" in limits,
          f"Deployment sets resource requests ({requests}) and limits ({limits})")
    security = spec.get("securityContext") or {}
    csecurity = container.get("securityContext") or {}
    check(security.get("runAsNonRoot") is True and security.get("runAsUser") == image.get("uid"),
          f"Deployment runs as non-root, as the image's user ({security.get('runAsUser')})")
    check(csecurity.get("readOnlyRootFilesystem") is True and csecurity.get("allowPrivilegeEscalation") is False
          and "ALL" in (csecurity.get("capabilities") or {}).get("drop", []),
          "Deployment container: read-only root filesystem, no privilege escalation, no capabilities")
    prestop = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    prestop_seconds = float(prestop[1]) if len(prestop) == 2 and prestop[0] == "sleep" else 0.0
    termination = spec.get("terminationGracePeriodSeconds", 30)
    check(termination > gw.grace + prestop_seconds,
          f"terminationGracePeriodSeconds {termination} > preStop {prestop_seconds:g}s + shutdown_grace_period {gw.grace:g}s")
    replicas = deployment["spec"].get("replicas")

    # Environment: names the gateway reads; secrets never inline.
    env = container.get("env") or []
    gw.check_variables("Deployment env", [e["name"] for e in env])
    by_name = {e["name"]: e for e in env}
    for name in gw.provider_keys + ["TOLLGATE_ADMIN_KEY", "TOLLGATE_REDIS_URL", "TOLLGATE_LEDGER_URL"]:
        entry = by_name.get(name) or {}
        check("secretKeyRef" in (entry.get("valueFrom") or {}), f"Deployment takes {name} from a Secret")
    ledger_ref = ((by_name.get("TOLLGATE_LEDGER_URL") or {}).get("valueFrom") or {}).get("secretKeyRef") or {}
    check(ledger_ref and not ledger_ref.get("optional"), "Deployment requires TOLLGATE_LEDGER_URL: its replicas share one ledger and key store")

    # Mounts: the ConfigMaps where tollgate.yaml's relative paths and --config point.
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in container.get("volumeMounts", [])}
    configmaps = {c["metadata"]["name"]: c for c in kinds.get("ConfigMap", [])}
    args = container.get("command") or image["entrypoint"]
    args = args + (container.get("args") or image["cmd"])
    check("--host" in args and args[args.index("--host") + 1] == "0.0.0.0", "Deployment's container listens on all interfaces")
    config = args[args.index("--config") + 1] if "--config" in args else image["config"]

    def configmap_at(path: str):
        for mount_path, mount in mounts.items():
            volume = volumes.get(mount["name"], {})
            if "configMap" in volume and (path == mount_path or path.startswith(mount_path + "/")):
                return volume["configMap"]["name"], path[len(mount_path) + 1:] if path != mount_path else None, mount
        return None, None, None

    name, key, mount = configmap_at(config)
    check(name in configmaps and key == "tollgate.yaml" and "subPath" not in (mount or {}),
          f"--config {config} is the tollgate.yaml key of a mounted ConfigMap ({name})")
    # ConfigMap name -> the repository files it must hold, by key.
    wanted = {name: {"tollgate.yaml": ROOT / "tollgate.yaml"}} if name else {}
    for directory_key, directory in gw.dirs.items():
        path = os.path.normpath(os.path.join(image["workdir"], directory))
        name, key, mount = configmap_at(path)
        check(name in configmaps and key is None and mount.get("readOnly") is True,
              f"{directory_key}/ is a ConfigMap ({name}) mounted read-only at {path}")
        if name:
            wanted[name] = {p.name: p for p in (ROOT / directory_key).iterdir() if p.is_file()}
    for name, files in wanted.items():
        data = (configmaps.get(name) or {}).get("data") or {}
        differing = sorted(key for key in set(files) | set(data)
                           if key not in files or key not in data or data[key] != files[key].read_text())
        check(not differing, f"ConfigMap {name} holds exactly the repository's files ({', '.join(sorted(files))})",
              "differs: " + ", ".join(differing) + " (run Deploy/kubernetes/render-configmaps.sh)")
    annotation = pod["metadata"].get("annotations", {}).get("checksum/config")
    check(annotation == config_checksum(), "the pods' checksum/config annotation is the configuration's sha256",
          "stale: run Deploy/kubernetes/render-configmaps.sh")
    data_env = (by_name.get("TOLLGATE_DATA_DIR") or {}).get("value") or image["data_dir"]
    data_mount = mounts.get(data_env)
    data_volume = volumes.get((data_mount or {}).get("name"), {})
    check(data_mount is not None and not data_mount.get("readOnly") and ("emptyDir" in data_volume or "persistentVolumeClaim" in data_volume),
          f"TOLLGATE_DATA_DIR ({data_env}) is a writable volume")
    check("/tmp" in mounts and not mounts["/tmp"].get("readOnly"), "/tmp is a writable volume (read-only root filesystem)")

    # Service, PodDisruptionBudget, HorizontalPodAutoscaler.
    for service in kinds.get("Service", []):
        check(selects(service["spec"]["selector"], pod_labels), f"Service {service['metadata']['name']} selects the Deployment's pods")
        for port in service["spec"]["ports"]:
            target = resolve_port(port.get("targetPort", port["port"]), container)
            check(target == gw.port, f"Service port {port['port']} -> targetPort {port.get('targetPort')} = containerPort {gw.port}")
    hpas = kinds.get("HorizontalPodAutoscaler", [])
    min_replicas = None
    for hpa in hpas:
        ref = hpa["spec"]["scaleTargetRef"]
        check(ref.get("kind") == "Deployment" and ref.get("name") == deployment["metadata"]["name"],
              f"HorizontalPodAutoscaler scales the Deployment ({ref.get('name')})")
        min_replicas = hpa["spec"].get("minReplicas", 1)
        check(min_replicas >= 2, f"HorizontalPodAutoscaler keeps at least 2 replicas ({min_replicas})")
        cpu = any(m.get("resource", {}).get("name") == "cpu" for m in hpa["spec"].get("metrics", []))
        check(not cpu or "cpu" in requests, "HorizontalPodAutoscaler's CPU target has a CPU request to be measured against")
    check(bool(hpas), "a HorizontalPodAutoscaler")
    check(replicas is None or replicas >= 2, f"Deployment replicas: {replicas if replicas is not None else 'set by the HorizontalPodAutoscaler'}")
    pdbs = kinds.get("PodDisruptionBudget", [])
    check(bool(pdbs), "a PodDisruptionBudget")
    for pdb in pdbs:
        check(selects(pdb["spec"]["selector"], pod_labels), "PodDisruptionBudget selects the Deployment's pods")
        available = pdb["spec"].get("minAvailable")
        floor = min_replicas or replicas or 1
        check(isinstance(available, int) and available < floor,
              f"PodDisruptionBudget minAvailable {available} < {floor} replicas: a drain can always proceed")
    result.update({"deployment": deployment, "container": container, "configmaps": configmaps, "volumes": volumes,
                   "mounts": mounts, "args": args, "prestop": prestop_seconds, "termination": termination})
    return result


# ---------------------------------------------------------------------------------------------
# systemd


def parse_unit(path: Path) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        values.setdefault(key.strip(), []).append(value.strip())
    return values


def check_unit(gw: Gateway) -> dict:
    print("# systemd", flush=True)
    unit = parse_unit(UNIT)
    first = lambda key: (unit.get(key) or [None])[-1]  # noqa: E731
    exec_start = shlex.split(first("ExecStart") or "")
    check(exec_start[:2] == ["/usr/local/bin/tollgate", "serve"], f"ExecStart runs tollgate serve ({' '.join(exec_start)})")
    workdir = first("WorkingDirectory")
    config = exec_start[exec_start.index("--config") + 1] if "--config" in exec_start else None
    check(first("ConfigurationDirectory") == "tollgate" and workdir == "/etc/tollgate" and config == "/etc/tollgate/tollgate.yaml",
          "configuration in /etc/tollgate (ConfigurationDirectory), the working directory tollgate.yaml's paths resolve against")
    environment = dict(item.split("=", 1) for value in unit.get("Environment", []) for item in shlex.split(value))
    gw.check_variables("tollgate.service Environment", environment.keys())
    check(first("StateDirectory") == "tollgate" and environment.get("TOLLGATE_DATA_DIR") == "/var/lib/tollgate",
          "TOLLGATE_DATA_DIR is the StateDirectory (/var/lib/tollgate)")
    check(first("TimeoutStopSec") is not None and seconds(first("TimeoutStopSec")) > gw.grace,
          f"TimeoutStopSec {first('TimeoutStopSec')} > shutdown_grace_period {gw.grace:g}s")
    required = {"DynamicUser": "yes", "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "MemoryDenyWriteExecute": "yes",
                "Restart": "on-failure", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX"}
    wrong = [f"{k}={first(k)}" for k, v in required.items() if first(k) != v]
    check(not wrong, "tollgate.service sandbox: " + ", ".join(f"{k}={v}" for k, v in required.items()), "got " + ", ".join(wrong))
    check(any(v.startswith("@system-service") for v in unit.get("SystemCallFilter", [])) and first("LimitNOFILE") is not None,
          "tollgate.service filters system calls to @system-service and sets LimitNOFILE")
    check((first("EnvironmentFile") or "").lstrip("-") == "/etc/tollgate/env", "keys come from /etc/tollgate/env (EnvironmentFile)")
    return {"unit": unit, "exec_start": exec_start, "workdir": workdir, "environment": environment}


# ---------------------------------------------------------------------------------------------
# live runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method: str, url: str, body=None, headers=None, timeout=10.0):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
    except OSError as error:
        return None, {}, str(error).encode()


def wait_http(url: str, seconds_: float, want=200, process: subprocess.Popen | None = None) -> bool:
    """Until url answers `want`, for at most seconds_, or until the process has exited."""
    deadline = time.monotonic() + seconds_
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        if http("GET", url, timeout=2)[0] == want:
            return True
        time.sleep(0.2)
    return False


def gateway_pid(process: subprocess.Popen, binary: str) -> int:
    """The gateway's pid: the process itself (setpriv execs it) or, under strace, its child."""
    target = os.path.realpath(binary)
    for _ in range(50):
        children: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                children.setdefault(ppid, []).append(int(entry.name))
        queue = [process.pid]
        while queue:
            pid = queue.pop(0)
            try:
                if os.path.realpath(f"/proc/{pid}/exe") == target:
                    return pid
            except OSError:
                pass
            queue += children.get(pid, [])
        time.sleep(0.1)
    return process.pid


LIBC = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1


class Sandbox:
    """What a unit's or a pod's settings do to the process, as far as a root shell can apply them
    without systemd or a container runtime: another user, no-new-privileges, an empty capability
    bounding set, memory-deny-write-execute (PR_SET_MDWE), a file-descriptor limit, a umask."""

    def __init__(self, uid: int, gid: int, nofile: int = 65536, umask: int = 0o022) -> None:
        self.uid, self.gid, self.nofile, self.umask = uid, gid, nofile, umask
        self.root = os.geteuid() == 0 and shutil.which("setpriv") is not None
        self.mdwe = LIBC.prctl(66, 0, 0, 0, 0) >= 0  # PR_GET_MDWE: kernel 6.3 and later

    def wrap(self, argv: list[str]) -> list[str]:
        if not self.root:
            return argv
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--clear-groups", "--no-new-privs",
                "--bounding-set=-all", "--inh-caps=-all", "--"] + argv

    def preexec(self) -> None:
        os.umask(self.umask)
        # LimitNOFILE, within the hard limit this shell may raise to (CAP_SYS_RESOURCE may be missing).
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        limit = self.nofile if hard == resource.RLIM_INFINITY else min(self.nofile, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        if self.mdwe and LIBC.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "PR_SET_MDWE")
        os.setsid()

    def describe(self) -> str:
        parts = [f"uid {self.uid}, no-new-privileges, no capabilities" if self.root else "the current user (not root: no setpriv)"]
        parts.append("memory-deny-write-execute" if self.mdwe else "no MDWE (kernel before 6.3)")
        return ", ".join(parts)

    def chown(self, path: Path) -> None:
        if self.root:
            os.chown(path, self.uid, self.gid)


class Layout:
    """A directory standing for the deployment's filesystem: absolute paths of the deployment
    are rewritten into it."""

    PREFIXES = ("/etc/tollgate", "/opt/tollgate", "/var/lib/tollgate", "/usr/local/bin/tollgate")

    def __init__(self, base: Path) -> None:
        self.base = base
        base.mkdir(parents=True, exist_ok=True)

    def path(self, deployed: str) -> Path:
        return self.base / deployed.lstrip("/")

    def rewrite(self, value: str) -> str:
        for prefix in self.PREFIXES:
            if value == prefix or value.startswith(prefix + "/"):
                return str(self.path(value))
        return value


class Live:
    def __init__(self, args, gw: Gateway) -> None:
        self.gw = gw
        self.work = Path(args.work)
        self.bin = Path(args.bin)
        self.redis_url = args.redis_url
        self.ledger_url = args.ledger_url
        self.admin_key = secrets.token_hex(16)  # the compose replicas' admin key (one for both)
        self.strace = args.strace and shutil.which("strace") is not None
        self.haproxy = args.haproxy and shutil.which("haproxy") is not None
        self.prometheus = args.prometheus and shutil.which("prometheus") is not None
        self.processes: list[subprocess.Popen] = []
        os.chmod(self.work, 0o711)  # other users traverse it to their layout
        shared = self.work / "shared"
        (shared / "bin").mkdir(parents=True, exist_ok=True)
        self.binary = shared / "bin" / "tollgate"
        shutil.copy2(self.bin / "tollgate", self.binary)
        os.chmod(self.binary, 0o755)
        self.models = shared / "models"  # stands for the image's models stage and the host's copy
        for needed in (gw.model_dir, gw.tokenizer_dir):
            if not (ROOT / needed).is_dir():
                fail(f"no {needed}: run scripts/setup-model.sh and scripts/setup-tokenizer.sh first")
                raise SystemExit(1)
        if not self.models.exists():
            shutil.copytree(ROOT / "models", self.models, symlinks=False)
        for path in [shared, shared / "bin"] + [p for p in self.models.rglob("*") if p.is_dir()] + [self.models]:
            os.chmod(path, 0o755)
        for path in self.models.rglob("*"):
            if path.is_file():
                os.chmod(path, 0o644)
        self.provider_env = {k: os.environ[k] for k in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL", "ANTHROPIC_API_KEY")
                             if k in os.environ}

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                process.wait()

    def start(self, name: str, argv, cwd, env, sandbox: Sandbox, trace: Path | None = None) -> subprocess.Popen:
        log = open(self.work / f"{name}.log", "wb")
        command = sandbox.wrap(argv)
        if trace is not None:
            command = ["strace", "-f", "-qq", "-o", str(trace)] + command
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   preexec_fn=sandbox.preexec)
        self.processes.append(process)
        return process

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.work / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def create_key(self, name, cwd, env, sandbox: Sandbox, binary=None) -> str | None:
        """`tollgate keys create` as the gateway's user, in its working directory and data dir."""
        result = subprocess.run(sandbox.wrap([str(binary or self.binary), "keys", "create", "--name", "deploy-check", "--team", "ops"]),
                                cwd=cwd, env=env, capture_output=True, text=True, preexec_fn=sandbox.preexec, timeout=60)
        if result.returncode != 0:
            fail(f"{name}: tollgate keys create as the service's user: {result.stderr.strip()[-300:]}")
            return None
        return result.stdout.strip().splitlines()[-1]

    def exercise(self, name: str, port: int, key: str | None, pid: int, sandbox: Sandbox) -> None:
        base = f"http://127.0.0.1:{port}"
        status, _, body = http("GET", base + "/health/ready")
        ready = json.loads(body) if status == 200 else {}
        available = sorted(p for p, v in (ready.get("providers") or {}).items() if v.get("available"))
        check(status == 200 and available == sorted(self.gw.config["providers"]),
              f"{name}: /health/ready is 200 with every provider available ({', '.join(available)})", body.decode(errors="replace")[:300])
        if sandbox.root:
            try:
                status_text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                status_text = ""
            fields = dict(line.split(":", 1) for line in status_text.splitlines() if ":" in line)
            uid = fields.get("Uid", "").split()
            check(uid[:1] == [str(sandbox.uid)] and fields.get("NoNewPrivs", "").strip() == "1"
                  and int(fields.get("CapBnd", "1").strip(), 16) == 0 and int(fields.get("CapEff", "1").strip(), 16) == 0,
                  f"{name}: the gateway runs as uid {sandbox.uid} with no-new-privileges and no capabilities")
        if key is None:
            return
        auth = {"Authorization": f"Bearer {key}"}
        status, headers, body = http("POST", base + "/v1/chat/completions",
                                     {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "deploy check"}]}, auth)
        check(status == 200 and "Echo" in body.decode(errors="replace"),
              f"{name}: a chat completion goes through the provider (libcurl, tokenizers, ledger)", f"{status} {body[:200]!r}")
        status, _, body = http("POST", base + "/v1/embeddings", {"model": "local/all-MiniLM-L6-v2", "input": "deploy check"}, auth, timeout=30)
        vector = (json.loads(body).get("data") or [{}])[0].get("embedding") if status == 200 else None
        check(status == 200 and vector and len(vector) == 384,
              f"{name}: a local embedding is computed in process (model files, OpenBLAS{', under MDWE' if sandbox.mdwe else ''})",
              f"{status} {body[:200]!r}")

    def stop(self, name: str, process: subprocess.Popen, limit: float, pid: int | None = None) -> None:
        started = time.monotonic()
        os.kill(pid or process.pid, signal.SIGTERM)
        try:
            code = process.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            fail(f"{name}: still running {limit:g}s after SIGTERM")
            return
        elapsed = time.monotonic() - started
        check(code == 0, f"{name}: SIGTERM drains and exits 0 in {elapsed:.1f}s (limit {limit:g}s)", f"exit {code}\n{self.log_tail(name)}")

    # -- systemd

    def systemd(self, unit: dict) -> None:
        print("# live: systemd unit", flush=True)
        layout = Layout(self.work / "systemd")
        etc = layout.path("/etc/tollgate")
        subprocess.run([str(self.binary), "init", str(etc)], check=True, capture_output=True)
        # README's install step: the models are linked into the working directory.
        (etc / "models").symlink_to(self.models)
        env_file = layout.path((unit["unit"]["EnvironmentFile"][-1]).lstrip("-"))
        env_file.write_text("".join(f"{k}={v}\n" for k, v in self.provider_env.items()) + f"TOLLGATE_ADMIN_KEY={secrets.token_hex(16)}\n")
        os.chmod(env_file, 0o600)
        state = layout.path("/var/lib/tollgate")
        state.mkdir(parents=True, mode=0o750)
        layout.path("/usr/local/bin").mkdir(parents=True)
        shutil.copy2(self.binary, layout.path("/usr/local/bin/tollgate"))
        for directory in [layout.base] + [p for p in layout.base.rglob("*") if p.is_dir() and not p.is_symlink()]:
            os.chmod(directory, 0o755)
        os.chmod(state, 0o750)
        sandbox = Sandbox(65534, 65534, nofile=int(unit["unit"]["LimitNOFILE"][-1]), umask=int(unit["unit"].get("UMask", ["0022"])[-1], 8))
        sandbox.chown(state)
        # systemd's environment: PATH, the unit's Environment=, then its EnvironmentFile.
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"}
        env.update({k: layout.rewrite(v) for k, v in unit["environment"].items()})
        for line in env_file.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, v = line.split("=", 1)
                env[k] = v
        cwd = layout.rewrite(unit["workdir"])
        key = self.create_key("systemd", cwd, env, sandbox, layout.rewrite(unit["exec_start"][0]))
        port = free_port()
        argv = [layout.rewrite(a) for a in unit["exec_start"]] + ["--host", "127.0.0.1", "--port", str(port)]
        trace = self.work / "systemd.strace" if self.strace else None
        process = self.start("systemd", argv, cwd, env, sandbox, trace)
        live = wait_http(f"http://127.0.0.1:{port}/health/live", 120 if trace else 60, process=process)
        if not check(live, f"systemd: ExecStart ({' '.join(unit['exec_start'])}) answers /health/live as {sandbox.describe()}",
                     self.log_tail("systemd")):
            return
        pid = gateway_pid(process, argv[0])
        self.exercise("systemd", port, key, pid, sandbox)
        if (reload := unit["unit"].get("ExecReload")) and "-HUP" in reload[-1]:
            os.kill(pid, signal.SIGHUP)
            time.sleep(1)
            check(process.poll() is None and wait_http(f"http://127.0.0.1:{port}/health/live", 5),
                  "systemd: ExecReload (SIGHUP) reloads and the gateway keeps serving")
        self.stop("systemd", process, seconds(unit["unit"]["TimeoutStopSec"][-1]), pid)
        written = [p for p in layout.base.rglob("*") if p.is_file() and not p.is_relative_to(state)
                   and p.stat().st_uid == sandbox.uid] if sandbox.root else []
        check(not written, "systemd: the gateway wrote nothing outside its StateDirectory", ", ".join(map(str, written[:5])))
        if trace is not None:
            self.check_syscalls(trace, unit["unit"].get("SystemCallFilter", []), argv[0])
        elif not shutil.which("strace"):
            skipped("system calls against SystemCallFilter (strace not installed)")

    def check_syscalls(self, trace: Path, filters: list[str], binary: str) -> None:
        groups: dict[str, list[str]] = {}
        current = None
        listing = subprocess.run(["systemd-analyze", "syscall-filter"], capture_output=True, text=True).stdout
        for line in listing.splitlines():
            if re.fullmatch(r"@[\w-]+", line.strip()) and not line.startswith(" "):
                current = line.strip()
                groups[current] = []
            elif current and line.startswith("    ") and not line.strip().startswith("#"):
                groups[current].append(line.split()[0])

        def expand(name: str, seen=frozenset()) -> set[str]:
            if not name.startswith("@"):
                return {name}
            return set().union(*(expand(n, seen | {name}) for n in groups.get(name, []) if n not in seen)) if groups.get(name) else set()

        allowed: set[str] = set()
        for value in filters:
            deny = value.startswith("~")
            names = set().union(*(expand(n) for n in value.lstrip("~").split()))
            allowed = (allowed - names) if deny else (allowed | names)
        # Only the gateway's calls: the main process's before its execve of the binary are setpriv's.
        used: set[str] = set()
        started: set[str] = set()
        main = None
        for line in trace.read_text(errors="replace").splitlines():
            match = re.match(r"(\d+)\s+([a-z_0-9]+)\(", line)
            if not match:
                continue
            pid, call = match.groups()
            main = main or pid
            if pid == main and pid not in started:
                if call == "execve" and binary in line and "= 0" in line:
                    started.add(pid)
                continue
            used.add(call)
        outside = sorted(used - allowed)
        check(bool(used) and not outside,
              f"systemd: the {len(used)} system calls the gateway made (start, requests, reload, drain) are all in SystemCallFilter",
              "outside: " + ", ".join(outside))

    # -- the image, as compose runs it

    def image_layout(self, name: str, image: dict, mounts: dict[str, Path]) -> Layout:
        """The image's filesystem (root-owned configuration and models, the data dir owned by
        the image's user) with bind mounts or ConfigMaps laid over it."""
        layout = Layout(self.work / name)
        workdir = layout.path(image["workdir"])
        workdir.mkdir(parents=True)
        for item in ("tollgate.yaml", "routes", "budgets", "prompts"):
            source = ROOT / item
            (shutil.copytree if source.is_dir() else shutil.copy2)(source, workdir / item)
        (workdir / "models").symlink_to(self.models)
        for target, source in mounts.items():
            path = layout.path(target)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
            path.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, path)
            else:
                shutil.copy2(source, path)
        for directory in [layout.base] + [p for p in layout.base.rglob("*") if p.is_dir() and not p.is_symlink()]:
            os.chmod(directory, 0o755)
        for file in [p for p in layout.base.rglob("*") if p.is_file() and not p.is_symlink()]:
            os.chmod(file, 0o644)
        return layout

    def compose(self, image: dict, compose: dict) -> None:
        print("# live: the image as compose runs it", flush=True)
        if not self.redis_url or not self.ledger_url:
            skipped("compose replicas (no redis-server for TOLLGATE_REDIS_URL or no PostgreSQL for TOLLGATE_LEDGER_URL)")
            return
        sandbox = Sandbox(image["uid"], image["gid"])
        replicas = {}
        keys: dict = {}
        for name in compose["gateways"]:
            service = compose["services"][name]
            mounts = {}
            data_volume = None
            for kind, source, target, _ in (parse_mount(v, DEPLOY) for v in service.get("volumes") or []):
                if kind == "bind":
                    mounts[target] = Path(source)
                else:
                    data_volume = target
            layout = self.image_layout(name, image, mounts)
            data = layout.path(data_volume or image["data_dir"])
            data.mkdir(parents=True, exist_ok=True)
            os.chmod(data, 0o750)
            sandbox.chown(data)
            env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
            env.update({k: layout.rewrite(v) for k, v in image["env"].items() if k != "SWIFT_BACKTRACE"})
            for key, value in compose_environment(service).items():
                value = re.sub(r"\$\{(\w+)(:[-?]([^}]*))?\}", lambda m: os.environ.get(m.group(1)) or (m.group(3) or ""), value)
                env[key] = value
            # Test stand-ins: Redis and PostgreSQL on loopback instead of the services, the fake
            # provider instead of the public APIs.
            env["TOLLGATE_REDIS_URL"] = env["TOLLGATE_REDIS_URL"].replace(f"redis://{compose['redis']}:6379", self.redis_url)
            env["TOLLGATE_LEDGER_URL"] = self.ledger_url
            env["TOLLGATE_ADMIN_KEY"] = self.admin_key
            env.update(self.provider_env)
            port = free_port()
            command = service.get("command") or image["cmd"]
            argv = [str(self.binary)] + [layout.rewrite(a) for a in command]
            argv[argv.index("--host") + 1] = "127.0.0.1"
            argv += ["--port", str(port)]
            cwd = str(layout.path(image["workdir"]))
            key = self.create_key(name, cwd, env, sandbox)
            process = self.start(name, argv, cwd, env, sandbox)
            if not check(wait_http(f"http://127.0.0.1:{port}/health/live", 60, process=process),
                         f"{name}: the image's command ({' '.join(command)}) answers /health/live as {sandbox.describe()}",
                         self.log_tail(name)):
                continue
            health = [a.replace(f":{self.gw.port}/", f":{port}/") for a in (service.get("healthcheck", {}).get("test") or ["CMD"] + image["healthcheck"])]
            result = subprocess.run(health[1:], capture_output=True, text=True)
            check(result.returncode == 0, f"{name}: the health check command ({' '.join(health[1:])}) passes", result.stderr)
            status, _, body = http("GET", f"http://127.0.0.1:{port}/health/ready")
            check(status == 200 and '"redis"' in body.decode(), f"{name}: /health/ready reports the shared Redis", body.decode()[:300])
            self.exercise(name, port, key, process.pid, sandbox)
            replicas[name] = (process, port)
            keys[name] = key
        if len(replicas) == len(compose["gateways"]):
            # Keys live in the shared PostgreSQL store: each replica accepts the other's.
            names = list(replicas)
            for here, there in zip(names, names[1:] + names[:1]):
                status, _, _ = http("GET", f"http://127.0.0.1:{replicas[there][1]}/v1/models", headers={"Authorization": f"Bearer {keys[here]}"})
                check(status == 200, f"{there} accepts the key made for {here} (one key store in PostgreSQL) ({status})")
            self.scrape(compose, replicas)
            self.balancer(compose, replicas)
        limit = seconds(compose["services"][compose["gateways"][0]].get("stop_grace_period", "10s"))
        for name, (process, _) in replicas.items():
            if process.poll() is None:
                self.stop(name, process, limit)

    def balancer(self, compose: dict, replicas: dict) -> None:
        if not compose["lb"]:
            return
        if not self.haproxy:
            skipped("HAProxy in front of the replicas (haproxy not installed)")
            return
        # The compose configuration with loopback addresses for the services' names.
        text = compose["lb"]["config"].read_text()
        port = free_port()
        text = re.sub(r"^(\s*bind\s+)\S*:\d+", rf"\g<1>127.0.0.1:{port}", text, flags=re.M)
        for name, (_, replica_port) in replicas.items():
            text = re.sub(rf"^(\s*server\s+{re.escape(name)}\s+){re.escape(name)}:\d+", rf"\g<1>127.0.0.1:{replica_port}", text, flags=re.M)
        # Within the file-descriptor limit this shell has (compose raises the container's).
        hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        if hard != resource.RLIM_INFINITY:
            text = re.sub(r"^(\s*maxconn\s+)(\d+)", lambda m: m.group(1) + str(min(int(m.group(2)), (hard - 200) // 2)), text, flags=re.M)
        config = self.work / "haproxy.cfg"
        config.write_text(text)
        result = subprocess.run(["haproxy", "-c", "-f", str(config)], capture_output=True, text=True)
        if not check(result.returncode == 0, "HAProxy accepts the compose configuration (loopback addresses)", result.stderr[-500:]):
            return
        haproxy = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=open(self.work / "haproxy.log", "wb"),
                                   stderr=subprocess.STDOUT, preexec_fn=os.setsid)
        self.processes.append(haproxy)
        base = f"http://127.0.0.1:{port}"
        if not check(wait_http(base + "/health/live", 15), "HAProxy forwards to the replicas", (self.work / "haproxy.log").read_text()[-500:]):
            return
        time.sleep(1)  # first health checks

        def through_balancer(count: int) -> tuple[dict, dict]:
            """Sends count requests; their statuses, and the replica HAProxy logged for each."""
            log = self.work / "haproxy.log"
            before = len(log.read_text(errors="replace").splitlines())
            statuses: dict = {}
            for _ in range(count):
                status, _, _ = http("GET", base + "/health/live")
                statuses[status] = statuses.get(status, 0) + 1
            time.sleep(0.5)
            servers: dict = {}
            for line in log.read_text(errors="replace").splitlines()[before:]:
                match = re.search(r" tollgate/(\S+) ", line)
                if match and "/health/live" in line:
                    servers[match.group(1)] = servers.get(match.group(1), 0) + 1
            return statuses, servers

        statuses, servers = through_balancer(20)
        check(statuses == {200: 20} and set(servers) == set(replicas),
              f"HAProxy answers through both replicas ({statuses}, served by {servers})")
        status, _, _ = http("GET", base + "/metrics")
        check(status == 404, f"HAProxy keeps /metrics to the scrapers ({status})")
        status, _, body = http("POST", base + "/admin/keys", {"name": "through-the-balancer"}, {"Authorization": f"Bearer {self.admin_key}"})
        secret = (json.loads(body).get("secret") if status in (200, 201) else None) or ""
        answers = [http("GET", f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {secret}"})[0] for _, port in replicas.values()]
        check(status in (200, 201) and answers == [200] * len(replicas),
              f"HAProxy forwards POST /admin/keys; the key it made works on every replica ({status}, {answers})")
        # One replica drains and goes (a rolling restart): the other serves everything.
        first, (process, _) = next(iter(replicas.items()))
        limit = seconds(compose["services"][first].get("stop_grace_period", "10s"))
        self.stop(first, process, limit)
        statuses, servers = through_balancer(20)
        check(statuses == {200: 20} and first not in servers,
              f"HAProxy: with {first} stopped every request is still answered ({statuses}, served by {servers})")

    def scrape(self, compose: dict, replicas: dict) -> None:
        prom = compose["prometheus"]
        if not prom:
            return
        if not self.prometheus:
            skipped("Prometheus scraping the replicas (prometheus not installed)")
            return
        config = yaml.safe_load(prom["config"].read_text())
        config["global"]["scrape_interval"] = "1s"
        config["global"]["evaluation_interval"] = "1s"
        config["rule_files"] = [str(DEPLOY / "prometheus" / "alerts.yaml") if r == prom["rules_target"] else r for r in config["rule_files"]]
        for job in config["scrape_configs"]:
            for static in job.get("static_configs", []):
                static["targets"] = [f"127.0.0.1:{replicas[t.rsplit(':', 1)[0]][1]}" if t.rsplit(":", 1)[0] in replicas else t
                                     for t in static["targets"]]
        path = self.work / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        port = free_port()
        process = subprocess.Popen(["prometheus", f"--config.file={path}", f"--storage.tsdb.path={self.work / 'prometheus-data'}",
                                    f"--web.listen-address=127.0.0.1:{port}"], stdout=open(self.work / "prometheus.log", "wb"),
                                   stderr=subprocess.STDOUT, preexec_fn=os.setsid)
        self.processes.append(process)
        base = f"http://127.0.0.1:{port}"
        up = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            status, _, body = http("GET", base + "/api/v1/query?query=up", timeout=3)
            if status == 200:
                up = {r["metric"].get("instance"): r["value"][1] for r in json.loads(body)["data"]["result"]}
                if len(up) == len(replicas) and set(up.values()) == {"1"}:
                    break
            time.sleep(0.5)
        check(len(up) == len(replicas) and set(up.values()) == {"1"}, f"Prometheus scrapes both replicas (up: {up})",
              (self.work / "prometheus.log").read_text()[-500:])
        status, _, body = http("GET", base + "/api/v1/rules")
        rules = [r["name"] for g in (json.loads(body)["data"]["groups"] if status == 200 else []) for r in g["rules"]]
        check(len(rules) > 0 and all(r.startswith("Tollgate") for r in rules), f"Prometheus evaluates the alerting rules ({len(rules)})")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)

    # -- Kubernetes

    def kubernetes(self, image: dict, k8s: dict) -> None:
        print("# live: the Kubernetes Deployment's container", flush=True)
        if not k8s:
            return
        if not self.redis_url or not self.ledger_url:
            skipped("Kubernetes container (no redis-server or PostgreSQL for the required TOLLGATE_REDIS_URL and TOLLGATE_LEDGER_URL)")
            return
        container, pod = k8s["container"], k8s["deployment"]["spec"]["template"]["spec"]
        security = pod.get("securityContext", {})
        sandbox = Sandbox(security.get("runAsUser", image["uid"]), security.get("runAsGroup", image["gid"]))
        layout = self.image_layout("kubernetes", image, {})
        writable = []
        for mount_path, mount in k8s["mounts"].items():
            volume = k8s["volumes"][mount["name"]]
            target = layout.path(mount_path)
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.mkdir(parents=True, exist_ok=True)
            if "configMap" in volume:
                # The kubelet's atomic writer: files in a timestamped directory, ..data links to
                # it, each key links through ..data.
                data = k8s["configmaps"][volume["configMap"]["name"]].get("data", {})
                stamp = target / "..2026_01_01_00_00_00.000000000"
                stamp.mkdir()
                for key, value in data.items():
                    (stamp / key).write_text(value)
                    os.chmod(stamp / key, 0o644)
                (target / "..data").symlink_to(stamp.name)
                for key in data:
                    (target / key).symlink_to(f"..data/{key}")
                os.chmod(stamp, 0o755)
            else:
                writable.append(target)
            os.chmod(target, 0o755)
        for path in writable:
            os.chmod(path, 0o750)
            sandbox.chown(path)
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
        env.update({k: layout.rewrite(v) for k, v in image["env"].items() if k != "SWIFT_BACKTRACE"})
        secrets_ = dict(self.provider_env, TOLLGATE_REDIS_URL=self.redis_url, TOLLGATE_ADMIN_KEY=secrets.token_hex(16))
        if self.ledger_url:
            secrets_["TOLLGATE_LEDGER_URL"] = self.ledger_url
        for entry in container.get("env", []):
            if "value" in entry:
                env[entry["name"]] = layout.rewrite(entry["value"])
            elif "secretKeyRef" in entry.get("valueFrom", {}):
                ref = entry["valueFrom"]["secretKeyRef"]
                if ref["key"] in secrets_:
                    env[entry["name"]] = secrets_[ref["key"]]
                elif not ref.get("optional"):
                    fail(f"kubernetes: the required secret key {ref['key']} has no test value")
        env.update(self.provider_env)  # test stand-in: the fake provider instead of the public APIs
        port = free_port()
        argv = [str(self.binary)] + [layout.rewrite(a) for a in k8s["args"][1:]]
        argv[argv.index("--host") + 1] = "127.0.0.1"
        argv += ["--port", str(port)]
        cwd = str(layout.path(image["workdir"]))
        key = self.create_key("kubernetes", cwd, env, sandbox)
        process = self.start("kubernetes", argv, cwd, env, sandbox)
        started = wait_http(f"http://127.0.0.1:{port}/health/live", 60, process=process)
        if not check(started, f"kubernetes: the container's args ({' '.join(k8s['args'][1:])}) start the gateway on the ConfigMaps "
                     f"as {sandbox.describe()}", self.log_tail("kubernetes")):
            return
        for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
            path = container[kind]["httpGet"]["path"]
            status, _, _ = http("GET", f"http://127.0.0.1:{port}{path}")
            check(status == 200, f"kubernetes: {kind} {path} answers 200")
        self.exercise("kubernetes", port, key, process.pid, sandbox)
        self.stop("kubernetes", process, k8s["termination"] - k8s["prestop"])


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    sub.add_parser("static")
    live = sub.add_parser("live")
    live.add_argument("--bin", required=True)
    live.add_argument("--work", required=True)
    live.add_argument("--redis-url")
    live.add_argument("--ledger-url", help="a PostgreSQL database for the replicas' shared ledger and keys")
    live.add_argument("--strace", action="store_true")
    live.add_argument("--haproxy", action="store_true")
    live.add_argument("--prometheus", action="store_true")
    args = parser.parse_args()

    gw = Gateway()
    if args.mode == "static":
        image = check_dockerfile(gw)
        check_compose(gw, image)
        check_kubernetes(gw, image)
        check_unit(gw)
    else:
        # The live runs use what the static checks parsed; their messages are not repeated.
        sys.stdout = open(os.devnull, "w")
        image = check_dockerfile(gw)
        compose = check_compose(gw, image)
        k8s = check_kubernetes(gw, image)
        unit = check_unit(gw)
        sys.stdout = sys.__stdout__
        global passes, failures
        passes = failures = 0
        runner = Live(args, gw)
        try:
            runner.systemd(unit)
            runner.compose(image, compose)
            runner.kubernetes(image, k8s)
        finally:
            runner.close()
    print(f"deploy_check {args.mode}: {passes} passed, {failures} failed", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
