/*
 * test_report: the pure decisions of src/report.h, table-driven: when a new message
 * is due (report_build_due), the delay before the next try after a failed run
 * (report_backoff_ms), what a wrong clock left in the stamps (report_clamp_stamps)
 * and when status says the next send is due (report_next_due_ms).
 * Each row is named so a failure says which rule broke.
 * Then the whole cycle (report_run) driven with a fake exchange and a fake clock:
 * what is sent, when, what is kept, counted and retried, and that a retry carries
 * the same bytes and the same Idempotency-Key (a posthog message: the same bytes
 * but for its sent_at, the send time); scheme none's age across a faked first
 * report; the audit log of what was delivered. No network.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "client.h"
#include "config.h"
#include "report.h"
#include "sha256.h"
#include "state.h"

#define SEC  1000LL
#define MIN  (60 * SEC)
#define HOUR (60 * MIN)
#define DAY  (24 * HOUR)
#define T0   1795680000000LL        /* a realistic Unix ms (2026-11) */

struct due_row {
	const char *name;
	int64_t now, last_built;
	uint64_t interval;
	int jitter;          /* per-mille of the interval, -1 = not drawn */
	int want;
};

static const struct due_row due_rows[] = {
	{ "never built", T0, 0, 12 * HOUR, -1, 1 },
	{ "never built, jitter drawn", T0, 0, 12 * HOUR, 50, 1 },
	{ "never built, now 0", 0, 0, 12 * HOUR, -1, 1 },
	{ "just built", T0, T0, 12 * HOUR, 0, 0 },
	{ "1 ms later", T0 + 1, T0, 12 * HOUR, 0, 0 },
	{ "1 ms before interval", T0 + 12 * HOUR - 1, T0, 12 * HOUR, 0, 0 },
	{ "exactly interval", T0 + 12 * HOUR, T0, 12 * HOUR, 0, 1 },
	{ "past interval", T0 + 13 * HOUR, T0, 12 * HOUR, 0, 1 },
	{ "jitter not drawn (-1) counts as 0", T0 + 12 * HOUR, T0, 12 * HOUR, -1, 1 },
	{ "jitter 41.7 permille delays: interval reached", T0 + 12 * HOUR, T0, 12 * HOUR, 42, 0 },
	{ "jitter 42 permille, 1 ms short", T0 + 12 * HOUR + 42 * 43200 - 1, T0, 12 * HOUR, 42, 0 },
	{ "jitter 42 permille reached", T0 + 12 * HOUR + 42 * 43200, T0, 12 * HOUR, 42, 1 },
	{ "max jitter (100 permille)", T0 + 12 * HOUR + 72 * MIN, T0, 12 * HOUR, 100, 1 },
	{ "max jitter, 1 ms short", T0 + 12 * HOUR + 72 * MIN - 1, T0, 12 * HOUR, 100, 0 },
	{ "interval lowered 12 h -> 1 h: jitter follows", T0 + HOUR + 6 * MIN, T0, HOUR, 100, 1 },
	{ "2 s interval, 100 permille, 2.1 s", T0 + 2100, T0, 2 * SEC, 100, 0 },
	{ "2 s interval, 100 permille, 2.2 s", T0 + 2200, T0, 2 * SEC, 100, 1 },
	{ "1 ms interval", T0 + 1, T0, 1, 100, 1 },
	{ "365 d interval, 364 d later", T0 + 364 * DAY, T0, 365 * DAY, 0, 0 },
	{ "365 d interval + max jitter", T0 + 365 * DAY + 36 * DAY + 12 * HOUR, T0, 365 * DAY,
	    100, 1 },
	{ "clock went back 1 ms", T0 - 1, T0, 12 * HOUR, 0, 1 },
	{ "clock went back a year", T0 - 365 * DAY, T0, 12 * HOUR, 0, 1 },
	{ "clock at the epoch (no RTC)", 1, T0, 12 * HOUR, 0, 1 },
};

static void
test_build_due(void)
{
	for (size_t i = 0; i < sizeof due_rows / sizeof due_rows[0]; i++) {
		const struct due_row *r = &due_rows[i];
		int got = report_build_due(r->now, r->last_built, r->interval, r->jitter);

		CHECKF(got == r->want, "%s: report_build_due(%" PRId64 ", %" PRId64 ", %" PRIu64
		    ", %d) = %d, want %d", r->name, r->now, r->last_built, r->interval,
		    r->jitter, got, r->want);
	}
}

