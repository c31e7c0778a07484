#!/usr/bin/env bash
# Search (`GET /api/v1/cases?q=`, issue 17 point 5) under load: builds the release `lots`, then
# runs bench/search.py, which imports N generated cases (bench/gen_history.py, with titles drawn
# from a Swedish vocabulary so that words are spread as in a real diary) on SQLite and (with
# PG_URL) PostgreSQL, drives a handful of searches with wrk at 16 connections, and times the
# same searches as the database's own query, full-text index against the former LIKE scan.
# Usage: [PG_URL=postgres://postgres@127.0.0.1:5432/postgres] [N=100000] [DURATION=10]
#        [CONNS="16"] [IMPORT_AB=1] [BENCH_DIR=dir] [LOTS=binary, skips the build] bench/search.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
if [ -z "${LOTS:-}" ]; then
  cargo build --release --quiet -p lots
  LOTS=target/release/lots
fi
export WORK=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$WORK"
LOTS=$LOTS python3 bench/search.py
