"""The system-call budget of a delivered report (SPEC §11 Performance: at most 80 system
calls and 2 fsyncs), counted as the bench counts them (strace -f -c): a report --force
over TLS (ECDSA P-256 leaf, the CA file of the test root) to a loopback OpenSSL server,
state dir on disk, the default ID scheme, after a first run has made the state dir and
the ID. Every run is also checked to have been delivered, so a run that fails early
cannot pass on a small count. The server sends three flights (its hello, its Finished,
the reply), each read with one poll and one recv; when the kernel hands a flight over
in pieces (a loaded machine), each further piece costs a poll and a recv more, which
the count allows for and says."""
import os
import shutil
import subprocess

import lib
import peers

MAX_CALLS = 80
MAX_FSYNCS = 2      # the budget; a delivered report makes none (state.h), and is held to that
SERVER_FLIGHTS = 3


def _counted(tmp, cfg, env):
    log = os.path.join(tmp, "strace-c.txt")
    p = subprocess.run(["strace", "-f", "-c", "-o", log, lib.BIN, "report", "--force", "-q",
                        "-c", cfg], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=30)
    total = None
    calls = {}
    for line in open(log):
        f = line.split()
        if len(f) >= 4 and f[-1] == "total":
            total = int(f[3])
        elif len(f) >= 5 and f[3].isdigit():
            calls[f[-1]] = int(f[3])
            if len(f) == 6:       # an errors column
                calls[f[-1] + " failed"] = int(f[4])
    return p, total, calls


def test_delivered_report_within_the_budget(tmp):
    lib.check(shutil.which("strace"), "strace is not installed (./build.sh test installs it)")
    state = os.path.join(lib.TOP, "build", "test-budget-state-" + os.path.basename(tmp))
    shutil.rmtree(state, ignore_errors=True)
    try:
        with peers.TLSServer() as s:
            cfg = peers.tls_config(tmp, s, stateDir=state)
            env = peers.new_env(tmp)
            env.pop("SSL_CERT_FILE", None)
            first = lib.run(["report", "--force", "-q", "-c", cfg], env=env)
            peers.expect_delivered(first, s, "first report (makes the state dir and the ID)")
            for n in (2, 3):
                p, total, calls = _counted(tmp, cfg, env)
                peers.expect_delivered(p, s, f"report {n} under strace", n=n)
                lib.check(total is not None, "strace -c printed a total")
                pieces = max(0, calls.get("recvfrom", 0) - SERVER_FLIGHTS)
                lib.check(total <= MAX_CALLS + 2 * pieces,
                          f"report {n}: {total} system calls (budget {MAX_CALLS}, "
                          f"+2 for each of {pieces} flights read in a further piece): {calls}")
                lib.eq(calls.get("fsync", 0) + calls.get("fdatasync", 0), 0,
                       f"report {n}: fsyncs (budget {MAX_FSYNCS})")
    finally:
        shutil.rmtree(state, ignore_errors=True)


def test_a_full_audit_log_stays_within_the_budget(tmp):
    """Once 32 delivered messages are logged, each delivery also removes the oldest
    entry (one unlinkat more than the stamps swaps' own): still within the budget, and
    still no fsync."""
    lib.check(shutil.which("strace"), "strace is not installed (./build.sh test installs it)")
    state = os.path.join(lib.TOP, "build", "test-budget-log-" + os.path.basename(tmp))
    shutil.rmtree(state, ignore_errors=True)
    try:
        with peers.TLSServer() as s:
            cfg = peers.tls_config(tmp, s, stateDir=state)
            env = peers.new_env(tmp)
            env.pop("SSL_CERT_FILE", None)
            for n in range(1, 34):
                p = lib.run(["report", "--force", "-q", "-c", cfg], env=env)
                peers.expect_delivered(p, s, f"report {n}", n=n)
            p, total, calls = _counted(tmp, cfg, env)
            peers.expect_delivered(p, s, "report 34 under strace", n=34)
            pieces = max(0, calls.get("recvfrom", 0) - SERVER_FLIGHTS)
            swaps = calls.get("renameat2", 0) - calls.get("renameat2 failed", 0)
            lib.eq(calls.get("unlinkat", 0) - swaps, 1,
                   f"the oldest log entry removed (and the old stamps after each swap): "
                   f"{calls}")
            lib.check(total <= MAX_CALLS + 2 * pieces,
                      f"{total} system calls with a full audit log (budget {MAX_CALLS}, +2 for "
                      f"each of {pieces} flights read in a further piece): {calls}")
            lib.eq(calls.get("fsync", 0) + calls.get("fdatasync", 0), 0,
                   f"fsyncs (budget {MAX_FSYNCS})")
            print(f"# a delivered report with a full audit log: {total} system calls")
    finally:
        shutil.rmtree(state, ignore_errors=True)
