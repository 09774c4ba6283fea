/*
 * fuzz_http: the response reader (http_response_feed / http_response_eof).
 *
 * The input is the bytes a server sends. Each is read four ways, for a POST and
 * for a CONNECT (no_body): whole; in two pieces split at a point derived from the
 * data; in pieces of data-derived sizes; one byte at a time. Then, when the reader
 * still wants more, the peer "closes" (http_response_eof).
 * Invariants: all ways agree on the result, on where in the stream the response
 * ended (the sum of *used), on status, Location, Retry-After, body bytes and the
 * error text; a finished reader answers the same again with *used = 0; a final
 * response has a status 200..999 (1xx are skipped, 101 refused); Retry-After is
 * -1 or 0..366 days; no body is counted for CONNECT, 204 or 304; Location is
 * NUL-terminated within URL_PATH_MAX; an error always has a text.
 */
#include "fuzz_util.h"

#include "http.h"

#define NOW ((time_t)1700000000)   /* 2023-11-14 */

struct outcome {
	enum http_result res;      /* of the last feed, or of eof */
	int eof_used;              /* the result came from http_response_eof */
	size_t consumed;           /* sum of *used */
	int status;
	int64_t retry_after;
	uint64_t body_bytes;
	const char *error;
	char location[URL_PATH_MAX + 1];
};

static struct http_response r;

static uint64_t
hash(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* Feeds p[n] in pieces: sizes[] cycled (0 = one byte at a time is sizes = {1}). */
static void
run(struct outcome *o, const uint8_t *p, size_t n, int no_body, const size_t *sizes,
    size_t nsizes)
{
	size_t i = 0, k = 0;
	enum http_result res = HTTP_MORE;

	memset(o, 0, sizeof *o);
	http_response_init(&r, no_body, NOW);
	while (i < n) {
		size_t piece = sizes[k++ % nsizes], used = (size_t)-1;

		if (piece > n - i)
			piece = n - i;
		res = http_response_feed(&r, p + i, piece, &used);
		FUZZ_CHECK(used <= piece, "used %zu of a %zu-byte piece", used, piece);
		FUZZ_CHECK(res == HTTP_MORE || res == HTTP_DONE || res == HTTP_ERROR, "result %d", res);
		if (res == HTTP_MORE)
			FUZZ_CHECK(used == piece, "MORE but used %zu of %zu", used, piece);
		o->consumed += used;
		i += piece;
		if (res != HTTP_MORE)
			break;
	}
	if (res == HTTP_MORE) {
		res = http_response_eof(&r);
		o->eof_used = 1;
		FUZZ_CHECK(res == HTTP_DONE || res == HTTP_ERROR, "eof returned %d", res);
	}
	o->res = res;
	o->status = r.status;
	o->retry_after = r.retry_after;
	o->body_bytes = r.body_bytes;
	o->error = res == HTTP_ERROR ? r.error : NULL;
	FUZZ_CHECK(memchr(r.location, '\0', sizeof r.location) != NULL, "Location not terminated");
	memcpy(o->location, r.location, sizeof o->location);

	/* a finished reader stays finished */
	{
		static const unsigned char more[4] = "\r\n\r\n";
		size_t used = 99;
		enum http_result again = http_response_feed(&r, more, sizeof more, &used);

		FUZZ_CHECK(again == res && used == 0, "after %d, feed returns %d with used %zu", res,
		    again, used);
		FUZZ_CHECK(http_response_eof(&r) == res, "after %d, eof changes the result", res);
	}

	if (res == HTTP_ERROR) {
		FUZZ_CHECK(o->error != NULL && o->error[0] != '\0', "error without a text");
		return;
	}
	FUZZ_CHECK(o->status >= 200 && o->status <= 999, "final status %d", o->status);
	FUZZ_CHECK(o->retry_after >= -1 && o->retry_after <= 366 * 86400LL, "Retry-After %lld",
	    (long long)o->retry_after);
	FUZZ_CHECK(o->body_bytes <= o->consumed, "%llu body bytes in %zu",
	    (unsigned long long)o->body_bytes, o->consumed);
	if (no_body || o->status == 204 || o->status == 304)
		FUZZ_CHECK(o->body_bytes == 0, "a body counted for %s %d", no_body ? "CONNECT" : "status",
		    o->status);
}

static void
same(const struct outcome *a, const struct outcome *b, const char *how, int no_body)
{
	FUZZ_CHECK(a->res == b->res && a->eof_used == b->eof_used && a->consumed == b->consumed,
	    "%s (no_body %d): result %d/%d, eof %d/%d, consumed %zu/%zu (error %s / %s)", how,
	    no_body, a->res, b->res, a->eof_used, b->eof_used, a->consumed, b->consumed,
	    a->error ? a->error : "-", b->error ? b->error : "-");
	if (a->res == HTTP_ERROR) {
		FUZZ_CHECK(strcmp(a->error, b->error) == 0, "%s: error \"%s\" vs \"%s\"", how, a->error,
		    b->error);
		return;
	}
	FUZZ_CHECK(a->status == b->status && a->retry_after == b->retry_after &&
	    a->body_bytes == b->body_bytes && strcmp(a->location, b->location) == 0,
	    "%s (no_body %d): status %d/%d, retry %lld/%lld, body %llu/%llu", how, no_body,
	    a->status, b->status, (long long)a->retry_after, (long long)b->retry_after,
	    (unsigned long long)a->body_bytes, (unsigned long long)b->body_bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, two, pieces, bytes;
	uint64_t h = hash(data, size);
	size_t all[1] = { size > 0 ? size : 1 };
	size_t split[2] = { size > 0 ? (size_t)(h % (size + 1)) : 1, size > 0 ? size : 1 };
	size_t varied[4] = { 1 + (h >> 8) % 7, 1 + (h >> 16) % 61, 1 + (h >> 24) % 3,
		1 + (h >> 32) % 509 };
	size_t one[1] = { 1 };

	if (split[0] == 0)
		split[0] = 1;
	for (int no_body = 0; no_body <= 1; no_body++) {
		run(&whole, data, size, no_body, all, 1);
		run(&two, data, size, no_body, split, 2);
		run(&pieces, data, size, no_body, varied, 4);
		run(&bytes, data, size, no_body, one, 1);
		same(&whole, &two, "two pieces", no_body);
		same(&whole, &pieces, "varied pieces", no_body);
		same(&whole, &bytes, "byte by byte", no_body);
	}
	return 0;
}
