"""Generates N case histories in the import format of API.md (NDJSON, one case a line), for the
import and metrics benchmarks: about ten events a case (with the `created` event the import adds),
notes, supplements, consultations and contacts (SBF -> MHF consultations wait longest), transfers,
one case in ten still open, and a survey answer for half of the decided cases whose NKI falls with
lead time. Deterministic for a given seed.
Usage: python3 bench/gen_history.py N [SEED] > cases.ndjson"""
import json, random, sys
from datetime import datetime, timedelta, timezone

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
rnd = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 2026)
deps = {"SBF": ("BN", ["building_permit"], ["anna", "erik"]),
        "MHF": ("MHN", ["food_control", "environment_health"], ["omar", "sara"]),
        "RTJ": ("RTN", ["fire_safety"], ["nils", "elin"]),
        "SOC": ("SN", ["serving_licence"], ["fatima", "johan"])}
codes = list(deps)
# Days a request waits before it is accepted, by edge: the planted bottleneck is SBF -> MHF.
queue_days = {("SBF", "MHF"): (8, 20)}
start = datetime(2020, 1, 1, 7, tzinfo=timezone.utc)
span_minutes = 60 * 24 * 365 * 6  # six years of history
out = sys.stdout
write = out.write


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


def t(x):
    return x.strftime("%Y-%m-%dT%H:%M:%SZ")


serial = {}
for i in range(n):
    dep = rnd.choice(codes)
    prefix, areas, officers = deps[dep]
    officer = rnd.choice(officers)
    received = start + timedelta(minutes=rnd.randrange(0, span_minutes))
    year = received.year
    serial[(prefix, year)] = serial.get((prefix, year), 0) + 1
    area = rnd.choice(areas)
    at = received + timedelta(hours=rnd.randrange(2, 72))
    events = [{"at": t(at), "type": "status_changed", "to": "in_progress", "actor": officer}]
    owner = dep
    for _ in range(rnd.randrange(1, 4)):
        at += timedelta(hours=rnd.randrange(1, 48))
        events.append({"at": t(at), "type": "note", "text": "Anteckning", "actor": officer})
    if rnd.random() < 0.4:
        at += timedelta(hours=rnd.randrange(2, 96))
        events.append({"at": t(at), "type": "supplement_requested", "message": "Ritningar saknas", "actor": officer})
        at += timedelta(days=rnd.randrange(2, 30))
        events.append({"at": t(at), "type": "supplement_received", "actor": officer})
    handoffs = 1 if rnd.random() < 0.6 else 0
    handoffs += 1 if rnd.random() < 0.2 else 0
    for h in range(handoffs):
        to = "MHF" if owner == "SBF" and h == 0 else rnd.choice([c for c in codes if c != owner])
        kind = "consultation" if h == 0 else rnd.choice(["consultation", "contact"])
        key = f"h{h + 1}"
        at += timedelta(hours=rnd.randrange(1, 24))
        events.append({"at": t(at), "type": "handoff_requested", "handoff": key, "to_department": to,
                       "kind": kind, "message": "Yttrande önskas", "actor": officer})
        lo, hi = queue_days.get((owner, to), (1, 6))
        at += timedelta(days=rnd.randrange(lo, hi), hours=rnd.randrange(0, 8))
        responder = rnd.choice(deps[to][2])
        events.append({"at": t(at), "type": "handoff_accepted", "handoff": key, "actor": responder})
        at += timedelta(days=rnd.randrange(1, 8))
        events.append({"at": t(at), "type": "handoff_completed", "handoff": key, "response": "Inga invändningar",
                       "actor": responder})
    line = {"reference": f"{prefix} {year}/{serial[(prefix, year)]:04d}", "org_number": org(i),
            "company_name": f"Företag {i} AB", "area": area, "department": dep, "title": "Ärende",
            "assignee": officer, "received_at": t(received), "events": events}
    decided = received.year < 2025 or rnd.random() < 0.9
    if decided:
        at += timedelta(days=rnd.randrange(3, 50))
        events.append({"at": t(at), "type": "decided", "decision": "approved", "actor": officer})
        if rnd.random() < 0.9:
            at += timedelta(days=rnd.randrange(1, 5))
            events.append({"at": t(at), "type": "closed", "actor": officer})
        if rnd.random() < 0.5:
            weeks = (at - received).days / 7
            q = max(1, min(10, round(9.5 - weeks / 4 + rnd.uniform(-1.5, 1.5))))
            line["survey"] = {"answered_at": t(at + timedelta(days=3)), "q_overall": q, "q_expectations": q,
                              "q_ideal": max(1, q - 1),
                              "factors": {"efficiency": max(1, min(6, round(q * 0.6))), "treatment": 5}}
    write(json.dumps(line, ensure_ascii=False))
    write("\n")
