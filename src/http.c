#include "http.h"

#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "civil.h"

#ifndef ANONTEL_VERSION
#error "ANONTEL_VERSION must be defined (the Makefile does)"
#endif

#define USER_AGENT "anontel/" ANONTEL_VERSION

/* Retry-After values beyond this are capped: a server cannot park us for longer
 * than a year, and the arithmetic stays far from overflow. */
#define RETRY_AFTER_MAX (366 * 86400LL)

/* A chunk size above 2^60 is refused (no real body is that large, and the
 * arithmetic stays far from overflow); so is a chunk-size line above this. */
#define CHUNK_SIZE_MAX (UINT64_C(1) << 60)
#define CHUNK_LINE_MAX 4096

/* Content-Length above this is refused as overflow. */
#define CONTENT_LENGTH_MAX (INT64_C(1) << 60)

enum {
	ST_STATUS,       /* reading a status line */
	ST_HEADER,       /* reading header lines */
	ST_BODY,         /* Content-Length body */
	ST_CLOSE,        /* close-delimited body */
	ST_CSIZE,        /* chunk-size line */
	ST_CDATA,        /* chunk data */
	ST_CDATA_CR,     /* the CR after chunk data */
	ST_CDATA_LF,     /* the LF after chunk data */
	ST_TRAILER,      /* trailer lines after the last chunk */
	ST_DONE,
	ST_ERROR
};

/* Where in a chunk-size line (r->cs) */
enum { CS_START, CS_DIGITS, CS_BWS, CS_EXT, CS_CR };

/* ---- small helpers ---- */

/* A control character: not allowed in a header line, value or chunk extension. */
static int
is_ctl(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* How many of s[0..n) are, from the start, RFC 9110 tchars: all when s is a
 * token. A NUL ends the count. */
static size_t
token_len(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && s[i] != '\0' && (ascii_is_alnum((unsigned char)s[i]) ||
	    strchr("!#$%&'*+-.^_`|~", s[i]) != NULL))
		i++;
	return i;
}

