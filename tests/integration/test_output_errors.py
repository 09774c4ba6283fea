"""Output that cannot be written, closed standard descriptors, and error lines that
echo outside bytes (SPEC §11 "TLS and HTTP", "Containers"):

- stdout to /dev/full or to a pipe whose reader is gone: exit 1 and one line saying
  standard output could not be written; never killed by SIGPIPE;
- stderr to a pipe whose reader is gone: the usual exit status, not SIGPIPE;
- fds 0-2 closed at start: nothing anontel logs lands in a socket or a state file;
- error lines show control bytes from the environment, files and peers escaped
  (`\\x1b`), never raw.
Servers are on 127.0.0.1 only."""
import os
import re
import time
import subprocess

import lib
import peers
import runs

FIXED_ID = "output-errors-test-id-0123456789"
CONTROL = re.compile(rb"[\x00-\x09\x0b-\x1f\x7f]")
STDOUT_WORDS = ["standard output", "stdout"]
VERBS = [["show"], ["id"], ["status"], ["--version"], ["--help"], ["show", "--pretty"],
         ["status", "--json"], ["id", "--explain"]]


def _env(tmp):
    """A fixed ID (nothing to make), an endpoint where nothing listens, a private state dir."""
    cfg = lib.write_config(tmp, {"id": {"scheme": "fixed"}}, name="fixed.json")
    return peers.new_env(tmp, ANONTEL_CONFIG=cfg, ANONTEL_ID=FIXED_ID,
                         ANONTEL_ENDPOINT=runs.dead_url("/t"))


def _run(args, env_, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=None):
    # restore_signals (the default) gives the child SIGPIPE's default action, as a shell does.
    return subprocess.run([lib.BIN] + list(args), env=env_, stdin=subprocess.DEVNULL,
                          stdout=stdout, stderr=stderr, timeout=30, cwd=cwd)


def _describe(p):
    return f"exit {p.returncode}, stderr {p.stderr[-600:]!r}"


def _lines(data):
    return data.decode("utf-8", "replace").splitlines()


def _baseline(args, env_):
    p = _run(args, env_)
    lib.eq(p.returncode, 0, f"{args} with a working stdout ({runs.describe(p)})")
    lib.check(p.stdout, f"{args} prints something on stdout")
    return _lines(p.stderr)


def _expect_stdout_error(p, base, what):
    """Exit 1; stderr = the lines a normal run prints (any of them) plus exactly one new
    line, which says standard output could not be written."""
    lib.check(p.returncode not in (-13, 141), f"{what}: killed by SIGPIPE ({_describe(p)})")
    lib.eq(p.returncode, 1, f"{what}: exit status ({_describe(p)})")
    lines = _lines(p.stderr)
    new = [ln for ln in lines if ln not in base]
    lib.eq(len(new), 1, f"{what}: one new stderr line ({_describe(p)})")
    line = new[0]
    lib.check(line.startswith("anontel: "), f"{what}: line starts 'anontel: ': {line!r}")
    lib.check(any(w in line.lower() for w in STDOUT_WORDS),
              f"{what}: the line says standard output could not be written: {line!r}")
    lib.check(len(lines) <= len(base) + 1, f"{what}: no repeated lines: {lines!r}")


def test_stdout_to_dev_full(tmp):
    env_ = _env(tmp)
    for args in VERBS:
        base = _baseline(args, env_)
        with open("/dev/full", "wb") as full:
            p = _run(args, env_, stdout=full)
        _expect_stdout_error(p, base, f"{args} > /dev/full")


def test_stdout_closed_pipe(tmp):
    env_ = _env(tmp)
    for args in VERBS:
        base = _baseline(args, env_)
        r, w = os.pipe()
        os.close(r)             # the reader is gone before the run
        try:
            p = _run(args, env_, stdout=w)
        finally:
            os.close(w)
        _expect_stdout_error(p, base, f"{args} | (closed reader)")


