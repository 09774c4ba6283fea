"""`anontel forget` (SPEC §11 "Trust"): removes the kept messages, the audit log and
the random ID, prints what it removed (one "name: count" line each, no path), exits 0
also when there was nothing; the next report makes a new random ID. It takes the
sender lock: while another run holds it, it says so, removes nothing and exits 1. It
runs whether telemetry is on or off, in its own sandbox class."""
import fcntl
import os
import re

import lib
import runs

RANDOM = {"id": {"scheme": "random"}}


def _forget(e, *extra):
    p, _ = runs.run(["forget", *extra], e)
    return p


def _lines(p):
    return p.stdout.decode().splitlines()


def _counts(kept, logged, random_id):
    return [f"kept messages removed: {kept}", f"logged messages removed: {logged}",
            f"random ID removed: {'yes' if random_id else 'no'}"]


def _fill(tmp, state):
    """Two delivered messages (the log), one kept (a dead endpoint), the random ID.
    Returns (config, the ID)."""
    cfg = lib.write_config(tmp, RANDOM, name="random.json")
    with runs.Server() as s:
        for _ in range(2):
            p, _ = runs.run(["report", "--force", "-q", "-c", cfg], runs.env(state, s.url()))
            lib.eq(p.returncode, 0, f"delivered ({runs.describe(p)})")
    p, _ = runs.run(["report", "--force", "-q", "-c", cfg], runs.env(state, runs.dead_url()))
    lib.eq(p.returncode, 1, "kept")
    with open(os.path.join(state, "random-id"), "rb") as f:
        rid = f.read()
    return cfg, rid


def test_forget_removes_what_was_kept(tmp):
    state = os.path.join(tmp, "state")
    cfg, rid = _fill(tmp, state)
    lib.eq((len(runs.log_names(state)), len(runs.kept_names(state))), (2, 1), "before")
    before = runs.stamps(state)
    p = _forget(runs.env(state), "-c", cfg)
    lib.eq(p.returncode, 0, f"forget ({runs.describe(p)})")
    lib.eq(_lines(p), _counts(1, 2, True), "what was removed")
    lib.eq(p.stderr, b"", "nothing on stderr")
    lib.eq((runs.log_names(state), runs.kept_names(state)), ([], []), "kept/ emptied")
    lib.check(not os.path.exists(os.path.join(state, "random-id")), "random-id removed")
    lib.eq(runs.stamps(state), before, "the stamps (times, counters) stay")
    lib.check(state.encode() not in p.stdout, "no path printed")
    # Again: nothing there, still 0.
    p = _forget(runs.env(state), "-c", cfg)
    lib.eq((p.returncode, _lines(p)), (0, _counts(0, 0, False)), "a second forget")
    # The next report makes a new random ID.
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force", "-q", "-c", cfg], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, "delivered after forget")
        sent = lib.strict_json(s.posts[0].body)["data"]["system"]["id"]
    with open(os.path.join(state, "random-id"), "rb") as f:
        new = f.read()
    lib.check(re.fullmatch(rb"[0-9a-f]{64}", new), f"a new random ID: {new!r}")
    lib.check(new != rid, "not the one forgotten")
    lib.eq(sent.encode(), new, "the report sends the new one")


def test_forget_with_nothing_there(tmp):
    state = os.path.join(tmp, "no", "state")
    p = _forget(runs.env(state))
    lib.eq((p.returncode, _lines(p), p.stderr), (0, _counts(0, 0, False), b""),
           "no state dir: exit 0, all zero")
    lib.check(not os.path.exists(os.path.join(tmp, "no")), "forget made no directory")


def test_forget_when_opted_out(tmp):
    state = os.path.join(tmp, "state")
    cfg, _ = _fill(tmp, state)
    p = _forget(runs.env(state, DO_NOT_TRACK="1"), "-c", cfg)
    lib.eq((p.returncode, _lines(p)), (0, _counts(1, 2, True)), "forget works when off")


def test_forget_waits_for_nobody(tmp):
    """Another run holds the lock: forget says so, exits 1 and removes nothing."""
    state = os.path.join(tmp, "state")
    cfg, _ = _fill(tmp, state)
    with open(os.path.join(state, "lock"), "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = _forget(runs.env(state), "-c", cfg)
    lib.eq(p.returncode, 1, f"busy ({runs.describe(p)})")
    lib.eq(p.stdout, b"", "nothing printed on stdout")
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"one line: {lines}")
    lib.check("another run" in lines[0], f"it says why: {lines[0]!r}")
    lib.eq((len(runs.log_names(state)), len(runs.kept_names(state))), (2, 1), "nothing removed")
    lib.check(os.path.exists(os.path.join(state, "random-id")), "random-id stays")


def test_forget_leaves_what_is_not_anontels(tmp):
    state = os.path.join(tmp, "state")
    cfg, _ = _fill(tmp, state)
    kept = runs.kept_dir(state)
    os.mkdir(os.path.join(kept, "00000000000000000099.sent"))
    with open(os.path.join(kept, "notes"), "w") as f:
        f.write("mine\n")
    p = _forget(runs.env(state), "-c", cfg)
    lib.eq((p.returncode, _lines(p)), (0, _counts(1, 2, True)), "ours removed")
    lib.eq(sorted(os.listdir(kept)), ["00000000000000000099.sent", "notes"], "the rest stays")


def test_forget_runs_sandboxed_and_a_bad_config_is_refused(tmp):
    state = os.path.join(tmp, "state")
    cfg, _ = _fill(tmp, state)
    p = _forget(runs.env(state), "-v", "-c", cfg)
    lib.eq(p.returncode, 0, f"forget -v ({runs.describe(p)})")
    lib.check(re.search(rb"^anontel: sandbox: on \(\d+ system calls allowed\)$", p.stderr, re.M),
              f"sandboxed: {p.stderr!r}")
    _fill(tmp, state)
    bad = lib.write_config(tmp, "{ nope", name="bad.json")
    p = _forget(runs.env(state), "-c", bad)
    lib.eq(p.returncode, 2, "a config error is exit 2")
    lib.eq(p.stdout, b"", "and nothing removed or printed")
    lib.check(os.path.exists(os.path.join(state, "random-id")), "random-id stays")
