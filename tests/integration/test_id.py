"""`anontel id` and `anontel id --explain` (SPEC §5), checked against peers:
the machine's own files read here in Python, Node's crypto for the butler HMAC,
Python's hmac and systemd-id128 for the machine-id scheme."""
import fcntl
import hashlib
import hmac
import os
import re
import shutil
import socket
import struct
import subprocess

import lib
import runs

SIOCGIFADDR = 0x8915
HEX64 = re.compile(r"[0-9a-f]{64}")
HEX32 = re.compile(r"[0-9a-f]{32}")
NODE = "/usr/bin/node"


# ---- what the machine says, read independently of anontel ----

def default_iface():
    """Lowest-metric up IPv4 default route from /proc/net/route, first on a tie."""
    best = None
    with open("/proc/net/route") as f:
        lines = f.read().splitlines()[1:]
    for line in lines:
        c = line.split()
        if len(c) < 8:
            continue
        dest, flags, metric, mask = int(c[1], 16), int(c[3], 16), int(c[6]) & 0xffffffff, int(c[7], 16)
        if dest == 0 and mask == 0 and flags & 1 and not flags & 0x200:
            if best is None or metric < best[1]:
                best = (c[0], metric)
    return best[0] if best else ""


def iface_mac(iface):
    try:
        with open(f"/sys/class/net/{iface}/address") as f:
            mac = f.read().strip().lower()
    except OSError:
        return ""
    if not re.fullmatch(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}", mac) or mac == "00:00:00:00:00:00":
        return ""
    return mac


def iface_ipv4(iface):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        r = fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", iface.encode()[:15]))
        return socket.inet_ntoa(r[20:24])
    except OSError:
        return ""
    finally:
        s.close()


def dmi_uuid():
    try:
        with open("/sys/class/dmi/id/product_uuid") as f:
            return f.read().strip().lower()
    except OSError:
        return ""


def machine_id():
    try:
        with open("/etc/machine-id") as f:
            return f.read().strip()
    except FileNotFoundError:
        return None


def py_app_specific(mid_hex, app_hex):
    """systemd's sd_id128_get_machine_app_specific, reimplemented with hmac."""
    d = bytearray(hmac.new(bytes.fromhex(mid_hex), bytes.fromhex(app_hex), hashlib.sha256).digest()[:16])
    d[6] = (d[6] & 0x0F) | 0x40
    d[8] = (d[8] & 0x3F) | 0x80
    return d.hex()


