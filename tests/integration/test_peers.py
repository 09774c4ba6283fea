"""Self-tests of the peers in peers.py against independent clients (curl, openssl
s_client/verify, glibc's getent, a plain Python ssl client), so that a delivery test
failing against anontel points at anontel and not at its peer."""
import base64
import os
import socket
import ssl
import subprocess
import time

import lib
import peers


def curl(args, timeout=15, env=None):
    p = subprocess.run(["curl", "-sS", "--max-time", "5"] + list(args),
                       env=env or lib.base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=timeout)
    return p


def curl_post(server, ca=None, extra=(), url=None):
    c = peers.certs()
    return curl(["--noproxy", "*", "--cacert", ca or c.root, "-H", "Content-Type: application/json",
                 "-d", '{"a":1}'] + list(extra) + [url or server.url()])


def run(argv, timeout=15, env=None, input_=None):
    return subprocess.run(argv, env=env or lib.base_env(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, input=input_,
                          stdin=None if input_ is not None else subprocess.DEVNULL,
                          timeout=timeout)


def test_certificates_verify_as_intended(tmp):
    c = peers.certs()

    def verify(cert, untrusted=True, ca=None):
        argv = ["openssl", "verify", "-CAfile", ca or c.root]
        if untrusted:
            argv += ["-untrusted", c.inter]
        return run(argv + [cert])
    for leaf in (c.ec, c.rsa, c.names, c.other):
        p = verify(leaf.cert)
        lib.eq(p.returncode, 0, f"{leaf} verifies: {p.stdout!r} {p.stderr!r}")
    for leaf, why in ((c.expired, b"expired"), (c.notyet, b"not yet valid"),
                      (c.selfsigned, b"self-signed")):
        p = verify(leaf.cert)
        lib.check(p.returncode != 0 and why in p.stdout + p.stderr, f"{leaf}: {why!r}: {p.stderr!r}")
    p = verify(c.ec.cert, untrusted=False)
    lib.check(p.returncode != 0, "leaf alone with the root only does not verify")
    p = verify(c.ec.cert, ca=c.other_root)
    lib.check(p.returncode != 0, "other root does not verify our leaf")
    text = run(["openssl", "x509", "-noout", "-text", "-in", c.ec.cert]).stdout
    lib.check(b"prime256v1" in text and b"DNS:localhost" in text, "ec leaf: P-256, localhost")
    text = run(["openssl", "x509", "-noout", "-text", "-in", c.rsa.cert]).stdout
    lib.check(b"rsaEncryption" in text and b"(2048 bit)" in text, "rsa leaf: RSA-2048")
    text = run(["openssl", "x509", "-noout", "-text", "-in", c.names.cert]).stdout
    lib.check(b"DNS:multi.test" in text and b"DNS:svc.test" in text, "names leaf SANs")
    lib.eq(open(c.ec.chain).read().count("BEGIN CERTIFICATE"), 2, "chain = leaf + intermediate")


def test_pin_matches_openssl(tmp):
    c = peers.certs()
    for leaf in (c.ec, c.rsa, c.selfsigned):
        p = subprocess.run(
            f"openssl x509 -in '{leaf.cert}' -pubkey -noout | openssl pkey -pubin -outform der"
            " | openssl dgst -sha256 -binary | base64", shell=True, stdout=subprocess.PIPE,
            timeout=15)
        lib.eq(peers.pin(leaf.cert), "sha256//" + p.stdout.decode().strip(), f"pin of {leaf}")
    with peers.TLSServer(c.ec) as s:
        p = curl_post(s, extra=["--pinnedpubkey", peers.pin(c.ec.cert)])
        lib.eq(p.returncode, 0, f"curl with the right pin: {p.stderr!r}")
        p = curl_post(s, extra=["--pinnedpubkey", peers.pin(c.rsa.cert)])
        lib.eq(p.returncode, 90, f"curl with a wrong pin: {p.stderr!r}")
        lib.eq(len(s.requests), 1, "only the pinned request arrived")


def test_tls_server_records_request(tmp):
    c = peers.certs()
    for leaf in (c.ec, c.rsa):
        with peers.TLSServer(leaf) as s:
            p = curl_post(s, extra=["--tlsv1.2", "--tls-max", "1.2", "-A", "probe/1"])
            lib.eq(p.returncode, 0, f"{leaf}: curl exit ({p.stderr!r})")
            lib.eq(p.stdout, b"ok", f"{leaf}: reply body")
            lib.eq(len(s.requests), 1, f"{leaf}: one request")
            r = s.requests[0]
            lib.eq((r.method, r.target, r.version), ("POST", "/collect", "HTTP/1.1"), "line")
            lib.eq(r.body, b'{"a":1}', "body")
            lib.eq(r.sni, "localhost", "SNI")
            lib.eq(r.tls_version, "TLSv1.2", "TLS version")
            lib.eq(r.header("host"), [f"localhost:{s.port}"], "Host")
            lib.eq(r.header("user-agent"), ["probe/1"], "User-Agent")


def test_tls_server_refusals_with_curl(tmp):
    c = peers.certs()
    cases = [("unknown CA", c.ec, True, c.other_root), ("self-signed", c.selfsigned, True, None),
             ("expired", c.expired, True, None), ("not yet valid", c.notyet, True, None),
             ("other.test", c.other, True, None), ("no intermediate", c.ec, False, None)]
    for name, leaf, chain, ca in cases:
        with peers.TLSServer(leaf, chain=chain) as s:
            p = curl_post(s, ca=ca)
            lib.eq(p.returncode, 60, f"{name}: curl refuses the certificate ({p.stderr!r})")
            lib.eq(s.requests, [], f"{name}: no request arrived")


def test_tls13_only_server(tmp):
    with peers.TLSServer(min_tls=ssl.TLSVersion.TLSv1_3) as s:
        base = ["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}",
                "-servername", "localhost", "-CAfile", peers.certs().root]
        p = run(base + ["-tls1_2"], input_=b"")
        lib.check(p.returncode != 0, f"s_client -tls1_2 fails: {p.stdout[-300:]!r}")
        p = run(base + ["-tls1_3", "-verify_return_error"], input_=b"")
        lib.eq(p.returncode, 0, f"s_client -tls1_3 works: {p.stderr[-300:]!r}")
        p = curl_post(s)
        lib.eq(p.returncode, 0, f"curl (TLS 1.3) works: {p.stderr!r}")


def test_ipv6_and_plain_servers(tmp):
    with peers.TLSServer(host="::1") as s:
        p = curl_post(s, extra=["--resolve", f"localhost:{s.port}:[::1]"])
        lib.eq(p.returncode, 0, f"curl over ::1: {p.stderr!r}")
        lib.eq(len(s.requests), 1, "::1 server got the request")
    with peers.TLSServer(tls=False) as s:
        url = s.url("/x", host="127.0.0.1")
        lib.check(url.startswith("http://127.0.0.1:"), url)
        p = curl(["--noproxy", "*", "-d", "{}", url])
        lib.eq(p.returncode, 0, f"curl plain http: {p.stderr!r}")
        lib.eq((s.requests[0].target, s.requests[0].body, s.requests[0].sni), ("/x", b"{}", None),
               "plain request")


def _tls_client(server, timeout=1.0):
    """Posts a small request with Python's ssl; returns every byte received until the
    server closes or `timeout` passes with nothing more."""
    ctx = ssl.create_default_context(cafile=peers.certs().root)
    raw = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    s = ctx.wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"POST /collect HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}")
    s.settimeout(timeout)
    got = b""
    closed = False
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                closed = True
                break
            got += chunk
    except (socket.timeout, ssl.SSLError, OSError):
        pass
    s.close()
    return got, closed