/* s[0..n) is the name w, ignoring case. */
static int
name_is(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

/* Strips OWS from both ends of s[0..*n); returns the new start. */
static const char *
trim(const char *s, size_t *n)
{
	while (*n > 0 && ascii_is_blank((unsigned char)s[*n - 1]))
		(*n)--;
	while (*n > 0 && ascii_is_blank((unsigned char)*s)) {
		s++;
		(*n)--;
	}
	return s;
}

/* ---- dates: Retry-After reads them, the Date header writes them ---- */

/* From Sunday, as struct civil's wday; HTTP-dates use the first three letters
 * of each name, and of each month name. */
static const char day_names[7][10] = { "Sunday", "Monday", "Tuesday", "Wednesday",
	"Thursday", "Friday", "Saturday" };
static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

/*
 * The three forms of an HTTP-date (RFC 9110 5.6.7), as patterns for match_date:
 * 'a' a day name ("Sun"), 'A' a full day name ("Sunday"), 'b' a month name (as
 * strftime's), 'D' 'Y' 'h' 'm' 's' one digit of the day, year, hour, minute,
 * second, '_' a space or a digit of the day; any other byte stands for itself.
 */
enum { DATE_IMF, DATE_RFC850, DATE_ASCTIME, DATE_FORMS };
static const char date_forms[DATE_FORMS][26] = {
	"a, DD b YYYY hh:mm:ss GMT",    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
	"A, DD-b-YY hh:mm:ss GMT",      /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
	"a b _D hh:mm:ss YYYY",         /* asctime: "Sun Nov  6 08:49:37 1994" */
};

/* The numbers a date pattern holds, indexed as their letters in date_fields. */
static const char date_fields[] = "DYhms";
enum { F_DAY, F_YEAR, F_HOUR, F_MIN, F_SEC, F_COUNT };

/* Length of the day name at s (its first three letters unless full), or 0. */
static size_t
day_name(const char *s, int full)
{
	for (int i = 0; i < 7; i++) {
		size_t k = full ? strlen(day_names[i]) : 3;

		if (strncmp(s, day_names[i], k) == 0)
			return k;
	}
	return 0;
}

/* Month 1..12 of the name at s, or 0. */
static unsigned
month_of(const char *s)
{
	for (unsigned i = 0; i < 12; i++)
		if (strncmp(s, months + 3 * i, 3) == 0)
			return i + 1;
	return 0;
}

/* s is all of the date pattern form: fills f[F_COUNT] and *month. */
static int
match_date(const char *s, const char *form, unsigned f[F_COUNT], unsigned *month)
{
	memset(f, 0, F_COUNT * sizeof *f);
	for (; *form != '\0'; form++) {
		char c = *form;
		const char *field;
		size_t k;

		if (c == 'a' || c == 'A') {
			if ((k = day_name(s, c == 'A')) == 0)
				return -1;
			s += k;
			continue;
		}
		if (c == 'b') {
			if ((*month = month_of(s)) == 0)
				return -1;
			s += 3;
			continue;
		}
		if (c == '_') {
			if (*s == ' ') {
				s++;
				continue;
			}
			c = 'D';
		}
		if ((field = strchr(date_fields, c)) != NULL) {
			if (!ascii_is_digit((unsigned char)*s))
				return -1;
			f[field - date_fields] = f[field - date_fields] * 10 + (unsigned)(*s++ - '0');
		} else if (*s++ != c) {
			return -1;
		}
	}
	return *s == '\0' ? 0 : -1;
}

/* The HTTP-date s as Unix seconds into *t: 0, or -1. */
static int
date_secs(const char *s, time_t now, int64_t *t)
{
	unsigned f[F_COUNT], m = 0;
	int form;
	int64_t year, days;
	struct civil c;

	for (form = 0; form < DATE_FORMS; form++)
		if (match_date(s, date_forms[form], f, &m) == 0)
			break;
	if (form == DATE_FORMS || f[F_HOUR] > 23 || f[F_MIN] > 59 || f[F_SEC] > 60)
		return -1;
	year = f[F_YEAR];
	if (form == DATE_RFC850) {
		/* RFC 9110 5.6.7: a two-digit year more than 50 years ahead is in the
		 * past century */
		int64_t now_year;

		civil_from_unix((int64_t)now, &c);
		now_year = c.year;
		year += now_year - now_year % 100;
		if (year > now_year + 50)
			year -= 100;
		else if (year < now_year - 49)
			year += 100;
	}
	if (civil_date(year, m, f[F_DAY], &days) != 0)   /* day 0, Feb 30 */
		return -1;
	*t = days * 86400 + f[F_HOUR] * 3600 + f[F_MIN] * 60 + f[F_SEC];
	return 0;
}

int
http_retry_after(const char *value, time_t now, int64_t *secs)
{
	int64_t t = 0;

	if (ascii_is_digit((unsigned char)value[0])) {
		/* delta-seconds: digits only; past the cap, only checked */
		for (size_t i = 0; value[i] != '\0'; i++) {
			if (!ascii_is_digit((unsigned char)value[i]))
				return -1;
			if (t <= RETRY_AFTER_MAX)
				t = t * 10 + (value[i] - '0');
		}
	} else if (date_secs(value, now, &t) == 0) {
		t -= (int64_t)now;
	} else {
		return -1;
	}
	*secs = t < 0 ? 0 : t > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : t;
	return 0;
}

/* ---- response reader ---- */

/* The reason for HTTP_ERROR. As with HTTP_DONE, http_response_feed then moves
 * r to its final state. */
static enum http_result
fail(struct http_response *r, const char *why)
{
	r->error = why;
	return HTTP_ERROR;
}

void
http_response_init(struct http_response *r, int no_body, time_t now)
{
	memset(r, 0, sizeof *r);
	r->now = now;
	r->head_request = no_body != 0;
	r->state = ST_STATUS;
	r->retry_after = -1;
	r->content_length = -1;
}

/* "HTTP/1.x SP 3DIGIT SP reason", the reason possibly empty. */
static enum http_result
status_line(struct http_response *r)
{
	const char *l = r->line;
	unsigned code;

	if (r->line_total < 13 || memcmp(l, "HTTP/1.", 7) != 0 || !ascii_is_digit((unsigned char)l[7]) ||
	    l[8] != ' ' || ascii_digits(l + 9, 3, &code) != 0 || l[12] != ' ' || code < 100)
		return fail(r, "status line is not HTTP/1.x NNN");
	if (code == 101)
		return fail(r, "unexpected 101 Switching Protocols");
	r->status = (int)code;
	r->interim = code < 200;
	r->state = ST_HEADER;
	return HTTP_MORE;
}

/* The element of the list v[0..n) (RFC 9110 5.6.1: elements separated by ',')
 * that starts at *i: returns its start without OWS and its length in *len, and
 * moves *i past the ',' after it (past n after the last element). */
static const char *
list_element(const char *v, size_t n, size_t *i, size_t *len)
{
	const char *e = v + *i, *comma = memchr(e, ',', n - *i);

	*len = comma != NULL ? (size_t)(comma - e) : n - *i;
	*i += *len + 1;
	return trim(e, len);
}

static enum http_result
content_length(struct http_response *r, const char *v, size_t n)
{
	/* "5" or a list "5, 5" (RFC 9110 8.6): all values must agree */
	for (size_t i = 0; i <= n;) {
		size_t len, k;
		const char *e = list_element(v, n, &i, &len);
		int64_t x = 0;

		for (k = 0; k < len && ascii_is_digit((unsigned char)e[k]); k++) {
			if (x > CONTENT_LENGTH_MAX / 10)
				return fail(r, "Content-Length too large");
			x = x * 10 + (e[k] - '0');
		}
		if (k == 0)
			return fail(r, "bad Content-Length");
		if (r->content_length >= 0 && r->content_length != x)
			return fail(r, "conflicting Content-Length");
		r->content_length = x;
		if (k < len)
			return fail(r, "bad Content-Length");
	}
	return HTTP_MORE;
}

static enum http_result
transfer_encoding(struct http_response *r, const char *v, size_t n)
{
	int any = 0;

	/* a list of codings; empty elements are allowed (RFC 9110 5.6.1) */
	for (size_t i = 0; i <= n;) {
		size_t len;
		const char *e = list_element(v, n, &i, &len);

		if (token_len(e, len) < len)
			return fail(r, "unsupported Transfer-Encoding");
		if (len > 0) {
			any = 1;
			r->te_seen = 1;
			r->chunked = name_is(e, len, "chunked");
			r->chunked_count += r->chunked;
		}
	}
	if (!any)
		return fail(r, "unsupported Transfer-Encoding");
	return HTTP_MORE;
}

/* The header block of the final response is complete: choose the framing. */
static enum http_result
headers_done(struct http_response *r)
{
	if (r->interim) {
		/* Read the final response next. A 1xx sets nothing else (header_line skips
		 * its headers; status_line sets status and interim again), and its bytes
		 * stay counted: the limit covers them too. */
		r->state = ST_STATUS;
		return HTTP_MORE;
	}
	if (r->head_request) {
		/* HEAD and CONNECT: no body, and (RFC 9110 9.3.6) framing headers of a
		 * CONNECT response are ignored */
		return HTTP_DONE;
	}
	if (r->te_seen && r->content_length >= 0)
		return fail(r, "Content-Length with Transfer-Encoding");
	if (r->te_seen && (!r->chunked || r->chunked_count != 1))
		return fail(r, "unsupported Transfer-Encoding");
	if (r->status >= 300 && r->status <= 399 && r->location_bad)
		return fail(r, r->location_bad == 1 ? "Location header too long" :
		    "several different Location headers");
	if (r->status == 204 || r->status == 304)
		return HTTP_DONE;
	if (r->te_seen) {
		/* cs, cs_len and remaining are still 0 from http_response_init */
		r->state = ST_CSIZE;
		return HTTP_MORE;
	}
	if (r->content_length >= 0) {
		r->remaining = (uint64_t)r->content_length;
		r->state = ST_BODY;
		return r->remaining == 0 ? HTTP_DONE : HTTP_MORE;
	}
	r->state = ST_CLOSE;
	return HTTP_MORE;
}

/*
 * Header names, as RFC 9110 spells them. [0, H_LOCATION): the ones an extra
 * header may not set, so that none is ever sent twice: anontel writes Host,
 * User-Agent, Date, a POST's Content-Type and Content-Length, Connection; the
 * others would change the request's framing or the connection.
 * [H_CONTENT_LENGTH, H_OTHER): the response headers the reader looks at.
 */
enum {
	H_HOST, H_USER_AGENT, H_DATE, H_CONTENT_TYPE, H_CONNECTION, H_UPGRADE, H_TE, H_TRAILER,
	H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_LOCATION, H_RETRY_AFTER, H_OTHER
};
static const char *const header_names[H_OTHER] = {
	"Host", "User-Agent", "Date", "Content-Type", "Connection", "Upgrade", "TE", "Trailer",
	"Content-Length", "Transfer-Encoding", "Location", "Retry-After"
};

/* The first of header_names[from..H_OTHER) that s[0..n) is (any case), or H_OTHER. */
static int
header_name(const char *s, size_t n, int from)
{
	while (from < H_OTHER && !name_is(s, n, header_names[from]))
		from++;
	return from;
}

/* A Location header's value v[0..n): the first is kept, a repeat must be the same. */
static void
location(struct http_response *r, const char *v, size_t n, int truncated)
{
	if (truncated || n > URL_PATH_MAX) {
		r->location_bad = 1;
	} else if (r->location_count++ == 0) {
		memcpy(r->location, v, n);
		r->location[n] = '\0';
	} else if (strlen(r->location) != n || memcmp(r->location, v, n) != 0) {
		if (r->location_bad == 0)
			r->location_bad = 2;
	}
}

/* A Retry-After header's value v[0..n): the first usable one counts, an
 * unusable one is ignored. */
static void
retry_after(struct http_response *r, const char *v, size_t n)
{
	char text[64];
	int64_t secs;

	if (r->retry_after < 0 && n < sizeof text) {
		memcpy(text, v, n);
		text[n] = '\0';
		if (http_retry_after(text, r->now, &secs) == 0)
			r->retry_after = secs;
	}
}

/* A complete header (or trailer) line "name: value" of line_total bytes. */
static enum http_result
header_line(struct http_response *r)
{
	const char *l = r->line, *v;
	const char *colon = memchr(l, ':', r->line_len);
	size_t name_len, n;
	int truncated = r->line_total > r->line_len;

	if (colon == NULL)
		return fail(r, truncated ? "header line too long" : "header line without colon");
	name_len = (size_t)(colon - l);
	if (name_len == 0)
		return fail(r, "empty header name");
	if (token_len(l, name_len) < name_len)
		return fail(r, "bad header name");
	if (r->state == ST_TRAILER || r->interim)
		return HTTP_MORE;

	n = r->line_len - name_len - 1;
	v = trim(colon + 1, &n);
	switch (header_name(l, name_len, H_CONTENT_LENGTH)) {
	case H_CONTENT_LENGTH:
		return truncated ? fail(r, "bad Content-Length") : content_length(r, v, n);
	case H_TRANSFER_ENCODING:
		return truncated ? fail(r, "unsupported Transfer-Encoding") :
		    transfer_encoding(r, v, n);
	case H_LOCATION:
		location(r, v, n, truncated);
		break;
	case H_RETRY_AFTER:
		if (!truncated)
			retry_after(r, v, n);
		break;
	}
	return HTTP_MORE;
}

/* A full line (without its CRLF) has been read in state ST_STATUS, ST_HEADER or
 * ST_TRAILER. */
static enum http_result
line_done(struct http_response *r)
{
	enum http_result res;

	if (r->state == ST_STATUS) {
		res = status_line(r);
	} else if (r->line_total == 0) {
		if (r->state == ST_TRAILER)
			return HTTP_DONE;
		res = headers_done(r);
	} else {
		res = header_line(r);
	}
	r->line_len = 0;
	r->line_total = 0;
	return res;
}

/* One byte of a status, header or trailer line. */
static enum http_result
line_byte(struct http_response *r, unsigned char c)
{
	if (++r->header_bytes > HTTP_HEADER_MAX)
		return fail(r, r->state == ST_TRAILER ? "trailers over 16 KiB" :
					      "header block over 16 KiB");
	if (r->cr) {
		r->cr = 0;
		if (c != '\n')
			return fail(r, "bare CR in header");
		return line_done(r);
	}
	if (c == '\r') {
		r->cr = 1;
		return HTTP_MORE;
	}
	if (c == '\n')
		return fail(r, "bare LF in header (lines must end in CRLF)");
	if (r->line_total == 0 && r->state != ST_STATUS && ascii_is_blank(c))
		return fail(r, "obsolete line folding");
	if (is_ctl(c))
		return fail(r, "control character in header");
	if (r->line_len < sizeof r->line)
		r->line[r->line_len++] = (char)c;
	r->line_total++;
	return HTTP_MORE;
}

/* One byte of a chunk-size line: 1*HEXDIG [ BWS ";" chunk-ext ] CRLF. */
static enum http_result
chunk_size_byte(struct http_response *r, unsigned char c)
{
	int d = ascii_hex_val(c);

	if (++r->cs_len > CHUNK_LINE_MAX)
		return fail(r, "chunk size line too long");
	switch (r->cs) {
	case CS_EXT:    /* chunk extensions: ignored */
		if (c == '\r')
			r->cs = CS_CR;
		else if (is_ctl(c))
			return fail(r, "bad chunk extension");
		return HTTP_MORE;
	case CS_CR:
		if (c != '\n')
			return fail(r, "bare CR in chunk size line");
		r->cs = CS_START;
		r->cs_len = 0;
		if (r->remaining == 0) {
			/* line_len and line_total are 0 since the header block's
			 * blank line */
			r->state = ST_TRAILER;
			r->header_bytes = 0;
		} else {
			r->state = ST_CDATA;
		}
		return HTTP_MORE;
	}
	if (d >= 0 && r->cs != CS_BWS) {
		/* at CS_START remaining is 0: from http_response_init, or the
		 * previous chunk's data used it up */
		if (r->remaining > (CHUNK_SIZE_MAX - (uint64_t)d) / 16)
			return fail(r, "chunk size too large");
		r->remaining = r->remaining * 16 + (uint64_t)d;
		r->cs = CS_DIGITS;
	} else if (r->cs == CS_DIGITS && c == '\r') {
		r->cs = CS_CR;
	} else if (r->cs != CS_START && ascii_is_blank(c)) {
		r->cs = CS_BWS;
	} else if (r->cs != CS_START && c == ';') {
		r->cs = CS_EXT;
	} else {
		return fail(r, "bad chunk size");
	}
	return HTTP_MORE;
}

enum http_result
http_response_feed(struct http_response *r, const unsigned char *p, size_t n, size_t *used)
{
	size_t i = 0;
	enum http_result res;

	*used = 0;
	if (r->state == ST_DONE)
		return HTTP_DONE;
	if (r->state == ST_ERROR)
		return HTTP_ERROR;
	while (i < n) {
		switch (r->state) {
		case ST_BODY:
		case ST_CDATA: {
			size_t k = n - i;

			if ((uint64_t)k > r->remaining)
				k = (size_t)r->remaining;
			i += k;
			r->remaining -= k;
			r->body_bytes += k;
			res = HTTP_MORE;
			if (r->remaining == 0 && r->state == ST_BODY)
				res = HTTP_DONE;
			else if (r->remaining == 0)
				r->state = ST_CDATA_CR;
			break;
		}
		case ST_CLOSE:
			r->body_bytes += n - i;
			i = n;
			res = HTTP_MORE;
			break;
		case ST_CDATA_CR:
		case ST_CDATA_LF:
			if (p[i++] != (r->state == ST_CDATA_CR ? '\r' : '\n')) {
				res = fail(r, "chunk data not followed by CRLF");
				break;
			}
			r->state = r->state == ST_CDATA_CR ? ST_CDATA_LF : ST_CSIZE;
			res = HTTP_MORE;
			break;
		case ST_CSIZE:
			res = chunk_size_byte(r, p[i++]);
			break;
		default:    /* ST_STATUS, ST_HEADER, ST_TRAILER */
			res = line_byte(r, p[i++]);
			break;
		}
		if (res != HTTP_MORE) {
			r->state = res == HTTP_DONE ? ST_DONE : ST_ERROR;
			*used = i;
			return res;
		}
	}
	*used = n;
	return HTTP_MORE;
}

enum http_result
http_response_eof(struct http_response *r)
{
	if (r->state == ST_CLOSE)
		r->state = ST_DONE;
	if (r->state == ST_DONE)
		return HTTP_DONE;
	if (r->state != ST_ERROR) {
		r->state = ST_ERROR;
		r->error = "truncated response";
	}
	return HTTP_ERROR;
}

/* ---- request writers ---- */

enum http_header_verdict
http_header_check(const char *h, const char **reserved)
{
	size_t i = token_len(h, SIZE_MAX);
	int r;

	if (i == 0 || h[i] != ':')
		return HTTP_HEADER_INVALID;
	for (size_t k = i + 1; h[k] != '\0'; k++)
		if (is_ctl((unsigned char)h[k]))
			return HTTP_HEADER_INVALID;
	if ((r = header_name(h, i, 0)) >= H_LOCATION)
		return HTTP_HEADER_OK;
	if (reserved != NULL)
		*reserved = header_names[r];
	return HTTP_HEADER_RESERVED;
}

void
http_date(struct buf *b, time_t now)
{
	struct civil c;

	civil_from_unix((int64_t)now, &c);
	buf_add(b, day_names[c.wday], 3);
	buf_str(b, ", ");
	buf_uint(b, c.day, 2);
	buf_char(b, ' ');
	buf_add(b, months + 3 * (c.month - 1), 3);
	buf_char(b, ' ');
	buf_uint(b, (uint64_t)c.year, 4);
	buf_char(b, ' ');
	buf_uint(b, c.hour, 2);
	buf_char(b, ':');
	buf_uint(b, c.min, 2);
	buf_char(b, ':');
	buf_uint(b, c.sec, 2);
	buf_str(b, " GMT");
}

/* The request line and Host; CONNECT's target is host:port (RFC 9110 9.3.6). */
static void
request_line(struct buf *b, const char *method, const struct url *u, int connect)
{
	buf_str(b, method);
	buf_char(b, ' ');
	if (connect)
		url_host_port(b, u, 1);
	else
		buf_str(b, u->path);        /* "/" at least (struct url) */
	buf_str(b, " HTTP/1.1\r\nHost: ");
	url_host_port(b, u, connect);
	buf_str(b, "\r\n");
}

/* "User-Agent: anontel/V" and "Date: ..." lines. */
static void
agent_date(struct buf *b, time_t now)
{
	buf_str(b, "User-Agent: " USER_AGENT "\r\nDate: ");
	http_date(b, now);
	buf_str(b, "\r\n");
}

/* "Connection: close", the extra lines and the blank line: the end of a POST or
 * GET head. Returns 0, or -1 as http_post_head. */
static int
end_head(struct buf *b, const char *const *extra, size_t n_extra)
{
	buf_str(b, "Connection: close\r\n");
	for (size_t i = 0; i < n_extra; i++) {
		if (extra[i] == NULL || http_header_check(extra[i], NULL) != HTTP_HEADER_OK)
			return -1;
		buf_str(b, extra[i]);
		buf_str(b, "\r\n");
	}
	buf_str(b, "\r\n");
	return b->overflow ? -1 : 0;
}

int
http_post_head(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    size_t body_len, time_t now)
{
	request_line(b, "POST", u, 0);
	agent_date(b, now);
	buf_str(b, "Content-Type: application/json\r\nContent-Length: ");
	buf_uint(b, body_len, 0);
	buf_str(b, "\r\n");
	return end_head(b, extra, n_extra);
}

int
http_get(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    time_t now)
{
	request_line(b, "GET", u, 0);
	agent_date(b, now);
	return end_head(b, extra, n_extra);
}

/* Appends the base64 (RFC 4648, padded) of p[0..n). */
static void
base64(struct buf *b, const char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = 0;
		char q[4];

		/* n - i + 1 digits carry the 1 to 3 bytes left; '=' pads to 4 */
		for (size_t k = 0; k < 3; k++)
			v = v << 8 | (i + k < n ? (unsigned char)p[i + k] : 0u);
		for (size_t k = 0; k < 4; k++)
			q[k] = k <= n - i ? a[(v >> (18 - 6 * k)) & 63] : '=';
		buf_add(b, q, 4);
	}
}

int
http_connect(struct buf *b, const struct url *dest, const struct url *proxy, time_t now)
{
	request_line(b, "CONNECT", dest, 1);
	if (proxy != NULL && (proxy->user[0] != '\0' || proxy->pass[0] != '\0')) {
		char cred[2 * URL_USER_MAX + 2];
		struct buf c;

		/* RFC 7617: a user-id containing ':' cannot be sent */
		if (strchr(proxy->user, ':') != NULL)
			return -1;
		buf_init(&c, cred, sizeof cred);
		buf_str(&c, proxy->user);
		buf_char(&c, ':');
		buf_str(&c, proxy->pass);
		buf_str(b, "Proxy-Authorization: Basic ");
		base64(b, cred, c.len);
		buf_str(b, "\r\n");
		explicit_bzero(cred, sizeof cred);   /* memset would be dropped: cred is dead */
	}
	agent_date(b, now);
	buf_str(b, "\r\n");
	return b->overflow ? -1 : 0;
}

int
http_response_in_body(const struct http_response *r)
{
	/* (a 1xx never gets past ST_HEADER) */
	return r->state >= ST_BODY && r->state <= ST_TRAILER;
}
