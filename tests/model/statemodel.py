"""A model of anontel's `report` state machine (state machine v2, anontel issue 11).

Pure and deterministic: a run is a function of the state before it, the config
(interval), the run's clock (`now`, Unix ms), --force, what the server answers each
POST, and the random draws the binary makes. The binary draws two things: the jitter
(per-mille of the interval, once per state dir) and the back-off delay (full jitter in
[1 s, b]). A `Draws` object supplies them: the simulator draws at random; the driver
that compares the model with the real binary answers with what the binary wrote (and
the model checks it is within the allowed range), or with a Between range when the
value is only written, never used, in that run.

The semantics, in order (see report()):
 1. clock sanity: a time stamp more than `interval` in the future is clamped to now
    (one warning, the clamped stamps written);
 2. due: a new message when never built, the clock went back, or interval + jitter
    elapsed; kept messages when now >= next_try; nothing when now < next_try;
    --force: always, and always builds;
 3. due: jitter drawn if absent; back-off ARMED before sending (failures + 1,
    next_try = now + uniform[1 s, min(cap, 30 s * 2^failures)]); the new message kept
    (sequence = highest valid + 1, above any name planted in kept/ too); beyond 32
    kept the oldest are dropped (counted), finishing first a drop a killed run counted;
 4. kept messages sent oldest first: 2xx delivered (removed, sent + 1), a 4xx other
    than 408/425/429 rejected (removed, rejected + 1, the next one sent), anything
    else stops the run (the armed back-off stands, a 429/503 Retry-After replaces it);
 5. all delivered or rejected: failures 0, next_try 0, last_success = now when one
    was delivered, last_error "" or the rejection; exit 0, or 1 when one was rejected.
Counters saturate; numbers above a key's maximum are clamped when read. Entries of
kept/ that are not messages (State.kept holds the valid ones) are never touched.
bench/sim_outage.py runs a fleet on it; tests/model/driver.py holds the binary to it.
"""

FIRST_MS = 30_000
MAX_KEPT = 32
SEQ_MAX = 1 << 62
INT64_MAX = (1 << 63) - 1
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1
JITTER_MAX = 100                      # per-mille of the interval
RETRYABLE_4XX = (408, 425, 429)
RETRY_AFTER_STATUSES = (429, 503)
ARMED_ERROR = "the last attempt did not finish (killed or stopped)"
ANY_ERROR = object()                  # last_error after a failed send: any one line

TIME_KEYS = ("last_success_ms", "last_built_ms", "next_try_ms", "first_report_ms")
COUNTER_KEYS = ("dropped", "rejected", "sent")
# The maximum of every numeric key of the stamps file: larger numbers are clamped to it.
KEY_MAX = {
    "last_success_ms": INT64_MAX, "last_built_ms": INT64_MAX, "next_try_ms": INT64_MAX,
    "failures": U32_MAX, "jitter_permille": JITTER_MAX, "dropped": U64_MAX,
    "rejected": U64_MAX, "drop_below": U64_MAX, "sent": U64_MAX, "notice_shown": 1,
    "first_report_ms": INT64_MAX,
}


class Mismatch(Exception):
    """A draw outside its allowed range, or an observation the model cannot explain."""


def sat_add(a, b, top):
    return a + b if a + b <= top else top


def rejected_error(status):
    return f"server rejected a message: HTTP {status} (dropped)"


def backoff_bound_ms(failures, cap_ms):
    """b of the full-jitter back-off after `failures` consecutive failures (counted with
    this attempt): the cap, the interval, from the first failure (report.h
    report_backoff_ms: doubling from 30 s sent a recovering endpoint ~9x its load)."""
    del failures                      # the same window whatever the count
    return cap_ms


def jitter_ms(interval_ms, permille):
    return interval_ms * (permille or 0) // 1000


