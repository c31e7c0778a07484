#!/usr/bin/env python3
"""A soak: a mixed officer workload at half the measured capacity for a long while, on each
database, watching errors, p99 and the server's resident memory minute by minute.

Called by bench/soak.sh (which builds the release binary). For each database (N generated cases
imported with `lots import`, on SQLite, and on PostgreSQL when PG_URL is set) it starts `lots
serve`, signs in as an officer, measures the mix's capacity with wrk at 16 connections, then runs
the same mix paced to half that rate for MINUTES minutes, one wrk run a minute, and prints a row
a minute (requests/s, p50, p99, errors, resident memory) and a verdict: 0 errors, memory growing
less than 10 % after the first five minutes, p99 stable.

The mix, per 20 requests: 8 case reads, 4 filtered lists, 2 *Mina ärenden* pages, 2 case pages,
2 searches, 2 registrations (POST).

Environment: LOTS, WORK, PG_URL, N (default 100000), MINUTES (default 30), CONNS (default 16),
DATABASES (sqlite-N, pg-N).
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402  (the same server, sign-in and wrk helpers as the load benchmark)

MINUTES = int(os.environ.get("MINUTES", "30"))
CONNS = int(os.environ.get("CONNS", "16"))

MIX_LUA = """
local token = "%(token)s"
local cookie = "%(cookie)s"
local ids = {%(ids)s}
local pace = %(pace)d
local n = 0
local body = '{"org_number": "556036-0793", "company_name": "Exempel AB", "area": "building_permit", "department": "SBF", "title": "Tillbyggnad av butikslokal"}'

function delay()
  return pace
end

request = function()
  n = n + 1
  local k = n %% 20
  local id = ids[math.random(#ids)]
  local api = {["authorization"] = "Bearer " .. token}
  local page = {["cookie"] = cookie}
  if k < 8 then
    return wrk.format("GET", "/api/v1/cases/" .. id, api)
  elseif k < 12 then
    return wrk.format("GET", "/api/v1/cases?limit=50&status=in_progress", api)
  elseif k < 14 then
    return wrk.format("GET", "/arenden", page)
  elseif k < 16 then
    return wrk.format("GET", "/arenden/" .. id, page)
  elseif k < 18 then
    return wrk.format("GET", "/api/v1/cases?limit=20&q=tillbyggnad", api)
  else
    api["content-type"] = "application/json"
    return wrk.format("POST", "/api/v1/cases", api, body)
  end
end
"""


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def mix_script(tok, cookie, ids, pace_ms):
    path = f"{load.WORK}/mix-{pace_ms}.lua"
    with open(path, "w") as f:
        f.write(MIX_LUA % {"token": tok, "cookie": cookie, "pace": pace_ms,
                           "ids": ", ".join(str(i) for i in ids)})
    return path


def soak(name, url):
    load.fresh(name, url)
    load.prepare(name, url, False)
    proc = load.lots_server(name, url, False)
    rows = []
    try:
        base = f"http://127.0.0.1:{load.PORT}"
        load.officer_for_generated(base)
        tok = load.token(base, "anna")
        cookie = load.page_cookie(base, "anna")
        _, _, body = load.http("GET", f"{base}/api/v1/cases?limit=200&assignee=anna",
                               headers={"authorization": f"Bearer {tok}"})
        ids = [c["id"] for c in json.loads(body)["items"]]
        load.DURATION = 20
        full = load.wrk(f"{base}/", CONNS, mix_script(tok, cookie, ids, 0))
        # Each connection waits `pace` ms before each request: CONNS / (pace + latency) = half.
        pace = max(1, round(CONNS * 1000 / (full["rps"] / 2) - full["p50"]))
        load.log(f"   {name}: capacity of the mix {full['rps']:.0f}/s (p99 {full['p99']:.1f} ms); "
                 f"soaking at about {full['rps'] / 2:.0f}/s for {MINUTES} min (pace {pace} ms)")
        script = mix_script(tok, cookie, ids, pace)
        load.DURATION = 60
        for minute in range(1, MINUTES + 1):
            r = load.wrk(f"{base}/", CONNS, script)
            r["rss"] = rss_mb(proc.pid)
            rows.append(r)
            load.log(f"   {name} minute {minute:>2}: {r['rps']:7.0f}/s p50 {r['p50']:6.2f} ms "
                     f"p99 {r['p99']:7.2f} ms errors {r['errors']} rss {r['rss']:.0f} MB")
    finally:
        proc.terminate()
        proc.wait()
    return full, rows


def verdict(rows):
    errors = sum(r["errors"] for r in rows)
    after = rows[5:] if len(rows) > 5 else rows[-1:]
    start, end = after[0]["rss"], rows[-1]["rss"]
    growth = (end - start) / start * 100
    p99s = [r["p99"] for r in after]
    return errors, start, end, growth, min(p99s), max(p99s)


def main():
    dbs = [d for d in load.databases() if not d[2]]
    results = [(name, *soak(name, url)) for name, url, _ in dbs]
    print()
    for name, full, rows in results:
        errors, start, end, growth, lo, hi = verdict(rows)
        print(f"## {name}: {MINUTES} min at half of {full['rps']:.0f} req/s "
              f"({sum(r['total'] for r in rows)} requests)")
        print(f"errors {errors}; resident memory {start:.0f} MB after minute 5 -> {end:.0f} MB "
              f"at the end ({growth:+.1f} %); p99 from minute 6 on {lo:.1f}-{hi:.1f} ms")
        print("| minute | req/s | p50 ms | p99 ms | errors | RSS MB |")
        print("|---:|---:|---:|---:|---:|---:|")
        for i, r in enumerate(rows, 1):
            print(f"| {i} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} "
                  f"| {r['rss']:.0f} |")
        print()


if __name__ == "__main__":
    main()
