#!/usr/bin/env bash
# The browser test: builds `lots`, starts the test OpenID provider (tests/oidc) as the companies'
# e-ID broker, serves the demo municipality on a temporary SQLite file and a free port, runs
# test.mjs (Playwright + axe-core on Debian's chromium), stops both.
# Needs `npm ci` here and in tests/oidc first, and chromium (`apt-get install -y chromium`).
set -euo pipefail
cd "$(dirname "$0")"
root="$(cd ../.. && pwd)"
. ../wait_for_server.sh

(cd "$root" && cargo build --bin lots)
bin="${CARGO_TARGET_DIR:-$root/target}/debug/lots"
[ -d node_modules ] || npm ci --no-audit --no-fund
[ -d ../oidc/node_modules ] || (cd ../oidc && npm ci --no-audit --no-fund)

tmp="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
export LOTS_BASE_URL="http://127.0.0.1:$port"
export LOTS_DEMO_PASSWORD="${LOTS_DEMO_PASSWORD:-browser-test-$RANDOM$RANDOM}"
server=""
provider=""
cleanup() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  if [ -n "$provider" ]; then kill "$provider" 2>/dev/null || true; wait "$provider" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# The companies' e-ID broker: the test provider, with Lots registered as its client and one
# representative, Kim, whose personnummer is on a demo case.
OIDC_IGNORE_STDIN=1 PORT=0 node ../oidc/provider.mjs >"$tmp/provider.out" 2>"$tmp/provider.log" &
provider=$!
issuer=""
for _ in $(seq 1 40); do
  issuer="$(sed -n 's/^READY //p' "$tmp/provider.out")"
  [ -n "$issuer" ] && break
  sleep 0.25
done
[ -n "$issuer" ] || { echo "the test OpenID provider did not start" >&2; cat "$tmp/provider.log" >&2; exit 1; }
client="$(curl -sf "$issuer/reg" -H 'content-type: application/json' -d "{\"redirect_uris\": [\"$LOTS_BASE_URL/foretag/logga-in/callback\"], \"token_endpoint_auth_method\": \"client_secret_basic\", \"grant_types\": [\"authorization_code\"], \"response_types\": [\"code\"]}")"
client_id="$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$client")"
export LOTS_OIDC_COMPANIES_CLIENT_SECRET="$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$client")"
curl -sf "$issuer/__test/accounts" -H 'content-type: application/json' \
  -d '{"id": "kim", "claims": {"name": "Kim Kontaktsson", "personal_number": "19811218-9876"}}' >/dev/null
cat >"$tmp/lots.toml" <<TOML
[oidc.companies]
issuer = "$issuer"
client_id = "$client_id"
TOML
export LOTS_COMPANY_LOGIN=kim

LOTS_CONFIG="$tmp/lots.toml" LOTS_PUBLIC_BASE_URL="$LOTS_BASE_URL" LOTS_DATABASE_URL="sqlite://$tmp/lots.db?mode=rwc" \
  "$bin" serve --demo --addr "127.0.0.1:$port" >"$tmp/server.log" 2>&1 &
server=$!

wait_for_server "$server" "$tmp/server.log" \
  node -e "fetch(process.env.LOTS_BASE_URL + '/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"

status=0
node test.mjs || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 40 lines)" >&2
  tail -n 40 "$tmp/server.log" >&2
fi
exit "$status"
