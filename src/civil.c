#include "civil.h"

int
civil_date(int64_t y, unsigned m, unsigned d, int64_t *days)
{
	int64_t n = civil_days(y, m, d);
	struct civil c;

	/* A date that does not exist counts as another one (Feb 30 as Mar 2, day 0
	 * as the last of the month before, month 13 as January): it exists when its
	 * day count splits back into it. */
	civil_from_unix(n * 86400, &c);
	if (c.month != m || c.day != d)
		return -1;
	*days = n;
	return 0;
}

void
civil_from_unix(int64_t secs, struct civil *c)
{
	int64_t days = secs / 86400, rem = secs % 86400, era, z;
	unsigned doe, yoe, doy, mp;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	c->hour = (unsigned)(rem / 3600);
	c->min = (unsigned)(rem / 60 % 60);
	c->sec = (unsigned)(rem % 60);
	/* Howard Hinnant's civil_from_days, the inverse of civil_days. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	/* an era is whole weeks, and its first day (a March 1st) a Wednesday */
	c->wday = (doe + 3) % 7;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->month = mp < 10 ? mp + 3 : mp - 9;
	c->year = (int64_t)yoe + era * 400 + (c->month <= 2);
}
