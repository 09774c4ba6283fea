"""`anontel status` (SPEC §1, §7): on/off and the rule, endpoint, ID scheme, last
success, next due, kept and dropped counts, last error; --json; --last. And the
one-time notice after the first delivery from a state dir."""
import os
import re
import time

import lib
import runs

TEXT_KEYS = ["telemetry", "decided by", "endpoint", "id scheme", "last success", "next due",
             "kept messages", "dropped messages", "last error"]
JSON_KEYS = ["telemetry", "decidedBy", "endpoint", "idScheme", "lastSuccess", "nextDue", "kept",
             "dropped", "lastError"]


def _text(e, keys=TEXT_KEYS):
    p, _ = runs.run(["status"], e)
    lib.eq(p.returncode, 0, f"status ({runs.describe(p)})")
    out = {}
    for line in p.stdout.decode().splitlines():
        k, sep, v = line.partition(": ")
        lib.check(sep, f"status line 'name: value': {line!r}")
        lib.check(k not in out, f"status line {k!r} once")
        out[k] = v
    for k in keys:
        lib.check(k in out, f"status has '{k}:': {p.stdout!r}")
    return out


def _check_auto_scheme(text):
    """The default scheme auto: what it chose on this machine and why (test_id.py and
    test_id_bridge.py check the choice itself); a random ID is not made by status."""
    m = re.fullmatch(r"(butler|random) \(auto: [^)]*\)(; .*)?", text)
    lib.check(m, f"id scheme says what auto chose and why: {text!r}")
    if m.group(1) == "random":
        lib.check("no ID made yet" in text, f"no random ID before the first run: {text!r}")


def test_status_before_anything_basics(tmp):
    state = os.path.join(tmp, "state")
    e = runs.env(state, "http://127.0.0.1:9/t")
    t = _text(e, TEXT_KEYS[:4])
    lib.eq((t["telemetry"], t["endpoint"]), ("on", "http://127.0.0.1:9/t"), "on, endpoint")
    _check_auto_scheme(t["id scheme"])
    lib.check("default" in t["decided by"], f"decided by the default: {t['decided by']!r}")
    js = runs.status_json(e)
    for k in JSON_KEYS[:4]:
        lib.check(k in js, f"status --json has {k}: {js}")
    lib.check(not os.path.exists(state), "status creates no state dir")


def test_status_before_anything(tmp):
    # A fresh install (the state dir not made yet) is the commonest state: status still
    # says never / now / 0 / 0 / (none), and --json has every key.
    state = os.path.join(tmp, "state")
    e = runs.env(state, "http://127.0.0.1:9/t")
    t = _text(e)
    lib.eq((t["telemetry"], t["endpoint"]), ("on", "http://127.0.0.1:9/t"), "on, endpoint")
    _check_auto_scheme(t["id scheme"])
    lib.check("default" in t["decided by"], f"decided by the default: {t['decided by']!r}")
    lib.eq((t["last success"], t["next due"], t["kept messages"], t["dropped messages"]),
           ("never", "now", "0", "0"), "a fresh state dir")
    lib.eq(t["last error"], "(none)", "no error yet")
    js = runs.status_json(e)
    for k in JSON_KEYS:
        lib.check(k in js, f"status --json has {k}: {js}")
    lib.eq((js["telemetry"], js["endpoint"], js["idScheme"], js["kept"], js["dropped"],
            js["lastError"], js["lastSuccess"]),
           ("on", "http://127.0.0.1:9/t", t["id scheme"], 0, 0, "", ""), "fresh --json")
    lib.check(not os.path.exists(state), "status creates no state dir")


def test_status_after_success_and_failure(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        before = time.time()
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"report ({runs.describe(p)})")
        t = _text(e)
        js = runs.status_json(e)
        for v in (t["last success"], js["lastSuccess"]):
            ts = runs.parse_ts(v)
            lib.check(before - 1 <= ts <= time.time() + 1, f"last success is now: {v}")
        due = runs.parse_ts(js["nextDue"]) - time.time()
        lib.check(12 * 3600 - 5 <= due <= 13.2 * 3600 + 5, f"next due in 12 h + jitter: {due:.0f}s")
        lib.eq(t["next due"], js["nextDue"], "text and JSON agree on next due")
        lib.eq((js["kept"], js["dropped"], js["lastError"]), (0, 0, ""), "after success")
    down = runs.dead_url()
    e = runs.env(state, down)
    p, _ = runs.run(["report", "--force"], e)
    lib.eq(p.returncode, 1, "down")
    t = _text(e)
    js = runs.status_json(e)
    lib.eq((t["kept messages"], js["kept"]), ("1", 1), "one kept")
    lib.check("refused" in js["lastError"] and js["lastError"] == t["last error"],
              f"last error says what happened: {js['lastError']!r} / {t['last error']!r}")
    lib.eq(js["endpoint"], down, "endpoint from the environment")


