#!/usr/bin/env bash
# Measures bulk import and the metrics endpoints on SQLite (and PostgreSQL when PG_URL is set),
# and runs DuckDB and pm4py side by side on Lots' own exports (bench/compare.py).
# Usage: bench/run.sh [N]   (N cases, default 20000; builds the release binary first)
# Environment: PG_URL=postgres://postgres@127.0.0.1:5432/postgres to measure PostgreSQL too;
# PM4PY=0 to skip pm4py (its XES reader needs minutes and many GiB at a million cases);
# SKIP_IMPORT=1 (with BENCH_DIR) measures the databases a run before imported; SQLITE=0 measures
# PostgreSQL alone; CSV_RUNS=1 times the case export once instead of five times (a million cases),
# CSV_RUNS=0 not at all (the export of a run before is compared).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-20000}
cargo build --release --quiet
LOTS=./target/release/lots
WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
if [ ! -s "$WORK/cases.ndjson" ]; then
  echo "== generating $N cases in $WORK"
  python3 bench/gen_history.py "$N" > "$WORK/cases.ndjson"
fi
python3 -c "import sys; n=e=0
for l in open(sys.argv[1]): n+=1; e+=l.count('\"type\"')+1
print(f'   {n} cases, {e} events ({e/n:.1f} a case), {__import__(\"os\").path.getsize(sys.argv[1])/1e6:.0f} MB')" "$WORK/cases.ndjson"

ms() { python3 -c 'import time; print(int(time.time()*1000))'; }

served=
serve_on() { # port database-url log label: starts lots serve, prints how long until it answers;
  # its pid in $served
  local t0 t1
  t0=$(ms)
  LOTS_LOG=info LOTS_JWT_SECRET=bench-secret-bench-secret-bench-secret-00 $LOTS serve --no-worker --addr "127.0.0.1:$1" --database-url "$2" > "$3" 2>&1 &
  served=$!
  for _ in $(seq 1 1200); do curl -sf -o /dev/null "localhost:$1/healthz" && break; sleep 0.1; done
  t1=$(ms)
  python3 -c "print(f'   $4: {($t1-$t0)/1000:.1f} s')"
}

