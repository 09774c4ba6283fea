"""State that never wedges (SPEC §7, §11 "State"): a clock that was years ahead, a
message the server refuses, stray files in kept/, stamps at the edge of their range,
and FIFOs, directories and devices where anontel reads a file. Each case here wedged,
hung or lost count before the state machine v2; each run ends well within its
deadline and says one line when it has something to say."""
import os
import re
import stat
import time

import lib
import runs

YEAR_MS = 365 * 24 * 3600 * 1000
LIMIT = 3.0        # seconds: every run here has --timeout 1s or needs no network


def _now_ms():
    return int(time.time() * 1000)


def _write_stamps(state, values):
    """Rewrites the stamps file with values (dict of key -> int/str) over what is there."""
    st = runs.stamps(state) if os.path.exists(os.path.join(state, "stamps")) else {}
    st.update({k: str(v) for k, v in values.items()})
    text = "".join(f"{k} {v}\n" for k, v in st.items())
    with open(os.path.join(state, "stamps"), "w") as f:
        f.write(text)


def _keep_one(state):
    """One kept message, from a report that could not connect."""
    p, _ = runs.run(["report", "--force"], runs.env(state, runs.dead_url()))
    lib.eq(p.returncode, 1, f"report against a dead endpoint ({runs.describe(p)})")


def _kept_entries(state):
    """kept/'s entries but the audit log's (delivered messages)."""
    logged = set(runs.log_names(state))
    return sorted(n for n in os.listdir(runs.kept_dir(state)) if n not in logged)


def _report(state, url, *args, timeout=LIMIT):
    p, secs = runs.run(["report", "--timeout", "1s", *args], runs.env(state, url))
    lib.check(secs < timeout, f"report {args} took {secs:.2f}s")
    return p


