"""Delivery through an HTTP proxy with CONNECT (SPEC §2, §6, §8): Debian's tinyproxy for
the real thing, a scripted proxy (peers.TLSServer(tls=False)) for exact replies and to
see the CONNECT request as sent. Credentials never appear in anontel's output.

Note: tinyproxy 1.11 answers a wrong password with 401 (and missing credentials with
407); the scripted proxy gives the textbook 407 for a wrong password."""
import base64

import lib
import peers

USER, PASSWORD = "px-user", "Pr0xy-S3cret-pw"
B64 = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
REPLY_502 = b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"
REPLY_407 = (b"HTTP/1.1 407 Proxy Authentication Required\r\n"
             b"Proxy-Authenticate: Basic realm=\"t\"\r\nContent-Length: 0\r\n\r\n")


def _connects(px, s):
    return [r for r in px.requests() if r == f"CONNECT localhost:{s.port} HTTP/1.1"]


def _no_secrets(p, what):
    out = p.stdout + p.stderr
    for secret in (PASSWORD.encode(), B64.encode(), PASSWORD[:8].encode()):
        lib.check(secret not in out, f"{what}: output shows a credential ({secret!r}): {out!r}")


def test_https_proxy_delivers_through_tinyproxy(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, https_proxy=px.url())
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, "via tinyproxy")
        lib.eq(len(_connects(px, s)), 1, f"tinyproxy logged the CONNECT: {px.requests()}")
        lib.eq(s.requests[0].sni, "localhost", "SNI through the tunnel")


def test_connect_request_as_sent(tmp):
    with peers.TLSServer(tls=False, reply=REPLY_502) as px:
        env = peers.new_env(tmp, https_proxy=f"http://127.0.0.1:{px.port}")
        cfg = peers.tls_config(tmp, endpoint="https://localhost:4433/collect")
        peers.report(tmp, cfg, env=env)
        lib.eq(len(px.requests), 1, "one CONNECT")
        r = px.requests[0]
        lib.eq((r.method, r.target, r.version), ("CONNECT", "localhost:4433", "HTTP/1.1"),
               "CONNECT line")
        lib.eq(r.header("host"), ["localhost:4433"], "Host of the CONNECT")
        lib.eq(r.header("proxy-authorization"), [], "no credentials when none are given")
        lib.eq(r.body, b"", "nothing after the CONNECT head")


def test_proxy_basic_auth(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(USER, PASSWORD)) as px:
        env = peers.new_env(tmp, https_proxy=px.url(USER, PASSWORD))
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), ["-v"], env=env)
        peers.expect_delivered(p, s, "BasicAuth via tinyproxy")
        _no_secrets(p, "-v, delivered through an authenticating proxy")
        lib.eq(s.requests[0].header("proxy-authorization"), [], "credentials stay with the proxy")


def test_proxy_credentials_are_percent_decoded(tmp):
    with peers.TLSServer(tls=False, reply=REPLY_407) as px:
        env = peers.new_env(tmp, https_proxy=f"http://u%40x:p%3Ass@127.0.0.1:{px.port}")
        p, _ = peers.report(tmp, peers.tls_config(tmp, endpoint="https://localhost:4433/c"), env=env)
        peers.expect_failure(p, 1, ["407"], "407 from the proxy")
        want = "Basic " + base64.b64encode(b"u@x:p:ss").decode()
        lib.eq(px.requests[0].header("proxy-authorization"), [want], "Proxy-Authorization")


def test_proxy_wrong_password_tinyproxy(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(USER, PASSWORD + "x")) as px:
        env = peers.new_env(tmp, https_proxy=px.url(USER, PASSWORD))
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_failure(p, 1, ["401", "407"], "wrong proxy password (tinyproxy: 401)")
        _no_secrets(p, "wrong password")
        lib.eq(s.requests, [], "nothing reached the server")
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), ["-v"], env=env)
        lib.eq(p.returncode, 1, "wrong password with -v")
        _no_secrets(p, "-v, wrong password")


def test_proxy_without_credentials_gets_407(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(USER, PASSWORD)) as px:
        env = peers.new_env(tmp, https_proxy=px.url())
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_failure(p, 1, ["407"], "no credentials")
        lib.eq(s.requests, [], "nothing reached the server")


def test_proxy_wrong_password_scripted_407(tmp):
    with peers.TLSServer(tls=False, reply=REPLY_407) as px:
        env = peers.new_env(tmp, https_proxy=f"http://{USER}:{PASSWORD}@127.0.0.1:{px.port}")
        for args in ([], ["-v"]):
            p, _ = peers.report(tmp, peers.tls_config(tmp, endpoint="https://localhost:4433/c"),
                                args, env=env)
            if not args:
                peers.expect_failure(p, 1, ["407"], "scripted 407")
            lib.eq(p.returncode, 1, f"407 {args}")
            _no_secrets(p, f"407 {args}")
        lib.eq(px.requests[0].header("proxy-authorization"), ["Basic " + B64], "credentials sent")


def test_proxy_answers_502(tmp):
    with peers.TLSServer(tls=False, reply=REPLY_502) as px:
        env = peers.new_env(tmp, https_proxy=f"http://127.0.0.1:{px.port}")
        p, _ = peers.report(tmp, peers.tls_config(tmp, endpoint="https://localhost:4433/c"), env=env)
        peers.expect_failure(p, 1, ["502"], "proxy 502")


