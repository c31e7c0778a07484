"""Independent oracle for every metrics endpoint: reads tests/fixtures/oracle/cases.ndjson and
computes, from the definitions in docs/metrics.md, docs/deadlines.md and DOMAIN.md (not from the
Rust code), the responses of GET /api/v1/metrics/{handling-times,nki,linkage,bottlenecks,
deadlines,time-in-state} at NOW, with pandas, numpy, scipy, statsmodels and holidays.Sweden.
Writes tests/fixtures/oracle/expected.json keyed by request path and query.

Run: pip install pandas numpy scipy statsmodels holidays; python3 crates/metrics/oracle/metrics.py
"""
import json
import math
import pathlib
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pandas as pd
import scipy.stats as st
import statsmodels.api as sm
import statsmodels.formula.api as smf

NOW = datetime(2025, 6, 30, 10, 0, tzinfo=timezone.utc)
STHLM = ZoneInfo("Europe/Stockholm")
ROOT = pathlib.Path(__file__).resolve().parents[3]
FIXTURE = ROOT / "tests" / "fixtures" / "oracle" / "cases.ndjson"
OUT = ROOT / "tests" / "fixtures" / "oracle" / "expected.json"
THRESHOLD, AREA_THRESHOLD, NEAR_DAYS = 7, 10, 5
FACTORS = ["information", "accessibility", "treatment", "competence", "legal_certainty", "efficiency"]
# docs/deadlines.md: the rules (kind, weeks) per area (and case type for building).
RULES = {("building_permit", "permit"): ("statutory", 10), ("building_permit", "notification"): ("statutory", 4),
         ("serving_licence", None): ("target", 8), ("food_control", None): ("target", 2),
         ("environment_health", None): ("target", 6), ("fire_safety", None): ("target", 6),
         ("land_use", None): ("target", 4)}

# --- the calendar ----------------------------------------------------------------------------
_HOL = holidays.Sweden(years=range(2023, 2028))


def is_working_day(d: date) -> bool:
    """Not a Saturday, Sunday, public holiday, midsommarafton, julafton or nyårsafton."""
    if d.weekday() >= 5 or d in _HOL:
        return False
    if (d.month, d.day) in ((12, 24), (12, 31)):
        return False
    # midsommarafton: the Friday before midsommardagen (the Saturday 20-26 June)
    if d.month == 6 and d.weekday() == 4 and 19 <= d.day <= 25:
        return False
    return True


def next_working_day(d: date) -> date:
    while not is_working_day(d):
        d += timedelta(days=1)
    return d


def working_days_between(a: date, b: date) -> int:
    """Working days after a up to and including b (negative when b < a)."""
    lo, hi, sign = (a, b, 1) if b >= a else (b, a, -1)
    return sign * sum(1 for k in range(1, (hi - lo).days + 1) if is_working_day(lo + timedelta(days=k)))


def ts(s):
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def sdate(t: datetime) -> date:
    return t.astimezone(STHLM).date()


def days(a, b):
    return (b - a).total_seconds() / 86400.0


def month(t):
    d = sdate(t)
    return f"{d.year:04d}-{d.month:02d}"


# --- read the fixture into plain records -------------------------------------------------------
DEPT = {"anna": "SBF", "erik": "SBF", "maria": "SBF", "omar": "MHF", "lars": "MHF", "nils": "RTJ", "root": None}
OPEN = {"received", "in_progress", "awaiting_supplement"}


