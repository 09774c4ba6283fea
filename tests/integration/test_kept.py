"""Nothing lost (SPEC §7, §6): a message is kept on disk before it is sent, sent
oldest first by a later run, removed only after a 2xx; at most 32 kept (the oldest
dropped and counted); back-off and Retry-After delay the next try."""
import os
import time

import lib
import runs


def _fail_once(state, url):
    p, _ = runs.run(["report", "--force"], runs.env(state, url))
    lib.eq(p.returncode, 1, f"report to a down server ({runs.describe(p)})")
    return p


def test_down_server_keeps_the_message(tmp):
    state = os.path.join(tmp, "state")
    before = time.time()
    p = _fail_once(state, runs.dead_url())
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"one line on stderr: {lines}")
    lib.check("not delivered" in lines[0] and "kept" in lines[0], f"the line says kept: {lines}")
    kept = runs.kept_bytes(state)
    lib.eq(len(kept), 1, "one message kept")
    name, body = kept[0]
    msg = lib.strict_json(body)
    t = runs.parse_ts(msg["ts"])
    lib.check(before - 1 <= t <= time.time() + 1, f"the kept message has its own ts {msg['ts']}")
    lib.check("data" in msg and "system" in msg["data"], "the kept file is the message")
    mode = os.stat(os.path.join(state, "kept", name)).st_mode & 0o777
    lib.eq(mode, 0o600, "kept file mode")


def test_plain_report_after_failure_is_not_due(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        _fail_once(state, runs.dead_url())
        p, _ = runs.run(["report"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, f"report during the back-off ({runs.describe(p)})")
        lib.eq(s.accepted, 0, "no connection during the back-off")
        lib.eq(len(runs.kept_names(state)), 1, "the message stays kept")
        st = runs.status_json(runs.env(state, s.url()))
        due = runs.parse_ts(st["nextDue"]) - time.time()
        # Full jitter over the whole interval: anywhere from 1 s to 12 h.
        lib.check(0 < due <= 12 * 3600 + 1,
                  f"next try 1 s to 12 h after the failure (in {due:.1f} s)")


def test_kept_sent_first_oldest_first_exact_bytes(tmp):
    state = os.path.join(tmp, "state")
    down = runs.dead_url()
    for _ in range(3):
        _fail_once(state, down)
        time.sleep(0.005)              # distinct ts values
    kept = runs.kept_bytes(state)
    lib.eq(len(kept), 3, "three kept")
    tss = [runs.ts_of(b) for _, b in kept]
    lib.eq(tss, sorted(tss), "kept files: lower number = older ts")
    lib.eq(len(set(tss)), 3, "each kept message has its own ts")
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, f"forced report with the server up ({runs.describe(p)})")
        got = [r.body for r in s.posts]
        lib.eq(len(got), 4, "three kept + the new one")
        lib.check(got[:3] == [b for _, b in kept],
                  "kept ones first, oldest first, byte for byte: got ts "
                  f"{[runs.ts_of(b) for b in got]}, kept {tss}")
        got_ts = [runs.ts_of(b) for b in got]
        lib.eq(got_ts, sorted(got_ts), "server sees them in ts order")
        lib.eq(runs.kept_names(state), [], "nothing kept after the 2xx")
        st = runs.status_json(runs.env(state, s.url()))
        lib.eq((st["kept"], st["delivered"], st["lastError"]), (0, 4, ""), "status after")


def test_removed_only_after_2xx(tmp):
    state = os.path.join(tmp, "state")
    down = runs.dead_url()
    for _ in range(3):
        _fail_once(state, down)
        time.sleep(0.005)
    kept = runs.kept_bytes(state)
    n = [0]

    def route(r):
        n[0] += 1
        return runs.Reply(200 if n[0] == 1 else 500)

    with runs.Server(route) as s:
        p, _ = runs.run(["report", "--force"], runs.env(state, s.url()))
        lib.eq(p.returncode, 1, f"a 500 is not delivered ({runs.describe(p)})")
        lib.eq(len(s.posts), 2, "stops at the first failure")
        lib.check([r.body for r in s.posts] == [kept[0][1], kept[1][1]], "oldest first, exact bytes")
    left = runs.kept_bytes(state)
    lib.eq(len(left), 3, "two old + the new one stay kept")
    lib.check(left[:2] == kept[1:], "the one answered 500 and the next stay, byte for byte")
    lib.check(runs.ts_of(left[2][1]) > runs.ts_of(kept[2][1]), "the new one is newest")
    st = runs.status_json(runs.env(state, down))
    lib.check("500" in st["lastError"], f"lastError names the status: {st['lastError']!r}")


def test_more_than_32_oldest_dropped_and_counted(tmp):
    state = os.path.join(tmp, "state")
    down = runs.dead_url()
    seen = []
    for i in range(35):
        _fail_once(state, down)
        kept = runs.kept_bytes(state)
        seen.append(runs.ts_of(kept[-1][1]))
    kept = runs.kept_bytes(state)
    lib.eq(len(kept), 32, "at most 32 kept")
    lib.eq([runs.ts_of(b) for _, b in kept], seen[3:], "the 3 oldest were dropped")
    p, _ = runs.run(["status"], runs.env(state, down))
    lib.eq(p.returncode, 0, f"status ({runs.describe(p)})")
    out = p.stdout.decode()
    lib.check("\nkept messages: 32\n" in "\n" + out, f"status kept: {out}")
    lib.check("\ndropped messages: 3\n" in "\n" + out, f"status dropped: {out}")
    st = runs.status_json(runs.env(state, down))
    lib.eq((st["kept"], st["dropped"]), (32, 3), "status --json kept/dropped")
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, f"delivery of the backlog ({runs.describe(p)})")
        got = [runs.ts_of(r.body) for r in s.posts]
        lib.eq(got, sorted(got), "the backlog goes oldest first")
        lib.eq(len(set(got)), len(got), "no message sent twice")
        lib.check(set(got[:-1]) <= set(seen[3:]), "the backlog is the kept messages")
        for r in s.posts[:-1]:
            lib.check(r.body in [b for _, b in kept], f"kept bytes sent as kept ({got})")
    st = runs.status_json(runs.env(state, down))
    lib.eq(st["kept"], 0, "nothing kept after delivery")
    # Every message built (35 + the new one) was either received or counted as dropped.
    lib.eq(len(got) + st["dropped"], 36, f"received {len(got)} + dropped {st['dropped']}")
    lib.check(st["dropped"] >= 3, "the 3 dropped stay counted")