def test_tinyproxy_cannot_connect_500(tmp):
    with peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, https_proxy=px.url())
        cfg = peers.tls_config(tmp, endpoint=f"https://localhost:{peers.free_port()}/c")
        p, _ = peers.report(tmp, cfg, env=env)
        peers.expect_failure(p, 1, ["500"], "tinyproxy: unable to connect")


def test_proxy_not_listening(tmp):
    env = peers.new_env(tmp, https_proxy=f"http://127.0.0.1:{peers.free_port()}")
    with peers.TLSServer() as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_failure(p, 1, ["refused", "proxy"], "proxy not listening")
        lib.eq(s.requests, [], "no direct delivery behind the proxy's back")
        lib.check(secs < 1, f"refused at once ({secs:.2f}s)")


def _bypass(tmp, no_proxy, host="localhost", leaf=None, mountns=None, var="NO_PROXY"):
    with peers.TLSServer(leaf) as s, peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, https_proxy=px.url(), **{var: no_proxy})
        p, _ = peers.report(tmp, peers.tls_config(tmp, endpoint=s.url(host=host)), env=env,
                            mountns=mountns)
        peers.expect_delivered(p, s, f"{var}={no_proxy}")
        lib.eq(px.requests(), [], f"{var}={no_proxy}: the proxy saw nothing")


def test_no_proxy_exact_host(tmp):
    _bypass(tmp, "localhost")


def test_no_proxy_star(tmp):
    _bypass(tmp, "*")


def test_no_proxy_lowercase(tmp):
    _bypass(tmp, "localhost", var="no_proxy")


def test_no_proxy_list_with_spaces(tmp):
    _bypass(tmp, "example.com, localhost ,other.test")


def test_no_proxy_domain_suffix(tmp):
    binds = {"/etc/hosts": peers.hosts_file(tmp, ["127.0.0.1 svc.test"])}
    for entry in (".test", "test", "svc.test"):
        _bypass(tmp, entry, host="svc.test", leaf=peers.certs().names, mountns=binds)


def _via_proxy_entry(tmp, entry):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, https_proxy=px.url(), NO_PROXY=entry)
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, f"NO_PROXY={entry}")
        lib.eq(len(_connects(px, s)), 1, f"NO_PROXY={entry} does not match localhost")


def test_no_proxy_that_does_not_match(tmp):
    for entry in ("example.com", "host", "calhost", "localhost.test"):
        _via_proxy_entry(tmp, entry)


def test_uppercase_https_proxy(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, HTTPS_PROXY=px.url())
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, "HTTPS_PROXY")
        lib.eq(len(_connects(px, s)), 1, "through the proxy")


def test_lowercase_https_proxy_wins(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px, \
            peers.TLSServer(tls=False, reply=REPLY_502) as other:
        env = peers.new_env(tmp, https_proxy=px.url(),
                            HTTPS_PROXY=f"http://127.0.0.1:{other.port}")
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, "both set")
        lib.eq(len(_connects(px, s)), 1, "through the lowercase proxy")
        lib.eq(other.requests, [], "the uppercase proxy saw nothing")


def test_lowercase_no_proxy_wins(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        env = peers.new_env(tmp, https_proxy=px.url(), no_proxy="example.com", NO_PROXY="*")
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, "no_proxy over NO_PROXY")
        lib.eq(len(_connects(px, s)), 1, "no_proxy=example.com does not bypass")


def test_all_proxy(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp) as px:
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=peers.new_env(tmp, all_proxy=px.url()))
        peers.expect_delivered(p, s, "all_proxy")
        lib.eq(len(_connects(px, s)), 1, "through the proxy")


def test_proxy_from_config(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(USER, PASSWORD)) as px:
        cfg = peers.tls_config(tmp, s, proxy=px.url(USER, PASSWORD))
        p, _ = peers.report(tmp, cfg, ["-v"])
        peers.expect_delivered(p, s, "config proxy")
        lib.eq(len(_connects(px, s)), 1, "through the proxy")
        _no_secrets(p, "-v, config proxy")


def test_http_proxy_is_not_used_for_https(tmp):
    with peers.TLSServer() as s, peers.TLSServer(tls=False, reply=REPLY_502) as px:
        env = peers.new_env(tmp, http_proxy=f"http://127.0.0.1:{px.port}",
                            HTTP_PROXY=f"http://127.0.0.1:{px.port}")
        p, _ = peers.report(tmp, peers.tls_config(tmp, s), env=env)
        peers.expect_delivered(p, s, "http_proxy ignored")
        lib.eq(px.requests, [], "the http_proxy saw nothing")


def test_privacy_body_has_no_proxy_credentials(tmp):
    with peers.TLSServer() as s, peers.Tinyproxy(tmp, auth=(USER, PASSWORD)) as px:
        cfg = peers.tls_config(tmp, s, proxy=px.url(USER, PASSWORD))
        p, _ = peers.report(tmp, cfg)
        peers.expect_delivered(p, s, "config proxy")
        r = s.requests[0]
        for secret in (USER.encode(), PASSWORD.encode(), B64.encode()):
            lib.check(secret not in r.head + r.body, f"request shows {secret!r}")