def test_raw_replies_arrive_verbatim(tmp):
    reply = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\nabcd\r\n0\r\nT: 1\r\n\r\n"
    with peers.TLSServer(reply=reply) as s:
        got, closed = _tls_client(s)
        lib.eq(got, reply, "close mode: bytes")
        lib.check(closed, "close mode closes")
        p = curl_post(s)
        lib.eq((p.returncode, p.stdout), (0, b"abcd"), f"curl decodes the chunked reply {p.stderr!r}")
    with peers.TLSServer(reply=[b"HTTP/1.1 204 No Content\r\n", 0.1, b"\r\n"], mode="keep") as s:
        started = time.monotonic()
        got, closed = _tls_client(s, timeout=0.5)
        lib.eq(got, b"HTTP/1.1 204 No Content\r\n\r\n", "keep mode: bytes")
        lib.check(not closed and time.monotonic() - started >= 0.5, "keep mode keeps it open")
    with peers.TLSServer(reply=b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"
                               b"Content-Length: 2\r\n\r\nok") as s:
        p = curl_post(s)
        lib.eq((p.returncode, p.stdout), (0, b"ok"), f"curl skips the 100: {p.stderr!r}")
    big = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Pad-%04d: %s\r\n" % (i, b"a" * 100)
                                            for i in range(200)) + b"Content-Length: 0\r\n\r\n"
    with peers.TLSServer(reply=big) as s:
        got, _ = _tls_client(s)
        lib.eq(got, big, "a 20 KiB header block arrives whole")


