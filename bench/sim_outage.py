#!/usr/bin/env python3
"""A fleet across an endpoint outage, simulated with the state-machine model
(tests/model/statemodel.py, the same semantics the integration tests hold the binary to).

100,000 instances, interval 12 h, each running `report` as a HEALTHCHECK every 30 s
(its own phase), in steady state when the endpoint goes down for 6 hours. An event
queue holds each instance's next tick at which a run is due, so only runs that do
something cost anything. Two back-off policies:
  new: full jitter, next try uniform in [1 s, min(interval, 30 s * 2^failures)];
  old: 30 s doubling up to the interval, no jitter (before issue 11).
Prints requests (POSTs reaching the endpoint, failed or not) per minute before, during
and after the outage, and the peak after recovery against the steady rate; writes the
per-minute series for bench/outage.gp.

Usage: bench/sim_outage.py [--instances N] [--seed S] [--data bench/outage.dat]
"""
import argparse
import heapq
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "model"))
import statemodel as sm  # noqa: E402

MIN = 60_000
HOUR = 60 * MIN
INTERVAL = 12 * HOUR
TICK = 30_000
OUTAGE_START = 14 * HOUR           # after more than one interval: the fleet is in steady state
OUTAGE_LEN = 6 * HOUR
OUTAGE_END = OUTAGE_START + OUTAGE_LEN
END = OUTAGE_END + 30 * HOUR       # 30 h after: well past the back-off cap and one interval


class FleetDraws(sm.Draws):
    """Random draws for one instance at a time; `old` replays the policy before issue 11."""

    def __init__(self, rng, old):
        self.rng, self.old, self.failures = rng, old, 0
        self.seq = 0

    def jitter_permille(self):
        return self.rng.randint(0, sm.JITTER_MAX)

    def next_try_ms(self, lo, hi):
        if self.old:                 # lo is now + 1 s: the bound is >= 30 s here
            return lo - 1000 + sm.old_backoff_ms(self.failures, INTERVAL)
        return self.rng.randint(lo, hi)

    def new_message(self, seq):
        self.seq += 1
        return self.seq


DOWN = sm.Answer(None)             # the endpoint does not answer (connection refused)
UP = sm.Answer(200)


def next_tick(t, phase):
    """The first HEALTHCHECK tick of an instance at or after t."""
    k = -((phase - t) // TICK)
    return phase + max(k, 0) * TICK


def simulate(n, seed, old):
    """Returns (requests per minute, deliveries per minute) over [0, END)."""
    rng = random.Random(seed)
    draws = FleetDraws(rng, old)
    minutes = END // MIN
    req = [0] * minutes
    ok = [0] * minutes
    states, phases, heap = [], [], []
    for i in range(n):
        j = rng.randint(0, sm.JITTER_MAX)
        period = INTERVAL + sm.jitter_ms(INTERVAL, j)
        built = -rng.randint(1, period)              # steady state: a random phase of its period
        st = sm.Stamps(last_built_ms=built, last_success_ms=built, jitter_permille=j,
                       notice_shown=1)
        s = sm.State(st)
        phase = rng.randrange(TICK)
        states.append(s)
        phases.append(phase)
        heap.append((next_tick(sm.due_at(s, INTERVAL), phase), i))
    heapq.heapify(heap)
    runs = 0
    while heap:
        now, i = heapq.heappop(heap)
        if now >= END:
            break
        s = states[i]
        answer = DOWN if OUTAGE_START <= now < OUTAGE_END else UP
        draws.failures = s.stamps.failures + 1
        o = sm.report(s, INTERVAL, now, lambda _k: answer, draws, keep_checkpoints=False)
        runs += 1
        if not o.due:                                 # cannot happen: woken only when due
            raise RuntimeError(f"instance {i} woken at {now} but not due")
        m = now // MIN
        req[m] += len(o.posts)
        ok[m] += o.delivered
        states[i] = o.state
        heapq.heappush(heap, (next_tick(sm.due_at(o.state, INTERVAL), phases[i]), i))
    return req, ok, runs


def window(series, a, b):
    return series[a // MIN:b // MIN]


def smooth(series, width):
    out, acc = [], 0
    for k, v in enumerate(series):
        acc += v
        if k >= width:
            acc -= series[k - width]
        out.append(acc / min(k + 1, width))
    return out


def summary(name, req, ok):
    before = window(req, 2 * HOUR, OUTAGE_START)     # after the first hours: steady state
    during = window(req, OUTAGE_START, OUTAGE_END)
    after = window(req, OUTAGE_END, END)
    steady = sum(before) / len(before)
    after10 = window(smooth(req, 10), OUTAGE_END + 10 * MIN, END)
    peak_at = after.index(max(after))
    back = next((k for k, v in enumerate(window(smooth(req, 60), OUTAGE_END + HOUR, END))
                 if v <= 1.1 * steady), None)
    return {
        "policy": name,
        "steady": steady,
        "during": sum(during) / len(during),
        "during_peak": max(during),
        "after_peak": max(after),
        "after_peak_min": peak_at,
        "after_peak10": max(after10),
        "after_first_hour": sum(after[:60]) / 60,
        "backlog_cleared_h": None if back is None else (back + 60) / 60,
        "delivered_after": sum(window(ok, OUTAGE_END, END)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   "outage.dat"))
    a = ap.parse_args()
    started = time.monotonic()
    results, series = [], {}
    for name, old in (("new (full jitter)", False), ("old (doubling, no jitter)", True)):
        req, ok, runs = simulate(a.instances, a.seed, old)
        series[name] = req
        results.append(summary(name, req, ok))
        results[-1]["runs"] = runs
    secs = time.monotonic() - started

    with open(a.data, "w") as f:
        f.write("# minute_from_outage_end new_req_per_min old_req_per_min\n")
        new, old = series["new (full jitter)"], series["old (doubling, no jitter)"]
        for m in range(len(new)):
            f.write(f"{(m * MIN - OUTAGE_END) / HOUR:.4f} {new[m]} {old[m]}\n")

    print(f"Outage simulation: {a.instances:,} instances, interval 12 h, HEALTHCHECK every 30 s,"
          f" endpoint down {OUTAGE_LEN // HOUR} h (from hour {OUTAGE_START // HOUR}),"
          f" seed {a.seed}, {secs:.1f} s")
    print()
    print("| policy | steady req/min | during: mean / peak | after: peak/min (x steady) "
          "| after: peak of 10-min mean (x steady) | after: 1st hour mean | back to steady |")
    print("|---|---|---|---|---|---|---|")
    ok_all = True
    for r in results:
        x = r["after_peak"] / r["steady"]
        x10 = r["after_peak10"] / r["steady"]
        cleared = "-" if r["backlog_cleared_h"] is None else f"{r['backlog_cleared_h']:.1f} h"
        print(f"| {r['policy']} | {r['steady']:.0f} | {r['during']:.0f} / {r['during_peak']} "
              f"| {r['after_peak']} ({x:.2f}x, minute {r['after_peak_min']}) "
              f"| {r['after_peak10']:.0f} ({x10:.2f}x) | {r['after_first_hour']:.0f} | {cleared} |")
        if r["policy"].startswith("new"):
            ok_all = x <= 2.0
    print()
    new = results[0]
    verdict = "holds" if ok_all else "FAILS"
    print(f"new policy: peak after recovery {new['after_peak']}/min = "
          f"{new['after_peak'] / new['steady']:.2f}x the steady {new['steady']:.0f}/min "
          f"(requirement <= 2x: {verdict})")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main())