def test_clock_that_was_years_ahead(tmp):
    # A failure recorded while the clock was 10 years ahead: once the clock is right, the
    # kept message goes at the next run (not in 10 years), with one warning, once.
    state = os.path.join(tmp, "state")
    _keep_one(state)
    ahead = _now_ms() + 10 * YEAR_MS
    _write_stamps(state, {"last_built_ms": ahead, "next_try_ms": ahead + 60000,
                          "last_success_ms": ahead})
    with runs.Server() as s:
        p = _report(state, s.url())
        lib.eq(p.returncode, 0, f"the kept message is sent ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, "one message: the kept one (a new one is not due yet)")
        lines = runs.stderr_lines(p)
        lib.check(len(lines) == 2 and any("clock was wrong" in x for x in lines),
                  f"one warning about the clock (and the first-delivery notice): {lines}")
        st = runs.stamps(state)
        for k in ("last_built_ms", "last_success_ms"):
            lib.check(int(st[k]) <= _now_ms(), f"{k} brought back from the future: {st}")
        lib.eq(_kept_entries(state), [], "nothing kept")
        p = _report(state, s.url())
        lib.eq((p.returncode, p.stderr, len(s.posts)), (0, b"", 1),
               f"the next run: not due, no second warning ({runs.describe(p)})")


def test_status_after_a_wrong_clock(tmp):
    state = os.path.join(tmp, "state")
    _keep_one(state)
    _write_stamps(state, {"next_try_ms": _now_ms() + 10 * YEAR_MS})
    st = runs.status_json(runs.env(state, runs.dead_url()))
    due = runs.parse_ts(st["nextDue"]) if st["nextDue"] else time.time()
    lib.check(due <= time.time() + 1, f"status: due now, not in 10 years ({st['nextDue']!r})")


def test_a_refused_message_does_not_block_newer_ones(tmp):
    # The oldest kept message is answered 400 (refused for good): it is dropped and
    # counted as rejected, and the newer ones go in the same run.
    state = os.path.join(tmp, "state")
    _keep_one(state)
    _keep_one(state)
    kept = runs.kept_bytes(state)
    lib.eq(len(kept), 2, "two kept")
    first = kept[0][1]

    def route(r):
        return runs.Reply(400) if r.body == first else runs.Reply(200)

    with runs.Server(route) as s:
        p = _report(state, s.url(), "--force")
        lib.eq(p.returncode, 1, f"a refusal is reported ({runs.describe(p)})")
        lines = runs.stderr_lines(p)
        lib.check(any("400" in x and "rejected" in x for x in lines),
                  f"the line says it was refused and counted: {lines}")
        lib.eq(len(s.posts), 3, "the refused one, the other kept one, the new one")
        lib.eq(s.posts[0].body, first, "oldest first")
        lib.eq(_kept_entries(state), [], "nothing left kept")
        st = runs.status_json(runs.env(state, s.url()))
        lib.eq((st["rejected"], st["delivered"], st["dropped"]), (1, 2, 0),
               f"status counts it as rejected ({st})")
        text = lib.run(["status"], env=runs.env(state, s.url())).stdout.decode()
        lib.check(re.search(r"^rejected messages: 1$", text, re.M), f"status text: {text}")
        # Refused is not a network fault: no back-off was left armed.
        lib.eq(runs.stamps(state)["next_try_ms"], "0", "no back-off after a refusal")


def test_retryable_4xx_keep_the_message(tmp):
    for code in (408, 425, 429):
        state = os.path.join(tmp, f"state{code}")
        with runs.Server(lambda r, c=code: runs.Reply(c)) as s:
            p = _report(state, s.url(), "--force")
            lib.eq(p.returncode, 1, f"{code}: not delivered ({runs.describe(p)})")
            lib.eq(len(_kept_entries(state)), 1, f"{code}: the message stays kept")
            lib.eq(runs.stamps(state)["rejected"], "0", f"{code}: not counted as rejected")


def test_a_directory_named_like_a_kept_message(tmp):
    # Not ours: left alone, never counted as dropped, shown once in status.
    state = os.path.join(tmp, "state")
    os.makedirs(os.path.join(state, "kept", "00000000000000000001.json"))
    os.chmod(state, 0o700)
    os.chmod(os.path.join(state, "kept"), 0o700)
    with runs.Server() as s:
        for i in range(3):
            p = _report(state, s.url(), "--force")
            lib.eq(p.returncode, 0, f"run {i} delivers ({runs.describe(p)})")
        st = runs.status_json(runs.env(state, s.url()))
        lib.eq((st["dropped"], st["delivered"], st["ignoredInKept"]), (0, 3, 1),
               f"status: nothing dropped, one entry ignored ({st})")
    lib.eq(_kept_entries(state), ["00000000000000000001.json"], "the directory is left alone")


def test_a_planted_highest_sequence_number(tmp):
    # A file named with the largest number: not a number anontel gives, so ignored; the
    # reports go on (before, the next number overflowed and every run failed).
    state = os.path.join(tmp, "state")
    os.makedirs(os.path.join(state, "kept"), 0o700)
    os.chmod(state, 0o700)
    planted = os.path.join(state, "kept", "18446744073709551615.json")
    with open(planted, "w") as f:
        f.write("{}")
    with runs.Server() as s:
        for i in range(2):
            p = _report(state, s.url(), "--force")
            lib.eq(p.returncode, 0, f"run {i} delivers ({runs.describe(p)})")
        lib.eq(len(s.posts), 2, "one message per run, the planted file never sent")
        lib.check(all(r.body != b"{}" for r in s.posts), "the planted file is not sent")
    lib.check(os.path.exists(planted), "the planted file is left where it was")


def test_stamps_at_the_top_of_their_range(tmp):
    # last_built_ms = 2^63-1 overflowed the due test and sent on every run; numbers past
    # their maximum wrapped or were refused. Now: clamped, and counted from now.
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        p = _report(state, s.url())
        lib.eq(len(s.posts), 1, f"a first report ({runs.describe(p)})")
        _write_stamps(state, {"last_built_ms": 2**63 - 1, "sent": 2**64 + 5,
                              "dropped": "99999999999999999999999"})
        for i in range(3):
            p = _report(state, s.url())
            lib.eq(p.returncode, 0, f"run {i} ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, "not sent again on every run")
        st = runs.status_json(runs.env(state, s.url()))
        lib.eq((st["delivered"], st["dropped"]), (2**64 - 1, 2**64 - 1),
               f"counters clamped to their maximum, not wrapped ({st})")


def test_the_failure_counter_does_not_wrap(tmp):
    state = os.path.join(tmp, "state")
    _keep_one(state)
    _write_stamps(state, {"failures": 2**32 - 1})
    p = _report(state, runs.dead_url(), "--force")
    lib.eq(p.returncode, 1, f"still failing ({runs.describe(p)})")
    st = runs.stamps(state)
    lib.eq(st["failures"], str(2**32 - 1), "failures stays at its maximum")
    wait = int(st["next_try_ms"]) - _now_ms()
    lib.check(0 < wait <= 12 * 3600 * 1000, f"the back-off is the capped one: {wait} ms")


# ---- every file anontel reads: a regular file, or refused at once ------------------

def _fifo(tmp, name="fifo"):
    path = os.path.join(tmp, name)
    os.mkfifo(path)
    return path


def _refused(p, secs, code, what):
    lib.check(secs < LIMIT, f"{what}: took {secs:.2f}s (a FIFO must not block)")
    lib.eq(p.returncode, code, f"{what}: exit status ({runs.describe(p)})")
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"{what}: one line ({runs.describe(p)})")
    lib.check("not a regular file" in lines[0], f"{what}: says why: {lines[0]!r}")


def test_config_that_is_not_a_regular_file(tmp):
    for what, path in (("a FIFO", _fifo(tmp)), ("a directory", tmp),
                       ("a device", "/dev/zero")):
        for verb in (["show"], ["report"], ["status"]):
            p, secs = runs.run(["-c", path, *verb], lib.base_env(), timeout=10)
            _refused(p, secs, 2, f"config {what}, {verb[0]}")


def test_ca_file_that_is_not_a_regular_file(tmp):
    state = os.path.join(tmp, "state")
    fifo = _fifo(tmp)
    for what, path in (("a FIFO", fifo), ("a directory", tmp), ("a device", "/dev/zero")):
        for how in ("SSL_CERT_FILE", "tls.caFile"):
            e = runs.env(state, "https://localhost:1/t")
            args = ["report", "--force", "--timeout", "1s"]
            if how == "SSL_CERT_FILE":
                e["SSL_CERT_FILE"] = path
            else:
                args += ["-c", lib.write_config(tmp, {"tls": {"caFile": path}})]
            p, secs = runs.run(args, e, timeout=10)
            _refused(p, secs, 2, f"{how} {what}")


def test_machine_id_that_is_a_fifo(tmp):
    # In a private mount namespace, a FIFO over /etc/machine-id: id and show end at once.
    fifo = _fifo(tmp)
    cfg = lib.write_config(tmp, {"id": {"scheme": "machine-id"}})
    script = (f"mount --bind {fifo} /etc/machine-id\n"
              f"start=$(date +%s%N); rc=0; \"$BIN\" id -c {cfg} || rc=$?\n"
              f"echo \"id $rc $(( ($(date +%s%N) - start) / 1000000 ))\" >&2\n"
              f"start=$(date +%s%N); rc=0; \"$BIN\" show -q -c {cfg} >/dev/null || rc=$?\n"
              f"echo \"show $rc $(( ($(date +%s%N) - start) / 1000000 ))\" >&2\n")
    p = runs.mountns_script(script, lib.base_env(), timeout=20)
    err = p.stderr.decode()
    lib.eq(p.returncode, 0, f"the script ran ({runs.describe(p)})")
    m_id = re.search(r"^id (\d+) (\d+)$", err, re.M)
    m_show = re.search(r"^show (\d+) (\d+)$", err, re.M)
    lib.check(m_id and m_show, f"both ran: {err!r}")
    lib.eq(m_id.group(1), "1", f"id: no ID source, exit 1: {err!r}")
    lib.check("machine-id is not a regular file" in err, f"id says why: {err!r}")
    lib.eq(m_show.group(1), "0", f"show still shows the message: {err!r}")
    for m in (m_id, m_show):
        lib.check(int(m.group(2)) < LIMIT * 1000, f"ended at once: {err!r}")


def test_state_files_that_are_not_regular(tmp):
    with runs.Server() as s:
        # stamps as a FIFO: an error, at once.
        state = os.path.join(tmp, "a")
        os.mkdir(state, 0o700)
        os.mkfifo(os.path.join(state, "stamps"))
        p = _report(state, s.url())
        lib.eq(p.returncode, 1, f"stamps a FIFO ({runs.describe(p)})")
        lib.check(b"stamps: is not a regular file" in p.stderr, runs.describe(p))
        # A kept message as a FIFO: ignored, the new message is delivered.
        state = os.path.join(tmp, "b")
        os.makedirs(os.path.join(state, "kept"), 0o700)
        os.chmod(state, 0o700)
        os.mkfifo(os.path.join(state, "kept", "00000000000000000001.json"))
        p = _report(state, s.url(), "--force")
        lib.eq(p.returncode, 0, f"a FIFO in kept/ is not ours ({runs.describe(p)})")
        lib.eq(len(s.posts), 1, "the new message was delivered")
        lib.check(stat.S_ISFIFO(os.lstat(os.path.join(state, "kept",
                                                      "00000000000000000001.json")).st_mode),
                  "the FIFO is left alone")
        st = runs.status_json(runs.env(state, s.url()))
        lib.eq(st["ignoredInKept"], 1, f"status shows it ({st})")
