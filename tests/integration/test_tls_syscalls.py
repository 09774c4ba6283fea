"""The network system calls of a delivered report over TLS (issue 13: at most 80 in all
for a report). A report to a loopback OpenSSL server (Python's ssl) must make at most
MAX_NET_CALLS, counted under strace from the TCP socket() to its close(): one send()
per flight of records, one recv() per flight the server sends, a poll() before each
recv() that waits for an answer, and no getsockopt()/setsockopt() when connect and
sends go as planned. The request must still arrive byte for byte as over plain HTTP.
A request larger than one TLS record (16 KiB) goes out over several sends: before a
send that follows another with no answer read in between, TCP_NODELAY must be set
(else Nagle may hold the last segment for the server's delayed ACK)."""
import hashlib
import os
import re
import shutil
import subprocess

import lib
import peers

# socket, connect, poll (connected), then per flight: ClientHello / poll / recv,
# key exchange + CCS + Finished / poll / recv, request / poll / recv; close_notify,
# close: 14. The margin covers a flight the kernel hands over in two pieces.
MAX_NET_CALLS = 16

_CALL = re.compile(r"^(?:\d+\s+)?(\w+)\((.*)$")
_KEY = re.compile(rb"\r\nIdempotency-Key: ([0-9a-f]{32})(?=\r\n|$)")
_DATE = re.compile(rb"(\r\nDate: )[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT(?=\r\n)")


def strace_report(tmp, cfg, env):
    """Runs `report --force -c cfg` under strace -f; returns (CompletedProcess, calls):
    calls is [(name, line)] of the network, poll and close system calls from the TCP
    socket() to its close(), both included."""
    strace = shutil.which("strace")
    lib.check(strace, "strace is not installed (./build.sh test installs it)")
    log = os.path.join(tmp, "strace.log")
    p = subprocess.run([strace, "-f", "-qq", "-o", log, "-e",
                        "trace=%network,poll,ppoll,close", "--", lib.BIN, "report", "--force",
                        "-c", cfg], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=30)
    calls, fd = [], None
    for line in open(log, encoding="utf-8", errors="replace"):
        m = _CALL.match(line.strip())
        if not m:
            continue
        name, rest = m.groups()
        if fd is None:
            if name == "socket" and "SOCK_STREAM" in rest:
                fd = rest.rsplit("= ", 1)[-1].strip()
                calls.append((name, line))
            continue
        if name == "close":
            if rest.startswith(fd + ")"):
                calls.append((name, line))
                break
            continue
        calls.append((name, line))
    lib.check(fd is not None, f"no TCP socket in the trace ({peers.describe(p)})")
    lib.eq(calls[-1][0], "close", "the trace ends with the socket's close")
    return p, calls


def head_of(r, port, what):
    """r's head with the port as PORT and the Idempotency-Key as KEY, once checked to be
    the first 16 bytes of the SHA-256 of the body as received."""
    m = _KEY.search(r.head)
    lib.check(m, f"{what}: an Idempotency-Key header: {r.head!r}")
    lib.eq(m.group(1).decode(), hashlib.sha256(r.body).hexdigest()[:32],
           f"{what}: Idempotency-Key of the body received")
    head = r.head[:m.start(1)] + b"KEY" + r.head[m.end(1):]
    # The Date header is the second it was sent in: two requests may straddle one.
    head = _DATE.sub(b"\\1DATE", head)
    return head.replace(str(port).encode(), b"PORT")


def plain_head(tmp, cfg_obj):
    """The request head the same config sends over plain HTTP."""
    with peers.TLSServer(tls=False) as s:
        cfg = peers.config(tmp, dict(cfg_obj, endpoint=s.url()))
        p, _ = peers.report(tmp, cfg)
        peers.expect_delivered(p, s, "plain http")
        return head_of(s.requests[0], s.port, "plain http")


def delivered(tmp, leaf, more=None):
    """One report over TLS to a server with `leaf`; returns (calls, request)."""
    c = peers.certs()
    more = more or {}
    with peers.TLSServer(leaf) as s:
        cfg = peers.tls_config(tmp, s, **more)
        env = peers.new_env(tmp)
        p, calls = strace_report(tmp, cfg, env)
        peers.expect_delivered(p, s, f"{leaf} under strace")
        r = s.requests[0]
        body = peers.show(tmp, cfg, env=env)
        peers.check_request(r, f"localhost:{s.port}", body, f"{leaf}")
        head = head_of(r, s.port, f"{leaf}")
    obj = dict(more, tls={"caFile": c.root})
    lib.eq(head, plain_head(tmp, obj), f"{leaf}: request head as over plain HTTP")
    return calls, r


def names(calls):
    return " ".join(n for n, _ in calls)


def check_small(tmp, leaf):
    calls, _ = delivered(tmp, leaf)
    lib.check(len(calls) <= MAX_NET_CALLS,
              f"{leaf}: {len(calls)} network system calls, at most {MAX_NET_CALLS}: "
              f"{names(calls)}")
    sends = [n for n, _ in calls if n in ("sendto", "sendmsg", "write")]
    lib.check(len(sends) <= 4, f"{leaf}: one send per flight (4), got {names(calls)}")
    eagain = [line for _, line in calls if "EAGAIN" in line]
    lib.eq(eagain, [], f"{leaf}: no call that only learns EAGAIN")
    for n in ("getsockopt", "setsockopt"):
        lib.check(n not in names(calls).split(), f"{leaf}: no {n}: {names(calls)}")
    print(f"# {leaf}: {len(calls)} network system calls: {names(calls)}")


def test_ecdsa_server_few_calls(tmp):
    check_small(tmp, peers.certs().ec)


def test_rsa_server_few_calls(tmp):
    check_small(tmp, peers.certs().rsa)


def test_large_request_nodelay_before_second_send(tmp):
    # About 40 KiB of body: three TLS records of at most 16 KiB.
    feats = {f"feature_{i:04d}_" + "x" * 40: bool(i % 2) for i in range(800)}
    calls, r = delivered(tmp, peers.certs().ec, {"enabledFeatures": feats})
    lib.check(len(r.body) > 32768, f"the body spans several records ({len(r.body)} bytes)")
    nodelay = False
    last = None
    for n, line in calls:
        if n == "setsockopt" and "TCP_NODELAY" in line:
            nodelay = True
        if n == "sendto" and "EAGAIN" not in line:
            lib.check(last != "sendto" or nodelay,
                      f"a send right after a send without TCP_NODELAY: {names(calls)}")
            last = n
        elif n == "recvfrom" and "EAGAIN" not in line:
            last = n
    lib.check(nodelay, f"TCP_NODELAY set for a request over several sends: {names(calls)}")
    print(f"# large request: {names(calls)}")
