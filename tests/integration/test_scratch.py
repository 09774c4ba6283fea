"""The binary alone in an empty root, as in a FROM scratch image."""
import os
import re
import shlex
import shutil
import stat
import subprocess

import lib
import runs


def test_show_in_an_empty_root(tmp):
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    shutil.copy(lib.BIN, os.path.join(root, "anontel"))
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    p = subprocess.run([chroot, root, "/anontel", "show"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env={}, timeout=30)
    lib.eq(p.returncode, 0, f"exit status (stderr {p.stderr!r})")
    msg = lib.strict_json(p.stdout)
    system = msg["data"]["system"]
    lib.eq((system["distro"], system["release"], system["codename"]),
           ("unknown", "unknown", ""), "no os-release in the root")
    lib.eq(system["platform"], "linux", "platform")
    lib.check(system["arch"], "arch comes from uname, not files")
    lib.eq(os.listdir(root), ["anontel"], "nothing written into the root")


def test_dockerfile_ends_from_scratch(tmp):
    with open(os.path.join(lib.TOP, "Dockerfile")) as f:
        text = f.read()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    lib.check(len(stages) >= 2 and stages[0].startswith("debian"), f"build stage: {stages}")
    lib.eq(stages[-1], "scratch", "final stage")
    final = text[text.rindex("FROM scratch"):]
    copies = re.findall(r"^COPY\s.*$", final, re.M)
    lib.eq(len(copies), 1, f"the final stage copies the binary alone: {copies}")
    lib.check(re.search(r'^HEALTHCHECK .*CMD \["/anontel"', final, re.M), "exec-form HEALTHCHECK")


def test_report_makes_var_lib_anontel_in_an_empty_root(tmp):
    # No volume, no /var/lib, no /tmp: the state dir and its parents are made in the
    # root (writable, as a container's is), and the message is delivered. /proc and
    # /sys are there as in every container (the butler ID reads them).
    root = os.path.join(tmp, "root")
    for d in ("proc", "sys"):
        os.makedirs(os.path.join(root, d))
    shutil.copy(lib.BIN, os.path.join(root, "anontel"))
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    q = shlex.quote(root)
    out = os.path.join(tmp, "out")
    os.mkdir(out)
    with runs.Server() as s:
        script = ("umask 022\n"
                  f"mount -t proc proc {q}/proc\n"
                  f"mount --rbind -o ro /sys {q}/sys\n")
        script += runs.step("report", f"{chroot} {q} /anontel report")
        script += runs.step("again", f"{chroot} {q} /anontel report")
        script += runs.step("status", f"{chroot} {q} /anontel status --json")
        p = runs.mountns_script(script, {"ANONTEL_ENDPOINT": s.url("/t")}, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report in an empty root ({err!r})")
        lib.check(b"warning" not in err, f"no warning: /var/lib/anontel served ({err!r})")
        lib.eq(len(s.posts), 1, "delivered")
        lib.strict_json(s.posts[0].body)
        rc, _, err = runs.result(out, "again")
        lib.eq((rc, len(s.posts)), (0, 1), f"the second run is not due: state was kept ({err!r})")
        rc, o, _ = runs.result(out, "status")
        st = lib.strict_json(o)
        lib.eq((st["stateDir"], st["delivered"]), ("/var/lib/anontel", 1), "status")
    lib.eq(sorted(os.listdir(root)), ["anontel", "proc", "sys", "var"], "only /var was made")
    modes = {d: stat.S_IMODE(os.lstat(os.path.join(root, d)).st_mode)
             for d in ("var", "var/lib", "var/lib/anontel")}
    lib.eq(modes, {"var": 0o755, "var/lib": 0o755, "var/lib/anontel": 0o700},
           "parents 0755, the state dir 0700")
    lib.check("stamps" in os.listdir(os.path.join(root, "var/lib/anontel")), "stamps kept")