def _retry_after(tmp, status):
    state = os.path.join(tmp, "state")
    with runs.Server(lambda r: runs.Reply(status, [("Retry-After", "120")])) as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 1, f"{status}: not delivered ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, f"{status}: one try")
        when = time.time()
        st = runs.status_json(e)
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"{status}: plain report during Retry-After ({runs.describe(p)})")
        lib.eq(s.accepted, 1, f"{status}: no connection during Retry-After")
        lib.eq(len(runs.kept_names(state)), 1, f"{status}: the message stays kept")
        lib.check(str(status) in st["lastError"], f"lastError: {st['lastError']!r}")
        due = runs.parse_ts(st["nextDue"]) - when
        lib.check(115 <= due <= 121, f"{status}: status --json nextDue ~120 s ahead: "
                  f"{st['nextDue']} ({due:.1f} s), status {st}")


def test_retry_after_429(tmp):
    _retry_after(tmp, 429)


def test_retry_after_503(tmp):
    _retry_after(tmp, 503)


def test_retry_after_passed_plain_report_retries(tmp):
    # Default interval (12 h): once Retry-After has passed, the kept message is due.
    state = os.path.join(tmp, "state")
    n = [0]

    def route(r):
        n[0] += 1
        return runs.Reply(429, [("Retry-After", "2")]) if n[0] == 1 else runs.Reply(200)

    with runs.Server(route) as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 1, f"429 ({runs.describe(p)})")
        kept = runs.kept_bytes(state)
        st = runs.status_json(e)
        due = runs.parse_ts(st["nextDue"]) - time.time()
        p, _ = runs.run(["report"], e)
        lib.eq((p.returncode, len(s.posts)), (0, 1), "before Retry-After: not due")
        time.sleep(2.3)
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 0, f"after Retry-After ({runs.describe(p)})")
        lib.eq(len(s.posts), 2, "the kept message is sent again")
        lib.check(s.posts[1].body == kept[0][1], "the same bytes")
        lib.eq(runs.kept_names(state), [], "nothing kept")
        lib.check(0 <= due <= 2.5, f"status --json nextDue was the Retry-After time "
                  f"({due:.1f} s ahead)")


def test_retry_after_capped_at_the_interval(tmp):
    # A Retry-After longer than the interval waits one interval (SPEC §11: no run waits
    # longer than the interval because of what the stamps say); a shorter one is kept.
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"interval": "3s"})
    with runs.Server(lambda r: runs.Reply(429, [("Retry-After", "120")])) as s:
        e = runs.env(state, s.url(), ANONTEL_CONFIG=cfg)
        before = int(time.time() * 1000)
        p, _ = runs.run(["report"], e)
        lib.eq(p.returncode, 1, f"429 ({runs.describe(p)})")
        wait = int(runs.stamps(state)["next_try_ms"]) - before
        lib.check(2900 <= wait <= 3200, f"Retry-After 120 s capped at the 3 s interval: {wait} ms")
        p, _ = runs.run(["report"], e)
        lib.eq((p.returncode, s.accepted), (0, 1), "within the capped wait: no try")
        time.sleep(max(0, wait / 1000 - (time.time() * 1000 - before) / 1000) + 0.2)
        p, _ = runs.run(["report"], e)
        lib.eq(s.accepted, 2, f"after the capped wait: tried again ({runs.describe(p)})")


def test_backoff_then_retry_when_due(tmp):
    # With the back-off passed (a short interval caps it), a plain report sends the kept
    # message without being forced.
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"interval": "1s"})
    down = runs.dead_url()
    p, _ = runs.run(["report"], runs.env(state, down, ANONTEL_CONFIG=cfg))
    lib.eq(p.returncode, 1, f"down ({runs.describe(p)})")
    kept = runs.kept_bytes(state)
    time.sleep(1.2)
    with runs.Server() as s:
        p, _ = runs.run(["report"], runs.env(state, s.url(), ANONTEL_CONFIG=cfg))
        lib.eq(p.returncode, 0, f"retry ({runs.describe(p)})")
        lib.check(len(s.posts) >= 1, "sent")
        lib.check(s.posts[0].body == kept[0][1], "the kept message goes first")
    lib.eq(runs.kept_names(state), [], "nothing kept")
