#!/usr/bin/env python3
"""anontel's test runner: unit binaries (build/units/test_*) and integration
modules (tests/integration/test_*.py), each in its own process.

Every result line is "ok NAME" or "not ok NAME: why"; a process that dies or
prints nothing counts as a failure. The last line is "N passed, N failed".
Usage: tests/run.py [SUBSTRING ...]   (run only the files whose name contains one)
"""
import os
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIT_TIMEOUT = 300
MODULE_TIMEOUT = 600


def collect():
    units = os.path.join(TOP, "build", "units")
    integ = os.path.join(TOP, "tests", "integration")
    jobs = []
    if os.path.isdir(units):
        for f in sorted(os.listdir(units)):
            if f.startswith("test_"):
                jobs.append((f, [os.path.join(units, f)], UNIT_TIMEOUT))
    for f in sorted(os.listdir(integ)):
        if f.startswith("test_") and f.endswith(".py"):
            jobs.append((f, [sys.executable, os.path.join(integ, "harness.py"), f[:-3]],
                         MODULE_TIMEOUT))
    return jobs


def run(name, argv, timeout):
    started = time.monotonic()
    try:
        p = subprocess.run(argv, cwd=TOP, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
        out, rc = p.stdout.decode("utf-8", "replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode("utf-8", "replace"), f"timeout after {timeout}s"
    passed = failed = 0
    for line in out.splitlines():
        if line.startswith("ok "):
            passed += 1
        elif line.startswith("not ok "):
            failed += 1
    bad_exit = rc != 0
    if bad_exit or passed + failed == 0:
        failed += 1
    secs = time.monotonic() - started
    shown = [l for l in out.splitlines() if not l.startswith("ok ")]
    print(f"--- {name}: {passed} passed, {failed} failed ({secs:.1f}s)", flush=True)
    if failed:
        for line in shown[-60:]:
            print("    " + line)
        if bad_exit:
            print(f"    not ok {name}: exit status {rc}")
    return passed, failed


def main():
    wanted = sys.argv[1:]
    total_p = total_f = 0
    for name, argv, timeout in collect():
        if wanted and not any(w in name for w in wanted):
            continue
        p, f = run(name, argv, timeout)
        total_p += p
        total_f += f
    print(f"{total_p} passed, {total_f} failed")
    return 1 if total_f or total_p == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
