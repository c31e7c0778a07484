#!/usr/bin/env bash
# The officer's everyday requests under load (issue 17): builds the release `lots` and the
# hello-world yardstick (crates/hello: same allocator and runtime), then runs bench/load.py,
# which drives each request with wrk at 1, 16 and 64 connections on the demo database and on N
# generated cases, on SQLite and (with PG_URL) on PostgreSQL, and prints one table with the
# ratio to the hello-world measured in the same run.
# Usage: [PG_URL=postgres://postgres@127.0.0.1:5432/postgres] [N=100000] [DURATION=10]
#        [CONNS="1 16 64"] [ONLY="GET /healthz,POST /api/v1/cases"] [DATABASES=sqlite-demo]
#        [BENCH_DIR=dir] bench/load.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release --quiet -p lots -p lots-hello
export WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
LOTS=target/release/lots HELLO=target/release/lots-hello python3 bench/load.py
