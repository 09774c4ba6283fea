#!/usr/bin/env python3
"""A fleet across an endpoint outage, simulated with the state-machine model
(tests/model/statemodel.py: the semantics the integration tests hold the binary to).

100,000 instances, interval 12 h, each running `report` as a HEALTHCHECK every 30 s
(each its own tick phase); the endpoint is down for 6 hours. An event queue holds each
instance's next tick at which a run is due, so only runs that do something cost time.
Requests are POSTs reaching the endpoint's address, failed or not. Two back-off
policies, the same fleet and draws otherwise:
  new: full jitter, the next try uniform in [1 s, min(interval, 30 s * 2^failures)];
  old: 30 s doubling up to the interval, no jitter (before issue 11).
Two scenarios:
  phases:  the fleet in steady state, each instance at a random phase of its interval
           (what the issue asks for);
  restart: the same, but the whole fleet restarts 1 h into the outage with fresh state
           (containers without a volume, one roll-out): every instance builds a message
           within one 30 s tick and starts failing in step. By default a fifth of the
           fleet (rates are per instance: the ratios to steady do not depend on it).
Prints requests per minute before, during and after the outage and the peak after
recovery against the steady rate, as a Markdown table for bench/RESULTS.md; writes the
per-minute series for bench/outage.gp (bench/outage.png).

Usage: bench/sim_outage.py [--instances N] [--restart-instances N] [--seed S] [--data FILE]
                           [--png bench/outage.png]
"""
import argparse
import heapq
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "model"))
import statemodel as sm  # noqa: E402

MIN = 60_000
HOUR = 60 * MIN
INTERVAL = 12 * HOUR
TICK = 30_000
OUTAGE_START = 3 * HOUR            # the fleet starts in steady state: no warm-up needed
OUTAGE_LEN = 6 * HOUR
OUTAGE_END = OUTAGE_START + OUTAGE_LEN
RESTART = OUTAGE_START + HOUR      # the restart scenario's roll-out
END = OUTAGE_END + 15 * HOUR       # past the back-off cap (12 h) and the jittered interval
AFTER = 6 * HOUR                   # "after recovery": its first 6 hours


class FleetDraws(sm.Draws):
    """Random draws for the instance being run; `old` replays the policy before issue 11
    (`failures` is set to the count this attempt will have)."""

    def __init__(self, rng, old):
        self.rng, self.old, self.failures, self.seq = rng, old, 0, 0

    def jitter_permille(self):
        return self.rng.randint(0, sm.JITTER_MAX)

    def next_try_ms(self, lo, hi):
        if self.old:                 # lo is now + 1 s: the bound is >= 30 s here
            return lo - 1000 + sm.old_backoff_ms(self.failures, INTERVAL)
        return self.rng.randint(lo, hi)

    def new_message(self, seq):
        self.seq += 1
        return self.seq


def _down(_i):
    return DOWN


def _up(_i):
    return UP


DOWN = sm.Answer(None)             # nothing answers at the endpoint's address
UP = sm.Answer(200)


