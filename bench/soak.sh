#!/usr/bin/env bash
# The soak (issue 17): a mixed officer workload at half the measured capacity for MINUTES
# minutes on N generated cases, on SQLite and (with PG_URL) PostgreSQL: errors, p99 and the
# server's resident memory a minute at a time (bench/soak.py).
# Usage: [PG_URL=postgres://postgres@127.0.0.1:5432/postgres] [N=100000] [MINUTES=30]
#        [CONNS=16] [DATABASES=sqlite-100000] [BENCH_DIR=dir] bench/soak.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet -p lots
export WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
LOTS=target/release/lots python3 bench/soak.py
