#!/usr/bin/env bash
# The browser test: builds `lots`, serves the demo municipality on a temporary SQLite file and a
# free port, runs test.mjs (Playwright + axe-core on Debian's chromium), stops the server.
# Needs `npm ci` here first, and chromium (`apt-get install -y chromium`).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"

(cd "$root" && cargo build --bin lots)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/lots"
[ -d node_modules ] || npm ci --no-audit --no-fund

tmp="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export LOTS_BASE_URL="http://127.0.0.1:$port"
export LOTS_DEMO_PASSWORD="${LOTS_DEMO_PASSWORD:-browser-test-$RANDOM$RANDOM}"
server=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

LOTS_DATABASE_URL="sqlite://$tmp/lots.db?mode=rwc" \
  "$bin" serve --demo --addr "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!

ready=""
for _ in $(seq 1 240); do
  if node -e "fetch(process.env.LOTS_BASE_URL + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; then
    ready=1; break
  fi
  if ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "lots did not become ready; its log:" >&2
  cat "$tmp/server.log" >&2
  exit 1
fi

status=0
node test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)" >&2
  tail -n 40 "$tmp/server.log" >&2
fi
exit "$status"
