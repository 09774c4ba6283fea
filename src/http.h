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
	int64_t retry_after;               /* seconds from now, -1 if absent or unparsable */
	const char *error;                 /* static text when HTTP_ERROR was returned */
	uint64_t body_bytes;               /* body bytes received (counted, not kept) */
	/* framing and parser state: private */
	time_t now;                        /* for Retry-After as an HTTP-date */
	int head_request;                  /* response to HEAD or CONNECT: no body */
	int state;
	int interim;                       /* the response being read is a 1xx */
	int cr;                            /* the previous header byte was CR */
	size_t header_bytes;               /* of all status lines and headers so far
	                                      (1xx included); of the trailers later */
	int64_t content_length;            /* -1 if absent */
	int te_seen;                       /* a Transfer-Encoding header came */
	int chunked;                       /* ... and its last coding is chunked */
	int chunked_count;                 /* times "chunked" was listed */
	int location_count;                /* Location headers seen */
	int location_bad;                  /* 1: a Location too long to keep, 2: two differ */
	int cs;                            /* chunk-size line sub-state */
	uint64_t remaining;                /* body or chunk bytes still expected */
	size_t cs_len;                     /* chunk-size line length so far */
	size_t line_len;                   /* bytes of line kept */
	size_t line_total;                 /* full length of the current line */
	/* the buffers come last, so that code reaches the fields above with short
	 * (one-byte) offsets */
	char location[URL_PATH_MAX + 1];   /* result: the Location header, "" if none */
	char line[URL_PATH_MAX + 128];     /* private: the start of the header line being read */
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
 * 1xx responses are skipped (101 is an error: we never ask to upgrade); the 16 KiB
 * limit covers all status lines and headers read, 1xx included, and separately
 * the trailers of a chunked body. For CONNECT (no_body), DONE comes right after
 * the header block of the final response, and its framing headers are not
 * interpreted (RFC 9110 9.3.6). A 3xx whose Location is too long to keep or
 * given twice with different values is an error.
 * Strict: the status line needs the SP after the code ("HTTP/1.1 200 \r\n" is
 * fine, "HTTP/1.1 200\r\n" is not); bare CR or LF, obs-fold, control characters,
 * "name :" are refused; Transfer-Encoding must end in a single "chunked".
 * On DONE or ERROR, *used is the number of bytes examined; later calls return
 * the same result with *used = 0.
 */
enum http_result http_response_feed(struct http_response *r, const unsigned char *p, size_t n,
    size_t *used);

/* The peer closed the connection: HTTP_DONE if the body was close-delimited and
 * the headers were complete, else HTTP_ERROR ("truncated response"). */
enum http_result http_response_eof(struct http_response *r);

/* 1 while the body of the final response is being read: its status line and
 * header block are complete (r->status is final), the body is not. */
int http_response_in_body(const struct http_response *r);

/*
 * Parses a Retry-After value: delta-seconds, or an IMF-fixdate HTTP-date (also the
 * obsolete RFC 850 and asctime forms) relative to now (negative results become 0).
 * Exact syntax: no surrounding spaces, no sign. Results are capped at 366 days.
 * A two-digit RFC 850 year more than 50 years ahead of now is in the past
 * century (RFC 9110 5.6.7). Returns 0 with *secs, or -1.
 */
int http_retry_after(const char *value, time_t now, int64_t *secs);

/* Appends now as an IMF-fixdate (RFC 9110 5.6.7), "Sun, 06 Nov 1994 08:49:37 GMT". */
void http_date(struct buf *b, time_t now);

/*
 * Writes the head of a POST request for u: request line, Host (with port when not
 * default), User-Agent: anontel/<version>, Date: now (http_date), Content-Type:
 * application/json, Content-Length: body_len, Connection: close, the extra header
 * lines (each "Name: value", may be NULL) and the blank line. The body is sent
 * after it from the caller's buffer, never copied. Returns 0, or -1 if b
 * overflowed or an extra line is not HTTP_HEADER_OK.
 */
int http_post_head(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    size_t body_len, time_t now);

/* Writes a CONNECT request for host:port (always with the port; IPv6 in
 * brackets), Host: the same, Proxy-Authorization: Basic from the proxy URL's
 * user/pass when either is set, User-Agent and Date. Returns 0, or -1 on overflow
 * or a user name containing ':' (RFC 7617 cannot carry it). */
int http_connect(struct buf *b, const struct url *dest, const struct url *proxy, time_t now);

enum http_header_verdict {
	HTTP_HEADER_OK,
	HTTP_HEADER_INVALID,      /* not "Name: value" with a token name and no control
	                           * character but HTAB in the value (header injection) */
	HTTP_HEADER_RESERVED      /* Host, User-Agent, Date, Content-Type, Content-Length,
	                           * Connection (any case): anontel writes them; or
	                           * Transfer-Encoding, Upgrade, TE, Trailer: they would
	                           * change the framing */
};

/* Judges an extra header line "Name: value" (check -H, the config's headers) by
 * RFC 9110's rules; for HTTP_HEADER_RESERVED *reserved (may be NULL) gets the
 * header's name as RFC 9110 spells it. */
enum http_header_verdict http_header_check(const char *line, const char **reserved);

/* Writes a GET request for u: Host, User-Agent, Date, Connection: close and the
 * extra header lines (check). Returns 0, or -1 as http_post_head. */
int http_get(struct buf *b, const struct url *u, const char *const *extra, size_t n_extra,
    time_t now);

#endif
