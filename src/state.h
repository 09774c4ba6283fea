/*
 * state: what anontel keeps between runs, in one directory (0700, files 0600):
 *
 *   stamps       last success, next-try time, jitter, counters, last error
 *                (a small "key value" text file, one per line)
 *   kept/NNNNNNNNNNNNNNNNNNNN.json   messages built but not yet delivered (oldest =
 *                lowest number); removed only after a 2xx
 *   kept/NNNNNNNNNNNNNNNNNNNN.sent   the audit log: the last STATE_LOG_MAX delivered
 *                messages, verbatim (status --log; the newest is status --last):
 *                each the kept file itself, renamed after its 2xx. They share
 *                kept/ and its numbers with the waiting messages, so the one
 *                listing of kept/ a run makes anyway also finds the oldest entry
 *                to drop, and a new message is numbered past every entry
 *   last.json    an earlier version's last delivered message (status --last reads
 *                it while the log is empty; the first logged delivery removes it)
 *   random-id    the random scheme's ID (32 bytes hex), made once, never replaced
 *                (but removed by state_forget)
 *   lock         flock()ed by the one sender
 *
 * Every write is atomic against a kill: a temp file renamed to the name, or swapped
 * with the file there (RENAME_EXCHANGE, then the old one removed: a rename over a
 * file costs ext4 0.5-1 ms), so a SIGKILL at any point leaves the old or the new
 * file, never a torn one. Temp files are made in kept/ (same file system) whatever
 * their file's directory:
 * the lock holder lists kept/ every run, and that one listing removes the temp
 * files of killed runs. Against a power cut, only what a run leaves waiting is made
 * durable: a new kept message that was not delivered (state_sync_kept: its file and
 * kept/ fsynced before the run ends, unless the run is killed first) and random-id,
 * made once. The message being sent is not fsynced first: a power cut soon after may
 * take it back, and only it, as missing or (a new file whose data was not yet
 * written) empty or cut off, both in kept/ and as the log's newest entry; readers
 * check that an entry is whole JSON before using it. The stamps, the log's renames
 * and removals are not fsynced: a power cut may take them back to an earlier run's
 * (a delivered message then comes back and is sent again, with the same
 * Idempotency-Key), or leave the stamps empty, read as none. So a delivered report
 * costs no fsync, an undelivered one 2, and the audit log one rename per delivery
 * (plus one unlink of the oldest entry once STATE_LOG_MAX are logged). Files are
 * opened with O_NOFOLLOW and created 0600; a symlink planted in the directory is
 * refused, not followed. Nothing here prints.
 */
#ifndef ANONTEL_STATE_H
#define ANONTEL_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_MAX_KEPT    32
#define STATE_LOG_MAX     32                   /* delivered messages in the audit log */
#define STATE_ERROR_MAX   256
#define STATE_MSG_MAX     (256 * 1024)
#define STATE_JITTER_MAX  100                  /* per-mille: up to 10% of the interval */
#define STATE_RANDOM_HEX  64                   /* hex digits of random-id */
#define STATE_SEQ_MAX     (UINT64_C(1) << 62)  /* highest kept sequence number of ours */

struct state_stamps {
	int64_t last_success_ms;    /* Unix ms of the last 2xx, 0 = never */
	int64_t last_built_ms;      /* Unix ms the newest message was built, 0 = never */
	int64_t next_try_ms;        /* Unix ms before which no send is tried (Retry-After or
	                             * back-off after a failure), 0 = none */
	uint32_t failures;          /* consecutive failed runs, for the back-off */
	int jitter_permille;        /* 0..STATE_JITTER_MAX of the interval, drawn once;
	                             * -1 = not drawn yet */
	uint64_t dropped;           /* kept messages dropped because more than STATE_MAX_KEPT */
	uint64_t rejected;          /* kept messages the server refused for good (4xx) */
	uint64_t drop_below;        /* counted in dropped, not yet removed: kept messages
	                             * below this sequence number; 0 = none pending */
	uint64_t sent;              /* messages delivered */
	int notice_shown;           /* the first-run notice was printed */
	int64_t first_report_ms;    /* Unix ms the first message was built here, 0 = never
	                             * (scheme none's age counts from it) */
	char last_error[STATE_ERROR_MAX];  /* one line, "" if the last run succeeded */
};

