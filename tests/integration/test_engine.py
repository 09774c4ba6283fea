"""anontel as the HEALTHCHECK of a real container engine (SPEC §11, Containers).

Debian's podman 4.3 with runc, as root, on the host network (NOTES.md: the bridge hangs
here), with a private configuration (tests/engine/containers.conf) and private storage, run
root and temp dir under the test's temp dir, removed at the end. The image is FROM scratch:
/anontel, a /pause PID 1 that never reaps (tests/engine/pause.c) and the tests' CA as /ca.pem
(SSL_CERT_FILE); its HEALTHCHECK is the exec form ["/anontel","check",URL,"--report"] with the
engine's timeout (tests/engine/Containerfile.in; podman 4.3 ignores `run --health-timeout` when
the image has one). Ticks are driven by `podman healthcheck run` and read back as the engine
recorded them (`podman inspect`, .State.Health.Log). The servers are Python ones on 127.0.0.1;
telemetry goes to http://127.0.0.1 (plain http is allowed to loopback only).
Where podman cannot run, the test fails saying why.
"""
import contextlib
import ipaddress
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time

import lib
import peers
import runs

ENGINE_FILES = os.path.join(lib.TOP, "tests", "engine")
IMAGE = "localhost/anontel-engine-test"
TICKS = 5
TICK_GAP = 2.0          # seconds between ticks: 5 ticks span 8 s, more than the 5 s
                        # telemetry timeout
NOBODY = 65534


class Silent(peers._Base):
    """Accepts TCP connections on 127.0.0.1 and never answers; .wall_times holds when each
    was accepted (time.time(), the clock the stamps use)."""

    def __init__(self):
        self.wall_times = []
        super().__init__(peers.LOOPBACK4, hold=60.0)

    def _handle(self, conn):
        with self._lock:
            self.wall_times.append(time.time())
        self._wait_idle(conn)


