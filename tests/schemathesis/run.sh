#!/usr/bin/env bash
# API fuzzing: serves the demo municipality on a temporary SQLite file and a free port, and runs
# schemathesis against the served OpenAPI document with every check and every phase (examples,
# coverage, fuzzing, stateful), as an admin and then as an officer. Fails on any failure, and
# prints how many test cases were generated. schemathesis.toml says which answers count as
# accepting schema-valid input, and why; hooks.py sends the NDJSON bodies of the imports.
#
#   tests/schemathesis/run.sh                  # builds `lots` (debug) first
#   LOTS_BIN=target/debug/lots tests/schemathesis/run.sh    # takes an already built binary
#   ST_SEED=42 ST_MAX_EXAMPLES=40 tests/schemathesis/run.sh # another seed, more cases
#
# Needs schemathesis 4 (`python3 -m pip install schemathesis`).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
. ../wait_for_server.sh

seed="${ST_SEED:-20261201}"
max_examples="${ST_MAX_EXAMPLES:-25}"
workers="${ST_WORKERS:-2}"

if [ -n "${LOTS_BIN:-}" ]; then
  bin="$(cd "$root" && realpath "$LOTS_BIN")"
else
  (cd "$root" && cargo build --bin lots)
  bin="${CARGO_TARGET_DIR:-$root/target}/debug/lots"
fi
command -v st >/dev/null 2>&1 || { echo "schemathesis (st) is not installed" >&2; exit 1; }

tmp="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export LOTS_DEMO_PASSWORD="${LOTS_DEMO_PASSWORD:-schemathesis-$RANDOM$RANDOM}"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# No worker: webhooks that schemathesis registers must not be delivered to the internet, and
# nothing the worker does changes what the API answers.
LOTS_DATABASE_URL="sqlite://$tmp/lots.db?mode=rwc" LOTS_ATTACHMENTS_DIR="$tmp/attachments" \
  "$bin" serve --demo --no-worker --addr "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!

healthy() { curl -fsS "$base/healthz" >/dev/null 2>&1; }
wait_for_server "$server" "$tmp/server.log" healthy

token() {
  curl -fsS "$base/api/v1/auth/token" -H 'content-type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$LOTS_DEMO_PASSWORD\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}

# The operations that end logins (a password change, a user's deactivation or new role, ending
# a user's sessions) revoke every token of their user, the fuzzing caller's own included: run
# anywhere but last, they would leave every later request a 401 and test nothing. So the main
# runs leave them out, and a last run as the admin takes them on their own.
revoking='^/api/v1/(me/password|users/\{id\}|users/\{id\}/sessions)$'

run_as() {
  local who="$1" scope="$2" bearer
  local -a filter
  if [ "$scope" = revoking ]; then
    filter=(--include-path-regex "$revoking")
  else
    filter=(--exclude-path-regex "$revoking")
  fi
  bearer="$(token "$who")"
  echo "== schemathesis as $who, $scope operations (seed $seed, at most $max_examples cases per operation and phase)"
  SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
  st --config-file "$PWD/schemathesis.toml" run "$base/api/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --workers "$workers" \
    --generation-database none \
    --request-timeout 30 \
    --no-color \
    "${filter[@]}" \
    -H "Authorization: Bearer $bearer" \
    --report junit,ndjson --report-dir "${ST_REPORT_DIR:-$tmp}/report-$who-$scope" |
    tee "$tmp/st-$who-$scope.log"
}

status=0
run_as admin other || status=$?
if [ "${ST_OFFICER:-1}" = 1 ]; then
  run_as anna other || status=$?
fi
run_as admin revoking || status=$?
total="$(cat "$tmp"/st-*.log 2>/dev/null | awk '$2 == "generated," { n += $1 } END { print n + 0 }')"
echo "== schemathesis generated ${total:-0} test cases in all"
if [ "$status" -ne 0 ]; then
  echo "--- server log (errors)" >&2
  grep -iE 'error|panic' "$tmp/server.log" | tail -n 40 >&2 || true
fi
exit "$status"
