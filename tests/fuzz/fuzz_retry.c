/*
 * fuzz_retry: http_retry_after (src/http.c) and cfg_parse_duration (src/config.c).
 *
 * The input is a text, used as a C string (cut at the first NUL). Retry-After is
 * parsed at three clocks: a fixed 2023 one, one derived from the text (0 .. 2^33
 * s, years 1970..2242: what time(2) can say on a real box), and the epoch.
 * Invariants, Retry-After: a result is 0..366 days; delta-seconds (digits only)
 * give min(value, 366 days) computed here independently; an accepted date gives
 * the same instant glibc's timegm computes from the same fields (checked by
 * formatting that instant back: IMF-fixdate and asctime must reproduce the text,
 * up to the weekday, which the parser does not check, and a leap second :60);
 * anything else with surrounding spaces or a sign is refused.
 * cfg_parse_duration: equal to a reference written here from config.h's words
 * (digits, then exactly one of ms s m h d, 1 ms .. 365 d).
 */
#include "fuzz_util.h"

#include <time.h>

#include "config.h"
#include "http.h"

#define CAP (366 * 86400LL)

static int
ref_duration(const char *s, uint64_t *ms)
{
	static const struct { const char *u; uint64_t f; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "d", 86400000 },
	};
	size_t i = 0;
	unsigned __int128 v = 0;

	while (s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > ((unsigned __int128)1 << 100))
			v = (unsigned __int128)1 << 100;   /* saturate: far above the limit */
		i++;
	}
	if (i == 0)
		return -1;
	for (size_t k = 0; k < 5; k++) {
		if (strcmp(s + i, units[k].u) == 0) {
			unsigned __int128 t = v * units[k].f;
			if (t == 0 || t > 365ULL * 86400000ULL)
				return -1;
			*ms = (uint64_t)t;
			return 0;
		}
	}
	return -1;
}

static void
check_duration(const char *s)
{
	uint64_t got = 0, want = 0;
	int r = cfg_parse_duration(s, &got), w = ref_duration(s, &want);

	FUZZ_CHECK(r == w, "cfg_parse_duration(\"%s\") = %d, reference %d", s, r, w);
	if (r == 0)
		FUZZ_CHECK(got == want, "cfg_parse_duration(\"%s\") = %llu ms, reference %llu", s,
		    (unsigned long long)got, (unsigned long long)want);
}

static void
check_retry(const char *s, time_t now)
{
	int64_t secs = -12345;
	size_t n = strlen(s);
	int r = http_retry_after(s, now, &secs);

	FUZZ_CHECK(r == 0 || r == -1, "http_retry_after returned %d", r);
	if (n > 0 && strspn(s, "0123456789") == n) {
		/* delta-seconds */
		int64_t v = 0;
		for (size_t i = 0; i < n; i++) {
			v = v * 10 + (s[i] - '0');
			if (v > CAP)
				v = CAP + 1;
		}
		FUZZ_CHECK(r == 0 && secs == (v > CAP ? CAP : v), "delta \"%s\": %d, %lld", s, r,
		    (long long)secs);
		return;
	}
	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ' || s[0] == '+' || s[0] == '-')
		FUZZ_CHECK(r == -1, "\"%s\" accepted", s);
	if (r != 0)
		return;
	FUZZ_CHECK(secs >= 0 && secs <= CAP, "\"%s\": %lld seconds", s, (long long)secs);
	if (secs > 0 && secs < CAP && (n == 29 || n == 24) && strstr(s, ":60") == NULL) {
		/* the exact instant is now + secs: format it back with glibc */
		time_t t = now + (time_t)secs;
		struct tm tm;
		char out[64];

		FUZZ_CHECK(gmtime_r(&t, &tm) != NULL, "gmtime_r");
		/* asctime's date3 is 2DIGIT or SP DIGIT (RFC 9110 5.6.7): "Nov 08" or "Nov  8" */
		if (n == 29)
			strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S GMT", &tm);
		else if (s[8] == '0')
			strftime(out, sizeof out, "%a %b %d %H:%M:%S %Y", &tm);
		else
			strftime(out, sizeof out, "%a %b %e %H:%M:%S %Y", &tm);
		FUZZ_CHECK(strlen(out) == n && strcmp(out + 3, s + 3) == 0,
		    "\"%s\" at now %lld is %lld s ahead, which is \"%s\"", s, (long long)now,
		    (long long)secs, out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[4096];
	uint64_t h = 0;

	if (size >= sizeof s)
		return 0;
	fz_cstr(s, sizeof s, data, size);
	for (size_t i = 0; i < size; i++)
		h = h * 131 + data[i];
	check_retry(s, (time_t)1700000000);
	check_retry(s, (time_t)(h & ((UINT64_C(1) << 33) - 1)));
	check_retry(s, (time_t)0);
	check_duration(s);
	return 0;
}
