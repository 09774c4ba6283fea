"""Crash consistency (SPEC §7): runs killed with SIGKILL at random moments leave old
or new state, never a torn file; every message ever built is received, still kept,
or counted as dropped; duplicates carry the same Idempotency-Key."""
import hashlib
import os
import random
import re
import signal
import subprocess
import time

import lib
import runs

RUNS = 200


def _check_state(state, what, seen_ts):
    """Every final file in the state dir parses; collects the ts of kept messages."""
    for name in os.listdir(state):
        path = os.path.join(state, name)
        if name.startswith(".tmp-"):
            continue                        # a killed run's temp file: never read
        if name == "last.json":
            runs.strict_file(path, what)
        elif name == "stamps":
            st = runs.stamps(state)
            for k, v in st.items():
                if k != "last_error":
                    lib.check(v.isdigit(), f"{what}: stamps {k} {v!r}")
        elif name == "kept":
            # Files below drop_below are already counted as dropped (the count is
            # recorded before the removal), so they are not "kept" any more.
            st = runs.stamps(state) if os.path.exists(os.path.join(state, "stamps")) else {}
            drop_below = int(st.get("drop_below", "0"))
            for k in runs.kept_names(state):
                msg = runs.strict_file(os.path.join(path, k), what)
                if int(k.split(".")[0]) >= drop_below:
                    seen_ts.add(msg["ts"])
        elif name == "random-id":   # the default scheme auto may choose a random ID
            lib.check(re.fullmatch(r"[0-9a-f]{64}", runs.read(path, "r")), f"{what}: random-id")
        else:
            lib.check(name in ("lock",), f"{what}: unexpected file {name!r} in the state dir")


