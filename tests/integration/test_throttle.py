"""Throttling (SPEC §7): report is run often and sends only when due; the jitter is
drawn once and kept in the state dir."""
import os
import re
import time

import lib
import runs


def test_second_run_is_not_due(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, "first report sends")
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"second report ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, "second report sends nothing")
        lib.eq(s.accepted, 1, "second report does not even connect")
        lib.eq(p.stdout, b"", "second report prints nothing")
        lib.eq(p.stderr, b"", "second report says nothing without -v")


def test_not_due_opens_no_socket(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        p, calls = runs.no_network_traced(["report"], e, tmp)
        lib.eq(p.returncode, 0, f"not-due report ({runs.describe(p)})")
        lib.eq(calls, [], "a not-due report makes no socket and no connection")
        lib.eq(len(s.posts), 1, "requests")


def test_interval_elapsed_sends_again(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"interval": "2s"})
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"first ({runs.describe(p)})")
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq((p.returncode, len(s.posts)), (0, 1), "at once: not due")
        time.sleep(2.35)          # interval 2 s + jitter <= 200 ms
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"after the interval ({runs.describe(p)})")
        lib.eq(len(s.posts), 2, "after the interval it sends again")
        t1, t2 = (runs.parse_ts(runs.ts_of(r.body)) for r in s.posts)
        lib.check(t2 - t1 >= 2.0, f"the second message is newer by >= 2 s ({t2 - t1:.3f})")
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq((p.returncode, len(s.posts)), (0, 2), "and then not due again")


def test_jitter_drawn_once_and_kept(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"interval": "2s"})
    seen = []
    with runs.Server() as s:
        e = runs.env(state, s.url())
        for i in range(4):
            p, _ = runs.run(["report", "--force", "-c", cfg], e)
            lib.eq(p.returncode, 0, f"run {i} ({runs.describe(p)})")
            st = runs.stamps(state)
            lib.check("jitter_permille" in st, f"run {i}: stamps has jitter_permille: {st}")
            lib.check(re.fullmatch(r"0|[1-9]\d*", st["jitter_permille"]),
                      f"jitter_permille {st['jitter_permille']!r}")
            seen.append(int(st["jitter_permille"]))
        p, _ = runs.run(["report", "-c", cfg], e)          # a not-due run keeps it too
        seen.append(int(runs.stamps(state)["jitter_permille"]))
    lib.eq(len(set(seen)), 1, f"jitter stays the same across runs: {seen}")
    lib.check(0 <= seen[0] <= 100, f"jitter <= 100 per mille (10%): {seen[0]}")


def test_jitter_is_a_fraction_of_the_interval(tmp):
    # Across fresh state dirs the jitter is drawn anew, each within 10% of the interval.
    values = []
    with runs.Server() as s:
        for i in range(6):
            state = os.path.join(tmp, f"state{i}")
            p, _ = runs.run(["report"], runs.env(state, s.url()))
            lib.eq(p.returncode, 0, f"state {i}: ({runs.describe(p)})")
            values.append(int(runs.stamps(state)["jitter_permille"]))
    for v in values:
        lib.check(0 <= v <= 100, f"jitter {v} <= 100 per mille")
    lib.check(len(set(values)) > 1, f"jitter is drawn per state dir, not constant: {values}")


def test_status_next_due_follows_interval_and_jitter(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"interval": "1h"})
    with runs.Server() as s:
        e = runs.env(state, s.url())
        before = time.time()
        p, _ = runs.run(["report", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"report ({runs.describe(p)})")
        j = 3600 * int(runs.stamps(state)["jitter_permille"]) / 1000
        st = runs.status_json(runs.env(state, s.url()) | {"ANONTEL_CONFIG": cfg})
        due = runs.parse_ts(st["nextDue"])
        lib.check(before + 3600 + j - 1 <= due <= time.time() + 3600 + j + 1,
                  f"nextDue = built + 1 h + jitter ({st['nextDue']}, jitter {j}s)")


def test_lowering_the_interval_takes_effect_at_the_next_run(tmp):
    # The jitter is a per-mille of the current interval: lowering the interval from 12 h
    # to 1 s makes the next run due within 1.1 s (not weeks later).
    state = os.path.join(tmp, "state")
    long_cfg = lib.write_config(tmp, {"interval": "12h"}, "long.json")
    short_cfg = lib.write_config(tmp, {"interval": "1s"}, "short.json")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "-c", long_cfg], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        st = runs.status_json(runs.env(state, s.url()) | {"ANONTEL_CONFIG": short_cfg})
        due = runs.parse_ts(st["nextDue"]) - time.time()
        lib.check(due <= 1.2, f"with interval 1s the next report is due within 1.1 s: {due:.1f}s")
        time.sleep(max(0.0, due) + 0.1)
        p, _ = runs.run(["report", "-c", short_cfg], e)
        lib.eq((p.returncode, len(s.posts)), (0, 2), f"sent again ({runs.describe(p)})")
