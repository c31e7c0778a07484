"""Writes tests/fixtures/oracle/cases.ndjson: a seeded case history in the bulk-import format
(/work/shared/API.md) with planted effects, for the independent metrics oracle (metrics.py).

Planted:
- a slow handoff edge: SBF -> MHF consultations wait 18-40 days in the queue (others: days);
- a within-area slope of NKI on lead time: NKI = area base - 1.0 point per week + noise;
- an area that is both slow and unpopular: environment_health (12-30 weeks, base 72), so that
  the pooled slope is steeper than the slope within areas.
Plus everything the metrics see: supplements (within three weeks, on day 21 and day 22, late),
extensions, transfers (accepted, declined, cancelled, open), consultations and contacts in every
state, open cases of every age band, overdue and nearly due cases, late building decisions (fee
reductions), withdrawn cases, answers with missing factors, small groups (an area with 8 answers,
one with 4), and decisions across Stockholm month boundaries.

The fixed "now" of the oracle is 2025-06-30T10:00:00Z. Run: python3 crates/metrics/oracle/gen_fixture.py
"""
import json
import pathlib
import random
from datetime import datetime, timedelta, timezone

NOW = datetime(2025, 6, 30, 10, 0, tzinfo=timezone.utc)
START = datetime(2024, 7, 1, 7, 0, tzinfo=timezone.utc)
rnd = random.Random(20250630)

OWNER = {"building_permit": "SBF", "land_use": "SBF", "other": "SBF", "environment_health": "MHF",
         "food_control": "MHF", "serving_licence": "MHF", "fire_safety": "RTJ"}
OFFICERS = {"SBF": ["anna", "erik"], "MHF": ["omar"], "RTJ": ["nils"]}
PREFIX = {"SBF": "BN", "MHF": "MHN", "RTJ": "RTN"}
# area -> (lead time in weeks: low, high; NKI base)
PLAN = {"building_permit": (3, 14, 88), "environment_health": (12, 30, 72), "food_control": (1, 5, 85),
        "serving_licence": (3, 10, 84), "fire_safety": (2, 8, 83), "land_use": (1, 6, 86), "other": (1, 4, 80)}
SLOPE = -1.0  # NKI points per week of lead time, within every area
FACTORS = ["information", "accessibility", "treatment", "competence", "legal_certainty", "efficiency"]


def t(x):
    return x.strftime("%Y-%m-%dT%H:%M:%SZ")


def luhn(digits):
    s = 0
    for i, d in enumerate(digits):
        p = d * 2 if i % 2 == 0 else d
        s += p // 10 + p % 10
    return (10 - s % 10) % 10


def org(i):
    d = [5, 5, 6] + [int(c) for c in f"{(i * 7919) % 1000000:06d}"]
    d.append(luhn(d))
    s = "".join(map(str, d))
    return s[:6] + "-" + s[6:]


def day_time(d, hour=None):
    """A time of day in office hours (UTC 06-15, so the Stockholm date is the UTC date)."""
    h = hour if hour is not None else rnd.randrange(6, 15)
    return d.replace(hour=h, minute=rnd.randrange(0, 60), second=0)


