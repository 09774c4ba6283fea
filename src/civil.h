/*
 * civil: calendar arithmetic shared by the parsers of dates (HTTP-date in
 * Retry-After, certificate validity times). Proleptic Gregorian, UTC.
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

#endif
