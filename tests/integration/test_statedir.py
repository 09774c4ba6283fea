"""The state directory on hostile disks (SPEC §7) and "off means off" (SPEC §3): every
candidate read-only, a full file system, the fallback order, and an opted-out host
where nothing is created. Mounts are made in a private mount namespace with fresh
tmpfs over /var/lib and /tmp, so the host's directories are never touched."""
import os
import shlex
import shutil

import lib
import runs

UID = os.geteuid()


def _outdir(tmp, name="out"):
    d = os.path.join(tmp, name)
    os.mkdir(d)
    return d


def _ro_candidates(existing):
    """Script text: read-only tmpfs over /var/lib and /tmp, and /tmp/state (the
    ANONTEL_STATE_DIR) a read-only bind mount. existing: the default candidates exist
    (0700, ours) but are read-only; else they are missing and cannot be made."""
    mk = "mkdir -m 0700 /var/lib/anontel\n" if existing else ""
    mk2 = f"mkdir -m 0700 /tmp/anontel-{UID}\n" if existing else ""
    return ("mount -t tmpfs -o size=1m,mode=0755 tmpfs /var/lib\n" + mk +
            "mount -o remount,ro /var/lib\n"
            "mount -t tmpfs -o size=1m,mode=1777 tmpfs /tmp\n" + mk2 +
            "mkdir -m 0700 /tmp/state\n"
            "mount --bind /tmp/state /tmp/state\n"
            "mount -o remount,bind,ro /tmp/state\n"
            "mount -o remount,ro /tmp\n"
            # The mounts are what the test says they are.
            "touch /tmp/state/x 2>/dev/null && exit 91\n"
            "touch /var/lib/x 2>/dev/null && exit 92\n"
            "touch /tmp/x 2>/dev/null && exit 93\n")


def _unwritable(tmp, existing):
    out = _outdir(tmp, f"out-{existing}")
    with runs.Server() as s:
        e = runs.env("/tmp/state", s.url("/t"))
        script = _ro_candidates(existing)
        script += runs.step("plain", '"$BIN" report')
        # Butler's scheme: the default auto may choose a random ID, which needs a state dir.
        lib.write_config(out, {"id": {"scheme": "butler"}}, name="butler.json")
        script += runs.step("force", '"$BIN" -c "$OUT/butler.json" report --force')
        script += runs.step("check", f'"$BIN" check {s.url("/health")} --report')
        script += runs.step("unhealthy", f'"$BIN" check {s.url("/bad")} --report')
        script += runs.step("status", '"$BIN" status --json')
        script += runs.step("log", '"$BIN" status --log')
        script += runs.step("forget", '"$BIN" forget')
        script += "ls -A /tmp/state /var/lib /tmp > \"$OUT/listing\"\n"
        s.route = lambda r: runs.Reply(500 if r.target == "/bad" else 200)
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"mount namespace script ({p.stderr!r})")
        what = "existing" if existing else "missing"

        rc, o, err = runs.result(out, "plain")
        lines = err.decode().splitlines()
        lib.eq(rc, 1, f"{what}: report with no usable state dir ({err!r})")
        lib.eq(len(lines), 1, f"{what}: report says one line: {lines}")
        lib.check("state director" in lines[0] and "--force" in lines[0],
                  f"{what}: the line names the state directory and --force: {lines[0]!r}")
        lib.eq(o, b"", f"{what}: nothing on stdout")

        rc, _, err = runs.result(out, "force")
        lib.eq(rc, 0, f"{what}: report --force sends without a state dir ({err!r})")
        posts = [r for r in s.posts if r.target == "/t"]
        lib.eq(len(posts), 1, f"{what}: the server got one message")
        lib.strict_json(posts[0].body)

        rc, _, err = runs.result(out, "check")
        lines = err.decode().splitlines()
        lib.eq(rc, 0, f"{what}: check --report stays healthy ({err!r})")
        lib.eq(len(lines), 1, f"{what}: check --report warns once: {lines}")
        lib.check("state" in lines[0], f"{what}: the warning is about the state dir: {lines}")
        check_line = lines[0]
        lib.eq(len([r for r in s.gets if r.target == "/health"]), 1, f"{what}: probe made")
        lib.eq(len([r for r in s.posts if r.target == "/t"]), 1,
               f"{what}: check --report sends nothing without a state dir")

        rc, _, err = runs.result(out, "unhealthy")
        lib.eq(rc, 1, f"{what}: an unhealthy probe stays unhealthy ({err!r})")

        rc, o, err = runs.result(out, "status")
        lib.eq(rc, 0, f"{what}: status with no usable state dir ({err!r})")
        st = lib.strict_json(o)
        lib.check("stateError" in st or st.get("stateDir", "") == "",
                  f"{what}: status says there is no state: {st}")
        # What is kept cannot be seen, which is not "nothing is kept": both say why.
        for step in ("log", "forget"):
            rc, o, err = runs.result(out, step)
            lines = err.decode().splitlines()
            lib.eq(rc, 1, f"{what}: {step} with no usable state dir ({err!r})")
            lib.check(len(lines) == 1 and "state director" in lines[0],
                      f"{what}: {step} says why in one line: {lines}")
        listing = runs.read(os.path.join(out, "listing")).decode()
        lib.check("x\n" not in listing, f"{what}: nothing written: {listing!r}")
        return check_line