def _closed_stderr_run(args, env_):
    r, w = os.pipe()
    os.close(r)
    try:
        return _run(args, env_, stderr=w)
    finally:
        os.close(w)


def test_stderr_closed_pipe_keeps_exit_status(tmp):
    env_ = _env(tmp)
    cases = [(["--bogus"], 2), (["report", "--bogus"], 2), (["report", "--force"], 1),
             (["check", runs.dead_url("/health")], 1), (["-c", "/nonexistent/x.json", "show"], 2)]
    for args, want in cases:
        p = _closed_stderr_run(args, env_)
        lib.check(p.returncode not in (-13, 141),
                  f"{args} 2>(closed reader): killed by SIGPIPE (exit {p.returncode})")
        lib.eq(p.returncode, want, f"{args} 2>(closed reader): exit status")
    # The failed report still kept its message: the lost stderr changed nothing else.
    lib.eq(len(runs.kept_names(env_["ANONTEL_STATE_DIR"])), 1, "the failed report kept its message")


# ---- fds 0-2 closed at start ----------------------------------------------------------

class RawRecorder(peers._Base):
    """Plain HTTP on 127.0.0.1: reads one request, answers `status`, then records every
    byte the client sends until it closes (.raw: one bytes per connection)."""

    def __init__(self, status=200):
        self.status = status
        self.raw = []
        super().__init__(peers.LOOPBACK4, 5.0)

    def url(self, path="/t"):
        return f"http://127.0.0.1:{self.port}{path}"

    def _handle(self, conn):
        data = b""
        conn.settimeout(5.0)
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            m = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            n = int(m.group(1)) if m else 0
            while len(rest) < n:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                rest += chunk
                data += chunk
            reason = b"OK" if self.status == 200 else b"Internal Server Error"
            conn.sendall(b"HTTP/1.1 %d %s\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                         % (self.status, reason))
            conn.settimeout(1.0)
            while True:               # anything written after the reply is recorded too
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        with self._lock:
            self.raw.append(data)

    def connections(self, n, secs=3.0):
        """The recorded connections once n are (a connection is recorded when the
        client has closed it, which may be just after the client's exit)."""
        deadline = time.monotonic() + secs
        while len(self.raw) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.raw)


def _closed_fds_run(args, env_):
    """Runs anontel with fds 0, 1 and 2 closed (as a careless supervisor may start it)."""
    return subprocess.run(["sh", "-c", 'exec "$@" <&- >&- 2>&-', "sh", lib.BIN] + list(args),
                          env=env_, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)


def _state_files(state):
    out = {}
    for root, _, files in os.walk(state):
        for name in files:
            path = os.path.join(root, name)
            out[os.path.relpath(path, state)] = runs.read(path)
    return out


def _no_log_text(state, what):
    files = _state_files(state)
    lib.check(files, f"{what}: the state dir has files")
    for name, data in files.items():
        lib.check(b"anontel:" not in data and b"anontel: " not in data.lower(),
                  f"{what}: state file {name} holds log text: {data[:300]!r}")
    stamps = runs.stamps(state)      # strict format: a stray line fails here
    lib.check(stamps, f"{what}: stamps parsed")
    for name, body in runs.kept_bytes(state):
        lib.strict_json(body)
    return files


def test_closed_fds_report_verbose(tmp):
    with RawRecorder(200) as s:
        e = peers.new_env(tmp, ANONTEL_ENDPOINT=s.url("/t"))
        state = e["ANONTEL_STATE_DIR"]
        p = _closed_fds_run(["report", "--force", "-v"], e)
        lib.eq(p.returncode, 0, f"report -v with fds 0-2 closed: delivered ({runs.describe(p)})")
        lib.eq(len(s.connections(1)), 1, f"one connection: {s.raw!r}")
        raw = s.raw[0]
        lib.check(b"anontel:" not in raw, f"the request holds log text: {raw[:600]!r}")
        lib.check(raw.startswith(b"POST /t HTTP/1.1\r\n"),
                  f"the request starts clean: {raw[:200]!r}")
        body = raw.partition(b"\r\n\r\n")[2]
        lib.strict_json(body)          # the whole rest of the stream is the message
        _no_log_text(state, "delivered")


