"""Side by side with Lots: DuckDB computes the lead-time percentiles per department from Lots'
CSV export, pm4py the performance DFG from its XES export; each is timed, and DuckDB's figures
are compared with Lots' /metrics/handling-times answer.
Usage: python3 bench/compare.py cases.csv handling-times.json [log.xes]
Needs: pip install duckdb pm4py"""
import json, sys, time

csv_path, lots_json = sys.argv[1], sys.argv[2]
xes_path = sys.argv[3] if len(sys.argv) > 3 else None

import duckdb

t0 = time.perf_counter()
con = duckdb.connect()
rows = con.execute(
    """
    SELECT "förvaltning" AS department, count(*) AS n,
           quantile_cont(epoch("beslutad"::TIMESTAMPTZ - "inkom"::TIMESTAMPTZ) / 86400.0, 0.5) AS p50,
           quantile_cont(epoch("beslutad"::TIMESTAMPTZ - "inkom"::TIMESTAMPTZ) / 86400.0, 0.9) AS p90
    FROM read_csv(?, delim = ';', header = true, all_varchar = true)
    WHERE "beslutad" IS NOT NULL AND "beslutad" <> ''
    GROUP BY 1 ORDER BY 1
    """,
    [csv_path],
).fetchall()
duck_s = time.perf_counter() - t0
print(f"  duckdb: lead-time p50/p90 per department from the CSV: {duck_s:.3f} s")

lots = {g["group"]: g for g in json.load(open(lots_json))["items"]}
worst = 0.0
for dep, n, p50, p90 in rows:
    lead = lots[dep]["lead_time"]
    assert lead["n"] == n, (dep, lead["n"], n)
    for ours, theirs in ((lead["p50_days"], p50), (lead["p90_days"], p90)):
        worst = max(worst, abs(ours - theirs))
print(f"  duckdb and Lots agree on n exactly and on p50/p90 to {worst:.2e} days (CSV instants are whole seconds)")

if xes_path:
    import pm4py

    t0 = time.perf_counter()
    log = pm4py.read_xes(xes_path, return_legacy_log_object=False)
    read_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    dfg, start, end = pm4py.discover_performance_dfg(log)
    dfg_s = time.perf_counter() - t0
    print(f"  pm4py: read_xes {read_s:.1f} s, performance DFG {dfg_s:.1f} s ({len(dfg)} edges)")