def test_all_candidates_read_only_missing(tmp):
    _unwritable(tmp, existing=False)


def test_all_candidates_read_only_existing(tmp):
    _unwritable(tmp, existing=True)


def test_check_warning_does_not_suggest_force(tmp):
    # check has no --force (`check --force` is an unknown option: unhealthy), so its
    # warning must not tell a HEALTHCHECK user to add one.
    line = _unwritable(tmp, existing=False)
    lib.check("--force" not in line,
              f"check's warning suggests --force, which check refuses: {line!r}")


def test_falls_back_to_var_lib_with_a_warning(tmp):
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env("/tmp/state", s.url("/t"))
        script = ("mount -t tmpfs -o size=1m tmpfs /var/lib\n"
                  "mount -t tmpfs -o size=1m,mode=1777 tmpfs /tmp\n"
                  "mkdir -m 0700 /tmp/state\n"
                  "mount --bind /tmp/state /tmp/state\n"
                  "mount -o remount,bind,ro /tmp/state\n")
        script += runs.step("report", '"$BIN" report')
        script += runs.step("status", '"$BIN" status --json')
        script += "ls -A /var/lib/anontel > \"$OUT/listing\"\n"
        script += "stat -c %a /var/lib/anontel > \"$OUT/mode\"\n"
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report falls back ({err!r})")
        lib.eq(len(s.posts), 1, "delivered")
        lines = err.decode().splitlines()
        lib.check(any("/tmp/state" in l and "warning" in l for l in lines),
                  f"a warning names the skipped directory: {lines}")
        rc, o, _ = runs.result(out, "status")
        lib.eq(lib.strict_json(o)["stateDir"], "/var/lib/anontel", "status names the fallback")
        listing = runs.read(os.path.join(out, "listing")).decode().split()
        lib.check("stamps" in listing, f"state kept in /var/lib/anontel: {listing}")
        lib.eq(runs.read(os.path.join(out, "mode")).strip(), b"700", "made 0700")


def test_full_disk_keeps_old_stamps(tmp):
    out = _outdir(tmp)
    state = os.path.join(tmp, "state")
    os.mkdir(state)
    q = shlex.quote(state)
    with runs.Server() as s:
        e = runs.env(state, s.url("/t"))
        script = f"mount -t tmpfs -o size=64k,mode=0700 tmpfs {q}\n"
        script += runs.step("first", '"$BIN" report')
        script += f'cp {q}/stamps "$OUT/stamps.before"\n'
        script += f"dd if=/dev/zero of={q}/fill bs=1k 2>/dev/null || true\n"
        script += f"for i in $(seq 64); do echo x > {q}/f$i 2>/dev/null || break; done\n"
        script += runs.step("full", '"$BIN" report --force')
        script += f'cp {q}/stamps "$OUT/stamps.after"\n'
        script += runs.step("status", '"$BIN" status --json')
        script += f'rm -f {q}/fill {q}/f*\n'
        script += runs.step("freed", '"$BIN" report --force')
        script += f'ls -A {q} {q}/kept > "$OUT/listing"\n'
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        lib.check(not os.listdir(state), "the tmpfs lived in the namespace only")

        rc, _, err = runs.result(out, "first")
        lib.eq(rc, 0, f"first report on the small tmpfs ({err!r})")
        rc, o, err = runs.result(out, "full")
        lines = err.decode().splitlines()
        lib.eq(rc, 1, f"report --force on a full disk ({err!r})")
        lib.eq(len(lines), 1, f"one line: {lines}")
        lib.check("space" in lines[0].lower(), f"the line says the disk is full: {lines}")
        lib.eq(runs.read(os.path.join(out, "stamps.after")),
               runs.read(os.path.join(out, "stamps.before")), "stamps byte-identical")
        rc, o, err = runs.result(out, "status")
        lib.eq(rc, 0, f"status on a full disk ({err!r})")
        lib.check("stateError" not in lib.strict_json(o), f"state still reads: {o!r}")
        rc, _, err = runs.result(out, "freed")
        lib.eq(rc, 0, f"report --force once space is freed ({err!r})")
        lib.eq(len(s.posts), 2, "first + after freeing (nothing sent while full)")
        listing = runs.read(os.path.join(out, "listing")).decode()
        lib.check(".tmp-" not in listing, f"no temp file left behind: {listing}")


