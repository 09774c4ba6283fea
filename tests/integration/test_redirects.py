"""Redirects in `check` (SPEC §11 Containers): followed at most 3 times and only to the
same host; `http` to `https` on the same host is allowed with the trust an https URL
would get (-k, SSL_CERT_FILE, tls.caFile); `https` to `http` never. A redirect to
another host is not followed: the 3xx is the answer judged by --expect, the line names
the target host, and that host gets no connection at all, so no -H value (an
Authorization or Cookie header) ever reaches it.
Peers: runs.Server (plain HTTP, 127.0.0.1), peers.TLSServer (Python ssl on 127.0.0.1,
certificate for `localhost` from the test CA; tls=False on 127.0.0.2 for "another host")."""
import time

import lib
import peers
import runs

SECRETS = ["Authorization: Bearer s3cret-token", "Cookie: session=s3cret-cookie"]


def _hops(location_of):
    """A route: /hop/N answers 302 to location_of(N - 1) while N > 0; /hop/0 200."""
    def route(r):
        if r.target.startswith("/hop/"):
            n = int(r.target[5:])
            if n > 0:
                return runs.Reply(302, headers=[("Location", location_of(n - 1))], body=b"")
            return runs.Reply(200)
        return runs.Reply(404)
    return route


def _check(args, env_=None):
    p, _ = runs.run(["check"] + list(args), env_ or lib.base_env(), timeout=20)
    return p


def _one_line(p, what):
    lines = runs.stderr_lines(p)
    lib.eq(len(lines), 1, f"{what}: one line on stderr ({runs.describe(p)})")
    lib.check(lines[0].startswith("anontel: "), f"{what}: a clear line: {lines[0]!r}")
    lib.eq(p.stdout, b"", f"{what}: nothing on stdout")
    return lines[0]


def _headers_of(r):
    return [f"{n}: {v}" for n, v in r.headers]


def _quiet(server, what):
    """The server got no connection at all (waits for its accept loop to catch up)."""
    time.sleep(0.3)
    lib.eq(server.accepted, 0, f"{what}: connections to the other server")
    lib.eq(server.requests, [], f"{what}: requests to the other server")


def test_at_most_three_same_host(tmp):
    with runs.Server() as s:
        s.route = _hops(lambda n: f"/hop/{n}")
        p = _check([s.url("/hop/3")])
        lib.eq(p.returncode, 0, f"three redirects are followed ({runs.describe(p)})")
        lib.eq([r.target for r in s.requests], ["/hop/3", "/hop/2", "/hop/1", "/hop/0"],
               "each hop requested once")
        del s.requests[:]
        p = _check([s.url("/hop/4")])
        lib.eq(p.returncode, 1, f"a fourth redirect is not followed ({runs.describe(p)})")
        _one_line(p, "four redirects")
        lib.eq([r.target for r in s.requests], ["/hop/4", "/hop/3", "/hop/2", "/hop/1"],
               "the original request and three follows, no more")


def test_same_host_absolute_location_carries_headers(tmp):
    with runs.Server() as s:
        s.route = _hops(lambda n: f"http://127.0.0.1:{s.port}/hop/{n}")
        args = [s.url("/hop/2")]
        for h in SECRETS:
            args += ["-H", h]
        p = _check(args)
        lib.eq(p.returncode, 0, f"same-host redirects ({runs.describe(p)})")
        lib.eq([r.target for r in s.requests], ["/hop/2", "/hop/1", "/hop/0"], "followed")
        for r in s.requests:
            for h in SECRETS:
                lib.check(h in _headers_of(r), f"{r.target} carries -H {h!r}: {r.headers}")


def _away(other, path="/stolen"):
    def route(r):
        if r.target == "/away":
            return runs.Reply(302, headers=[("Location", other.url(path, host="127.0.0.2"))],
                              body=b"")
        return runs.Reply(200)
    return route


def test_other_host_not_followed(tmp):
    with peers.TLSServer(tls=False, host="127.0.0.2") as other, runs.Server() as s:
        s.route = _away(other)
        for start in (s.url("/away"), f"http://localhost:{s.port}/away"):
            args = [start]
            for h in SECRETS:
                args += ["-H", h]
            p = _check(args)
            lib.eq(p.returncode, 1, f"{start}: the 302 is judged by the default --expect "
                   f"({runs.describe(p)})")
            line = _one_line(p, f"{start}: redirect to another host")
            lib.check("127.0.0.2" in line, f"the line names the target host: {line!r}")
            _quiet(other, start)
            r = s.requests[-1]
            lib.eq(r.target, "/away", "the first server got the probe")
            for h in SECRETS:
                lib.check(h in _headers_of(r), f"the first server got -H {h!r}: {r.headers}")
        lib.eq(len(s.requests), 2, "one request per probe to the first server")