/* The numbers of one kind of entry of kept/, as listed (state.c's). */
struct state_seqs {
	uint64_t seq[STATE_MAX_KEPT + 1];   /* the oldest, ascending */
	size_t filled, total;               /* filled < total: only the oldest are known */
	uint64_t newest;                    /* 0 = none */
};

/* The listing of kept/ a lock holder reuses (state.c's; callers do not touch it).
 * Under the lock kept/ changes only through this state, so one listing serves the
 * run and is updated as messages are kept and removed. */
struct state_kept_list {
	int valid;                          /* listed under the lock, up to date */
	uint64_t highest;                   /* of every message-like name, planted ones too */
	struct state_seqs msgs;             /* the kept messages (kept/N.json) */
	struct state_seqs log;              /* the audit log's entries (kept/N.sent) */
};

struct state {
	char dir[4096];
	int dirfd;                  /* O_DIRECTORY of dir, -1 when closed */
	int lockfd;                 /* -1 until state_lock succeeds */
	int keptfd;                 /* O_DIRECTORY of kept/, -1 until first needed */
	int stamps_known;           /* what the lock holder knows is at stamps: 0 nothing,
	                             * 1 no file, 2 a regular file (read or written) */
	size_t kept_ignored;        /* entries of kept/ that are not messages (other
	                             * names, non-regular files), as of the last listing */
	struct state_kept_list kept;
};

/*
 * Picks the state directory: the first of `preferred` (when not NULL/"": the
 * caller's choice of ANONTEL_STATE_DIR or stateDir; trailing slashes ignored),
 * /var/lib/anontel and /tmp/anontel-<euid> that is usable. Each candidate must be
 * absolute and is walked from "/" one component at a time, each opened O_DIRECTORY
 * | O_NOFOLLOW: a symlink in any component is refused ("PATH: /x/link is a symbolic
 * link (refused)", or "PATH: is a symbolic link (refused)" for the last one), as is
 * a "." or ".." component. Missing components are made (mkdir 0755, the last 0700,
 * less the umask; each parent fsynced), so a FROM scratch root gets
 * /var/lib/anontel when it is writable. The directory reached is then used:
 * - when it is sticky and group- or world-writable (/tmp, a `--tmpfs` mount, 1777):
 *   through its subdirectory anontel-<euid> (made 0700 when missing; O_NOFOLLOW, so
 *   one planted as a symlink is refused), which must then pass the checks below;
 * - otherwise itself, when it is owned by the effective uid, not group- or
 *   world-writable, and writable (a read-only mount is skipped).
 * An unusable candidate is skipped, never repaired (no chmod/chown). Returns 0 with
 * s->dir (the directory used: the candidate, or its anontel-<euid>) and s->dirfd
 * set; err then holds why earlier candidates were skipped ("PATH: reason; PATH:
 * reason"), "" when the first one served, so a caller can warn that a configured
 * directory was not used. Returns -1 with every candidate's reason in err when none
 * is usable. s is initialised either way.
 */
int state_open(struct state *s, const char *preferred, char *err, size_t errlen);

/*
 * Finds the directory state_open would pick (the same walk, checks and private
 * anontel-<euid> subdirectory), creating nothing, for status and other read-only
 * verbs. Returns 0 with s->dir and s->dirfd set (the read functions below work);
 * 1 when there is none yet: s->dir is the directory state_open would use, whose
 * missing part it would make (the directory able to hold it is writable; "DIR:
 * does not exist yet" in err); -1 when none is usable: s->dir is "" (reasons in
 * err). s is initialised either way.
 */
int state_find(struct state *s, const char *preferred, char *err, size_t errlen);

/* Takes the sender lock (flock of `lock`, created 0600) without waiting. Returns
 * 1 taken (or already held through s), 0 held by another run, -1 error (err).
 * The flock belongs to the open file description: a child forked while it is
 * held holds it too, until both have closed it. The lock holder's first listing
 * of kept/ removes every `.tmp-*` file there: temp files of killed runs. So
 * writers hold the lock, except state_random_id's, which survives that clean-up.
 * A lock holder's temp file is ".tmp-<name>" (no other writer can own it);
 * others' are ".tmp-<name>-<pid>". */
