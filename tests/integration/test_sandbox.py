"""The system-call sandbox (src/sandbox.h) as a user meets it: every verb of the real
binary runs with the filter on (`-v` says "sandbox: on (N system calls allowed)") and
still works against loopback peers; the state dir it writes is 0700 with 0600 files;
a symlink planted in the state dir is never followed.

That a forbidden call ends the process is shown by tests/unit/test_sandbox.c (forked
children call execve, ptrace, socket, open for writing... after sandbox_enter): the
product has no test hooks. Where the kernel log is readable, these tests also check
that no anontel process was killed by seccomp while they ran (audit type 1326),
which an exit status alone could hide in a test that expects a failure.
valgrind cannot run the binary with the filter on (it does not model seccomp)."""
import os
import re
import shutil
import stat
import subprocess

import lib
import peers
import runs

SANDBOX_ON = re.compile(rb"^anontel: sandbox: on \((\d+) system calls allowed\)$", re.M)
OK_REPLY = peers.OK_REPLY
REPLY_503 = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def _seccomp_kills():
    """anontel's seccomp kills in the kernel log, or None when it is not readable."""
    try:
        p = subprocess.run(["dmesg"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if p.returncode != 0:
        return None
    return [l for l in p.stdout.decode("utf-8", "replace").splitlines()
            if "type=1326" in l and 'comm="anontel"' in l]


class _NoKills:
    """Checks that no anontel process was killed by seccomp inside the block."""

    def __enter__(self):
        self.before = _seccomp_kills()
        return self

    def __exit__(self, exc, *rest):
        if exc is not None or self.before is None:
            return False
        after = _seccomp_kills() or []
        new = [l for l in after if l not in self.before]
        lib.eq(new, [], "seccomp kills of anontel in the kernel log")
        return False


def _sandboxed(p, what):
    """Exit 0, no signal, and exactly one 'sandbox: on' line; returns N."""
    lib.check(p.returncode >= 0, f"{what}: killed by signal {-p.returncode} ({peers.describe(p)})")
    lib.eq(p.returncode, 0, f"{what}: exit status ({peers.describe(p)})")
    found = SANDBOX_ON.findall(p.stderr)
    lib.eq(len(found), 1, f"{what}: one 'sandbox: on' line ({peers.describe(p)})")
    return int(found[0])


def test_every_verb_runs_sandboxed(tmp):
    with _NoKills(), peers.TLSServer() as s, peers.TLSServer(tls=False) as h:
        cfg = peers.tls_config(tmp, s)
        env = peers.new_env(tmp)
        counts = {}

        def run(what, args):
            p = lib.run(args + ["-v", "-c", cfg], env=env)
            counts[what] = _sandboxed(p, what)
            return p

        # id first: the default scheme auto may choose a random ID, which show only reads.
        p = run("id", ["id"])
        lib.check(re.fullmatch(rb"[0-9a-f]{64}\n", p.stdout), f"id prints the ID: {p.stdout!r}")
        p = run("show", ["show"])
        message = lib.strict_json(p.stdout)
        run("show --pretty", ["show", "--pretty"])
        p = run("id --explain", ["id", "--explain"])
        lib.check(b"\nid: " in p.stdout, f"id --explain output: {p.stdout!r}")
        p = run("status (no state yet)", ["status"])
        lib.check(b"telemetry: on" in p.stdout, f"status output: {p.stdout!r}")

        run("report --force", ["report", "--force"])
        lib.eq(len(s.requests), 1, "report delivered")
        got = lib.strict_json(s.requests[0].body)
        got.pop("ts"), message.pop("ts")
        lib.eq(got, message, "what report sent is what show printed")
        # Not due: it reads its config and its own state and exits before the
        # sandbox (loading the filter would cost it more than the rest: issue 13).
        p = lib.run(["report", "-v", "-c", cfg], env=env)
        lib.eq(p.returncode, 0, f"report not due: exit status ({peers.describe(p)})")
        lib.check(b"not due" in p.stderr, f"report not due: {p.stderr!r}")
        lib.eq(SANDBOX_ON.findall(p.stderr), [], "report not due: no sandbox to load")
        p = run("status", ["status"])
        lib.check(b"delivered messages: 1" in p.stdout, f"status after report: {p.stdout!r}")
        p = run("status --json", ["status", "--json"])
        lib.eq(lib.strict_json(p.stdout)["delivered"], 1, "status --json delivered")
        p = run("status --last", ["status", "--last"])
        lib.eq(p.stdout.rstrip(b"\n"), s.requests[0].body, "status --last")
        p = run("status --log", ["status", "--log"])
        lib.eq(p.stdout.rstrip(b"\n"), s.requests[0].body, "status --log")
        p = run("notice", ["notice"])
        lib.check(p.stdout.startswith(b"anontel sends anonymous"), f"notice: {p.stdout!r}")

        p = run("check http", ["check", h.url("/health")])
        lib.check(b"healthy: HTTP 200" in p.stderr, f"check: {p.stderr!r}")
        run("check https", ["check", s.url("/health")])
        run("check -k", ["check", "-k", s.url("/health")])
        run("check --report (not due)", ["check", "--report", h.url("/health")])
        lib.eq(len(s.requests), 3, "requests: 1 report, 2 checks (https, -k)")

        p = run("forget", ["forget"])
        lib.check(b"logged messages removed: 1\n" in p.stdout, f"forget: {p.stdout!r}")
        p = lib.run(["report", "-v", "-c", cfg], env=dict(env, DO_NOT_TRACK="1"))
        lib.eq(_sandboxed(p, "opted-out report"), counts["forget"], "an opted-out report: ERASE")

        local = {counts[k] for k in counts if k.split()[0] in ("show", "id", "status", "notice")}
        net = {counts[k] for k in counts if k.split()[0] == "report" or "--report" in k}
        probe = {counts[k] for k in counts if k.startswith("check") and "--report" not in k}
        lib.eq(len(local), 1, f"one count for show/id/status: {counts}")
        lib.eq(len(net), 1, f"one count for report and check --report: {counts}")
        lib.eq(len(probe), 1, f"one count for check without --report: {counts}")
        lib.check(min(net) > max(local), f"NET allows more than LOCAL: {counts}")
        lib.check(min(probe) < min(net), f"PROBE allows fewer than NET: {counts}")
        lib.check(counts["forget"] < min(net), f"ERASE allows fewer than NET: {counts}")
        lib.check(counts["forget"] not in local | net | probe, f"forget has its own class: {counts}")


def test_check_runs_in_the_probe_class(tmp):
    """check without --report enters PROBE (no state writes, no fork): a probe of
    http://localhost whose http -> https redirect loads SSL_CERT_FILE after the filter
    is on (open read-only, read) works; with
    --report the same probe gets NET, which allows more."""
    root = peers.certs().root
    with _NoKills(), peers.TLSServer(reply=OK_REPLY) as secure, runs.Server() as plain:
        def route(r):
            if r.target == "/up":
                return runs.Reply(302, headers=[("Location", secure.url("/secure"))], body=b"")
            return runs.Reply(200, body=b"ok")
        plain.route = route
        env = peers.new_env(tmp, SSL_CERT_FILE=root)
        p = lib.run(["check", "-v", f"http://localhost:{plain.port}/up"], env=env)
        probe = _sandboxed(p, "check, redirect to https")
        lib.check(b"healthy: HTTP 200" in p.stderr, f"check: {p.stderr!r}")
        lib.eq([r.target for r in secure.requests], ["/secure"], "the https server got the probe")
        cfg = peers.config(tmp, {"enabled": False})
        p = lib.run(["check", "-v", "--report", "-c", cfg, plain.url("/health")], env=env)
        net = _sandboxed(p, "check --report")
        lib.check(probe < net, f"PROBE ({probe}) allows fewer calls than NET ({net})")


def test_report_keeps_and_resends_sandboxed(tmp):
    """The write paths: a 503 keeps the message (kept/, stamps, back-off); a later run
    sends the kept one and a new one and renames them into the audit log."""
    with _NoKills():
        env = peers.new_env(tmp)
        with peers.TLSServer(reply=REPLY_503) as bad:
            cfg = peers.tls_config(tmp, bad)
            p = lib.run(["report", "--force", "-v", "-c", cfg], env=env)
            lib.check(p.returncode >= 0, f"503: killed ({peers.describe(p)})")
            lib.eq(p.returncode, 1, f"503: not delivered ({peers.describe(p)})")
            lib.eq(len(SANDBOX_ON.findall(p.stderr)), 1, f"503: sandbox on ({peers.describe(p)})")
        kept = runs.kept_names(env["ANONTEL_STATE_DIR"])
        lib.eq(len(kept), 1, "one kept message")
        with peers.TLSServer() as good:
            cfg = peers.tls_config(tmp, good)
            p = lib.run(["report", "--force", "-v", "-c", cfg], env=env)
            _sandboxed(p, "resend")
            lib.eq(len(good.requests), 2, "the kept message and a new one")
        lib.eq(runs.kept_names(env["ANONTEL_STATE_DIR"]), [], "kept/ emptied")
        lib.eq(len(runs.log_names(env["ANONTEL_STATE_DIR"])), 2, "both in the audit log")


def test_hosts_name_sandboxed(tmp):
    """A name from /etc/hosts with two addresses: dns.c reads /etc/hosts and
    resolv.conf inside the filter, then two connects. (DNS itself in the sandbox:
    test_dns.)"""
    binds = {"/etc/hosts": peers.hosts_file(tmp, peers.MULTI_HOSTS)}
    with _NoKills(), peers.TLSServer(peers.certs().names, host=peers.MULTI_SERVER) as s:
        cfg = peers.tls_config(tmp, s, endpoint=f"https://multi.test:{s.port}/collect")
        p, _ = peers.run_in_mountns(["report", "--force", "-v", "-c", cfg],
                                    env=peers.new_env(tmp), binds=binds)
        _sandboxed(p, "report to multi.test")
        lib.eq(len(s.requests), 1, "delivered to the second address")


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_state_files_0600_in_0700_dir(tmp):
    with _NoKills():
        env = peers.new_env(tmp)
        state = os.path.join(env["ANONTEL_STATE_DIR"], "fresh")   # made by anontel
        env["ANONTEL_STATE_DIR"] = state
        old = os.umask(0)   # the modes must not depend on the caller's umask
        try:
            with peers.TLSServer(reply=REPLY_503) as bad:
                p = lib.run(["report", "--force", "-c", peers.tls_config(tmp, bad)], env=env)
                lib.eq(p.returncode, 1, f"503 ({peers.describe(p)})")
            with peers.TLSServer(reply=REPLY_503) as bad:   # a second kept message
                p = lib.run(["report", "--force", "-c", peers.tls_config(tmp, bad)], env=env)
                lib.eq(p.returncode, 1, f"503 again ({peers.describe(p)})")
            kept_dir = os.path.join(state, "kept")
            lib.eq(_mode(state), 0o700, "state dir mode")
            lib.eq(_mode(kept_dir), 0o700, "kept/ mode")
            kept = sorted(os.listdir(kept_dir))
            lib.eq(len(kept), 2, "two kept messages")
            for name in kept:
                lib.eq(_mode(os.path.join(kept_dir, name)), 0o600, f"kept/{name} mode")
            with peers.TLSServer() as good:
                p = lib.run(["report", "--force", "-c", peers.tls_config(tmp, good)], env=env)
                lib.eq(p.returncode, 0, f"delivered ({peers.describe(p)})")
        finally:
            os.umask(old)
        names = sorted(os.listdir(state))
        # random-id: when the default scheme auto chose a random ID on this machine
        made = ["random-id"] if "random-id" in names else []
        lib.eq(names, sorted(["kept", "lock", "stamps"] + made), "state dir listing")
        logged = [os.path.join("kept", n) for n in runs.log_names(state)]
        lib.eq(len(logged), 3, "the three delivered messages in the audit log")
        for name in ["lock", "stamps"] + made + logged:
            path = os.path.join(state, name)
            lib.check(stat.S_ISREG(os.lstat(path).st_mode), f"{name} is a regular file")
            lib.eq(_mode(path), 0o600, f"{name} mode")
            lib.eq(os.lstat(path).st_uid, os.geteuid(), f"{name} owner")


def _planted(tmp, what):
    """A file and a directory outside the state dir, with old mtimes."""
    target = os.path.join(tmp, f"precious-{what}")
    with open(target, "w") as f:
        f.write("precious\n")
    other = os.path.join(tmp, f"elsewhere-{what}")
    os.mkdir(other)
    with open(os.path.join(other, "mine"), "w") as f:
        f.write("mine\n")
    os.chmod(target, 0o640)
    for path in (target, other, os.path.join(other, "mine")):
        os.utime(path, (1000000000, 1000000000))
    return target, other


def _unchanged(target, other, what):
    with open(target) as f:
        lib.eq(f.read(), "precious\n", f"{what}: the link's target file content")
    lib.eq(os.stat(target).st_mtime, 1000000000, f"{what}: target file mtime")
    lib.eq(_mode(target), 0o640, f"{what}: target file mode")
    lib.eq(sorted(os.listdir(other)), ["mine"], f"{what}: the other dir's entries")
    lib.eq(os.stat(other).st_mtime, 1000000000, f"{what}: other dir mtime")


def test_symlinks_in_state_dir_not_followed(tmp):
    with _NoKills(), peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, s)
        # stamps -> a file elsewhere: read and write both refuse it; nothing is sent.
        env = peers.new_env(tmp)
        target, other = _planted(tmp, "stamps")
        os.symlink(target, os.path.join(env["ANONTEL_STATE_DIR"], "stamps"))
        p = lib.run(["report", "--force", "-c", cfg], env=env)
        peers.expect_failure(p, 1, ["symbolic link"], "stamps symlink")
        _unchanged(target, other, "stamps -> file")
        lib.eq(len(s.requests), 0, "nothing sent with a planted stamps link")
        lib.check(os.path.islink(os.path.join(env["ANONTEL_STATE_DIR"], "stamps")),
                  "the stamps link is left alone")

        # kept -> another directory: the message is not kept there, nothing is sent.
        env = peers.new_env(tmp)
        target, other = _planted(tmp, "kept")
        os.symlink(other, os.path.join(env["ANONTEL_STATE_DIR"], "kept"))
        p = lib.run(["report", "--force", "-c", cfg], env=env)
        peers.expect_failure(p, 1, ["symbolic link"], "kept symlink")
        _unchanged(target, other, "kept -> dir")
        lib.eq(len(s.requests), 0, "nothing sent with a planted kept link")

        # lock -> a file elsewhere: refused, not created through.
        env = peers.new_env(tmp)
        target, other = _planted(tmp, "lock")
        os.symlink(target, os.path.join(env["ANONTEL_STATE_DIR"], "lock"))
        p = lib.run(["report", "--force", "-c", cfg], env=env)
        peers.expect_failure(p, 1, ["symbolic link"], "lock symlink")
        _unchanged(target, other, "lock -> file")

        # last.json -> a file elsewhere (a dangling one too): the delivery goes
        # through, the audit copy is not written through the link.
        env = peers.new_env(tmp)
        target, other = _planted(tmp, "last")
        os.symlink(target, os.path.join(env["ANONTEL_STATE_DIR"], "last.json"))
        p = lib.run(["report", "--force", "-c", cfg], env=env)
        lib.eq(p.returncode, 0, f"last.json symlink: delivered ({peers.describe(p)})")
        _unchanged(target, other, "last.json -> file")
        lib.eq(len(s.requests), 1, "delivered once")

        env = peers.new_env(tmp)
        dangling = os.path.join(tmp, "would-be-created")
        os.symlink(dangling, os.path.join(env["ANONTEL_STATE_DIR"], "stamps"))
        p = lib.run(["report", "--force", "-c", cfg], env=env)
        lib.eq(p.returncode, 1, f"dangling stamps link ({peers.describe(p)})")
        lib.check(not os.path.lexists(dangling), "nothing created through a dangling link")


def test_refused_sandbox_goes_on(tmp):
    """Where the kernel refuses (simulated with strace's error injection: first
    no_new_privs, then only the seccomp prctl), the verb still works, and only -v
    says so, in one line."""
    strace = shutil.which("strace")
    lib.check(strace, "strace missing: build.sh test installs it")
    cases = [("prctl:error=EINVAL:when=1", b"the kernel refused no_new_privs: Invalid argument"),
             ("prctl:error=EINVAL:when=2", b"the kernel refused seccomp: Invalid argument")]
    with peers.TLSServer() as s:
        cfg = peers.tls_config(tmp, s)
        for n, (inject, why) in enumerate(cases, 1):
            for verbose in (True, False):
                env = peers.new_env(tmp)
                argv = [strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=prctl",
                        "-e", "inject=" + inject, lib.BIN, "report", "--force", "-c", cfg]
                argv += ["-v"] if verbose else []
                p = subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   stdin=subprocess.DEVNULL, timeout=30)
                what = f"{inject} {'-v' if verbose else ''}"
                lib.eq(p.returncode, 0, f"{what}: delivered ({peers.describe(p)})")
                lib.eq(SANDBOX_ON.findall(p.stderr), [], f"{what}: no 'sandbox: on'")
                lines = [l for l in p.stderr.splitlines() if b"sandbox" in l]
                want = [b"anontel: sandbox: not available: " + why] if verbose else []
                lib.eq(lines, want, f"{what}: what is said about the sandbox")
        lib.eq(len(s.requests), 2 * len(cases), "every run delivered")
    # show (LOCAL) too.
    p = subprocess.run([strace, "-f", "-qq", "-o", "/dev/null", "-e", "trace=prctl", "-e",
                        "inject=prctl:error=ENOSYS", lib.BIN, "show", "-v"],
                       env=peers.new_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=30)
    lib.eq(p.returncode, 0, f"show: ({peers.describe(p)})")
    lib.strict_json(p.stdout)
    lib.check(b"anontel: sandbox: not available: the kernel refused no_new_privs: "
              b"Function not implemented\n" in p.stderr, f"show -v: {p.stderr!r}")