def test_closed_fds_report_verbose_tls(tmp):
    # Over TLS, -v says more while the socket is open: a line written into it breaks the
    # record layer, so the server would see garbage instead of the message.
    with peers.TLSServer() as s:
        e = peers.new_env(tmp)
        state = e["ANONTEL_STATE_DIR"]
        p = _closed_fds_run(["report", "--force", "-v", "-c", peers.tls_config(tmp, s)], e)
        lib.eq((p.returncode, len(s.requests), s.errors), (0, 1, []),
               f"report -v over TLS with fds 0-2 closed: (exit, requests, server errors) "
               f"({runs.describe(p)})")
        r = s.requests[0]
        lib.check(b"anontel:" not in r.head + r.body, f"the request holds log text: {r.head!r}")
        lib.strict_json(r.body)
        _no_log_text(state, "delivered over TLS")


def test_closed_fds_report_kept(tmp):
    # A failed send keeps the message: the kept file must be the message alone.
    with RawRecorder(500) as s:
        e = peers.new_env(tmp, ANONTEL_ENDPOINT=s.url("/t"))
        state = e["ANONTEL_STATE_DIR"]
        p = _closed_fds_run(["report", "--force", "-v"], e)
        lib.eq(p.returncode, 1, f"report -v with fds 0-2 closed, 500: kept ({runs.describe(p)})")
        lib.eq(len(runs.kept_names(state)), 1, "one kept message")
        for raw in s.raw:
            lib.check(b"anontel:" not in raw, f"the request holds log text: {raw[:600]!r}")
        _no_log_text(state, "kept")
        # A second run, fds closed again, sends the kept one and adds no log text.
        s.status = 200
        p = _closed_fds_run(["report", "--force", "-v"], e)
        lib.eq(p.returncode, 0, f"second run delivers ({runs.describe(p)})")
        for raw in s.raw:
            lib.check(b"anontel:" not in raw, f"a request holds log text: {raw[:600]!r}")
        _no_log_text(state, "after delivery")


def test_closed_fds_check_verbose(tmp):
    with RawRecorder(200) as s:
        p = _closed_fds_run(["check", s.url("/health"), "-v"], lib.base_env())
        lib.eq(p.returncode, 0, f"check -v with fds 0-2 closed ({runs.describe(p)})")
        raw = s.connections(1)
        lib.eq(len(raw), 1, "one connection")
        lib.check(b"anontel:" not in raw[0], f"the request holds log text: {raw[0]!r}")
        lib.check(raw[0].startswith(b"GET /health HTTP/1.1\r\n"), f"clean: {raw[0][:200]!r}")


# ---- control bytes in error lines ------------------------------------------------------

MARK = b"M1\x1b[31mX\x07Y\x7fZ"
ESCAPED = b"M1\\x1b[31mX\\x07Y\\x7fZ"
GARBAGE = MARK + b"\r\tQ\x01\x02\x1f\xff\xc3("            # NUL-free, not UTF-8 at the end
INJECT = b"M2\nanontel: INJECTED"


def _s(b):
    return os.fsdecode(b)       # the raw bytes again when subprocess encodes the env/argv


def _no_raw_control(p, what, echoed=False, marker=b"M1"):
    lib.check(p.returncode not in (-13, 141) and p.returncode >= 0,
              f"{what}: killed ({p.returncode})")
    bad = CONTROL.search(p.stderr)
    lib.check(bad is None, f"{what}: raw control byte {bad and bad.group(0)!r} on stderr: "
              f"{p.stderr!r}")
    for line in p.stderr.split(b"\n")[:-1]:
        lib.check(line.startswith(b"anontel: "),
                  f"{what}: every stderr line is anontel's: {line!r}")
        lib.check(not line.startswith(b"anontel: INJECTED"), f"{what}: a line was injected")
    if marker in p.stderr or echoed:
        lib.check(ESCAPED.lower() in p.stderr.lower(),
                  f"{what}: the echoed value shows {ESCAPED.decode()!r}: {p.stderr!r}")


