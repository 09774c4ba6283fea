"""The binary alone in an empty root, as in a FROM scratch image."""
import os
import re
import shutil
import subprocess

import lib


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