# ---- off means off (SPEC §3): nothing created, nothing written, nothing sent

def test_do_not_track_writes_nothing(tmp):
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env("/tmp/parent/state", s.url("/t"), DO_NOT_TRACK="1")
        listing = ("find /tmp /var/lib -printf '%p %s %T@ %m %U\\n' | sort > \"$OUT/$1\"\n"
                   "ls -d /tmp/anontel-* /var/lib/anontel >> \"$OUT/$1\" 2>&1 || true\n")
        script = ("mount -t tmpfs -o size=1m tmpfs /var/lib\n"
                  "mount -t tmpfs -o size=1m,mode=1777 tmpfs /tmp\n"
                  "mkdir -m 0755 /tmp/parent /var/lib/dpkg\n"
                  "touch -d 2020-01-01 /tmp/parent /tmp /var/lib /var/lib/dpkg\n"
                  f"snap() {{\n{listing}}}\n"
                  "snap before\n")
        script += runs.step("report", '"$BIN" report')
        script += runs.step("force", '"$BIN" report --force')
        script += runs.step("check", f'"$BIN" check {s.url("/health")} --report')
        script += "snap after\n"
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        for name in ("report", "force", "check"):
            rc, o, err = runs.result(out, name)
            lib.eq(rc, 0, f"DO_NOT_TRACK=1 {name}: exit ({err!r})")
        before = runs.read(os.path.join(out, "before")).decode()
        after = runs.read(os.path.join(out, "after")).decode()
        lib.eq(after, before, "nothing created or changed under /tmp and /var/lib")
        lib.check("/tmp/parent/state" not in after, "no state dir")
        lib.check("No such file" in after, f"no /tmp/anontel-*, no /var/lib/anontel: {after}")
        lib.eq(len(s.posts), 0, "no telemetry sent")
        lib.eq(len(s.gets), 1, "the probe itself is made")


# ---- where containers put it (SPEC §11): parents made, a --tmpfs (1777) dir used
# through a private subdir, a symlink anywhere in the path refused

# Fresh tmpfs over /var/lib and /tmp (as a host has them), and the usual umask.
_FRESH = ("umask 022\n"
          "mount -t tmpfs -o size=1m,mode=0755 tmpfs /var/lib\n"
          "mount -t tmpfs -o size=1m,mode=1777 tmpfs /tmp\n")

# Runs the binary as uid/gid 65534 (a copy: /proc/PID/fd of a root shell is not
# theirs to open).
_AS_NOBODY = "setpriv --reuid 65534 --regid 65534 --clear-groups /tmp/bin/anontel"
_COPY_BIN = 'mkdir -m 0755 /tmp/bin && cp "$BIN" /tmp/bin/anontel && chmod 0755 /tmp/bin/anontel\n'


def _stats(out, name="stats"):
    """{path: (octal mode, uid)} from lines "PATH MODE UID" saved by `stat -c '%n %a %u'`."""
    got = {}
    for line in runs.read(os.path.join(out, name)).decode().splitlines():
        path, mode, uid = line.split(" ")
        got[path] = (mode, int(uid))
    return got


def _warnings(err):
    return [l for l in err.decode().splitlines() if "warning" in l]


