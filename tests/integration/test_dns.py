"""anontel's own resolver (src/dns.c, docs/configuration.md "DNS") against Debian's
dnsmasq, and against hand-made answers for what dnsmasq would never send.

Every run is in a private mount namespace with its own /etc/resolv.conf and /etc/hosts
(peers.run_in_mountns); the DNS servers listen on 127.53.N.x:53 (N from this process,
so test runs sharing the machine's loopback do not meet) and every address a name
resolves to is on loopback. The runs are sandboxed as usual (-v shows it)."""
import os
import time

import lib
import peers
import runs

BASE = f"127.53.{os.getpid() % 250 + 1}"
DNSMASQ, HAND, OTHER, SILENT = BASE + ".1", BASE + ".2", BASE + ".3", BASE + ".4"
NOWHERE = "127.0.0.99"   # nothing listens there

RECORDS = [
    "--local=/dns.test/", "--local=/svc.test/", "--local=/nope.test/",   # NXDOMAIN there
    "--host-record=api.dns.test,127.0.0.1",
    "--host-record=v6only.dns.test,::1",
    "--host-record=real.dns.test,127.0.0.1",
    "--cname=chain.dns.test,mid.dns.test", "--cname=mid.dns.test,real.dns.test",
    "--host-record=api.svc.test,127.0.0.1",
    f"--host-record=hosts.dns.test,{NOWHERE}",
]


def _etc(tmp, resolv, hosts=()):
    """Binds for a namespace whose resolv.conf is `resolv` and /etc/hosts `hosts`."""
    d = os.path.join(tmp, f"etc-{time.monotonic_ns()}")
    os.mkdir(d)
    return {"/etc/resolv.conf": peers.write_file(d, "resolv.conf", resolv),
            "/etc/hosts": peers.hosts_file(d, list(hosts))}


def _dnsmasq(tmp):
    return peers.Dnsmasq(tmp, DNSMASQ, RECORDS)


def _deliver(tmp, host, binds, what, server_host="127.0.0.1", args=("--timeout", "3s")):
    """Reports to https://host:PORT/ (a server on server_host with the dns leaf): it
    must be delivered, SNI host. Returns (CompletedProcess, seconds)."""
    with peers.TLSServer(peers.certs().dns, host=server_host) as s:
        cfg = peers.tls_config(tmp, endpoint=s.url(host=host))
        p, secs = peers.report(tmp, cfg, list(args), mountns=binds)
        peers.expect_delivered(p, s, what)
        lib.eq(s.requests[0].sni, host, f"{what}: SNI")
    return p, secs


def _fails(tmp, host, binds, line, what, env=None, timeout="3s"):
    """Reports to https://host/: exit 1 and exactly the line `anontel: ...line`."""
    cfg = peers.tls_config(tmp, endpoint=f"https://{host}/collect")
    env = env or peers.new_env(tmp)
    p, secs = peers.report(tmp, cfg, ["--timeout", timeout], env=env, mountns=binds)
    got = peers.expect_failure(p, 1, line, what)
    lib.check(got.endswith(line), f"{what}: {got!r} ends with {line!r}")
    return secs


# ---- dnsmasq --------------------------------------------------------------------------

def test_a_record_delivers(tmp):
    with _dnsmasq(tmp) as dns:
        p, _ = _deliver(tmp, "api.dns.test", _etc(tmp, f"nameserver {DNSMASQ}\n"), "A record",
                        args=("--timeout", "3s", "-v"))
        lib.check(b"sandbox: on" in p.stderr, f"sandboxed: {peers.describe(p)}")
        lib.eq(sorted(dns.queries()), [("A", "api.dns.test"), ("AAAA", "api.dns.test")],
               "A and AAAA asked once each")


