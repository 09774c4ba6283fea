"""`anontel report --force` delivers the message `show` prints, over verified TLS 1.2,
to real servers on loopback (SPEC §6): request line, headers, SNI, body."""
import lib
import peers


def _deliver(tmp, leaf, what, **server):
    with peers.TLSServer(leaf, **server) as s:
        cfg = peers.tls_config(tmp, s)
        env = peers.new_env(tmp)
        expected = peers.show(tmp, cfg, env)
        p, _ = peers.report(tmp, cfg, env=env)
        peers.expect_delivered(p, s, what)
        r = s.requests[0]
        lib.eq(r.sni, "localhost", f"{what}: SNI")
        lib.eq(r.tls_version, "TLSv1.2", f"{what}: TLS version")
        peers.check_request(r, f"localhost:{s.port}", expected, what)
    return r


def test_delivers_to_ecdsa_server(tmp):
    _deliver(tmp, peers.certs().ec, "ECDSA P-256")


def test_delivers_to_rsa_server(tmp):
    _deliver(tmp, peers.certs().rsa, "RSA-2048")


def test_all_rsa_chains(tmp):
    """All-RSA chains made by OpenSSL (peers.rsa_pki): RSA-2048, 3072 and 4096 with
    e = 65537, and RSA-2048 with e = 3. Each delivery checks three RSA signatures with
    src/rsa.c: the intermediate's by the root and the leaf's by the intermediate (the
    X.509 engine), and the ServerKeyExchange's by the leaf (ECDHE_RSA)."""
    for bits, e in ((2048, 65537), (3072, 65537), (4096, 65537), (2048, 3)):
        root, leaf = peers.rsa_pki(bits, e)
        what = f"RSA-{bits}, e = {e}"
        with peers.TLSServer(leaf) as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s, ca=root))
            peers.expect_delivered(p, s, what)
            lib.eq(s.requests[0].tls_version, "TLSv1.2", f"{what}: TLS version")


def test_key_exchange_on_each_curve(tmp):
    """A server with one ECDHE curve: P-256 (our p256_ec, src/p256.c; BearSSL's hello
    lists it first, so servers that follow the client's order pick it), X25519 (ours),
    P-384 (BearSSL's). Every suite anontel offers is ECDHE, so a delivery proves that
    curve did the key exchange; and a server left only a curve anontel does not offer
    (P-224) is refused, which shows the setting holds."""
    for curve, what in (("prime256v1", "P-256"), ("X25519", "X25519"), ("secp384r1", "P-384")):
        _deliver(tmp, peers.certs().ec, f"ECDHE {what}", ecdh_curve=curve)
        _deliver(tmp, peers.certs().rsa, f"ECDHE {what}, RSA", ecdh_curve=curve)
    with peers.TLSServer(ecdh_curve="secp224r1") as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "5s"])
        peers.expect_failure(p, 1, ["handshake_failure"], "ECDHE P-224 only")
        lib.eq(s.requests, [], "ECDHE P-224 only: no request")


def test_each_cipher_suite_offered(tmp):
    """The four suites anontel offers (ECDHE with ECDSA or RSA, AES-128-GCM-SHA256 or
    AES-256-GCM-SHA384), each the only one a server accepts, deliver; a server that
    accepts only ChaCha20-Poly1305 (not offered: every server with ECDHE has AES-GCM)
    is refused with a handshake failure and sees no request."""
    for leaf, kind in ((peers.certs().ec, "ECDSA"), (peers.certs().rsa, "RSA")):
        for aes in ("AES128-GCM-SHA256", "AES256-GCM-SHA384"):
            suite = f"ECDHE-{kind}-{aes}"
            r = _deliver(tmp, leaf, suite, ciphers=suite, max_tls=peers.ssl.TLSVersion.TLSv1_2)
            lib.eq(r.cipher, suite, "the suite used")
        with peers.TLSServer(leaf, ciphers=f"ECDHE-{kind}-CHACHA20-POLY1305",
                             max_tls=peers.ssl.TLSVersion.TLSv1_2) as s:
            p, _ = peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "5s"])
            peers.expect_failure(p, 1, ["handshake_failure"], f"{kind}: ChaCha20 only")
            lib.eq(s.requests, [], f"{kind}: ChaCha20 only: no request")


def test_ssl_cert_file_names_the_ca(tmp):
    with peers.TLSServer() as s:
        cfg = peers.config(tmp, {"endpoint": s.url()})
        p, _ = peers.report(tmp, cfg, env=peers.new_env(tmp, SSL_CERT_FILE=peers.certs().root))
        peers.expect_delivered(p, s, "SSL_CERT_FILE")


