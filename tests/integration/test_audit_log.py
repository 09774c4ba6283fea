"""The audit log (SPEC §11 "Trust", docs/telemetry.md): the last 32 delivered messages
kept verbatim in the state dir (kept/NNN.sent, 0600 in 0700 directories); `status --log`
prints them oldest first, one a line, byte for byte as the server received them;
`status --last` is the newest. A failed send is not logged. What it costs a delivered
report: one rename, and one unlink of the oldest entry once 32 are logged; no fsync."""
import os
import re
import stat
import subprocess

import lib
import runs


def _log(e, *extra):
    p, _ = runs.run(["status", "--log", *extra], e)
    return p


def _delivered(e, n):
    """n forced reports, each delivered (exit 0)."""
    for i in range(n):
        p, _ = runs.run(["report", "--force", "-q"], e)
        lib.eq(p.returncode, 0, f"report {i} delivered ({runs.describe(p)})")


def test_log_holds_the_last_32_delivered_verbatim(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        _delivered(e, 35)
        bodies = [r.body for r in s.posts]
    lib.eq(len(bodies), 35, "35 delivered")
    p = _log(e)
    lib.eq(p.returncode, 0, f"status --log ({runs.describe(p)})")
    lib.eq(p.stderr, b"", "nothing on stderr")
    lines = p.stdout.split(b"\n")
    lib.eq(lines[-1], b"", "the output ends with a newline")
    lib.eq(lines[:-1], bodies[-32:], "the last 32 messages, oldest first, as the server got them")
    for line in lines[:-1]:
        lib.strict_json(line)
    p, _ = runs.run(["status", "--last"], e)
    lib.eq(p.stdout, bodies[-1] + b"\n", "status --last is the newest entry")
    names = runs.log_names(state)
    lib.eq(len(names), 32, f"32 entries in kept/: {names}")
    lib.eq(runs.kept_names(state), [], "nothing waits")
    kept = runs.kept_dir(state)
    lib.eq(stat.S_IMODE(os.stat(kept).st_mode), 0o700, "kept/ 0700")
    lib.eq(stat.S_IMODE(os.stat(state).st_mode), 0o700, "state dir 0700")
    for n in names:
        st = os.lstat(os.path.join(kept, n))
        lib.check(stat.S_ISREG(st.st_mode), f"{n} is a regular file")
        lib.eq(stat.S_IMODE(st.st_mode), 0o600, f"{n} mode")
    js = runs.status_json(e)
    lib.eq((js["logged"], js["delivered"]), (32, 35), "status --json: logged, delivered")
    p, _ = runs.run(["status"], e)
    lib.check(b"\nlogged messages: 32 " in p.stdout, f"status says 32 logged: {p.stdout!r}")


def test_a_failed_send_is_not_logged(tmp):
    state = os.path.join(tmp, "state")
    e = runs.env(state, runs.dead_url())
    p, _ = runs.run(["report", "--force", "-q"], e)
    lib.eq(p.returncode, 1, "not delivered")
    lib.eq(runs.log_names(state), [], "nothing logged")
    lib.eq(len(runs.kept_names(state)), 1, "the message is kept")
    with runs.Server(route=lambda r: runs.Reply(400)) as s:
        p, _ = runs.run(["report", "--force", "-q"], runs.env(state, s.url()))
        lib.eq(p.returncode, 1, "refused for good")
    lib.eq(runs.log_names(state), [], "a message refused for good is not logged")
    p = _log(runs.env(state))
    lib.eq((p.returncode, p.stdout), (0, b""), "an empty log: exit 0, nothing on stdout")
    lib.eq(runs.stderr_lines(p), ["anontel: status --log: no delivered message is logged"],
           "and one line on stderr")
    p = _log(runs.env(state), "-q")
    lib.eq((p.returncode, p.stdout, p.stderr), (0, b"", b""), "-q: nothing at all")


def test_an_entry_a_power_cut_emptied_is_refused(tmp):
    """The newest entry is not fsynced (docs/configuration.md, "Durability"): a power cut
    can leave it empty or cut off. status --log prints the whole entries before it, then
    refuses it with one line and exit 1; status --last refuses it too."""
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        _delivered(runs.env(state, s.url()), 2)
    first, second = runs.log_bytes(state)
    for torn in (b"", second[:len(second) // 2]):
        with open(os.path.join(runs.kept_dir(state), runs.log_names(state)[-1]), "wb") as f:
            f.write(torn)
        p = _log(runs.env(state))
        lib.eq(p.returncode, 1, f"refused ({torn[:20]!r})")
        lib.eq(p.stdout, first + b"\n", "the whole entry before it is printed")
        lib.eq(runs.stderr_lines(p), ["anontel: status --log: an entry is not one line of JSON "
                                      "(refused)"], "one line on stderr")
        p, _ = runs.run(["status", "--last"], runs.env(state))
        lib.eq((p.returncode, p.stdout), (1, b""), "status --last refuses it too")
        lib.eq(runs.stderr_lines(p), ["anontel: status --last: the entry is not one line of "
                                      "JSON (refused)"], "with one line")


def test_log_with_no_state_dir_yet(tmp):
    e = runs.env(os.path.join(tmp, "none", "state"))
    p = _log(e)
    lib.eq((p.returncode, p.stdout), (0, b""), "no state dir: an empty log")
    p, _ = runs.run(["status", "--last"], e)
    lib.eq((p.returncode, runs.stderr_lines(p)),
           (1, ["anontel: status --last: no message has been delivered yet"]),
           "no state dir: status --last as with an empty log")
    lib.check(not os.path.exists(os.path.join(tmp, "none")), "status made nothing")


def test_options_that_do_not_go_with_log(tmp):
    e = runs.env(os.path.join(tmp, "state"))
    for extra, word in ((["--last"], "--last"), (["--json"], "--json")):
        p = _log(e, *extra)
        lib.eq(p.returncode, 2, f"--log {extra}: exit 2 ({runs.describe(p)})")
        lib.check(word.encode() in p.stderr, f"the line names {word}: {p.stderr!r}")
    p, _ = runs.run(["report", "--log"], e)
    lib.eq(p.returncode, 2, "--log is status's")


def test_an_earlier_versions_last_json(tmp):
    """last.json (what status --last read before the log) is shown until the first
    logged delivery, which removes it."""
    state = os.path.join(tmp, "state")
    os.makedirs(state, mode=0o700)
    old = b'{"ts":"2024-01-01T00:00:00.000Z","data":{}}'
    with open(os.path.join(state, "last.json"), "wb") as f:
        f.write(old)
    os.chmod(os.path.join(state, "last.json"), 0o600)
    p, _ = runs.run(["status", "--last"], runs.env(state))
    lib.eq(p.stdout, old + b"\n", "status --last shows last.json while the log is empty")
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force", "-q"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, "delivered")
        body = s.posts[0].body
    lib.check(not os.path.exists(os.path.join(state, "last.json")), "last.json removed")
    p, _ = runs.run(["status", "--last"], runs.env(state))
    lib.eq(p.stdout, body + b"\n", "then the newest log entry")


_CALL = re.compile(r"^(?:\[pid +\d+\] |\d+ +)?(\w+)\((.*)\) += (-?\d+)")


def _traced_report(tmp, e):
    """A delivered `report --force` under strace -f -y (descriptors shown with their
    paths); returns [(name, args, result)]."""
    log = os.path.join(tmp, "strace-%d.log" % len(os.listdir(tmp)))
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-o", log, lib.BIN, "report", "--force",
                        "-q"],
                       env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=30)
    lib.eq(p.returncode, 0, f"delivered under strace ({runs.describe(p)})")
    calls = []
    with open(log) as f:
        for line in f:
            m = _CALL.match(line.strip())
            if m:
                calls.append((m.group(1), m.group(2), int(m.group(3))))
    return calls


def test_the_log_costs_one_rename_per_delivery(tmp):
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        _delivered(e, 1)                                   # the dirs, the ID
        calls = _traced_report(tmp, e)
        renames = [c for c in calls if c[0].startswith("rename")]
        to_log = [c for c in renames if re.search(r'"\d{20}\.json", \d+<[^>]*/kept>, '
                                                  r'"\d{20}\.sent"', c[1])]
        lib.eq(len(to_log), 1, f"one rename into the log: {renames}")
        unlinks = [c for c in calls if c[0] == "unlinkat" and ".sent" in c[1]]
        lib.eq(unlinks, [], "no log entry removed while fewer than 32")
        fsyncs = [c for c in calls if c[0] in ("fsync", "fdatasync")]
        lib.eq(fsyncs, [], "no fsync: the delivered message needs none")
        _delivered(e, 32)
        lib.eq(len(runs.log_names(state)), 32, "a full log")
        calls = _traced_report(tmp, e)
        unlinks = [c for c in calls if c[0] == "unlinkat" and ".sent" in c[1]]
        lib.eq(len(unlinks), 1, f"a full log: one unlink of the oldest entry: {unlinks}")
        lib.eq(unlinks[0][2], 0, "which succeeds")
        listed = [c[1].split(",")[0] for c in calls if c[0] == "getdents64" and c[2] > 0]
        lib.eq(len([d for d in listed if d.endswith("/kept>")]), 1,
               f"kept/ listed once, the log with it: no listing of its own: {listed}")
        lib.eq(len(runs.log_names(state)), 32, "still 32")
        print(f"# a delivered report with a full log: {len(calls)} system calls under strace")
