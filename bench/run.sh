#!/usr/bin/env bash
# Measures bulk import and the metrics endpoints on SQLite (and PostgreSQL when PG_URL is set).
# Usage: bench/run.sh [N]   (N cases, default 20000; needs `cargo build --release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
LOTS=./target/release/lots
WORK=$(mktemp -d)
python3 bench/gen_history.py "$N" > "$WORK/cases.ndjson"

measure() { # name database-url
  local name=$1 url=$2
  echo "== $name, $N cases"
  LOTS_LOG=error $LOTS import "$WORK/cases.ndjson" --create-missing --database-url "$url" | tail -1
  echo 'bench-password-1' | LOTS_LOG=error $LOTS user add --username bench --role admin --password-stdin --database-url "$url" > /dev/null
  LOTS_LOG=error LOTS_JWT_SECRET=bench-secret-bench-secret-bench-secret-00 $LOTS serve --no-worker --addr 127.0.0.1:18181 --database-url "$url" > /dev/null &
  local pid=$!
  for _ in $(seq 1 50); do curl -sf localhost:18181/healthz > /dev/null && break; sleep 0.2; done
  local token
  token=$(curl -s localhost:18181/api/v1/auth/token -H 'content-type: application/json' \
    -d '{"username": "bench", "password": "bench-password-1"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
  for path in metrics/handling-times metrics/nki metrics/linkage metrics/bottlenecks metrics/deadlines export/cases.csv; do
    curl -s -o /dev/null -H "authorization: Bearer $token" localhost:18181/api/v1/$path  # warm
    local t
    t=$(curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" localhost:18181/api/v1/$path)
    printf '  %-24s %6.3f s\n' "$path" "$t"
  done
  kill $pid; wait $pid 2>/dev/null || true
}

measure SQLite "sqlite://$WORK/bench.db?mode=rwc"
if [ -n "${PG_URL:-}" ]; then
  psql "$PG_URL" -qc 'drop database if exists lots_bench with (force)' -c 'create database lots_bench'
  measure PostgreSQL "${PG_URL%/*}/lots_bench"
fi
rm -rf "$WORK"