def test_missing_parents_are_made(tmp):
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env("/tmp/a/b/state", s.url("/t"))
        script = _FRESH
        script += runs.step("status0", '"$BIN" status --json')
        script += "ls -A /tmp > \"$OUT/before\"\n"
        script += runs.step("report", '"$BIN" report')
        script += runs.step("status", '"$BIN" status --json')
        script += "stat -c '%n %a %u' /tmp/a /tmp/a/b /tmp/a/b/state > \"$OUT/stats\"\n"
        script += "ls -A /tmp/a/b/state > \"$OUT/listing\"\n"
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        rc, o, err = runs.result(out, "status0")
        lib.eq(rc, 0, f"status before the first run ({err!r})")
        lib.eq(lib.strict_json(o)["stateDir"], "/tmp/a/b/state", "status names the dir to be made")
        lib.eq(runs.read(os.path.join(out, "before")), b"", "status created nothing")
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report ({err!r})")
        lib.eq(_warnings(err), [], "no warning: the configured dir was used")
        lib.eq(len(s.posts), 1, "delivered")
        lib.eq(_stats(out), {"/tmp/a": ("755", 0), "/tmp/a/b": ("755", 0),
                             "/tmp/a/b/state": ("700", 0)}, "parents 0755, the state dir 0700")
        lib.check("stamps" in runs.read(os.path.join(out, "listing")).decode().split(),
                  "state kept there")
        rc, o, err = runs.result(out, "status")
        lib.eq(lib.strict_json(o)["stateDir"], "/tmp/a/b/state", "status names it")


def test_sticky_tmpfs_used_through_a_private_subdir(tmp):
    # `docker run --tmpfs /var/lib/anontel`: a root-owned 1777 tmpfs, shared by every uid.
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env(None, s.url("/t"))
        script = _FRESH + _COPY_BIN
        script += "mkdir /var/lib/anontel\n"
        script += "mount -t tmpfs -o size=1m,mode=1777 tmpfs /var/lib/anontel\n"
        script += runs.step("status0", '"$BIN" status --json')
        script += "ls -A /var/lib/anontel > \"$OUT/before\"\n"
        script += runs.step("report", '"$BIN" report')
        script += runs.step("status", '"$BIN" status --json')
        script += runs.step("nobody_status0", f"{_AS_NOBODY} status --json")
        script += runs.step("nobody_report", f"{_AS_NOBODY} report")
        script += runs.step("nobody_status", f"{_AS_NOBODY} status --json")
        script += ("stat -c '%n %a %u' /var/lib/anontel /var/lib/anontel/* > \"$OUT/stats\"\n"
                   f"ls -A /var/lib/anontel/anontel-{UID} > \"$OUT/mine\"\n"
                   "ls -A /var/lib/anontel/anontel-65534 > \"$OUT/theirs\"\n"
                   "ls -A /tmp > \"$OUT/tmp\"\n")
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        mine, theirs = f"/var/lib/anontel/anontel-{UID}", "/var/lib/anontel/anontel-65534"

        rc, o, err = runs.result(out, "status0")
        lib.eq((rc, lib.strict_json(o)["stateDir"]), (0, mine),
               f"status before the first run names the private subdir ({err!r})")
        lib.eq(runs.read(os.path.join(out, "before")), b"", "status created nothing")
        for who, dir_ in (("", mine), ("nobody_", theirs)):
            rc, _, err = runs.result(out, who + "report")
            lib.eq(rc, 0, f"{who}report ({err!r})")
            lib.eq(_warnings(err), [], f"{who}report: no warning")
            rc, o, err = runs.result(out, who + "status")
            lib.eq((rc, lib.strict_json(o)["stateDir"]), (0, dir_), f"{who}status ({err!r})")
        rc, o, _ = runs.result(out, "nobody_status0")
        lib.eq(lib.strict_json(o)["stateDir"], theirs, "uid 65534's status before its run")
        lib.eq(len(s.posts), 2, "both delivered")
        lib.eq(_stats(out), {"/var/lib/anontel": ("1777", 0), mine: ("700", UID),
                             theirs: ("700", 65534)},
               "the shared dir untouched; a 0700 subdir per uid, owned by it")
        for name in ("mine", "theirs"):
            lib.check("stamps" in runs.read(os.path.join(out, name)).decode().split(),
                      f"state kept in the private subdir ({name})")
        lib.eq(runs.read(os.path.join(out, "tmp")).decode().split(), ["bin"],
               "no fallback to /tmp")


def test_world_writable_without_sticky_bit_refused(tmp):
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env("/tmp/shared", s.url("/t"))
        script = _FRESH
        script += "mkdir /tmp/shared\nmount -t tmpfs -o size=1m,mode=0777 tmpfs /tmp/shared\n"
        script += runs.step("report", '"$BIN" report')
        script += runs.step("status", '"$BIN" status --json')
        script += "ls -A /tmp/shared > \"$OUT/listing\"\n"
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report falls back ({err!r})")
        lib.check(any("/tmp/shared: is group- or world-writable (refused)" in l
                      for l in _warnings(err)), f"the warning says why: {err!r}")
        rc, o, _ = runs.result(out, "status")
        lib.eq(lib.strict_json(o)["stateDir"], "/var/lib/anontel", "status names the fallback")
        lib.eq(runs.read(os.path.join(out, "listing")), b"", "nothing made in /tmp/shared")


