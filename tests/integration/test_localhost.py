"""`localhost` and names ending `.localhost` are loopback without asking DNS (RFC 6761;
SPEC §11 "TLS and HTTP"): the http-only-to-loopback rule can never be met by a
resolver's answer.

Each run is in a private mount namespace whose /etc/hosts has no localhost line and
whose /etc/resolv.conf names a silent DNS server the test runs on a 127.x address:
a resolver lookup of the name would be seen there (and would hang until the deadline).
The servers listen on 127.0.0.1 or ::1 only. The last test runs in a private network
namespace (only `lo`) whose /etc/hosts maps localhost to a documentation address that
has no route there, so nothing can leave it."""
import json
import os
import shutil
import socket
import subprocess
import sys

import lib
import peers
import runs

# Addresses for the silent DNS server: not 127.0.0.2, which other tests' SilentDNS uses
# (other test runs may share this machine's loopback at the same time).
DNS_ADDRS = ["127.0.53.53", "127.53.0.53", "127.0.53.54", "127.53.0.54"]
OTHER_HOSTS = ["127.0.0.2 other"]
NAMES = ["localhost", "a.b.localhost", "LocalHost", "x.LOCALHOST"]
# A documentation address (RFC 5737) with no route inside the private network namespace.
NOWHERE = "203.0.113.77"


def _silent_dns():
    for addr in DNS_ADDRS:
        try:
            return peers.SilentDNS(addr)
        except OSError:
            continue
    raise lib.CheckFailed(f"cannot bind a silent DNS server on any of {DNS_ADDRS}")


def _binds(tmp, dns, hosts=OTHER_HOSTS):
    return {"/etc/hosts": peers.hosts_file(tmp, hosts, name="hosts-nolocalhost"),
            "/etc/resolv.conf": peers.resolv_conf(tmp, dns.addr)}


def _in_ns(tmp, dns, args, env_):
    return peers.run_in_mountns(args, env=env_, binds=_binds(tmp, dns), timeout=20)


def test_namespace_really_asks_the_silent_server(tmp):
    # The set-up itself: a name the hosts file lacks is asked of the silent server, so
    # "no query" below means anontel did not ask.
    with _silent_dns() as dns:
        try:
            peers.run_in_mountns(["hosts", "nothere.test"], binds=_binds(tmp, dns),
                                 timeout=1.5, binary="getent")
        except subprocess.TimeoutExpired:
            pass
        runs.wait_for(lambda: dns.queries >= 1, "the silent DNS server to see getent's query",
                      timeout=3)
        p, _ = peers.run_in_mountns(["/etc/hosts"], binds=_binds(tmp, dns), binary="cat")
        lib.eq(p.stdout, b"127.0.0.2 other\n", "the namespace's /etc/hosts")


def test_report_to_localhost_names_asks_no_dns(tmp):
    with _silent_dns() as dns, runs.Server() as s:
        for name in NAMES:
            before = len(s.posts)
            url = f"http://{name}:{s.port}/t"
            e = peers.new_env(tmp, ANONTEL_ENDPOINT=url)
            p, _ = _in_ns(tmp, dns, ["report", "--force", "--timeout", "3s"], e)
            lib.eq(p.returncode, 0, f"report to {url}: delivered ({runs.describe(p)})")
            lib.eq(len(s.posts), before + 1, f"report to {url}: the server got the message")
            r = s.posts[-1]
            lib.eq([h.lower() for h in r.header("Host")], [f"{name.lower()}:{s.port}"],
                   f"{url}: Host header (names are case-insensitive)")
            lib.strict_json(r.body)
            lib.eq(dns.queries, 0, f"report to {url}: DNS queries sent")


def test_check_localhost_names_asks_no_dns(tmp):
    with _silent_dns() as dns, runs.Server() as s:
        for name in NAMES:
            before = len(s.gets)
            url = f"http://{name}:{s.port}/health"
            p, _ = _in_ns(tmp, dns, ["check", url, "--timeout", "3s"], lib.base_env())
            lib.eq(p.returncode, 0, f"check {url}: healthy ({runs.describe(p)})")
            lib.eq(len(s.gets), before + 1, f"check {url}: the server got the GET")
            lib.eq(s.gets[-1].target, "/health", f"check {url}: path")
            lib.eq(dns.queries, 0, f"check {url}: DNS queries sent")


def _v6_only_server():
    """A plain HTTP server on [::1] at a port where nothing listens on 127.0.0.1."""
    for _ in range(20):
        try:
            s = peers.TLSServer(tls=False, host=peers.LOOPBACK6)
        except OSError as e:
            raise lib.CheckFailed(f"cannot bind [::1] for the IPv6 loopback test: {e}")
        with socket.socket() as probe:
            try:
                probe.bind((peers.LOOPBACK4, s.port))
                return s
            except OSError:
                s.stop()
    raise lib.CheckFailed("no port free on both ::1 and 127.0.0.1")


