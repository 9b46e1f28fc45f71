#!/usr/bin/env bash
# Builds redis-bench (release), starts a throwaway redis-server on a free port, runs the
# bench against it and stops the server. Usage: bench/redis/run.sh [seconds per case]
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product redis-bench
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.05
done
.build/release/redis-bench "redis://127.0.0.1:$port" "${1:-3}"
