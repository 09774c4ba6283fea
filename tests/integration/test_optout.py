"""Opting out: off means no ID computed, no network, exit 0, and no file written but
the removal of what was kept while on (kept messages, the audit log, the random ID),
which report and check --report do the first time they see the opt-out."""
import fcntl
import os
import re
import shutil
import subprocess

import lib
import runs

OFF_CASES = [
    ("DO_NOT_TRACK=1", {"DO_NOT_TRACK": "1"}, None, b"DO_NOT_TRACK"),
    ("DO_NOT_TRACK=true", {"DO_NOT_TRACK": "true"}, None, b"DO_NOT_TRACK"),
    ("ANONTEL_DISABLED=true", {"ANONTEL_DISABLED": "true"}, None, b"ANONTEL_DISABLED"),
    ("ANONTEL_DISABLED=yes", {"ANONTEL_DISABLED": "yes"}, None, b"ANONTEL_DISABLED"),
    ("enabled false", {}, {"enabled": False}, b"enabled"),
]
ON_CASES = [("DO_NOT_TRACK=0", {"DO_NOT_TRACK": "0"}), ("DO_NOT_TRACK empty", {"DO_NOT_TRACK": ""}),
            ("ANONTEL_DISABLED=false", {"ANONTEL_DISABLED": "false"}),
            ("ANONTEL_DISABLED=0", {"ANONTEL_DISABLED": "0"})]


def args_for(tmp, verb, config):
    argv = [verb]
    if config is not None:
        argv += ["-c", lib.write_config(tmp, config)]
    return argv


def traced(tmp, argv, env):
    """Runs anontel under strace; returns (CompletedProcess, files opened, sockets made)."""
    log = os.path.join(tmp, "strace.log")
    cmd = ["strace", "-f", "-qq", "-e", "trace=open,openat,socket,creat,mkdir,rename",
           "-o", log, lib.BIN] + argv
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    with open(log) as f:
        calls = f.read()
    return p, calls


def test_off_rules_show_and_id(tmp):
    lib.check(shutil.which("strace"), "strace missing")
    state = os.path.join(tmp, "state")
    for name, env, config, rule in OFF_CASES:
        for verb in ("show", "id"):
            p, calls = traced(tmp, args_for(tmp, verb, config),
                              lib.base_env(ANONTEL_STATE_DIR=state, **env))
            lib.eq(p.returncode, 0, f"{name} {verb}: exit")
            lib.eq(p.stdout, b"", f"{name} {verb}: stdout")
            lib.check(b"off" in p.stderr and rule in p.stderr,
                      f"{name} {verb}: stderr names the rule: {p.stderr!r}")
            for needle in ("/proc/net/route", "/sys/class/net", "machine-id", "product_uuid",
                           "socket(", "mkdir(", "rename(", "creat(", "O_CREAT"):
                lib.check(needle not in calls, f"{name} {verb}: computed or wrote ({needle})")
            lib.check(not os.path.exists(state), f"{name} {verb}: state dir created")


def test_env_optout_reads_no_config(tmp):
    bad = lib.write_config(tmp, "{ not json")
    p = lib.run(["show", "-c", bad], env=lib.base_env(DO_NOT_TRACK="1"))
    lib.eq(p.returncode, 0, f"opted out by env even with a broken config: {p.stderr!r}")


def test_values_that_do_not_opt_out(tmp):
    for name, env in ON_CASES:
        p = lib.run(["show"], env=lib.base_env(ANONTEL_STATE_DIR=os.path.join(tmp, "s"), **env))
        lib.eq(p.returncode, 0, f"{name}: exit")
        msg = lib.strict_json(p.stdout)
        lib.check("data" in msg, f"{name}: a message is shown")


def test_status_names_the_rule(tmp):
    for name, env, config, rule in OFF_CASES:
        p = lib.run(args_for(tmp, "status", config), env=lib.base_env(**env))
        lib.eq(p.returncode, 0, f"{name}: status exit")
        lib.check(b"telemetry: off" in p.stdout, f"{name}: status says off: {p.stdout!r}")
        lib.check(rule in p.stdout, f"{name}: status names the rule: {p.stdout!r}")
    p = lib.run(["status"], env=lib.base_env())
    lib.check(b"telemetry: on" in p.stdout and b"default" in p.stdout, f"on: {p.stdout!r}")


