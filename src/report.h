/*
 * report: one report cycle, made to run often and cheaply (every HEALTHCHECK tick,
 * cron, an entrypoint):
 *
 *   not due   -> return at once (stamps read, nothing built, no network)
 *   due       -> take the lock; arm the back-off; build the message and keep it
 *                on disk; send every kept message, oldest first, removing each
 *                after a 2xx (delivered) or a 4xx other than 408/425/429
 *                (refused for good: counted as rejected, and the next is sent);
 *                record success, or the error and when to try again.
 *
 * Due: the newest message was built more than interval + jitter ago (jitter a
 * per-mille of the current interval, drawn once per state dir, up to 10%), or
 * kept messages wait and the back-off / Retry-After time has passed. Times a
 * wrong clock left in the stamps (more than an interval ahead) count from now
 * (report_clamp_stamps). `force` ignores due-ness. Without a usable
 * state dir, only a forced run sends (once, keeping nothing). Trust anchors (a
 * caFile) are loaded only when something is sent, so a run that is not due costs
 * the same whatever the size of the CA bundle.
 * Nothing here prints: results and log lines go back to the caller.
 */
#ifndef ANONTEL_REPORT_H
#define ANONTEL_REPORT_H

#include <stdint.h>
#include <time.h>

#include "config.h"
#include "state.h"

struct client_dest;
struct client_request;
struct client_result;

/* Back-off after a failed send with no Retry-After: see report_backoff_ms. It is
 * armed in the stamps before anything is sent, so a run killed mid-send (a probe
 * at the engine's timeout) still waits it out. A Retry-After (429, 503) replaces
 * it, at most the interval. */

enum report_status {
	REPORT_DELIVERED,        /* everything kept was delivered (exit 0) */
	REPORT_NOT_DUE,          /* nothing to do yet (exit 0) */
	REPORT_BUSY,             /* another run holds the lock (exit 0) */
	REPORT_HANDED_OFF,       /* due, and hand_off took the rest elsewhere (exit 0) */
	REPORT_NOT_DELIVERED,    /* a send failed; messages stay kept (exit 1) */
	REPORT_REJECTED,         /* the server refused a message for good (4xx): it was
	                          * dropped and counted; the others went (exit 1) */
	REPORT_NO_STATE,         /* no usable state dir and not forced (exit 1) */
	REPORT_STATE_ERROR,      /* state could not be read or written (exit 1) */
	REPORT_NO_ID,            /* the machine has no ID source (exit 1) */
	REPORT_BAD_CONFIG        /* the ID or TLS settings are wrong (exit 2) */
};

struct report_run {
	/* in */
	const struct cfg *cfg;
	struct client_dest *dest;     /* the endpoint, its proxy and trust (client.h) */
	char *message;                /* the caller's STATE_MSG_MAX bytes: the message being
	                               * built or sent, one at a time */
	int force;
	int64_t deadline_ms;                          /* net_now_ms() based */
	void (*log)(void *ctx, const char *line);     /* progress for -v; may be NULL */
	void *log_ctx;
	/* Called once the run is found due and the lock is taken (or, forced with no
	 * state dir, before it sends), before anything is built or sent; may be NULL.
	 * Returns 0 to go on in this process, non-zero to end it here with
	 * REPORT_HANDED_OFF (check --report forks a detached child there, which gets 0
	 * and goes on; report enters its sandbox there). It may change deadline_ms and
	 * log. */
	int (*hand_off)(void *ctx, struct report_run *r);
	void *hand_off_ctx;
	/* Unit tests only: the exchange (NULL: client_exchange) and the clock in Unix
	 * ms (0: the wall clock, report_now_ms). */
	int (*exchange)(const struct client_request *rq, struct client_result *res);
	int64_t now_ms;
	/* out */
	enum report_status status;
	int first_run;            /* 1: the first delivery from this state dir: the caller
	                           * shows the one-time notice (recorded as shown); or,
	                           * HANDED_OFF, none delivered yet: the caller says the
	                           * child is sending (shown until one is delivered) */
	unsigned delivered;       /* messages delivered by this run */
	int clock_behind;         /* 1: the clock is before the build date, certificates
	                           * were checked as of the build date (warn once) */
	char warning[512];        /* non-fatal, e.g. a configured state dir was skipped */
	char error[512];          /* one line for NOT_DELIVERED and the errors */
};

/* Runs one cycle as described above and fills r's results. */
void report_run(struct report_run *r);

/* Whether a run at now_ms would build a new message: never built, the clock went
 * back, or built more than interval + interval * jitter_permille / 1000 ago. */
int report_build_due(int64_t now_ms, int64_t last_built_ms, uint64_t interval_ms,
    int jitter_permille);

/* The delay before the next try after a failed run, from a uniform random number:
 * anywhere from 1 s to the interval (full jitter over the whole interval, the
 * back-off cap, from the first failure). Doubling from 30 s would make every
 * instance that fails during an outage retry about log2(outage / 30 s) times,
 * and an endpoint coming back would meet that many times its steady load; spread
 * over an interval, the retries keep it under twice its steady rate
 * (bench/sim_outage.py, bench/RESULTS.md). Telemetry can wait. */
int64_t report_backoff_ms(uint64_t interval_ms, uint64_t random);

/* The wall clock in Unix ms: the time base of the stamps. */
int64_t report_now_ms(void);

/* Fills p[0..n) (n at most 32) with random bytes (getrandom, not waiting); with
 * no entropy yet (early boot), with bytes drawn from the clocks' nanoseconds (their
 * SHA-256): enough to spread a fleet's jitter and back-off, and to tell one
 * message's UUID from another's. */
void report_random(void *p, size_t n);

/* What report_clamp_stamps changed (bits). */
#define REPORT_CLOCK_WAS_WRONG 1   /* a time more than one interval ahead */
#define REPORT_CLOCK_WENT_BACK 2   /* last_built ahead of now, within an interval */

/* A clock that was wrong when the stamps were written leaves times in the future:
 * each of last_success, last_built, next_try and first_report more than one
 * interval ahead of
 * now is set to now, and so is a last_built ahead of now at all (the clock went
 * back), so no run waits longer than the interval (the back-off cap) plus jitter
 * because of an earlier clock. Returns the REPORT_CLOCK_* bits it changed, 0 for
 * none; only WAS_WRONG is worth a warning. */
int report_clamp_stamps(struct state_stamps *st, int64_t now_ms, uint64_t interval_ms);

/* When the next send is due (Unix ms; at or before now = due): kept messages
 * wait for next_try; with none kept, a new one waits interval + jitter after the
 * last was built. For status. */
int64_t report_next_due_ms(const struct state_stamps *st, size_t kept, uint64_t interval_ms);

#endif
