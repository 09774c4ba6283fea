#include "client.h"

#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "net.h"
#include "url.h"

#define HEAD_MAX 16384      /* a request's head; the body is sent from the caller's buffer */

/* One connection: a socket, and a TLS session over it when the URL is https. */
struct conn {
	int fd;
	struct tls_conn *tls;            /* NULL for plain http */
	int64_t deadline_ms;
};

static struct tls_conn tls_session;
static char head[HEAD_MAX];

static int
failf(struct client_result *res, const char *a, const char *b, const char *c)
{
	buf_join(res->error, sizeof res->error, a, b, c);
	return -1;
}

static void
logf3(const struct client_request *rq, const char *a, const char *b, const char *c)
{
	char line[URL_PATH_MAX + 512];

	if (rq->log == NULL)
		return;
	buf_join(line, sizeof line, a, b, c);
	rq->log(rq->log_ctx, line);
}

static int
conn_write(struct conn *c, const void *p, size_t n, char *err, size_t errlen)
{
	if (c->tls != NULL)
		return tls_write(c->tls, p, n, err, errlen);
	return net_write_all(c->fd, p, n, c->deadline_ms, err, errlen);
}

static ssize_t
conn_read(struct conn *c, void *p, size_t n, char *err, size_t errlen)
{
	if (c->tls != NULL)
		return tls_read(c->tls, p, n, err, errlen);
	return net_read(c->fd, p, n, c->deadline_ms, err, errlen);
}

/* Reads one response into r until it is complete. A 2xx whose body does not
 * finish (the deadline, a reset, a close too early) is still a complete answer:
 * the server took the request, and sending it again would only duplicate it.
 * Returns 0 or -1 with err. */
static int
read_response(struct conn *c, struct http_response *r, char *err, size_t errlen)
{
	unsigned char in[4096];

	for (;;) {
		ssize_t got = conn_read(c, in, sizeof in, err, errlen);
		enum http_result st;
		size_t used = 0;
		int accepted = http_response_in_body(r) && r->status >= 200 && r->status <= 299;

		if (got < 0)
			return accepted ? 0 : -1;
		if (got == 0 && accepted)
			return 0;
		st = got == 0 ? http_response_eof(r) : http_response_feed(r, in, (size_t)got, &used);
		if (st == HTTP_DONE)
			return 0;
		if (st == HTTP_ERROR) {
			buf_join(err, errlen, "bad HTTP response: ", r->error, NULL);
			return -1;
		}
	}
}

/* Opens the tunnel through an http proxy with CONNECT. */
static int
proxy_connect(struct conn *c, const struct url *dest,
    const struct url *proxy, struct client_result *res)
{
	struct http_response r;
	struct buf b;
	char err[256];
	char code[4];

	buf_init(&b, head, sizeof head);
	if (http_connect(&b, dest, proxy, time(NULL)) != 0)
		return failf(res, "proxy CONNECT request too long", NULL, NULL);
	if (net_write_all(c->fd, b.p, b.len, c->deadline_ms, err, sizeof err) != 0)
		return failf(res, "proxy: ", err, NULL);
	http_response_init(&r, 1, time(NULL));
	if (read_response(c, &r, err, sizeof err) != 0)
		return failf(res, "proxy: ", err, NULL);
	if (r.status < 200 || r.status > 299) {
		struct buf s;

		buf_init(&s, code, sizeof code);
		buf_uint(&s, (uint64_t)r.status, 3);
		return failf(res, "proxy refused the tunnel: HTTP ", code,
		    r.status == 407 ? " (proxy authentication required or wrong)" : "");
	}
	return 0;
}

int
client_trust_load(struct client_trust *t)
{
	int behind = 0;

	if (t->loaded != 0)
		return t->loaded > 0 ? 0 : -1;
	if (t->insecure) {
		tls_trust_insecure(&t->trust);
		t->loaded = 1;
	} else {
		t->loaded = tls_trust_choose(&t->trust, t->store, t->pin, t->ca_file, t->error,
		    sizeof t->error) == 0 ? 1 : -1;
	}
	t->when = tls_check_time(time(NULL), (time_t)ANONTEL_BUILD_EPOCH, &behind);
	t->clock_behind = behind && !t->insecure && !t->trust.pinned;
	return t->loaded > 0 ? 0 : -1;
}

/* The trust for the first https hop, loaded then. */
static int
need_trust(const struct client_request *rq, struct client_result *res)
{
	struct client_trust *t = &rq->dest->trust;

	if (t->loaded > 0)
		return 0;
	if (client_trust_load(t) != 0)
		return failf(res, t->error, NULL, NULL);
	if (!t->insecure && !t->trust.pinned && t->ca_file[0] != '\0')
		logf3(rq, "trusting the CA file ", t->ca_file, NULL);
	return 0;
}

static int
same_origin(const struct url *a, const struct url *b)
{
	return a->scheme == b->scheme && a->port == b->port && strcmp(a->host, b->host) == 0;
}

/* Sends the request's head, then its body from the caller's buffer. */
static int
send_request(const struct client_request *rq, struct conn *c, const struct url *dest,
    struct client_result *res)
{
	size_t n_headers = rq->n_headers;
	time_t now = time(NULL);
	char err[512];
	struct buf b;

