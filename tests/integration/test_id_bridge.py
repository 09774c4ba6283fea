"""The default ID scheme `auto` (SPEC §5, §11) in network namespaces shaped like a
container on Docker's default bridge: eth0 with MAC 02:42:ac:11:00:02 and 172.17.0.2/16,
a default route via 172.17.0.1, sysfs remounted (the host's MAC is hidden), no DMI
product_uuid, /dev/null over /etc/machine-id. Butler's formula gives one ID there on
every host; auto must give each host (state dir) its own ID and keep it.

The namespace has a veth pair and nothing behind it: nothing here sends a packet. The
test's directory is seen there as /mnt, and fresh tmpfs cover /tmp and /var/lib, so a
state dir that anontel refused could never fall back to the host's. Expected values come
from Python's hmac over the inputs, not from anontel."""
import hashlib
import hmac
import os
import re
import shlex
import shutil
import stat
import subprocess

import lib
import runs

DOCKER_MAC = "02:42:ac:11:00:02"
XEN_MAC = "00:16:3e:11:00:02"       # a universally administered MAC (Xen's OUI)
DOCKER_IP = "172.17.0.2"
# SPEC §5 / NOTES.md: Butler's ID of every first container on Docker's default bridge.
DOCKER_BUTLER_ID = "fc0c9b4f5ca1cb90ce596d741654ab09cec6d816a3dd02ff188fecaced101a42"
HEX64 = re.compile(r"[0-9a-f]{64}")
NOBODY = 65534
WHY_RANDOM = ("auto: locally administered MAC, no DMI UUID, no id.host: Butler's ID could be "
              "the same on many hosts, as on every Docker host; random ID kept in the state dir")


def butler_formula(mac, ip, host="", uuid=""):
    """Butler 5.x initHostInfo: hex(HMAC-SHA256(key = MAC, msg = MAC + IPv4 + host + UUID))."""
    return hmac.new(mac.encode(), (mac + ip + host + uuid).encode(), hashlib.sha256).hexdigest()


class Bridge:
    """One script run in `unshare -n -m`: the Docker-like network, then steps whose
    results land in outdir (runs.step / runs.result)."""

    def __init__(self, tmp, name, mac=DOCKER_MAC):
        self.tmp = tmp
        self.outdir = os.path.join(tmp, "out-" + name)
        os.mkdir(self.outdir)
        self.mac = mac
        self.lines = []

    def ns(self, path):
        """Where a path under the test's directory is seen inside the namespace."""
        if path == self.tmp or path.startswith(self.tmp + "/"):
            return "/mnt" + path[len(self.tmp):]
        return path

    def run_as(self, name, uid, state, *args):
        """anontel args with ANONTEL_STATE_DIR=state, as root (uid None) or as uid;
        paths under the test's directory are given as the namespace sees them."""
        cmd = f"ANONTEL_STATE_DIR={shlex.quote(self.ns(state))} "
        if uid is None:
            cmd += '"$BIN"'
        else:
            cmd += (f"setpriv --reuid {uid} --regid {uid} --clear-groups -- "
                    f"{shlex.quote(self.ns(self.nobody_bin))}")
        cmd += "".join(" " + shlex.quote(self.ns(a)) for a in args)
        self.lines.append(runs.step(name, cmd))

    def run(self, name, state, *args):
        self.run_as(name, None, state, *args)

    def shell(self, name, cmd):
        self.lines.append(runs.step(name, cmd))

    def go(self):
        script = f"""exec 8<{shlex.quote(lib.BIN)}
BIN=/proc/$$/fd/8
exec 9<{shlex.quote(self.outdir)}
OUT=/proc/$$/fd/9
ip link add eth0 type veth peer name vpeer
ip link set eth0 address {self.mac}
ip link set eth0 up
ip link set vpeer up
ip addr add {DOCKER_IP}/16 dev eth0
ip route add default via 172.17.0.1 dev eth0
mount -t sysfs sysfs /sys
if [ -e /sys/class/dmi/id ]; then mount -t tmpfs -o size=4k,mode=0555 none /sys/class/dmi/id; fi
if [ -e /etc/machine-id ]; then mount --bind /dev/null /etc/machine-id; fi
mount --bind {shlex.quote(self.tmp)} /mnt
mount -t tmpfs -o size=1m,mode=1777 tmpfs /tmp
mount -t tmpfs -o size=1m,mode=0755 tmpfs /var/lib
""" + "".join(self.lines)
        p = subprocess.run(["unshare", "-n", "-m", "--propagation", "private", "bash", "-ec", script],
                           env=lib.base_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, timeout=120)
        lib.eq(p.returncode, 0, f"namespace script (stderr {p.stderr!r})")
        return self

    def result(self, name):
        return runs.result(self.outdir, name)

    def ok(self, name):
        rc, out, err = self.result(name)
        lib.eq(rc, 0, f"{name}: exit status (stderr {err!r})")
        return out.decode()

    def id(self, name):
        out = self.ok(name)
        lib.check(out.endswith("\n") and out.count("\n") == 1, f"{name}: not one line: {out!r}")
        lib.check(HEX64.fullmatch(out[:-1]), f"{name}: not 64 hex: {out!r}")
        return out[:-1]

    def explain(self, name):
        return dict(line.partition(": ")[::2] for line in self.ok(name).splitlines())

    def shows(self, name):
        return lib.strict_json(self.ok(name).encode())["data"]["system"]["id"]