def test_other_host_3xx_judged_by_expect(tmp):
    with peers.TLSServer(tls=False, host="127.0.0.2") as other, runs.Server() as s:
        s.route = _away(other)
        p = _check([s.url("/away"), "--expect", "300-399", "-H", SECRETS[0]])
        lib.eq(p.returncode, 0, f"--expect 300-399 takes the 302 ({runs.describe(p)})")
        lib.eq(p.stdout, b"", "nothing on stdout")
        lines = runs.stderr_lines(p)
        lib.check(len(lines) <= 1, f"at most one line: {lines}")
        lib.check(not lines or "127.0.0.2" in lines[0], f"a line names the target: {lines}")
        _quiet(other, "--expect 300-399")
        p = _check([s.url("/away"), "--expect", "302"])
        lib.eq(p.returncode, 0, f"--expect 302 ({runs.describe(p)})")
        p = _check([s.url("/away"), "--expect", "301"])
        lib.eq(p.returncode, 1, f"--expect 301 does not take a 302 ({runs.describe(p)})")
        _one_line(p, "--expect 301")
        _quiet(other, "--expect 302 and 301")


def _upgrade(tls_server):
    """A route: /up answers 302 to https://localhost:<tls port>/secure."""
    def route(r):
        if r.target == "/up":
            return runs.Reply(302, headers=[("Location", tls_server.url("/secure"))], body=b"")
        return runs.Reply(404)
    return route


def test_http_to_https_same_host(tmp):
    root = peers.certs().root
    cfg = lib.write_config(tmp, {"tls": {"caFile": root}})
    with peers.TLSServer(reply=peers.OK_REPLY) as secure, runs.Server() as s:
        s.route = _upgrade(secure)
        start = f"http://localhost:{s.port}/up"
        cases = [("-k", ["-k"], lib.base_env()),
                 ("SSL_CERT_FILE", [], lib.base_env(SSL_CERT_FILE=root)),
                 ("tls.caFile", ["-c", cfg], lib.base_env())]
        for what, extra, env_ in cases:
            before = len(secure.requests)
            p = _check([start, "-H", SECRETS[0]] + extra, env_)
            lib.eq(p.returncode, 0, f"http -> https on localhost with {what} ({runs.describe(p)})")
            lib.eq(p.stderr, b"", f"{what}: a healthy check prints nothing")
            lib.eq(len(secure.requests), before + 1, f"{what}: the https server got the probe")
            r = secure.requests[-1]
            lib.eq((r.method, r.target, r.sni), ("GET", "/secure", "localhost"),
                   f"{what}: GET over TLS with SNI localhost")
            lib.check(SECRETS[0] in _headers_of(r), f"{what}: same host carries -H: {r.headers}")
        # The redirect gets the trust an https URL would: none for a CA it was not given.
        p = _check([start])
        lib.eq(p.returncode, 1, f"http -> https to a test CA without trust ({runs.describe(p)})")
        _one_line(p, "untrusted https after the redirect")
        lib.eq(len(secure.requests), 3, "no request over an unverified connection")
        p = _check([start], lib.base_env(SSL_CERT_FILE=peers.certs().other_root))
        lib.eq(p.returncode, 1, f"http -> https with another CA ({runs.describe(p)})")
        _one_line(p, "wrong CA after the redirect")
        lib.eq(len(secure.requests), 3, "no request over a connection the CA did not verify")


def test_https_to_http_never(tmp):
    with runs.Server() as plain:
        down = (b"HTTP/1.1 302 Found\r\nLocation: " + f"http://localhost:{plain.port}/plain"
                .encode() + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        with peers.TLSServer(reply=down) as secure:
            for what, extra, env_ in (("-k", ["-k"], lib.base_env()),
                                      ("SSL_CERT_FILE", [],
                                       lib.base_env(SSL_CERT_FILE=peers.certs().root))):
                p = _check([secure.url("/down"), "-H", SECRETS[1]] + extra, env_)
                lib.eq(p.returncode, 1, f"https -> http is not followed ({what}) "
                       f"({runs.describe(p)})")
                _one_line(p, f"https -> http ({what})")
                lib.eq(secure.requests[-1].target, "/down", "the https server got the probe")
            _quiet(plain, "https -> http")
