#!/usr/bin/env python3
"""Search under load: `GET /api/v1/cases?q=` at 16 connections, and the database's own time for
the same searches, full-text index (migration 15) against the LIKE scan it replaced.

Called by bench/search.sh (which builds the release binary); reuses bench/load.py's server,
wrk and sign-in helpers. Environment as load.py: LOTS, WORK, PG_URL, N (default 100000),
DURATION (default 10), CONNS (default "16").
"""

import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
os.environ.setdefault("CONNS", "16")
import load  # noqa: E402  (bench/load.py)

N = load.N
WORK = load.WORK
PG_URL = load.PG_URL

KINDS = ["Bygglov för", "Rivningslov för", "Marklov för", "Anmälan om", "Tillsyn av",
         "Registrering av", "Förhandsbesked om", "Strandskyddsdispens för"]
OBJECTS = ["restaurangen", "förrådet", "garaget", "tillbyggnad av enbostadshus", "fasadändring",
           "livsmedelsanläggning", "skolans kök", "nybyggnad av flerbostadshus", "kontorslokal",
           "butikslokal", "hamnmagasinet", "väderskydd", "solceller", "transformatorstation",
           "pizzeria", "bageri", "frisörsalong", "bilverkstad", "förskola", "padelhall"]
PLACES = ["vid Kvarnbacken", "i Söderby", "på Västra gatan", "i hamnen", "vid torget", "i Ösmo",
          "på Åbyvägen", "vid Kyrkbacken", "i Lugnet", "på Industrivägen"]

# (label, q): a common word, two words, a rare prefix, a diarienummer, a company.
SEARCHES = [
    ("common word", "bygglov"),
    ("two words", "restaurangen kvarnbacken"),
    ("rare prefix", "hamnmag åby"),
    ("diarienummer", "BN 2024/0042"),
    ("company name", "Företag 12345"),
]


def generate():
    """gen_history.py's cases with varied titles (deterministic)."""
    path = f"{WORK}/search-cases-{N}.ndjson"
    if os.path.exists(path):
        return path
    load.log(f"== generating {N} cases")
    raw = subprocess.run([sys.executable, "bench/gen_history.py", str(N)], capture_output=True,
                         text=True, check=True).stdout
    rnd = random.Random(17)
    with open(path, "w") as f:
        for line in raw.splitlines():
            case = json.loads(line)
            case["title"] = f"{rnd.choice(KINDS)} {rnd.choice(OBJECTS)} {rnd.choice(PLACES)}"
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    return path