def add_recipe_checks(b):
    """Steps that check the recipe itself; check_docker_like() reads them."""
    b.shell("mac", "cat /sys/class/net/eth0/address")
    b.shell("route", "cat /proc/net/route")
    b.shell("uuid", "cat /sys/class/dmi/id/product_uuid")
    b.shell("machine_id", "cat /etc/machine-id")


def check_docker_like(b):
    lib.eq(b.ok("mac").strip(), b.mac, "eth0's MAC in the namespace")
    lib.check(re.search(r"^eth0\s+00000000\s+010011AC\s+0003", b.ok("route"), re.M),
              f"default route via 172.17.0.1 on eth0: {b.ok('route')!r}")
    rc, out, _ = b.result("uuid")
    lib.check(rc != 0 and out == b"", f"DMI product_uuid readable in the namespace: {out!r}")
    rc, out, _ = b.result("machine_id")
    lib.check(out == b"", f"/etc/machine-id not hidden: {out!r}")


def exists(b, path):
    """A step's shell text: prints yes or no, at that point of the script."""
    return f"if [ -e {shlex.quote(b.ns(path))} ]; then echo yes; else echo no; fi"


def butler_config(tmp, **more):
    path = lib.write_config(tmp, {"id": dict({"scheme": "butler"}, **more)}, name="butler.json")
    os.chmod(path, 0o644)
    return path


