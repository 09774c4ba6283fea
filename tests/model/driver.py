#!/usr/bin/env python3
"""Drives the real binary (build/anontel report) through random steps and compares each
step with the model (statemodel.py).

Steps: `report` runs (sometimes --force, sometimes SIGKILLed after a random short delay)
against a plain-HTTP server on 127.0.0.1 answering 2xx, a rejecting 4xx, 408/425/429
(some with Retry-After), 5xx, nothing (the run times out), a reset, a 2xx head whose body
never ends, or a port where nothing listens; clock jumps of minutes to years (every time
in the stamps moved by -delta: the clock jumping +delta); `interval` changes (config
file); stray entries in kept/ (directories, FIFOs, symlinks named like messages, junk
names, numbers out of range); stamps numbers poked beyond their maximum; and drains (the
server answers 2xx and the clock moves on: delivery within max(interval, back-off cap)).

After each run the observed state (stamps, kept/, the POSTs the server got, the exit
status, stderr, the wall time) must be what the model predicts from the state before,
with the binary's own draws (jitter, back-off delay) read back from the stamps and
checked against their ranges. A killed run may leave any state between before and after,
and the invariants must hold: no message lost except counted as dropped or rejected, a
message re-sent only with the same Idempotency-Key and bytes, counters never wrap, stray
entries never touched, no run past its deadline.

Usage: tests/model/driver.py [--seed S] [--steps N] [--seeds K] [--verbose] [--binary FILE]
                             [--known kept33,wait]
Env ANONTEL_MODEL_SEED / ANONTEL_MODEL_STEPS replay one seed (printed on failure).
--known counts two deviations of the binary instead of failing on them (see
tests/integration/test_state_model.py, which pins each by its own test).
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

import lib  # noqa: E402
import peers  # noqa: E402
import runs  # noqa: E402
import statemodel as sm  # noqa: E402

SEC = 1000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR
KEPT_RE = re.compile(r"(\d{20})\.json")
LOG_RE = re.compile(r"(\d{20})\.sent")    # the audit log: delivered messages
INTERVALS = [("2s", 2 * SEC), ("1m", MIN), ("10m", 10 * MIN), ("1h", HOUR), ("12h", 12 * HOUR),
             ("2d", 2 * DAY), ("365d", 365 * DAY)]
FAST_TIMEOUT_MS = 300            # runs that meet a silent server or an endless body
TIMEOUT_MS = 5000                # every other run
SLACK_S = 1.5                    # a shared machine's scheduling on top of the deadline
CLOCK_WARNING = "the clock was wrong"
REJECTED_PREFIX = "server rejected a message: HTTP "


class Failure(Exception):
    """The binary did something the model does not allow."""


def key_of(body):
    return hashlib.sha256(body).digest()[:16].hex()


def now_ms():
    return time.time_ns() // 1_000_000


# ------------------------------------------------------------------ the server

class Spec:
    """One answer of the server: kind is http (status, Retry-After or None), silent,
    reset, stall (a 2xx head and a body that never ends) or refused (nothing listens)."""

    def __init__(self, kind, status=None, retry_after=None):
        self.kind, self.status, self.retry_after = kind, status, retry_after

    def answer(self):
        """What the binary makes of it, for the model."""
        if self.kind == "http":
            ra = self.retry_after if self.status in sm.RETRY_AFTER_STATUSES else None
            return sm.Answer(self.status, ra)
        if self.kind == "stall":
            return sm.Answer(200)
        return sm.Answer(None)

    def removes(self):
        a = self.answer()
        return a.delivered or a.rejected

    def __repr__(self):
        if self.kind == "http":
            return f"{self.status}" + (f"+RA{self.retry_after}" if self.retry_after is not None else "")
        return self.kind


class Server(runs.Server):
    """runs.Server answering each POST of a step from the step's plan (the i-th POST
    gets plan[min(i, len - 1)]), with two more answers: a reset (RST without a reply)
    and a 2xx head whose body never ends. Each step has its own URL path, so a request
    of a killed run that the server reads late is never taken for the next step's.
    Finished handler threads are pruned."""

    def __init__(self):
        self.plan = [Spec("http", 200)]
        self.path = "/s0"
        self.step_posts = 0
        self.reading = 0
        super().__init__(route=None, hold=3.0)

    def _handle(self, conn):
        with self._lock:
            self.reading += 1
        try:
            r = peers._read_request(conn)
        except (OSError, ValueError):
            r = None
        finally:
            with self._lock:
                self.reading -= 1
        if r is None:
            return
        with self._lock:
            self.requests.append(r)
            if r.target == self.path:
                i = self.step_posts
                self.step_posts += 1
                spec = self.plan[min(i, len(self.plan) - 1)]
            else:
                spec = Spec("http", 500)    # a killed run's, read late: nobody listens
        try:
            if spec.kind == "silent":
                self._stop.wait(self.hold)
            elif spec.kind == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            elif spec.kind == "stall":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\nok")
                self._stop.wait(self.hold)
            else:
                head = f"HTTP/1.1 {spec.status} {runs.REASONS.get(spec.status, 'X')}\r\n"
                if spec.retry_after is not None:
                    head += f"Retry-After: {spec.retry_after}\r\n"
                head += "Content-Length: 2\r\nConnection: close\r\n\r\n"
                conn.sendall(head.encode() + b"ok")
        except OSError:
            return

    def begin_step(self, plan, step):
        """Sets the plan; returns the step's URL."""
        with self._lock:
            self.plan = plan
            self.path = f"/s{step}"
            self.step_posts = 0
            self.requests = []
            self._threads = [t for t in self._threads if t.is_alive()]
            self._conns = [c for c in self._conns if c.fileno() != -1]
        return self.url(self.path)

    def settle(self, killed):
        """Waits until every connection made so far is read (a killed client's request
        is recorded or found torn) and returns this step's POSTs."""
        if killed:
            time.sleep(0.06)      # time for the accept loop to take its last connection
        end = time.monotonic() + 3
        while time.monotonic() < end:
            with self._lock:
                if self.reading == 0:
                    break
            time.sleep(0.002)
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.target == self.path]