/* Due is monotonic: once due at t, due at every later t (for the same state). */
static void
test_build_due_monotonic(void)
{
	static const int jitters[] = { -1, 0, 1, 50, 100 };
	static const uint64_t intervals[] = { 1, 1000, 2000, 12 * HOUR, 365 * DAY };

	for (size_t a = 0; a < sizeof intervals / sizeof intervals[0]; a++) {
		for (size_t b = 0; b < sizeof jitters / sizeof jitters[0]; b++) {
			uint64_t iv = intervals[a];
			int j = jitters[b];
			int64_t edge = T0 + (int64_t)iv + (int64_t)(iv * (uint64_t)(j > 0 ? j : 0) / 1000);

			CHECKF(!report_build_due(edge - 1, T0, iv, j),
			    "interval %" PRIu64 " jitter %d: due 1 ms early", iv, j);
			CHECKF(report_build_due(edge, T0, iv, j),
			    "interval %" PRIu64 " jitter %d: not due at the edge", iv, j);
			CHECKF(report_build_due(edge + 7 * DAY, T0, iv, j),
			    "interval %" PRIu64 " jitter %d: not due later", iv, j);
		}
	}
}

struct backoff_row {
	const char *name;
	uint64_t interval, random;
	int64_t want;
};

/* Full jitter over the whole interval: 1 s + random % (interval - 1 s + 1). */
static const struct backoff_row backoff_rows[] = {
	{ "random 0: the least, 1 s", 12 * HOUR, 0, SEC },
	{ "random 1", 12 * HOUR, 1, SEC + 1 },
	{ "the most: the interval", 12 * HOUR, 12 * HOUR - SEC, 12 * HOUR },
	{ "wraps past the interval", 12 * HOUR, 12 * HOUR - SEC + 1, SEC },
	{ "UINT64_MAX: within the interval", 12 * HOUR, UINT64_MAX,
	    SEC + (int64_t)(UINT64_MAX % (12 * HOUR - SEC + 1)) },
	{ "interval 1 s: always 1 s", SEC, 12345, SEC },
	{ "interval under 1 s: the interval", 500, 7, 500 },
	{ "interval 1 ms", 1, UINT64_MAX, 1 },
	{ "365 d, the most", 365 * DAY, 365 * DAY - SEC, 365 * DAY },
};

static void
test_backoff(void)
{
	for (size_t i = 0; i < sizeof backoff_rows / sizeof backoff_rows[0]; i++) {
		const struct backoff_row *r = &backoff_rows[i];
		int64_t got = report_backoff_ms(r->interval, r->random);

		CHECKF(got == r->want, "%s: report_backoff_ms(%" PRIu64 ", %" PRIu64 ") = %" PRId64
		    ", want %" PRId64, r->name, r->interval, r->random, got, r->want);
	}
}

/* Never below min(1 s, interval), never above the interval, whatever the draw. */
static void
test_backoff_bounds(void)
{
	static const uint64_t intervals[] = { 1, 999, 1000, 1001, 30 * SEC, 12 * HOUR, 365 * DAY };
	uint64_t x = 88172645463325252u;

	for (size_t a = 0; a < sizeof intervals / sizeof intervals[0]; a++) {
		for (int k = 0; k < 1000; k++) {
			int64_t d, least = intervals[a] < SEC ? (int64_t)intervals[a] : SEC;

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;      /* xorshift64 */
			d = report_backoff_ms(intervals[a], x);
			CHECKF(d >= least && d <= (int64_t)intervals[a], "interval %" PRIu64
			    ": delay %" PRId64, intervals[a], d);
		}
	}
}

struct clamp_row {
	const char *name;
	int64_t success, built, next_try;     /* in the stamps */
	int64_t now;
	uint64_t interval;
	int want_changed;
	int64_t want_success, want_built, want_next_try;
};