int state_lock(struct state *s, char *err, size_t errlen);

/* As state_lock for a run that must write nothing (an opted-out run removing what
 * was kept): `lock` is opened read-only and never created. Returns 1 taken, or
 * there is no lock file (no sender ever ran here, s->lockfd stays -1); 0 held by
 * another run; -1 error (err). Held, the lock lets the next listing of kept/
 * (state_forget's) remove temp files of killed runs (only unlinks). */
int state_lock_existing(struct state *s, char *err, size_t errlen);

/*
 * Reads the stamps file; a missing file gives defaults (zeros, jitter -1, "").
 * Format: lines "key value\n", keys last_success_ms, last_built_ms, next_try_ms,
 * jitter_permille, failures, dropped, rejected, drop_below, sent, notice_shown,
 * first_report_ms, last_error, each at most once, in any order (an earlier
 * version's jitter_ms is read and ignored); a missing key keeps its default
 * (jitter_permille is absent while not drawn, first_report_ms while 0, last_error
 * while empty). Numbers are plain decimal (no sign, no leading zero); one above its
 * key's maximum (INT64_MAX for the _ms keys, STATE_JITTER_MAX, UINT32_MAX for
 * failures, 1 for notice_shown) is clamped to it, never wrapped. last_error is the
 * rest of the line, 1-255 bytes, no control characters; the last line must end in "\n". Anything else is an error
 * "DIR/stamps: line N: what" (-1; *st holds defaults) — never silently reset. A
 * file larger than 4 KiB is refused. Whether the times are sane for the clock is
 * the caller's judgement (report_clamp_stamps).
 */
int state_read_stamps(struct state *s, struct state_stamps *st, char *err, size_t errlen);

/* Writes the stamps file atomically: the new file is swapped in (see the top of
 * this file), and a `stamps` that is not a regular file is refused with the old one
 * left as it was. Control characters in last_error are written as spaces (it is
 * our own text); negative times, and a jitter outside -1..STATE_JITTER_MAX, are
 * refused. Returns 0 or -1 with err. */
int state_write_stamps(struct state *s, const struct state_stamps *st, char *err, size_t errlen);

/* Lists kept messages, oldest (lowest number) first: fills seq[] with the up to
 * `max` oldest sequence numbers and returns how many it filled; *total (when not
 * NULL) gets the number of kept files, which may exceed max. -1 with err on error.
 * Kept messages are regular files named exactly 20 decimal digits + ".json" with a
 * number in 1..STATE_SEQ_MAX; anything else in kept/ (other names, directories,
 * FIFOs or symlinks under a message's name, larger numbers) is not ours: never
 * listed, sent, removed or counted as dropped; s->kept_ignored gets how many
 * (temp files of writes aside). A missing kept/ directory is an empty list. The
 * next message is numbered past every message-like name, planted ones too, so
 * it never replaces one. */
int state_list_kept(struct state *s, uint64_t *seq, size_t max, size_t *total, char *err,
    size_t errlen);

/* Keeps a new message (atomically, in kept/, made 0700 when missing; not fsynced:
 * see state_sync_kept) under the next sequence number (highest existing + 1, or 1
 * when none), written to *seq_out (may be NULL). Returns 0 when the message is kept, -1 with err when it is not
 * (n > STATE_MSG_MAX, disk full, ...; *seq_out = 0). Keeping never drops: the
 * caller counts what is beyond STATE_MAX_KEPT in the stamps first (drop_below),
 * then calls state_drop_below, so a kill in between loses no count. */
int state_keep(struct state *s, const char *msg, size_t n, uint64_t *seq_out, char *err,
    size_t errlen);

/* Makes kept message seq (state_keep's) durable: fsyncs its file, then kept/; one
 * that has left kept/ (delivered, removed) needs nothing. For a message still kept
 * once the run's sends are over. Returns 0, or -1 with err (the message is kept but
 * a power cut may lose it). */
int state_sync_kept(struct state *s, uint64_t seq, char *err, size_t errlen);

