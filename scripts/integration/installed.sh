#!/usr/bin/env bash
# An installed binary, outside the source tree: `tollgate serve` with no tollgate.yaml starts on
# the built-in default and says so, a named config that does not exist is an error (exit 2),
# `tollgate init DIR` writes the shipped files, which then load, and `tollgate demo` passes every
# step, here without the embedding model and in the repository with it (semantic cache step).
# TOLLGATE_BIN_DIR as for run.sh.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
integration_start

mkdir -p "$work/usr/local/bin" "$work/empty"
cp "$bin/tollgate" "$work/usr/local/bin/"
tollgate="$work/usr/local/bin/tollgate"
cd "$work/empty"
status=0

"$tollgate" init "$work/cfg" > "$work/init.out"
for file in tollgate.yaml routes/00-default.yaml budgets/prices.yaml budgets/limits.yaml prompts/busy.mustache; do
  [ -s "$work/cfg/$file" ] || { echo "FAIL init did not write $file"; status=1; }
done
(cd "$work/cfg" && "$tollgate" routes check > /dev/null) && echo "ok init's files pass routes check" || { echo "FAIL routes check in init's dir"; status=1; }
if "$tollgate" init "$work/cfg" > /dev/null 2>&1; then echo "FAIL init replaced files without --force"; status=1; else echo "ok init keeps existing files"; fi

set +e
TOLLGATE_CONFIG="$work/nowhere.yaml" "$tollgate" serve > "$work/missing.log" 2>&1
code=$?
set -e
[ "$code" -eq 2 ] && grep -q "nowhere.yaml" "$work/missing.log" && echo "ok a named config that is missing exits 2" \
  || { echo "FAIL missing TOLLGATE_CONFIG: exit $code"; cat "$work/missing.log"; status=1; }

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
TOLLGATE_DATA_DIR="$work/data" "$tollgate" serve --port "$port" > "$work/serve.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$port/health/live" > /dev/null 2>&1 && break; sleep 0.1; done
if curl -fs "http://127.0.0.1:$port/health/live" > /dev/null && grep -q "built-in default" "$work/serve.log" \
  && [ -s "$work/data/built-in-config/routes/00-default.yaml" ]; then
  echo "ok serve without a config runs on the built-in default"
else
  echo "FAIL serve without a config"; cat "$work/serve.log"; status=1
fi
for where in "$work/empty" "$root"; do
  if (cd "$where" && "$tollgate" demo > "$work/demo.out" 2>&1); then
    echo "ok tollgate demo in $where ($(grep -c '^   ok:' "$work/demo.out") steps checked)"
  else
    echo "FAIL tollgate demo in $where"; cat "$work/demo.out"; status=1
  fi
done
exit "$status"