def load():
    cases = []
    for cid, raw in enumerate(FIXTURE.read_text().splitlines(), start=1):
        c = json.loads(raw)
        rec = ts(c["received_at"])
        status, owner = "received", c["department"]
        owners = [(owner, rec)]
        handoffs, hmap = [], {}
        stays = []  # (status, from, to) of each ended stay
        since = rec
        decided = None
        supplements = []  # [requested_on, received_on, received instant]
        extension = 0
        for e in c["events"]:
            at, typ = ts(e["at"]), e["type"]
            new = {"status_changed": e.get("to"), "decided": "decided", "closed": "closed", "withdrawn": "withdrawn",
                   "supplement_requested": "awaiting_supplement", "supplement_received": "in_progress"}.get(typ)
            if new:
                stays.append((status, since, at))
                status, since = new, at
                if new == "decided":
                    decided = at
            if typ == "supplement_requested":
                supplements.append([sdate(at), None, None])
            elif typ == "supplement_received":
                s = supplements[-1]
                s[1], s[2] = sdate(at), at
            elif typ == "deadline_extended":
                extension += e["weeks"]
            elif typ == "handoff_requested":
                h = {"key": e["handoff"], "kind": e["kind"], "from": owner, "to": e["to_department"], "status": "requested",
                     "requested_at": at, "accepted_at": None, "completed_at": None, "closed_at": None}
                hmap[e["handoff"]] = h
                handoffs.append(h)
            elif typ.startswith("handoff_"):
                h = hmap[e["handoff"]]
                if typ == "handoff_accepted":
                    h["status"], h["accepted_at"] = "accepted", at
                    if h["kind"] == "transfer":
                        owner = h["to"]
                        owners.append((owner, at))
                elif typ == "handoff_completed":
                    h["status"], h["completed_at"] = "completed", at
                else:
                    h["status"], h["closed_at"] = typ.split("_")[1], at
        area, ctype = c["area"], c.get("case_type")
        if area == "building_permit" and ctype is None:
            ctype = "permit"
        rule = RULES.get((area, ctype if area == "building_permit" else None))
        due, complete = None, None
        if rule:
            kind, weeks = rule
            weeks += extension
            rday = sdate(rec)
            if kind == "statutory":
                # the clock starts at receipt, or at the arrival of a supplement requested within
                # three weeks (day 21 counts); while such a supplement is awaited there is no due date
                early = [s for s in supplements if s[0] <= rday + timedelta(days=21)]
                if all(s[1] is not None for s in early):
                    start, complete = rday, rec
                    for s in early:
                        if s[1] > start:
                            start, complete = s[1], s[2]
                    due = next_working_day(start + timedelta(weeks=weeks))
            else:
                complete = rec  # a service target runs from receipt, plus the days waited
                if all(s[1] is not None for s in supplements):
                    waited = sum((s[1] - s[0]).days for s in supplements)
                    due = next_working_day(rday + timedelta(weeks=weeks, days=waited))
        survey = None
        if "survey" in c:
            s = c["survey"]
            nki = np.mean([(s[q] - 1) / 9 * 100 for q in ("q_overall", "q_expectations", "q_ideal")])
            survey = {"nki": float(nki),
                      "factors": {f: ((s["factors"][f] - 1) / 5 * 100 if f in s["factors"] else None) for f in FACTORS}}
        cases.append(dict(id=cid, reference=c["reference"], area=area, department=owner, status=status, received=rec,
                          decided=decided, complete=complete, due=due, owners=owners, handoffs=handoffs,
                          survey=survey, stays=stays))
    return cases


CASES = load()


# --- statistics, as documented (numpy / scipy / statsmodels conventions) -----------------------
def q(xs, p):
    return float(np.quantile(np.array(xs, dtype=float), p)) if len(xs) else None


def mean(xs):
    return float(np.mean(xs)) if len(xs) else None


def summary(cal, wd):
    return {"n": len(cal), "mean_days": mean(cal), "p50_days": q(cal, 0.5), "p90_days": q(cal, 0.9),
            "mean_working_days": mean(wd), "p50_working_days": q(wd, 0.5), "p90_working_days": q(wd, 0.9)}


def summary_whole(cal, wd, whole):
    """Handling times: the mean of elapsed days, percentiles of whole calendar days (docs/metrics.md)."""
    out = summary(cal, wd)
    out["p50_days"], out["p90_days"] = q(whole, 0.5), q(whole, 0.9)
    return out


def whole_days(a, b):
    return max(0, (sdate(b) - sdate(a)).days)


def band(v):
    return "very_high" if v >= 80 else "high" if v >= 70 else "acceptable" if v >= 62 else "low" if v >= 50 else "very_low"


def nki_group(group, answers, threshold):
    n = len(answers)
    if n < threshold:
        return {"group": group, "n": n, "suppressed": True, "nki": None, "ci_low": None, "ci_high": None,
                "band": None, "factors": None}
    y = np.array([a["nki"] for a in answers])
    lo, hi = st.t.interval(0.95, n - 1, loc=y.mean(), scale=st.sem(y))
    factors = {}
    for f in FACTORS:
        v = [a["factors"][f] for a in answers if a["factors"][f] is not None]
        factors[f] = mean(v)
    return {"group": group, "n": n, "suppressed": False, "nki": float(y.mean()), "ci_low": float(lo),
            "ci_high": float(hi), "band": band(y.mean()), "factors": factors}