def test_planted_symlink_in_sticky_dir_refused(tmp):
    # Another user of the shared 1777 dir plants anontel-<our uid> -> a dir of theirs.
    out = _outdir(tmp)
    with runs.Server() as s:
        e = runs.env(None, s.url("/t"))
        script = _FRESH
        script += "mkdir /var/lib/anontel\n"
        script += "mount -t tmpfs -o size=1m,mode=1777 tmpfs /var/lib/anontel\n"
        script += ("setpriv --reuid 65534 --regid 65534 --clear-groups sh -ec '"
                   "mkdir -m 0777 /tmp/victim; "
                   f"ln -s /tmp/victim /var/lib/anontel/anontel-{UID}'\n")
        script += runs.step("status", '"$BIN" status --json')
        script += runs.step("report", '"$BIN" report')
        script += "ls -A /tmp/victim > \"$OUT/victim\"\n"
        script += f"ls -A /tmp/anontel-{UID} > \"$OUT/listing\"\n"
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        planted = f"/var/lib/anontel/anontel-{UID}"
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report falls back ({err!r})")
        lib.check(any(f"{planted}: is a symbolic link (refused)" in l for l in _warnings(err)),
                  f"the warning names the planted link: {err!r}")
        rc, o, _ = runs.result(out, "status")
        lib.eq(lib.strict_json(o)["stateDir"], f"/tmp/anontel-{UID}",
               "status names the fallback, not the link")
        lib.eq(runs.read(os.path.join(out, "victim")), b"", "nothing written through the link")
        listing = runs.read(os.path.join(out, "listing")).decode().split()
        lib.check("stamps" in listing, f"state kept in /tmp/anontel-{UID}: {listing}")


def _symlink_in_path(tmp, state, link, target, reason):
    """A FROM scratch-like root (the binary, /proc, /sys) holding /real/x/state (0700)
    and the symlink link -> target; ANONTEL_STATE_DIR=state must be refused with
    reason, and the state kept in /var/lib/anontel (made, with its parents)."""
    root = os.path.join(tmp, "root")
    for d in ("proc", "sys", "real/x/state"):
        os.makedirs(os.path.join(root, d))
    os.chmod(os.path.join(root, "real/x/state"), 0o700)
    os.symlink(target, os.path.join(root, link.lstrip("/")))
    shutil.copy(lib.BIN, os.path.join(root, "anontel"))
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    q = shlex.quote(root)
    out = _outdir(tmp)
    with runs.Server() as s:
        e = {"ANONTEL_ENDPOINT": s.url("/t"), "ANONTEL_STATE_DIR": state}
        script = ("umask 022\n"
                  f"mount -t proc proc {q}/proc\n"
                  f"mount --rbind -o ro /sys {q}/sys\n")
        script += runs.step("report", f"{chroot} {q} /anontel report")
        script += runs.step("status", f"{chroot} {q} /anontel status --json")
        p = runs.mountns_script(script, e, out)
        lib.eq(p.returncode, 0, f"script ({p.stderr!r})")
        rc, _, err = runs.result(out, "report")
        lib.eq(rc, 0, f"report falls back ({err!r})")
        lib.eq(len(s.posts), 1, "delivered")
        warnings = _warnings(err)
        lib.eq(len(warnings), 1, f"one warning: {err!r}")
        lib.check(f"{state}: {reason}" in warnings[0],
                  f"the warning names the path and the link: {warnings[0]!r}")
        rc, o, _ = runs.result(out, "status")
        lib.eq(lib.strict_json(o)["stateDir"], "/var/lib/anontel", "status names the fallback")
    lib.eq(os.listdir(os.path.join(root, "real/x/state")), [], "nothing written through the link")
    lib.check("stamps" in os.listdir(os.path.join(root, "var/lib/anontel")),
              "state kept in /var/lib/anontel")


def test_symlink_as_first_component_refused(tmp):
    _symlink_in_path(tmp, "/link/x/state", "/link", "real",
                     "/link is a symbolic link (refused)")


def test_symlink_as_middle_component_refused(tmp):
    _symlink_in_path(tmp, "/real/lx/state", "/real/lx", "x",
                     "/real/lx is a symbolic link (refused)")


def test_symlink_as_last_component_refused(tmp):
    _symlink_in_path(tmp, "/real/x/lstate", "/real/x/lstate", "state",
                     "is a symbolic link (refused)")
