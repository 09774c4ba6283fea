#include "report.h"

#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "client.h"
#include "id.h"
#include "json.h"
#include "message.h"
#include "sha256.h"
#include "state.h"

static struct state state;
/* The message this run built and kept, while r->message still holds it. */
static uint64_t built_seq;
static size_t built_len;

int64_t
report_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void
logline(const struct report_run *r, const char *a, const char *b)
{
	char line[600];

	if (r->log == NULL)
		return;
	buf_join(line, sizeof line, a, b, NULL);
	r->log(r->log_ctx, line);
}

static enum report_status
fail(struct report_run *r, enum report_status st, const char *a, const char *b)
{
	buf_join(r->error, sizeof r->error, a, b, NULL);
	r->status = st;
	return st;
}

/* A state call that failed wrote why into r->error (the state functions write
 * their err only when they fail). Returns -1. */
static int
state_error(struct report_run *r)
{
	r->status = REPORT_STATE_ERROR;
	return -1;
}

/* How long after the last build a new message is due: the interval and its
 * jitter, a per-mille of it (-1, not drawn yet, counts as 0). */
static int64_t
build_wait_ms(uint64_t interval_ms, int jitter_permille)
{
	return (int64_t)interval_ms +
	    (int64_t)(interval_ms * (uint64_t)(jitter_permille > 0 ? jitter_permille : 0) / 1000);
}

int
report_build_due(int64_t now, int64_t last_built_ms, uint64_t interval_ms, int jitter_permille)
{
	if (last_built_ms == 0 || now < last_built_ms)   /* never, or the clock went back */
		return 1;
	return now - last_built_ms >= build_wait_ms(interval_ms, jitter_permille);
}

int64_t
report_backoff_ms(uint64_t interval_ms, uint64_t random)
{
	int64_t window = (int64_t)interval_ms;
	int64_t least = window < 1000 ? window : 1000;

	return least + (int64_t)(random % (uint64_t)(window - least + 1));
}

int
report_clamp_stamps(struct state_stamps *st, int64_t now, uint64_t interval_ms)
{
	int64_t horizon = now + (int64_t)interval_ms;
	int64_t *t[] = { &st->last_success_ms, &st->last_built_ms, &st->next_try_ms,
	    &st->first_report_ms };
	int changed = 0;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		if (*t[i] > horizon) {
			*t[i] = now;
			changed = REPORT_CLOCK_WAS_WRONG;
		}
	}
	/* A build "later" than now is a clock that went back: counting the next one
	 * from it would wait up to two intervals. */
	if (st->last_built_ms > now) {
		st->last_built_ms = now;
		changed |= REPORT_CLOCK_WENT_BACK;
	}
	return changed;
}

int64_t
report_next_due_ms(const struct state_stamps *st, size_t kept, uint64_t interval_ms)
{
	int64_t due = 0;

	/* Kept messages wait only for next_try; a new one is due interval + jitter
	 * after the last was built. */
	if (kept == 0 && st->last_built_ms != 0)
		due = st->last_built_ms + build_wait_ms(interval_ms, st->jitter_permille);
	return st->next_try_ms > due ? st->next_try_ms : due;
}

