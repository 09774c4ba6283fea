/*
 * state: what anontel keeps between runs, in one directory (0700, files 0600):
 *
 *   stamps       last success, next-try time, jitter, counters, last error
 *                (a small "key value" text file, one per line)
 *   kept/NNNNNNNNNNNNNNNNNNNN.json   messages built but not yet delivered (oldest =
 *                lowest number); removed only after a 2xx
 *   last.json    the last delivered message, for audit (status --last)
 *   random-id    the random scheme's ID (32 bytes hex)
 *   lock         flock()ed by the one sender
 *
 * Every write is atomic: a temp file in the same directory, fsync, rename, fsync
 * of the directory, so a kill or power cut leaves the old or the new file, never a
 * torn one. Files are opened with O_NOFOLLOW and created 0600; a symlink planted
 * in the directory is refused, not followed. Nothing here prints.
 */
#ifndef ANONTEL_STATE_H
#define ANONTEL_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define STATE_MAX_KEPT    32
#define STATE_ERROR_MAX   256
#define STATE_MSG_MAX     (256 * 1024)

struct state_stamps {
	int64_t last_success_ms;    /* Unix ms of the last 2xx, 0 = never */
	int64_t next_try_ms;        /* Unix ms before which no send is tried (Retry-After), 0 = none */
	int64_t jitter_ms;          /* drawn once, kept; -1 = not drawn yet */
	uint64_t dropped;           /* kept messages dropped because more than STATE_MAX_KEPT */
	uint64_t sent;              /* messages delivered */
	int notice_shown;           /* the first-run notice was printed */
	char last_error[STATE_ERROR_MAX];  /* one line, "" if the last run succeeded */
};

struct state {
	char dir[4096];
	int dirfd;                  /* O_DIRECTORY of dir, -1 when closed */
	int lockfd;                 /* -1 until state_lock succeeds */
};

/*
 * Picks the state directory: `preferred` when not NULL/"" (ANONTEL_STATE_DIR or the
 * config's stateDir: only that one is tried), else /var/lib/anontel, else
 * /tmp/anontel-<uid>; the first that exists or can be created (mode 0700, parents
 * are not created) and is writable. Returns 0, or -1 with a reason in err.
 */
int state_open(struct state *s, const char *preferred, char *err, size_t errlen);

/* Finds the directory state_open would pick, without creating anything; fills s->dir.
 * Returns 0 if it exists, -1 if none exists (for status and other read-only verbs). */
int state_find(struct state *s, const char *preferred);

/* Takes the sender lock without waiting. Returns 1 taken, 0 held by another
 * process, -1 error (err). */
int state_lock(struct state *s, char *err, size_t errlen);

/* Reads the stamps file; a missing file gives defaults (jitter -1). A malformed
 * file is an error (-1, err) — never silently reset. */
int state_read_stamps(struct state *s, struct state_stamps *st, char *err, size_t errlen);

/* Writes the stamps file atomically. Returns 0 or -1 with err. */
int state_write_stamps(struct state *s, const struct state_stamps *st, char *err, size_t errlen);

/* Lists kept messages, oldest first: fills seq[] with up to STATE_MAX_KEPT+1
 * sequence numbers and returns the count, or -1 with err. Stray files are ignored. */
int state_list_kept(struct state *s, uint64_t *seq, size_t max, char *err, size_t errlen);

/* Keeps a new message (atomically) under the next sequence number, written to
 * *seq_out; if that makes more than STATE_MAX_KEPT, removes the oldest and adds
 * their count to *dropped. Returns 0 or -1 with err. */
int state_keep(struct state *s, const char *msg, size_t n, uint64_t *seq_out, uint64_t *dropped,
    char *err, size_t errlen);

/* Reads kept message seq into buf (cap bytes); returns its length or -1 with err. */
ssize_t state_read_kept(struct state *s, uint64_t seq, char *buf, size_t cap, char *err,
    size_t errlen);

/* Removes kept message seq (after a 2xx), and fsyncs the directory. */
int state_remove_kept(struct state *s, uint64_t seq, char *err, size_t errlen);

/* Writes/reads last.json (the last delivered message) atomically. */
int state_write_last(struct state *s, const char *msg, size_t n, char *err, size_t errlen);
ssize_t state_read_last(struct state *s, char *buf, size_t cap, char *err, size_t errlen);

/* Generic atomic write of a small file `name` in the state dir (used for random-id). */
int state_write_file(struct state *s, const char *name, const void *p, size_t n, char *err,
    size_t errlen);

/* Reads a small file `name` (O_NOFOLLOW); returns the length, 0 if missing... -1 on error. */
ssize_t state_read_file(struct state *s, const char *name, char *buf, size_t cap, char *err,
    size_t errlen);

/* Releases the lock and closes descriptors. */
void state_close(struct state *s);

#endif
