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
#include "url.h"

#define CLIENT_MAX_REDIRECTS 3

/* What https is checked against, loaded when the first TLS connection needs it
 * (so a plain-http exchange reads no CA file) and kept for the run. */
struct client_trust {
	/* in */
	int insecure;                    /* check -k: any chain, the server's key as sent */
	const char *pin;                 /* tls.pin, or "" */
	const char *ca_file;             /* the CA file in force, or "" for the built-in roots */
	struct tls_store *store;         /* the caller's room for the CA file's anchors */
	/* out */
	int loaded;                      /* 0 not yet, 1 loaded, -1 refused (error says why:
	                                  * a pin or CA file that is wrong, a config error) */
	int clock_behind;                /* the clock is before the build date: certificates
	                                  * are checked as of the build date */
	struct tls_trust trust;
	time_t when;                     /* the time certificates are checked at */
	char error[512];
};

/* Where requests go, resolved once per run: the URL parsed, the proxy settings the
 * run found, and the trust. */
struct client_dest {
	struct url url;
	struct url_env env;              /* the proxy variables (url_proxy_for) */
	const char *config_proxy;        /* the config's proxy URL, or "" */
	struct client_trust trust;
};

/*
 * Parses url into d->url for a run; plain http:// only to loopback unless
 * allow_http (a health probe may use it anywhere). env and config_proxy are kept
 * by value and pointer; the trust fields are cleared (the caller sets them).
 * Returns 0, or -1 with a one-line reason that never repeats the URL's userinfo.
 */
int client_dest_init(struct client_dest *d, const char *url, int allow_http,
    const struct url_env *env, const char *config_proxy, char *err, size_t errlen);

struct client_request {
	struct client_dest *dest;        /* the URL, proxy and trust (loaded at first use) */
	int allow_http;                  /* check: a health probe may use plain http anywhere */
	int same_host;                   /* check: follow redirects only to the same host */
	int get;                         /* 1: GET (check), 0: POST of body */
	const char *body;                /* sent after the head, from here (not copied) */
	size_t body_len;
	const char *const *headers;      /* extra "Name: value" lines */
	size_t n_headers;
	size_t n_origin_headers;         /* the last n of headers (the config's: a receiver's
	                                  * token) go only to dest's own origin (scheme,
	                                  * host, port): a redirect elsewhere drops them,
	                                  * as curl drops Authorization */
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
 * Performs the exchange. Each request carries a Date header (the clock as it is).
 * Follows 301, 302, 307 and 308 (same method, body and headers, but for the
 * origin-bound ones off dest's origin) up to CLIENT_MAX_REDIRECTS times, never
 * from https to http. With
 * same_host, a redirect to another host is not followed: the 3xx is the final
 * response and other_host names the target, so no header of the request ever
 * reaches a host the caller did not name. Returns 0 when a final response
 * arrived (any status: the caller judges it), or -1 with res->error (when the
 * trust was refused, rq->dest->trust.loaded is -1).
 */
int client_exchange(const struct client_request *rq, struct client_result *res);

/* Loads t if not loaded yet (client_exchange does at the first https hop; a
 * probe calls it before its sandbox). Returns 0, or -1 with t->error. */
int client_trust_load(struct client_trust *t);

#endif