def test_environment_values_are_escaped(tmp):
    base = peers.new_env(tmp, ANONTEL_ENDPOINT=runs.dead_url("/t"))
    fixed = lib.write_config(tmp, {"id": {"scheme": "fixed"}}, name="fixed.json")
    missing = b"nx-"              # relative to cwd=tmp: the echo starts at once
    https_dead = f"https://localhost:{peers.free_port()}/t"
    cases = [
        # (what, env changes, args, the line must name it: a config file that is missing)
        ("ANONTEL_ENDPOINT", {"ANONTEL_ENDPOINT": GARBAGE}, ["show"], False),
        ("ANONTEL_ENDPOINT", {"ANONTEL_ENDPOINT": GARBAGE}, ["report", "--force"], False),
        ("ANONTEL_ENDPOINT in a path", {"ANONTEL_ENDPOINT": b"http://127.0.0.1:1/" + GARBAGE},
         ["report", "--force"], False),
        ("ANONTEL_ENDPOINT in a host", {"ANONTEL_ENDPOINT": b"http://" + GARBAGE + b"/t"},
         ["report", "--force"], False),
        ("ANONTEL_STATE_DIR", {"ANONTEL_STATE_DIR": os.path.join(tmp, "st-").encode() + GARBAGE},
         ["report", "--force"], False),
        ("ANONTEL_STATE_DIR", {"ANONTEL_STATE_DIR": os.path.join(tmp, "st-").encode() + GARBAGE},
         ["status"], False),
        ("ANONTEL_CONFIG", {"ANONTEL_CONFIG": missing + GARBAGE}, ["show"], True),
        ("ANONTEL_CONFIG", {"ANONTEL_CONFIG": missing + GARBAGE}, ["report", "--force"], True),
        ("ANONTEL_CONFIG newline", {"ANONTEL_CONFIG": missing + INJECT}, ["show"], False),
        ("ANONTEL_ID", {"ANONTEL_CONFIG": fixed.encode(),
                        "ANONTEL_ID": b"abcdefghijklmnop" + GARBAGE}, ["id"], False),
        ("ANONTEL_ID", {"ANONTEL_CONFIG": fixed.encode(), "ANONTEL_ID": GARBAGE}, ["show"], False),
        ("SSL_CERT_FILE", {"SSL_CERT_FILE": missing + GARBAGE, "ANONTEL_ENDPOINT": https_dead},
         ["report", "--force"], False),
        ("SSL_CERT_FILE", {"SSL_CERT_FILE": missing + GARBAGE, "ANONTEL_ENDPOINT": https_dead},
         ["status"], False),
        ("https_proxy", {"https_proxy": b"http://" + GARBAGE + b":1",
                         "ANONTEL_ENDPOINT": https_dead}, ["report", "--force"], False),
        ("https_proxy path", {"https_proxy": b"http://127.0.0.1:1/" + GARBAGE,
                              "ANONTEL_ENDPOINT": https_dead}, ["report", "--force"], False),
        ("NO_PROXY", {"https_proxy": f"http://127.0.0.1:{peers.free_port()}".encode(),
                      "NO_PROXY": GARBAGE, "ANONTEL_ENDPOINT": https_dead},
         ["report", "--force"], False),
    ]
    for what, change, args, named in cases:
        e = dict(base)
        e.update({k: _s(v) for k, v in change.items()})
        p = _run(args, e, cwd=tmp)
        _no_raw_control(p, f"{what}={change!r} {args}", echoed=named)
        if named:       # a config file that does not exist is a config error
            lib.eq(p.returncode, 2, f"{what} {args}: exit status ({runs.describe(p)})")