def prepare(name, url, data):
    load.fresh(name, url)
    load.log(f"== importing {N} cases into {name}")
    env = dict(os.environ, LOTS_LOG="error")
    t0 = time.time()
    subprocess.run([load.LOTS, "import", data, "--create-missing", "--database-url", url],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    took = time.time() - t0
    load.log(f"   import: {took:.1f} s = {N / took:.0f} cases/s")
    subprocess.run([load.LOTS, "user", "add", "--username", "bench", "--role", "admin",
                    "--password-stdin", "--database-url", url], input=load.PASSWORD.encode(),
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return took


def import_without_index(name, url, data):
    """The same import into a database whose search triggers were dropped first: what the
    import costs without keeping the index (the figure before migration 15)."""
    load.fresh(name, url)
    env = dict(os.environ, LOTS_LOG="error")
    subprocess.run([load.LOTS, "migrate", "--database-url", url], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].split("?")[0]
        subprocess.run(["sqlite3", path, "DROP TRIGGER case_search_insert;"], check=True)
    else:
        subprocess.run(["psql", url, "-qc", "DROP TRIGGER case_search_insert ON case_record"],
                       check=True)
    t0 = time.time()
    subprocess.run([load.LOTS, "import", data, "--create-missing", "--database-url", url],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    took = time.time() - t0
    load.log(f"   import without the search index: {took:.1f} s = {N / took:.0f} cases/s")
    return took


def like_sql(department_clause):
    """The query the LIKE search ran (search.rs before migration 15), newest first."""
    return ("SELECT case_record.* FROM case_record WHERE " + department_clause +
            "(lower(title) LIKE :p ESCAPE '\\' OR lower(reference) LIKE :p ESCAPE '\\' "
            "OR company_id IN (SELECT id FROM company WHERE lower(name) LIKE :p ESCAPE '\\')) "
            "ORDER BY id DESC LIMIT 51")


def words(q):
    return ["".join(c for c in w if c.isalnum()).lower() for w in q.split()]


def fts_sql(backend, q, department_clause):
    """The full-text query as the server issues it (search.rs, dialect::case_search_matches),
    for a caller who may see every case's content."""
    ws = [w for w in words(q) if w]
    if q.startswith("BN "):  # a diarienummer is matched exactly, by the unique index
        return (f"SELECT case_record.* FROM case_record WHERE {department_clause}"
                f"reference = '{q}' ORDER BY id DESC LIMIT 51")
    if backend == "sqlite":
        match = " ".join(f'"{w}"*' for w in ws).replace("'", "''")
        sub = (f"SELECT rowid / 2 AS case_id, rowid % 2 AS whole, -bm25(case_search, 1.0, 4.0) "
               f"AS score FROM case_search WHERE case_search MATCH '{match}'")
    else:
        tsq = " & ".join(f"{w}:*" for w in ws).replace("'", "''")
        sub = (f"SELECT case_id, whole::int AS whole, ts_rank(doc, to_tsquery('swedish', '{tsq}'))"
               f"::float8 AS score FROM case_search WHERE doc @@ to_tsquery('swedish', '{tsq}')")
    return (f"SELECT case_record.* FROM case_record JOIN ({sub}) m ON m.case_id = case_record.id "
            f"AND m.whole = 1 WHERE {department_clause}TRUE ORDER BY m.score DESC, "
            f"case_record.id DESC LIMIT 51")


def time_sqlite(path, sql, params, runs=7):
    import sqlite3
    db = sqlite3.connect(path)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        db.execute(sql, params).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def time_pg(url, sql, runs=7):
    times = []
    for _ in range(runs):
        out = subprocess.run(["psql", url, "-qAtc", f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}"],
                             capture_output=True, text=True, check=True).stdout
        times.append(json.loads(out)[0]["Execution Time"])
    return statistics.median(times)


# An SBF officer's list condition.
SBF = "department_id = (SELECT id FROM department WHERE code = 'SBF') AND "


def db_times(name, url):
    """Median ms of the LIKE scan and of the full-text query, as an SBF officer would search."""
    rows = []
    sqlite = url.startswith("sqlite://")
    for label, q in SEARCHES:
        pattern = "%" + q.lower() + "%"
        if sqlite:
            path = url[len("sqlite://"):].split("?")[0]
            like = time_sqlite(path, like_sql(SBF), {"p": pattern})
            fts = time_sqlite(path, fts_sql("sqlite", q, SBF), {})
        else:
            lit = pattern.replace("'", "''")
            like = time_pg(url, like_sql(SBF).replace(":p", f"'{lit}'"))
            fts = time_pg(url, fts_sql("pg", q, SBF))
        rows.append((name, label, q, like, fts))
        load.log(f"   {name:<12} {label:<14} LIKE {like:8.2f} ms  full-text {fts:8.2f} ms")
    return rows


def main():
    data = generate()
    dbs = [(f"sqlite-{N}", f"sqlite://{WORK}/search-{N}.db?mode=rwc")]
    if PG_URL:
        dbs.append((f"pg-{N}", f"{PG_URL.rsplit('/', 1)[0]}/lots_bench_search"))
    loaded, timed, imports = [], [], []
    for name, url in dbs:
        if os.environ.get("IMPORT_AB", "1") == "1":
            bare = (url.replace("/search-", "/search-bare-") if url.startswith("sqlite://")
                    else url + "_bare")
            imports.append((name, "without the search index", import_without_index(name, bare, data)))
        imports.append((name, "with the search index", prepare(name, url, data)))
        proc = load.lots_server(name, url, False)
        try:
            base = f"http://127.0.0.1:{load.PORT}"
            load.officer_for_generated(base)
            for who in ("anna", "bench"):
                tok = load.token(base, who)
                for label, q in SEARCHES:
                    u = f"{base}/api/v1/cases?q={urllib.parse.quote(q)}"
                    status, _, body = load.http("GET", u, headers={"authorization": f"Bearer {tok}"})
                    hits = len(json.loads(body)["items"]) if status == 200 else f"status {status}"
                    for c in load.CONNS:
                        r = load.wrk(u, c, None, [f"authorization: Bearer {tok}"])
                        loaded.append((name, who, label, q, hits, c, r))
                        load.log(f"   {name:<12} {who:<6} {label:<14} c={c:<3} {r['rps']:>8.0f}/s "
                                 f"p50 {r['p50']:7.2f} ms p99 {r['p99']:8.2f} ms "
                                 f"errors {r['errors']} hits {hits}")
        finally:
            proc.terminate()
            proc.wait()
        timed += db_times(name, url)
    print()
    print("| database | caller | search | q | hits (page) | conns | req/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, who, label, q, hits, c, r in loaded:
        print(f"| {name} | {who} | {label} | `{q}` | {hits} | {c} | {r['rps']:.0f} | {r['p50']:.2f} "
              f"| {r['p99']:.2f} | {r['errors']} |")
    print()
    print("| database | import of N cases | seconds | cases/s |")
    print("|---|---|---:|---:|")
    for name, what, took in imports:
        print(f"| {name} | {what} | {took:.1f} | {N / took:.0f} |")
    print()
    print("| database | search | q | LIKE scan ms | full-text ms |")
    print("|---|---|---|---:|---:|")
    for name, label, q, like, fts in timed:
        print(f"| {name} | {label} | `{q}` | {like:.2f} | {fts:.2f} |")


if __name__ == "__main__":
    main()
