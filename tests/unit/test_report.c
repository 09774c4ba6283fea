/*
 * test_report: the pure decisions of src/report.h, table-driven: when a new message
 * is due (report_build_due), the delay before the next try after a failed run
 * (report_backoff_ms), what a wrong clock left in the stamps (report_clamp_stamps)
 * and when status says the next send is due (report_next_due_ms).
 * Each row is named so a failure says which rule broke.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "check.h"
#include "report.h"

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

static const struct check_case cases[] = {
	{ "clamp", test_clamp },
	{ "next_due", test_next_due },
	{ "build_due", test_build_due },
	{ "build_due_monotonic", test_build_due_monotonic },
	{ "backoff", test_backoff },
	{ "backoff_bounds", test_backoff_bounds },
};

CHECK_MAIN(cases)