def test_redirects_with_curl(tmp):
    def reply(r, server):
        if r.target == "/collect":
            return b"HTTP/1.1 307 Temporary Redirect\r\nLocation: /second\r\nContent-Length: 0\r\n\r\n"
        return peers.OK_REPLY
    with peers.TLSServer(reply=reply) as s:
        p = curl_post(s, extra=["-L"])
        lib.eq(p.returncode, 0, f"curl -L: {p.stderr!r}")
        lib.eq([(r.method, r.target, r.body) for r in s.requests],
               [("POST", "/collect", b'{"a":1}'), ("POST", "/second", b'{"a":1}')], "requests")


def test_raw_servers_misbehave(tmp):
    with peers.RawServer("silent") as s:
        p = curl_post(s, extra=["--max-time", "0.5"])
        lib.eq(p.returncode, 28, f"silent: curl times out ({p.stderr!r})")
        lib.eq(s.accepted, 1, "silent: accepted")
    with peers.RawServer("hello_stall") as s:
        p = curl_post(s, extra=["--max-time", "0.5"])
        lib.eq(p.returncode, 28, f"hello_stall: curl times out ({p.stderr!r})")
        lib.check(len(s.hellos) == 1 and peers.is_client_hello(s.hellos[0]),
                  f"hello_stall: got a ClientHello {s.hellos!r:.80}")
    with peers.RawServer("hello_close") as s:
        started = time.monotonic()
        p = curl_post(s)
        lib.eq(p.returncode, 35, f"hello_close: curl sees a closed handshake ({p.stderr!r})")
        lib.check(time.monotonic() - started < 2, "hello_close: at once")
        lib.check(peers.is_client_hello(s.hellos[0]), "hello_close: got a ClientHello")
        p = run(["openssl", "s_client", "-connect", f"127.0.0.1:{s.port}", "-tls1_2"], input_=b"")
        lib.check(p.returncode != 0, "hello_close: s_client fails")
    with peers.TLSServer(reply=b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", mode="keep") as s:
        p = curl_post(s, extra=["--max-time", "0.5"])
        lib.eq(p.returncode, 28, f"headers then stall: curl times out ({p.stderr!r})")
        lib.eq(len(s.requests), 1, "headers then stall: request arrived")
    started = time.monotonic()
    with peers.RawServer("silent") as s:
        socket.create_connection(("127.0.0.1", s.port)).close()
        conn = socket.create_connection(("127.0.0.1", s.port))
        time.sleep(0.1)
    conn.close()
    lib.check(time.monotonic() - started < 3, "stop() does not wait for held connections")


def test_silent_dns_times_out_in_mountns(tmp):
    binds = {"/etc/resolv.conf": peers.resolv_conf(tmp), "/etc/hosts": peers.hosts_file(tmp, [])}
    before = open("/etc/hosts").read(), open("/etc/resolv.conf").read()
    with peers.SilentDNS() as dns:
        started = time.monotonic()
        try:
            peers.run_in_mountns(["hosts", "telemetry.test"], binds=binds, timeout=1.5,
                                 binary="getent")
            lib.check(False, "getent returned although DNS never answers")
        except subprocess.TimeoutExpired:
            pass
        lib.check(time.monotonic() - started < 3, "the hung getent was killed")
        lib.check(dns.queries >= 1, "the silent DNS socket received the query")
    lib.eq((open("/etc/hosts").read(), open("/etc/resolv.conf").read()), before,
           "the bind mounts did not leak")
    p, _ = peers.run_in_mountns(["/etc/resolv.conf"], binds=binds, binary="cat")
    lib.eq(p.stdout, b"nameserver 127.0.0.2\n", "resolv.conf inside the namespace")


def test_hosts_with_two_addresses(tmp):
    # glibc sorts 127.0.0.1 first whatever the file order (RFC 6724 rule 9), musl keeps
    # the file order: with 127.0.0.1 listed first both try it first. Nothing listens on
    # 127.0.0.1:PORT; the server is on 127.0.0.3:PORT.
    hosts = peers.hosts_file(tmp, peers.MULTI_HOSTS)
    binds = {"/etc/hosts": hosts}
    p, _ = peers.run_in_mountns(["ahostsv4", "multi.test"], binds=binds, binary="getent")
    addrs = [line.split()[0] for line in p.stdout.decode().splitlines()]
    lib.eq(addrs[0], "127.0.0.1", f"first address ({p.stdout!r})")
    lib.check("127.0.0.3" in addrs, "second address")
    with peers.TLSServer(peers.certs().names, host=peers.MULTI_SERVER) as s:
        with socket.socket() as probe:
            lib.check(probe.connect_ex(("127.0.0.1", s.port)) != 0, "127.0.0.1:PORT refuses")
        url = s.url(host="multi.test")
        p, _ = peers.run_in_mountns(["-sS", "--max-time", "5", "--noproxy", "*", "--cacert",
                                     peers.certs().root, "-d", "{}", url], binds=binds,
                                    binary="curl")
        lib.eq(p.returncode, 0, f"curl falls back to the second address: {p.stderr!r}")
        lib.eq(s.requests[0].sni, "multi.test", "SNI multi.test")


def test_tinyproxy_with_curl(tmp):
    c = peers.certs()
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        p = curl(["--cacert", c.root, "-x", px.url(), "-d", "{}", s.url()])
        lib.eq(p.returncode, 0, f"through tinyproxy: {p.stderr!r} {px.log_text()[-500:]}")
        lib.eq(len(s.requests), 1, "request arrived through the proxy")
        lib.check(f"CONNECT localhost:{s.port} HTTP/1.1" in px.requests(),
                  f"tinyproxy logged the CONNECT: {px.requests()}")
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=("user", "s3cret-pw")) as px:
        p = curl(["--cacert", c.root, "-x", px.url("user", "s3cret-pw"), "-d", "{}", s.url()])
        lib.eq(p.returncode, 0, f"with BasicAuth: {p.stderr!r}")
        p = curl(["-v", "--cacert", c.root, "-x", px.url("user", "wrong"), "-d", "{}", s.url()])
        lib.check(p.returncode == 56 and b"HTTP/1.0 401" in p.stderr,
                  f"wrong password: tinyproxy answers 401 (not 407): {p.stderr[-400:]!r}")
        p = curl(["-v", "--cacert", c.root, "-x", px.url(), "-d", "{}", s.url()])
        lib.check(p.returncode == 56 and b"HTTP/1.0 407" in p.stderr,
                  f"no credentials: tinyproxy answers 407: {p.stderr[-400:]!r}")
        lib.eq(len(s.requests), 1, "only the authorised request arrived")
    with peers.Tinyproxy(tmp) as px:
        p = curl(["-v", "--cacert", c.root, "-x", px.url(), "-d", "{}",
                  f"https://localhost:{peers.free_port()}/collect"])
        lib.check(p.returncode == 56 and b"< HTTP/1.1 500" in p.stderr,
                  f"nothing listening: tinyproxy answers 500 (not 502): {p.stderr[-400:]!r}")