def next_tick(t, phase):
    """The first HEALTHCHECK tick of an instance at or after t."""
    k = -((phase - t) // TICK)
    return phase + max(k, 0) * TICK


def simulate(n, seed, old, restart):
    """Returns (requests per minute, deliveries per minute, runs) over [0, END)."""
    rng = random.Random(seed)
    draws = FleetDraws(rng, old)
    req = [0] * (END // MIN)
    ok = [0] * (END // MIN)
    states, phases, heap = [], [], []
    for i in range(n):
        j = rng.randint(0, sm.JITTER_MAX)
        period = INTERVAL + sm.jitter_ms(INTERVAL, j)
        built = -rng.randint(1, period)              # steady state: a random phase of its period
        s = sm.State(sm.Stamps(last_built_ms=built, last_success_ms=built, jitter_permille=j,
                               notice_shown=1))
        phase = rng.randrange(TICK)
        states.append(s)
        phases.append(phase)
        heap.append((next_tick(sm.due_at(s, INTERVAL, 0), phase), i))
    heapq.heapify(heap)
    pending_restart = restart
    runs = 0
    while heap:
        now, i = heap[0]
        if pending_restart and now >= RESTART:
            # Every container replaced at once, with an empty state dir.
            pending_restart = False
            states = [sm.State() for _ in range(n)]
            heap = [(next_tick(RESTART, phases[k]), k) for k in range(n)]
            heapq.heapify(heap)
            continue
        if now >= END:
            break
        heapq.heappop(heap)
        s = states[i]
        draws.failures = s.stamps.failures + 1
        o = sm.report(s, INTERVAL, now, _down if OUTAGE_START <= now < OUTAGE_END else _up,
                      draws)
        runs += 1
        if not o.due:                                 # cannot happen: woken only when due
            raise RuntimeError(f"instance {i} woken at {now} but not due: {s.stamps!r}")
        m = now // MIN
        req[m] += len(o.posts)
        ok[m] += o.delivered
        states[i] = o.state
        heapq.heappush(heap, (next_tick(sm.due_at(o.state, INTERVAL, now + 1), phases[i]), i))
    return req, ok, runs


def window(series, a, b):
    return series[a // MIN:b // MIN]


def mean(xs):
    return sum(xs) / len(xs)


def smooth(series, width):
    out, acc = [], 0
    for k, v in enumerate(series):
        acc += v
        if k >= width:
            acc -= series[k - width]
        out.append(acc / min(k + 1, width))
    return out


def summary(req, ok):
    steady = mean(window(req, HOUR, OUTAGE_START))
    during = window(req, OUTAGE_START, OUTAGE_END)
    # The peak "after recovery" is taken over the 6 hours after it: later peaks are the
    # next interval's messages (in the restart scenario, the roll-out's own wave).
    after = window(req, OUTAGE_END, OUTAGE_END + AFTER)
    after10 = window(smooth(req, 10), OUTAGE_END + 10 * MIN, OUTAGE_END + AFTER)
    hourly = window(smooth(req, 60), OUTAGE_END + HOUR, END)
    back = next((k for k, v in enumerate(hourly) if v <= 1.1 * steady), None)
    return {
        "steady": steady, "during": mean(during), "during_peak": max(during),
        "last_hour": mean(window(req, OUTAGE_END - HOUR, OUTAGE_END)),
        "after_peak": max(after), "after_peak_min": after.index(max(after)),
        "after_peak10": max(after10), "after_first_hour": mean(after[:60]),
        "back_h": None if back is None else (back + 60) / 60,
        "delivered_after": sum(window(ok, OUTAGE_END, END)),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=100_000)
    ap.add_argument("--restart-instances", type=int, default=None,
                    help="fleet size of the restart scenario (default: a fifth of --instances)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data", help="keep the per-minute series in this file")
    ap.add_argument("--png", default=os.path.join(HERE, "outage.png"),
                    help="the plot (gnuplot, bench/outage.gp); '' for none")
    a = ap.parse_args()
    n_restart = a.restart_instances or max(1, a.instances // 5)
    started = time.monotonic()
    rows, series = [], {}
    for scen, n, restart in (("phases", a.instances, False), ("restart", n_restart, True)):
        for pol, old in (("new", False), ("old", True)):
            req, ok, runs = simulate(n, a.seed, old, restart)
            series[scen, pol] = req
            rows.append((scen, n, pol, summary(req, ok), runs))
    secs = time.monotonic() - started

    tmp = tempfile.mkdtemp(prefix="anontel-outage-")
    data = a.data or os.path.join(tmp, "outage.dat")
    with open(data, "w") as f:
        f.write("# bench/sim_outage.py: requests per minute; hours from the end of the outage,"
                " then phases/new phases/old restart/new restart/old (per 100,000 instances)\n")
        scale = {scen: 100_000 / n for scen, n, _, _, _ in rows}
        for m in range(END // MIN):
            vals = " ".join(f"{series[s, p][m] * scale[s]:.0f}"
                            for s in ("phases", "restart") for p in ("new", "old"))
            f.write(f"{(m * MIN - OUTAGE_END) / HOUR:.4f} {vals}\n")

    plotted = ""
    if a.png:
        if shutil.which("gnuplot") is None:
            plotted = "; no plot: gnuplot is not installed (apt-get install gnuplot-nox)"
        else:
            subprocess.run(["gnuplot", "-e", f"data='{data}'; out='{a.png}'",
                            os.path.join(HERE, "outage.gp")], check=True, timeout=60)
            plotted = f"; plot: {os.path.relpath(a.png)}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"bench/sim_outage.py: interval 12 h, HEALTHCHECK every 30 s, endpoint down "
          f"{OUTAGE_LEN // HOUR} h; seed {a.seed}; {secs:.0f} s{plotted}")
    print()
    print("| scenario | instances | back-off | steady req/min | during: mean / peak "
          "| last hour of the outage | 6 h after: peak minute (x steady) "
          "| 6 h after: peak 10-min mean (x steady) | back to 1.1x steady |")
    print("|---|---|---|---|---|---|---|---|---|")
    for scen, n, pol, r, _runs in rows:
        x, x10 = r["after_peak"] / r["steady"], r["after_peak10"] / r["steady"]
        back = "-" if r["back_h"] is None else f"{r['back_h']:.1f} h"
        label = "full jitter" if pol == "new" else "doubling, no jitter"
        print(f"| {scen} | {n:,} | {label} | {r['steady']:.0f} | {r['during']:.0f} / "
              f"{r['during_peak']} | {r['last_hour']:.0f} | {r['after_peak']} ({x:.1f}x, "
              f"minute {r['after_peak_min']}) | {r['after_peak10']:.0f} ({x10:.1f}x) | {back} |")
    print()
    verdicts = []
    for scen, n, pol, r, _ in rows:
        if pol == "new":
            x = r["after_peak"] / r["steady"]
            verdicts.append(x <= 2.0)
            print(f"{scen}: full jitter peaks after recovery at {x:.2f}x the steady rate "
                  f"({'<=' if x <= 2.0 else '>'} 2x); {r['after_peak'] / r['last_hour']:.2f}x "
                  f"the rate of the outage's last hour")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
