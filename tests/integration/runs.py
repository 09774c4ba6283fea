"""Helpers for the tests of runs over time (throttle, kept messages, crashes, the lock,
state dirs, check, status): a plain-HTTP server on 127.0.0.1 that answers per request
(status, headers, delay, or never) and records only complete requests; running
anontel with a state dir and an endpoint; reading the state dir; running a shell
script in a private mount namespace. Nothing here talks to any address but loopback."""
import fcntl
import json
import os
import re
import shlex
import subprocess
import time

import lib
import peers

HEX32 = re.compile(r"[0-9a-f]{32}")
KEPT_NAME = re.compile(r"\d{20}\.json")
LOG_NAME = re.compile(r"\d{20}\.sent")


class Reply:
    """What the server answers: status, extra headers [(name, value)], a delay before
    answering (seconds), or never=True to hold the connection without answering."""

    def __init__(self, status=200, headers=(), delay=0.0, never=False, body=b"ok"):
        self.status, self.headers, self.delay, self.never, self.body = (
            status, list(headers), delay, never, body)


REASONS = {200: "OK", 204: "No Content", 300: "Multiple Choices", 302: "Found",
           399: "Other", 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests",
           500: "Internal Server Error", 503: "Service Unavailable", 201: "Created"}


class Server(peers._Base):
    """Plain HTTP/1.1 on 127.0.0.1 (an ephemeral port, or `port`). route(request) returns
    a Reply (default 200). .requests holds complete requests only (head and the whole
    Content-Length body), in the order they were completed; .posts and .gets filter by
    method. stop() (or leaving the with block) closes everything."""

    def __init__(self, route=None, port=0, hold=10.0):
        self.route = route or (lambda r: Reply())
        self.requests = []
        super().__init__(peers.LOOPBACK4, hold, port, backlog=128)

    def url(self, path="/t"):
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def posts(self):
        with self._lock:
            return [r for r in self.requests if r.method == "POST"]

    @property
    def gets(self):
        with self._lock:
            return [r for r in self.requests if r.method == "GET"]

    def _handle(self, conn):
        try:
            r = peers._read_request(conn)
            if r is None:
                return
            with self._lock:
                self.requests.append(r)
            reply = self.route(r) or Reply()
            if reply.never:
                self._stop.wait(self.hold)
                return
            if reply.delay and self._stop.wait(reply.delay):
                return
            head = f"HTTP/1.1 {reply.status} {REASONS.get(reply.status, 'X')}\r\n"
            for k, v in reply.headers:
                head += f"{k}: {v}\r\n"
            head += f"Content-Length: {len(reply.body)}\r\nConnection: close\r\n\r\n"
            conn.sendall(head.encode("latin-1") + reply.body)
        except (OSError, ValueError):
            return