def test_opt_out_values_are_not_errors_and_not_raw(tmp):
    for var in ("DO_NOT_TRACK", "ANONTEL_DISABLED"):
        e = peers.new_env(tmp, ANONTEL_ENDPOINT=runs.dead_url("/t"), **{var: _s(GARBAGE)})
        for args in (["show"], ["status"], ["report"], ["report", "--force"]):
            p = _run(args, e)
            _no_raw_control(p, f"{var}=garbage {args}")
            lib.eq(p.returncode, 0, f"{var}=garbage {args}: off is not an error "
                   f"({runs.describe(p)})")


def test_config_path_is_escaped(tmp):
    missing = b"nx-"              # relative to cwd=tmp: the echo starts at once
    for path in (missing + GARBAGE, missing + INJECT):
        for args in (["show"], ["id"], ["status"], ["report", "--force"]):
            e = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "s"))
            p = _run(["-c", _s(path)] + args, e, cwd=tmp)
            _no_raw_control(p, f"-c {path!r} {args}", echoed=path.endswith(GARBAGE))
            lib.eq(p.returncode, 2, f"-c missing file {args}: config error ({runs.describe(p)})")
    # check never exits 2: the same path there is unhealthy, and escaped too.
    p = _run(["check", "-c", _s(missing + GARBAGE), runs.dead_url("/health")], lib.base_env(),
             cwd=tmp)
    _no_raw_control(p, "check -c garbage")
    lib.eq(p.returncode, 1, f"check -c missing: 1 ({runs.describe(p)})")


def test_config_file_contents_are_escaped(tmp):
    state = os.path.join(tmp, "s")
    texts = [b'{"service": "a' + GARBAGE + b'"}',            # raw control bytes: invalid JSON
             b'{"' + GARBAGE + b'": 1}',
             b'{"service": "a\\u001b[31mb\\u0007"}',          # valid JSON, invalid service
             b'{"enabledFeatures": {"k\\u001bx": true}}',
             b'{"endpoint": "http://a\\u001b.example/\\u0007"}',
             b'{"stateDir": "/tmp/x\\u001by"}',
             b'{"proxy": "http://\\u001b:1"}',
             b'{"tls": {"caFile": "/nonexistent/\\u001b\\u0007"}}']
    for i, text in enumerate(texts):
        cfg = lib.write_config(tmp, text, name=f"c{i}.json")
        for args in (["show"], ["report", "--force"]):
            p = _run(["-c", cfg] + args, lib.base_env(ANONTEL_STATE_DIR=state,
                                                      ANONTEL_ENDPOINT=runs.dead_url("/t")))
            _no_raw_control(p, f"config {text!r} {args}")
            lib.check(p.returncode in (1, 2), f"config {text!r} {args}: an error "
                      f"({runs.describe(p)})")


def test_peer_bytes_are_escaped(tmp):
    replies = [b"HTTP/1.1 500 " + MARK + b"\r\nContent-Length: 0\r\n\r\n",
               b"HTTP/1.1 302 Found\r\nLocation: http://" + MARK + b".example/\r\n"
               b"Content-Length: 0\r\n\r\n",
               b"HTTP/1.1 302 Found\r\nLocation: http://other.example/" + MARK + b"\r\n"
               b"Content-Length: 0\r\n\r\n",
               b"HTTP/1.1 2" + MARK + b"\r\n\r\n",
               b"\x1b[2J" + MARK + b"\r\n\r\n"]
    for reply in replies:
        with peers.TLSServer(tls=False, reply=reply) as s:
            p = _run(["check", f"http://127.0.0.1:{s.port}/health"], lib.base_env())
            _no_raw_control(p, f"check, reply {reply!r}")
            lib.eq(p.returncode, 1, f"reply {reply!r}: unhealthy")
            e = peers.new_env(tmp, ANONTEL_ENDPOINT=f"http://127.0.0.1:{s.port}/t")
            p = _run(["report", "--force", "-v"], e)
            _no_raw_control(p, f"report -v, reply {reply!r}")
            lib.eq(p.returncode, 1, f"reply {reply!r}: not delivered")
