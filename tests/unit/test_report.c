/*
 * test_report: the pure decisions of src/report.h, table-driven: when a new message
 * is due (report_build_due) and the back-off after failed runs (report_backoff_ms).
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
	int64_t jitter;
	int want;
};

static const struct due_row due_rows[] = {
	{ "never built", T0, 0, 12 * HOUR, -1, 1 },
	{ "never built, jitter drawn", T0, 0, 12 * HOUR, 5000, 1 },
	{ "never built, now 0", 0, 0, 12 * HOUR, -1, 1 },
	{ "just built", T0, T0, 12 * HOUR, 0, 0 },
	{ "1 ms later", T0 + 1, T0, 12 * HOUR, 0, 0 },
	{ "1 ms before interval", T0 + 12 * HOUR - 1, T0, 12 * HOUR, 0, 0 },
	{ "exactly interval", T0 + 12 * HOUR, T0, 12 * HOUR, 0, 1 },
	{ "past interval", T0 + 13 * HOUR, T0, 12 * HOUR, 0, 1 },
	{ "jitter not drawn (-1) counts as 0", T0 + 12 * HOUR, T0, 12 * HOUR, -1, 1 },
	{ "jitter delays: interval reached", T0 + 12 * HOUR, T0, 12 * HOUR, 30 * MIN, 0 },
	{ "jitter delays: 1 ms short", T0 + 12 * HOUR + 30 * MIN - 1, T0, 12 * HOUR, 30 * MIN, 0 },
	{ "jitter delays: interval + jitter", T0 + 12 * HOUR + 30 * MIN, T0, 12 * HOUR, 30 * MIN, 1 },
	{ "max jitter (10%)", T0 + 12 * HOUR + 72 * MIN, T0, 12 * HOUR, 72 * MIN, 1 },
	{ "max jitter, 1 ms short", T0 + 12 * HOUR + 72 * MIN - 1, T0, 12 * HOUR, 72 * MIN, 0 },
	{ "2 s interval, 200 ms jitter, 2.1 s", T0 + 2100, T0, 2 * SEC, 200, 0 },
	{ "2 s interval, 200 ms jitter, 2.2 s", T0 + 2200, T0, 2 * SEC, 200, 1 },
	{ "1 ms interval", T0 + 1, T0, 1, 0, 1 },
	{ "365 d interval, 364 d later", T0 + 364 * DAY, T0, 365 * DAY, 0, 0 },
	{ "365 d interval + max jitter", T0 + 365 * DAY + 36 * DAY + 12 * HOUR, T0, 365 * DAY,
	    36 * DAY + 12 * HOUR, 1 },
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
		    ", %" PRId64 ") = %d, want %d", r->name, r->now, r->last_built, r->interval,
		    r->jitter, got, r->want);
	}
}

/* Due is monotonic: once due at t, due at every later t (for the same state). */
static void
test_build_due_monotonic(void)
{
	static const int64_t jitters[] = { -1, 0, 1, 999, 4320000 };
	static const uint64_t intervals[] = { 1, 1000, 2000, 12 * HOUR, 365 * DAY };

	for (size_t a = 0; a < sizeof intervals / sizeof intervals[0]; a++) {
		for (size_t b = 0; b < sizeof jitters / sizeof jitters[0]; b++) {
			uint64_t iv = intervals[a];
			int64_t j = jitters[b], edge = T0 + (int64_t)iv + (j > 0 ? j : 0);

			CHECKF(!report_build_due(edge - 1, T0, iv, j),
			    "interval %" PRIu64 " jitter %" PRId64 ": due 1 ms early", iv, j);
			CHECKF(report_build_due(edge, T0, iv, j),
			    "interval %" PRIu64 " jitter %" PRId64 ": not due at the edge", iv, j);
			CHECKF(report_build_due(edge + 7 * DAY, T0, iv, j),
			    "interval %" PRIu64 " jitter %" PRId64 ": not due later", iv, j);
		}
	}
}

struct backoff_row {
	const char *name;
	uint32_t failures;
	uint64_t interval;
	int64_t want;
};

static const struct backoff_row backoff_rows[] = {
	{ "first failure: 30 s", 1, 12 * HOUR, 30 * SEC },
	{ "second: 60 s", 2, 12 * HOUR, 60 * SEC },
	{ "third: 120 s", 3, 12 * HOUR, 120 * SEC },
	{ "fourth: 240 s", 4, 12 * HOUR, 240 * SEC },
	{ "tenth: 30 s * 2^9", 10, 12 * HOUR, 30 * SEC * 512 },
	{ "eleventh: 30 s * 2^10", 11, 12 * HOUR, 30 * SEC * 1024 },
	{ "twelfth: capped at the interval", 12, 12 * HOUR, 12 * HOUR },
	{ "many: capped", 1000, 12 * HOUR, 12 * HOUR },
	{ "UINT32_MAX: capped, no overflow", UINT32_MAX, 12 * HOUR, 12 * HOUR },
	{ "interval shorter than 30 s", 1, 2 * SEC, 2 * SEC },
	{ "interval shorter, many failures", 50, 2 * SEC, 2 * SEC },
	{ "interval exactly 30 s", 1, 30 * SEC, 30 * SEC },
	{ "interval 30 s, second", 2, 30 * SEC, 30 * SEC },
	{ "interval 1 m, second", 2, MIN, MIN },
	{ "interval 1 m, fifth", 5, MIN, MIN },
	{ "interval 1 ms", 3, 1, 1 },
	{ "365 d, first", 1, 365 * DAY, 30 * SEC },
	{ "365 d, 21st: 30 s * 2^20", 21, 365 * DAY, 30 * SEC * (1LL << 20) },
	{ "365 d, UINT32_MAX: capped, no overflow", UINT32_MAX, 365 * DAY, 365 * DAY },
};

static void
test_backoff(void)
{
	for (size_t i = 0; i < sizeof backoff_rows / sizeof backoff_rows[0]; i++) {
		const struct backoff_row *r = &backoff_rows[i];
		int64_t got = report_backoff_ms(r->failures, r->interval);

		CHECKF(got == r->want, "%s: report_backoff_ms(%" PRIu32 ", %" PRIu64 ") = %" PRId64
		    ", want %" PRId64, r->name, r->failures, r->interval, got, r->want);
	}
	CHECKF(REPORT_BACKOFF_FIRST_MS == 30000, "the first back-off is 30 s");
}

/* Never shrinks as failures grow, never exceeds the interval, never below 1 ms. */
static void
test_backoff_monotonic(void)
{
	static const uint64_t intervals[] = { 1, 999, 30 * SEC, 31 * SEC, 12 * HOUR, 365 * DAY };

	for (size_t a = 0; a < sizeof intervals / sizeof intervals[0]; a++) {
		int64_t prev = 0;

		for (uint32_t f = 1; f <= 80; f++) {
			int64_t b = report_backoff_ms(f, intervals[a]);

			CHECKF(b >= prev, "interval %" PRIu64 ": failure %" PRIu32 " shrinks %" PRId64
			    " -> %" PRId64, intervals[a], f, prev, b);
			CHECKF(b >= 1 && b <= (int64_t)intervals[a], "interval %" PRIu64 ": failure %"
			    PRIu32 " gives %" PRId64, intervals[a], f, b);
			prev = b;
		}
	}
}

static const struct check_case cases[] = {
	{ "build_due", test_build_due },
	{ "build_due_monotonic", test_build_due_monotonic },
	{ "backoff", test_backoff },
	{ "backoff_monotonic", test_backoff_monotonic },
};

CHECK_MAIN(cases)
