"""One sender at a time (SPEC §7): runs started together send one message; the
others exit 0 at once."""
import os
import subprocess
import time

import lib
import runs

N = 20


def _start_together(e, args):
    """Starts N runs at once; returns [(exit status, seconds, stderr)]."""
    procs = []
    for _ in range(N):
        procs.append((subprocess.Popen([lib.BIN] + args, env=e, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE),
                      time.monotonic()))
    out = [None] * N
    deadline = time.monotonic() + 20
    while any(o is None for o in out) and time.monotonic() < deadline:
        for i, (p, t0) in enumerate(procs):
            if out[i] is None and p.poll() is not None:
                out[i] = (p.returncode, time.monotonic() - t0)
        time.sleep(0.005)
    results = []
    for i, (p, _) in enumerate(procs):
        if out[i] is None:
            p.kill()
            p.wait()
            out[i] = ("hung", 99.0)
        _, err = p.communicate()
        results.append((out[i][0], out[i][1], err))
    return results


def _one_sender(tmp, state, args):
    with runs.Server(lambda r: runs.Reply(200, delay=3.0)) as s:
        e = runs.env(state, s.url())
        res = _start_together(e, args)
        time.sleep(0.2)
        lib.eq(len(s.posts), 1, f"exactly one message received ({s.accepted} connections)")
        codes = [r[0] for r in res]
        lib.eq(codes, [0] * N, f"all exit 0 (stderr {[r[2] for r in res if r[0] != 0][:2]})")
        quick = sorted(r[1] for r in res)
        lib.check(sum(1 for t in quick if t < 2.0) >= N - 1,
                  f"all but the sender exit at once (< 2 s): {['%.2f' % t for t in quick]}")
        lib.check(quick[-1] >= 2.9, f"the sender waited for the server: {quick[-1]:.2f}")
        lib.eq(runs.kept_names(state), [], "nothing left kept")
        st = runs.status_json(e)
        lib.eq((st["delivered"], st["kept"], st["lastError"]), (1, 0, ""), "status after")


def test_twenty_runs_one_message(tmp):
    state = os.path.join(tmp, "state")
    os.mkdir(state, 0o700)
    _one_sender(tmp, state, ["report"])


def test_twenty_runs_fresh_state_dir(tmp):
    # The very first tick: the state dir does not exist yet; 20 runs race to make it.
    _one_sender(tmp, os.path.join(tmp, "state"), ["report"])


def test_forced_runs_wait_for_no_one(tmp):
    # --force ignores "due", not the lock: forced runs that find a sender exit 0 too.
    state = os.path.join(tmp, "state")
    with runs.Server(lambda r: runs.Reply(200, delay=2.5)) as s:
        e = runs.env(state, s.url())
        p = subprocess.Popen([lib.BIN, "report"], env=e, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 5
        while not s.posts and time.monotonic() < deadline:
            time.sleep(0.01)
        lib.eq(len(s.posts), 1, "the first run is sending")
        started = time.monotonic()
        q, took = runs.run(["report", "--force"], e)
        lib.eq(q.returncode, 0, f"a forced run while another sends ({runs.describe(q)})")
        lib.check(took < 1.0, f"it exits at once: {took:.2f} s")
        lib.check(time.monotonic() - started < 2.0, "before the sender is done")
        p.wait(10)
        lib.eq(p.returncode, 0, "the sender")
        lib.eq(len(s.posts), 1, "one message")