	if (!same_origin(dest, &rq->dest->url)) {
		/* The last n_origin_headers are the origin's; a count past n_headers
		 * sends fewer headers, never the secrets. */
		n_headers -= rq->n_origin_headers < n_headers ? rq->n_origin_headers : n_headers;
		if (rq->n_origin_headers > 0)
			logf3(rq, "not sending the configured headers to another origin: ", dest->host,
			    NULL);
	}
	buf_init(&b, head, sizeof head);
	if (rq->get ? http_get(&b, dest, rq->headers, n_headers, now) :
	    http_post_head(&b, dest, rq->headers, n_headers, rq->body_len, now))
		return failf(res, "request headers larger than 16 KiB", NULL, NULL);
	if (conn_write(c, b.p, b.len, err, sizeof err) != 0 ||
	    (!rq->get && rq->body_len > 0 && conn_write(c, rq->body, rq->body_len, err,
	    sizeof err) != 0) || (c->tls != NULL && tls_flush(c->tls, err, sizeof err) != 0))
		return failf(res, "sending the request: ", err, NULL);
	return 0;
}

/* One request/response on a fresh connection to dest. */
static int
exchange_once(const struct client_request *rq, const struct url *dest, struct http_response *r,
    struct client_result *res)
{
	const struct client_dest *d = rq->dest;
	struct conn c = { -1, NULL, rq->deadline_ms };
	struct url proxy;
	const struct url *to;                /* what the socket connects to */
	const char *which = NULL;
	char err[512];
	int use_proxy = 0;
	int rc = -1;

	if (dest->scheme == URL_HTTPS) {
		if (need_trust(rq, res) != 0)
			return -1;
		use_proxy = url_proxy_for(dest, &d->env, d->config_proxy, &proxy, &which, err,
		    sizeof err);
		if (use_proxy < 0)
			return failf(res, err, NULL, NULL);
	}
	if (use_proxy)
		logf3(rq, "using proxy from ", which, NULL);
	else
		logf3(rq, "connecting to ", dest->host, NULL);
	to = use_proxy ? &proxy : dest;
	c.fd = net_connect(to->host, to->port, rq->deadline_ms, err, sizeof err);
	if (c.fd < 0)
		return failf(res, use_proxy ? "proxy: " : "", err, NULL);
	if (use_proxy && proxy_connect(&c, dest, &proxy, res) != 0)
		goto out;
	if (dest->scheme == URL_HTTPS) {
		if (tls_open(&tls_session, c.fd, dest->host, &d->trust.trust, d->trust.when,
		    rq->deadline_ms, err, sizeof err) != 0) {
			struct buf e;

			buf_init(&e, res->error, sizeof res->error);
			buf_str(&e, "TLS with ");
			buf_str(&e, dest->host);
			buf_str(&e, ": ");
			buf_str(&e, err);
			goto out;
		}
		c.tls = &tls_session;
		logf3(rq, "TLS 1.2 established with ", dest->host, NULL);
	}
	if (send_request(rq, &c, dest, res) != 0)
		goto out;
	http_response_init(r, 0, time(NULL));
	if (read_response(&c, r, err, sizeof err) != 0) {
		failf(res, err, NULL, NULL);
		goto out;
	}
	rc = 0;
out:
	if (c.tls != NULL)
		tls_close(c.tls);
	close(c.fd);
	return rc;
}

static int
is_redirect(int status)
{
	return status == 301 || status == 302 || status == 307 || status == 308;
}

/* Plain http:// only to loopback, unless the caller allows it anywhere. */
static int
http_allowed(const struct url *u, int allow_http)
{
	return u->scheme == URL_HTTPS || allow_http || url_is_loopback(u);
}

int
client_dest_init(struct client_dest *d, const char *url, int allow_http,
    const struct url_env *env, const char *config_proxy, char *err, size_t errlen)
{
	memset(d, 0, sizeof *d);
	d->env = *env;
	d->config_proxy = config_proxy != NULL ? config_proxy : "";
	if (url_parse(&d->url, url, err, errlen) != 0)
		return -1;
	if (!http_allowed(&d->url, allow_http)) {
		buf_join(err, errlen, "plain http:// is allowed only to loopback; use https:// for ",
		    d->url.host, NULL);
		return -1;
	}
	return 0;
}

int
client_exchange(const struct client_request *rq, struct client_result *res)
{
	static struct url dest, next;
	static struct http_response r;
	char err[512];

	memset(res, 0, sizeof *res);
	res->retry_after = -1;
	dest = rq->dest->url;
	for (int hops = 0;; hops++) {
		if (!http_allowed(&dest, rq->allow_http))
			return failf(res, "refusing plain http:// to a host that is not loopback: ",
			    dest.host, NULL);
		if (exchange_once(rq, &dest, &r, res) != 0)
			return -1;
		res->status = r.status;
		res->retry_after = r.retry_after;
		if (!is_redirect(r.status) || r.location[0] == '\0')
			return 0;
		if (hops == CLIENT_MAX_REDIRECTS)
			return failf(res, "too many redirects (more than 3)", NULL, NULL);
		if (url_resolve(&next, &dest, r.location, err, sizeof err) != 0)
			return failf(res, "bad redirect: ", err, NULL);
		if (dest.scheme == URL_HTTPS && next.scheme != URL_HTTPS)
			return failf(res, "refusing a redirect from https:// to http://", NULL, NULL);
		if (rq->same_host && strcmp(next.host, dest.host) != 0) {
			logf3(rq, "not following a redirect to another host: ", next.host, NULL);
			buf_join(res->other_host, sizeof res->other_host, next.host, NULL, NULL);
			return 0;
		}
		logf3(rq, "following redirect to ", next.host, next.path);
		dest = next;
	}
}
