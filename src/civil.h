/*
 * civil: calendar arithmetic shared by the parsers of dates (HTTP-date in
 * Retry-After, certificate validity times) and the writers of times (the Date
 * header, message timestamps). Proleptic Gregorian, UTC.
 */
#ifndef ANONTEL_CIVIL_H
#define ANONTEL_CIVIL_H

#include <stdint.h>

/* Days from 1970-01-01 to year y, month m (1..12), day d (1..31); negative
 * before 1970. Howard Hinnant's days_from_civil algorithm. */
static inline int64_t
civil_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* civil_days into *days when month m (1..12) of year y has a day d (not Feb 30,
 * Apr 31, or Feb 29 of a common year): 0, else -1. What every date parser needs.
 * |y| below 10^11 (its seconds fit in an int64). */
int civil_date(int64_t y, unsigned m, unsigned d, int64_t *days);

/* A Unix time as gmtime_r splits it, for every int64 count of seconds (musl's
 * gmtime_r and __secs_to_tm are 0.8 KB for what this does in a tenth of that). */
struct civil {
	int64_t year;
	unsigned month, day;          /* 1..12, 1..31 */
	unsigned hour, min, sec;
	unsigned wday;                /* 0 = Sunday */
};

/* Splits secs (Unix seconds, negative before 1970) into c. */
void civil_from_unix(int64_t secs, struct civil *c);

#endif