def test_sigkill_at_random_moments(tmp):
    rng = random.Random(int(os.environ.get("ANONTEL_CRASH_SEED", "0")) or None)
    seed = rng.randrange(1 << 30)
    rng = random.Random(seed)
    state = os.path.join(tmp, "state")
    seen_ts = set()
    prev_kept, prev_dropped = set(), 0
    uncounted = []        # checked last, so that every other property is checked too
    exits = {}
    started = time.monotonic()

    phase = ["slow"]

    def route(r):
        # First half: answers mostly come after the kill, so a backlog of more than 32
        # builds up and the oldest are dropped; second half: quick answers drain it.
        if phase[0] == "slow":
            return runs.Reply(200, delay=rng.uniform(0.02, 0.06))
        return runs.Reply(200, delay=rng.uniform(0, 0.01))

    with runs.Server(route) as s:
        e = runs.env(state, s.url())
        for i in range(RUNS):
            what = f"run {i} (seed {seed})"
            phase[0] = "slow" if i < RUNS // 2 else "quick"
            args = [lib.BIN, "report", "-q"] + (["--force"] if rng.random() < 0.6 else [])
            p = subprocess.Popen(args, env=e, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            # Half the kills land in the first 8 ms (building, keeping, dropping), the
            # rest anywhere in 0-30 ms (sending, recording).
            time.sleep(rng.uniform(0, 0.008 if rng.random() < 0.5 else 0.03))
            p.send_signal(signal.SIGKILL)
            rc = p.wait(10)
            exits[rc] = exits.get(rc, 0) + 1
            lib.check(rc in (0, -signal.SIGKILL), f"{what}: exit {rc} (server is up)")
            if not os.path.isdir(state):
                continue                    # killed before the state dir was made
            st = runs.status_json(e, what)
            lib.check("kept" in st and "stateError" not in st,
                      f"{what}: status reads the state: {st}")
            now_kept = set()
            _check_state(state, what, now_kept)
            seen_ts |= now_kept
            # A kept message that vanished without reaching the server was dropped, and
            # the dropped counter says so (a kill never loses the count).
            got = {lib.strict_json(r.body)["ts"] for r in s.posts}
            vanished = prev_kept - now_kept - got
            if st["dropped"] - prev_dropped < len(vanished):
                uncounted.append(f"{what}: {len(vanished)} kept message(s) vanished unsent "
                                 f"{sorted(vanished)} but dropped went {prev_dropped} -> "
                                 f"{st['dropped']} (files {sorted(os.listdir(state))})")
            prev_kept, prev_dropped = now_kept, st["dropped"]
        p, _ = runs.run(["report", "--force"], e)
        lib.eq(p.returncode, 0, f"final report --force ({runs.describe(p)})")
        posts = list(s.posts)
    lib.check(time.monotonic() - started < 90, "the test stays short")
    lib.check(exits.get(-signal.SIGKILL, 0) >= RUNS // 4,
              f"most runs were really killed: {exits}")
    lib.eq(runs.kept_names(state), [], "nothing kept after the final delivery")
    lib.eq([n for n in os.listdir(state) if n.startswith(".tmp-")], [],
           "temp files of killed runs are cleaned by the next run")
    if os.path.isdir(os.path.join(state, "kept")):
        lib.eq(sorted(set(os.listdir(os.path.join(state, "kept"))) - set(runs.log_names(state))),
               [], "kept/ holds the audit log alone")

    received = {}
    by_key = {}
    for r in posts:
        msg = lib.strict_json(r.body)
        received.setdefault(msg["ts"], set()).add(r.body)
        keys = r.header("Idempotency-Key")
        lib.eq(len(keys), 1, f"one Idempotency-Key header: {r.headers}")
        lib.check(runs.HEX32.fullmatch(keys[0]), f"Idempotency-Key is 32 lowercase hex: {keys}")
        by_key.setdefault(keys[0], set()).add(r.body)
    for ts, bodies in received.items():
        lib.eq(len(bodies), 1, f"one body per ts {ts}")
    for key, bodies in by_key.items():
        lib.eq(len(bodies), 1, f"two different bodies share the key {key}")
    body_keys = {}
    for r in posts:
        body_keys.setdefault(hashlib.sha256(r.body).hexdigest(), set()).add(
            r.header("Idempotency-Key")[0])
    for h, keys in body_keys.items():
        lib.eq(len(keys), 1, "the same body always has the same key")

    st = runs.status_json(runs.env(state, "http://127.0.0.1:1/t"))
    missing = seen_ts - set(received)
    print(f"# crash: seed {seed}, exits {exits}, seen {len(seen_ts)}, received {len(received)}, "
          f"posts {len(posts)}, dropped {st['dropped']}, missing {len(missing)}")
    lib.check(len(received) >= 10, f"messages were delivered: {len(received)}")
    lib.check(not uncounted, f"{len(uncounted)} run(s) lost kept messages without counting "
              f"them as dropped; first: {uncounted[:1]}")
    lib.check(len(missing) <= st["dropped"],
              f"every message seen is received or counted dropped: missing {sorted(missing)}, "
              f"dropped {st['dropped']} (seed {seed})")


# ---- deterministic kill points: SIGKILL right before the n-th call of a syscall that
# changes the state dir (strace delivers the signal on syscall entry, so the call is
# never made: what a power cut just before it would leave).

MUTATING = ("renameat", "renameat2", "unlinkat", "fsync", "mkdirat")


def _copy_tree(src, dst):
    import shutil
    shutil.copytree(src, dst, symlinks=True)


def _killed_at(syscall, n, env_):
    p = subprocess.run(["strace", "-qq", "-o", "/dev/null", "-e", f"trace={syscall}",
                        "-e", f"inject={syscall}:signal=KILL:when={n}",
                        lib.BIN, "report", "--force", "-q"],
                       env=env_, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=20)
    return p


def _kept_ts(state):
    return {k: lib.strict_json(b)["ts"] for k, b in runs.kept_bytes(state)}


def _sweep(tmp, template, url, server, label):
    """Kills a forced report at every mutating syscall; after each, checks the state
    and then that every message kept before is kept, received or counted dropped."""
    import shutil
    before = set(_kept_ts(template).values())
    dropped_before = int(runs.stamps(template).get("dropped", "0"))
    problems = []
    points = 0
    for syscall in MUTATING:
        for n in range(1, 400):
            state = os.path.join(tmp, f"{label}-{syscall}-{n}")
            _copy_tree(template, state)
            e = runs.env(state, url)
            sent_before = len(server.posts) if server else 0
            p = _killed_at(syscall, n, e)
            if p.returncode != -signal.SIGKILL:
                shutil.rmtree(state)
                break                       # fewer than n such calls: this syscall is done
            points += 1
            what = f"{label}: killed before {syscall} #{n}"
            st = runs.status_json(e, what)
            lib.check("stateError" not in st, f"{what}: status reads the state: {st}")
            now = set()
            _check_state(state, what, now)
            got = set()
            if server:
                got = {lib.strict_json(r.body)["ts"] for r in server.posts[sent_before:]}
            lost = before - now - got
            if st["dropped"] - dropped_before < len(lost):
                problems.append(f"{what}: {len(lost)} kept message(s) gone, neither kept, "
                                f"received nor counted (dropped {dropped_before} -> "
                                f"{st['dropped']})")
            shutil.rmtree(state)
    lib.check(points >= 5, f"{label}: kill points exercised: {points}")
    return problems


def test_kill_points_with_full_backlog_and_server_down(tmp):
    # 32 kept, server down: the forced run keeps a 33rd and drops the oldest.
    template = os.path.join(tmp, "template")
    down = runs.dead_url()
    for _ in range(32):
        p, _ = runs.run(["report", "--force", "-q"], runs.env(template, down))
        lib.eq(p.returncode, 1, f"building the backlog ({runs.describe(p)})")
    lib.eq(len(runs.kept_names(template)), 32, "backlog")
    problems = _sweep(tmp, template, down, None, "backlog")
    lib.check(not problems, f"{len(problems)} kill point(s) lose a message uncounted: "
              f"{problems[:3]}")


def test_kill_points_while_delivering(tmp):
    # 3 kept, server up: kills land between the 2xx and the removal, in last.json and
    # stamps writes; nothing may be lost, duplicates carry the same key.
    template = os.path.join(tmp, "template")
    down = runs.dead_url()
    for _ in range(3):
        p, _ = runs.run(["report", "--force", "-q"], runs.env(template, down))
        lib.eq(p.returncode, 1, f"building the backlog ({runs.describe(p)})")
    with runs.Server() as s:
        problems = _sweep(tmp, template, s.url(), s, "delivering")
        keys = {}
        for r in s.posts:
            k = r.header("Idempotency-Key")
            lib.check(len(k) == 1 and runs.HEX32.fullmatch(k[0]), f"Idempotency-Key {k}")
            keys.setdefault(k[0], set()).add(r.body)
        lib.check(all(len(b) == 1 for b in keys.values()), "one body per key")
    lib.check(not problems, f"{len(problems)} kill point(s) lose a message: {problems[:3]}")


# ---- what a power cut may take back (docs/configuration.md, "Durability")

def _synced(env_, rc):
    """Runs a forced report under strace; returns its fsyncs and connects, in order,
    as (call, the fd's path or socket)."""
    p = subprocess.run(["strace", "-f", "-qq", "-y", "-e",
                        "trace=fsync,fdatasync,sync,syncfs,connect",
                        lib.BIN, "report", "--force", "-q"],
                       env=env_, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=20)
    lib.eq(p.returncode, rc, f"exit status ({p.stderr[-300:]!r})")
    calls = re.findall(rb"^(?:\[pid +\d+\] )?(\w+)\(\d+<([^>]*)>", p.stderr, re.M)
    return [(c.decode(), path.decode()) for c, path in calls]


def test_a_delivered_report_makes_no_fsync(tmp):
    """Against a kill, every write is atomic (rename); against a power cut, what a run
    leaves waiting is made durable, not the message it delivers: a power cut while that
    one is out may lose it, and only it. So a delivered report costs no fsync."""
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "--force", "-q"], e)     # the first run makes the dirs
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        calls = _synced(e, 0)
        lib.eq(len(s.posts), 2, "both delivered")
    syncs = [c for c in calls if c[0] != "connect"]
    lib.eq(syncs, [], "fsyncs of a delivered report")
    lib.check(any(c[0] == "connect" for c in calls), f"it connected: {calls}")
    lib.eq(runs.kept_names(state), [], "nothing left kept")