# ---- opting out removes what was kept, and writes nothing else (SPEC §11 "Trust")

RANDOM = {"id": {"scheme": "random"}}
# Calls that make or change a file or a directory entry; only unlinkat may appear.
_CHANGES = {"rename", "renameat", "renameat2", "link", "linkat", "symlink", "symlinkat",
            "mkdir", "mkdirat", "rmdir", "truncate", "ftruncate", "fsync", "fdatasync",
            "sync", "syncfs", "chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat",
            "lchown", "utimensat", "futimesat", "utimes", "mknod", "mknodat", "setxattr",
            "fsetxattr", "lsetxattr", "fallocate", "copy_file_range", "splice", "sendfile",
            "unlink", "creat"}
_WRITES = {"write", "pwrite64", "writev", "pwritev", "pwritev2"}
_OPEN_FOR_WRITE = ("O_WRONLY", "O_RDWR", "O_CREAT", "O_TRUNC", "O_APPEND", "O_TMPFILE")
_LINE = re.compile(r"^(?:\d+ +)?(\w+)\((.*)$")


def _fill(tmp, state, cfg):
    """Two delivered messages (the audit log), one kept, the random ID."""
    with runs.Server() as s:
        for _ in range(2):
            p, _ = runs.run(["report", "--force", "-q", "-c", cfg], runs.env(state, s.url()))
            lib.eq(p.returncode, 0, f"delivered ({runs.describe(p)})")
    p, _ = runs.run(["report", "--force", "-q", "-c", cfg], runs.env(state, runs.dead_url()))
    lib.eq(p.returncode, 1, "one kept")
    lib.eq((len(runs.log_names(state)), len(runs.kept_names(state))), (2, 1), "filled")
    lib.check(os.path.exists(os.path.join(state, "random-id")), "random-id made")


def _all_calls(tmp, argv, env):
    """Runs anontel under strace -f -y (every call, descriptors with their paths);
    returns (CompletedProcess, [(name, rest of the line)])."""
    log = os.path.join(tmp, "strace-all-%d.log" % len(os.listdir(tmp)))
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-s", "256", "-o", log, lib.BIN] + argv,
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=30)
    calls = []
    with open(log) as f:
        for line in f:
            m = _LINE.match(line.strip())
            if m:
                calls.append((m.group(1), m.group(2)))
    return p, calls


def _only_unlinks(calls, state, what):
    """Every call that could change a file is an unlinkat of a name in the state dir
    (or kept/), and writes go to stdout or stderr only. Returns the unlinkats."""
    unlinks = []
    for name, rest in calls:
        if name == "execve":
            continue
        lib.check(name not in _CHANGES, f"{what}: {name}({rest}")
        if name in ("open", "openat", "openat2"):
            lib.check(not any(f in rest for f in _OPEN_FOR_WRITE), f"{what}: {name}({rest}")
        if name in _WRITES:
            lib.check(rest.startswith(("1<", "2<")), f"{what}: a write to a file: {name}({rest}")
        if name == "unlinkat":
            lib.check(rest.startswith((f"3<{state}>", f"{state}")) or f"<{state}>" in rest
                      or f"<{state}/kept>" in rest, f"{what}: an unlink outside the state dir: "
                      f"{rest}")
            unlinks.append(rest)
    return unlinks