def test_two_docker_hosts_get_their_own_kept_ids(tmp):
    a, b_state = os.path.join(tmp, "host-a"), os.path.join(tmp, "host-b")
    cfg = butler_config(tmp)
    b = Bridge(tmp, "first")
    add_recipe_checks(b)
    b.run("status_before", a, "status")
    b.run("show_before", a, "show")
    b.shell("made_before", exists(b, a))
    b.run("id_a", a, "id")
    b.run("id_a_again", a, "id")
    b.run("show_a", a, "show")
    b.run("explain_a", a, "id", "--explain")
    b.run("status_a", a, "status")
    b.run("status_json_a", a, "status", "--json")
    b.run("id_b", b_state, "id")
    b.run("butler", a, "-c", cfg, "id")
    b.run("butler_explain", a, "-c", cfg, "id", "--explain")
    b.go()
    check_docker_like(b)

    # status and show before the first `id` write nothing, and say what auto chose.
    status = b.ok("status_before")
    lib.check(f"id scheme: random ({WHY_RANDOM})" in status, f"status before: {status!r}")
    lib.check("no ID made yet" in status, f"status before says no ID yet: {status!r}")
    lib.eq(b.shows("show_before"), "", "show before the ID exists")
    lib.eq(b.ok("made_before"), "no\n", "status and show made the state dir")

    ida, idb = b.id("id_a"), b.id("id_b")
    lib.check(ida != idb, f"two hosts, one ID: {ida}")
    lib.check(DOCKER_BUTLER_ID not in (ida, idb), "auto gave Butler's shared ID")
    lib.eq(b.id("id_a_again"), ida, "second run, same host")
    lib.eq(b.shows("show_a"), ida, "show after id")
    for state, ident in ((a, ida), (b_state, idb)):
        path = os.path.join(state, "random-id")
        lib.eq(runs.read(path, "r"), ident, f"{path} holds the ID")
        lib.eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, f"{path} mode")

    e = b.explain("explain_a")
    lib.eq(e.get("scheme.asked"), "auto, chose random", "explain: scheme asked and chosen")
    lib.eq(e.get("scheme"), "random", "explain: scheme")
    lib.eq(e.get("why"), WHY_RANDOM, "explain: why")
    lib.eq((e.get("mac"), e.get("ipv4"), e.get("uuid")), (DOCKER_MAC, DOCKER_IP, ""),
           "explain: the inputs auto judged")
    lib.eq(e.get("id"), ida, "explain: id")

    status = b.ok("status_a")
    lib.check(f"id scheme: random ({WHY_RANDOM})\n" in status, f"status after id: {status!r}")
    js = lib.strict_json(b.ok("status_json_a").encode())
    lib.eq(js["idScheme"], f"random ({WHY_RANDOM})", "status --json idScheme")
    for text in (status, e["why"], js["idScheme"]):
        lib.check(DOCKER_MAC not in text and DOCKER_IP not in text, f"quotes an input: {text!r}")

    # An explicit butler scheme is Butler-exact, and so the same on every such host.
    lib.eq(butler_formula(DOCKER_MAC, DOCKER_IP), DOCKER_BUTLER_ID, "the SPEC's value vs Python hmac")
    lib.eq(b.id("butler"), DOCKER_BUTLER_ID, "scheme butler on the Docker bridge")
    e = b.explain("butler_explain")
    lib.eq((e.get("scheme"), e.get("why"), "scheme.asked" in e), ("butler", "id.scheme is butler", False),
           "explain of an explicit butler")

    # A restart of host A's container with its volume: a new namespace, the same ID.
    again = Bridge(tmp, "restart")
    again.run("id", a, "id")
    again.run("show", a, "show")
    again.go()
    lib.eq(again.id("id"), ida, "the same host after a restart")
    lib.eq(again.shows("show"), ida, "show after a restart")


