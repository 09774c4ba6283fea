/*
 * http: HTTP/1.1 request writing and strict response reading.
 *
 * The response reader is a push parser: bytes go in as they arrive (from TLS or a
 * plain socket, in any split), it never allocates and never buffers more than the
 * header limit. It keeps only what the client needs: the status, framing, the
 * Location and Retry-After headers; body bytes are counted, not kept.
 */
#ifndef ANONTEL_HTTP_H
#define ANONTEL_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "url.h"

#define HTTP_HEADER_MAX (16 * 1024)   /* a status line + header block larger than this is refused */

enum http_result { HTTP_MORE = 0, HTTP_DONE = 1, HTTP_ERROR = -1 };

struct http_response {
	/* results */
	int status;                        /* 100..999 of the final (non-1xx) response */
	char location[URL_PATH_MAX + 1];   /* Location header, "" if none */
	int64_t retry_after;               /* seconds from now, -1 if absent or unparsable */
	const char *error;                 /* static text when HTTP_ERROR was returned */
	/* framing and parser state: private */
	int head_request;                  /* response to HEAD or CONNECT: no body */
	int state;
	size_t header_bytes;
	int64_t content_length;            /* -1 if absent */
	int chunked;
	uint64_t remaining;                /* body or chunk bytes still expected */
	char line[1024];                   /* the header line being read */
	size_t line_len;
	size_t line_total;                 /* full length of the current line */
};

/* Prepares r for one response. no_body: the request was HEAD or CONNECT. now is
 * the current time (for Retry-After given as an HTTP-date). */
void http_response_init(struct http_response *r, int no_body, time_t now);

/*
 * Feeds n received bytes. Returns HTTP_MORE (need more), HTTP_DONE (a complete
 * final response; *used tells how many bytes of p belonged to it), or HTTP_ERROR
 * with r->error set ("status line is not HTTP/1.x NNN", "header block over 16 KiB",
 * "conflicting Content-Length", "Content-Length with Transfer-Encoding",
 * "bad chunk size", "bare CR", "obsolete line folding", ...).
 * 1xx responses are skipped. For CONNECT (no_body), DONE comes right after the
 * header block of the final response.
 */
enum http_result http_response_feed(struct http_response *r, const unsigned char *p, size_t n,
    size_t *used);

/* The peer closed the connection: HTTP_DONE if the body was close-delimited and
 * the headers were complete, else HTTP_ERROR ("truncated response"). */
enum http_result http_response_eof(struct http_response *r);

/*
 * Parses a Retry-After value: delta-seconds, or an IMF-fixdate HTTP-date (also the
 * obsolete RFC 850 and asctime forms) relative to now (negative results become 0).
 * Returns 0 with *secs, or -1.
 */
int http_retry_after(const char *value, time_t now, int64_t *secs);

/*
 * Writes a POST request for u: request line, Host (with port when not default),
 * User-Agent: anontel/<version>, Content-Type: application/json, Content-Length,
 * Connection: close, the extra header lines (each "Name: value", may be NULL),
 * the blank line and the body. Returns 0, or -1 if b overflowed.
 */
int http_post(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    const char *body, size_t body_len);

/* Writes a CONNECT request for host:port, with Proxy-Authorization: Basic from the
 * proxy URL's user/pass when present. Returns 0 or -1 on overflow. */
int http_connect(struct buf *b, const struct url *dest, const struct url *proxy);

/* Writes a GET request for u with Connection: close and extra header lines (check). */
int http_get(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra);

#endif
