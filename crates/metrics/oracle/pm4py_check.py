"""Checks Lots' XES and OCEL exports of the oracle fixture with pm4py.

Usage: python3 crates/metrics/oracle/pm4py_check.py FILE.xes FIXTURE.ndjson [--ocel FILE.json]

pm4py's handover-of-work network (beta = 0) counts, in each trace, every pair of consecutive
events by their resource; with `org:group` (the department of the event's actor) as the resource,
a pair of different departments is a handover. In the fixture every event is performed by the
owning department, except a handoff's answer (accepted / declined / completed) by the receiving
department. So exactly this holds, for every pair of departments a != b:

  pm4py count(a -> b) = the handoffs a -> b that b acted on (accepted or declined)
                      + the handoffs b -> a that b acted on, other than accepted transfers,
                        that are followed by a later event of the case (the return to the owner).

An accepted transfer has no return: the receiver owns the case from then on. A handoff never
answered (still requested, or cancelled before acceptance) is no handover. The first term, per
(from, to), is the count of the bottleneck edges (all kinds) less the unanswered handoffs.

With --ocel, the OCEL 2.0 export is read with pm4py.read_ocel2_json, and the `from` / `to`
qualifiers of its handoff_accepted events must give the fixture's accepted handoffs per edge.
Exits non-zero on any disagreement."""
import argparse
import collections
import json
import sys

import pm4py

DEPT = {"anna": "SBF", "erik": "SBF", "maria": "SBF", "omar": "MHF", "lars": "MHF", "nils": "RTJ"}


def expected(fixture):
    handover, returns, accepted = collections.Counter(), collections.Counter(), collections.Counter()
    for raw in open(fixture, encoding="utf-8"):
        c = json.loads(raw)
        owner, hs = c["department"], {}
        events = c["events"]
        for i, e in enumerate(events):
            if e["type"] == "handoff_requested":
                hs[e["handoff"]] = {"from": owner, "to": e["to_department"], "kind": e["kind"], "last": None,
                                    "accepted": False}
            elif e["type"] in ("handoff_accepted", "handoff_declined", "handoff_completed"):
                h = hs[e["handoff"]]
                assert DEPT[e["actor"]] == h["to"], (c["reference"], e)
                h["last"] = i
                if e["type"] == "handoff_accepted":
                    h["accepted"] = True
                    if h["kind"] == "transfer":
                        owner = h["to"]
        for h in hs.values():
            if h["last"] is None:
                continue
            handover[(h["from"], h["to"])] += 1
            if h["accepted"]:
                accepted[(h["from"], h["to"])] += 1
            if not (h["kind"] == "transfer" and h["accepted"]) and h["last"] + 1 < len(events):
                returns[(h["to"], h["from"])] += 1
    return handover, returns, accepted


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("xes")
    ap.add_argument("fixture")
    ap.add_argument("--ocel")
    args = ap.parse_args()
    handover, returns, accepted = expected(args.fixture)

    log = pm4py.read_xes(args.xes)
    pairs = int((log.groupby("case:concept:name").size() - 1).sum())
    sna = pm4py.discover_handover_of_work_network(log, resource_key="org:group")
    counts = {k: round(v * pairs) for k, v in sna.connections.items()}
    cross = {k: v for k, v in counts.items() if k[0] != k[1]}
    want = collections.Counter(handover) + collections.Counter(returns)
    ok = True
    print(f"XES: {log['case:concept:name'].nunique()} traces, {len(log)} events, {pairs} directly-following pairs")
    print(f"{'from':>4} -> {'to':<4} {'pm4py':>6} {'handoffs':>9} {'returns':>8}")
    for k in sorted(set(cross) | set(want)):
        mark = "" if cross.get(k, 0) == want.get(k, 0) else "   <-- DIFFERS"
        ok &= not mark
        print(f"{k[0]:>4} -> {k[1]:<4} {cross.get(k, 0):>6} {handover.get(k, 0):>9} {returns.get(k, 0):>8}{mark}")
    print("self-handovers (same department):", {k[0]: v for k, v in sorted(counts.items()) if k[0] == k[1]})

    if args.ocel:
        ocel = pm4py.read_ocel2_json(args.ocel)
        rel = ocel.relations
        acc = rel[rel["ocel:activity"] == "handoff_accepted"]
        ends = acc.pivot_table(index="ocel:eid", columns="ocel:qualifier", values="ocel:oid", aggfunc="first")
        got = collections.Counter((f.split(":", 1)[1], t.split(":", 1)[1]) for f, t in zip(ends["from"], ends["to"]))
        print(f"OCEL: {len(ocel.events)} events, {len(ocel.objects)} objects; accepted handoffs per edge:")
        for k in sorted(set(got) | set(accepted)):
            mark = "" if got.get(k, 0) == accepted.get(k, 0) else "   <-- DIFFERS"
            ok &= not mark
            print(f"{k[0]:>4} -> {k[1]:<4} ocel {got.get(k, 0):>4} fixture {accepted.get(k, 0):>4}{mark}")
    print("pm4py agrees" if ok else "pm4py DISAGREES")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
