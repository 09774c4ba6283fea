/*
 * client: one HTTP exchange with a server, as a whole: proxy choice, connect,
 * proxy CONNECT, TLS, request, strict response reading and redirects, all under
 * one deadline. `report` and `check` both go through client_exchange, so there is
 * one path for HTTPS and plain loopback HTTP.
 */
#ifndef ANONTEL_CLIENT_H
#define ANONTEL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tls.h"

#define CLIENT_MAX_REDIRECTS 3

struct client_request {
	const char *url;                 /* http(s) URL; http only to loopback unless allow_http */
	int allow_http;                  /* check: a health probe may use plain http anywhere */
	int same_host;                   /* check: follow redirects only to the same host */
	int get;                         /* 1: GET (check), 0: POST of body */
	const char *body;
	size_t body_len;
	const char *const *headers;      /* extra "Name: value" lines */
	size_t n_headers;
	/* The trust for https, asked for once, before the first TLS connection (so a
	 * plain-http exchange never reads a CA file): fills *trust and *when (the time
	 * certificates are checked at), or returns -1 with a reason in err. */
	int (*get_trust)(void *ctx, const struct tls_trust **trust, time_t *when, char *err,
	    size_t errlen);
	void *trust_ctx;
	const char *config_proxy;        /* the config's proxy URL, or "" */
	int64_t deadline_ms;             /* net_now_ms() based */
	void (*log)(void *ctx, const char *line);   /* -v progress, never secrets; may be NULL */
	void *log_ctx;
};

struct client_result {
	int status;                      /* final HTTP status, 0 when none arrived */
	int64_t retry_after;             /* seconds, -1 when absent */
	char other_host[254];            /* same_host: the host of a redirect not followed
	                                  * (status is then that 3xx), else "" */
	char error[512];                 /* one line when client_exchange returned -1 */
};

/*
 * Performs the exchange. Follows 301, 302, 307 and 308 (same method, body and
 * headers) up to CLIENT_MAX_REDIRECTS times, never from https to http. With
 * same_host, a redirect to another host is not followed: the 3xx is the final
 * response and other_host names the target, so no header of the request ever
 * reaches a host the caller did not name. Returns 0 when a final response
 * arrived (any status: the caller judges it), or -1 with res->error.
 */
int client_exchange(const struct client_request *rq, struct client_result *res);

#endif
