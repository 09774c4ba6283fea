"""`check` never exits 2 (SPEC §1, §11 Containers): every usage or config problem in a
`check` invocation is unhealthy (1) with exactly one line on stderr and nothing on
stdout, wherever the bad option stands (before or after the verb); with fds 0-2 closed
at start the run opens them on /dev/null first (nothing it prints lands in a file it
opened); under `ulimit -f 0` it is not killed by SIGXFSZ.
The probe server is runs.Server on 127.0.0.1: /ok answers 200, /bad 500."""
import os
import resource
import signal
import subprocess
import time

import lib
import runs


def _route(r):
    if r.target == "/ok":
        return runs.Reply(200)
    if r.target == "/bad":
        return runs.Reply(500)
    if r.target == "/slow":
        return runs.Reply(200, delay=1.0)
    return runs.Reply(200)          # /t: the telemetry endpoint


def _configs(tmp):
    """name -> path of a broken config file."""
    return {"missing": os.path.join(tmp, "missing.json"),
            "invalid": lib.write_config(tmp, "{ not json", "invalid.json"),
            "unknown": lib.write_config(tmp, {"enabled": True, "intreval": "1h"}, "unknown.json")}


def _rows(ok, bad, cfg):
    """(what, argv, expected exit, the probe is sent). Every exit-1 row is one line."""
    rows = [
        ("healthy (control)", ["check", ok], 0, True),
        ("unhealthy 500", ["check", bad], 1, True),
        ("--bogus before the verb", ["--bogus", "check", ok], 1, False),
        ("--bogus after the verb", ["check", ok, "--bogus"], 1, False),
        ("--bogus between verb and URL", ["check", "--bogus", ok], 1, False),
        ("--timeout without a value before the verb", ["--timeout", "check", ok], 1, False),
        ("--timeout without a value at the end", ["check", ok, "--timeout"], 1, False),
        ("-H without a value", ["check", ok, "-H"], 1, False),
        ("--expect without a value", ["check", ok, "--expect"], 1, False),
        ("-c without a file before the verb", ["-c", "check", ok], 1, False),
        ("-c without a file at the end", ["check", ok, "-c"], 1, False),
        ("--timeout 5x", ["check", ok, "--timeout", "5x"], 1, False),
        ("--timeout 5x before the verb", ["--timeout", "5x", "check", ok], 1, False),
        ("--expect 99", ["check", ok, "--expect", "99"], 1, False),
        ("--expect abc", ["check", ok, "--expect", "abc"], 1, False),
        ("no URL", ["check"], 1, False),
        ("two URLs", ["check", ok, ok], 1, False),
        ("ftp:// URL", ["check", "ftp://127.0.0.1/x"], 1, False),
        ("http:// with no host", ["check", "http://"], 1, False),
        ("garbage URL", ["check", "garbage"], 1, False),
    ]
    # SPEC §11: "any usage or config problem in a check invocation is unhealthy (1)".
    # With --report the config is telemetry's: the probe runs on the defaults and stays
    # healthy (the verdict is never changed by telemetry, SPEC §1/§11), and one line
    # says the config was ignored.
    for name, path in cfg.items():
        rows.append((f"-c {name} config", ["check", ok, "-c", path], 1, None))
        rows.append((f"-c {name} config before the verb", ["-c", path, "check", ok], 1, None))
        rows.append((f"-c {name} config with --report", ["check", ok, "--report", "-c", path],
                     0, True, 1))
    return rows


def test_check_never_exits_2(tmp):
    state = os.path.join(tmp, "state")
    failures = []
    with runs.Server(_route) as s:
        e = runs.env(state, s.url("/t"))
        for what, argv, want, probed, *said in _rows(s.url("/ok"), s.url("/bad"),
                                                     _configs(tmp)):
            want_lines = said[0] if said else want
            before = len(s.gets)
            p, _ = runs.run(argv, e, timeout=20)
            got = []
            if p.returncode != want:
                got.append(f"exit {p.returncode}, want {want}")
            if p.stdout != b"":
                got.append("stdout not empty")
            lines = runs.stderr_lines(p)
            if want_lines == 0 and lines:
                got.append("a healthy check prints nothing")
            if want_lines == 1 and (len(lines) != 1 or not lines[0].startswith("anontel: ")):
                got.append(f"{len(lines)} stderr lines, want one 'anontel: ...' line")
            sent = len(s.gets) - before
            if probed is not None and sent != (1 if probed else 0):
                got.append(f"{sent} probe requests, want {1 if probed else 0}")
            if got:
                failures.append(f"{what} {argv[:6]}: {'; '.join(got)} ({runs.describe(p)})")
        lib.eq(len(s.posts), 0, "no row sent telemetry")
    lib.check(not failures, f"{len(failures)} rows wrong: " + " || ".join(failures))


def _popen(argv, env_, preexec, timeout=20):
    p = subprocess.Popen([lib.BIN] + argv, env=env_, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         preexec_fn=preexec)
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise


def _close_std_fds():
    for fd in (0, 1, 2):
        os.close(fd)


def _files_under(d):
    for root, _, names in os.walk(d):
        for n in names:
            yield os.path.join(root, n)