static const struct clamp_row clamp_rows[] = {
	{ "all sane", T0 - HOUR, T0 - HOUR, T0 + MIN, T0, 12 * HOUR, 0,
	    T0 - HOUR, T0 - HOUR, T0 + MIN },
	{ "next_try exactly one interval ahead: kept", 0, 0, T0 + 12 * HOUR, T0, 12 * HOUR, 0,
	    0, 0, T0 + 12 * HOUR },
	{ "next_try 1 ms beyond: now", 0, 0, T0 + 12 * HOUR + 1, T0, 12 * HOUR,
	    REPORT_CLOCK_WAS_WRONG, 0, 0, T0 },
	{ "clock was 10 years ahead", T0 + 3650 * DAY, T0 + 3650 * DAY, T0 + 3650 * DAY + MIN,
	    T0, 12 * HOUR, REPORT_CLOCK_WAS_WRONG, T0, T0, T0 },
	{ "INT64_MAX everywhere", INT64_MAX, INT64_MAX, INT64_MAX, T0, 12 * HOUR,
	    REPORT_CLOCK_WAS_WRONG, T0, T0, T0 },
	{ "interval lowered to 1 h: a 6 h back-off counts from now", 0, T0 - MIN, T0 + 6 * HOUR,
	    T0, HOUR, REPORT_CLOCK_WAS_WRONG, 0, T0 - MIN, T0 },
	{ "built in the future within an interval: now (the clock went back)", 0, T0 + HOUR, 0,
	    T0, 12 * HOUR, REPORT_CLOCK_WENT_BACK, 0, T0, 0 },
};

static void
test_clamp(void)
{
	for (size_t i = 0; i < sizeof clamp_rows / sizeof clamp_rows[0]; i++) {
		const struct clamp_row *r = &clamp_rows[i];
		struct state_stamps st = { 0 };
		int changed;

		st.last_success_ms = r->success;
		st.last_built_ms = r->built;
		st.next_try_ms = r->next_try;
		changed = report_clamp_stamps(&st, r->now, r->interval);
		CHECKF(changed == r->want_changed, "%s: changed %d", r->name, changed);
		CHECKF(st.last_success_ms == r->want_success && st.last_built_ms == r->want_built &&
		    st.next_try_ms == r->want_next_try, "%s: got %" PRId64 " %" PRId64 " %" PRId64,
		    r->name, st.last_success_ms, st.last_built_ms, st.next_try_ms);
		/* After clamping, no run waits longer than the interval + jitter. */
		st.jitter_permille = 100;
		CHECKF(report_next_due_ms(&st, 1, r->interval) <= r->now + (int64_t)r->interval,
		    "%s: kept messages wait past one interval", r->name);
	}
}

static void
test_next_due(void)
{
	struct state_stamps st = { 0 };

	st.jitter_permille = 50;
	CHECKF(report_next_due_ms(&st, 0, 12 * HOUR) == 0, "never built: due now");
	st.last_built_ms = T0;
	CHECKF(report_next_due_ms(&st, 0, 12 * HOUR) == T0 + 12 * HOUR + 50 * 43200,
	    "interval + 5%% after the last build");
	CHECKF(report_next_due_ms(&st, 1, 12 * HOUR) == 0, "kept, no back-off: due now");
	st.next_try_ms = T0 + MIN;
	CHECKF(report_next_due_ms(&st, 1, 12 * HOUR) == T0 + MIN, "kept: at next_try");
	CHECKF(report_next_due_ms(&st, 0, 12 * HOUR) == T0 + 12 * HOUR + 50 * 43200,
	    "the later of the two");
}

/* ---- the cycle, with a fake exchange and clock ---------------------------- */

/* What the fake server saw and will answer. */
static struct {
	int answer;               /* status to answer; 0: fail as a network error */
	int64_t retry_after;      /* seconds, -1 none */
	int calls;
	char body[STATE_MSG_MAX + 1];   /* NUL-terminated */
	size_t body_len;
	char key[64];             /* the Idempotency-Key header of the last call */
	size_t n_headers, n_origin_headers;
	const char *last_header;
} server;

static int
fake_exchange(const struct client_request *rq, struct client_result *res)
{
	memset(res, 0, sizeof *res);
	res->retry_after = -1;
	server.calls++;
	memcpy(server.body, rq->body, rq->body_len);
	server.body[rq->body_len] = '\0';
	server.body_len = rq->body_len;
	server.key[0] = '\0';
	server.n_headers = rq->n_headers;
	server.n_origin_headers = rq->n_origin_headers;
	server.last_header = rq->n_headers > 0 ? rq->headers[rq->n_headers - 1] : NULL;
	for (size_t i = 0; i < rq->n_headers; i++)
		if (strncmp(rq->headers[i], "Idempotency-Key: ", 17) == 0)
			snprintf(server.key, sizeof server.key, "%s", rq->headers[i] + 17);
	if (server.answer == 0) {
		snprintf(res->error, sizeof res->error, "connection refused");
		return -1;
	}
	res->status = server.answer;
	res->retry_after = server.retry_after;
	return 0;
}