def test_a_run_asks_once_for_every_kept_message(tmp):
    """Two messages kept while nothing listened, then a run that delivers them and a
    new one (three connections to one name) asks dnsmasq once: an A and an AAAA."""
    env = peers.new_env(tmp)
    port = peers.free_port()
    binds = _etc(tmp, f"nameserver {DNSMASQ}\n")
    cfg = peers.tls_config(tmp, endpoint=f"https://api.dns.test:{port}/collect")
    with _dnsmasq(tmp) as dns:
        for n in (1, 2):
            p, _ = peers.report(tmp, cfg, ["--timeout", "3s"], env=env, mountns=binds)
            lib.eq(p.returncode, 1, f"report {n}, nothing listening ({peers.describe(p)})")
        lib.eq(len(runs.kept_names(env["ANONTEL_STATE_DIR"])), 2, "two messages kept")
        asked = len(dns.queries())
        with peers.TLSServer(peers.certs().dns, port=port) as s:
            p, _ = peers.report(tmp, cfg, ["--timeout", "3s"], env=env, mountns=binds)
            lib.eq(p.returncode, 0, f"the third report delivers ({peers.describe(p)})")
            lib.eq(len(s.requests), 3, "the two kept messages and the new one")
        lib.eq(sorted(dns.queries()[asked:]), [("A", "api.dns.test"), ("AAAA", "api.dns.test")],
               "A and AAAA asked once each for three connections")


def test_aaaa_only_delivers_over_ipv6(tmp):
    with _dnsmasq(tmp):
        _deliver(tmp, "v6only.dns.test", _etc(tmp, f"nameserver {DNSMASQ}\n"), "AAAA ::1",
                 server_host="::1")


def test_cname_chain_followed_within_the_answer(tmp):
    with _dnsmasq(tmp) as dns:
        _deliver(tmp, "chain.dns.test", _etc(tmp, f"nameserver {DNSMASQ}\n"), "CNAME chain")
        lib.eq({q[1] for q in dns.queries()}, {"chain.dns.test"},
               "only the name itself asked: the chain came in the answer")


def test_nxdomain_does_not_resolve_and_keeps_the_message(tmp):
    env = peers.new_env(tmp)
    with _dnsmasq(tmp) as dns:
        secs = _fails(tmp, "nothere.dns.test", _etc(tmp, f"nameserver {DNSMASQ}\n"),
                      "nothere.dns.test: name does not resolve", "NXDOMAIN", env=env)
        lib.check(secs < 1.5, f"NXDOMAIN ends the lookup at once ({secs:.2f}s)")
        lib.check(("A", "nothere.dns.test") in dns.queries(), "dnsmasq was asked")
    lib.eq(len(runs.kept_names(env["ANONTEL_STATE_DIR"])), 1, "the message is kept for later")


def test_search_domains_in_order(tmp):
    with _dnsmasq(tmp) as dns:
        binds = _etc(tmp, f"nameserver {DNSMASQ}\nsearch nope.test svc.test\n")
        _deliver(tmp, "api", binds, "short name through the search list")
        names = [q[1] for q in dns.queries()]
        lib.check(names and set(names[:2]) == {"api.nope.test"} and
                  set(names[2:]) == {"api.svc.test"},
                  f"api.nope.test (NXDOMAIN), then api.svc.test, never 'api': {names}")


def test_ndots(tmp):
    with _dnsmasq(tmp) as dns:
        # ndots 1 (musl's default): a name with a dot is asked as it is, and only so.
        _deliver(tmp, "api.dns.test", _etc(tmp, f"nameserver {DNSMASQ}\nsearch svc.test\n"),
                 "ndots 1")
        lib.eq({q[1] for q in dns.queries()}, {"api.dns.test"}, "ndots 1: no search")
    with _dnsmasq(tmp) as dns:
        # ndots:3: two dots are too few, so the search list comes first.
        binds = _etc(tmp, f"nameserver {DNSMASQ}\nsearch svc.test\noptions ndots:3\n")
        _deliver(tmp, "api.dns.test", binds, "ndots 3")
        names = [q[1] for q in dns.queries()]
        lib.check(set(names[:2]) == {"api.dns.test.svc.test"} and
                  set(names[2:]) == {"api.dns.test"}, f"ndots 3: search first, then as is: {names}")