def spearman(x, y):
    n = len(x)
    if n < 4:
        return None
    rho = float(st.spearmanr(x, y).statistic)
    half = st.norm.ppf(0.975) / math.sqrt(n - 3)
    z = math.atanh(rho)
    return {"n": n, "population": n, "rho": rho, "ci_low": math.tanh(z - half), "ci_high": math.tanh(z + half)}


def ols(x, y):
    if len(x) < 3:
        return None
    fit = sm.OLS(np.array(y), sm.add_constant(np.array(x))).fit()
    lo, hi = fit.conf_int(0.05)[1]
    return {"n": len(x), "slope": float(fit.params[1]), "intercept": float(fit.params[0]),
            "std_error": float(fit.bse[1]), "ci_low": float(lo), "ci_high": float(hi)}


def within(df):
    """Fixed effects: NKI ~ weeks + C(area), the slope of weeks (n - areas - 1 degrees of freedom)."""
    fit = smf.ols("nki ~ weeks + C(area)", data=df).fit()
    lo, hi = fit.conf_int(0.05).loc["weeks"]
    return {"n": len(df), "slope": float(fit.params["weeks"]), "intercept": 0.0,
            "std_error": float(fit.bse["weeks"]), "ci_low": float(lo), "ci_high": float(hi)}


def key(c, by, at):
    return {"department": c["department"], "area": c["area"], "month": month(at) if at else None}[by]


# --- the endpoints -----------------------------------------------------------------------------
def handling_times(by):
    rows = []
    for c in CASES:
        if c["decided"] is None:
            continue
        rows.append({"g": key(c, by, c["decided"]), "lead": days(c["received"], c["decided"]),
                     "lead_d": whole_days(c["received"], c["decided"]),
                     "stat_d": whole_days(c["complete"], c["decided"]) if c["complete"] else None,
                     "lead_wd": working_days_between(sdate(c["received"]), sdate(c["decided"])),
                     "stat": days(c["complete"], c["decided"]) if c["complete"] else None,
                     "stat_wd": working_days_between(sdate(c["complete"]), sdate(c["decided"])) if c["complete"] else None})
    df = pd.DataFrame(rows)
    items = []
    for g, d in sorted(df.groupby("g"), key=lambda x: x[0]):
        s = d.dropna(subset=["stat"])
        items.append({"group": g, "lead_time": summary_whole(list(d["lead"]), list(d["lead_wd"]), list(d["lead_d"])),
                      "statutory_handling_time": summary_whole(list(s["stat"]), [float(v) for v in s["stat_wd"]],
                                                               [float(v) for v in s["stat_d"]])})
    return {"group_by": by, "items": items}


def nki(by):
    threshold = AREA_THRESHOLD if by == "area" else THRESHOLD
    groups = {}
    for c in CASES:
        if c["survey"] and c["decided"]:
            groups.setdefault(key(c, by, c["decided"]), []).append(c["survey"])
    return {"group_by": by, "threshold": threshold,
            "items": [nki_group(g, groups[g], threshold) for g in sorted(groups)]}


def period_of(t, period):
    d = sdate(t)
    return f"{d.year:04d}" if period == "year" else f"{d.year:04d}-T{(d.month - 1) // 4 + 1}"


def nki_trend(period):
    groups = {}
    for c in answered():
        groups.setdefault(period_of(c["decided"], period), []).append(c["survey"])
    items = []
    for p in sorted(groups):
        g = nki_group(p, groups[p], THRESHOLD)
        items.append({"period": p, "n": g["n"], "nki": g["nki"], "ci_low": g["ci_low"],
                      "ci_high": g["ci_high"], "suppressed": g["suppressed"]})
    return {"period": period, "threshold": THRESHOLD, "items": items}