static struct cfg cfg;
static struct client_dest dest;
static char message[STATE_MSG_MAX];
static char dir[64];

static void
setup(void)
{
	struct url_env env = { { NULL } };
	char err[256];

	snprintf(dir, sizeof dir, "/tmp/test_report-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	cfg_defaults(&cfg);
	cfg.enabled = 1;
	cfg.scheme = CFG_SCHEME_FIXED;
	snprintf(cfg.fixed_id, sizeof cfg.fixed_id, "unit-test-instance-0001");
	snprintf(cfg.endpoint, sizeof cfg.endpoint, "https://telemetry.example/t");
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s", dir);
	CHECKF(client_dest_init(&dest, cfg.endpoint, 0, &env, "", err, sizeof err) == 0, "%s", err);
	memset(&server, 0, sizeof server);
	server.answer = 200;
	server.retry_after = -1;
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# %s failed\n", cmd);
}

/* One run at now_ms; returns its status. */
static enum report_status
run_at(int64_t now_ms, int force)
{
	static struct report_run r;

	memset(&r, 0, sizeof r);
	r.cfg = &cfg;
	r.dest = &dest;
	r.message = message;
	r.force = force;
	r.deadline_ms = INT64_MAX;
	r.exchange = fake_exchange;
	r.now_ms = now_ms;
	report_run(&r);
	return r.status;
}

static struct state_stamps
stamps(void)
{
	struct state s;
	struct state_stamps st;
	char err[256];

	memset(&st, 0, sizeof st);
	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECKF(state_read_stamps(&s, &st, err, sizeof err) == 0, "%s", err);
	state_close(&s);
	return st;
}

static size_t
kept(void)
{
	struct state s;
	uint64_t seq[STATE_MAX_KEPT];
	size_t total = 0;
	char err[256];

	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECKF(state_list_kept(&s, seq, STATE_MAX_KEPT, &total, err, sizeof err) >= 0, "%s", err);
	state_close(&s);
	return total;
}

/* The key a message must carry: the first 16 bytes of its SHA-256, in hex. */
static void
key_of(const char *msg, size_t n, char out[33])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char d[SHA256_LEN];

	sha256(msg, n, d);
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[32] = '\0';
}

static void
test_first_run_delivers_then_not_due(void)
{
	struct state_stamps st;
	char want[33];

	setup();
	CHECKF(run_at(T0, 0) == REPORT_DELIVERED, "first run delivers");
	CHECK(server.calls == 1);
	key_of(server.body, server.body_len, want);
	CHECK_STR(server.key, want, "Idempotency-Key is the message's digest");
	CHECK(strstr(server.body, "\"unit-test-instance-0001\"") != NULL);
	st = stamps();
	CHECK(st.last_success_ms == T0 && st.last_built_ms == T0 && st.sent == 1);
	CHECK(st.failures == 0 && st.next_try_ms == 0 && st.last_error[0] == '\0');
	CHECK(kept() == 0);
	CHECKF(run_at(T0 + HOUR, 0) == REPORT_NOT_DUE, "an hour later: not due");
	CHECK(server.calls == 1);
	/* Due once the interval and this state dir's jitter (at most 10%) have passed. */
	CHECKF(run_at(T0 + 12 * HOUR + 12 * HOUR / 10 + 1, 0) == REPORT_DELIVERED,
	    "due after interval + jitter");
	CHECK(server.calls == 2 && stamps().sent == 2);
	teardown();
}