# ------------------------------------------------------------------ observing the state dir

def read_stamps(state):
    """(raw bytes, inode) of the stamps file, or (None, None)."""
    try:
        with open(os.path.join(state, "stamps"), "rb") as f:
            return f.read(), os.fstat(f.fileno()).st_ino
    except FileNotFoundError:
        return None, None


class Observed:
    """The state dir after a step: stamps (parsed, clamped), raw text, inode, the valid
    kept messages [(seq, key)], their bytes, and the other entries of kept/."""

    def __init__(self, state):
        path = os.path.join(state, "stamps")
        self.raw, self.inode = read_stamps(state)
        if self.raw is None:
            self.stamps, self.over = sm.Stamps(), []
        else:
            try:
                self.stamps, self.over = sm.Stamps.parse(self.raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                raise Failure(f"stamps unreadable: {e}: {self.raw[:400]!r}")
        self.kept, self.bodies, self.others, self.taken = [], {}, {}, 0
        d = os.path.join(state, "kept")
        names = sorted(os.listdir(d)) if os.path.isdir(d) else []
        for n in names:
            p = os.path.join(d, n)
            st = os.lstat(p)
            m = KEPT_RE.fullmatch(n)
            logged = LOG_RE.fullmatch(n)
            if logged and stat.S_ISREG(st.st_mode) and 1 <= int(logged.group(1)) <= sm.SEQ_MAX:
                self.taken = max(self.taken, int(logged.group(1)))
            elif m and stat.S_ISREG(st.st_mode) and 1 <= int(m.group(1)) <= sm.SEQ_MAX:
                with open(p, "rb") as f:
                    body = f.read()
                k = key_of(body)
                self.kept.append(sm.Msg(int(m.group(1)), k))
                self.bodies[k] = body
            else:
                self.others[n] = stat.S_IFMT(st.st_mode)
                if m and 1 <= int(m.group(1)) <= sm.SEQ_MAX:
                    self.taken = max(self.taken, int(m.group(1)))
        self.kept.sort(key=lambda m: m.seq)

    def state(self):
        return sm.State(self.stamps.copy(), self.kept, self.taken)


# ------------------------------------------------------------------ the driver

class Draws(sm.Draws):
    """The binary's draws, read back from what it wrote: the model checks their range.
    The back-off delay is never used in the run that draws it: a Between range."""

    def __init__(self, obs, new_key):
        self.obs, self.new_key = obs, new_key

    def jitter_permille(self):
        j = self.obs.stamps.jitter_permille
        return "(none written)" if j is None else j

    def next_try_ms(self, lo, hi):
        return sm.Between(lo, hi)

    def new_message(self, seq):
        return self.new_key if self.new_key is not None else "(no new message seen)"


class _GuessDraws(sm.Draws):
    """For planning a step (how many POSTs it will make) before it runs."""

    def jitter_permille(self):
        return 0

    def next_try_ms(self, lo, hi):
        return lo

    def new_message(self, seq):
        return "(new)"


def stray_body(n):
    return json.dumps({"stray": n, "note": "not a message anontel made"}).encode()


class Driver:
    """One state dir, one seed: random steps, each checked against the model."""

    def __init__(self, seed, workdir, server, log=None, known=()):
        self.seed, self.rng, self.server, self.log = seed, random.Random(seed), server, log
        self.known = frozenset(known)  # deviations counted as notes instead of failing
        self.notes = []
        self.dir = workdir
        self.state = os.path.join(workdir, "state")
        self.cfg = os.path.join(workdir, "config.json")
        self.set_interval("1h", HOUR)
        self.model = sm.State()
        self.bodies = {}              # key -> bytes of every message seen
        self.fate = {}                # key -> delivered, rejected or dropped
        self.strays = {}              # name in kept/ -> file type (S_IFDIR, ...)
        self.stray_bodies = set()
        self.step_no = 0
        self.figures = dict.fromkeys(
            ("steps", "runs", "due", "forced", "posts", "delivered", "rejected", "dropped",
             "killed", "killed_after_write", "clock_clamps", "timeouts", "jumps", "drains",
             "drain_runs", "interval_changes", "strays", "pokes", "status", "max_backoff_permille"), 0)
        self.figures["max_wall_over_deadline_ms"] = None

    # -------------------------------------------------------------- helpers

    def say(self, text):
        if self.log:
            self.log(f"[seed {self.seed} step {self.step_no}] {text}")

    def fail(self, text):
        raise Failure(f"seed {self.seed} step {self.step_no}: {text}")

    def tolerate(self, kind, text):
        """A known deviation (--known KIND): counted and noted, the run goes on."""
        if kind not in self.known:
            self.fail(text)
        self.figures[f"known_{kind}"] = self.figures.get(f"known_{kind}", 0) + 1
        if len(self.notes) < 5:
            self.notes.append(f"seed {self.seed} step {self.step_no}: {text.splitlines()[0]}")

    def set_interval(self, name, ms):
        self.interval_name, self.interval = name, ms
        with open(self.cfg, "w") as f:
            json.dump({"interval": name}, f)

    def kept_dir(self):
        return os.path.join(self.state, "kept")

    def rewrite_stamps(self, change):
        """Rewrites the stamps file (as the driver, between runs): change(key, value)
        returns the new value text, or None to drop the line. Atomic."""
        raw, _ = read_stamps(self.state)
        if raw is None:
            return False
        lines = []
        for line in raw.decode().split("\n")[:-1]:
            key, _, value = line.partition(" ")
            value = change(key, value)
            if value is not None:
                lines.append(f"{key} {value}")
        extra = change(None, None)
        if extra:
            lines.append(extra)
        tmp = os.path.join(self.state, "stamps.driver")
        with open(tmp, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(tmp, os.path.join(self.state, "stamps"))
        return True

    def resync(self):
        """The model's stamps from the file the driver just wrote (as the binary reads it)."""
        raw, _ = read_stamps(self.state)
        self.model.stamps = sm.Stamps.parse(raw.decode())[0]

    def answers(self, plan):
        return lambda i: plan[min(i, len(plan) - 1)].answer()

    # -------------------------------------------------------------- steps

    def random_step(self):
        r = self.rng.random()
        if r < 0.62:
            self.step_run()
        elif r < 0.82:
            self.step_jump()
        elif r < 0.85:
            self.step_interval()
        elif r < 0.91:
            self.step_stray()
        elif r < 0.95:
            self.step_poke()
        elif r < 0.955 or self.interval > 2 * DAY:
            self.step_jump(forward_only=True)
        elif r < 0.965:
            self.step_status()
        elif r < 0.98:
            self.step_pile()
        else:
            self.step_drain()

    def random_plan(self):
        rng = self.rng

        def one():
            x = rng.random()
            if x < 0.45:
                return Spec("http", rng.choice([200, 200, 200, 201, 202, 204]))
            if x < 0.55:
                return Spec("http", rng.choice([400, 401, 403, 404, 410, 413, 422]))
            if x < 0.65:
                return Spec("http", rng.choice([500, 502, 504, 408, 425]))
            if x < 0.78:
                ra = rng.choice([0, 1, 30, 600, 3600, 86400, 10 ** 7]) if rng.random() < 0.8 else None
                return Spec("http", rng.choice([429, 503]), ra)
            if x < 0.86:
                return Spec("reset")
            if x < 0.92:
                return Spec("refused")
            if x < 0.97:
                return Spec("silent")
            return Spec("stall")
        if rng.random() < 0.7:
            return [one()]
        return [one() for _ in range(rng.randint(2, 4))]

    def step_run(self, plan=None, force=None, kill=None):
        rng = self.rng
        if plan is None:
            plan = self.random_plan()
        if force is None:
            force = rng.random() < 0.12
        if kill is None:
            kill = rng.random() < 0.1
        # A refused answer is a whole run's (the endpoint is a port where nothing
        # listens). A stall only as the run's one POST: what would follow it meets an
        # expired deadline, which the design leaves open.
        if plan[0].kind == "refused":
            plan = plan[:1]
        else:
            plan = [s if s.kind != "refused" else Spec("http", 500) for s in plan]
        guess = sm.report(self.model, self.interval, now_ms(), self.answers(plan), _GuessDraws(),
                          force)
        if len(guess.posts) > 1:
            plan = [s if s.kind != "stall" else Spec("http", 200) for s in plan]
        slow = any(s.kind in ("silent", "stall") for s in plan[:max(1, len(guess.posts))])
        timeout = FAST_TIMEOUT_MS if slow or rng.random() < 0.1 else TIMEOUT_MS
        kill_after = rng.uniform(0, 0.4 if slow else 0.01) if kill else None
        return self.run_and_check(plan, force, timeout, kill_after)

    def step_jump(self, forward_only=False):
        """The clock jumps by delta: every time in the stamps moves by -delta."""
        rng = self.rng
        if forward_only or rng.random() < 0.6:
            delta = rng.randint(0, 2 * self.interval)
        else:
            delta = int(10 ** rng.uniform(4.8, 11.5)) * rng.choice([-1, 1])   # 1 min .. 10 years
        self.step_no += 1
        self.figures["jumps"] += 1
        self.say(f"clock jumps {delta / 1000:+.0f} s")

        def change(key, value):
            if key in sm.TIME_KEYS:
                v = min(int(value), sm.INT64_MAX)
                return str(min(sm.INT64_MAX, max(1, v - delta)) if v else 0)
            return value
        if self.rewrite_stamps(change):
            self.model.shift(delta)
            self.resync()

    def step_interval(self):
        name, ms = self.rng.choice(INTERVALS)
        self.step_no += 1
        self.figures["interval_changes"] += 1
        self.say(f"interval {self.interval_name} -> {name}")
        self.set_interval(name, ms)

    def step_stray(self):
        """Something in kept/ that is not a message anontel made: never sent, never
        removed, never counted."""
        rng = self.rng
        d = self.kept_dir()
        self.step_no += 1
        if not os.path.isdir(d):
            return
        if self.strays and (len(self.strays) > 12 or rng.random() < 0.25):
            name = rng.choice(sorted(self.strays))
            p = os.path.join(d, name)
            os.rmdir(p) if self.strays.pop(name) == stat.S_IFDIR else os.unlink(p)
            self.say(f"stray kept/{name} removed")
            self.model.taken = Observed(self.state).taken
            return
        n = len(self.stray_bodies) + self.step_no
        like = lambda seq: f"{seq:020d}.json"  # noqa: E731
        kind = rng.choice(["dir", "fifo", "symlink", "dangling", "file"])
        if kind == "file":
            # Regular files whose name is not a message's: numbers out of range, junk.
            name = rng.choice([like(0), "9" * 20 + ".json", like(sm.SEQ_MAX + 1 + rng.randrange(10 ** 6)),
                               "junk", f"{n}.json", f"{n:019d}.json", f"{n:021d}.json",
                               like(n) + ".part", like(n)[:-5] + ".JSON", ".hidden", "-"])
        else:
            # Named like a message, far above any sequence number the run reaches.
            name = rng.choice([like(10 ** 15 + n), like(sm.SEQ_MAX + 1), like(0), "9" * 20 + ".json"])
        p = os.path.join(d, name)
        if name in self.strays or os.path.lexists(p):
            return
        body = stray_body(n)
        if kind == "dir":
            os.mkdir(p)
        elif kind == "fifo":
            os.mkfifo(p)
        elif kind in ("symlink", "dangling"):
            target = os.path.join(self.dir, f"target-{n}.json")
            if kind == "symlink":
                with open(target, "wb") as f:
                    f.write(body)
                self.stray_bodies.add(body)
            os.symlink(target, p)
        else:
            with open(p, "wb") as f:
                f.write(body)
            self.stray_bodies.add(body)
        self.strays[name] = stat.S_IFMT(os.lstat(p).st_mode)
        self.model.taken = Observed(self.state).taken
        self.figures["strays"] += 1
        self.say(f"stray kept/{name} ({kind})")

    def step_poke(self):
        """Numbers in the stamps at or beyond their maximum: clamped when read, never wrap."""
        rng = self.rng
        self.step_no += 1
        # Half the time a counter comes back to a small number, so the next
        # increments are seen again.
        over = lambda top: rng.choice([top, top - rng.randint(0, 3), top + rng.randint(1, 10 ** 6),  # noqa: E731
                                       int("9" * rng.randint(20, 40)), rng.randint(0, 1000),
                                       rng.randint(0, 1000), rng.randint(0, 1000), rng.randint(0, 1000)])
        choices = {
            "sent": lambda: over(sm.U64_MAX), "dropped": lambda: over(sm.U64_MAX),
            "rejected": lambda: over(sm.U64_MAX), "failures": lambda: over(sm.U32_MAX),
            "jitter_permille": lambda: rng.choice([100, 101, 1000, 10 ** 12]),
            "notice_shown": lambda: rng.choice([1, 2, 99]),
            "next_try_ms": lambda: over(sm.INT64_MAX), "last_built_ms": lambda: over(sm.INT64_MAX),
            "last_success_ms": lambda: over(sm.INT64_MAX), "jitter_ms": None,
            "first_report_ms": lambda: over(sm.INT64_MAX),
        }
        key = rng.choice(sorted(choices))
        value = None if choices[key] is None else choices[key]()
        self.say(f"stamps poke {key} = {value}")
        self.figures["pokes"] += 1
        if key == "jitter_ms":
            # A legacy jitter_ms instead of jitter_permille: ignored, a permille drawn anew.
            ms = rng.randrange(self.interval // 10 + 1)
            self.rewrite_stamps(lambda k, v: None if k in ("jitter_permille", "jitter_ms")
                                else (f"jitter_ms {ms}" if k is None else v))
        else:
            seen = []

            def change(k, v):
                if k is None:
                    return None if seen else f"{key} {value}"
                if k == key:
                    seen.append(k)
                    return str(value)
                return v
            self.rewrite_stamps(change)
        if read_stamps(self.state)[0] is not None:
            self.resync()

    def step_status(self):
        """`status --json` shows what the state dir holds: kept, dropped, rejected,
        delivered, the entries of kept/ it ignores, and when the next run is due."""
        self.step_no += 1
        self.figures["status"] += 1
        if not os.path.isdir(self.state):
            return
        t0 = now_ms()
        p = subprocess.run([lib.BIN, "status", "--json", "-c", self.cfg], env=runs.env(self.state, self.server.url()),
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
        if p.returncode != 0:
            self.fail(f"status --json: exit {p.returncode}: {p.stderr[:300]!r}")
        got = lib.strict_json(p.stdout)
        obs = Observed(self.state)
        st = obs.stamps
        ignored = sum(1 for n in obs.others if not n.startswith(".tmp-"))
        want = {"kept": len(obs.kept), "dropped": st.dropped, "rejected": st.rejected,
                "delivered": st.sent, "ignoredInKept": ignored}
        shown = {k: got.get(k) for k in want}
        if shown != want:
            self.fail(f"status --json shows {shown}, the state dir holds {want}")
        due = sm.due_at(obs.state(), self.interval, t0)
        sane = all(getattr(st, k) <= t0 + self.interval for k in sm.TIME_KEYS)
        # While the clock is before last_built_ms (it went back), a new message is due
        # at once; status's nextDue is not checked then.
        if sane and st.last_built_ms <= t0 and due > t0 + 1000 and got.get("nextDue"):
            shown_due = round(runs.parse_ts(got["nextDue"]) * 1000)
            if shown_due != due:
                self.fail(f"status --json: nextDue {got['nextDue']} ({shown_due}), the model's {due}: {st!r}")
        self.say(f"status: {shown}, nextDue {got.get('nextDue')}")

    def step_pile(self):
        """Forced runs against a failing server: kept messages pile up past 32."""
        n = self.rng.randint(5, 40)
        self.say(f"pile: {n} forced runs against a failing server")
        for _ in range(n):
            plan = [self.rng.choice([Spec("http", 500), Spec("http", 429), Spec("reset"),
                                     Spec("http", 503, self.rng.choice([None, 1]))])]
            self.step_run(plan=plan, force=True, kill=self.rng.random() < 0.05)

    def step_drain(self):
        """Liveness: with the server answering 2xx, everything kept is delivered, and a
        message delivered, within interval + jitter of the clock (whatever it said
        before), with runs at random times in between."""
        rng = self.rng
        self.figures["drains"] += 1
        j = self.model.stamps.jitter_permille
        bound = self.interval + sm.jitter_ms(self.interval, sm.JITTER_MAX if j is None else j) + 2000
        strict = bound
        if "wait" in self.known:
            # What an earlier clock said: last_built_ms ahead of the clock, not clamped.
            bound += max(0, min(self.model.stamps.last_built_ms - now_ms(), self.interval))
        plan = [Spec("http", 200)]
        elapsed, delivered = 0, 0
        self.say(f"drain: delivery due within {bound / 1000:.0f} s")
        while True:
            o = self.step_run(plan=plan, force=False, kill=False)
            delivered += o.delivered if o is not None else 0
            if delivered and not self.model.kept:
                if elapsed > strict:
                    self.tolerate("wait", f"drain: delivered only after {elapsed / 1000:.0f} s, more "
                                          f"than interval + jitter {strict / 1000:.0f} s")
                return
            if elapsed >= bound:
                self.fail(f"drain: nothing delivered within {bound / 1000:.0f} s (interval "
                          f"{self.interval_name}) with the server answering 2xx; "
                          f"stamps {self.model.stamps!r} kept {[m.seq for m in self.model.kept]}")
            # A run at the strict bound itself, so a delivery after it is a real one.
            stop = strict if elapsed < strict else bound
            d = min(stop - elapsed, rng.randint(bound // 16, bound // 4))
            elapsed += d
            self.figures["drain_runs"] += 1
            self.step_no += 1
            self.say(f"drain: clock +{d / 1000:.0f} s")

            def change(key, value, d=d):
                if key in sm.TIME_KEYS:
                    v = min(int(value), sm.INT64_MAX)
                    return str(min(sm.INT64_MAX, max(1, v - d)) if v else 0)
                return value
            if self.rewrite_stamps(change):
                self.model.shift(d)
                self.resync()

    # -------------------------------------------------------------- a run and its checks

    def run_and_check(self, plan, force, timeout, kill_after):
        self.step_no += 1
        f = self.figures
        f["runs"] += 1
        f["forced"] += force
        url = self.server.begin_step(plan, self.step_no)
        endpoint = runs.dead_url() if plan[0].kind == "refused" else url
        args = [lib.BIN, "report", "-c", self.cfg, "--timeout", f"{timeout}ms"]
        if force:
            args.append("--force")
        pre = self.model.copy()
        pre_raw, pre_inode = read_stamps(self.state)
        env = runs.env(self.state, endpoint)
        t0 = now_ms()
        started = time.monotonic()
        p = subprocess.Popen(args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        if kill_after is not None:
            try:
                p.wait(kill_after)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
        try:
            _, err = p.communicate(timeout=timeout / 1000 + 30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            self.fail(f"report did not exit within {timeout / 1000 + 30:.0f} s (deadline {timeout} ms)")
        wall = time.monotonic() - started
        t1 = now_ms()
        killed = p.returncode == -signal.SIGKILL
        posts = self.server.settle(killed)
        obs = Observed(self.state)
        what = (f"report{' --force' if force else ''} (server {plan}, --timeout {timeout}ms, "
                f"interval {self.interval_name}{', killed' if killed else ''})")
        self.say(f"{what}: exit {p.returncode}, {len(posts)} POSTs, {wall * 1000:.0f} ms")
        self.check_common(pre, obs, posts, plan, what)
        o = None
        if killed:
            f["killed"] += 1
            f["killed_after_write"] += obs.raw != pre_raw
            self.check_killed(pre, obs, posts, plan, t0, t1, what)
        else:
            over = round(wall * 1000 - timeout)
            m = f["max_wall_over_deadline_ms"]
            f["max_wall_over_deadline_ms"] = over if m is None else max(m, over)
            if wall > timeout / 1000 + SLACK_S:
                self.fail(f"{what}: took {wall:.2f} s, past its deadline {timeout} ms + {SLACK_S} s")
            o = self.check_exact(pre, obs, posts, plan, force, t0, t1, p.returncode, err,
                                 pre_raw, pre_inode, what, wall * 1000 >= timeout - 50)
            f["due"] += o.due
            f["clock_clamps"] += o.warned
            f["timeouts"] += bool(o.posts) and plan[min(len(o.posts), len(plan)) - 1].kind == "silent"
            # Never a wait longer than interval + jitter, whatever the clock said before.
            st = obs.stamps
            wait = sm.due_at(obs.state(), self.interval, t1) - t1
            most = self.interval + sm.jitter_ms(self.interval, st.jitter_permille or 0)
            if wait > most:
                ahead = max(0, st.last_built_ms - t1)
                text = (f"{what}: the next run is due in {wait / 1000:.0f} s, more than interval + "
                        f"jitter {most / 1000:.0f} s (last_built_ms {ahead / 1000:.0f} s ahead of "
                        f"the clock, next_try_ms {(st.next_try_ms - t1) / 1000:.0f} s): {st!r}")
                if wait > most + ahead:
                    self.fail(text)
                self.tolerate("wait", text)
            if isinstance(o.state.stamps.next_try_ms, sm.Between):
                b = sm.backoff_bound_ms(st.failures, self.interval)
                delay = st.next_try_ms - o.now
                f["max_backoff_permille"] = max(f["max_backoff_permille"], delay * 1000 // b)
        self.model = obs.state()
        return o

    def new_key(self, pre, obs, posts):
        old = {m.key for m in pre.kept}
        seen = [m.key for m in obs.kept if m.key not in old]
        for r in posts:
            k = key_of(r.body)
            if k not in old and k not in seen:
                seen.append(k)
        if len(seen) > 1:
            self.fail(f"more than one new message in one run: {seen}")
        return seen[0] if seen else None

    def check_common(self, pre, obs, posts, plan, what):
        """What holds after every run, killed or not."""
        f = self.figures
        old = {m.key for m in pre.kept}
        new = self.new_key(pre, obs, posts)
        for k, body in obs.bodies.items():
            if self.bodies.setdefault(k, body) != body:
                self.fail(f"{what}: kept message {k} changed its bytes")
        removed_by_post = {}
        for i, r in enumerate(posts):
            k = key_of(r.body)
            hdr = r.header("Idempotency-Key")
            if hdr != [k]:
                self.fail(f"{what}: POST {i}: Idempotency-Key {hdr}, want [{k!r}] (SHA-256 of the body)")
            if r.body in self.stray_bodies:
                self.fail(f"{what}: POST {i} sent a stray file of kept/: {r.body[:80]!r}")
            if k not in old and k != new:
                self.fail(f"{what}: POST {i}: a message that was never kept: {r.body[:120]!r}")
            if k in self.fate:
                self.fail(f"{what}: POST {i}: message {k} sent again after it was {self.fate[k]}")
            spec = plan[min(i, len(plan) - 1)]
            if spec.kind != "http":
                f[f"answered_{spec.kind}"] = f.get(f"answered_{spec.kind}", 0) + 1
            a = spec.answer()
            if a.delivered or a.rejected:
                removed_by_post[k] = "delivered" if a.delivered else "rejected"
            f["posts"] += 1
        # Nothing lost: a message gone from kept/ was answered 2xx or rejected, or was
        # dropped (among the oldest, and counted).
        now_kept = {m.key for m in obs.kept}
        before = list(pre.kept)
        if new is not None:
            before.append(sm.Msg(None, new))
        gone = [m for m in before if m.key not in now_kept]
        unposted = [m for m in gone if m.key not in removed_by_post]
        for m in gone:
            fate = removed_by_post.get(m.key, "dropped")
            self.fate[m.key] = fate
            f[fate] += 1
        for m in obs.kept:
            if m.key in self.fate:
                self.fail(f"{what}: message {m.key} is kept again after it was {self.fate[m.key]}")
        if unposted:
            oldest = [m.key for m in before[:len(unposted)]]
            if [m.key for m in unposted] != oldest:
                self.fail(f"{what}: messages vanished unsent that are not the oldest: "
                          f"{[m.seq for m in unposted]} of {[m.seq for m in pre.kept]}")

        def pending(state):
            db = state.stamps.drop_below
            return sum(1 for m in state.kept if m.seq < db) if db else 0
        counted = len(unposted) + pending(obs.state()) - pending(pre)
        want = sm.sat_add(pre.stamps.dropped, counted, sm.U64_MAX) if counted >= 0 else None
        if obs.stamps.dropped != want:
            self.fail(f"{what}: dropped {pre.stamps.dropped} -> {obs.stamps.dropped}, want {want}: "
                      f"{len(unposted)} removed unsent, drops pending {pending(pre)} -> "
                      f"{pending(obs.state())}")
        for k in sm.COUNTER_KEYS:
            if getattr(obs.stamps, k) < getattr(pre.stamps, k):
                self.fail(f"{what}: {k} went down: {getattr(pre.stamps, k)} -> {getattr(obs.stamps, k)}")
        for name, kind in self.strays.items():
            if obs.others.get(name) != kind:
                self.fail(f"{what}: stray kept/{name} was removed or replaced")

    def check_killed(self, pre, obs, posts, plan, t0, t1, what):
        """A killed run may leave any state between before and after: it must be one
        the machine can be in."""
        s, p = obs.stamps, pre.stamps
        n_del = sum(1 for i in range(len(posts)) if plan[min(i, len(plan) - 1)].answer().delivered)
        n_rej = sum(1 for i in range(len(posts)) if plan[min(i, len(plan) - 1)].answer().rejected)
        if not p.sent <= s.sent <= sm.sat_add(p.sent, n_del, sm.U64_MAX):
            self.fail(f"{what}: sent {p.sent} -> {s.sent} with {n_del} delivered")
        if not p.rejected <= s.rejected <= sm.sat_add(p.rejected, n_rej, sm.U64_MAX):
            self.fail(f"{what}: rejected {p.rejected} -> {s.rejected} with {n_rej} rejected")
        if s.failures not in (p.failures, sm.sat_add(p.failures, 1, sm.U32_MAX), 0):
            self.fail(f"{what}: failures {p.failures} -> {s.failures}")
        for k in sm.TIME_KEYS:
            v, was = getattr(s, k), getattr(p, k)
            ok = v == was or t0 <= v <= t1
            if k == "next_try_ms":
                ok = ok or v == 0 or t0 <= v <= t1 + self.interval
            if not ok:
                self.fail(f"{what}: {k} {was} -> {v} (the run was between {t0} and {t1})")
        if p.jitter_permille is not None and s.jitter_permille != p.jitter_permille:
            self.fail(f"{what}: jitter_permille changed {p.jitter_permille} -> {s.jitter_permille}")
        if s.jitter_permille is not None and not 0 <= s.jitter_permille <= sm.JITTER_MAX:
            self.fail(f"{what}: jitter_permille {s.jitter_permille} outside 0..{sm.JITTER_MAX}")
        if s.last_error == sm.ARMED_ERROR and s.failures == sm.sat_add(p.failures, 1, sm.U32_MAX):
            # Killed after arming: the back-off drawn for this many failures.
            b = sm.backoff_bound_ms(s.failures, self.interval)
            if not t0 + min(1000, b) <= s.next_try_ms <= t1 + b:
                self.fail(f"{what}: armed next_try_ms is {s.next_try_ms - t0} ms after the run's "
                          f"start, outside [1 s, {b} ms] (failures {s.failures})")
        new = self.new_key(pre, obs, posts)
        # Kept: what was there (and the new message), less some of the oldest: dropped,
        # delivered or rejected one at a time, oldest first.
        base = [m.key for m in pre.kept] + ([new] if new is not None else [])
        got = [m.key for m in obs.kept]
        if got != base[len(base) - len(got):]:
            self.fail(f"{what}: kept {[m.seq for m in obs.kept]} is not the kept before "
                      f"{[m.seq for m in pre.kept]} (and a new one) less some of the oldest")
        seqs = [m.seq for m in obs.kept if m.key == new]
        want = max(pre.kept[-1].seq if pre.kept else 0, pre.taken) + 1
        if seqs and seqs[0] != want:
            self.fail(f"{what}: the new message is kept as {seqs[0]}, want {want}")

    def check_exact(self, pre, obs, posts, plan, force, t0, t1, rc, err, pre_raw, pre_inode, what,
                    out_of_time):
        """A run that finished: exactly what the model predicts, for some clock reading
        in [t0, t1] and the draws the binary wrote. A run that used up its deadline
        may have timed out at any POST: before the server had it (the last attempt
        unrecorded) or while waiting for the answer."""
        draws = Draws(obs, self.new_key(pre, obs, posts))
        cands = {t0, t1}
        for k in sm.TIME_KEYS:
            v = getattr(obs.stamps, k)
            if t0 <= v <= t1:
                cands.add(v)
        nt = obs.stamps.next_try_ms
        if nt:
            cands.add(min(t1, max(t0, nt - 1000)))
            for s in plan:
                if s.retry_after is not None:
                    c = nt - min(s.retry_after * 1000, self.interval)
                    if t0 <= c <= t1:
                        cands.add(c)
        text = err.decode("utf-8", "replace")
        warned = sum(1 for line in text.splitlines() if CLOCK_WARNING in line)
        reasons = []
        variants = [True]
        if pre.stamps.jitter_permille is None and pre.stamps.last_built_ms:
            variants.append(False)       # the design leaves open which jitter decides
        planned = self.answers(plan)
        sends = [(planned, 0, "")]
        if out_of_time and plan[0].kind != "refused":
            n = len(posts)
            timed_out = sm.Answer(None)
            sends.append((lambda i: planned(i) if i < n else timed_out, 1,
                          f" (deadline met before POST {n})"))
            if n:
                sends.append((lambda i: planned(i) if i < n - 1 else timed_out, 0,
                              f" (deadline met in POST {n - 1})"))
        laxes = [False]
        if "kept33" in self.known and len(pre.kept) > sm.MAX_KEPT:
            laxes.append(True)
        tries = [(lax, send, variant, now) for lax in laxes for send in sends
                 for variant in variants for now in sorted(cands)]
        for lax, (answers, unrecorded, how), variant, now in tries:
            label = f"now=t0+{now - t0}{how}{' (lax kept limit)' if lax else ''}"
            try:
                o = sm.report(pre, self.interval, now, answers, draws, force,
                              build_with_new_jitter=variant,
                              lax_kept_limit=lax)
            except sm.Mismatch as e:
                reasons.append(f"{label}: {e}")
                continue
            why = self.compare(o, obs, posts, plan, answers, unrecorded, rc, warned, pre_raw, pre_inode)
            if why is None:
                if lax:
                    self.tolerate("kept33", f"{what}: {len(pre.kept)} kept, none dropped (the run "
                                            f"built none); {len(o.posts)} POSTed, {len(o.state.kept)} "
                                            f"left kept, exit {o.exit}")
                return o
            reasons.append(f"{label}: {why}")
        stderr = text.strip().replace("\n", " | ")[:300]
        self.fail(f"{what}: the model disagrees (exit {rc}, stderr {stderr!r}):\n    "
                  + "\n    ".join(dict.fromkeys(reasons))
                  + f"\n    before: {pre.stamps!r} kept {[m.seq for m in pre.kept]}"
                  + f"\n    after:  {obs.stamps!r} kept {[m.seq for m in obs.kept]}"
                  + f"\n    run between t0={t0} and t1={t1}")

    def compare(self, o, obs, posts, plan, answers, unrecorded, rc, warned, pre_raw, pre_inode):
        """None when the observation is the model's outcome o, else why not. unrecorded:
        how many of the model's last POSTs never reached the server."""
        if rc != o.exit:
            return f"exit {rc}, model {o.exit}"
        got = [key_of(r.body) for r in posts]
        want = [] if plan[0].kind == "refused" else o.posts[:len(o.posts) - unrecorded]
        if got != want:
            i = next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))
            return (f"{len(got)} POSTs, model {len(want)}; from POST {i}: "
                    f"{[k[:8] for k in got[i:i + 4]]}, model {[str(k)[:8] for k in want[i:i + 4]]}")
        if warned != int(o.warned):
            return f"{warned} clock warnings on stderr, model {int(o.warned)}"
        ps, s = o.state.stamps, obs.stamps
        for k in sm.Stamps.__slots__:
            w, g = getattr(ps, k), getattr(s, k)
            if isinstance(w, sm.Between):
                if not w.holds(g):
                    return f"{k} {g}, model {w} (the armed back-off)"
            elif w is sm.ANY_ERROR:
                if not g or g == sm.ARMED_ERROR:
                    return f"last_error {g!r}, model: the failed send's error"
            elif k == "notice_shown" and o.due:
                if g not in (w, 1):
                    return f"notice_shown {g}, model {w}"
            elif k == "last_error" and w.startswith(REJECTED_PREFIX):
                # The design's words are "server rejected a message: HTTP NNN (dropped)":
                # any line naming the status and the drop will do.
                code = w[len(REJECTED_PREFIX):].split()[0]
                if f"HTTP {code}" not in g or "dropped" not in g:
                    return f"last_error {g!r}, model {w!r}"
            elif g != w:
                return f"{k} {g!r}, model {w!r}"
        if [(m.seq, m.key) for m in obs.kept] != [(m.seq, m.key) for m in o.state.kept]:
            return (f"kept {[(m.seq, m.key[:8]) for m in obs.kept]}, "
                    f"model {[(m.seq, str(m.key)[:8]) for m in o.state.kept]}")
        if not o.wrote and (obs.raw != pre_raw or obs.inode != pre_inode):
            return "the stamps were written by a run that had nothing to write"
        if o.wrote and obs.over:
            return f"the stamps were written with numbers above their maximum: {obs.over}"
        if o.delivered:
            last = [k for i, k in enumerate(o.posts) if answers(i).delivered][-1]
            logged = runs.log_names(self.state)
            if not logged:
                return "a message was delivered but the audit log is empty"
            if len(logged) > sm.MAX_KEPT:
                return f"the audit log holds {len(logged)} messages, at most {sm.MAX_KEPT}"
            with open(os.path.join(self.state, "kept", logged[-1]), "rb") as fh:
                got_last = key_of(fh.read())
            if got_last != last:
                return f"the newest log entry is {got_last[:8]}, the last delivered {last[:8]}"
        return None


# ------------------------------------------------------------------ running seeds

def run_seed(seed, steps, log=None, known=()):
    """Runs one seed for `steps` steps (then a final drain). Returns (figures, notes);
    raises Failure with the seed and step."""
    work = tempfile.mkdtemp(prefix="anontel-model-")
    try:
        with Server() as server:
            d = Driver(seed, work, server, log, known)
            while d.step_no < steps:
                d.random_step()
            d.step_drain()
            d.figures["steps"] = d.step_no
            return d.figures, d.notes
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_seeds(seeds, steps, log=None, out=print, known=()):
    """Runs every seed; prints one line per seed. Returns (totals, failures)."""
    totals, failures = {}, []
    for seed in seeds:
        started = time.monotonic()
        try:
            fig, notes = run_seed(seed, steps, log, known)
        except Failure as e:
            failures.append(str(e))
            out(f"FAIL {e}")
            out(f"replay: ANONTEL_MODEL_SEED={seed} ANONTEL_MODEL_STEPS={steps} "
                f"python3 tests/model/driver.py -v")
            continue
        for k, v in fig.items():
            if k.startswith("max_"):
                totals[k] = v if totals.get(k) is None else max(totals[k], v if v is not None else totals[k])
            else:
                totals[k] = totals.get(k, 0) + v
        out(f"seed {seed}: {fig['steps']} steps ok in {time.monotonic() - started:.1f} s "
            f"({fig['runs']} runs, {fig['posts']} POSTs, {fig['killed']} killed)")
        for n in notes:
            out(f"  known deviation: {n}")
    return totals, failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, help="the first seed (default: random)")
    ap.add_argument("--seeds", type=int, default=1, help="how many seeds (seed, seed+1, ...)")
    ap.add_argument("--steps", type=int, default=500, help="steps per seed")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every step")
    ap.add_argument("--binary", help="the anontel binary to drive (default build/anontel)")
    ap.add_argument("--known", default="", help="deviations to count instead of failing: "
                    "kept33 (more than 32 kept after a kill), wait (a wait past interval + "
                    "jitter while last_built_ms is ahead of the clock), comma-separated")
    a = ap.parse_args()
    if a.binary:
        lib.BIN = os.path.abspath(a.binary)
    seed = int(os.environ.get("ANONTEL_MODEL_SEED", a.seed if a.seed is not None
                              else random.SystemRandom().randrange(1 << 32)))
    steps = int(os.environ.get("ANONTEL_MODEL_STEPS", a.steps))
    seeds = [seed + i for i in range(a.seeds)]
    print(f"state model: seeds {seeds[0]}..{seeds[-1]}, {steps} steps each, binary {lib.BIN}", flush=True)
    started = time.monotonic()
    known = [k for k in a.known.split(",") if k]
    totals, failures = run_seeds(seeds, steps, (lambda t: print(t, flush=True)) if a.verbose else None,
                                 out=lambda t: print(t, flush=True), known=known)
    secs = time.monotonic() - started
    print(f"{totals.get('steps', 0)} steps over {len(seeds) - len(failures)} seeds in {secs:.0f} s, "
          f"{len(failures)} failed")
    print("figures: " + ", ".join(f"{k} {v}" for k, v in totals.items()))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
