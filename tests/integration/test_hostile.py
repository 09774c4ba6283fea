"""Hostile peers: each run ends within its deadline with one clear line, and the
process stays small (peak RSS under 1 MiB, from /usr/bin/time -v)."""
import os
import re
import socket
import ssl
import subprocess
import tempfile
import time

import lib
import peers

TIMEOUT = 2.0
RSS_LIMIT_KB = 1024


class HostileServer(peers._Base):
    """TLS (or not) on loopback; after reading the request, `act(sock)` misbehaves."""

    def __init__(self, act, leaf=None, tls=True, read_request=True):
        self.act = act
        self.read_request = read_request
        self.requests = []
        self.ctx = None
        if tls:
            leaf = leaf or peers.certs().ec
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(leaf.chain, leaf.key)
        super().__init__(hold=TIMEOUT + 5)

    def _handle(self, conn):
        s = self.ctx.wrap_socket(conn, server_side=True) if self.ctx else conn
        r = peers._read_request(s) if self.read_request else None
        if r is not None:
            self.requests.append(r)
        try:
            self.act(s, self)
        except (OSError, ssl.SSLError):
            pass


def run_timed(tmp, cfg, args=()):
    """report --force under /usr/bin/time -v; returns (proc, seconds, peak RSS in KiB)."""
    tv = os.path.join(tmp, "time.txt")
    argv = ["/usr/bin/time", "-v", "-o", tv, lib.BIN, "report", "--force", "-c", cfg,
            "--timeout", f"{int(TIMEOUT * 1000)}ms"] + list(args)
    started = time.monotonic()
    p = subprocess.run(argv, env=peers.new_env(tmp), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT + 20)
    secs = time.monotonic() - started
    with open(tv) as f:
        rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read()).group(1))
    return p, secs, rss


def expect_bounded(tmp, server, words, what, ca=None, code=1):
    cfg = peers.tls_config(tmp, server, ca=ca) if server.ctx else \
        peers.config(tmp, {"endpoint": server.url("/t", host="127.0.0.1", scheme="http")})
    p, secs, rss = run_timed(tmp, cfg)
    lib.check(secs < TIMEOUT * 1.1 + 0.3, f"{what}: took {secs:.2f}s (deadline {TIMEOUT}s)")
    lib.check(rss < RSS_LIMIT_KB, f"{what}: peak RSS {rss} KiB")
    if code == 0:
        lib.eq(p.returncode, 0, f"{what}: exit ({peers.describe(p)})")
        return
    peers.expect_failure(p, code, words, what)


def stream(chunk, total):
    def act(s, _server):
        sent = 0
        while sent < total:
            s.sendall(chunk)
            sent += len(chunk)
    return act


def test_a_gigabyte_of_headers(tmp):
    head = b"HTTP/1.1 200 OK\r\n"
    line = b"X-Filler: " + b"a" * 4000 + b"\r\n"

    def act(s, server):
        s.sendall(head)
        stream(line, 1 << 30)(s, server)
    with HostileServer(act) as srv:
        expect_bounded(tmp, srv, "16 KiB", "1 GiB of headers")


def _endless_chunked(status):
    head = b"HTTP/1.1 " + status + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"

    def act(s, server):
        s.sendall(head)
        stream(chunk, 1 << 40)(s, server)
    return act


def test_an_endless_chunked_body(tmp):
    with HostileServer(_endless_chunked(b"503 Busy")) as srv:
        expect_bounded(tmp, srv, ["timed out", "timeout"], "endless chunked body")


def test_an_endless_chunked_body_after_a_2xx(tmp):
    # The 2xx status line is the answer: delivered, within the deadline, not sent again.
    with HostileServer(_endless_chunked(b"200 OK")) as srv:
        expect_bounded(tmp, srv, None, "endless chunked body after 200", code=0)


def test_a_flood_faster_than_we_read(tmp):
    # The client runs under valgrind (--tool=none: several times slower), so the
    # server's records are always waiting and no read ever blocks: only a deadline
    # checked on every read ends the run. The server would go on for 7 s.
    with HostileServer(_endless_chunked(b"503 Busy")) as srv:
        cfg = peers.tls_config(tmp, srv)
        env = peers.new_env(tmp)
        env["ANONTEL_SANDBOX"] = "off"      # valgrind does not model seccomp
        argv = ["valgrind", "--tool=none", "-q", "--log-file=" + os.path.join(tmp, "vg.log"),
                lib.BIN, "report", "--force", "-c", cfg,
                "--timeout", f"{int(TIMEOUT * 1000)}ms"]
        started = time.monotonic()
        p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=TIMEOUT + 20)
        secs = time.monotonic() - started
    lib.check(secs < TIMEOUT + 1.5, f"flood: took {secs:.2f}s (deadline {TIMEOUT}s)")
    peers.expect_failure(p, 1, "timed out", "flood faster than we read")