def test_as_nobody(tmp):
    """A non-root container (uid 65534): the same choice, a state dir it owns."""
    lib.check(shutil.which("setpriv"), "setpriv is missing")
    os.chmod(tmp, 0o755)
    binary = os.path.join(tmp, "anontel")
    shutil.copy(lib.BIN, binary)
    os.chmod(binary, 0o755)
    homes = []
    for name in ("home-a", "home-b"):
        home = os.path.join(tmp, name)
        os.mkdir(home, 0o700)
        os.chown(home, NOBODY, NOBODY)
        homes.append(os.path.join(home, "state"))
    cfg = butler_config(tmp)
    b = Bridge(tmp, "nobody")
    b.nobody_bin = binary
    add_recipe_checks(b)
    b.shell("whoami", f"setpriv --reuid {NOBODY} --regid {NOBODY} --clear-groups -- id -u")
    b.shell("uuid_nobody", f"setpriv --reuid {NOBODY} --regid {NOBODY} --clear-groups -- "
            "cat /sys/class/dmi/id/product_uuid")
    b.run_as("status_before", NOBODY, homes[0], "status")
    b.shell("made_before", exists(b, homes[0]))
    b.run_as("id_a", NOBODY, homes[0], "id")
    b.run_as("id_a_again", NOBODY, homes[0], "id")
    b.run_as("show_a", NOBODY, homes[0], "show")
    b.run_as("explain_a", NOBODY, homes[0], "id", "--explain")
    b.run_as("status_a", NOBODY, homes[0], "status")
    b.run_as("id_b", NOBODY, homes[1], "id")
    b.run_as("butler", NOBODY, homes[0], "-c", cfg, "id")
    b.go()
    check_docker_like(b)
    lib.eq(b.ok("whoami").strip(), str(NOBODY), "setpriv changed the uid")
    lib.check(b.result("uuid_nobody")[0] != 0, "uid 65534 reads a DMI UUID")

    status = b.ok("status_before")
    lib.check(f"id scheme: random ({WHY_RANDOM})" in status, f"status before: {status!r}")
    lib.eq(b.ok("made_before"), "no\n", "status made the state dir")
    ida, idb = b.id("id_a"), b.id("id_b")
    lib.check(ida != idb and DOCKER_BUTLER_ID not in (ida, idb), f"IDs {ida} {idb}")
    lib.eq(b.id("id_a_again"), ida, "second run")
    lib.eq(b.shows("show_a"), ida, "show after id")
    for state, ident in zip(homes, (ida, idb)):
        path = os.path.join(state, "random-id")
        lib.eq(runs.read(path, "r"), ident, f"{path} holds the ID")
        st = os.stat(path)
        lib.eq((st.st_uid, stat.S_IMODE(st.st_mode)), (NOBODY, 0o600), f"{path} owner and mode")
    e = b.explain("explain_a")
    lib.eq((e.get("scheme.asked"), e.get("why")), ("auto, chose random", WHY_RANDOM), "explain")
    lib.check(f"id scheme: random ({WHY_RANDOM})\n" in b.ok("status_a"), b.ok("status_a"))
    lib.eq(b.id("butler"), DOCKER_BUTLER_ID, "scheme butler as uid 65534")


def test_auto_chooses_butler_when_the_inputs_tell_hosts_apart(tmp):
    state = os.path.join(tmp, "state")
    host_cfg = lib.write_config(tmp, {"id": {"host": "sense.example.com"}}, name="host.json")
    butler_host_cfg = butler_config(tmp, host="sense.example.com")
    docker = Bridge(tmp, "docker-host")
    add_recipe_checks(docker)
    docker.run("explain", state, "-c", host_cfg, "id", "--explain")
    docker.run("butler", state, "-c", butler_host_cfg, "id")
    docker.go()
    check_docker_like(docker)
    want = butler_formula(DOCKER_MAC, DOCKER_IP, "sense.example.com")
    e = docker.explain("explain")
    lib.eq((e.get("scheme.asked"), e.get("why")),
           ("auto, chose butler", "auto: id.host set: Butler's ID tells machines apart"), "explain")
    lib.eq(e.get("id"), want, "auto with id.host: Butler's formula")
    lib.eq(docker.id("butler"), want, "the same as scheme butler")

    xen = Bridge(tmp, "xen", mac=XEN_MAC)
    add_recipe_checks(xen)
    xen.run("explain", state, "id", "--explain")
    xen.run("id", state, "id")
    xen.run("show", state, "show")
    xen.go()
    check_docker_like(xen)
    want = butler_formula(XEN_MAC, DOCKER_IP)
    e = xen.explain("explain")
    lib.eq((e.get("scheme.asked"), e.get("why")),
           ("auto, chose butler", "auto: universally administered MAC: Butler's ID tells machines "
            "apart"), "explain")
    lib.eq(xen.id("id"), want, "auto with a universal MAC: Butler's formula")
    lib.eq(xen.shows("show"), want, "show")
    lib.check(not os.path.exists(os.path.join(state, "random-id")), "auto made a random ID anyway")