def nki_change(a, b):
    period = "year" if len(a) == 4 else "tertial"
    xa, xb = ([c["survey"]["nki"] for c in answered() if period_of(c["decided"], period) == p] for p in (a, b))
    out = {"a": a, "b": b, "n_a": len(xa), "n_b": len(xb)}
    if len(xa) < THRESHOLD or len(xb) < THRESHOLD:
        return out | {"suppressed": True, "nki_a": None, "nki_b": None, "difference": None,
                      "ci_low": None, "ci_high": None, "p_value": None}
    r = st.ttest_ind(xb, xa, equal_var=False)
    ci = r.confidence_interval(0.95)
    return out | {"suppressed": False, "nki_a": float(np.mean(xa)), "nki_b": float(np.mean(xb)),
                  "difference": float(np.mean(xb) - np.mean(xa)), "ci_low": float(ci.low),
                  "ci_high": float(ci.high), "p_value": float(r.pvalue)}


def departments_involved(c):
    """The case's owners over time and every department that accepted a handoff about it."""
    d = {o for o, _ in c["owners"]} | {h["to"] for h in c["handoffs"] if h["accepted_at"]} | {c["department"]}
    return sorted(d)


def time_in(c, d, until):
    """Owned by d, plus its consultations and contacts open (requested -> completed/closed), up to the decision."""
    total = 0.0
    for i, (o, frm) in enumerate(c["owners"]):
        if o == d:
            to = c["owners"][i + 1][1] if i + 1 < len(c["owners"]) else until
            total += max(0.0, days(frm, min(to, until)))
    for h in c["handoffs"]:
        if h["to"] == d and h["kind"] != "transfer":
            end = h["completed_at"] or h["closed_at"] or until
            total += max(0.0, days(h["requested_at"], min(end, until)))
    return total


def answered():
    return [c for c in CASES if c["decided"] and c["survey"]]


def linkage():
    ans = answered()
    df = pd.DataFrame({"weeks": [days(c["received"], c["decided"]) / 7 for c in ans],
                       "nki": [c["survey"]["nki"] for c in ans], "area": [c["area"] for c in ans]})
    x, y = list(df["weeks"]), list(df["nki"])
    by_area = []
    for a, d in sorted(df.groupby("area"), key=lambda g: g[0]):
        small = len(d) < AREA_THRESHOLD  # a comparison of areas: the area threshold (see the report)
        by_area.append({"area": a, "n": len(d), "spearman": None if small else spearman(list(d["weeks"]), list(d["nki"])),
                        "slope": None if small else ols(list(d["weeks"]), list(d["nki"]))})
    # Quartiles of lead time in whole calendar days (Stockholm dates), as the rollups keep it.
    lead_days = [whole_days(c["received"], c["decided"]) for c in ans]
    cuts = np.quantile(lead_days, [0.25, 0.5, 0.75])
    quart = []
    for i in range(4):
        lo = -np.inf if i == 0 else cuts[i - 1]
        hi = np.inf if i == 3 else cuts[i]
        members = [c for c, d in zip(ans, lead_days) if lo < d <= hi]
        ds = [d for d in lead_days if lo < d <= hi]
        g = nki_group(f"Q{i + 1}", [c["survey"] for c in members], THRESHOLD)
        quart.append({"label": f"Q{i + 1}", "weeks_from": min(ds) / 7 if ds else None,
                      "weeks_to": max(ds) / 7 if ds else None, **g})

    def buckets(f):
        m = {}
        for c in ans:
            m.setdefault(f(c), []).append(c["survey"])
        return [{"label": str(k), "weeks_from": None, "weeks_to": None, **nki_group(str(k), m[k], THRESHOLD)}
                for k in sorted(m)]

    attribution = {}
    for c in ans:
        lead = days(c["received"], c["decided"])
        for d in departments_involved(c):
            e = attribution.setdefault(d, [[], 0.0, 0.0])
            e[0].append(c["survey"])
            e[1] += time_in(c, d, c["decided"])
            e[2] += lead
    attr = []
    for d in sorted(attribution):
        answers, spent, lead = attribution[d]
        g = nki_group(d, answers, THRESHOLD)
        attr.append({"department": d, **g,
                     "share_of_lead_time": None if g["suppressed"] or lead <= 0 else min(1.0, spent / lead)})
    small = len(ans) < THRESHOLD
    return {"n": len(ans), "spearman": None if small else spearman(x, y), "slope": None if small else ols(x, y),
            "slope_within_areas": None if small else within(df),
            "by_area": by_area, "by_lead_time_quartile": quart,
            "by_departments_involved": buckets(lambda c: len(departments_involved(c))),
            "by_handoffs": buckets(lambda c: len(c["handoffs"])), "attribution": attr}