/* Removes every kept message whose sequence number is below limit (already counted
 * as dropped by the caller; not fsynced, see the top). Repeating it is harmless.
 * A limit above every kept message is stale (the message it named is gone:
 * state_forget ran, and numbers started again at 1): nothing is removed.
 * Returns 0 or -1 with err. */
int state_drop_below(struct state *s, uint64_t limit, char *err, size_t errlen);

/* Reads kept message seq into buf (cap bytes, not NUL-terminated); returns its
 * length, or -1 with err: missing, larger than cap, or not a regular file (a
 * planted symlink is refused, not followed). */
ssize_t state_read_kept(struct state *s, uint64_t seq, char *buf, size_t cap, char *err,
    size_t errlen);

/* Removes kept message seq (refused for good, or unreadable; a symlink is removed,
 * not followed; not fsynced, see the top). One already gone is not an error.
 * Returns 0 or -1 with err. */
int state_remove_kept(struct state *s, uint64_t seq, char *err, size_t errlen);

/* Kept message seq was delivered: renames kept/seq.json to kept/seq.sent, the
 * newest entry of the audit log (one system call; not fsynced, see the top), then
 * removes the oldest entries beyond STATE_LOG_MAX (best effort: one that cannot be
 * removed now goes at a later delivery) and, when the log was empty, an earlier
 * version's last.json. Returns 0, or -1 with err when the rename failed. */
int state_deliver_kept(struct state *s, uint64_t seq, char *err, size_t errlen);

/* Lists the audit log, oldest first, as state_list_kept does the waiting messages:
 * fills seq[] with up to max of the oldest entries' numbers (regular files named
 * 20 digits + ".sent", 1..STATE_SEQ_MAX) and returns how many; *total (may be NULL)
 * gets how many there are. A missing kept/ is an empty log. -1 with err on error. */
int state_list_log(struct state *s, uint64_t *seq, size_t max, size_t *total, char *err,
    size_t errlen);

/* Reads log entry seq into buf, as state_read_kept reads a kept message. */
ssize_t state_read_log(struct state *s, uint64_t seq, char *buf, size_t cap, char *err,
    size_t errlen);

/* Reads the last delivered message: the newest entry of the audit log, else an
 * earlier version's last.json. Returns 1 (*len set), 0 none, -1 error (err). */
int state_read_last(struct state *s, char *buf, size_t cap, size_t *len, char *err,
    size_t errlen);

/* What state_forget removed. */
struct state_forgotten {
	size_t kept;      /* messages not yet delivered */
	size_t logged;    /* audit log entries (an earlier version's last.json counts) */
	int random_id;    /* 1: random-id was removed */
};

/*
 * Removes what anontel kept about this instance: every kept message, the audit log
 * (and last.json), and random-id (the random scheme makes a new one at the next
 * report). Only regular files under anontel's own names are removed; anything
 * else in kept/ is left alone, as are kept/ itself, the stamps (times and
 * counters, no ID) and the lock. The system calls are listings, unlinkat and
 * nothing else: no file is created, written or renamed, so an opted-out run may
 * call it. The caller should hold the lock (state_lock, state_lock_existing) so
 * that no sender is at work meanwhile; then kept/'s temp files of killed runs go
 * too (not counted). Tries every removal; *out says what went. Returns 0, or -1
 * with err naming the first that failed.
 */
int state_forget(struct state *s, struct state_forgotten *out, char *err, size_t errlen);

/* The random scheme's ID, kept in random-id: reads it into hex (64 lowercase hex
 * digits and a NUL). When there is none and create is set, makes one from the
 * kernel's random bytes and publishes it whole with link(), so it never needs the
 * lock: of two runs making it at once, one wins and both return its ID. Returns 1
 * read or made, 0 none yet (create not set), -1 error (err: unreadable, not 64
 * lowercase hex digits, a write failed). */
int state_random_id(struct state *s, int create, char hex[STATE_RANDOM_HEX + 1], char *err,
    size_t errlen);

/* Releases the lock and closes descriptors; safe to call twice, and after a
 * failed state_open/state_find. */
void state_close(struct state *s);

#endif