def test_a_slow_drip(tmp):
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    def act(s, server):
        for b in reply:
            s.sendall(bytes([b]))
            if server._stop.wait(1.0):
                return
    with HostileServer(act) as srv:
        expect_bounded(tmp, srv, ["timed out", "timeout"], "one byte per second")


def test_an_alert_mid_stream(tmp):
    def act(s, server):
        s.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 1000\r\n\r\nhalf")
        s.unwrap()      # close_notify in the middle of the body
    with HostileServer(act) as srv:
        expect_bounded(tmp, srv, "truncated", "close_notify mid-body")


def test_a_raw_alert_record_mid_stream(tmp):
    def act(s, server):
        s.sendall(b"HTTP/1.1 503 Busy\r\nContent-Length: 1000\r\n\r\nhalf")
        # A plaintext fatal alert where an encrypted record must be: not ours to trust.
        sock = socket.socket(fileno=os.dup(s.fileno()))
        sock.sendall(bytes([21, 3, 3, 0, 2, 2, 80]))
        sock.close()
    with HostileServer(act) as srv:
        expect_bounded(tmp, srv, "invalid TLS data", "raw alert record")


def test_garbage_instead_of_tls(tmp):
    def act(s, server):
        s.recv(4096)                        # the ClientHello
        s.sendall(os.urandom(64 * 1024))
    srv = HostileServer(act, tls=False, read_request=False)
    with srv:
        cfg = peers.tls_config(tmp, srv, endpoint=srv.url("/t"))
        p, secs, rss = run_timed(tmp, cfg)
    lib.check(secs < TIMEOUT * 1.1 + 0.3, f"garbage: took {secs:.2f}s")
    lib.check(rss < RSS_LIMIT_KB, f"garbage: peak RSS {rss} KiB")
    peers.expect_failure(p, 1, ["invalid TLS data", "does not speak TLS"], "garbage instead of TLS")


def long_chain(tmp, n=50):
    """A root, n-1 intermediates, and a leaf for localhost: (root.pem, chain.pem, key)."""
    d = tempfile.mkdtemp(dir=tmp)

    def sh(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    ext_ca = os.path.join(d, "ca.ext")
    with open(ext_ca, "w") as f:
        f.write("basicConstraints=critical,CA:true\nkeyUsage=critical,keyCertSign,cRLSign\n")
    ext_leaf = os.path.join(d, "leaf.ext")
    with open(ext_leaf, "w") as f:
        f.write("basicConstraints=CA:false\nsubjectAltName=DNS:localhost\n"
                "keyUsage=critical,digitalSignature\n")
    sh("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "c0.key", "-out", "c0.pem", "-subj", "/CN=chain root", "-days", "30",
       "-addext", "basicConstraints=critical,CA:true", "-addext", "keyUsage=critical,keyCertSign")
    for i in range(1, n + 1):
        leaf = i == n
        sh("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
           "-keyout", f"c{i}.key", "-out", f"c{i}.csr",
           "-subj", "/CN=localhost" if leaf else f"/CN=chain ca {i}")
        sh("x509", "-req", "-in", f"c{i}.csr", "-CA", f"c{i - 1}.pem", "-CAkey", f"c{i - 1}.key",
           "-CAcreateserial", "-days", "30", "-out", f"c{i}.pem",
           "-extfile", ext_leaf if leaf else ext_ca)
    chain = os.path.join(d, "chain.pem")
    with open(chain, "wb") as out:
        for i in range(n, 0, -1):
            with open(os.path.join(d, f"c{i}.pem"), "rb") as f:
                out.write(f.read())
    return os.path.join(d, "c0.pem"), chain, os.path.join(d, f"c{n}.key")


def test_a_chain_of_fifty_certificates(tmp):
    root, chain, key = long_chain(tmp)
    leaf = peers.Leaf("long", chain, key, chain, ["localhost"])

    def act(s, server):
        s.sendall(peers.OK_REPLY)
    with HostileServer(act, leaf=leaf) as srv:
        cfg = peers.tls_config(tmp, srv, ca=root)
        p, secs, rss = run_timed(tmp, cfg)
    lib.check(secs < TIMEOUT * 1.1 + 0.3, f"50 certificates: took {secs:.2f}s")
    lib.check(rss < RSS_LIMIT_KB, f"50 certificates: peak RSS {rss} KiB")
    # Delivered or refused with one line: either way bounded and said clearly.
    if p.returncode != 0:
        peers.expect_failure(p, 1, ["certificate", "TLS"], "50 certificates")


def test_a_16k_host_name_in_a_redirect(tmp):
    location = b"https://" + b"a" * 16384 + b".example/x"

    def act(s, server):
        s.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: " + location +
                  b"\r\nContent-Length: 0\r\n\r\n")
    with HostileServer(act) as srv:
        expect_bounded(tmp, srv, ["Location", "redirect", "too long", "header"], "16 KiB host")
