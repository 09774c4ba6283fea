"""podman's per-machine storage for test_packaging's Dockerfile test: /var/tmp/anontel-podman/
(ANONTEL_TEST_PODMAN overrides it), outside the work tree, so a fresh clone (CI) reuses it.

It holds what the Dockerfile's build takes from Debian: the debian:12 base (made once with
debootstrap, minbase, from the machine's own Debian mirror, then imported) and the layers of
the Dockerfile's `deps` stage (apt-get install and BearSSL's source), tagged DEPS so a prune
keeps them. `python3 tests/integration/podcache.py` makes both: it is part of ./build.sh
test's set-up (`./build.sh setup`), the only step here that reaches the network. The test
itself builds with `--network none`: `ready` checks that the `deps` stage comes whole from
this cache, and fails with one line saying to run the set-up when it does not.
"""
import fcntl
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

import lib

CACHE = os.environ.get("ANONTEL_TEST_PODMAN", "/var/tmp/anontel-podman")
BASE = "docker.io/library/debian:12"
DEPS = "localhost/anontel-dockerfile-deps"
CONTAINERS_CONF = os.path.join(lib.TOP, "tests", "engine", "containers.conf")
BUILD = ["build", "--pull=never", "--format", "docker"]


class Podman:
    """podman with runc, tests/engine/containers.conf and its storage in CACHE (absolute
    paths, the same on every run: podman's database records them). A storage that podman
    refuses (made with other paths) is removed and made afresh when `setup`; a test fails.
    One Podman at a time holds the storage (an exclusive lock on CACHE.lock, waited for, let
    go by close): two builds pruning the same storage at once left an image without its
    manifest, which failed every later prune."""

    def __init__(self, setup=False):
        podman = shutil.which("podman")
        lib.check(podman and shutil.which("runc"),
                  "podman or runc is not installed (./build.sh test installs both)")
        self.argv = [podman, "--root", os.path.join(CACHE, "root"),
                     "--runroot", os.path.join(CACHE, "run"),
                     "--tmpdir", os.path.join(CACHE, "tmp")]
        self.env = dict(os.environ, TMPDIR=os.path.join(CACHE, "tmp"),
                        CONTAINERS_CONF=CONTAINERS_CONF)
        self.lock = open(CACHE + ".lock", "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        try:
            os.makedirs(os.path.join(CACHE, "tmp"), exist_ok=True)
            p = self.run("info", ok=False)
            if p.returncode != 0 and b"database configuration mismatch" in p.stderr:
                lib.check(setup, f"podman refuses the storage in {CACHE}: {lib.SETUP}")
                self.unmount()
                shutil.rmtree(CACHE)
                os.makedirs(os.path.join(CACHE, "tmp"))
                self.run("info")
        except BaseException:
            self.lock.close()    # no close() will come for an object never made
            raise

    def run(self, *args, timeout=120, ok=True, **kw):
        p = subprocess.run(self.argv + list(args), env=self.env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout, **kw)
        if ok and p.returncode != 0:
            raise lib.CheckFailed(f"podman {' '.join(args)[:200]}: exit {p.returncode}: "
                                  f"{p.stderr.decode(errors='replace').strip()[-2000:]}")
        return p

    def has(self, image):
        return self.run("image", "exists", image, ok=False).returncode == 0

    def unmount(self):
        """Unmounts what the storage left mounted under CACHE (the overlay driver's home),
        so nothing stays mounted after the test."""
        with open("/proc/self/mountinfo") as f:
            points = [line.split()[4] for line in f]
        for point in reversed([p for p in points if p.startswith(CACHE + "/")]):
            subprocess.run(["umount", "-l", point], timeout=30)

    def close(self):
        """unmount, then lets the storage go to the next Podman."""
        self.unmount()
        self.lock.close()


def debian_mirror():
    """The machine's own Debian mirror (the URI of its `bookworm` suite)."""
    for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
        with open(path) as f:
            for stanza in f.read().split("\n\n"):
                fields = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.M))
                if "bookworm" in fields.get("Suites", "").split() and "URIs" in fields:
                    return fields["URIs"].split()[0]
    for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
        if os.path.exists(path):
            with open(path) as f:
                m = re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm\s", f.read(), re.M)
                if m:
                    return m.group(1)
    raise lib.CheckFailed("no bookworm mirror in /etc/apt/sources.list*")


def make_base(pod, tmp):
    """debian:12 in the storage: made once with debootstrap (minbase) and imported."""
    if pod.has(BASE):
        return
    lib.check(shutil.which("debootstrap"), "debootstrap is not installed (./build.sh test does)")
    root = os.path.join(tmp, "debian-root")
    print(f"podcache: making {BASE} with debootstrap (about 4 minutes)", file=sys.stderr,
          flush=True)
    p = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", root, debian_mirror()],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    lib.eq(p.returncode, 0, f"debootstrap: {p.stdout.decode(errors='replace')[-1500:]}")
    tar = subprocess.Popen(["tar", "-C", root, "--numeric-owner", "-c", "."],
                           stdout=subprocess.PIPE)
    pod.run("import", "-", BASE, stdin=tar.stdout, timeout=300)
    lib.eq(tar.wait(), 0, "tar of the debootstrap root")
    shutil.rmtree(root)


def make_deps(pod):
    """The Dockerfile's `deps` stage built with the network from the work tree (the same
    build.sh and tools/apt.sh as any copy of it) and tagged DEPS; a no-op when cached."""
    pod.run(*BUILD, "--network", "host", "--target", "deps", "-t", DEPS, lib.TOP, timeout=900)


def ready(pod, ctx):
    """Checks, without the network, that the build context ctx's `deps` stage is DEPS,
    every layer from the cache; fails with one line saying to run the set-up if not."""
    for image in (BASE, DEPS):
        lib.check(pod.has(image), f"{image} is not in {CACHE}: {lib.SETUP}")
    p = pod.run(*BUILD, "--network", "none", "--target", "deps", "--quiet", ctx,
                ok=False, timeout=120)
    want = pod.run("image", "inspect", "--format", "{{.Id}}", DEPS).stdout.strip()
    lib.check(p.returncode == 0 and p.stdout.strip() == want,
              f"the Dockerfile's deps stage (apt-get) for this build.sh and tools/apt.sh is "
              f"not cached in {CACHE}: {lib.SETUP}")


def main():
    """./build.sh test's set-up for the Dockerfile test; one line and exit 1 on failure."""
    pod = None
    try:
        pod = Podman(setup=True)
        with tempfile.TemporaryDirectory(dir=os.path.join(CACHE, "tmp")) as tmp:
            make_base(pod, tmp)
        make_deps(pod)
    except (lib.CheckFailed, subprocess.TimeoutExpired) as e:
        print(f"podcache: {e}".replace("\n", " | "), file=sys.stderr)
        return 1
    finally:
        if pod:
            pod.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
