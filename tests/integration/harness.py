#!/usr/bin/env python3
"""Runs one integration module: every function named test_* in file order.

Prints "ok NAME" or "not ok NAME: why" per test. A test fails by raising
(lib.check/lib.eq raise CheckFailed; any other exception fails it too). Each test
gets a fresh temporary directory as its one argument. There is no "skip".
ANONTEL_TEST_ONLY=test_name runs one test of the module.
"""
import importlib
import os
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402


def main(modname):
    mod = importlib.import_module(modname)
    tests = [(n, f) for n, f in vars(mod).items() if n.startswith("test_") and callable(f)]
    tests.sort(key=lambda t: t[1].__code__.co_firstlineno)
    only = os.environ.get("ANONTEL_TEST_ONLY")
    for name, fn in tests:
        if only and only != name:
            continue
        label = f"{modname}.{name}"
        try:
            with lib.scratch_dir() as tmp:
                fn(tmp)
            print(f"ok {label}", flush=True)
        except Exception as e:  # report and go on with the next test
            why = f"{type(e).__name__}: {e}".replace("\n", " | ")[:2000]
            print(f"not ok {label}: {why}", flush=True)
            tb = traceback.format_exc().splitlines()
            for line in tb[-8:]:
                print(f"#   {line}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
