"""The random ID scheme: made once, kept 0600 in the state dir, stable, renewed
only when the state dir is removed."""
import os
import re
import shutil
import stat

import lib


def run_id(tmp, state, *args):
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}})
    p = lib.run(["id", "-c", cfg] + list(args), env=lib.base_env(ANONTEL_STATE_DIR=state))
    lib.eq(p.returncode, 0, f"id exit (stderr {p.stderr!r})")
    return p.stdout.decode()


def test_made_once_kept_and_stable(tmp):
    state = os.path.join(tmp, "state")
    first = run_id(tmp, state).strip()
    lib.check(re.fullmatch(r"[0-9a-f]{64}", first), f"64 hex: {first!r}")
    path = os.path.join(state, "random-id")
    mode = stat.S_IMODE(os.stat(path).st_mode)
    lib.eq(mode, 0o600, "random-id mode")
    lib.eq(stat.S_IMODE(os.stat(state).st_mode), 0o700, "state dir mode")
    with open(path) as f:
        lib.eq(f.read(), first, "the file holds the ID")
    for _ in range(3):
        lib.eq(run_id(tmp, state).strip(), first, "same ID on a later run")
    explain = run_id(tmp, state, "--explain")
    lib.check("scheme: random" in explain and f"id: {first}" in explain, explain)
    shutil.rmtree(state)
    again = run_id(tmp, state).strip()
    lib.check(again != first and re.fullmatch(r"[0-9a-f]{64}", again),
              "a new ID after the state dir is removed")


def test_report_with_random_scheme_uses_the_kept_id(tmp):
    state = os.path.join(tmp, "state")
    ident = run_id(tmp, state).strip()
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}}, name="show.json")
    p = lib.run(["show", "-c", cfg], env=lib.base_env(ANONTEL_STATE_DIR=state))
    lib.eq(lib.strict_json(p.stdout)["data"]["system"]["id"], ident, "show uses the kept ID")


def test_corrupt_random_id_is_an_error_not_a_new_id(tmp):
    state = os.path.join(tmp, "state")
    run_id(tmp, state)
    with open(os.path.join(state, "random-id"), "w") as f:
        f.write("not hex")
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}})
    p = lib.run(["id", "-c", cfg], env=lib.base_env(ANONTEL_STATE_DIR=state))
    lib.eq(p.returncode, 1, "exit status")
    lib.check(b"random-id" in p.stderr, f"names the file: {p.stderr!r}")


def test_show_writes_nothing_before_the_id_exists(tmp):
    state = os.path.join(tmp, "state")
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}})
    p = lib.run(["show", "-c", cfg], env=lib.base_env(ANONTEL_STATE_DIR=state))
    lib.eq(p.returncode, 0, f"show exit ({p.stderr!r})")
    lib.eq(lib.strict_json(p.stdout)["data"]["system"]["id"], "", "no ID yet")
    lib.check(b"no ID made yet" in p.stderr, f"says why: {p.stderr!r}")
    lib.check(not os.path.exists(state), "show created the state dir")