measure() { # name database-url
  local name=$1 url=$2
  echo "== $name, $N cases"
  local t0 t1
  if [ "${SKIP_IMPORT:-0}" = 0 ]; then
    t0=$(ms)
    LOTS_LOG=error $LOTS import "$WORK/cases.ndjson" --create-missing --database-url "$url" | tail -2
    t1=$(ms)
    python3 -c "print(f'   import: {($t1-$t0)/1000:.1f} s = {$N/(($t1-$t0)/1000):.0f} cases/s')"
    echo 'bench-password-1' | LOTS_LOG=error $LOTS user add --username bench --role admin --password-stdin --database-url "$url" > /dev/null
  fi
  serve_on 18181 "$url" "$WORK/serve.log" "start-up until serving (GET /healthz answers)"
  local pid=$served
  local token
  token=$(curl -s localhost:18181/api/v1/auth/token -H 'content-type: application/json' \
    -d '{"username": "bench", "password": "bench-password-1"}' | python3 -c 'import sys, json; print(json.load(sys.stdin)["access_token"])')
  for path in metrics/handling-times metrics/nki metrics/linkage metrics/bottlenecks metrics/deadlines \
      metrics/time-in-state "metrics/handling-times?group_by=month" "metrics/nki?department=SBF" \
      "metrics/linkage?from=2024-01-01&to=2024-12-31" metrics/channels "metrics/nki/trend?period=tertial" \
      "metrics/handling-times?from=2024-03-15&to=2024-09-10" "metrics/nki?group_by=month&area=building_permit" \
      "metrics/deadlines?from=2024-01-01&to=2024-12-31" "metrics/bottlenecks?from=2024-03-15&to=2024-09-10" \
      export/cases.csv; do
    local times=() runs=5
    [ "$path" != export/cases.csv ] || runs=${CSV_RUNS:-5}
    [ "$runs" -gt 0 ] || continue  # CSV_RUNS=0: the export measured before, its file kept
    local out=/dev/null
    [ "$path" != export/cases.csv ] || out="$WORK/cases.csv"
    for _ in $(seq 1 "$runs"); do
      times+=("$(curl -s -o "$out" -w '%{time_total}' -H "authorization: Bearer $token" "localhost:18181/api/v1/$path")")
    done
    python3 -c "import sys, statistics as s; v=sorted(map(float, sys.argv[2:])); print(f'   {sys.argv[1]:<44} median {s.median(v):6.3f} s  max {v[-1]:6.3f} s')" "$path" "${times[@]}"
  done
  # A write, then the next dashboard: the request first takes the queued case into the rollups.
  curl -s -o /dev/null -H "authorization: Bearer $token" -H 'content-type: application/json' \
    localhost:18181/api/v1/cases -d '{"org_number": "556036-0793", "company_name": "Exempel AB", "area": "fire_safety", "department": "RTJ", "title": "Brandskydd"}'
  printf '   %-44s %6.3f s\n' "metrics/nki right after a write" \
    "$(curl -s -o /dev/null -w '%{time_total}' -H "authorization: Bearer $token" localhost:18181/api/v1/metrics/nki)"
  # A second process on the same database, started after the write: it must serve at once and
  # answer as the first does.
  serve_on 18182 "$url" "$WORK/serve2.log" "a second process, until serving"
  local pid2=$served
  local same=0 differ=0
  for path in metrics/nki metrics/handling-times metrics/deadlines metrics/linkage metrics/bottlenecks; do
    if cmp -s <(curl -s -H "authorization: Bearer $token" "localhost:18181/api/v1/$path") \
        <(curl -s -H "authorization: Bearer $token" "localhost:18182/api/v1/$path"); then
      same=$((same + 1))
    else
      differ=$((differ + 1)); echo "   DIFFERENT between the two processes: $path"
    fi
  done
  echo "   two processes after a write: $same endpoints answer the same, $differ differ"
  kill $pid2; wait $pid2 2>/dev/null || true
  curl -s -H "authorization: Bearer $token" localhost:18181/api/v1/metrics/handling-times > "$WORK/handling-times.json"
  python3 bench/pages.py http://localhost:18181 bench bench-password-1 /oversikt \
    "/oversikt?from=2024-01-01&to=2024-12-31" "/oversikt?from=2024-03-15&to=2024-09-10" \
    "/oversikt/rapport?year=2024"
  printf '   %-44s %6.0f MB\n' "resident memory of lots serve after these" "$(($(ps -o rss= -p $pid) / 1024))"
  kill $pid; wait $pid 2>/dev/null || true
}

if [ "${SQLITE:-1}" != 0 ]; then
[ "${SKIP_IMPORT:-0}" != 0 ] || rm -f "$WORK"/bench.db*
measure SQLite "sqlite://$WORK/bench.db?mode=rwc"
if [ "${PM4PY:-1}" != 0 ]; then
  t0=$(ms)
  LOTS_LOG=error $LOTS export --format xes --out "$WORK/log.xes" --database-url "sqlite://$WORK/bench.db"
  t1=$(ms)
  python3 -c "print(f'   lots export --format xes: {($t1-$t0)/1000:.1f} s')"
  echo "== side by side (SQLite's exports)"
  python3 bench/compare.py "$WORK/cases.csv" "$WORK/handling-times.json" "$WORK/log.xes"
else
  echo "== side by side (SQLite's exports)"
  python3 bench/compare.py "$WORK/cases.csv" "$WORK/handling-times.json"
fi
fi
if [ -n "${PG_URL:-}" ]; then
  [ "${SKIP_IMPORT:-0}" != 0 ] || psql "$PG_URL" -qc 'drop database if exists lots_bench with (force)' -c 'create database lots_bench'
  measure PostgreSQL "${PG_URL%/*}/lots_bench"
  if [ "${SQLITE:-1}" = 0 ]; then
    echo "== side by side (PostgreSQL's exports)"
    python3 bench/compare.py "$WORK/cases.csv" "$WORK/handling-times.json"
  fi
fi
[ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
