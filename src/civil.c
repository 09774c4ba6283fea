#include "civil.h"

int
civil_date(int64_t y, unsigned m, unsigned d, int64_t *days)
{
	/* Days in each month, February's in a common year. */
	static const unsigned char month_len[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};
	const int leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);

	if (m < 1 || m > 12 || d < 1 || d > month_len[m - 1] + (unsigned)(m == 2 && leap))
		return -1;
	*days = civil_days(y, m, d);
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
	c->wday = (unsigned)((days % 7 + 11) % 7);    /* 1970-01-01 was a Thursday */
	/* Howard Hinnant's civil_from_days, the inverse of civil_days. */
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	c->day = doy - (153 * mp + 2) / 5 + 1;
	c->month = mp < 10 ? mp + 3 : mp - 9;
	c->year = (int64_t)yoe + era * 400 + (c->month <= 2);
}