def test_an_undelivered_message_is_fsynced_before_the_run_ends(tmp):
    """The message a run keeps because the endpoint is down is made durable after the
    attempt (its file, then kept/), before the run exits 1; a power cut after that
    loses nothing, and the next run sends it."""
    state = os.path.join(tmp, "state")
    e = runs.env(state, runs.dead_url())
    p, _ = runs.run(["report", "--force", "-q"], e)     # makes the dirs and the ID
    lib.eq(p.returncode, 1, f"first report, endpoint down ({runs.describe(p)})")
    calls = _synced(e, 1)
    kept = runs.kept_dir(state)
    names = runs.kept_names(state)
    lib.eq(len(names), 2, "both messages kept")
    syncs = [c for c in calls if c[0] != "connect"]
    lib.eq(syncs, [("fsync", os.path.join(kept, names[1])), ("fsync", kept)],
           "the new message's file, then kept/")
    first_sync = calls.index(syncs[0])
    lib.check(any(c[0] == "connect" for c in calls[:first_sync]),
              f"the attempt comes first, the fsyncs after it: {calls}")
    waiting = [b for _, b in runs.kept_bytes(state)]
    with runs.Server() as s:
        p, _ = runs.run(["report", "--force", "-q"], runs.env(state, s.url()))
        lib.eq(p.returncode, 0, f"the next run ({runs.describe(p)})")
        lib.eq(len(s.posts), 3, "the two kept messages and a new one sent")
        lib.eq([r.body for r in s.posts[:2]], waiting, "the kept ones first, as they were")
    lib.eq(runs.kept_names(state), [], "nothing left kept")


