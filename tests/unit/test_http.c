#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http.h"

/* 2021-03-03T11:13:55Z */
#define NOW ((time_t)1614770035)

struct reply {
	const char *name;
	const char *raw;
	int no_body;
	int want;              /* HTTP_DONE or HTTP_ERROR, after eof if still MORE */
	int need_eof;          /* DONE only after eof (close-delimited) */
	int status;
	uint64_t body;         /* body bytes counted */
	size_t used;           /* bytes of raw that belong to the response; 0 = all */
	const char *error;     /* substring of r.error */
	const char *location;
	int64_t retry_after;
};

static const struct reply replies[] = {
	{ "content-length", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
	    0, HTTP_DONE, 0, 200, 5, 0, NULL, "", -1 },
	{ "content-length zero", "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 201, 0, 0, NULL, "", -1 },
	{ "bytes after the body are not used", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
	    0, HTTP_DONE, 0, 200, 2, 40, NULL, "", -1 },
	{ "identical content-length repeats", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 3\r\n\r\nabc",
	    0, HTTP_DONE, 0, 200, 3, 0, NULL, "", -1 },
	{ "empty reason after SP", "HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\nx",
	    0, HTTP_DONE, 0, 200, 1, 0, NULL, "", -1 },
	{ "HTTP/1.0", "HTTP/1.0 200 OK\r\n\r\nbody",
	    0, HTTP_DONE, 1, 200, 4, 0, NULL, "", -1 },
	{ "chunked with extensions and trailers",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5;name=value\r\nhello\r\n"
	    "A ; a=\"b c\"\r\n0123456789\r\n"
	    "000\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n",
	    0, HTTP_DONE, 0, 200, 15, 0, NULL, "", -1 },
	{ "chunked, case and OWS", "HTTP/1.1 200 OK\r\ntransfer-encoding:  CHUNKED \r\n\r\n1\r\nx\r\n0\r\n\r\n",
	    0, HTTP_DONE, 0, 200, 1, 0, NULL, "", -1 },
	{ "gzip then chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n",
	    0, HTTP_DONE, 0, 200, 2, 0, NULL, "", -1 },
	{ "close-delimited", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
	    0, HTTP_DONE, 1, 200, 13, 0, NULL, "", -1 },
	{ "close-delimited empty", "HTTP/1.1 200 OK\r\n\r\n",
	    0, HTTP_DONE, 1, 200, 0, 0, NULL, "", -1 },
	{ "204 has no body", "HTTP/1.1 204 No Content\r\nContent-Length: 7\r\n\r\n",
	    0, HTTP_DONE, 0, 204, 0, 0, NULL, "", -1 },
	{ "304 has no body", "HTTP/1.1 304 Not Modified\r\n\r\nNEXT",
	    0, HTTP_DONE, 0, 304, 0, 29, NULL, "", -1 },
	{ "100 then 200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	    0, HTTP_DONE, 0, 200, 2, 0, NULL, "", -1 },
	{ "103 then 200", "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nLocation: /no\r\n\r\n"
	                  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 200, 0, 0, NULL, "", -1 },
	{ "HEAD: no body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n",
	    1, HTTP_DONE, 0, 200, 0, 0, NULL, "", -1 },
	{ "CONNECT 200", "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01",
	    1, HTTP_DONE, 0, 200, 0, 39, NULL, "", -1 },
	{ "CONNECT 407", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 4\r\n\r\n",
	    1, HTTP_DONE, 0, 407, 0, 0, NULL, "", -1 },
	{ "redirect keeps Location", "HTTP/1.1 301 Moved\r\nLOCATION:  https://b.example/x?y \r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 301, 0, 0, NULL, "https://b.example/x?y", -1 },
	{ "503 with Retry-After seconds", "HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 503, 0, 0, NULL, "", 120 },
	{ "429 with Retry-After date", "HTTP/1.1 429 Slow down\r\nRetry-After: Wed, 03 Mar 2021 11:14:55 GMT\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 429, 0, 0, NULL, "", 60 },
	{ "garbage Retry-After ignored", "HTTP/1.1 503 Busy\r\nRetry-After: soon\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 503, 0, 0, NULL, "", -1 },
	{ "obs-text in a value", "HTTP/1.1 200 OK\r\nX-A: caf\xc3\xa9\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_DONE, 0, 200, 0, 0, NULL, "", -1 },

	/* refused */
	{ "two different Content-Lengths", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
	    0, HTTP_ERROR, 0, 0, 0, 0, "conflicting Content-Length", NULL, -1 },
	{ "Content-Length list differing", "HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd",
	    0, HTTP_ERROR, 0, 0, 0, 0, "conflicting Content-Length", NULL, -1 },
	{ "Content-Length not digits", "HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad Content-Length", NULL, -1 },
	{ "Content-Length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad Content-Length", NULL, -1 },
	{ "Content-Length overflow", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "Content-Length too large", NULL, -1 },
	{ "CL + TE", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "Content-Length with Transfer-Encoding", NULL, -1 },
	{ "TE + CL", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "Content-Length with Transfer-Encoding", NULL, -1 },
	{ "TE gzip only", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx",
	    0, HTTP_ERROR, 0, 0, 0, 0, "unsupported Transfer-Encoding", NULL, -1 },
	{ "TE chunked then gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "unsupported Transfer-Encoding", NULL, -1 },
	{ "TE chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "unsupported Transfer-Encoding", NULL, -1 },
	{ "bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad chunk size", NULL, -1 },
	{ "chunk size with sign", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad chunk size", NULL, -1 },
	{ "chunk size bare LF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad chunk size", NULL, -1 },
	{ "overflowing chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "chunk size too large", NULL, -1 },
	{ "chunk size just over 2^60", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000001\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "chunk size too large", NULL, -1 },
	{ "bytes in place of CRLF after chunk data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "chunk data not followed by CRLF", NULL, -1 },
	{ "LF alone after chunk data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "chunk data not followed by CRLF", NULL, -1 },
	{ "2-digit status", "HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "4-digit status", "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "no SP after status code", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "HTTP/2 200", "HTTP/2 200 OK\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "status line garbage", "SSH-2.0-OpenSSH_9.2\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "lowercase http", "http/1.1 200 OK\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "status line is not HTTP/1.x NNN", NULL, -1 },
	{ "101 refused", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "101", NULL, -1 },
	{ "bare CR in a header", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bare CR", NULL, -1 },
	{ "bare LF in a header", "HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bare LF", NULL, -1 },
	{ "bare LF status line", "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bare LF", NULL, -1 },
	{ "obs-fold", "HTTP/1.1 200 OK\r\nX-A: a\r\n  b\r\nContent-Length: 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "obsolete line folding", NULL, -1 },
	{ "obs-fold with tab", "HTTP/1.1 200 OK\r\nX-A: a\r\n\tb\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "obsolete line folding", NULL, -1 },
	{ "space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "bad header name", NULL, -1 },
	{ "header without colon", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "header line without colon", NULL, -1 },
	{ "NUL in a header", "HTTP/1.1 200 OK\r\nX-A: a\x01\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "control character", NULL, -1 },
	{ "truncated body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "truncated chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "chunked without last chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "chunked without final CRLF", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "truncated headers", "HTTP/1.1 200 OK\r\nContent-Len",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "nothing at all", "",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "only 100 Continue", "HTTP/1.1 100 Continue\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "truncated response", NULL, -1 },
	{ "redirect with two Locations", "HTTP/1.1 302 Found\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "Location", NULL, -1 },
	{ "bad trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nnot a trailer\r\n\r\n",
	    0, HTTP_ERROR, 0, 0, 0, 0, "header line without colon", NULL, -1 },
};

struct outcome {
	int res;
	int status;
	uint64_t body;
	size_t used;
	const char *error;
	char location[URL_PATH_MAX + 1];
	int64_t retry_after;
	int done_before_eof;
};

/* Feeds raw[0..n) in pieces ending at the offsets cuts[0..ncuts), then the rest,
 * then eof if the parser still wants more. */
static void
feed(struct outcome *o, const struct reply *t, const char *raw, size_t n, const size_t *cuts,
    size_t ncuts, size_t step)
{
	struct http_response r;
	size_t pos = 0, used, k = 0;
	int res = HTTP_MORE;

	http_response_init(&r, t->no_body, NOW);
	o->used = 0;
	while (pos < n && res == HTTP_MORE) {
		size_t end = n;

		if (step)
			end = pos + step < n ? pos + step : n;
		else if (cuts != NULL && k < ncuts)
			end = cuts[k++];
		res = http_response_feed(&r, (const unsigned char *)raw + pos, end - pos, &used);
		if (used > end - pos)
			res = 99;
		o->used += used;
		pos = end;
	}
	o->done_before_eof = res == HTTP_DONE;
	if (res == HTTP_MORE)
		res = http_response_eof(&r);
	/* the result sticks */
	if (res == HTTP_DONE || res == HTTP_ERROR) {
		size_t u2 = 1;

		if (http_response_feed(&r, (const unsigned char *)"x", 1, &u2) != res || u2 != 0)
			res = 98;
	}
	o->res = res;
	o->status = r.status;
	o->body = r.body_bytes;
	o->error = r.error;
	memcpy(o->location, r.location, sizeof o->location);
	o->retry_after = r.retry_after;
}

static int
same(const struct outcome *a, const struct outcome *b)
{
	return a->res == b->res && a->status == b->status && a->body == b->body &&
	    a->used == b->used && a->retry_after == b->retry_after &&
	    a->done_before_eof == b->done_before_eof &&
	    strcmp(a->location, b->location) == 0 &&
	    (a->error == b->error || (a->error && b->error && strcmp(a->error, b->error) == 0));
}

static void
check_reply(const struct reply *t, const char *raw, size_t n, size_t stride)
{
	static struct outcome whole, piece;
	size_t want_used = t->used ? t->used : n;

	feed(&whole, t, raw, n, NULL, 0, 0);
	CHECKF(whole.res == t->want, "%s: result %d, want %d (error %s)", t->name, whole.res,
	    t->want, whole.error ? whole.error : "-");
	if (t->want == HTTP_DONE) {
		CHECKF(whole.status == t->status, "%s: status %d, want %d", t->name, whole.status,
		    t->status);
		CHECKF(whole.body == t->body, "%s: body %llu, want %llu", t->name,
		    (unsigned long long)whole.body, (unsigned long long)t->body);
		CHECKF(whole.used == want_used, "%s: used %zu, want %zu", t->name, whole.used,
		    want_used);
		CHECKF(whole.done_before_eof == !t->need_eof, "%s: DONE %s eof", t->name,
		    whole.done_before_eof ? "before" : "only after");
		if (t->location)
			CHECK_STR(whole.location, t->location, t->name);
		CHECKF(whole.retry_after == t->retry_after, "%s: retry_after %lld, want %lld",
		    t->name, (long long)whole.retry_after, (long long)t->retry_after);
	} else {
		CHECKF(whole.error != NULL && strstr(whole.error, t->error) != NULL,
		    "%s: error \"%s\", want \"%s\"", t->name, whole.error ? whole.error : "(null)",
		    t->error);
	}

	feed(&piece, t, raw, n, NULL, 0, 1);
	CHECKF(same(&whole, &piece), "%s: byte at a time differs (res %d error %s)", t->name,
	    piece.res, piece.error ? piece.error : "-");
	for (size_t cut = 1; cut < n; cut += (cut < 64 || cut + 64 > n) ? 1 : stride) {
		feed(&piece, t, raw, n, &cut, 1, 0);
		CHECKF(same(&whole, &piece), "%s: split at %zu differs (res %d error %s)", t->name,
		    cut, piece.res, piece.error ? piece.error : "-");
	}
}

static void
test_replies(void)
{
	for (size_t i = 0; i < sizeof replies / sizeof replies[0]; i++)
		check_reply(&replies[i], replies[i].raw, strlen(replies[i].raw), 1);
}

/* A header block of exactly `total` bytes: status line, one filler header, CRLF. */
static size_t
big_block(char *out, size_t total, const char *tail)
{
	const char *head = "HTTP/1.1 200 OK\r\nX-Fill: ";
	size_t hl = strlen(head), fill = total - hl - 4;

	memcpy(out, head, hl);
	memset(out + hl, 'a', fill);
	memcpy(out + hl + fill, "\r\n\r\n", 4);
	strcpy(out + total, tail);
	return total + strlen(tail);
}

static void
test_header_limit(void)
{
	static char raw[HTTP_HEADER_MAX + 64];
	struct reply ok = { "header block of exactly 16 KiB", NULL, 0, HTTP_DONE, 1, 200, 3, 0,
		NULL, "", -1 };
	struct reply over = { "header block over 16 KiB", NULL, 0, HTTP_ERROR, 0, 0, 0, 0,
		"header block over 16 KiB", NULL, -1 };
	size_t n;

	n = big_block(raw, HTTP_HEADER_MAX, "abc");
	check_reply(&ok, raw, n, 61);
	n = big_block(raw, HTTP_HEADER_MAX + 1, "abc");
	check_reply(&over, raw, n, 61);
}

static void
test_header_limit_with_1xx(void)
{
	/* 1xx count toward the same limit */
	static char raw[HTTP_HEADER_MAX + 64];
	const char *interim = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t il = strlen(interim);
	struct reply over = { "1xx + block over 16 KiB", NULL, 0, HTTP_ERROR, 0, 0, 0, 0,
		"header block over 16 KiB", NULL, -1 };
	size_t n;

	memcpy(raw, interim, il);
	n = big_block(raw + il, HTTP_HEADER_MAX - il + 1, "");
	check_reply(&over, raw, il + n, 97);
}

static void
test_trailer_limit(void)
{
	static char raw[2 * HTTP_HEADER_MAX];
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ";
	size_t hl = strlen(head), fill = HTTP_HEADER_MAX;
	struct reply over = { "trailers over 16 KiB", NULL, 0, HTTP_ERROR, 0, 0, 0, 0,
		"trailers over 16 KiB", NULL, -1 };

	memcpy(raw, head, hl);
	memset(raw + hl, 'b', fill);
	memcpy(raw + hl + fill, "\r\n\r\n", 5);
	check_reply(&over, raw, strlen(raw), 97);
}

static void
test_long_location(void)
{
	static char raw[8192];
	struct reply ok200 = { "200 with long Location", NULL, 0, HTTP_DONE, 0, 200, 0, 0, NULL,
		"", -1 };
	struct reply bad302 = { "302 with long Location", NULL, 0, HTTP_ERROR, 0, 0, 0, 0,
		"Location header too long", NULL, -1 };
	struct reply ok302 = { "302 with longest Location", NULL, 0, HTTP_DONE, 0, 302, 0, 0,
		NULL, NULL, -1 };
	char *p;

	strcpy(raw, "HTTP/1.1 200 OK\r\nLocation: /");
	p = raw + strlen(raw);
	memset(p, 'x', 3000);
	strcpy(p + 3000, "\r\nContent-Length: 0\r\n\r\n");
	check_reply(&ok200, raw, strlen(raw), 37);
	memcpy(raw + 9, "302", 3);
	check_reply(&bad302, raw, strlen(raw), 37);

	strcpy(raw, "HTTP/1.1 302 OK\r\nLocation: /");
	p = raw + strlen(raw);
	memset(p, 'y', URL_PATH_MAX - 1);
	strcpy(p + URL_PATH_MAX - 1, "\r\nContent-Length: 0\r\n\r\n");
	check_reply(&ok302, raw, strlen(raw), 37);
	{
		struct outcome o;

		feed(&o, &ok302, raw, strlen(raw), NULL, 0, 0);
		CHECK(strlen(o.location) == URL_PATH_MAX && o.location[0] == '/' &&
		    o.location[URL_PATH_MAX - 1] == 'y');
	}
}

struct ra {
	const char *name;
	const char *value;
	int rc;
	int64_t secs;
};

static void
test_retry_after(void)
{
	/* NOW = Wed, 03 Mar 2021 11:13:55 GMT */
	static const struct ra rows[] = {
		{ "seconds", "120", 0, 120 },
		{ "zero", "0", 0, 0 },
		{ "seconds capped at 366 days", "99999999999999999999999999", 0, 366 * 86400LL },
		{ "IMF-fixdate", "Wed, 03 Mar 2021 11:14:55 GMT", 0, 60 },
		{ "IMF-fixdate next day", "Thu, 04 Mar 2021 11:13:55 GMT", 0, 86400 },
		{ "IMF-fixdate leap day", "Mon, 29 Feb 2021 00:00:00 GMT", -1, 0 },
		{ "IMF-fixdate leap year (capped)", "Thu, 29 Feb 2024 11:13:55 GMT", 0, 366 * 86400LL },
		{ "IMF-fixdate 2100 is not leap", "Mon, 29 Feb 2100 11:13:55 GMT", -1, 0 },
		{ "IMF-fixdate 2000 is leap", "Tue, 29 Feb 2000 11:13:55 GMT", 0, 0 },
		{ "IMF-fixdate in the past", "Sun, 06 Nov 1994 08:49:37 GMT", 0, 0 },
		{ "IMF-fixdate far future capped", "Fri, 31 Dec 9999 23:59:59 GMT", 0, 366 * 86400LL },
		{ "RFC 850", "Wednesday, 03-Mar-21 11:15:55 GMT", 0, 120 },
		{ "RFC 850 past century", "Sunday, 06-Nov-94 08:49:37 GMT", 0, 0 },
		{ "RFC 850 short day name", "Wed, 03-Mar-21 11:15:55 GMT", -1, 0 },
		{ "asctime", "Wed Mar  3 11:16:55 2021", 0, 180 },
		{ "asctime two-digit day", "Sat Mar 13 11:13:55 2021", 0, 10 * 86400LL },
		{ "asctime past", "Sun Nov  6 08:49:37 1994", 0, 0 },
		{ "garbage", "soon", -1, 0 },
		{ "empty", "", -1, 0 },
		{ "negative", "-5", -1, 0 },
		{ "plus sign", "+5", -1, 0 },
		{ "decimal", "1.5", -1, 0 },
		{ "spaces", " 5", -1, 0 },
		{ "trailing junk", "5s", -1, 0 },
		{ "IMF bad month", "Wed, 03 Mrz 2021 11:14:55 GMT", -1, 0 },
		{ "IMF bad hour", "Wed, 03 Mar 2021 24:14:55 GMT", -1, 0 },
		{ "IMF not GMT", "Wed, 03 Mar 2021 11:14:55 UTC", -1, 0 },
		{ "IMF day 32", "Wed, 32 Mar 2021 11:14:55 GMT", -1, 0 },
		{ "IMF day 00", "Wed, 00 Mar 2021 11:14:55 GMT", -1, 0 },
		{ "IMF bad day name", "Wex, 03 Mar 2021 11:14:55 GMT", -1, 0 },
	};

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t secs = -12345;
		int rc = http_retry_after(rows[i].value, NOW, &secs);

		CHECKF(rc == rows[i].rc, "%s: rc %d, want %d", rows[i].name, rc, rows[i].rc);
		if (rc == 0 && rows[i].rc == 0)
			CHECKF(secs == rows[i].secs, "%s: %lld s, want %lld", rows[i].name,
			    (long long)secs, (long long)rows[i].secs);
	}
}

static void
test_retry_after_rfc850_century(void)
{
	/* now in mid 2090: two-digit years map into [2041, 2140] */
	time_t now = (time_t)((int64_t)(2090 - 1970) * 31556952 + 180 * 86400);
	int64_t s = -1;

	CHECK(http_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now, &s) == 0 && s > 0);
	CHECK(http_retry_after("Sunday, 06-Nov-05 08:49:37 GMT", now, &s) == 0 && s > 0);
	CHECK(http_retry_after("Sunday, 06-Nov-41 08:49:37 GMT", now, &s) == 0 && s == 0);
	CHECK(http_retry_after("Sunday, 06-Nov-39 08:49:37 GMT", now, &s) == 0 && s > 0);
	CHECK(http_retry_after("Sunday, 06-Nov-89 08:49:37 GMT", now, &s) == 0 && s == 0);
}

static void
url_or_die(struct url *u, const char *s)
{
	char err[128];

	if (url_parse(u, s, err, sizeof err) != 0) {
		CHECKF(0, "url_parse(%s): %s", s, err);
		memset(u, 0, sizeof *u);
	}
}

/* RFC 9110's own example of an IMF-fixdate. */
#define WHEN ((time_t)784111777)
#define DATE "Date: Sun, 06 Nov 1994 08:49:37 GMT"

static void
test_date(void)
{
	static const struct {
		time_t t;
		const char *want;
	} rows[] = {
		{ 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
		{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
		{ 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
		{ 1795680000, "Thu, 26 Nov 2026 08:00:00 GMT" },
		{ 2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT" },
		{ 4102444799LL, "Thu, 31 Dec 2099 23:59:59 GMT" },
	};
	char mem[64];
	struct buf b;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int64_t back;

		buf_init(&b, mem, sizeof mem);
		http_date(&b, rows[i].t);
		CHECK_STR(mem, rows[i].want, "IMF-fixdate");
		/* What anontel writes, its own Retry-After parser reads back. */
		CHECKF(http_retry_after(mem, 0, &back) == 0, "%s: not read back", mem);
	}
}

static void
test_post(void)
{
	static const struct {
		const char *name, *url;
		const char *extra[2];
		size_t n_extra;
		const char *want;
	} rows[] = {
		{ "default port", "https://Telemetry.Example.com/api/x?y=1#frag", { NULL, NULL }, 0,
		    "POST /api/x?y=1 HTTP/1.1\r\nHost: telemetry.example.com\r\n"
		    "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}" },
		{ "explicit default port", "https://t.example:443", { NULL, NULL }, 0,
		    "POST / HTTP/1.1\r\nHost: t.example\r\n"
		    "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}" },
		{ "other port", "https://t.example:8443/p", { NULL, NULL }, 0,
		    "POST /p HTTP/1.1\r\nHost: t.example:8443\r\n"
		    "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}" },
		{ "http port 443 is not default", "http://localhost:443/p", { NULL, NULL }, 0,
		    "POST /p HTTP/1.1\r\nHost: localhost:443\r\n"
		    "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nConnection: close\r\n\r\n{\"a\":1}" },
		{ "ipv6 with port and extras", "http://[::1]:8080/c",
		    { "X-Api-Key: k", "Accept: */*" }, 2,
		    "POST /c HTTP/1.1\r\nHost: [::1]:8080\r\n"
		    "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nContent-Type: application/json\r\n"
		    "Content-Length: 7\r\nConnection: close\r\nX-Api-Key: k\r\nAccept: */*\r\n\r\n{\"a\":1}" },
	};
	char mem[1024];
	struct buf b;
	struct url u;

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		url_or_die(&u, rows[i].url);
		buf_init(&b, mem, sizeof mem);
		CHECKF(http_post_head(&b, &u, rows[i].extra, rows[i].n_extra, 7, WHEN) == 0,
		    "%s: http_post_head failed", rows[i].name);
		buf_str(&b, "{\"a\":1}");
		CHECK_STR(mem, rows[i].want, rows[i].name);
	}

	/* overflow is reported */
	url_or_die(&u, "https://t.example/");
	buf_init(&b, mem, 40);
	CHECK(http_post_head(&b, &u, NULL, 0, 2, WHEN) == -1);
	/* extras that would inject lines are refused */
	{
		static const char *const bad[] = { "X-A: a\r\nX-B: b", "X-A: a\n", "NoColon",
			": empty", "X A: b", "X-A: \x01" };

		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			buf_init(&b, mem, sizeof mem);
			CHECKF(http_post_head(&b, &u, &bad[i], 1, 2, WHEN) == -1, "extra %zu accepted", i);
			buf_init(&b, mem, sizeof mem);
			CHECKF(http_get(&b, &u, &bad[i], 1, WHEN) == -1, "GET extra %zu accepted", i);
		}
	}
}

static void
test_get(void)
{
	const char *extra[] = { "Accept: application/json" };
	char mem[512];
	struct buf b;
	struct url u;

	url_or_die(&u, "http://127.0.0.1:8080/healthz?full=1");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_get(&b, &u, extra, 1, WHEN) == 0);
	CHECK_STR(mem, "GET /healthz?full=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
		       "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\nConnection: close\r\n"
		       "Accept: application/json\r\n\r\n", "get");
}

static void
test_connect(void)
{
	char mem[1024];
	struct buf b;
	struct url dest, proxy;

	url_or_die(&dest, "https://telemetry.example.com/api");
	url_or_die(&proxy, "http://proxy.example:3128");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_connect(&b, &dest, &proxy, WHEN) == 0);
	CHECK_STR(mem, "CONNECT telemetry.example.com:443 HTTP/1.1\r\n"
		       "Host: telemetry.example.com:443\r\n"
		       "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\n\r\n", "no credentials");

	url_or_die(&proxy, "http://user:pass@proxy.example:3128");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_connect(&b, &dest, &proxy, WHEN) == 0);
	CHECK_STR(mem, "CONNECT telemetry.example.com:443 HTTP/1.1\r\n"
		       "Host: telemetry.example.com:443\r\n"
		       "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n"
		       "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\n\r\n", "user:pass");

	url_or_die(&dest, "https://[2001:DB8::1]:8443/");
	url_or_die(&proxy, "http://us%40er:p%3Ass@[::1]:3128");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_connect(&b, &dest, &proxy, WHEN) == 0);
	/* base64("us@er:p:ss") */
	CHECK_STR(mem, "CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n"
		       "Host: [2001:db8::1]:8443\r\n"
		       "Proxy-Authorization: Basic dXNAZXI6cDpzcw==\r\n"
		       "User-Agent: anontel/" ANONTEL_VERSION "\r\n" DATE "\r\n\r\n", "ipv6, encoded");

	/* user with no password, padding with one '=' */
	url_or_die(&proxy, "http://ab@proxy.example:3128");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_connect(&b, &dest, &proxy, WHEN) == 0);
	CHECK(strstr(mem, "Proxy-Authorization: Basic YWI6\r\n") != NULL);

	/* a ':' in the user name cannot be sent */
	url_or_die(&proxy, "http://a%3Ab:c@proxy.example:3128");
	buf_init(&b, mem, sizeof mem);
	CHECK(http_connect(&b, &dest, &proxy, WHEN) == -1);

	/* longest credentials fit the base64 writer */
	{
		static char s[1200];
		char big[2048];

		strcpy(s, "http://");
		memset(s + 7, 'u', URL_USER_MAX);
		s[7 + URL_USER_MAX] = ':';
		memset(s + 8 + URL_USER_MAX, 'p', URL_USER_MAX);
		strcpy(s + 8 + 2 * URL_USER_MAX, "@p.example:1");
		url_or_die(&proxy, s);
		buf_init(&b, big, sizeof big);
		CHECK(http_connect(&b, &dest, &proxy, WHEN) == 0);
		CHECK(strstr(big, "Basic dXV1") != NULL);
		buf_init(&b, mem, 100);
		CHECK(http_connect(&b, &dest, &proxy, WHEN) == -1);
	}
}

static const struct check_case cases[] = {
	{ "replies", test_replies },
	{ "header_limit", test_header_limit },
	{ "header_limit_with_1xx", test_header_limit_with_1xx },
	{ "trailer_limit", test_trailer_limit },
	{ "long_location", test_long_location },
	{ "retry_after", test_retry_after },
	{ "retry_after_rfc850_century", test_retry_after_rfc850_century },
	{ "date", test_date },
	{ "post", test_post },
	{ "get", test_get },
	{ "connect", test_connect },
};

CHECK_MAIN(cases)