class Stamps:
    """The stamps file as the binary reads it (numbers already clamped)."""
    __slots__ = ("last_success_ms", "last_built_ms", "next_try_ms", "failures",
                 "jitter_permille", "dropped", "rejected", "drop_below", "sent",
                 "notice_shown", "first_report_ms", "last_error")

    def __init__(self, **kw):
        self.last_success_ms = self.last_built_ms = self.next_try_ms = 0
        self.failures = self.dropped = self.rejected = self.drop_below = self.sent = 0
        self.jitter_permille = None       # None: not drawn yet
        self.notice_shown = 0
        self.first_report_ms = 0          # 0: no message built from this state dir yet
        self.last_error = ""
        for k, v in kw.items():
            setattr(self, k, v)

    def copy(self):
        s = Stamps.__new__(Stamps)
        (s.last_success_ms, s.last_built_ms, s.next_try_ms, s.failures, s.jitter_permille,
         s.dropped, s.rejected, s.drop_below, s.sent, s.notice_shown, s.first_report_ms,
         s.last_error) = (
            self.last_success_ms, self.last_built_ms, self.next_try_ms, self.failures,
            self.jitter_permille, self.dropped, self.rejected, self.drop_below, self.sent,
            self.notice_shown, self.first_report_ms, self.last_error)
        return s

    def as_dict(self):
        return {k: getattr(self, k) for k in Stamps.__slots__}

    def __repr__(self):
        return "Stamps(%s)" % ", ".join(f"{k}={getattr(self, k)!r}" for k in Stamps.__slots__)

    @staticmethod
    def parse(text):
        """Stamps from the file's text, clamping numbers above their key's maximum.
        Returns (stamps, over) where over lists the keys that were above it. Raises
        ValueError on any other malformed content. A legacy jitter_ms is ignored."""
        s, over, seen = Stamps(), [], set()
        if text and not text.endswith("\n"):
            raise ValueError("stamps: no final newline")
        for line in text.split("\n")[:-1] if text else []:
            key, sep, value = line.partition(" ")
            if not sep or key in seen:
                raise ValueError(f"stamps: line {line!r}")
            seen.add(key)
            if key == "last_error":
                s.last_error = value
            elif key == "jitter_ms":
                continue
            elif key in KEY_MAX:
                if not value.isdigit() or not value.isascii():
                    raise ValueError(f"stamps: {key} {value!r} is not a number")
                n = int(value)
                if n > KEY_MAX[key]:
                    over.append(key)
                    n = KEY_MAX[key]
                setattr(s, key, n)
            else:
                raise ValueError(f"stamps: unknown key {key!r}")
        return s, over


class Msg:
    """A kept message: its sequence number and its Idempotency-Key."""
    __slots__ = ("seq", "key")

    def __init__(self, seq, key):
        self.seq, self.key = seq, key

    def __eq__(self, other):
        return isinstance(other, Msg) and (self.seq, self.key) == (other.seq, other.key)

    def __repr__(self):
        return f"Msg({self.seq}, {self.key!r})"


class State:
    """Stamps and the valid kept messages, oldest (lowest seq) first. taken: the highest
    sequence number named by an entry of kept/ that is not a message (a directory, FIFO
    or symlink planted under a message's name, or a delivered message in the audit log,
    kept/N.sent), 0 when none: a new message never takes such a name (the design says "highest valid + 1"; the binary skips planted names
    too, so it never writes over them)."""
    __slots__ = ("stamps", "kept", "taken")

    def __init__(self, stamps=None, kept=(), taken=0):
        self.stamps = stamps if stamps is not None else Stamps()
        self.kept = list(kept)
        self.taken = taken

    def copy(self):
        return State(self.stamps.copy(), self.kept, self.taken)

    def shift(self, delta_ms):
        """The clock jumping +delta: every time stamp moves by -delta (0 stays 0,
        "never"); stamps never go below 1."""
        for k in TIME_KEYS:
            v = getattr(self.stamps, k)
            if v:
                setattr(self.stamps, k, min(INT64_MAX, max(1, v - delta_ms)))


class Answer:
    """What the binary made of one POST: an HTTP status (None: network error, timeout,
    reset) and a Retry-After in seconds (None: absent or not understood)."""
    __slots__ = ("status", "retry_after")

    def __init__(self, status, retry_after=None):
        self.status, self.retry_after = status, retry_after

    @property
    def delivered(self):
        return self.status is not None and 200 <= self.status <= 299

    @property
    def rejected(self):
        return (self.status is not None and 400 <= self.status <= 499
                and self.status not in RETRYABLE_4XX)

    def __repr__(self):
        return f"Answer({self.status}, {self.retry_after})"