def _stamps_writes(env_, inject=None):
    """Runs a forced report under strace; returns its renames and unlinks, in order,
    as (call, its arguments, its result)."""
    trace = "renameat,renameat2,unlinkat"
    cmd = ["strace", "-f", "-qq", "-y", "-e", f"trace={trace}"]
    if inject:
        cmd += ["-e", f"inject=renameat2:error={inject}:when=1"]
    p = subprocess.run(cmd + [lib.BIN, "report", "--force", "-q"],
                       env=env_, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=20)
    lib.eq(p.returncode, 0, f"exit status ({p.stderr[-300:]!r})")
    calls = re.findall(rb"^(?:\[pid +\d+\] )?(\w+)\((.*)\) += (-?\d+)", p.stderr, re.M)
    return [(c.decode(), a.decode(), int(r)) for c, a, r in calls]


def test_the_stamps_are_swapped_in_not_renamed_over(tmp):
    """A run replaces the stamps twice (the back-off armed before the attempt, the
    outcome after it). Each new file is swapped with the live one (RENAME_EXCHANGE)
    and the old one removed: a rename over the live file would make ext4 start
    writing the new one's data at once (0.5-1 ms). A kill before either call leaves
    the old or the new stamps whole (the kill-point sweeps)."""
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "--force", "-q"], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        calls = _stamps_writes(e)
        lib.eq(len(s.posts), 2, "both delivered")
    onto_stamps = [c for c in calls if c[1].endswith(', "stamps"') or '"stamps", ' in c[1]]
    lib.eq([c[0] for c in onto_stamps], ["renameat2", "renameat2"],
           f"the stamps are written twice, both by a swap: {calls}")
    for c in onto_stamps:
        lib.check("RENAME_EXCHANGE" in c[1] and c[2] == 0, f"a swap that succeeds: {c}")
        old = calls[calls.index(c) + 1]
        lib.check(old[0] == "unlinkat" and ".tmp-stamps" in old[1] and old[2] == 0,
                  f"then the old stamps, now the temp name, removed: {old}")
    lib.eq(sorted(n for n in os.listdir(runs.kept_dir(state)) if n.startswith(".")), [],
           "no temp file left")
    st = runs.stamps(state)
    lib.eq(st.get("sent"), "2", f"the stamps count both deliveries: {st}")


def test_without_rename_exchange_the_stamps_are_renamed(tmp):
    """On a file system or kernel without RENAME_EXCHANGE (NFS, old kernels: EINVAL,
    ENOSYS), the first swap fails, the new stamps are renamed over the old ones, and
    the run's second write renames without trying. The failure is strace's (the first
    renameat2 only): its injection makes the call one the seccomp filter kills for,
    so this run is without the filter. A rename is renameat, or renameat2 without
    RENAME_EXCHANGE where the C library makes it so (aarch64)."""
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url(), ANONTEL_SANDBOX="off")
        p, _ = runs.run(["report", "--force", "-q"], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        for err in ("EINVAL", "ENOSYS"):
            calls = _stamps_writes(e, inject=err)
            onto = [("swap" if "RENAME_EXCHANGE" in c[1] else "rename", c[2]) for c in calls
                    if c[1].endswith(', "stamps"') or '"stamps", ' in c[1]]
            lib.eq(onto, [("swap", -1), ("rename", 0), ("rename", 0)],
                   f"{err}: the swap refused once, then renames: {calls}")
        lib.eq(len(s.posts), 3, "all delivered")
    lib.eq(runs.stamps(state).get("sent"), "3", "the stamps count every delivery")
    lib.eq(sorted(n for n in os.listdir(runs.kept_dir(state)) if n.startswith(".")), [],
           "no temp file left")


def test_a_torn_kept_message_is_dropped_not_sent(tmp):
    """An empty or cut-off file under a kept name (planted, or what a file system that
    does not order a rename after its data may leave after a power cut) is counted as
    dropped and removed, never sent; the messages around it are."""
    state = os.path.join(tmp, "state")
    with runs.Server() as s:
        e = runs.env(state, s.url())
        p, _ = runs.run(["report", "--force", "-q"], e)
        lib.eq(p.returncode, 0, f"first report ({runs.describe(p)})")
        kept = os.path.join(state, "kept")
        good = runs.log_bytes(state)[0]
        for seq, body in ((7, b""), (8, good[:len(good) // 2]), (9, good)):
            path = os.path.join(kept, "%020d.json" % seq)
            with open(path, "wb") as f:
                f.write(body)
            os.chmod(path, 0o600)
        before = len(s.posts)
        p, _ = runs.run(["report", "--force", "-q"], e)
        lib.eq(p.returncode, 0, f"report with two torn messages kept ({runs.describe(p)})")
        bodies = [r.body for r in s.posts[before:]]
    lib.eq(len(bodies), 2, "sent: the whole kept message and the new one")
    lib.eq(bodies[0], good, "the whole kept message, as it was")
    for b in bodies:
        lib.strict_json(b)
    lib.eq(runs.kept_names(state), [], "nothing left kept")
    lib.eq(runs.stamps(state).get("dropped"), "2", "the two torn messages counted as dropped")