AGE_BANDS = [("0–2 veckor", 14), ("2–6 veckor", 42), ("6–13 veckor", 91), ("3–6 månader", 182),
             ("över 6 månader", math.inf)]


def bottlenecks(slope):
    open_cases = [c for c in CASES if c["status"] in OPEN]
    deps = {}
    ages = [0] * len(AGE_BANDS)
    for c in open_cases:
        since = c["owners"][-1][1]  # receipt, or the accepted transfer that gave the owner the case
        e = deps.setdefault(c["department"], ([], []))
        e[0].append(max(0.0, days(since, NOW)))
        e[1].append(float(max(0, working_days_between(sdate(since), sdate(NOW)))))
        age = days(c["received"], NOW)
        ages[next(i for i, (_, lim) in enumerate(AGE_BANDS) if age < lim)] += 1
    departments = [{"department": d, "open_cases": len(v[0]), "holding_p50_days": q(v[0], 0.5),
                    "holding_p90_days": q(v[0], 0.9), "holding_p50_working_days": q(v[1], 0.5),
                    "holding_p90_working_days": q(v[1], 0.9)} for d, v in sorted(deps.items())]
    departments.sort(key=lambda r: -r["holding_p90_days"])  # stable: ties keep code order
    by_edge = {}
    for c in CASES:
        for h in c["handoffs"]:
            by_edge.setdefault((h["from"], h["to"], h["kind"]), []).append(h)
    edges = []
    for (f, t, k), hs in sorted(by_edge.items()):
        queue, work, queue_whole, work_whole = [], [], [], []
        for h in hs:
            acc, comp, closed = h["accepted_at"], h["completed_at"], h["closed_at"]
            queue.append(max(0.0, days(h["requested_at"], acc or closed or NOW)))
            queue_whole.append(whole_days(h["requested_at"], acc or closed or NOW))
            if acc:
                work.append(max(0.0, days(acc, comp or closed or NOW)))
                work_whole.append(whole_days(acc, comp or closed or NOW))
        total = float(sum(queue) + sum(work))
        # Percentiles of whole calendar days (docs/metrics.md), the delay exact.
        edges.append({"from": f, "to": t, "kind": k, "count": len(queue), "queue_p50_days": q(queue_whole, 0.5),
                      "queue_p90_days": q(queue_whole, 0.9), "work_p50_days": q(work_whole, 0.5),
                      "work_p90_days": q(work_whole, 0.9),
                      "total_delay_days": total,
                      "nki_cost_per_case": None if slope is None else -slope * total / len(queue) / 7})
    edges.sort(key=lambda e: -e["total_delay_days"])
    return {"departments": departments, "edges": edges,
            "open_cases_by_age": [{"band": b, "open_cases": n} for (b, _), n in zip(AGE_BANDS, ages)],
            "nki_points_per_week": slope}


