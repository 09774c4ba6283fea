"""One deadline covers DNS, connect, proxy CONNECT, TLS, request and response (SPEC §6):
with `--timeout 1s` every stalled peer ends the run within 1.1 s, exit 1, one line."""
import os

import lib
import peers
import runs

LIMIT = 1.1
TIMED_OUT = ["timed out", "timeout", "deadline"]


def _times_out(tmp, cfg, what, words=TIMED_OUT, env=None, mountns=None, args=("--timeout", "1s")):
    p, secs = peers.report(tmp, cfg, list(args), env=env, mountns=mountns, timeout=10)
    line = peers.expect_failure(p, 1, words, what)
    lib.check(secs <= LIMIT, f"{what}: ended after {secs:.3f}s (limit {LIMIT}s)")
    lib.check(secs >= 0.8, f"{what}: ended after {secs:.3f}s, before the deadline: {line!r}")
    return line


def test_server_accepts_and_never_answers(tmp):
    with peers.RawServer("silent") as s:
        _times_out(tmp, peers.tls_config(tmp, s), "silent server")
        lib.eq(s.accepted, 1, "the server accepted")


def test_server_stalls_in_the_handshake(tmp):
    with peers.RawServer("hello_stall") as s:
        _times_out(tmp, peers.tls_config(tmp, s), "stall after ClientHello")
        lib.check(peers.is_client_hello(s.hellos[0]), "ClientHello received")


def test_server_stalls_in_the_body(tmp):
    reply = b"HTTP/1.1 503 Busy\r\nContent-Length: 100\r\n\r\n"
    with peers.TLSServer(reply=reply, mode="keep") as s:
        _times_out(tmp, peers.tls_config(tmp, s), "headers then stall")
        lib.eq(len(s.requests), 1, "the request arrived")


def test_a_2xx_whose_body_stalls_is_delivered(tmp):
    # SPEC §11: the 2xx status line is the answer; the body not finishing before the
    # deadline does not make the message undelivered (sending it again would duplicate it).
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
    env = peers.new_env(tmp)
    with peers.TLSServer(reply=reply, mode="keep") as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "1s"], env=env)
        peers.expect_delivered(p, s, "200 then stall")
        lib.check(secs <= LIMIT, f"200 then stall: ended after {secs:.3f}s (limit {LIMIT}s)")
    lib.eq(runs.kept_names(env["ANONTEL_STATE_DIR"]), [], "nothing kept to send again")
    lib.eq(len(runs.log_names(env["ANONTEL_STATE_DIR"])), 1, "logged as delivered")


def test_server_stalls_in_the_headers(tmp):
    with peers.TLSServer(reply=b"HTTP/1.1 200 OK\r\nContent-", mode="keep") as s:
        _times_out(tmp, peers.tls_config(tmp, s), "half a header")


def test_server_trickles_slower_than_the_deadline(tmp):
    # A byte every 0.2 s: each read succeeds, only the overall deadline ends it.
    reply = [b"HTTP/1.1 503 Busy\r\nContent-Length: 50\r\n\r\n"]
    for _ in range(40):
        reply += [0.2, b"x"]
    with peers.TLSServer(reply=reply, mode="keep") as s:
        _times_out(tmp, peers.tls_config(tmp, s), "trickling body")


def test_timeout_from_config(tmp):
    with peers.RawServer("silent") as s:
        _times_out(tmp, peers.tls_config(tmp, s, timeout="1s"), "config timeout", args=())


def test_timeout_in_milliseconds(tmp):
    with peers.RawServer("silent") as s:
        p, secs = peers.report(tmp, peers.tls_config(tmp, s), ["--timeout", "300ms"])
        peers.expect_failure(p, 1, TIMED_OUT, "300ms")
        lib.check(0.25 <= secs <= 0.45, f"--timeout 300ms ended after {secs:.3f}s")


def test_dns_never_answers(tmp):
    binds = {"/etc/resolv.conf": peers.resolv_conf(tmp), "/etc/hosts": peers.hosts_file(tmp, [])}
    with peers.SilentDNS() as dns:
        cfg = peers.tls_config(tmp, endpoint="https://telemetry.test/x")
        _times_out(tmp, cfg, "silent DNS", words=["resolv", "timed out"], mountns=binds)
        lib.check(dns.queries >= 1, "the resolver did ask the silent server")


def test_proxy_never_answers_connect(tmp):
    with peers.TLSServer() as s, peers.TLSServer(tls=False, reply=b"", mode="keep") as px:
        env = peers.new_env(tmp, https_proxy=f"http://127.0.0.1:{px.port}")
        _times_out(tmp, peers.tls_config(tmp, s), "silent proxy", env=env)
        lib.eq([r.method for r in px.requests], ["CONNECT"], "the proxy got the CONNECT")
        lib.eq(s.requests, [], "nothing reached the server")


def test_first_address_refuses_second_delivers(tmp):
    # multi.test has two addresses; nothing listens on the first (see peers.MULTI_HOSTS).
    binds = {"/etc/hosts": peers.hosts_file(tmp, peers.MULTI_HOSTS)}
    with peers.TLSServer(peers.certs().names, host=peers.MULTI_SERVER) as s:
        cfg = peers.tls_config(tmp, endpoint=s.url(host="multi.test"))
        p, secs = peers.report(tmp, cfg, ["--timeout", "2s"], mountns=binds)
        peers.expect_delivered(p, s, "second address")
        lib.eq(s.requests[0].sni, "multi.test", "SNI")
        lib.check(secs < 1.0, f"delivered well within the deadline ({secs:.3f}s)")


def test_ipv6_refuses_ipv4_delivers(tmp):
    # v6.test -> ::1 (nothing listens there on PORT), then 127.0.0.1 (the server).
    binds = {"/etc/hosts": peers.hosts_file(tmp, ["::1 v6.test", "127.0.0.1 v6.test"])}
    with peers.TLSServer(peers.certs().names) as s:
        cfg = peers.tls_config(tmp, endpoint=s.url(host="v6.test"))
        p, secs = peers.report(tmp, cfg, ["--timeout", "2s"], mountns=binds)
        peers.expect_delivered(p, s, "IPv4 after IPv6")
        lib.check(secs < 1.0, f"delivered well within the deadline ({secs:.3f}s)")


def test_deadline_is_shared_across_addresses(tmp):
    # multi.test has two addresses, a stalling server on each (same port): the whole
    # run still ends at the one deadline, not one deadline per address.
    binds = {"/etc/hosts": peers.hosts_file(tmp, peers.MULTI_HOSTS)}
    with peers.RawServer("hello_stall") as a, \
            peers.RawServer("hello_stall", host=peers.MULTI_SERVER, port=a.port) as b:
        cfg = peers.tls_config(tmp, endpoint=f"https://multi.test:{a.port}/x")
        _times_out(tmp, cfg, "stalled on every address", mountns=binds)
        lib.check(a.accepted + b.accepted >= 1, "a server accepted")