def _state_is_clean(state, what):
    """Every file in the state dir is what anontel writes, and none holds a log line."""
    files = list(_files_under(state))
    lib.check(files, f"{what}: the run wrote its state")
    for path in files:
        data = runs.read(path)
        for mark in (b"anontel: ", b"healthy: HTTP"):
            lib.check(mark not in data, f"{what}: a log line landed in {path}: {data[:300]!r}")
    runs.stamps(state)
    for name, body in runs.kept_bytes(state):
        lib.strict_json(body)
    last = os.path.join(state, "last.json")
    if os.path.exists(last):
        runs.strict_file(last, what)


def test_closed_std_fds_are_dev_null(tmp):
    # SPEC §11: "File descriptors 0-2 closed at start are opened on /dev/null first".
    # Seen from outside while the probe waits for its answer: fds 0, 1, 2 are /dev/null
    # (not the probe's socket, a state file, or nothing).
    with runs.Server(_route) as s:
        p = subprocess.Popen([lib.BIN, "check", s.url("/slow"), "-v"], env=lib.base_env(),
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, preexec_fn=_close_std_fds)
        try:
            deadline = time.monotonic() + 10
            while not s.gets and time.monotonic() < deadline and p.poll() is None:
                time.sleep(0.01)
            lib.eq(len(s.gets), 1, "the probe reached the server")
            links = {}
            for fd in (0, 1, 2):
                try:
                    links[fd] = os.readlink(f"/proc/{p.pid}/fd/{fd}")
                except OSError as e:
                    links[fd] = f"(none: {e.strerror})"
            lib.eq(p.poll(), None, "the probe was still waiting for its answer")
            lib.eq(links, {0: "/dev/null", 1: "/dev/null", 2: "/dev/null"},
                   "fds 0-2 of a run started with them closed")
            lib.eq(p.wait(20), 0, "healthy once the answer comes")
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


def test_closed_std_fds(tmp):
    # As a probe started with 0-2 closed: every line -v prints (the probe, the delivery)
    # would otherwise go into whatever file or socket took fd 1 or 2.
    state = os.path.join(tmp, "state")
    with runs.Server(_route) as s:
        e = runs.env(state, s.url("/t"))
        rc = _popen(["check", s.url("/ok"), "--report", "-v"], e, _close_std_fds)
        lib.eq(rc, 0, "healthy with fds 0-2 closed (--report -v)")
        # The child still writes its state after the 2xx: wait until it lets the lock go.
        runs.wait_for(lambda: len(s.posts) == 1 and runs.idle(state), "the detached report")
        lib.eq([(r.method, r.target, r.version) for r in s.requests],
               [("GET", "/ok", "HTTP/1.1"), ("POST", "/t", "HTTP/1.1")],
               "the probe and the report, each a clean request")
        for r in s.requests:
            lib.check(b"anontel:" not in r.head, f"no log line in the request: {r.head!r}")
        lib.strict_json(s.posts[0].body)
        _state_is_clean(state, "closed fds, delivered")

        # Telemetry down: the message is kept (a file written while fds 0-2 were closed).
        other = os.path.join(tmp, "other")
        rc = _popen(["check", s.url("/ok"), "--report", "-v"], runs.env(other, runs.dead_url()),
                    _close_std_fds)
        lib.eq(rc, 0, "healthy with fds 0-2 closed, telemetry down")
        runs.wait_for(lambda: runs.idle(other), "the detached report's end")
        lib.eq(len(runs.kept_names(other)), 1, "the message is kept")
        _state_is_clean(other, "closed fds, kept")

        rc = _popen(["check", s.url("/bad"), "-v"], e, _close_std_fds)
        lib.eq(rc, 1, "unhealthy with fds 0-2 closed")
        rc = _popen(["--bogus", "check", s.url("/ok")], e, _close_std_fds)
        lib.eq(rc, 1, "a usage error with fds 0-2 closed")


def _no_file_size():
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)     # as a container's process has it


def test_ulimit_fsize_zero(tmp):
    # `ulimit -f 0` (docker run --ulimit fsize=0): a write to the state dir fails; the
    # default SIGXFSZ action would kill the probe (core dump, no line, not 0 or 1).
    state = os.path.join(tmp, "state")
    with runs.Server(_route) as s:
        e = runs.env(state, s.url("/t"))
        p = subprocess.run([lib.BIN, "check", s.url("/ok"), "--report"], env=e,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=_no_file_size, timeout=20)
        lib.check(p.returncode >= 0, f"not killed by a signal ({runs.describe(p)})")
        lib.eq(p.returncode, 0, f"healthy: telemetry never changes the verdict ({runs.describe(p)})")
        lib.eq(p.stdout, b"", "nothing on stdout")
        # The report goes on in a detached child (which fails to keep the message and
        # says nothing: its 0-2 are /dev/null); the probe says at most one line.
        lines = runs.stderr_lines(p)
        lib.check(len(lines) <= 1, f"at most one line ({runs.describe(p)})")
        lib.check(all(x.startswith("anontel: ") for x in lines), f"a clear line: {lines!r}")
        lib.eq(len(s.gets), 1, "the probe was made")

        p = subprocess.run([lib.BIN, "check", s.url("/bad"), "--report"], env=e,
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, preexec_fn=_no_file_size, timeout=20)
        lib.eq(p.returncode, 1, f"unhealthy under ulimit -f 0 ({runs.describe(p)})")
        lib.eq(len(runs.stderr_lines(p)), 1, f"one line ({runs.describe(p)})")