def test_localhost_reaches_ipv6_loopback_without_dns(tmp):
    # localhost is 127.0.0.1 *and* ::1: a service that listens on [::1] only is reached.
    with _silent_dns() as dns, _v6_only_server() as s:
        url = f"http://localhost:{s.port}/health"
        p, _ = _in_ns(tmp, dns, ["check", url, "--timeout", "3s"], lib.base_env())
        lib.eq(p.returncode, 0, f"check {url} (server on [::1] only): ({runs.describe(p)})")
        lib.eq([r.method for r in s.requests], ["GET"], "the [::1] server got the GET")
        lib.eq(dns.queries, 0, f"check {url}: DNS queries sent")
        e = peers.new_env(tmp, ANONTEL_ENDPOINT=f"http://a.localhost:{s.port}/t")
        p, _ = _in_ns(tmp, dns, ["report", "--force", "--timeout", "3s"], e)
        lib.eq(p.returncode, 0, f"report to a.localhost (server on [::1] only): "
               f"({runs.describe(p)})")
        lib.eq([r.method for r in s.requests], ["GET", "POST"], "the [::1] server got the POST")
        lib.eq(dns.queries, 0, "report to a.localhost: DNS queries sent")


# ---- literal addresses: parsed in place ------------------------------------------

def _strace_check(tmp, url):
    """`check url` under strace -f: (CompletedProcess, names of the calls made)."""
    log = os.path.join(tmp, "strace-literal.log")
    p = subprocess.run(["strace", "-f", "-qq", "-o", log, "--", lib.BIN, "check", url,
                        "--timeout", "3s"], env=lib.base_env(), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, timeout=30)
    with open(log, encoding="utf-8", errors="replace") as f:
        calls = [line.split("(", 1)[0].split()[-1] for line in f if "(" in line]
    return p, calls


def test_literal_addresses_need_no_resolver(tmp):
    # 127.0.0.1 and [::1] are parsed where they are read: no resolver, no
    # allocation (brk/mmap are malloc's), no file read for them, no DNS.
    lib.check(shutil.which("strace"), "strace is not installed (./build.sh test installs it)")
    with runs.Server() as s4, _v6_only_server() as s6:
        for url, server in ((f"http://127.0.0.1:{s4.port}/health", s4),
                            (f"http://[::1]:{s6.port}/health", s6)):
            before = len(server.requests)
            p, calls = _strace_check(tmp, url)
            lib.eq(p.returncode, 0, f"check {url}: healthy ({runs.describe(p)})")
            lib.eq(len(server.requests), before + 1, f"check {url}: the server got the GET")
            # The first open is the default config file's (absent here); what follows it
            # is the probe.
            lib.check("openat" in calls, f"check {url}: the config file looked for ({calls})")
            after = calls[calls.index("openat") + 1:]
            for name in ("clone", "clone3", "brk", "mmap", "openat", "open"):
                lib.eq(after.count(name), 0,
                       f"check {url}: {name} calls after the config (all: {calls})")
            lib.check("connect" in after, f"check {url}: connected ({calls})")


# ---- /etc/hosts maps localhost elsewhere: never asked --------------------------------

def _inner(spec_path):
    """Runs inside `unshare -n -m` (a private network namespace, only lo): mounts the
    hosts and resolv.conf files, starts the servers, runs anontel, prints JSON."""
    with open(spec_path) as f:
        spec = json.load(f)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True, timeout=10)
    for target, source in spec["binds"].items():
        subprocess.run(["mount", "--bind", source, target], check=True, timeout=10)
    out = {"runs": []}
    with peers.SilentDNS("127.0.53.53") as dns, runs.Server() as s:
        for name in spec["names"]:
            for verb in ("report", "check"):
                url = f"http://{name}:{s.port}/t"
                if verb == "report":
                    e = lib.base_env(ANONTEL_STATE_DIR=spec["state"], ANONTEL_ENDPOINT=url)
                    args = ["report", "--force", "--timeout", "3s"]
                else:
                    e, args = lib.base_env(), ["check", url, "--timeout", "3s"]
                before = len(s.requests)
                p = lib.run(args, env=e, timeout=20)
                out["runs"].append({"what": f"{verb} {url}", "rc": p.returncode,
                                    "stderr": p.stderr.decode("utf-8", "replace"),
                                    "received": len(s.requests) - before})
        out["dns_queries"] = dns.queries
    print(json.dumps(out))
    return 0


def test_hosts_mapping_localhost_elsewhere_is_not_asked(tmp):
    # /etc/hosts says localhost is a non-loopback address (in a network namespace with
    # only lo, where that address has no route: nothing can be sent to it). anontel
    # never asks: the request reaches 127.0.0.1 and DNS sees nothing.
    hosts = peers.hosts_file(tmp, [f"{NOWHERE} localhost", f"{NOWHERE} a.b.localhost"],
                             name="hosts-elsewhere")
    binds = {"/etc/hosts": hosts,
             "/etc/resolv.conf": peers.resolv_conf(tmp, "127.0.53.53")}
    state = os.path.join(tmp, "state")
    spec = os.path.join(tmp, "spec.json")
    with open(spec, "w") as f:
        json.dump({"binds": binds, "names": ["localhost", "a.b.localhost"], "state": state}, f)
    p = subprocess.run(["unshare", "--propagation", "private", "-n", "-m", sys.executable,
                        os.path.abspath(__file__), "inner", spec],
                       env=lib.base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=120)
    lib.eq(p.returncode, 0, f"the namespace run: {p.stderr[-800:]!r}")
    out = json.loads(p.stdout)
    for r in out["runs"]:
        lib.eq((r["rc"], r["received"]), (0, 1),
               f"{r['what']} with /etc/hosts saying localhost is {NOWHERE}: "
               f"(exit, requests at 127.0.0.1) (stderr {r['stderr']!r})")
    lib.eq(out["dns_queries"], 0, "DNS queries sent")


if __name__ == "__main__" and len(sys.argv) == 3 and sys.argv[1] == "inner":
    sys.exit(_inner(sys.argv[2]))