static void
test_failure_keeps_backs_off_and_resends_the_same_bytes(void)
{
	static char first[STATE_MSG_MAX];
	size_t first_len;
	char first_key[64];
	struct state_stamps st;

	setup();
	server.answer = 0;
	CHECKF(run_at(T0, 0) == REPORT_NOT_DELIVERED, "network down: not delivered");
	memcpy(first, server.body, server.body_len);
	first_len = server.body_len;
	snprintf(first_key, sizeof first_key, "%s", server.key);
	CHECK(kept() == 1);
	st = stamps();
	CHECK(st.failures == 1 && st.sent == 0);
	CHECKF(st.next_try_ms >= T0 + 1000 && st.next_try_ms <= T0 + 12 * HOUR,
	    "back-off within [1 s, interval]: %lld", (long long)(st.next_try_ms - T0));
	CHECK(strstr(st.last_error, "connection refused") != NULL);
	CHECKF(run_at(st.next_try_ms - 1, 0) == REPORT_NOT_DUE, "not before the back-off");
	CHECK(server.calls == 1);
	server.answer = 204;
	CHECKF(run_at(st.next_try_ms, 0) == REPORT_DELIVERED, "delivered after the back-off");
	CHECK(server.calls == 2);
	CHECKF(server.body_len == first_len && memcmp(server.body, first, first_len) == 0,
	    "the kept message is sent again byte for byte");
	CHECK_STR(server.key, first_key, "with the same Idempotency-Key");
	CHECK(kept() == 0 && stamps().failures == 0 && stamps().sent == 1);
	teardown();
}

static void
test_rejected_is_counted_and_dropped(void)
{
	struct state_stamps st;

	setup();
	server.answer = 400;
	CHECKF(run_at(T0, 0) == REPORT_REJECTED, "a 400 is refused for good");
	st = stamps();
	CHECK(st.rejected == 1 && st.sent == 0 && kept() == 0);
	CHECK(strstr(st.last_error, "HTTP 400") != NULL);
	CHECK(st.next_try_ms == 0);
	teardown();
}

static void
test_retry_after_is_obeyed_within_the_interval(void)
{
	setup();
	server.answer = 429;
	server.retry_after = 60;
	CHECKF(run_at(T0, 0) == REPORT_NOT_DELIVERED, "429");
	CHECK(stamps().next_try_ms == T0 + 60 * 1000 && kept() == 1);
	server.retry_after = 10 * 24 * 3600;      /* ten days: capped at the interval */
	CHECKF(run_at(T0 + 60 * 1000, 0) == REPORT_NOT_DELIVERED, "429 again");
	CHECK(stamps().next_try_ms == T0 + 60 * 1000 + 12 * HOUR);
	teardown();
}

static void
test_clock_years_ahead_then_right(void)
{
	int64_t ahead = T0 + 10 * 365 * 24 * HOUR;

	setup();
	server.answer = 0;
	CHECKF(run_at(ahead, 0) == REPORT_NOT_DELIVERED, "a failure while the clock is ahead");
	server.answer = 200;
	/* Once the clock is right, the times ten years ahead count from now: the kept
	 * message goes at once, not in ten years. */
	CHECKF(run_at(T0, 0) == REPORT_DELIVERED, "delivered on the first run after the fix");
	CHECKF(server.calls == 2 && kept() == 0, "%d calls, %zu kept", server.calls, kept());
	CHECKF(stamps().last_success_ms == T0, "success recorded at the right time");
	teardown();
}

static void
test_force_sends_when_not_due(void)
{
	setup();
	CHECK(run_at(T0, 0) == REPORT_DELIVERED);
	CHECKF(run_at(T0 + 1000, 1) == REPORT_DELIVERED, "--force sends at once");
	CHECK(server.calls == 2 && stamps().sent == 2);
	teardown();
}

/* PostHog: the kept message keeps its uuid, timestamp and key; each send writes its
 * own time into sent_at (posthog-node's queue does the same); the config's headers
 * go with it, marked for the endpoint's origin only. */