class Case:
    def __init__(self, area, received, case_type=None):
        self.area = area
        self.dep = OWNER[area]
        self.owner = self.dep
        self.received = received
        self.case_type = case_type
        self.events = []
        self.cursor = received
        self.hkeys = 0

    def officer(self, dep=None):
        return OFFICERS[dep or self.owner][0 if rnd.random() < 0.7 else -1]

    def ev(self, at, type_, actor=None, **kw):
        assert at >= self.cursor, (at, self.cursor, type_)
        self.cursor = at
        e = {"at": t(at), "type": type_, "actor": actor or self.officer()}
        e.update(kw)
        self.events.append(e)
        return e

    def later(self, days_lo, days_hi):
        return self.cursor + timedelta(hours=rnd.uniform(days_lo * 24, days_hi * 24))

    def start(self):
        self.ev(self.received + timedelta(hours=rnd.uniform(1, 30)), "status_changed", to="in_progress")

    def supplement(self, request_day, wait_days, receive=True):
        at = day_time(self.received + timedelta(days=request_day))
        self.ev(max(at, self.cursor + timedelta(minutes=5)), "supplement_requested", message="Komplettera ritningar")
        if receive:
            self.ev(self.later(wait_days, wait_days + 0.2), "supplement_received")

    def handoff(self, to, kind, queue, work, outcome="completed"):
        """queue, work in days; outcome: completed | accepted | declined | cancelled | cancelled_after |
        requested."""
        self.hkeys += 1
        key = f"h{self.hkeys}"
        frm = self.owner
        self.ev(self.later(0.05, 0.5), "handoff_requested", handoff=key, to_department=to, kind=kind,
                message="Remiss" if kind == "consultation" else "Underrättelse")
        if outcome == "requested":
            return
        if outcome == "cancelled":
            self.ev(self.later(queue, queue), "handoff_cancelled", actor=self.officer(frm), handoff=key)
            return
        if outcome == "declined":
            self.ev(self.later(queue, queue), "handoff_declined", actor=self.officer(to), handoff=key,
                    reason="Inte vårt ansvar")
            return
        acc = self.ev(self.later(queue, queue), "handoff_accepted", actor=self.officer(to), handoff=key)
        if kind == "transfer":
            # As the live service does: accepting a transfer completes it (the import does not).
            self.ev(self.cursor, "handoff_completed", actor=acc["actor"], handoff=key)
            self.owner = to
            return
        if outcome == "accepted":
            return
        if outcome == "cancelled_after":
            self.ev(self.later(work, work), "handoff_cancelled", actor=self.officer(frm), handoff=key)
            return
        self.ev(self.later(work, work), "handoff_completed", actor=self.officer(to), handoff=key,
                response="Yttrande bifogat")

    def line(self):
        d = {"reference": None, "org_number": None, "company_name": None, "area": self.area}
        if self.case_type:
            d["case_type"] = self.case_type
        d.update({"department": self.dep, "title": f"Ärende om {self.area}", "assignee": OFFICERS[self.dep][0],
                  "received_at": t(self.received), "events": self.events})
        return d


def nki_answer(lead_weeks, base, missing=0.1):
    target = base + SLOPE * lead_weeks + rnd.gauss(0, 6)
    target = min(100, max(0, target))
    qs = [max(1, min(10, round(1 + 9 * target / 100 + rnd.gauss(0, 0.4)))) for _ in range(3)]
    fac = {}
    for f in FACTORS:
        if rnd.random() >= missing:
            fac[f] = max(1, min(6, round(1 + 5 * target / 100 + rnd.gauss(0, 0.5))))
    return qs, fac


cases = []


def decided_case(area, case_type=None, survey=True, decide_at=None, received=None, shape=None, plain=False):
    """A decided case; its received date chosen so that everything lies before NOW."""
    lo, hi, base = PLAN[area]
    lead = rnd.uniform(lo, hi) * 7  # days
    c = Case(area, received or START, case_type)
    c.start()
    shape = shape if shape is not None else rnd.random()
    if plain:
        pass
    elif area == "building_permit":
        r = rnd.random()
        if r < 0.25:
            c.supplement(rnd.randrange(3, 21), rnd.uniform(5, 30))
        elif r < 0.32:
            c.supplement(rnd.choice([21, 22]), rnd.uniform(5, 25))
        elif r < 0.40:
            c.supplement(rnd.randrange(25, 45), rnd.uniform(5, 20))
        if rnd.random() < 0.45:
            c.handoff("MHF", "consultation", rnd.uniform(18, 40), rnd.uniform(4, 12),
                      "completed" if rnd.random() < 0.9 else "declined")
        if rnd.random() < 0.25:
            c.handoff("RTJ", "consultation", rnd.uniform(0.5, 4), rnd.uniform(1, 5),
                      rnd.choice(["completed"] * 5 + ["cancelled", "cancelled_after"]))
        if rnd.random() < 0.08:
            c.ev(c.later(1, 5), "deadline_extended", weeks=rnd.choice([4, 10]) if case_type != "notification" else 4,
                 reason="Särskilda skäl")
    elif area in ("food_control", "serving_licence", "environment_health"):
        if rnd.random() < 0.2:
            c.supplement(rnd.randrange(2, 15), rnd.uniform(2, 15))
        if rnd.random() < 0.3:
            c.handoff("SBF", "contact", rnd.uniform(0.2, 3), rnd.uniform(0.1, 2))
        if area == "serving_licence" and rnd.random() < 0.3:
            c.handoff("RTJ", "consultation", rnd.uniform(2, 8), rnd.uniform(1, 6))
    elif area == "fire_safety":
        if rnd.random() < 0.4:
            c.handoff("SBF", "consultation", rnd.uniform(1, 6), rnd.uniform(1, 4))
    elif area in ("land_use", "other"):
        if shape < 0.3:
            # received by SBF, transferred to MHF, handled there
            c.handoff("MHF", "transfer", rnd.uniform(0.5, 3), 0)
        elif shape < 0.4:
            c.handoff("MHF", "transfer", rnd.uniform(0.5, 3), 0, "declined")
        elif shape < 0.5:
            c.handoff("RTJ", "transfer", rnd.uniform(0.5, 2), 0, "cancelled")
    end = max(c.received + timedelta(days=lead), c.cursor + timedelta(hours=rnd.uniform(2, 48)))
    if c.events and c.events[-1]["type"] == "supplement_requested":
        raise AssertionError
    c.ev(decide_at or end, "decided", decision=rnd.choice(["approved"] * 8 + ["rejected", "dismissed"]))
    dec = c.cursor
    if rnd.random() < 0.8:
        c.ev(c.later(1, 10), "closed")
    c.survey = None
    if survey:
        qs, fac = nki_answer((dec - c.received).total_seconds() / 86400 / 7, base,
                             missing=0.12 if area != "food_control" else 0.3)
        c.survey = {"answered_at": t(dec + timedelta(days=rnd.uniform(3, 20))), "q_overall": qs[0],
                    "q_expectations": qs[1], "q_ideal": qs[2], "factors": fac}
    return c