void
report_random(void *p, size_t n)
{
	struct timespec a, b;
	int64_t clocks[4];
	unsigned char digest[SHA256_LEN];

	if (getrandom(p, n, GRND_NONBLOCK) == (ssize_t)n)
		return;
	/* No entropy yet (early boot): the SHA-256 of both clocks' readings. */
	clock_gettime(CLOCK_REALTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	clocks[0] = a.tv_sec;
	clocks[1] = a.tv_nsec;
	clocks[2] = b.tv_sec;
	clocks[3] = b.tv_nsec;
	sha256(clocks, sizeof clocks, digest);
	memcpy(p, digest, n);
}

/* The random bytes a due run uses, drawn with one system call (report_random):
 * the jitter (drawn once per state dir), the back-off delay, the new message's
 * UUID. */
struct draws {
	uint64_t jitter, backoff;
	unsigned char uuid[MSG_UUID_RANDOM];
};
_Static_assert(sizeof (struct draws) <= SHA256_LEN, "report_random draws them");

static void
add_saturating(uint64_t *counter, uint64_t n)
{
	*counter = *counter > UINT64_MAX - n ? UINT64_MAX : *counter + n;
}

/* Whether anything is to be done now, judged from the stamps alone (and the kept
 * list only when no new message is due). */
static int
is_due(const struct report_run *r, const struct state_stamps *st, int64_t now)
{
	size_t kept = 0;
	uint64_t seq;

	if (r->force)
		return 1;
	if (now < st->next_try_ms)
		return 0;
	if (report_build_due(now, st->last_built_ms, r->cfg->interval_ms, st->jitter_permille))
		return 1;
	return state_list_kept(&state, &seq, 1, &kept, NULL, 0) >= 0 && kept > 0;
}

/* The run's clock: the wall clock, or a unit test's. */
static int64_t
run_now(const struct report_run *r)
{
	return r->now_ms != 0 ? r->now_ms : report_now_ms();
}

/* Builds the message into r->message, stamped now_ms (the run's clock), with the
 * UUID of `random`; scheme none's age counts from first_ms. Returns its length,
 * or -1 (r->status set). */
static long
build(struct report_run *r, int64_t now_ms, int64_t first_ms,
    const unsigned char random[MSG_UUID_RANDOM])
{
	static struct facts facts;
	char err[512];
	struct msg_stamp stamp;
	struct id id;
	struct buf b;
	/* The random ID in the state dir this run holds (none when sending without one). */
	int rc = id_compute_in(&id, r->cfg, state.dirfd >= 0 ? &state : NULL, err, sizeof err);

	if (rc != 0) {
		if (rc == ID_ERR_CONFIG)
			fail(r, REPORT_BAD_CONFIG, "id: ", err);
		else
			fail(r, REPORT_NO_ID, "no ID source: ", err);
		return -1;
	}
	facts_collect(&facts);
	msg_stamp(&stamp, now_ms, random);
	stamp.age = id_message_age(&id, first_ms, now_ms);
	buf_init(&b, r->message, STATE_MSG_MAX);
	if (msg_build(&b, r->cfg, &facts, id.hex, &stamp, 0) != 0) {
		fail(r, REPORT_STATE_ERROR, "the message is larger than 256 KiB", NULL);
		return -1;
	}
	return (long)b.len;
}

/* A 4xx that sending again cannot mend: the server refuses this message for
 * good. 408 (timeout), 425 (too early) and 429 (too many) ask for a retry. */
static int
refused_for_good(int status)
{
	return status >= 400 && status <= 499 && status != 408 && status != 425 && status != 429;
}

/* The request's extra headers into out: the message's Idempotency-Key (of its
 * bytes as kept, so a resend carries the same key: a server can drop the
 * duplicate that at-least-once delivery may bring after a crash), then the
 * config's. Returns how many. */
static size_t
request_headers(const struct report_run *r, const char *msg, size_t n, char key[64],
    const char *out[1 + CFG_MAX_HEADERS])
{
	unsigned char digest[SHA256_LEN];
	struct buf h;

	sha256(msg, n, digest);
	buf_init(&h, key, 64);
	buf_str(&h, "Idempotency-Key: ");
	buf_hex(&h, digest, 16);
	out[0] = key;
	for (size_t i = 0; i < r->cfg->n_headers; i++)
		out[1 + i] = r->cfg->headers[i];
	return 1 + r->cfg->n_headers;
}

/* Sends one message (r->message's first n bytes), with its send time in the
 * message when its format carries one (msg_set_sent_at: posthog's sent_at; the
 * kept file keeps the bytes it was built with). Returns 0 on a 2xx; 1 when the
 * server refused it for good; else -1. On 1 and -1 r->error says why, and
 * *retry_after is set when a 429 or 503 said when to come back. */
static int
send_one(struct report_run *r, size_t n, int64_t *retry_after)
{
	char *msg = r->message;
	char key_header[64], sent[MSG_TS_LEN + 1];
	const char *headers[1 + CFG_MAX_HEADERS];
	struct client_request rq;
	struct client_result res;
	int64_t now = run_now(r);
	size_t n_headers = request_headers(r, msg, n, key_header, headers);
	int rc, for_good;

	*retry_after = -1;
	msg_timestamp(now > 0 ? now : 0, sent);
	msg_set_sent_at(msg, n, sent);
	r->status = REPORT_NOT_DELIVERED;
	memset(&rq, 0, sizeof rq);
	rq.dest = r->dest;
	rq.body = msg;
	rq.body_len = n;
	rq.headers = headers;
	rq.n_headers = n_headers;
	rq.n_origin_headers = r->cfg->n_headers;
	rq.deadline_ms = r->deadline_ms;
	rq.log = r->log;
	rq.log_ctx = r->log_ctx;
	rc = (r->exchange != NULL ? r->exchange : client_exchange)(&rq, &res);
	r->clock_behind = r->dest->trust.clock_behind;
	if (rc != 0) {
		/* A pin or CA file that is wrong is a config error, not a network one. */
		if (r->dest->trust.loaded < 0)
			r->status = REPORT_BAD_CONFIG;
		buf_join(r->error, sizeof r->error, res.error, NULL, NULL);
		return -1;
	}
	if (res.status >= 200 && res.status <= 299)
		return 0;
	{
		struct buf e;

		for_good = refused_for_good(res.status);
		if (res.status == 429 || res.status == 503)
			*retry_after = res.retry_after;
		buf_init(&e, r->error, sizeof r->error);
		buf_str(&e, for_good ? "server refused a message: HTTP " : "server answered HTTP ");
		buf_uint(&e, (uint64_t)res.status, 3);
		if (*retry_after >= 0) {
			buf_str(&e, "; retry after ");
			buf_uint(&e, (uint64_t)res.retry_after, 1);
			buf_str(&e, " s");
		}
		if (for_good)
			buf_str(&e, " (dropped, counted as rejected)");
	}
	return for_good ? 1 : -1;
}

/* No usable state dir, forced: build and send once, keeping nothing. */
static void
send_stateless(struct report_run *r)
{
	unsigned char random[MSG_UUID_RANDOM];
	int64_t retry_after;
	long n;

	/* Due, as a forced run is: the hook comes first here too. */
	if (r->hand_off != NULL && r->hand_off(r->hand_off_ctx, r) != 0) {
		r->status = REPORT_HANDED_OFF;
		return;
	}
	report_random(random, sizeof random);
	if ((n = build(r, run_now(r), 0, random)) < 0)    /* no state: no first report */
		return;
	if (send_one(r, (size_t)n, &retry_after) != 0)
		return;
	r->delivered = 1;
	r->status = REPORT_DELIVERED;
}

/* Sends kept messages oldest first; one the server refuses for good is removed
 * and counted, and the next is sent. Returns 0 when all were delivered, 1 when
 * all were delivered or refused (r->error names the last refusal), -1 when one
 * failed and stays kept. */
static int
send_kept(struct report_run *r, struct state_stamps *st, int64_t *retry_after)
{
	uint64_t seq[STATE_MAX_KEPT];
	char err[512];
	int n = state_list_kept(&state, seq, STATE_MAX_KEPT, NULL, r->error, sizeof r->error);
	int refused = 0;

	if (n < 0)
		return state_error(r);
	for (int i = 0; i < n; i++) {
		/* The message just built is still in the buffer when it is the first sent. */
		ssize_t len = i == 0 && seq[0] == built_seq ? (ssize_t)built_len :
		    state_read_kept(&state, seq[i], r->message, STATE_MSG_MAX, err, sizeof err);
		const char *why = err;

		/* One that is not a whole JSON text is not one of ours as written (planted,
		 * or left empty or cut off by a power cut while it was being sent, before
		 * its data was written: state.h): never sent. */
		if (len >= 0 && seq[i] != built_seq &&
		    json_validate(r->message, (size_t)len, NULL) != 0) {
			len = -1;
			why = "not a whole JSON text";
		}
		if (len < 0) {
			/* Not ours to send (a planted link, a file that is not a message):
			 * remove it and count it, rather than block every later message. */
			logline(r, "dropping unreadable kept message: ", why);
			state_remove_kept(&state, seq[i], NULL, 0);
			add_saturating(&st->dropped, 1);
			continue;
		}
		switch (send_one(r, (size_t)len, retry_after)) {
		case 0:
			break;
		case 1:
			logline(r, r->error, NULL);
			if (state_remove_kept(&state, seq[i], r->error, sizeof r->error) != 0)
				return state_error(r);
			add_saturating(&st->rejected, 1);
			refused = 1;
			continue;
		default:
			return -1;
		}
		/* At least once: a kill between the 2xx and the rename sends it again,
		 * with the same Idempotency-Key. */
		if (state_deliver_kept(&state, seq[i], r->error, sizeof r->error) != 0)
			return state_error(r);
		add_saturating(&st->sent, 1);
		r->delivered++;
	}
	return refused;
}

/* Removes the kept messages already counted as dropped (drop_below). */
static int
finish_drop(struct report_run *r, struct state_stamps *st)
{
	if (st->drop_below == 0)
		return 0;
	if (state_drop_below(&state, st->drop_below, r->error, sizeof r->error) != 0)
		return state_error(r);
	/* Recorded at once: once every kept message is gone, sequence numbers start
	 * again at 1, and a stale limit would remove new messages uncounted. */
	st->drop_below = 0;
	if (state_write_stamps(&state, st, r->error, sizeof r->error) != 0)
		return state_error(r);
	return 0;
}

/* Writes the stamps with what is beyond STATE_MAX_KEPT counted as dropped (marked by
 * drop_below), then removes it, so a kill at any point loses no message uncounted.
 * After a run killed between keeping a new message and this, 33 may be kept: the
 * next run comes here too, built or not, and brings it back to 32. */
static int
record_and_cap(struct report_run *r, struct state_stamps *st)
{
	uint64_t oldest[STATE_MAX_KEPT + 1];
	size_t total = 0, excess;

	if (state_list_kept(&state, oldest, STATE_MAX_KEPT + 1, &total, r->error,
	    sizeof r->error) < 0)
		return state_error(r);
	if (total > STATE_MAX_KEPT) {
		excess = total - STATE_MAX_KEPT;
		add_saturating(&st->dropped, excess);
		st->drop_below = oldest[excess < STATE_MAX_KEPT ? excess : STATE_MAX_KEPT];
	}
	if (state_write_stamps(&state, st, r->error, sizeof r->error) != 0)
		return state_error(r);
	return finish_drop(r, st);
}

/* Builds and keeps a new message, then records it (record_and_cap). */
static int
keep_new(struct report_run *r, struct state_stamps *st, int64_t now, const struct draws *d)
{
	char err[512];
	long n;

	if (st->first_report_ms == 0)    /* recorded with the message (record_and_cap) */
		st->first_report_ms = now;
	if ((n = build(r, now, st->first_report_ms, d->uuid)) < 0)
		return -1;
	if (state_keep(&state, r->message, (size_t)n, &built_seq, err, sizeof err) != 0) {
		fail(r, REPORT_STATE_ERROR, "cannot keep the message: ", err);
		return -1;
	}
	built_len = (size_t)n;
	st->last_built_ms = now;
	return record_and_cap(r, st);
}

/* Records this attempt as failed before it is made: one more failure, the next
 * try after the back-off. A run that finishes overwrites it; one that is killed
 * (SIGKILL at the engine's timeout) leaves it, so the next runs wait instead of
 * trying again at every tick. (A power cut may take it back: the stamps are not
 * fsynced, state.h.) */
static void
arm_backoff(struct state_stamps *st, uint64_t interval_ms, int64_t now, uint64_t random)
{
	if (st->failures < UINT32_MAX)
		st->failures++;
	st->next_try_ms = now + report_backoff_ms(interval_ms, random);
	buf_join(st->last_error, sizeof st->last_error,
	    "the last attempt did not finish (killed or stopped)", NULL, NULL);
}

/* Reads the stamps, brings back times a wrong clock left in the future, and
 * decides: 1 due, 0 not due (status set), -1 error. *clamped tells whether the
 * stamps need writing back. */
static int
look(struct report_run *r, struct state_stamps *st, int64_t now, int *clamped)
{
	if (state_read_stamps(&state, st, r->error, sizeof r->error) != 0)
		return state_error(r);
	*clamped = report_clamp_stamps(st, now, r->cfg->interval_ms);
	if (!is_due(r, st, now)) {
		r->status = REPORT_NOT_DUE;
		return 0;
	}
	return 1;
}

/* Records the outcome of the sends in st. */
static void
settle(struct report_run *r, struct state_stamps *st, int sent, int64_t retry_after, int64_t now)
{
	if (sent >= 0) {     /* every kept message delivered, or refused for good */
		if (r->delivered > 0)
			st->last_success_ms = now;
		st->failures = 0;
		st->next_try_ms = 0;
		if (sent == 0)
			st->last_error[0] = '\0';
		else
			buf_join(st->last_error, sizeof st->last_error, r->error, NULL, NULL);
		r->status = sent == 0 ? REPORT_DELIVERED : REPORT_REJECTED;
		r->first_run = r->delivered > 0 && !st->notice_shown;
		st->notice_shown |= r->delivered > 0;
		return;
	}
	/* The back-off is armed already; a Retry-After replaces it, within the cap. */
	if (retry_after >= 0)
		st->next_try_ms = now + (retry_after < (int64_t)(r->cfg->interval_ms / 1000) ?
		    retry_after * 1000 : (int64_t)r->cfg->interval_ms);
	buf_join(st->last_error, sizeof st->last_error, r->error, NULL, NULL);
}

static void
cycle(struct report_run *r)
{
	struct state_stamps st;
	struct draws d;
	int64_t now = run_now(r), retry_after = -1;
	char err[512];
	int locked, sent, due, clamped;

	/* The cheap path: stamps read without the lock (writes are atomic). A forced
	 * run is due whatever they say: it reads them once, under the lock. */
	due = 1;
	if (!r->force && ((due = look(r, &st, now, &clamped)) < 0 || (due == 0 && !clamped)))
		return;
	locked = state_lock(&state, r->error, sizeof r->error);
	if (locked <= 0) {
		r->status = locked == 0 ? REPORT_BUSY : REPORT_STATE_ERROR;
		return;
	}
	/* Handed off with the lock held: the child inherits the flock (it belongs to
	 * the open file description), so no other run slips in between the fork and
	 * the child's first step, and the parent's close does not release it. */
	if (due && r->hand_off != NULL && r->hand_off(r->hand_off_ctx, r) != 0) {
		r->status = REPORT_HANDED_OFF;
		r->first_run = !st.notice_shown;
		return;
	}
	/* Another run may have finished between the first look and the lock. */
	if ((due = look(r, &st, now, &clamped)) < 0)
		return;
	if (clamped) {
		/* Written back at once, so the warning is given once. */
		if ((clamped & REPORT_CLOCK_WAS_WRONG) && r->warning[0] == '\0')
			buf_join(r->warning, sizeof r->warning, "the clock was wrong when the state "
			    "was written (times in the future): they count from now", NULL, NULL);
		if (state_write_stamps(&state, &st, r->error, sizeof r->error) != 0) {
			state_error(r);
			return;
		}
	}
	if (!due || finish_drop(r, &st) != 0)
		return;
	report_random(&d, sizeof d);
	if (st.jitter_permille < 0)
		st.jitter_permille = (int)(d.jitter % (STATE_JITTER_MAX + 1));
	arm_backoff(&st, r->cfg->interval_ms, now, d.backoff);
	if (r->force || report_build_due(now, st.last_built_ms, r->cfg->interval_ms,
	    st.jitter_permille))
		sent = keep_new(r, &st, now, &d);
	else
		sent = record_and_cap(r, &st);
	if (sent == 0)
		sent = send_kept(r, &st, &retry_after);
	/* The new message, when it stays kept (a send failed: send_kept goes oldest
	 * first, so it was not delivered), is made durable now: before the run ends,
	 * not before it is sent (state.h). The run's error stays the failure's; this
	 * one is logged, and is the warning unless the run already has one. */
	if (sent < 0 && built_seq != 0 && state_sync_kept(&state, built_seq, err, sizeof err) != 0) {
		logline(r, "the kept message may not survive a power cut: ", err);
		if (r->warning[0] == '\0')
			buf_join(r->warning, sizeof r->warning, "the kept message may not survive a "
			    "power cut: ", err, NULL);
	}
	settle(r, &st, sent, retry_after, now);
	if (state_write_stamps(&state, &st, err, sizeof err) != 0 && r->status == REPORT_DELIVERED)
		fail(r, REPORT_STATE_ERROR, err, NULL);
}

void
report_run(struct report_run *r)
{
	char why[512];

	r->first_run = 0;
	r->delivered = 0;
	built_seq = 0;
	r->warning[0] = r->error[0] = '\0';
	if (state_open(&state, r->cfg->state_dir, why, sizeof why) != 0) {
		if (!r->force) {
			fail(r, REPORT_NO_STATE, "no usable state directory: ", why);
			return;
		}
		buf_join(r->warning, sizeof r->warning, "sending without a state directory: ", why, NULL);
		send_stateless(r);
		return;
	}
	if (why[0] != '\0')
		buf_join(r->warning, sizeof r->warning, "state directory: ", why, NULL);
	cycle(r);
	state_close(&state);
}
