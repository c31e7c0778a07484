"""Generates N case histories in the import format of API.md (NDJSON, one case a line), for the
import and metrics benchmarks. Deterministic for a given seed.
Usage: python3 bench/gen_history.py N > cases.ndjson"""
import json, random, sys
from datetime import datetime, timedelta, timezone

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 2026)
deps = {"SBF": ("BN", ["building_permit"], "anna"), "MHF": ("MHN", ["food_control", "environment_health"], "omar"),
        "RTJ": ("RTN", ["fire_safety"], "nils")}
start = datetime(2024, 1, 1, 8, tzinfo=timezone.utc)

def luhn(digits):
    s = 0
    for i, d in enumerate(digits):
        p = d * 2 if i % 2 == 0 else d
        s += p // 10 + p % 10
    return (10 - s % 10) % 10

def org(i):
    d = [5, 5, 9] + [int(c) for c in f"{i % 1000000:06d}"]
    d.append(luhn(d))
    s = "".join(map(str, d))
    return s[:6] + "-" + s[6:]

serial = {}
t = lambda x: x.strftime("%Y-%m-%dT%H:%M:%SZ")
for i in range(n):
    dep = rnd.choice(list(deps))
    prefix, areas, officer = deps[dep]
    received = start + timedelta(minutes=rnd.randrange(0, 60 * 24 * 600))
    year = received.year
    serial[(prefix, year)] = serial.get((prefix, year), 0) + 1
    area = rnd.choice(areas)
    at = received + timedelta(hours=rnd.randrange(2, 72))
    events = [{"at": t(at), "type": "status_changed", "to": "in_progress", "actor": officer}]
    if dep == "SBF" and rnd.random() < 0.4:
        at += timedelta(hours=2)
        events.append({"at": t(at), "type": "handoff_requested", "handoff": "h1", "to_department": "MHF", "kind": "consultation", "actor": officer})
        at += timedelta(days=rnd.randrange(3, 15))
        events.append({"at": t(at), "type": "handoff_accepted", "handoff": "h1", "actor": "omar"})
        at += timedelta(days=rnd.randrange(1, 6))
        events.append({"at": t(at), "type": "handoff_completed", "handoff": "h1", "actor": "omar"})
    at += timedelta(days=rnd.randrange(5, 60))
    events.append({"at": t(at), "type": "decided", "decision": "approved", "actor": officer})
    at += timedelta(days=rnd.randrange(1, 5))
    events.append({"at": t(at), "type": "closed", "actor": officer})
    line = {"reference": f"{prefix} {year}/{serial[(prefix, year)]:04d}", "org_number": org(i), "company_name": f"Företag {i} AB",
            "area": area, "department": dep, "title": "Ärende", "assignee": officer, "received_at": t(received), "events": events}
    if rnd.random() < 0.5:
        q = max(1, min(10, round(9 - (at - received).days / 14 + rnd.uniform(-1.5, 1.5))))
        line["survey"] = {"answered_at": t(at + timedelta(days=3)), "q_overall": q, "q_expectations": q, "q_ideal": max(1, q - 1),
                          "factors": {"efficiency": max(1, min(6, round(q * 0.6)))}}
    print(json.dumps(line, ensure_ascii=False))