class Draws:
    """The binary's random draws. The simulator's subclass draws them; the driver's
    answers with what the binary wrote. The model checks the range of what it gets."""

    def jitter_permille(self):
        raise NotImplementedError

    def next_try_ms(self, lo, hi):
        """now + the back-off delay, in [lo, hi]: an int, or a Between."""
        raise NotImplementedError

    def new_message(self, seq):
        """The Idempotency-Key of the message built with sequence number seq."""
        raise NotImplementedError


class Between:
    """A value only known to lie in [lo, hi] (a draw the run wrote but did not use)."""
    __slots__ = ("lo", "hi")

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def holds(self, v):
        return isinstance(v, int) and self.lo <= v <= self.hi

    def __repr__(self):
        return f"Between({self.lo}, {self.hi})"


class Outcome:
    """What a run did at `now`: the state after it, the exit status, the keys POSTed in
    order, how many were delivered and rejected, whether it warned about the clock,
    wrote the stamps, was due, drew the jitter, armed the back-off, built a message."""
    __slots__ = ("state", "exit", "posts", "warned", "wrote", "due", "built", "delivered",
                 "rejected", "jitter_drawn", "armed", "now")

    def __repr__(self):
        return "Outcome(%s)" % ", ".join(f"{k}={getattr(self, k)!r}" for k in Outcome.__slots__)


def new_due(st, now, interval_ms):
    """Whether a new message is due at now (the next_try gate aside)."""
    lb = st.last_built_ms
    return lb == 0 or now < lb or now - lb >= interval_ms + jitter_ms(interval_ms, st.jitter_permille)


def clamp_clock(st, now, interval_ms):
    """Clock sanity: time stamps more than interval in the future become now (a clock
    that was wrong: warned), and so does a last_built_ms ahead of now at all (the clock
    went back: silent). Returns (warn, changed)."""
    limit, warn = now + interval_ms, False
    if st.last_success_ms > limit:
        st.last_success_ms, warn = now, True
    if st.last_built_ms > limit:
        st.last_built_ms, warn = now, True
    if st.next_try_ms > limit:
        st.next_try_ms, warn = now, True
    if st.first_report_ms > limit:
        st.first_report_ms, warn = now, True
    went_back = st.last_built_ms > now
    if went_back:
        st.last_built_ms = now
    return warn, warn or went_back


def is_due(state, now, interval_ms, force=False):
    """Whether a run at now would do anything (after the clock sanity clamp)."""
    st = state.stamps
    if force:
        return True
    if now < st.next_try_ms:
        return False
    return new_due(st, now, interval_ms) or bool(state.kept)


def due_at(state, interval_ms, now):
    """The earliest time >= now at which a run does something, the clock running on
    from now and the stamps staying as they are (after the clamp). Nothing is due
    before next_try; from then on, kept messages are; a new message when never built,
    while the clock is still before last_built_ms, or interval + jitter after it."""
    st = state.stamps
    start = max(now, st.next_try_ms)
    lb = st.last_built_ms
    if state.kept or lb == 0 or start < lb:
        return start
    return max(start, lb + interval_ms + jitter_ms(interval_ms, st.jitter_permille))