def test_hosts_file_wins_over_dns(tmp):
    with _dnsmasq(tmp) as dns:
        binds = _etc(tmp, f"nameserver {DNSMASQ}\n", ["# a comment", "127.0.0.1 HOSTS.dns.test"])
        _deliver(tmp, "hosts.dns.test", binds, "/etc/hosts (DNS says 127.0.0.99)")
        lib.eq(dns.queries(), [], "DNS not asked")


def test_every_server_asked_at_once(tmp):
    # The first name server never answers: the second's answer is taken at once.
    with _dnsmasq(tmp), peers.SilentDNS(SILENT) as silent:
        binds = _etc(tmp, f"nameserver {SILENT}\nnameserver {DNSMASQ}\n")
        _, secs = _deliver(tmp, "api.dns.test", binds, "silent first server")
        lib.check(secs < 1.0, f"delivered without waiting for the silent server ({secs:.2f}s)")
        lib.check(silent.queries >= 1, "the silent server was asked too")


def test_probe_resolves_in_its_sandbox(tmp):
    # check (class PROBE) asks DNS too: a UDP socket and getrandom for the query IDs.
    with _dnsmasq(tmp), peers.TLSServer(peers.certs().dns) as s:
        env = peers.new_env(tmp, SSL_CERT_FILE=peers.certs().root)
        p, _ = peers.run_in_mountns(["check", "-v", s.url("/health", host="api.dns.test")],
                                    env=env, binds=_etc(tmp, f"nameserver {DNSMASQ}\n"))
        lib.eq(p.returncode, 0, f"check through DNS: {peers.describe(p)}")
        lib.check(b"sandbox: on" in p.stderr, f"sandboxed: {peers.describe(p)}")
        lib.eq(len(s.requests), 1, "the probe's GET arrived")


# ---- hand-made answers ----------------------------------------------------------------

A_LOOP = bytes([127, 0, 0, 1])
A_NOWHERE = bytes([127, 0, 0, 99])


def _hand(reply):
    return peers.HandDNS(HAND, reply)


def _hand_etc(tmp, options=""):
    return _etc(tmp, f"nameserver {HAND}\n{options}")


def _rcode(rcode, flags=0x81):
    def reply(q, sock):
        sock.sendto(peers.dns_answer(q, rcode=rcode, flags=flags), dns.peer)
    dns = _hand(reply)
    return dns


def test_servfail_and_refused_are_temporary(tmp):
    for rcode, what in ((2, "SERVFAIL"), (5, "REFUSED")):
        with _rcode(rcode) as dns:
            secs = _fails(tmp, "hand.dns.test", _hand_etc(tmp),
                          "hand.dns.test: temporary failure resolving", what)
            lib.check(secs < 1.0, f"{what}: the only server failed, no wait ({secs:.2f}s)")
            lib.check(dns.queries >= 2, f"{what}: A and AAAA asked")


def test_truncated_answer_is_temporary(tmp):
    # TC set: no TCP fallback (as musl 1.2.3).
    with _rcode(0, flags=0x83):
        _fails(tmp, "hand.dns.test", _hand_etc(tmp), "hand.dns.test: temporary failure resolving",
               "TC bit")


def test_no_address_does_not_resolve(tmp):
    with _rcode(0):
        _fails(tmp, "hand.dns.test", _hand_etc(tmp), "hand.dns.test: name does not resolve",
               "NOERROR, no address")


def test_pointer_loop_is_malformed(tmp):
    def reply(q, sock):
        # An answer record whose owner name is a pointer to itself.
        at = len(peers.dns_answer(q))
        loop = bytes([0xc0 | at >> 8, at & 0xff])
        sock.sendto(peers.dns_answer(q, records=[(loop, 1, A_LOOP)]), dns.peer)
    with _hand(reply) as dns:
        _fails(tmp, "hand.dns.test", _hand_etc(tmp),
               "hand.dns.test: resolving failed: malformed answer from the DNS server",
               "pointer loop")


