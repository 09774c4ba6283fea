"""Opting out: off means no ID computed, no file written, no network, exit 0."""
import os
import shutil
import subprocess

import lib

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
