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


def test_runs_at_once_agree_on_one_id(tmp):
    """Twelve first runs at once, `id` and report (the sender holding the lock,
    which clears temp files), all with no ID yet: every one prints or sends the
    same ID, and no temp file is left."""
    import subprocess
    import runs
    cfg = lib.write_config(tmp, {"id": {"scheme": "random"}})
    for attempt in range(5):
        state = os.path.join(tmp, f"state{attempt}")
        os.makedirs(state, mode=0o700)
        env = lib.base_env(ANONTEL_STATE_DIR=state, ANONTEL_ENDPOINT=runs.dead_url())
        procs = [subprocess.Popen([lib.BIN, "id", "-c", cfg] if i % 3 else
                                  [lib.BIN, "report", "-c", cfg, "--force"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL) for i in range(12)]
        outs = [(p.args[1], *p.communicate(timeout=30), p.returncode) for p in procs]
        ids = {o.strip() for verb, o, e, rc in outs if verb == "id"}
        for verb, o, e, rc in outs:
            if verb == "id":
                lib.eq(rc, 0, f"id exit ({e!r})")
        lib.eq(len(ids), 1, f"one ID among the runs: {ids}")
        with open(os.path.join(state, "random-id"), "rb") as f:
            lib.eq({f.read()}, ids, "the kept ID is the one printed")
        lib.check(runs.kept_names(state), "a report kept its message")
        for name in runs.kept_names(state):
            with open(os.path.join(state, "kept", name), "rb") as f:
                sent = lib.strict_json(f.read())["data"]["system"]["id"].encode()
            lib.eq({sent}, ids, f"the kept message {name} carries the same ID")
        for name in os.listdir(state):
            lib.check(not name.startswith(".tmp-"), f"no temp file left: {name}")