static void
test_posthog_resend_has_a_new_sent_at(void)
{
	static char first[STATE_MSG_MAX];
	static const char *const hdr[] = { "Authorization: Bearer t" };
	size_t first_len;
	char first_key[64], want[33];
	struct state_stamps st;

	setup();
	cfg.format = CFG_FORMAT_POSTHOG;
	snprintf(cfg.posthog_api_key, sizeof cfg.posthog_api_key, "phc_k");
	cfg.headers[0] = hdr[0];
	cfg.n_headers = 1;
	server.answer = 503;
	CHECKF(run_at(T0, 0) == REPORT_NOT_DELIVERED, "503: not delivered");
	memcpy(first, server.body, server.body_len);
	first_len = server.body_len;
	snprintf(first_key, sizeof first_key, "%s", server.key);
	CHECK(server.n_headers == 2 && server.n_origin_headers == 1);
	CHECK_STR(server.last_header, hdr[0], "the config's header, last");
	CHECK(strstr(first, "\"timestamp\":\"2026-11-26T08:00:00.000Z\"") != NULL);
	CHECKF(strstr(first, "\"sent_at\":\"2026-11-26T08:00:00.000Z\"}") != NULL, "%s", first);
	CHECK(strstr(first, "\"uuid\":\"01a216de-5800-7") != NULL);    /* v7 of T0 */
	st = stamps();
	server.answer = 200;
	CHECKF(run_at(st.next_try_ms, 0) == REPORT_DELIVERED, "delivered after the back-off");
	CHECK(server.calls == 2 && server.body_len == first_len);
	/* Byte for byte but the 24 of sent_at, which is now this run's clock. */
	CHECK(memcmp(server.body, first, first_len - 26) == 0);
	{
		char ts[32];
		time_t secs = (time_t)(st.next_try_ms / 1000);
		struct tm tm;

		gmtime_r(&secs, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts + 19, sizeof ts - 19, ".%03dZ\"}", (int)(st.next_try_ms % 1000));
		CHECKF(strcmp(server.body + first_len - 26, ts) == 0, "sent_at %s, want %s",
		    server.body + first_len - 26, ts);
	}
	CHECK_STR(server.key, first_key, "the same Idempotency-Key: of the kept bytes");
	key_of(first, first_len, want);
	CHECK_STR(server.key, want, "the key is the kept message's digest");
	teardown();
}

#define WEEK (7 * DAY)

/* The "age" the last message carried ("" when none), and that it has no ID. */
static const char *
sent_age(void)
{
	static char age[16];
	const char *p = strstr(server.body, "\"age\":\"");
	size_t n = 0;

	CHECKF(strstr(server.body, "\"id\":") == NULL, "no ID field: %s", server.body);
	age[0] = '\0';
	if (p != NULL) {
		p += 7;
		while (p[n] != '"' && n < sizeof age - 1)
			n++;
		memcpy(age, p, n);
		age[n] = '\0';
	}
	return age;
}

/* Scheme none: no ID, and an age in countme's buckets counted from the state
 * dir's first report, which the first run records; across a faked first report
 * (stamps written as an older run would have left them) and a wrong clock. */
static void
test_scheme_none_age(void)
{
	static const struct {
		int64_t at;
		const char *want;
	} runs[] = {
		{ T0, "0" }, { T0 + WEEK - 1, "0" }, { T0 + WEEK, "1" }, { T0 + 4 * WEEK, "2-4" },
		{ T0 + 24 * WEEK, "5-24" }, { T0 + 25 * WEEK, "25+" }, { T0 + 200 * WEEK, "25+" },
	};
	struct state_stamps st;
	struct state s;
	char err[256];

	setup();
	cfg.scheme = CFG_SCHEME_NONE;
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		CHECKF(run_at(runs[i].at, 1) == REPORT_DELIVERED, "run %zu", i);
		CHECK_STR(sent_age(), runs[i].want, "age");
		CHECK(stamps().first_report_ms == T0);
	}
	/* A state dir whose first report was 30 weeks ago (an earlier run's stamps). */
	st = stamps();
	st.first_report_ms = T0 - 30 * WEEK;
	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECKF(state_write_stamps(&s, &st, err, sizeof err) == 0, "%s", err);
	state_close(&s);
	CHECK(run_at(T0, 1) == REPORT_DELIVERED);
	CHECK_STR(sent_age(), "25+", "faked first report");
	/* A first report years ahead was a wrong clock: counted from now. */
	st = stamps();
	st.first_report_ms = T0 + 500 * WEEK;
	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECKF(state_write_stamps(&s, &st, err, sizeof err) == 0, "%s", err);
	state_close(&s);
	CHECK(run_at(T0, 1) == REPORT_DELIVERED);
	CHECK_STR(sent_age(), "0", "first report in the future");
	CHECK(stamps().first_report_ms == T0);
	teardown();
}

/* Scheme none in PostHog's format: distinct_id is the event's own UUID, new per
 * message; the age a property; nothing else identifies the instance. */
