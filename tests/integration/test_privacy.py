"""No host name, IP, MAC, machine-id, DMI UUID, id.host or user name in what is sent,
nor in what anontel prints or keeps about it: the notice, the audit log and status --log,
forget's and an opted-out run's lines; no header value (a receiver's token) in anything
printed."""
import getpass
import glob
import os
import socket

import lib
import runs

SECRET_HOST = "qlik-sense-central.corp.secret-host.example"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def local_ipv4():
    """Every local IPv4 address the kernel knows (from /proc/net/fib_trie)."""
    addrs, last = set(), None
    for line in read("/proc/net/fib_trie").splitlines():
        line = line.strip()
        if line.startswith("|--"):
            last = line[4:]
        elif line.startswith("/32 host LOCAL") and last:
            addrs.add(last)
    return {a for a in addrs if not a.startswith("127.")}


def identifying_values():
    vals = {"id.host": SECRET_HOST, "hostname": socket.gethostname(),
            "fqdn": socket.getfqdn(), "user": getpass.getuser(),
            "machine-id": read("/etc/machine-id"),
            "dmi-uuid": read("/sys/class/dmi/id/product_uuid").lower()}
    for path in glob.glob("/sys/class/net/*/address"):
        mac = read(path).lower()
        if mac and mac != "00:00:00:00:00:00":
            vals["mac " + path] = mac
            vals["mac-bare " + path] = mac.replace(":", "")
    for ip in local_ipv4():
        vals["ipv4 " + ip] = ip
    return {k: v for k, v in vals.items() if v and len(v) >= 4}


def test_nothing_identifying_is_sent_or_logged(tmp):
    cfg = lib.write_config(tmp, {"id": {"host": SECRET_HOST}, "service": "butler"})
    env = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"))
    shown = lib.run(["show", "-c", cfg], env=env)
    lib.eq(shown.returncode, 0, "show exit")
    ident = lib.run(["id", "-c", cfg], env=env)
    vals = identifying_values()
    lib.check(any(k.startswith("mac") for k in vals), f"the test found no MAC: {vals}")
    sent = shown.stdout.lower()
    logged = shown.stderr.lower()
    for name, value in vals.items():
        v = value.lower().encode()
        lib.check(v not in sent, f"{name} appears in the message")
        lib.check(v not in logged, f"{name} appears in show's stderr")
    # The ID is derived from them, and is in the message: that is the point.
    lib.check(ident.stdout.strip() in shown.stdout, "the instance ID is in the message")


HEADER_SECRET = "Bearer s3cr3t-t0ken-4242"


def test_header_values_are_never_printed(tmp):
    """A receiver's token in the config's headers or ANONTEL_HEADERS_FILE: show, status
    (text and JSON), report -v, id --explain and the errors name the header, never its
    value; it goes out in the request and nowhere else."""
    with runs.Server() as s:
        hfile = lib.write_config(tmp, {"X-Api-Key": "k3y-" + HEADER_SECRET[-4:] + "x"},
                                 name="headers.json")
        cfg = lib.write_config(tmp, {"headers": {"Authorization": HEADER_SECRET},
                                     "endpoint": s.url("/t")})
        for extra in ({}, {"ANONTEL_HEADERS_FILE": hfile}):
            secret = HEADER_SECRET if not extra else "k3y-4242x"
            name = "Authorization" if not extra else "X-Api-Key"
            env = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"), **extra)
            outs = {}
            for args in (["show"], ["show", "--pretty"], ["status"], ["status", "--json"],
                         ["id", "--explain"], ["report", "--force", "-v"]):
                p = lib.run(args + ["-c", cfg], env=env)
                lib.eq(p.returncode, 0, f"{args}: exit ({p.stderr!r})")
                outs[" ".join(args)] = p
                for stream in (p.stdout, p.stderr):
                    lib.check(secret.encode() not in stream, f"{args} prints the value")
                    lib.check(secret[-8:].encode() not in stream, f"{args} prints part of it")
            status = outs["status"].stdout.decode()
            lib.check(f"\nheaders: {name}\n" in status, f"status names the header: {status}")
            lib.eq(lib.strict_json(outs["status --json"].stdout)["headers"], name, "status --json")
            lib.check(name.encode() in outs["report --force -v"].stderr, "-v names the header")
            r = s.posts[-1]
            lib.eq(r.header(name), [secret], "the value goes out in the request")
        # A refused header: the error names it, never the value.
        bad = lib.write_config(tmp, {"headers": {"Authorization": HEADER_SECRET + "\r\n"}},
                               name="bad.json")
        p = lib.run(["show", "-c", bad])
        lib.eq(p.returncode, 2, "a bad header is a config error")
        lib.check(b"headers.Authorization" in p.stderr and HEADER_SECRET[-8:].encode() not in
                  p.stderr, f"the error names the header only: {p.stderr!r}")