def test_fake_proxy_with_curl(tmp):
    reply = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
    with peers.TLSServer(tls=False, reply=reply) as px:
        p = curl(["-v", "--cacert", peers.certs().root, "-x", f"http://u%40x:p%3Ass@127.0.0.1:{px.port}",
                  "-d", "{}", "https://localhost:9/collect"])
        lib.check(p.returncode == 56 and b"502" in p.stderr, f"curl sees 502: {p.stderr[-300:]!r}")
        r = px.requests[0]
        lib.eq((r.method, r.target), ("CONNECT", "localhost:9"), "CONNECT line")
        want = "Basic " + base64.b64encode(b"u@x:p:ss").decode()
        lib.eq(r.header("proxy-authorization"), [want], "Proxy-Authorization as curl sends it")


def test_report_helpers_without_binary(tmp):
    """The expectation helpers themselves: what a good and a bad run look like."""
    ok = subprocess.CompletedProcess([], 1, b"", b"anontel: certificate not trusted\n")
    lib.check("not trusted" in peers.expect_failure(ok, 1, ["not trusted"], "x"), "one line")
    for bad in (subprocess.CompletedProcess([], 1, b"", b"anontel: a\nanontel: b\n"),
                subprocess.CompletedProcess([], 1, b"", b"error: not trusted\n"),
                subprocess.CompletedProcess([], 2, b"", b"anontel: not trusted\n")):
        try:
            peers.expect_failure(bad, 1, ["not trusted"], "x")
            lib.check(False, f"expect_failure accepted {bad!r}")
        except lib.CheckFailed:
            pass
    body = b'{"ts":"2024-01-01T00:00:00.000Z","data":{"a":1}}'
    lib.eq(peers.mask_ts(body), b'{"ts":"-","data":{"a":1}}', "mask_ts")
    lib.check(os.path.basename(peers.config(tmp, {})).startswith("config-"), "config name")


def test_reply_table_arrives_verbatim(tmp):
    import test_http_replies as t
    for name, reply, mode, _, _ in t.ROWS:
        want = reply if isinstance(reply, bytes) else b"".join(
            p for p in reply if isinstance(p, bytes))
        with peers.TLSServer(reply=reply, mode=mode) as s:
            got, closed = _tls_client(s, timeout=0.3)
            lib.eq(got, want, f"row {name}: bytes")
            lib.eq(closed, mode == "close", f"row {name}: closed after the reply")