def report(state, interval_ms, now, answers, draws, force=False, build_with_new_jitter=True,
           lax_kept_limit=False):
    """One run of `anontel report [--force]` at now. answers(i) is the Answer to the
    i-th POST of the run. The input state is not changed. build_with_new_jitter: when
    the jitter is drawn in this run, whether the build decision uses it (True) or the
    absent value 0 the due decision used (False); the design leaves that open.
    lax_kept_limit: what the binary did when this model was written, for drivers that
    tolerate it: more than 32 kept (a kill after keeping the 33rd) are dropped only by
    a run that builds, and a run sends at most 32, succeeding with the rest still kept."""
    o = Outcome()
    o.now = now
    o.posts, o.delivered, o.rejected = [], 0, 0
    o.built = o.jitter_drawn = o.armed = False
    s = state.copy()
    st = s.stamps
    cap = interval_ms

    o.warned, o.wrote = clamp_clock(st, now, interval_ms)
    o.state, o.exit, o.due = s, 0, is_due(s, now, interval_ms, force)
    if not o.due:
        return o

    # Due: the lock is ours. Drops counted by a killed run are finished first.
    if st.drop_below:
        s.kept = [m for m in s.kept if m.seq >= st.drop_below]
        st.drop_below = 0
    build = force or new_due(st, now, interval_ms)
    if st.jitter_permille is None:
        j = draws.jitter_permille()
        if not (isinstance(j, int) and 0 <= j <= JITTER_MAX):
            raise Mismatch(f"jitter_permille {j!r} outside 0..{JITTER_MAX}")
        st.jitter_permille = j
        o.jitter_drawn = True
        if build_with_new_jitter:
            build = force or new_due(st, now, interval_ms)
    st.failures = sat_add(st.failures, 1, U32_MAX)
    b = backoff_bound_ms(st.failures, cap)
    lo, hi = now + min(1000, b), now + b
    t = draws.next_try_ms(lo, hi)
    if isinstance(t, int) and not lo <= t <= hi:
        raise Mismatch(f"back-off: next_try_ms {t} is now {now} + {t - now} ms, "
                       f"outside [{lo - now}, {b}] (failures {st.failures}, cap {cap})")
    st.next_try_ms = t
    st.last_error = ARMED_ERROR
    o.armed = True
    if build:
        seq = max(s.kept[-1].seq if s.kept else 0, s.taken) + 1
        if seq > SEQ_MAX:
            raise Mismatch("a planted name at the top of the numbers: the binary numbers "
                           "around it (state.c); the model does not follow that path")
        s.kept.append(Msg(seq, draws.new_message(seq)))
        st.last_built_ms = now
        if not st.first_report_ms:
            st.first_report_ms = now
        o.built = True
    # At most 32 kept, whenever a run is due (a kill after keeping the 33rd message
    # and before counting the drop leaves 33 for the next run to drop).
    excess = len(s.kept) - MAX_KEPT
    if excess > 0 and (build or not lax_kept_limit):
        st.dropped = sat_add(st.dropped, excess, U64_MAX)
        s.kept = s.kept[excess:]
    o.wrote = True

    failed, last_reject = None, None
    left = len(s.kept) - MAX_KEPT if lax_kept_limit and len(s.kept) > MAX_KEPT else 0
    while len(s.kept) > left:
        m = s.kept[0]
        a = answers(len(o.posts))
        o.posts.append(m.key)
        if a.delivered:
            st.sent = sat_add(st.sent, 1, U64_MAX)
            o.delivered += 1
            s.taken = max(s.taken, m.seq)     # kept/N.sent, the audit log
        elif a.rejected:
            st.rejected = sat_add(st.rejected, 1, U64_MAX)
            o.rejected += 1
            last_reject = a.status
        else:
            failed = a
            break
        s.kept = s.kept[1:]
    if failed is None:
        st.failures = 0
        st.next_try_ms = 0
        if o.delivered:
            st.last_success_ms = now
            st.notice_shown = 1
        st.last_error = rejected_error(last_reject) if o.rejected else ""
        o.exit = 1 if o.rejected else 0
    else:
        if failed.retry_after is not None and failed.status in RETRY_AFTER_STATUSES:
            st.next_try_ms = now + min(failed.retry_after * 1000, cap)
        st.last_error = ANY_ERROR
        o.exit = 1
    return o


def old_backoff_ms(failures, cap_ms):
    """The policy before issue 11, for comparison: 30 s doubling per failure up to the
    interval, no jitter (failures counted with this attempt, so the first is 30 s)."""
    if failures <= 1:
        return min(FIRST_MS, cap_ms)
    if failures >= 48:
        return cap_ms
    return min(cap_ms, FIRST_MS << (failures - 1))