class Engine:
    """podman with a private configuration, storage, run root and temp dir under `tmp`.
    close() removes every container and image and checks no mount is left."""

    def __init__(self, tmp):
        podman = shutil.which("podman")
        lib.check(podman, "podman is not installed (./build.sh test installs podman and runc)")
        lib.check(shutil.which("runc"), "runc is not installed (./build.sh test installs it)")
        self.dir = os.path.join(tmp, "engine")
        for sub in ("root", "run", "tmp", "ctx"):
            os.makedirs(os.path.join(self.dir, sub))
        self.argv = [podman, "--root", os.path.join(self.dir, "root"),
                     "--runroot", os.path.join(self.dir, "run"),
                     "--tmpdir", os.path.join(self.dir, "tmp")]
        self.env = dict(os.environ, TMPDIR=os.path.join(self.dir, "tmp"),
                        CONTAINERS_CONF=os.path.join(ENGINE_FILES, "containers.conf"))
        self.names = []

    def podman(self, *args, timeout=60, ok=True):
        p = subprocess.run(self.argv + list(args), env=self.env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        if ok and p.returncode != 0:
            raise lib.CheckFailed(f"podman {' '.join(args)}: exit {p.returncode}: "
                                  f"{p.stderr.decode(errors='replace').strip()[-1500:]}")
        return p

    def build(self, probe_url, timeout=2):
        """The test image, its HEALTHCHECK probing probe_url with the engine's timeout
        `timeout` seconds; returns its name."""
        ctx = os.path.join(self.dir, "ctx")
        shutil.copy(lib.BIN, os.path.join(ctx, "anontel"))
        shutil.copy(peers.certs().root, os.path.join(ctx, "ca.pem"))
        cc = subprocess.run(["musl-gcc", "-static", "-Os", "-s", "-o", os.path.join(ctx, "pause"),
                             os.path.join(ENGINE_FILES, "pause.c")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=60)
        lib.eq(cc.returncode, 0, f"musl-gcc pause.c ({cc.stdout!r})")
        with open(os.path.join(ENGINE_FILES, "Containerfile.in")) as f:
            text = f.read().replace("@PROBE_URL@", probe_url).replace("@TIMEOUT@", f"{timeout}s")
        with open(os.path.join(ctx, "Containerfile"), "w") as f:
            f.write(text)
        image = f"{IMAGE}:timeout-{timeout}s"
        self.podman("build", "--quiet", "--format", "docker", "--network", "host",
                    "-t", image, ctx, timeout=120)
        self.probe = ["CMD", "/anontel", "check", probe_url, "--report"]
        self.timeout = timeout
        return image

    def start(self, name, image, *opts):
        """Starts a container of `image` on the host network and checks the engine took
        the image's HEALTHCHECK. No systemd here, so no tick runs unless tick() asks."""
        self.names.append(name)
        self.podman("run", "-d", "--name", name, "--hostname", name, "--network", "host",
                    *opts, image)
        lib.eq(self.inspect(name, "{{.State.Status}}"), "running", f"container {name} state")
        health = json.loads(self.inspect(name, "{{json .Config.Healthcheck}}"))
        lib.eq((health.get("Test"), health.get("Timeout")), (self.probe, self.timeout * 10**9),
               f"{name}: the engine's health check")

    def inspect(self, name, fmt):
        return self.podman("inspect", name, "--format", fmt).stdout.decode().strip()

    def tick(self, name):
        """One health-check run; returns (the engine's log entry for it, wall seconds)."""
        before = len(self.log(name))
        started = time.monotonic()
        self.podman("healthcheck", "run", name, timeout=60, ok=False)
        secs = time.monotonic() - started
        log = self.log(name)
        lib.check(len(log) > before or len(log) == 5,
                  f"the tick was not recorded in inspect's health log: {log}")
        return log[-1], secs

    def log(self, name):
        health = json.loads(self.inspect(name, "{{json .State.Health}}"))
        return health.get("Log") or []

    def exec_json(self, name, *args):
        p = self.podman("exec", name, *args)
        return lib.strict_json(p.stdout)

    def remove(self, name):
        self.podman("rm", "--force", "--time", "0", name, ok=False)

    def close(self):
        """Removes containers and images; returns the mounts left under our dir (none)."""
        for name in self.names:
            self.remove(name)
        self.podman("rmi", "--all", "--force", ok=False)
        mounts = []
        with open("/proc/self/mountinfo") as f:
            for line in f:
                point = line.split()[4]
                if point.startswith(self.dir):
                    mounts.append(point)
        for point in reversed(mounts):
            subprocess.run(["umount", "-l", point], timeout=30)
        # The overlay driver may keep its own home (root/overlay) mounted until the
        # storage shuts down, which podman does not always do on `rmi`; that is the
        # engine's, not a container's, and it is unmounted above either way.
        home = os.path.join(self.dir, "root", "overlay")
        return [p for p in mounts if p != home]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        left = self.close()
        if exc_type is None:
            lib.eq(left, [], "mounts left by the engine after removing everything")


def host_identity(extra_names=()):
    """The host's names, non-loopback IP addresses and MAC addresses: none may show in a
    tick's output (the container shares the host's network here). Read from /proc and
    /sys, so no tool is needed."""
    words = {socket.gethostname(), socket.getfqdn(), *extra_names}
    with open("/proc/net/fib_trie") as f:
        last = None
        for line in f:
            m = re.search(r"[|+]-- ([0-9.]+)$", line.rstrip())
            if m:
                last = m.group(1)
            elif "/32 host LOCAL" in line and last and not last.startswith("127."):
                words.add(last)
    with contextlib.suppress(FileNotFoundError), open("/proc/net/if_inet6") as f:
        for line in f:
            addr = ipaddress.IPv6Address(bytes.fromhex(line.split()[0]))
            if not addr.is_loopback:
                words.add(str(addr))
    net = "/sys/class/net"
    for iface in os.listdir(net):
        try:
            with open(os.path.join(net, iface, "address")) as f:
                mac = f.read().strip()
        except OSError:
            continue
        if mac and mac != "00:00:00:00:00:00":
            words.add(mac)
    return {w for w in words if w and w != "localhost"}


def check_output(entry, identity, what):
    """A tick's output: one line at most, and nothing that identifies the host. Names are
    matched as whole words, case-sensitively (a host named "vm" is not "VM or not")."""
    out = entry.get("Output") or ""
    lib.check(len(out.splitlines()) <= 1, f"{what}: more than one line: {out!r}")
    for word in identity:
        lib.check(not re.search(rf"(?<![\w.:-]){re.escape(word)}(?![\w:-])", out),
                  f"{what}: shows {word!r}: {out!r}")
    lib.check(not re.search(r"\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b", out, re.I),
              f"{what}: shows a MAC address: {out!r}")
    for quad in re.findall(r"\b\d{1,3}(?:\.\d{1,3}){3}\b", out):
        lib.check(quad.startswith("127."), f"{what}: shows the address {quad}: {out!r}")


def check_healthy(entry, secs, what):
    lib.eq(entry.get("ExitCode"), 0, f"{what}: exit code in inspect's log (entry {entry}, "
                                     f"tick took {secs:.1f}s)")


class StampsWatch:
    """Polls the stamps of a state dir the container shares with the host (a volume), and
    keeps, per value of `failures`, the next_try_ms the attempt that set it armed."""

    def __init__(self, state):
        self.state, self.armed, self._stop = state, {}, threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.wait(0.02):
            try:
                st = runs.stamps(self.state)
            except (FileNotFoundError, lib.CheckFailed, ValueError):
                continue   # not written yet, or caught mid-rename
            f = int(st.get("failures", "0"))
            if f > 0:
                self.armed.setdefault(f, int(st["next_try_ms"]) / 1000)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def ticks_against_a_silent_endpoint(tmp, engine_timeout):
    """A fresh container whose telemetry endpoint accepts and never answers: every tick is
    healthy within the engine's timeout, telemetry is tried, and each attempt waits for the
    back-off the one before armed (read from the stamps, on a volume the host can see)."""
    name = f"anontel-silent-{engine_timeout}s"
    identity = host_identity([name])
    state = os.path.join(tmp, "state")
    os.mkdir(state, 0o700)
    with runs.Server() as probe, Silent() as silent, Engine(tmp) as engine, \
            StampsWatch(state) as watch:
        image = engine.build(probe.url("/health"), engine_timeout)
        engine.start(name, image, "-v", f"{state}:/var/lib/anontel",
                     "-e", f"ANONTEL_ENDPOINT=http://127.0.0.1:{silent.port}/t")
        started = time.monotonic()
        for i in range(TICKS):
            if i:
                time.sleep(max(0.0, started + i * TICK_GAP - time.monotonic()))
            entry, secs = engine.tick(name)
            what = f"timeout {engine_timeout}s, tick {i + 1}"
            check_healthy(entry, secs, what)
            check_output(entry, identity, what)
        time.sleep(1.0)       # a child the last tick started may connect just after it
        span = time.monotonic() - started
        got = list(silent.wall_times)
        lib.check(len(probe.gets) >= TICKS, f"the probe was asked {len(probe.gets)} times")
        lib.check(got, f"no telemetry attempt reached the endpoint in {span:.0f}s "
                       f"({TICKS} healthy ticks): telemetry was never tried")
    # Attempt k (k >= 2) comes no earlier than the next try that attempt k - 1 armed
    # (the stamps' failures counter is k - 1 between them). 50 ms for the clock reading.
    for k in range(1, len(got)):
        armed = watch.armed.get(k)
        lib.check(armed is not None, f"attempt {k} armed no back-off in the stamps "
                                     f"({watch.armed}, attempts at {got})")
        lib.check(got[k] >= armed - 0.05, f"attempt {k + 1} at {got[k]:.2f} came before the "
                                          f"back-off armed by attempt {k} ({armed:.2f})")
    print(f"# timeout {engine_timeout}s: {len(got)} attempt(s) in {span:.0f}s of ticks; "
          f"back-offs armed {sorted(watch.armed.items())}")


def test_silent_endpoint_engine_timeout_1s(tmp):
    ticks_against_a_silent_endpoint(tmp, 1)


def test_silent_endpoint_engine_timeout_2s(tmp):
    ticks_against_a_silent_endpoint(tmp, 2)


def delivers(tmp, name, opts, state_dir):
    """One tick of a fresh container (extra run options `opts`) delivers one report to a
    collector on 127.0.0.1; `anontel status` in the container then names state_dir."""
    identity = host_identity([name])
    with runs.Server() as probe, runs.Server() as collector, Engine(tmp) as engine:
        image = engine.build(probe.url("/health"))
        engine.start(name, image,
                     "-e", f"ANONTEL_ENDPOINT={collector.url('/collect')}", *opts)
        entry, secs = engine.tick(name)
        check_healthy(entry, secs, name)
        check_output(entry, identity, name)
        out = entry.get("Output") or ""
        lib.check(not re.search(r"error|fail|cannot|skipped|not delivered|refused", out, re.I),
                  f"{name}: the tick's output reports a problem: {out!r}")
        deadline = time.monotonic() + 6
        while not collector.posts and time.monotonic() < deadline:
            time.sleep(0.1)
        posts = collector.posts
        lib.eq(len(posts), 1, f"{name}: reports received (tick output {out!r})")
        lib.eq(posts[0].target, "/collect", f"{name}: request target")
        data = lib.strict_json(posts[0].body)["data"]
        lib.eq(data["service"], "anontel", f"{name}: service")
        lib.check(re.fullmatch(r"[0-9a-f]{32}|[0-9a-f]{64}", data["system"]["id"]),
                  f"{name}: system.id {data['system'].get('id')!r}")
        lib.eq(data["system"]["platform"], "linux", f"{name}: system.platform")
        lib.eq((data["system"]["distro"], data["system"]["release"]), ("unknown", "unknown"),
               f"{name}: a scratch image has no os-release")
        status = engine.exec_json(name, "/anontel", "status", "--json")
        lib.eq(status["stateDir"], state_dir, f"{name}: state dir in use ({status})")
        lib.eq(status["delivered"], 1, f"{name}: delivered, as status counts it ({status})")
        lib.eq(status["lastError"], "", f"{name}: last error")
        logs = engine.podman("logs", name)
        lib.eq(logs.stdout + logs.stderr, b"", f"{name}: podman logs")


def test_no_volume_delivers(tmp):
    delivers(tmp, "anontel-novolume", [], "/var/lib/anontel")


def test_non_root_with_tmpfs_delivers(tmp):
    delivers(tmp, "anontel-nobody",
             ["--user", str(NOBODY), "--tmpfs", "/var/lib/anontel"],
             f"/var/lib/anontel/anontel-{NOBODY}")


def test_tick_output_names_nothing_of_the_host(tmp):
    """A refused endpoint, then a probe that fails: each tick's output is one line at most
    and names nothing of the host (its name, IP or MAC addresses, the container's name)."""
    name = "anontel-refused"
    identity = host_identity([name])
    with runs.Server() as probe, Engine(tmp) as engine:
        image = engine.build(probe.url("/health"))
        engine.start(name, image,
                     "-e", f"ANONTEL_ENDPOINT={runs.dead_url()}")
        entry, secs = engine.tick(name)
        check_healthy(entry, secs, f"{name}, endpoint refused")
        check_output(entry, identity, f"{name}, endpoint refused")
        probe.stop()
        entry, secs = engine.tick(name)
        lib.eq(entry.get("ExitCode"), 1, f"{name}, probe refused: exit code ({entry})")
        lib.check((entry.get("Output") or "").strip(), f"{name}: an unhealthy tick says why")
        check_output(entry, identity, f"{name}, probe refused")