def test_forged_answers_are_ignored(tmp):
    # Before each real answer come three forgeries pointing at 127.0.0.99: a wrong ID, a
    # wrong question, and the right ID and question from another address. Taking any
    # would send the report to 127.0.0.99, where nothing listens.
    other = peers.HandDNS(OTHER, lambda q, s: None)

    def reply(q, sock):
        qid, name, qtype, _ = peers.dns_question(q)
        rtype, rd = (1, A_NOWHERE) if qtype == 1 else (28, bytes(15) + b"\x63")
        forged = [(b"\xc0\x0c", rtype, rd)]
        sock.sendto(peers.dns_answer(q, records=forged, qid=qid ^ 0x5555), dns.peer)
        wrong_q = b"\x05other\x03dns\x04test\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"
        sock.sendto(peers.dns_answer(q, records=forged, question=wrong_q), dns.peer)
        other._s.sendto(peers.dns_answer(q, records=forged), dns.peer)
        time.sleep(0.05)
        real = [(b"\xc0\x0c", 1, A_LOOP)] if qtype == 1 else []
        sock.sendto(peers.dns_answer(q, records=real), dns.peer)
    try:
        with _hand(reply) as dns:
            _deliver(tmp, "hand.dns.test", _hand_etc(tmp), "after forgeries")
            lib.check(dns.queries >= 2, "A and AAAA asked")
    finally:
        other.stop()


def test_silent_server_gives_up_after_resolv_conf_timeout(tmp):
    # options timeout:1 attempts:2: one second in all, the questions sent twice; the
    # deadline (3 s) is not reached, so it is the servers' failure, not a timeout.
    with _hand(lambda q, s: None) as dns:
        secs = _fails(tmp, "hand.dns.test", _hand_etc(tmp, "options timeout:1 attempts:2\n"),
                      "hand.dns.test: temporary failure resolving", "silent, timeout:1")
        lib.check(0.9 <= secs <= 1.6, f"gave up after {secs:.2f}s (timeout:1)")
        lib.eq(dns.queries, 4, "A and AAAA, sent twice")


def test_silent_server_ends_at_the_deadline(tmp):
    # musl's default timeout (5 s) is longer than --timeout 1s: the deadline wins.
    with _hand(lambda q, s: None):
        secs = _fails(tmp, "hand.dns.test", _hand_etc(tmp), "hand.dns.test: resolving timed out",
                      "silent, deadline", timeout="1s")
        lib.check(0.9 <= secs <= 1.3, f"ended after {secs:.2f}s (deadline 1 s)")


def test_a_flood_of_junk_ends_at_the_deadline(tmp):
    # After the first query the server sends answers to another question (right ID,
    # wrong name) for 4 s, faster than anontel (under memcheck, many times slower) can
    # read and refuse them: a socket that never runs dry must not hold the lookup past
    # --timeout 1s.
    def reply(q, sock):
        if dns.queries > 1:
            return
        qtype = peers.dns_question(q)[2]
        wrong_q = b"\x05other\x03dns\x04test\x00" + qtype.to_bytes(2, "big") + b"\x00\x01"
        junk = peers.dns_answer(q, records=[(b"\xc0\x0c", 1, A_NOWHERE)], question=wrong_q)
        until = time.monotonic() + 4
        while time.monotonic() < until:
            sock.sendto(junk, dns.peer)
    with _hand(reply) as dns:
        cfg = peers.tls_config(tmp, endpoint="https://hand.dns.test/collect")
        env = peers.new_env(tmp)
        env["ANONTEL_SANDBOX"] = "off"      # valgrind does not model seccomp
        args = ["--tool=memcheck", "-q", "--log-file=" + os.path.join(tmp, "vg.log"), lib.BIN,
                "report", "--force", "-c", cfg, "--timeout", "1s"]
        p, secs = peers.run_in_mountns(args, env=env, binds=_hand_etc(tmp), binary="valgrind",
                                       timeout=20)
    peers.expect_failure(p, 1, "hand.dns.test: resolving timed out", "junk flood")
    lib.check(secs < 2.5, f"junk flood: ended after {secs:.2f}s (deadline 1 s)")
