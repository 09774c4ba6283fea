"""The static binary runs clean under valgrind's memcheck: show, id, report against
a local TLS server, and check. valgrind does not model seccomp, so these runs set
ANONTEL_SANDBOX=off (test_sandbox.py covers the filter)."""
import os
import shutil
import subprocess

import lib
import peers


def memcheck(tmp, args, env):
    vg = shutil.which("valgrind")
    lib.check(vg, "valgrind missing: build.sh test installs it")
    log = os.path.join(tmp, "valgrind.log")
    p = subprocess.run([vg, "--tool=memcheck", "--error-exitcode=99", "--leak-check=no",
                        "--track-origins=yes", f"--log-file={log}", lib.BIN] + list(args),
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    with open(log) as f:
        text = f.read()
    lib.check(p.returncode != 99, f"{args[0]}: memcheck errors:\n{text[-3000:]}")
    lib.check("ERROR SUMMARY: 0 errors" in text, f"{args[0]}: summary:\n{text[-1500:]}")
    return p


def test_show_and_id(tmp):
    env = peers.new_env(tmp, ANONTEL_SANDBOX="off")
    for args in (["show"], ["show", "--pretty"], ["id"], ["id", "--explain"], ["status"]):
        p = memcheck(tmp, args, env)
        lib.eq(p.returncode, 0, f"{args}: exit ({peers.describe(p)})")


def test_report_against_a_tls_server(tmp):
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, s)
        p = memcheck(tmp, ["report", "--force", "-c", cfg, "--timeout", "30s"], peers.new_env(tmp, ANONTEL_SANDBOX="off"))
        peers.expect_delivered(p, s, "report under valgrind")


def test_report_with_builtin_roots_refused(tmp):
    with peers.TLSServer() as s:
        cfg = peers.config(tmp, {"endpoint": s.url()})
        p = memcheck(tmp, ["report", "--force", "-c", cfg, "--timeout", "30s"], peers.new_env(tmp, ANONTEL_SANDBOX="off"))
        lib.eq(p.returncode, 1, "untrusted server refused")


def test_check(tmp):
    with peers.TLSServer(tls=False) as s:
        p = memcheck(tmp, ["check", s.url("/health", host="127.0.0.1"), "--timeout", "30s"],
                     peers.new_env(tmp, ANONTEL_SANDBOX="off"))
        lib.eq(p.returncode, 0, f"check exit ({peers.describe(p)})")