def systemd_app_specific(app_hex):
    p = subprocess.run(["systemd-id128", "machine-id", f"--app-specific={app_hex}"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    lib.eq(p.returncode, 0, f"systemd-id128 exit ({p.stderr!r})")
    return p.stdout.decode().strip()


def node_butler(mac, ip4, host, uuid):
    """Butler 5.x initHostInfo, computed by Node's own crypto."""
    lib.check(os.access(NODE, os.X_OK), f"node is missing: {NODE} not found")
    script = ("const c=require('crypto');const [m,i,h,u]=process.argv.slice(1);"
              "console.log(c.createHmac('sha256',m).update(m+i+h+u).digest('hex'));")
    p = subprocess.run([NODE, "-e", script, mac, ip4, host, uuid],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    lib.eq(p.returncode, 0, f"node exit ({p.stderr!r})")
    return p.stdout.decode().strip()


# ---- running anontel ----

def explain(args=(), env=None, prefix=()):
    """Runs `id --explain`; returns (CompletedProcess, [(name, value)], dict)."""
    argv = list(args) + ["id", "--explain"]
    if prefix:
        p = subprocess.run(list(prefix) + [lib.BIN] + argv, env=env if env is not None else lib.base_env(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=30)
    else:
        p = lib.run(argv, env=env)
    pairs = []
    for line in p.stdout.decode("utf-8", "strict").splitlines():
        if ".from:" in line:
            continue
        name, sep, value = line.partition(":")
        lib.check(sep == ":", f"explain line without a colon: {line!r}")
        pairs.append((name, value[1:] if value.startswith(" ") else value))
    return p, pairs, dict(pairs)


BUTLER_ORDER = ["scheme", "why", "iface", "mac", "ipv4", "host", "uuid", "id"]
AUTO_ORDER = ["scheme.asked"] + BUTLER_ORDER
MACHINE_ID_ORDER = ["scheme", "why", "app_id", "id"]


def butler_config(tmp, **id_more):
    return lib.write_config(tmp, {"id": dict({"scheme": "butler"}, **id_more)}, name="butler.json")


def auto_choice(mac, host, uuid):
    """SPEC §5's rule for auto, written from the SPEC: butler when the inputs tell
    machines apart, else random."""
    if not mac:
        return "random"
    if uuid or host or not int(mac[:2], 16) & 0x02:
        return "butler"
    return "random"


def check_order(pairs, want):
    lib.eq([n for n, _ in pairs], want, "explain lines (names, in order)")


def run_id(args=(), env=None):
    p = lib.run(list(args) + ["id"], env=env)
    lib.eq(p.returncode, 0, f"id exit status (stderr {p.stderr!r})")
    out = p.stdout.decode()
    lib.check(out.endswith("\n") and out.count("\n") == 1, f"id output is not one line: {out!r}")
    return out[:-1]


def one_stderr_line(p):
    err = p.stderr.decode("utf-8", "replace")
    lib.check(err.endswith("\n") and err.count("\n") == 1, f"stderr is not one line: {err!r}")
    return err


# ---- tests ----

def test_real_machine_butler(tmp):
    iface = default_iface()
    mac = iface_mac(iface) if iface else ""
    lib.check(iface and mac, "this test needs a machine with an IPv4 default route and a MAC "
              f"(found iface {iface!r}, mac {mac!r})")
    cfg = butler_config(tmp)
    p, pairs, e = explain(["-c", cfg])
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    check_order(pairs, BUTLER_ORDER)
    lib.eq(e["scheme"], "butler", "scheme")
    lib.eq(e["why"], "id.scheme is butler", "why")
    lib.eq(e["iface"], iface, "iface (from /proc/net/route)")
    lib.eq(e["mac"], mac, "mac")
    lib.eq(e["ipv4"], iface_ipv4(iface), "ipv4 (SIOCGIFADDR)")
    lib.eq(e["host"], "", "host unset")
    lib.eq(e["uuid"], dmi_uuid(), "uuid")
    lib.check(HEX64.fullmatch(e["id"]), f"id is not 64 hex: {e['id']!r}")
    lib.eq(e["id"], node_butler(e["mac"], e["ipv4"], e["host"], e["uuid"]), "id vs Node crypto")
    # A restart gives the same ID, and `id` prints what --explain showed.
    first = run_id(["-c", cfg])
    lib.eq(first, e["id"], "id vs id --explain")
    lib.eq(run_id(["-c", cfg]), first, "second run")


def test_real_machine_auto(tmp):
    """The default scheme on this machine: what SPEC §5's rule says, from the
    machine's own files; Butler's ID when it chooses butler, else a kept random ID."""
    iface = default_iface()
    mac = iface_mac(iface) if iface else ""
    lib.check(iface and mac, f"this test needs a default route and a MAC ({iface!r}, {mac!r})")
    env = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"))
    p, pairs, e = explain(env=env)
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    check_order(pairs, AUTO_ORDER)
    want = auto_choice(mac, "", dmi_uuid())
    lib.eq(e["scheme.asked"], f"auto, chose {want}", "scheme.asked")
    lib.eq(e["scheme"], want, "scheme")
    lib.check(e["why"].startswith("auto: "), f"why: {e['why']!r}")
    lib.check(mac not in e["why"] and iface_ipv4(iface) not in e["why"],
              f"why quotes an input: {e['why']!r}")
    lib.eq((e["iface"], e["mac"], e["uuid"]), (iface, mac, dmi_uuid()), "inputs judged")
    if want == "butler":
        lib.eq(e["id"], node_butler(e["mac"], e["ipv4"], e["host"], e["uuid"]), "id vs Node crypto")
    else:
        with open(os.path.join(tmp, "state", "random-id")) as f:
            lib.eq(e["id"], f.read(), "id is the kept random-id")
    lib.eq(run_id(env=env), e["id"], "id vs id --explain")


def test_real_machine_host_from_config(tmp):
    plain = run_id(["-c", butler_config(tmp)])
    cfg = lib.write_config(tmp, {"id": {"host": "sense.example.com"}})
    p, pairs, e = explain(["-c", cfg])
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    # auto (the default) chooses butler whenever id.host is set
    check_order(pairs, AUTO_ORDER)
    lib.eq(e["scheme.asked"], "auto, chose butler", "scheme.asked")
    lib.eq(e["why"], "auto: id.host set: Butler's ID tells machines apart", "why")
    lib.eq(e["host"], "sense.example.com", "host")
    lib.check(e["id"] != plain, "id.host did not change the id")
    lib.eq(e["id"], node_butler(e["mac"], e["ipv4"], e["host"], e["uuid"]), "id vs Node crypto")
    lib.eq(run_id(["-c", cfg]), e["id"], "id with the same config")
    lib.eq(run_id(["-c", butler_config(tmp, host="sense.example.com")]), e["id"],
           "the same as an explicit butler scheme")


def test_no_default_interface_auto_is_random(tmp):
    lib.check(shutil.which("unshare"), "unshare is missing")
    state = os.path.join(tmp, "state")
    env = lib.base_env(ANONTEL_STATE_DIR=state)
    p, pairs, e = explain(env=env, prefix=["unshare", "-n"])
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    check_order(pairs, AUTO_ORDER)
    lib.eq(e["scheme.asked"], "auto, chose random", "scheme.asked")
    lib.eq(e["why"], "auto: no default interface: random ID kept in the state dir", "why")
    with open(os.path.join(state, "random-id")) as f:
        lib.eq(e["id"], f.read(), "id is the kept random-id")


def test_no_default_interface_falls_back(tmp):
    lib.check(shutil.which("unshare"), "unshare is missing")
    mid = machine_id()
    p, pairs, e = explain(["-c", butler_config(tmp)], prefix=["unshare", "-n"])
    if mid is not None:
        lib.eq(p.returncode, 0, f"exit status with /etc/machine-id present (stderr {p.stderr!r})")
        check_order(pairs, MACHINE_ID_ORDER)
        lib.eq(e["scheme"], "machine-id", "scheme")
        lib.check("fallback" in e["why"], f"why does not say fallback: {e['why']!r}")
        lib.check("no default interface" in e["why"], f"why: {e['why']!r}")
        lib.check(HEX32.fullmatch(e["app_id"]), f"app_id: {e['app_id']!r}")
        lib.check(HEX32.fullmatch(e["id"]), f"id: {e['id']!r}")
        lib.eq(e["id"], py_app_specific(mid, e["app_id"]), "id vs Python hmac")
        lib.eq(e["id"], systemd_app_specific(e["app_id"]), "id vs systemd-id128")
    else:
        lib.eq(p.returncode, 1, "exit status with no /etc/machine-id")
        lib.eq(p.stdout, b"", "stdout")
        err = one_stderr_line(p)
        lib.check("machine-id" in err, f"stderr does not name machine-id: {err!r}")


def test_machine_id_scheme_app_id(tmp):
    app = "00112233445566778899aabbccddeeff"
    cfg = lib.write_config(tmp, {"id": {"scheme": "machine-id", "appId": app}})
    mid = machine_id()
    p, pairs, e = explain(["-c", cfg])
    if mid is None:
        lib.eq(p.returncode, 1, "exit status with no /etc/machine-id")
        lib.check("machine-id" in one_stderr_line(p), "stderr names machine-id")
        return
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    check_order(pairs, MACHINE_ID_ORDER)
    lib.eq(e["scheme"], "machine-id", "scheme")
    lib.eq(e["app_id"], app, "app_id")
    lib.eq(e["id"], py_app_specific(mid, app), "id vs Python hmac")
    lib.eq(e["id"], systemd_app_specific(app), "id vs systemd-id128")
    lib.eq(run_id(["-c", cfg]), e["id"], "id")


def test_machine_id_scheme_derived_app_id(tmp):
    cfg = lib.write_config(tmp, {"service": "butler", "id": {"scheme": "machine-id"}})
    mid = machine_id()
    p, pairs, e = explain(["-c", cfg])
    if mid is None:
        lib.eq(p.returncode, 1, "exit status with no /etc/machine-id")
        return
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    app = hashlib.sha256(b"anontel:butler").digest()[:16].hex()
    lib.eq(e["app_id"], app, "app_id derived from service")
    lib.eq(e["id"], py_app_specific(mid, app), "id vs Python hmac")
    lib.eq(e["id"], systemd_app_specific(app), "id vs systemd-id128")


def test_fixed_scheme(tmp):
    cfg = lib.write_config(tmp, {"id": {"scheme": "fixed"}})
    env = lib.base_env(ANONTEL_ID="abcdefghijklmnop0123")
    lib.eq(run_id(["-c", cfg], env=env), "abcdefghijklmnop0123", "fixed id")
    p, pairs, e = explain(["-c", cfg], env=env)
    lib.eq(p.returncode, 0, "explain exit status")
    lib.eq(e.get("scheme"), "fixed", "scheme")
    lib.eq(e.get("id"), "abcdefghijklmnop0123", "explained id")


def test_fixed_scheme_bad_id(tmp):
    cfg = lib.write_config(tmp, {"id": {"scheme": "fixed"}})
    for value in ["short", "x" * 15, "y" * 129, "abcdefghijklmnop!", "abcdefgh ijklmnop"]:
        p = lib.run(["-c", cfg, "id"], env=lib.base_env(ANONTEL_ID=value))
        lib.eq(p.returncode, 2, f"exit status for ANONTEL_ID={value!r}")
        lib.eq(p.stdout, b"", f"stdout for ANONTEL_ID={value!r}")
        err = one_stderr_line(p)
        lib.check("ANONTEL_ID" in err, f"stderr does not mention ANONTEL_ID: {err!r}")
        lib.check(value not in err, f"stderr quotes the value: {err!r}")


def test_fixed_scheme_unset(tmp):
    cfg = lib.write_config(tmp, {"id": {"scheme": "fixed"}})
    p = lib.run(["-c", cfg, "id"])
    lib.eq(p.returncode, 2, "exit status")
    lib.eq(p.stdout, b"", "stdout")
    lib.check("ANONTEL_ID" in one_stderr_line(p), "stderr mentions ANONTEL_ID")


def test_python_app_specific_matches_systemd(tmp):
    """The Python reference used above agrees with systemd-id128 on this machine."""
    mid = machine_id()
    if mid is None:
        # Known answer from sd-id128's algorithm, computed once with this same
        # function: machine 0123..cdef, app 0011..eeff.
        lib.eq(py_app_specific("0123456789abcdef0123456789abcdef", "00112233445566778899aabbccddeeff"),
               "4e7a918525b94da8ad4b4f264a130726", "python reference")
        return
    for app in ["00112233445566778899aabbccddeeff", "ffffffffffffffffffffffffffffffff",
                "37ff3831b05a177a0ca25610caf9e3e0"]:
        lib.eq(py_app_specific(mid, app), systemd_app_specific(app), f"app {app}")


# ---- scheme none (SPEC §11 "Trust"): no ID, an age bucket

UUID7 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
WEEK_MS = 7 * 24 * 3600 * 1000


def _none_config(tmp, **more):
    return lib.write_config(tmp, dict({"id": {"scheme": "none"}}, **more), name="none.json")


def test_none_scheme_makes_no_id(tmp):
    state = os.path.join(tmp, "state")
    env = lib.base_env(ANONTEL_STATE_DIR=state)
    cfg = _none_config(tmp)
    p = lib.run(["id", "-c", cfg], env=env)
    lib.eq((p.returncode, p.stdout), (0, b""), f"id prints no ID ({p.stderr!r})")
    lib.check(b"scheme none" in p.stderr, f"and says why on stderr: {p.stderr!r}")
    p = lib.run(["id", "-q", "-c", cfg], env=env)
    lib.eq((p.returncode, p.stdout, p.stderr), (0, b"", b""), "id -q: nothing")
    p, pairs, e = explain(["-c", cfg], env=env)
    lib.eq(p.returncode, 0, "id --explain")
    lib.eq([n for n, _ in pairs], ["scheme", "why", "id"], "explain lines")
    lib.eq((e["scheme"], e["why"], e["id"]), ("none", "id.scheme is none", "(none)"), "explain")
    p = lib.run(["show", "-c", cfg], env=env)
    lib.eq(p.returncode, 0, f"show ({p.stderr!r})")
    msg = lib.strict_json(p.stdout)
    lib.eq(list(msg["data"]["system"])[:2], ["age", "arch"], "age where the ID was, no id")
    lib.eq(msg["data"]["system"]["age"], "0", "no report yet: age 0")
    lib.check(not os.path.exists(state), "id and show made no state dir")
    p = lib.run(["status", "-c", cfg], env=env)
    lib.check(b"\nid scheme: none\n" in p.stdout, f"status: {p.stdout!r}")


def test_none_scheme_posthog_distinct_id_per_message(tmp):
    env = lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "state"))
    cfg = _none_config(tmp, format="posthog", posthog={"apiKey": "phc_test"})
    seen = set()
    for _ in range(2):
        p = lib.run(["show", "-c", cfg], env=env)
        lib.eq(p.returncode, 0, f"show ({p.stderr!r})")
        event = lib.strict_json(p.stdout)["batch"][0]
        lib.eq(event["distinct_id"], event["uuid"], "distinct_id: the event's own UUID")
        lib.check(UUID7.fullmatch(event["distinct_id"]), f"a UUID: {event['distinct_id']!r}")
        seen.add(event["distinct_id"])
        props = event["properties"]
        lib.eq(props["system_age"], "0", "system_age")
        lib.eq(props["$process_person_profile"], False, "no person profile")
        lib.check(not any(k.endswith("_id") for k in props), f"no ID property: {sorted(props)}")
    lib.eq(len(seen), 2, "a new distinct_id for each message, as PostHog's SDKs make one")


def test_none_scheme_age_counts_from_the_first_report(tmp):
    """The first report records its time in the stamps; a faked earlier one (the
    stamps of a state dir 10 weeks old) gives 5-24, and status shows it."""
    state = os.path.join(tmp, "state")
    cfg = _none_config(tmp)
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "-q", "-c", cfg], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        first = lib.strict_json(s.posts[0].body)
        lib.eq(first["data"]["system"]["age"], "0", "the first report: 0")
        lib.check("id" not in first["data"]["system"], "no id field")
        st = runs.stamps(state)
        t0 = int(st["first_report_ms"])
        lib.eq(t0, int(st["last_built_ms"]), "first_report_ms is the first build")
        text = runs.read(os.path.join(state, "stamps")).decode().replace(
            f"first_report_ms {t0}\n", f"first_report_ms {t0 - 10 * WEEK_MS}\n")
        with open(os.path.join(state, "stamps"), "w") as f:
            f.write(text)
        p = lib.run(["show", "-c", cfg], env=e)
        lib.eq(lib.strict_json(p.stdout)["data"]["system"]["age"], "5-24", "show: 10 weeks")
        p, _ = runs.run(["report", "--force", "-q", "-c", cfg], e)
        lib.eq(p.returncode, 0, "second report")
        lib.eq(lib.strict_json(s.posts[1].body)["data"]["system"]["age"], "5-24", "sent: 5-24")
    lib.eq(runs.stamps(state)["first_report_ms"], str(t0 - 10 * WEEK_MS), "kept as it was")
    js = runs.status_json(e)
    lib.check(js["firstReport"].endswith("Z"), f"status --json firstReport: {js!r}")