def test_endpoint_flag_overrides_config(tmp):
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, endpoint="https://localhost:1/never")
        p, _ = peers.report(tmp, cfg, ["--endpoint", s.url("/flag")])
        peers.expect_delivered(p, s, "--endpoint")
        lib.eq(s.requests[0].target, "/flag", "path from the flag")


def test_endpoint_from_environment(tmp):
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, endpoint="https://localhost:1/never")
        p, _ = peers.report(tmp, cfg, env=peers.new_env(tmp, ANONTEL_ENDPOINT=s.url("/env")))
        peers.expect_delivered(p, s, "ANONTEL_ENDPOINT")
        lib.eq(s.requests[0].target, "/env", "path from the environment")


def test_path_and_query_are_sent(tmp):
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, s, endpoint=s.url("/api/butlerTelemetry?x=1&y=2"))
        p, _ = peers.report(tmp, cfg)
        peers.expect_delivered(p, s, "path with query")
        lib.eq(s.requests[0].target, "/api/butlerTelemetry?x=1&y=2", "request target")


def test_http_to_loopback_delivers(tmp):
    with peers.TLSServer(tls=False) as s:
        cfg = peers.config(tmp, {"endpoint": s.url("/x", host="127.0.0.1")})
        env = peers.new_env(tmp)
        expected = peers.show(tmp, cfg, env)
        p, _ = peers.report(tmp, cfg, env=env)
        peers.expect_delivered(p, s, "http://127.0.0.1")
        peers.check_request(s.requests[0], f"127.0.0.1:{s.port}", expected, "http://127.0.0.1",
                            path="/x")


def test_http_to_other_hosts_refused_without_traffic(tmp):
    # Inside a mount namespace whose resolver is a silent socket on 127.0.0.2: if the
    # binary tried to resolve example.com, the socket would count a query.
    binds = {"/etc/resolv.conf": peers.resolv_conf(tmp), "/etc/hosts": peers.hosts_file(tmp, [])}
    # (Only names here, never an address literal: a faulty binary must not reach out.)
    for url in ("http://example.com/x", "http://example.com:8080/x", "http://localhost.test/x"):
        for how in ("config", "flag"):
            with peers.SilentDNS() as dns:
                if how == "config":
                    cfg, args = peers.config(tmp, {"endpoint": url}), ["--timeout", "1s"]
                else:
                    cfg, args = None, ["--endpoint", url, "--timeout", "1s"]
                p, secs = peers.report(tmp, cfg, args, mountns=binds, timeout=10)
                peers.expect_failure(p, 2, ["http://"], f"{url} ({how})")
                lib.eq(dns.queries, 0, f"{url} ({how}): no DNS query")
                lib.check(secs < 0.5, f"{url} ({how}): refused at once ({secs:.2f}s)")


def test_ipv6_loopback(tmp):
    # localhost -> ::1 only, in a private /etc/hosts; the server listens on ::1 alone.
    binds = {"/etc/hosts": peers.hosts_file(tmp, ["::1 localhost"])}
    with peers.TLSServer(host="::1") as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), mountns=binds)
        peers.expect_delivered(p, s, "over ::1")
        lib.eq(s.requests[0].header("host"), [f"localhost:{s.port}"], "Host over ::1")


def test_ipv6_literal_http(tmp):
    with peers.TLSServer(host="::1", tls=False) as s:
        cfg = peers.config(tmp, {"endpoint": f"http://[::1]:{s.port}/x"})
        p, _ = peers.report(tmp, cfg)
        peers.expect_delivered(p, s, "http://[::1]")
        lib.eq(s.requests[0].header("host"), [f"[::1]:{s.port}"], "Host for an IPv6 literal")


def test_verbose_delivery_stays_quiet_on_stdout(tmp):
    with peers.TLSServer() as s:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), ["-v"])
        peers.expect_delivered(p, s, "-v")
        lib.check(b"-----BEGIN" not in p.stderr, "no PEM in verbose output")


def test_nothing_listening_is_refused_fast(tmp):
    port = peers.free_port()
    cfg = peers.tls_config(tmp, endpoint=f"https://localhost:{port}/collect")
    p, secs = peers.report(tmp, cfg, ["--timeout", "5s"])
    peers.expect_failure(p, 1, ["refused"], "nothing listening")
    lib.check(secs < 1, f"connection refused ends at once ({secs:.2f}s)")


def test_show_has_the_contract_shape(tmp):
    body = peers.show(tmp, peers.config(tmp, {}))
    msg = lib.strict_json(body)
    lib.eq(list(msg), ["ts", "data"], "top-level keys")
    lib.check(isinstance(msg["data"], dict), "data is an object")
