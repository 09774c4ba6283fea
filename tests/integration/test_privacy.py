"""No host name, IP, MAC, machine-id, DMI UUID, id.host or user name in what is sent."""
import getpass
import glob
import os
import socket

import lib

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