def place(c, latest=NOW - timedelta(days=2)):
    """Moves a case built from START so that it is received at a random time and ends before latest."""
    last = max([datetime.fromisoformat(e["at"].replace("Z", "+00:00")) for e in c.events])
    if c.survey:
        last = max(last, datetime.fromisoformat(c.survey["answered_at"].replace("Z", "+00:00")))
    span = (last - c.received).total_seconds()
    room = (latest - START).total_seconds() - span
    assert room > 0, c.area
    shift = timedelta(days=rnd.randrange(0, int(room // 86400) + 1))
    move(c, shift)


def move(c, shift):
    def mv(s):
        return t(datetime.fromisoformat(s.replace("Z", "+00:00")) + shift)
    c.received += shift
    for e in c.events:
        e["at"] = mv(e["at"])
    if c.survey:
        c.survey["answered_at"] = mv(c.survey["answered_at"])


def add(c, placed=True):
    if placed:
        place(c)
    cases.append(c)


# --- decided cases -----------------------------------------------------------------------------
for i in range(150):
    add(decided_case("building_permit", "permit" if i % 4 else "notification", survey=rnd.random() < 0.85))
for i in range(80):
    add(decided_case("environment_health", survey=rnd.random() < 0.85))
for i in range(70):
    add(decided_case("food_control", survey=rnd.random() < 0.85))
for i in range(55):
    add(decided_case("serving_licence", survey=rnd.random() < 0.85))
for i in range(15):
    add(decided_case("fire_safety", survey=i < 12))
for i in range(10):  # 8 answers: shown at 7, suppressed when comparing areas (10)
    add(decided_case("land_use", survey=i < 8, shape=i / 10))
for i in range(6):  # 4 answers: suppressed everywhere
    add(decided_case("other", survey=i < 4, shape=i / 6))

# Decisions on Stockholm month boundaries: 23:30 UTC on 31 January is 1 February in Stockholm;
# 22:30 UTC on 31 May (summer time) is 1 June; 21:30 UTC on 31 March is still 31 March.
for boundary in ["2025-01-31T23:30:00Z", "2025-05-31T22:30:00Z", "2025-03-31T21:30:00Z", "2024-10-31T23:30:00Z"]:
    b = datetime.fromisoformat(boundary.replace("Z", "+00:00"))
    c = decided_case("food_control", received=b - timedelta(days=20, hours=3), decide_at=b, plain=True)
    cases.append(c)

# Fee reductions: building permits decided 0-6 weeks after a plain ten-week deadline.
for i, late_days in enumerate([0, 1, 6, 7, 8, 15, 29, 36, 60]):
    rec = datetime(2024, 9, 2, 8, 0, tzinfo=timezone.utc) + timedelta(days=i * 11)
    c = Case("building_permit", rec, "permit")
    c.start()
    c.ev(rec + timedelta(days=70 + late_days, hours=3), "decided", decision="approved")
    c.survey = None
    cases.append(c)

# Two supplements within three weeks: the clock runs from the second arrival.
c = Case("building_permit", datetime(2024, 11, 4, 9, 0, tzinfo=timezone.utc), "permit")
c.start()
c.supplement(2, 4)
c.supplement(15, 9)
c.supplement(40, 5)  # late: moves nothing
c.ev(c.later(30, 30), "decided", decision="approved")
c.survey = None
cases.append(c)

# A decided case with a consultation never answered and a contact accepted, never completed.
c = Case("building_permit", datetime(2025, 1, 13, 9, 0, tzinfo=timezone.utc), "permit")
c.start()
c.handoff("RTJ", "contact", 1.5, 0, "accepted")
c.handoff("MHF", "consultation", 0, 0, "requested")
c.ev(c.later(40, 40), "decided", decision="approved")
c.survey = None
cases.append(c)

# Withdrawn cases.
for i, area in enumerate(["building_permit", "food_control", "environment_health", "serving_licence"]):
    c = Case(area, datetime(2024, 12, 2, 9, 0, tzinfo=timezone.utc) + timedelta(days=9 * i),
             "permit" if area == "building_permit" else None)
    c.start()
    if i == 0:
        c.supplement(5, 0, receive=False)
    c.ev(c.later(10, 30), "withdrawn", reason="Sökanden återkallade")
    c.survey = None
    cases.append(c)

# --- open cases --------------------------------------------------------------------------------
ages = [3, 5, 8, 11, 12, 17, 20, 26, 30, 35, 39, 47, 50, 58, 65, 69, 72, 80, 86, 95, 100, 120, 140, 160,
        170, 176, 190, 200, 230, 260, 300, 330]
open_areas = ["building_permit", "food_control", "environment_health", "serving_licence", "fire_safety",
              "land_use", "other"]
for i, age in enumerate(ages * 2):
    area = open_areas[i % len(open_areas)]
    if i % 5 == 0:
        area = "building_permit"
    rec = day_time(NOW - timedelta(days=age), hour=8)
    c = Case(area, rec, ("permit" if i % 3 else "notification") if area == "building_permit" else None)
    c.survey = None
    k = i % 8
    if k == 0:
        cases.append(c)  # still received
        continue
    c.start()
    if k == 1 and age > 10:
        c.supplement(min(age - 2, rnd.randrange(2, 20)), 0, receive=False)  # paused
    elif k == 2 and age > 30:
        c.supplement(rnd.randrange(2, 20), rnd.uniform(2, 8))
    elif k == 3 and age > 20 and c.owner == "SBF":
        c.handoff("MHF", "transfer", rnd.uniform(1, 5), 0)  # the new owner holds it since acceptance
    elif k == 4 and age > 20 and c.owner != "MHF":
        c.handoff("MHF", "consultation", rnd.uniform(18, min(age - 2, 40)), 0,
                  "requested" if rnd.random() < 0.5 else "accepted")
    elif k == 5 and age > 10 and c.owner != "RTJ":
        c.handoff("RTJ", "consultation", rnd.uniform(1, 3), rnd.uniform(1, 3))
    elif k == 6 and age > 8 and c.owner == "SBF":
        c.handoff("RTJ", "transfer", 1, 0, "requested")
    elif k == 7 and c.owner != "SBF":
        c.handoff("SBF", "contact", 0.5, 0, "accepted")
    if i % 11 == 0:
        c.ev(c.later(0.2, 1), "note", text="Platsbesök bokat")
    assert c.cursor < NOW, (age, c.events)
    cases.append(c)

# Building permits about to fall due (within five working days of now) and just overdue.
for age in [66, 67, 68, 71, 73]:
    c = Case("building_permit", day_time(NOW - timedelta(days=age), hour=9), "permit")
    c.start()
    c.survey = None
    cases.append(c)

# --- write ---------------------------------------------------------------------------------------
cases.sort(key=lambda c: c.received)
serial = {}
out = []
for i, c in enumerate(cases):
    d = c.line()
    prefix = PREFIX[c.dep]
    serial[(prefix, c.received.year)] = serial.get((prefix, c.received.year), 0) + 1
    d["reference"] = f"{prefix} {c.received.year}/{serial[(prefix, c.received.year)]:04d}"
    d["org_number"] = org(i % 311)
    d["company_name"] = f"Företag {i % 311} AB"
    if c.survey:
        d["survey"] = c.survey
    for e in d["events"]:
        assert e["at"] <= t(NOW), d
    out.append(json.dumps(d, ensure_ascii=False))

path = pathlib.Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "oracle" / "cases.ndjson"
path.parent.mkdir(parents=True, exist_ok=True)
path.write_text("\n".join(out) + "\n")
print(f"{len(out)} cases -> {path}")