static void
test_scheme_none_posthog(void)
{
	char first[40] = "", want[64];
	const char *p, *u;

	setup();
	cfg.scheme = CFG_SCHEME_NONE;
	cfg.format = CFG_FORMAT_POSTHOG;
	snprintf(cfg.posthog_api_key, sizeof cfg.posthog_api_key, "phc_unit");
	for (int i = 0; i < 2; i++) {
		CHECK(run_at(T0 + i * WEEK, 1) == REPORT_DELIVERED);
		p = strstr(server.body, "\"distinct_id\":\"");
		u = strstr(server.body, "\"uuid\":\"");
		CHECKF(p != NULL && u != NULL && strlen(u) > 8 + 36 && u[8 + 36] == '"',
		    "distinct_id and uuid: %s", server.body);
		if (p == NULL || u == NULL)
			break;
		snprintf(want, sizeof want, "\"distinct_id\":\"%.36s\"", u + 8);
		CHECKF(strncmp(p, want, strlen(want)) == 0, "distinct_id is the uuid: %s",
		    server.body);
		CHECK(strstr(server.body, i == 0 ? "\"system_age\":\"0\"" :
		    "\"system_age\":\"1\"") != NULL);
		CHECK(strstr(server.body, "\"$process_person_profile\":false") != NULL);
		if (i == 0)
			memcpy(first, u + 8, 36);
		else
			CHECKF(strncmp(first, u + 8, 36) != 0, "a new one: %s", u);
	}
	teardown();
}

/* Every delivered message is in the audit log, the last STATE_LOG_MAX of them,
 * byte for byte; status --last is the newest. */
static void
test_audit_log_of_deliveries(void)
{
	static char sent[STATE_MSG_MAX + 1];
	uint64_t seq[STATE_LOG_MAX + 1];
	char err[256], buf[4096];
	size_t total, len;
	struct state s;
	ssize_t n;

	setup();
	for (int i = 0; i < STATE_LOG_MAX + 3; i++)
		CHECK(run_at(T0 + i * SEC, 1) == REPORT_DELIVERED);
	memcpy(sent, server.body, server.body_len + 1);
	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECK(state_list_log(&s, seq, STATE_LOG_MAX + 1, &total, err, sizeof err) == STATE_LOG_MAX);
	CHECK(total == STATE_LOG_MAX && seq[0] == 4 && seq[STATE_LOG_MAX - 1] == STATE_LOG_MAX + 3);
	n = state_read_log(&s, seq[STATE_LOG_MAX - 1], buf, sizeof buf, err, sizeof err);
	CHECK(n == (ssize_t)server.body_len && memcmp(buf, sent, (size_t)n) == 0);
	CHECK(state_read_last(&s, buf, sizeof buf, &len, err, sizeof err) == 1);
	CHECK(len == server.body_len && memcmp(buf, sent, len) == 0);
	state_close(&s);
	/* A failed send is not logged. */
	server.answer = 503;
	CHECK(run_at(T0 + HOUR, 1) == REPORT_NOT_DELIVERED);
	CHECKF(state_open(&s, dir, err, sizeof err) == 0, "%s", err);
	CHECK(state_list_log(&s, seq, 1, &total, err, sizeof err) == 1 && total == STATE_LOG_MAX);
	CHECK(state_read_last(&s, buf, sizeof buf, &len, err, sizeof err) == 1);
	CHECK(len == strlen(sent) && memcmp(buf, sent, len) == 0);
	state_close(&s);
	teardown();
}

static const struct check_case cases[] = {
	{ "scheme_none_age", test_scheme_none_age },
	{ "scheme_none_posthog", test_scheme_none_posthog },
	{ "audit_log_of_deliveries", test_audit_log_of_deliveries },
	{ "first_run_delivers_then_not_due", test_first_run_delivers_then_not_due },
	{ "failure_keeps_backs_off_and_resends_the_same_bytes",
	  test_failure_keeps_backs_off_and_resends_the_same_bytes },
	{ "rejected_is_counted_and_dropped", test_rejected_is_counted_and_dropped },
	{ "posthog_resend_has_a_new_sent_at", test_posthog_resend_has_a_new_sent_at },
	{ "retry_after_is_obeyed_within_the_interval",
	  test_retry_after_is_obeyed_within_the_interval },
	{ "clock_years_ahead_then_right", test_clock_years_ahead_then_right },
	{ "force_sends_when_not_due", test_force_sends_when_not_due },
	{ "clamp", test_clamp },
	{ "next_due", test_next_due },
	{ "build_due", test_build_due },
	{ "build_due_monotonic", test_build_due_monotonic },
	{ "backoff", test_backoff },
	{ "backoff_bounds", test_backoff_bounds },
};

CHECK_MAIN(cases)