def test_opting_out_removes_what_was_kept_and_writes_nothing_else(tmp):
    lib.check(shutil.which("strace"), "strace missing")
    cases = [("DO_NOT_TRACK=1", {"DO_NOT_TRACK": "1"}, RANDOM),
             ("ANONTEL_DISABLED=1", {"ANONTEL_DISABLED": "1"}, RANDOM),
             ("enabled false", {}, dict(RANDOM, enabled=False))]
    for i, (name, env_extra, off_config) in enumerate(cases):
        state = os.path.join(tmp, f"state{i}")
        on_cfg = lib.write_config(tmp, RANDOM, name=f"on{i}.json")
        off_cfg = lib.write_config(tmp, off_config, name=f"off{i}.json")
        _fill(tmp, state, on_cfg)
        stamps = os.path.join(state, "stamps")
        before = (runs.read(stamps), os.stat(stamps).st_mtime_ns, os.stat(stamps).st_ino)
        e = runs.env(state, runs.dead_url(), **env_extra)
        p, calls = _all_calls(tmp, ["report", "-c", off_cfg], e)
        lib.eq(p.returncode, 0, f"{name}: exit ({runs.describe(p)})")
        unlinks = _only_unlinks(calls, state, name)
        lib.eq(len([u for u in unlinks if u.endswith("= 0")]), 4,
               f"{name}: 4 files removed (1 kept, 2 logged, random-id): {unlinks}")
        lib.eq((runs.kept_names(state), runs.log_names(state)), ([], []), f"{name}: kept/ emptied")
        lib.check(not os.path.exists(os.path.join(state, "random-id")), f"{name}: random-id gone")
        lib.eq((runs.read(stamps), os.stat(stamps).st_mtime_ns, os.stat(stamps).st_ino), before,
               f"{name}: the stamps untouched")
        lib.check(b"random ID removed: yes" in p.stderr, f"{name}: it says so: {p.stderr!r}")
        lib.check(not any(n in ("socket", "connect") for n, _ in calls), f"{name}: no network")
        # The next opted-out run finds nothing: no removal, nothing said but the rule.
        p, calls = _all_calls(tmp, ["report", "-c", off_cfg], e)
        lib.eq(p.returncode, 0, f"{name}: second run")
        unlinks = _only_unlinks(calls, state, f"{name} (second run)")
        lib.eq([u for u in unlinks if u.endswith("= 0")], [], f"{name}: nothing left to remove")
        lib.check(b"removed" not in p.stderr, f"{name}: nothing said: {p.stderr!r}")


def test_opted_out_check_report_removes_too(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, RANDOM, name="random.json")
    _fill(tmp, state, cfg)
    with runs.Server() as health:
        e = runs.env(state, runs.dead_url(), DO_NOT_TRACK="1")
        p, calls = _all_calls(tmp, ["check", "--report", "-q", "-c", cfg, health.url("/up")], e)
    lib.eq(p.returncode, 0, f"healthy ({runs.describe(p)})")
    _only_unlinks([c for c in calls if c[0] not in ("socket", "connect")], state, "check --report")
    lib.eq((runs.kept_names(state), runs.log_names(state)), ([], []), "kept/ emptied")
    lib.check(not os.path.exists(os.path.join(state, "random-id")), "random-id gone")
    lib.eq(p.stderr, b"", "-q: nothing said")


def test_reading_verbs_remove_nothing_when_off(tmp):
    """show, id, status, notice write nothing, also when telemetry is off; a run that
    finds the lock held leaves the removal to a later run."""
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, RANDOM, name="random.json")
    _fill(tmp, state, cfg)
    e = runs.env(state, DO_NOT_TRACK="1")
    for verb in (["show"], ["id"], ["status"], ["status", "--log"], ["notice"]):
        p, calls = _all_calls(tmp, verb + ["-c", cfg], e)
        lib.eq(p.returncode, 0, f"{verb}: exit ({runs.describe(p)})")
        lib.eq(_only_unlinks(calls, state, str(verb)), [], f"{verb}: no unlink")
    lib.eq((len(runs.kept_names(state)), len(runs.log_names(state))), (1, 2), "all still there")
    with open(os.path.join(state, "lock"), "rb") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p, _ = runs.run(["report", "-c", cfg], e)
    lib.eq(p.returncode, 0, "busy: exit 0")
    lib.eq((len(runs.kept_names(state)), len(runs.log_names(state))), (1, 2),
           "another run held the lock: nothing removed")
    p, _ = runs.run(["report", "-q", "-c", cfg], e)
    lib.eq((runs.kept_names(state), runs.log_names(state)), ([], []), "the next run removes them")


def test_a_broken_config_leaves_everything(tmp):
    """Opted out by the environment with a config file that does not parse: where the
    state is cannot be known for sure, so nothing is removed (and exit 0 as before)."""
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, RANDOM, name="random.json")
    _fill(tmp, state, cfg)
    bad = lib.write_config(tmp, "{ nope", name="bad.json")
    p, _ = runs.run(["report", "-c", bad], runs.env(state, DO_NOT_TRACK="1"))
    lib.eq(p.returncode, 0, f"exit 0 ({runs.describe(p)})")
    lib.eq((len(runs.kept_names(state)), len(runs.log_names(state))), (1, 2), "nothing removed")