def test_status_off_names_the_rule(tmp):
    state = os.path.join(tmp, "state")
    for env_extra, rule in (({"DO_NOT_TRACK": "1"}, "DO_NOT_TRACK"),
                            ({"ANONTEL_DISABLED": "1"}, "ANONTEL_DISABLED")):
        e = runs.env(state, "http://127.0.0.1:9/t", **env_extra)
        p, _ = runs.run(["status"], e)
        lib.eq(p.returncode, 0, "status when off")
        out = p.stdout.decode()
        lib.check("telemetry: off\n" in out and rule in out, f"off and the rule: {out!r}")
        js = runs.status_json(e)
        lib.eq(js["telemetry"], "off", "--json off")
        lib.check(rule in js["decidedBy"], f"--json decidedBy names {rule}: {js}")
    cfg = lib.write_config(tmp, {"enabled": False})
    js = runs.status_json(runs.env(state, None, ANONTEL_CONFIG=cfg))
    lib.eq(js["telemetry"], "off", "enabled false")
    lib.check("enabled" in js["decidedBy"], f"names the config: {js}")
    lib.check(not os.path.exists(state), "status writes nothing")


def test_status_last(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["status", "--last"], e)
        lib.eq(p.returncode, 1, f"--last before any delivery ({runs.describe(p)})")
        lines = runs.stderr_lines(p)
        lib.eq(len(lines), 1, f"one line: {lines}")
        lib.eq(p.stdout, b"", "nothing on stdout")
        # A failure keeps a message but delivers nothing: still nothing to show.
        p, _ = runs.run(["report"], runs.env(state, runs.dead_url()))
        lib.eq(p.returncode, 1, "down")
        p, _ = runs.run(["status", "--last"], e)
        lib.eq(p.returncode, 1, "--last after a failed delivery")
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 0, f"delivered ({runs.describe(p)})")
        p, _ = runs.run(["status", "--last"], e)
        lib.eq(p.returncode, 0, f"--last ({runs.describe(p)})")
        lib.check(p.stdout == s.posts[-1].body + b"\n",
                  f"--last prints the last message as the server received it: "
                  f"{p.stdout[:120]!r} vs {s.posts[-1].body[:120]!r}")
        lib.eq(len(s.posts), 2, "the kept one and the new one")


def test_first_delivery_notice(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"first ({runs.describe(p)})")
        lines = runs.stderr_lines(p)
        lib.eq(len(lines), 1, f"one notice line: {lines}")
        lib.check("DO_NOT_TRACK" in lines[0] and f"127.0.0.1:{s.port}/t" in lines[0],
                  f"the notice says how to turn it off and where it went: {lines[0]!r}")
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 0, "second delivery")
        lib.eq(p.stderr, b"", "no notice the second time")
        other = os.path.join(tmp, "other")
        p, _ = runs.run(["report", "-q"], runs.env(other, s.url()))
        lib.eq(p.returncode, 0, "quiet first delivery")
        lib.eq(p.stderr, b"", "-q suppresses the notice")
        lib.eq(len(s.posts), 3, "three deliveries")


def test_notice_not_shown_on_failure(tmp):
    state = os.path.join(tmp, "state")
    p, _ = runs.run(["report"], runs.env(state, runs.dead_url()))
    lib.eq(p.returncode, 1, "down")
    lib.check(b"DO_NOT_TRACK" not in p.stderr, f"no notice without a delivery: {p.stderr!r}")
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, "first delivery")
        lib.check(b"DO_NOT_TRACK" in p.stderr, f"the notice comes with the first delivery: "
                  f"{p.stderr!r}")


def test_status_state_error_is_reported(tmp):
    # A corrupted stamps file is named, not silently reset.
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, "report")
        with open(os.path.join(state, "stamps"), "ab") as f:
            f.write(b"bogus line\n")
        p, _ = runs.run(["status"], e)
        lib.eq(p.returncode, 0, "status still answers")
        lib.check(b"stamps" in p.stdout, f"status names the broken file: {p.stdout!r}")
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 1, f"report refuses a broken stamps file ({runs.describe(p)})")
        lib.check(b"stamps" in p.stderr, "and names it")