def fifths(due, decided_on):
    late = (decided_on - due).days
    return 0 if late <= 0 else min(5, -(-late // 7))


LIST = 200  # a deadline list's cases at most


def deadlines():
    today = sdate(NOW)
    comp, overdue, soon, fees = {}, [], [], []
    for c in CASES:
        if c["due"] is None:
            continue
        if c["decided"]:
            d = sdate(c["decided"])
            e = comp.setdefault((c["area"], month(c["decided"])), [0, 0])
            e[0] += 1
            e[1] += d <= c["due"]
            if c["area"] == "building_permit" and d > c["due"]:
                fees.append((c["decided"], {"id": c["id"], "reference": c["reference"], "due_date": c["due"].isoformat(),
                             "decided_on": d.isoformat(), "fifths": fifths(c["due"], d)}))
        elif c["status"] in OPEN:
            item = {"id": c["id"], "reference": c["reference"], "area": c["area"], "department": c["department"],
                    "due_date": c["due"].isoformat(), "days_left": working_days_between(today, c["due"])}
            if today > c["due"]:
                overdue.append(item)
            elif item["days_left"] <= NEAR_DAYS:
                soon.append(item)
    order = lambda i: (i["due_date"], i["id"])  # noqa: E731
    return {"compliance": [{"area": a, "month": m, "decided": n, "on_time": k, "share_on_time": k / n}
                           for (a, m), (n, k) in sorted(comp.items())],
            "overdue": sorted(overdue, key=order)[:LIST], "overdue_total": len(overdue),
            "due_soon": sorted(soon, key=order)[:LIST], "due_soon_total": len(soon),
            # The latest decision first.
            "fee_reductions": [f for _, f in sorted(fees, key=lambda x: (x[0], x[1]["id"]), reverse=True)][:LIST],
            "fee_reductions_total": len(fees)}


def time_in_state(by):
    groups = {}
    for c in CASES:
        g = key(c, by, c["decided"] or c["received"])  # month: of the decision, else of receipt
        for status, a, b in c["stays"]:
            e = groups.setdefault((g, status), ([], [], []))
            e[0].append(max(0.0, days(a, b)))
            e[1].append(float(max(0, working_days_between(sdate(a), sdate(b)))))
            e[2].append(whole_days(a, b))
    # The mean of elapsed days, percentiles of whole calendar days (docs/metrics.md).
    return {"group_by": by, "items": [{"group": g, "status": s, **summary_whole(*groups[(g, s)])}
                                      for g, s in sorted(groups)]}


# Filters (docs/metrics.md): the day the case was received (Stockholm), its department, its area.
FILTERS = [
    ("", lambda c: True),
    ("department=SBF", lambda c: c["department"] == "SBF"),
    ("area=building_permit", lambda c: c["area"] == "building_permit"),
    ("from=2025-01-01&to=2025-03-31", lambda c: date(2025, 1, 1) <= sdate(c["received"]) <= date(2025, 3, 31)),
    # two areas with a single answer each: they count in n of the within-area slope, adding nothing
    ("from=2025-02-01&to=2025-02-28", lambda c: date(2025, 2, 1) <= sdate(c["received"]) <= date(2025, 2, 28)),
    # dates that cut months: the rollups read whole months from cells and cut ones from facts
    ("from=2024-11-15&to=2025-02-10", lambda c: date(2024, 11, 15) <= sdate(c["received"]) <= date(2025, 2, 10)),
    ("from=2025-03-05&to=2025-03-20&department=SBF",
     lambda c: date(2025, 3, 5) <= sdate(c["received"]) <= date(2025, 3, 20) and c["department"] == "SBF"),
]


def main():
    global CASES
    everything = CASES
    out = {}
    base = "/api/v1/metrics/"
    for query, keep in FILTERS:
        CASES = [c for c in everything if keep(c)]

        def url(path, extra=""):
            qs = "&".join(x for x in (extra, query) if x)
            return base + path + ("?" + qs if qs else "")

        for path, f, default in [("handling-times", handling_times, "department"), ("nki", nki, "area"),
                                 ("time-in-state", time_in_state, "department")]:
            out[url(path)] = f(default)
            for by in ("department", "area", "month"):
                if query and by != "area":
                    continue  # filtered: the default grouping and group_by=area
                out[url(path, f"group_by={by}")] = f(by)
        link = linkage()
        out[url("linkage")] = link
        slope = link["slope_within_areas"]["slope"] if link["slope_within_areas"] else None
        out[url("bottlenecks")] = bottlenecks(slope)
        out[url("deadlines")] = deadlines()
        out[url("nki/trend")] = nki_trend("year")
        out[url("nki/trend", "period=tertial")] = nki_trend("tertial")
        out[url("nki/change", "a=2024&b=2025")] = nki_change("2024", "2025")
        out[url("nki/change", "a=2024-T3&b=2025-T1")] = nki_change("2024-T3", "2025-T1")
        if not query:
            summary_line = (link, out[url("bottlenecks")])
    CASES = everything
    OUT.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    link, b = summary_line
    w, p = link["slope_within_areas"], link["slope"]
    print(f"{len(CASES)} cases, {link['n']} answered; pooled slope {p['slope']:.3f}, within areas "
          f"{w['slope']:.3f} [{w['ci_low']:.3f}, {w['ci_high']:.3f}]; top edge "
          f"{b['edges'][0]['from']}->{b['edges'][0]['to']} {b['edges'][0]['kind']}; "
          f"{len(out)} responses -> {OUT}")


if __name__ == "__main__":
    main()