def dead_url(path="/t"):
    """An http URL on 127.0.0.1 where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{peers.free_port()}{path}"


def env(state, endpoint=None, **extra):
    return lib.base_env(ANONTEL_STATE_DIR=state, ANONTEL_ENDPOINT=endpoint, **extra)


def run(args, env_, timeout=30):
    """Runs anontel; returns (CompletedProcess, elapsed seconds)."""
    started = time.monotonic()
    p = lib.run(list(args), env=env_, timeout=timeout)
    return p, time.monotonic() - started


def describe(p):
    return peers.describe(p)


def stderr_lines(p):
    return p.stderr.decode("utf-8", "replace").splitlines()


def kept_dir(state):
    return os.path.join(state, "kept")


def kept_names(state):
    """Kept message file names, oldest first (every name must be 20 digits + .json, but
    the audit log's 20 digits + .sent, which log_names lists)."""
    d = kept_dir(state)
    if not os.path.isdir(d):
        return []
    names = sorted(n for n in os.listdir(d) if not n.startswith(".tmp-")
                   and not LOG_NAME.fullmatch(n))
    for n in names:
        lib.check(KEPT_NAME.fullmatch(n), f"kept file name {n!r} is 20 digits + .json")
    return names


def log_names(state):
    """The audit log's entries (delivered messages, kept/NNN.sent), oldest first."""
    d = kept_dir(state)
    if not os.path.isdir(d):
        return []
    return sorted(n for n in os.listdir(d) if LOG_NAME.fullmatch(n))


def log_bytes(state):
    """[bytes] of the audit log's entries, oldest first."""
    out = []
    for n in log_names(state):
        with open(os.path.join(kept_dir(state), n), "rb") as f:
            out.append(f.read())
    return out


def kept_bytes(state):
    """[(name, bytes)] of the kept messages, oldest first."""
    out = []
    for n in kept_names(state):
        with open(os.path.join(kept_dir(state), n), "rb") as f:
            out.append((n, f.read()))
    return out


def ts_of(body):
    return lib.strict_json(body)["ts"]


def stamps(state):
    """The stamps file as {key: value string}."""
    with open(os.path.join(state, "stamps"), "rb") as f:
        text = f.read().decode("utf-8")
    lib.check(text.endswith("\n"), f"stamps ends with a newline: {text!r}")
    out = {}
    for line in text[:-1].split("\n"):
        key, sep, value = line.partition(" ")
        lib.check(sep and key not in out, f"stamps line {line!r}")
        out[key] = value
    return out


def wait_for(cond, what, timeout=10.0):
    """Polls cond() until it holds: check --report's detached child goes on after the
    probe has exited."""
    end = time.monotonic() + timeout
    while not cond():
        lib.check(time.monotonic() < end, f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.02)


def idle(state):
    """True when no run holds the state dir's sender lock (the detached child is done)."""
    path = os.path.join(state, "lock")
    if not os.path.exists(path):
        return os.path.isdir(state) and os.path.exists(os.path.join(state, "stamps"))
    with open(path, "rb") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
    return True


def status_json(env_, what="status --json"):
    p, _ = run(["status", "--json"], env_)
    lib.eq(p.returncode, 0, f"{what}: exit ({describe(p)})")
    return lib.strict_json(p.stdout)


def parse_ts(text):
    import datetime
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def no_network_traced(args, env_, tmp):
    """Runs anontel under strace; returns (CompletedProcess, list of socket() calls)."""
    log = os.path.join(tmp, "strace-%d.log" % time.monotonic_ns())
    p = subprocess.run(["strace", "-f", "-qq", "-e", "trace=socket,connect", "-o", log,
                        lib.BIN] + list(args), env=env_, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=30)
    with open(log) as f:
        calls = [line for line in f if "socket(" in line or "connect(" in line]
    return p, calls


def mountns_script(script, env_=None, outdir=None, timeout=30):
    """Runs `bash -ec script` in a private mount namespace (mounts made there vanish
    with it; the host's /tmp and /var/lib are never touched). $BIN runs the binary;
    with outdir, $OUT names that host directory even after mounts hide its path
    (through an open descriptor), for step() results."""
    e = dict(env_ if env_ is not None else lib.base_env())
    # The binary through an open descriptor too: the work tree may itself be under a
    # path the script mounts over (a clone in /tmp).
    head = f"exec 8<{shlex.quote(lib.BIN)}\nBIN=/proc/$$/fd/8\n"
    if outdir is not None:
        head += f"exec 9<{shlex.quote(outdir)}\nOUT=/proc/$$/fd/9\n"
    return subprocess.run(["unshare", "--propagation", "private", "-m", "bash", "-ec",
                           head + script],
                          env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          stdin=subprocess.DEVNULL, timeout=timeout)


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def result(outdir, name):
    """(exit status, stdout bytes, stderr bytes) a mountns script saved as
    name.rc/name.out/name.err in outdir."""
    rc = int(read(os.path.join(outdir, name + ".rc")).strip())
    return rc, read(os.path.join(outdir, name + ".out")), read(os.path.join(outdir, name + ".err"))


def step(name, cmd):
    """A script line running cmd (shell text) and saving its results in $OUT/name.*."""
    return (f'set +e; {cmd} >"$OUT/{name}.out" 2>"$OUT/{name}.err"; '
            f'echo $? >"$OUT/{name}.rc"; set -e\n')


def strict_file(path, what):
    """Parses a file as strict JSON (a torn file fails)."""
    try:
        return lib.strict_json(read(path))
    except (ValueError, UnicodeDecodeError) as e:
        raise lib.CheckFailed(f"{what}: {path} is not strict JSON: {e}: {read(path)[:200]!r}")


def dump(obj):
    return json.dumps(obj, sort_keys=True)
