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

/* ---- small helpers ---- */

static int
is_ows(int c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 tchar */
static int
is_tchar(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || ascii_is_digit(c) ||
	    (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* s[0..n) equals the lowercase word w, ignoring case. */
static int
eq_ci(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (ascii_lower((unsigned char)s[i]) != w[i])
			return 0;
	return 1;
}

/* ---- Retry-After ---- */

static int
days_in_month(int64_t y, unsigned m)
{
	static const unsigned char dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* n decimal digits at s, exactly. */
static int
digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ascii_is_digit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

static int
month_of(const char *s)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (memcmp(s, names + 3 * i, 3) == 0)
			return i + 1;
	return -1;
}

/* "HH:MM:SS" */
static int
hms(const char *s, unsigned *h, unsigned *mi, unsigned *sec)
{
	if (s[2] != ':' || s[5] != ':' || digits(s, 2, h) || digits(s + 3, 2, mi) ||
	    digits(s + 6, 2, sec))
		return -1;
	return *h <= 23 && *mi <= 59 && *sec <= 60 ? 0 : -1;
}

/* Index of the day name at s (short if len 3, else the long name followed by
 * ','), or -1. Returns the number of characters used in *used. */
static int
day_name(const char *s, int long_form, size_t *used)
{
	static const char *const names[7] = { "Monday", "Tuesday", "Wednesday", "Thursday",
		"Friday", "Saturday", "Sunday" };

	for (int i = 0; i < 7; i++) {
		size_t k = long_form ? strlen(names[i]) : 3;

		if (strncmp(s, names[i], k) == 0) {
			*used = k;
			return i;
		}
	}
	return -1;
}

int
http_retry_after(const char *value, time_t now, int64_t *secs)
{
	size_t n = strlen(value), used;
	unsigned d, y, h, mi, s;
	int m;
	int64_t year, t;

	if (n == 0)
		return -1;
	if (ascii_is_digit((unsigned char)value[0])) {
		/* delta-seconds: digits only, capped */
		int64_t v = 0;

		for (size_t i = 0; i < n; i++) {
			if (!ascii_is_digit((unsigned char)value[i]))
				return -1;
			if (v <= RETRY_AFTER_MAX)
				v = v * 10 + (value[i] - '0');
		}
		*secs = v > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : v;
		return 0;
	}
	if (n == 29 && value[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		if (day_name(value, 0, &used) < 0 || value[4] != ' ' || digits(value + 5, 2, &d) ||
		    value[7] != ' ' || (m = month_of(value + 8)) < 0 || value[11] != ' ' ||
		    digits(value + 12, 4, &y) || value[16] != ' ' ||
		    hms(value + 17, &h, &mi, &s) || strcmp(value + 25, " GMT") != 0)
			return -1;
		year = y;
	} else if (n == 24 && value[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		if (day_name(value, 0, &used) < 0 || (m = month_of(value + 4)) < 0 ||
		    value[7] != ' ' || value[10] != ' ' || hms(value + 11, &h, &mi, &s) ||
		    value[19] != ' ' || digits(value + 20, 4, &y))
			return -1;
		if (value[8] == ' ') {
			if (digits(value + 9, 1, &d))
				return -1;
		} else if (digits(value + 8, 2, &d)) {
			return -1;
		}
		year = y;
	} else {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *p;
		struct civil c;
		int64_t now_year;

		if (day_name(value, 1, &used) < 0)
			return -1;
		p = value + used;
		if (n != used + 24 || p[0] != ',' || p[1] != ' ' || digits(p + 2, 2, &d) ||
		    p[4] != '-' || (m = month_of(p + 5)) < 0 || p[8] != '-' ||
		    digits(p + 9, 2, &y) || p[11] != ' ' || hms(p + 12, &h, &mi, &s) ||
		    strcmp(p + 20, " GMT") != 0)
			return -1;
		/* RFC 9110 5.6.7: a two-digit year more than 50 years ahead is in the
		 * past century */
		civil_from_unix((int64_t)now, &c);
		now_year = c.year;
		year = now_year - now_year % 100 + y;
		if (year > now_year + 50)
			year -= 100;
		else if (year < now_year - 49)
			year += 100;
	}
	if (d < 1 || (int)d > days_in_month(year, (unsigned)m))
		return -1;
	t = civil_days(year, (unsigned)m, d) * 86400 + h * 3600 + mi * 60 + s;
	t -= (int64_t)now;
	if (t < 0)
		t = 0;
	*secs = t > RETRY_AFTER_MAX ? RETRY_AFTER_MAX : t;
	return 0;
}

/* ---- response reader ---- */

static enum http_result
fail(struct http_response *r, const char *why)
{
	r->state = ST_ERROR;
	r->error = why;
	return HTTP_ERROR;
}

/* Forgets what a 1xx response said, before the next status line. */
static void
reset_response(struct http_response *r)
{
	r->status = 0;
	r->interim = 0;
	r->location[0] = '\0';
	r->retry_after = -1;
	r->content_length = -1;
	r->te_seen = 0;
	r->chunked = 0;
	r->chunked_count = 0;
	r->location_count = 0;
	r->location_bad = 0;
}

void
http_response_init(struct http_response *r, int no_body, time_t now)
{
	memset(r, 0, sizeof *r);
	r->now = now;
	r->head_request = no_body != 0;
	r->state = ST_STATUS;
	reset_response(r);
}

/* "HTTP/1.x SP 3DIGIT SP reason", the reason possibly empty. */
static enum http_result
status_line(struct http_response *r)
{
	const char *l = r->line;
	int code;

	if (r->line_total < 13 || memcmp(l, "HTTP/1.", 7) != 0 || !ascii_is_digit((unsigned char)l[7]) ||
	    l[8] != ' ' || !ascii_is_digit((unsigned char)l[9]) || !ascii_is_digit((unsigned char)l[10]) ||
	    !ascii_is_digit((unsigned char)l[11]) || l[12] != ' ' || l[9] == '0')
		return fail(r, "status line is not HTTP/1.x NNN");
	code = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
	if (code == 101)
		return fail(r, "unexpected 101 Switching Protocols");
	r->status = code;
	r->interim = code < 200;
	r->state = ST_HEADER;
	return HTTP_MORE;
}

static enum http_result
content_length(struct http_response *r, const char *v, size_t n)
{
	size_t i = 0;

	/* "5" or a list "5, 5" (RFC 9110 8.6): all values must agree */
	for (;;) {
		int64_t x = 0;
		size_t start;

		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		start = i;
		while (i < n && ascii_is_digit((unsigned char)v[i])) {
			if (x > CONTENT_LENGTH_MAX / 10)
				return fail(r, "Content-Length too large");
			x = x * 10 + (v[i] - '0');
			i++;
		}
		if (i == start)
			return fail(r, "bad Content-Length");
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (r->content_length >= 0 && r->content_length != x)
			return fail(r, "conflicting Content-Length");
		r->content_length = x;
		if (i == n)
			return HTTP_MORE;
		if (v[i] != ',')
			return fail(r, "bad Content-Length");
		i++;
	}
}

static enum http_result
transfer_encoding(struct http_response *r, const char *v, size_t n)
{
	size_t i = 0;
	int any = 0;

	/* a list of codings; empty elements are allowed (RFC 9110 5.6.1) */
	while (i <= n) {
		size_t start, end;

		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		start = i;
		while (i < n && is_tchar((unsigned char)v[i]))
			i++;
		end = i;
		while (i < n && is_ows((unsigned char)v[i]))
			i++;
		if (i < n && v[i] != ',')
			return fail(r, "unsupported Transfer-Encoding");
		if (end > start) {
			any = 1;
			r->te_seen = 1;
			r->chunked = eq_ci(v + start, end - start, "chunked");
			r->chunked_count += r->chunked;
		}
		i++;
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
		reset_response(r);
		r->state = ST_STATUS;
		return HTTP_MORE;
	}
	if (r->head_request) {
		/* HEAD and CONNECT: no body, and (RFC 9110 9.3.6) framing headers of a
		 * CONNECT response are ignored */
		r->state = ST_DONE;
		return HTTP_DONE;
	}
	if (r->te_seen && r->content_length >= 0)
		return fail(r, "Content-Length with Transfer-Encoding");
	if (r->te_seen && (!r->chunked || r->chunked_count != 1))
		return fail(r, "unsupported Transfer-Encoding");
	if (r->status >= 300 && r->status <= 399 && r->location_bad == 1)
		return fail(r, "Location header too long");
	if (r->status >= 300 && r->status <= 399 && r->location_bad == 2)
		return fail(r, "several different Location headers");
	if (r->status == 204 || r->status == 304) {
		r->state = ST_DONE;
		return HTTP_DONE;
	}
	if (r->te_seen) {
		r->state = ST_CSIZE;
		r->cs = 0;
		r->cs_len = 0;
		r->remaining = 0;
		return HTTP_MORE;
	}
	if (r->content_length >= 0) {
		r->remaining = (uint64_t)r->content_length;
		r->state = r->remaining == 0 ? ST_DONE : ST_BODY;
		return r->remaining == 0 ? HTTP_DONE : HTTP_MORE;
	}
	r->state = ST_CLOSE;
	return HTTP_MORE;
}

/* A complete header (or trailer) line "name: value" of line_total bytes. */
static enum http_result
header_line(struct http_response *r)
{
	const char *l = r->line;
	const char *colon = memchr(l, ':', r->line_len);
	size_t name_len, vs, ve;
	int truncated = r->line_total > r->line_len;

	if (colon == NULL)
		return fail(r, truncated ? "header line too long" : "header line without colon");
	name_len = (size_t)(colon - l);
	if (name_len == 0)
		return fail(r, "empty header name");
	for (size_t i = 0; i < name_len; i++)
		if (!is_tchar((unsigned char)l[i]))
			return fail(r, "bad header name");
	if (r->state == ST_TRAILER || r->interim)
		return HTTP_MORE;

	vs = name_len + 1;
	ve = r->line_len;
	while (vs < ve && is_ows((unsigned char)l[vs]))
		vs++;
	while (ve > vs && is_ows((unsigned char)l[ve - 1]))
		ve--;

	if (eq_ci(l, name_len, "content-length")) {
		if (truncated)
			return fail(r, "bad Content-Length");
		return content_length(r, l + vs, ve - vs);
	}
	if (eq_ci(l, name_len, "transfer-encoding")) {
		if (truncated)
			return fail(r, "unsupported Transfer-Encoding");
		return transfer_encoding(r, l + vs, ve - vs);
	}
	if (eq_ci(l, name_len, "location")) {
		size_t n = ve - vs;

		if (truncated || n > URL_PATH_MAX) {
			r->location_bad = 1;
		} else if (r->location_count++ == 0) {
			memcpy(r->location, l + vs, n);
			r->location[n] = '\0';
		} else if (strlen(r->location) != n || memcmp(r->location, l + vs, n) != 0) {
			if (r->location_bad == 0)
				r->location_bad = 2;
		}
		return HTTP_MORE;
	}
	if (eq_ci(l, name_len, "retry-after")) {
		char v[64];
		int64_t secs;

		/* the first usable one counts; an unusable one is ignored */
		if (!truncated && r->retry_after < 0 && ve - vs < sizeof v) {
			memcpy(v, l + vs, ve - vs);
			v[ve - vs] = '\0';
			if (http_retry_after(v, r->now, &secs) == 0)
				r->retry_after = secs;
		}
		return HTTP_MORE;
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
		if (r->state == ST_TRAILER) {
			r->state = ST_DONE;
			return HTTP_DONE;
		}
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
	if (r->line_total == 0 && r->state != ST_STATUS && is_ows(c))
		return fail(r, "obsolete line folding");
	if ((c < 0x20 && c != '\t') || c == 0x7f)
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
	case 0:    /* first digit */
		if (d < 0)
			return fail(r, "bad chunk size");
		r->remaining = (uint64_t)d;
		r->cs = 1;
		return HTTP_MORE;
	case 1:    /* more digits */
		if (d >= 0) {
			if (r->remaining > CHUNK_SIZE_MAX >> 4)
				return fail(r, "chunk size too large");
			r->remaining = r->remaining * 16 + (uint64_t)d;
			if (r->remaining > CHUNK_SIZE_MAX)
				return fail(r, "chunk size too large");
			return HTTP_MORE;
		}
		if (c == '\r') {
			r->cs = 4;
			return HTTP_MORE;
		}
		if (is_ows(c)) {
			r->cs = 2;
			return HTTP_MORE;
		}
		if (c == ';') {
			r->cs = 3;
			return HTTP_MORE;
		}
		return fail(r, "bad chunk size");
	case 2:    /* BWS before ';' */
		if (is_ows(c))
			return HTTP_MORE;
		if (c == ';') {
			r->cs = 3;
			return HTTP_MORE;
		}
		return fail(r, "bad chunk size");
	case 3:    /* chunk extensions: ignored */
		if (c == '\r') {
			r->cs = 4;
			return HTTP_MORE;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(r, "bad chunk extension");
		return HTTP_MORE;
	default:   /* after CR */
		if (c != '\n')
			return fail(r, "bare CR in chunk size line");
		r->cs = 0;
		r->cs_len = 0;
		if (r->remaining == 0) {
			r->state = ST_TRAILER;
			r->header_bytes = 0;
			r->line_len = 0;
			r->line_total = 0;
		} else {
			r->state = ST_CDATA;
		}
		return HTTP_MORE;
	}
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
			if (r->remaining == 0)
				r->state = r->state == ST_BODY ? ST_DONE : ST_CDATA_CR;
			res = r->state == ST_DONE ? HTTP_DONE : HTTP_MORE;
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
	if (r->state == ST_DONE)
		return HTTP_DONE;
	if (r->state == ST_CLOSE) {
		r->state = ST_DONE;
		return HTTP_DONE;
	}
	if (r->state == ST_ERROR)
		return HTTP_ERROR;
	return fail(r, "truncated response");
}

/* ---- request writers ---- */

/* "host" or "[v6]", then ":port" when always_port or not the scheme's default. */
static void
host_port(struct buf *b, const struct url *u, int always_port)
{
	uint16_t dflt = u->scheme == URL_HTTPS ? 443 : 80;

	if (u->host_is_ipv6)
		buf_char(b, '[');
	buf_str(b, u->host);
	if (u->host_is_ipv6)
		buf_char(b, ']');
	if (always_port || u->port != dflt) {
		buf_char(b, ':');
		buf_uint(b, u->port, 0);
	}
}

/* Headers anontel writes itself (Host, User-Agent, Date, a POST's Content-Type and
 * Content-Length, Connection), or that would change the request's framing or the
 * connection: an extra header may not set them, so none is ever sent twice. */
static const char *const reserved_headers[] = {
	"Host", "User-Agent", "Date", "Content-Type", "Content-Length", "Transfer-Encoding",
	"Connection", "Upgrade", "TE", "Trailer",
};

enum http_header_verdict
http_header_check(const char *h, const char **reserved)
{
	size_t i = 0;

	while (is_tchar((unsigned char)h[i]))
		i++;
	if (i == 0 || h[i] != ':')
		return HTTP_HEADER_INVALID;
	for (size_t k = i + 1; h[k] != '\0'; k++) {
		unsigned char c = (unsigned char)h[k];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return HTTP_HEADER_INVALID;
	}
	for (size_t r = 0; r < sizeof reserved_headers / sizeof reserved_headers[0]; r++) {
		if (strlen(reserved_headers[r]) == i && strncasecmp(h, reserved_headers[r], i) == 0) {
			if (reserved != NULL)
				*reserved = reserved_headers[r];
			return HTTP_HEADER_RESERVED;
		}
	}
	return HTTP_HEADER_OK;
}

static int
extras(struct buf *b, const char *const *extra, size_t n_extra)
{
	for (size_t i = 0; i < n_extra; i++) {
		if (extra[i] == NULL || http_header_check(extra[i], NULL) != HTTP_HEADER_OK)
			return -1;
		buf_str(b, extra[i]);
		buf_str(b, "\r\n");
	}
	return 0;
}

void
http_date(struct buf *b, time_t now)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct civil c;

	civil_from_unix((int64_t)now, &c);
	buf_add(b, days + 3 * c.wday, 3);
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

/* "User-Agent: anontel/V" and "Date: ..." lines. */
static void
agent_date(struct buf *b, time_t now)
{
	buf_str(b, "User-Agent: " USER_AGENT "\r\nDate: ");
	http_date(b, now);
	buf_str(b, "\r\n");
}

static void
request_line(struct buf *b, const char *method, const struct url *u, time_t now)
{
	buf_str(b, method);
	buf_char(b, ' ');
	buf_str(b, u->path[0] != '\0' ? u->path : "/");
	buf_str(b, " HTTP/1.1\r\nHost: ");
	host_port(b, u, 0);
	buf_str(b, "\r\n");
	agent_date(b, now);
}

int
http_post_head(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    size_t body_len, time_t now)
{
	request_line(b, "POST", u, now);
	buf_str(b, "Content-Type: application/json\r\nContent-Length: ");
	buf_uint(b, body_len, 0);
	buf_str(b, "\r\nConnection: close\r\n");
	if (extras(b, extra, n_extra) != 0)
		return -1;
	buf_str(b, "\r\n");
	return b->overflow ? -1 : 0;
}

int
http_get(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    time_t now)
{
	request_line(b, "GET", u, now);
	buf_str(b, "Connection: close\r\n");
	if (extras(b, extra, n_extra) != 0)
		return -1;
	buf_str(b, "\r\n");
	return b->overflow ? -1 : 0;
}

/* Appends the base64 (RFC 4648, padded) of p[0..n). */
static void
base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		char q[4];

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = a[v >> 18];
		q[1] = a[(v >> 12) & 63];
		q[2] = i + 1 < n ? a[(v >> 6) & 63] : '=';
		q[3] = i + 2 < n ? a[v & 63] : '=';
		buf_add(b, q, 4);
	}
}

int
http_connect(struct buf *b, const struct url *dest, const struct url *proxy, time_t now)
{
	buf_str(b, "CONNECT ");
	host_port(b, dest, 1);
	buf_str(b, " HTTP/1.1\r\nHost: ");
	host_port(b, dest, 1);
	buf_str(b, "\r\n");
	if (proxy != NULL && (proxy->user[0] != '\0' || proxy->pass[0] != '\0')) {
		unsigned char cred[2 * URL_USER_MAX + 2];
		size_t ul = strlen(proxy->user), pl = strlen(proxy->pass);

		/* RFC 7617: a user-id containing ':' cannot be sent */
		if (strchr(proxy->user, ':') != NULL)
			return -1;
		memcpy(cred, proxy->user, ul);
		cred[ul] = ':';
		memcpy(cred + ul + 1, proxy->pass, pl);
		buf_str(b, "Proxy-Authorization: Basic ");
		base64(b, cred, ul + 1 + pl);
		buf_str(b, "\r\n");
		memset(cred, 0, sizeof cred);
	}
	agent_date(b, now);
	buf_str(b, "\r\n");
	return b->overflow ? -1 : 0;
}

int
http_response_in_body(const struct http_response *r)
{
	return !r->interim && r->state >= ST_BODY && r->state <= ST_TRAILER;
}