def _clean(outputs, vals, what):
    for label, data in outputs:
        low = data.lower()
        for name, value in vals.items():
            lib.check(value.lower().encode() not in low, f"{what}: {name} appears in {label}")


def test_nothing_identifying_in_the_trust_outputs(tmp):
    """The notice, the audit log (its files, status --log, status --last), report's
    first-delivery notice, forget's output and an opted-out run's: none holds a host
    name, IP or MAC address, machine-id, DMI UUID, id.host or user name; nor the ID's
    inputs when scheme none sends no ID at all."""
    vals = identifying_values()
    lib.check(any(k.startswith("mac") for k in vals), f"the test found no MAC: {vals}")
    for scheme in ("butler", "none"):
        state = os.path.join(tmp, f"state-{scheme}")
        cfg = lib.write_config(tmp, {"id": {"host": SECRET_HOST, "scheme": scheme},
                                     "service": "butler"}, name=f"{scheme}.json")
        outputs = []
        with runs.Server() as s:
            e = runs.env(state, s.url())
            for argv in (["notice"], ["report"], ["report", "--force"], ["status", "--log"],
                         ["status", "--last"]):
                p = lib.run(argv + ["-c", cfg], env=e)
                lib.eq(p.returncode, 0, f"{scheme} {argv}: exit ({p.stderr!r})")
                outputs += [(f"{argv} stdout", p.stdout), (f"{argv} stderr", p.stderr)]
            sent = [r.body for r in s.posts]
        lib.eq(len(sent), 2, f"{scheme}: two delivered")
        lib.check(b"sent anonymous usage telemetry" in outputs[3][1], "the first-delivery notice")
        logged = runs.log_bytes(state)
        lib.eq(logged, sent, f"{scheme}: the log holds what was sent")
        outputs += [(f"log entry {i}", b) for i, b in enumerate(logged)]
        outputs += [(f"sent {i}", b) for i, b in enumerate(sent)]
        if scheme == "none":
            ident = lib.run(["id", "--explain", "-c", cfg], env=e).stdout
            lib.check(b"\nid: (none)\n" in ident, f"scheme none: no ID: {ident!r}")
            for b in sent:
                lib.check("id" not in lib.strict_json(b)["data"]["system"], "no id field sent")
        p = lib.run(["forget", "-c", cfg], env=e)
        outputs += [("forget stdout", p.stdout), ("forget stderr", p.stderr)]
        with runs.Server() as s:
            p = lib.run(["report", "--force", "-c", cfg], env=runs.env(state, s.url()))
        p = lib.run(["report", "-c", cfg], env=runs.env(state, s.url(), DO_NOT_TRACK="1"))
        lib.check(b"removed" in p.stderr, f"{scheme}: the opted-out run removed: {p.stderr!r}")
        outputs += [("opted-out report stderr", p.stderr), ("opted-out stdout", p.stdout)]
        _clean(outputs, vals, scheme)
