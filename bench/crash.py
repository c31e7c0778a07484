#!/usr/bin/env python3
"""Durability under SIGKILL: no acknowledged registration is ever lost (issue 17).

For each database (SQLite, and PostgreSQL when PG_URL is set) it starts `lots serve --demo`,
has CLIENTS threads register cases as fast as the server answers (so that registrations share
transactions in the registrar), kills the server with SIGKILL after a random moment, starts it
again on the same database and checks that every case whose 201 came back is there, with the
diarienummer it was given, and that the department's diary series has neither gaps nor
duplicates. ROUNDS rounds (default 20) per database; prints one line a round and a verdict.

Usage: [PG_URL=postgres://postgres@127.0.0.1:5432/postgres] [ROUNDS=20] [CLIENTS=32]
       LOTS=target/release/lots python3 bench/crash.py
"""

import http.client
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

os.environ.setdefault("WORK", tempfile.mkdtemp())
sys.path.insert(0, os.path.dirname(__file__))
import load  # noqa: E402  (server start, sign-in)

ROUNDS = int(os.environ.get("ROUNDS", "20"))
CLIENTS = int(os.environ.get("CLIENTS", "32"))
TITLE = "Registrerad före SIGKILL"
BODY = json.dumps({"org_number": "556036-0793", "company_name": "Exempel AB",
                   "area": "building_permit", "department": "SBF", "title": TITLE})


def register_until_refused(token, acked, stop):
    """Registers cases until the server stops answering; records every 201's id and reference."""
    conn = http.client.HTTPConnection("127.0.0.1", load.PORT, timeout=10)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    while not stop.is_set():
        try:
            conn.request("POST", "/api/v1/cases", BODY, headers)
            r = conn.getresponse()
            body = r.read()
        except (OSError, http.client.HTTPException):
            return
        if r.status == 201:
            case = json.loads(body)
            acked.append((case["id"], case["reference"]))


def stored(url):
    """{id: reference} of the cases this benchmark registered, read from the database directly."""
    sql = f"SELECT id, reference FROM case_record WHERE title = '{TITLE}'"
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].split("?")[0]
        with sqlite3.connect(path) as db:
            return dict(db.execute(sql).fetchall())
    out = subprocess.run(["psql", url, "-AtF", "\t", "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return {int(i): ref for i, ref in (line.split("\t") for line in out.splitlines() if line)}


def misnumbered(refs):
    """Gaps and duplicates in the serials of `refs` (diarienummer of one department), per year:
    the cases this benchmark registered follow the demo's and must be consecutive."""
    years = {}
    for r in refs:
        m = re.match(r"BN (\d{4})/(\d+)$", r)
        years.setdefault(m.group(1), []).append(int(m.group(2)))
    bad = 0
    for serials in years.values():
        bad += len(serials) - len(set(serials))
        bad += len(set(range(min(serials), max(serials) + 1)) - set(serials))
    return bad


def round_trip(name, url, rnd):
    proc = load.lots_server(name, url, demo=True)
    try:
        token = load.token(f"http://127.0.0.1:{load.PORT}", "anna")
        acked, stop = [], threading.Event()
        threads = [threading.Thread(target=register_until_refused, args=(token, acked, stop))
                   for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        time.sleep(rnd.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    stop.set()
    for t in threads:
        t.join()
    # Start again (recovery of the log on SQLite) and check from outside.
    proc = load.lots_server(name, url, demo=True)
    proc.terminate()
    proc.wait()
    cases = stored(url)
    lost = [(i, ref) for i, ref in acked if cases.get(i) != ref]
    return len(acked), lost, misnumbered(cases.values())


def main():
    rnd = random.Random(2026)
    work = load.WORK
    dbs = [("sqlite", f"sqlite://{work}/crash.db?mode=rwc")]
    if load.PG_URL:
        dbs.append(("pg", f"{load.PG_URL.rsplit('/', 1)[0]}/lots_bench_crash"))
    only = set(filter(None, os.environ.get("DATABASES", "").split(",")))
    failures = 0
    for name, url in dbs:
        if only and name not in only:
            continue
        load.fresh(name, url)
        total = 0
        for i in range(1, ROUNDS + 1):
            acked, lost, gaps = round_trip(name, url, rnd)
            total += acked
            failures += len(lost) + gaps
            print(f"{name} round {i:2}: {acked:5} acknowledged, {len(lost)} lost, "
                  f"{gaps} gaps or duplicates in the diary series", flush=True)
        print(f"## {name}: {ROUNDS} SIGKILLs, {total} acknowledged registrations, "
              f"{'none lost' if failures == 0 else f'{failures} LOST OR MISNUMBERED'}", flush=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
