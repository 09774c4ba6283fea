/*
 * net: name resolution and TCP under one deadline.
 *
 * Resolution. A localhost name is loopback (RFC 6761), and a literal address is
 * parsed on the caller's thread (inet_pton, else getaddrinfo's AI_NUMERICHOST):
 * no thread, no resolver, no file read. A name is resolved by
 * getaddrinfo on a detached helper thread while the caller waits on a condition
 * variable bound to CLOCK_MONOTONIC until the deadline. getaddrinfo cannot be
 * cancelled, so on timeout the helper is abandoned: it keeps running until the
 * resolver gives up on its own (or the process exits, which is what anontel does
 * next), then frees its own result. Everything the helper touches lives in the
 * static slot table below, never on the caller's stack, so a late helper cannot
 * write into freed memory. NET_RESOLVERS slots bound the lookups in flight;
 * when every slot holds an abandoned lookup, a new lookup waits for a slot and
 * times out like any other.
 *
 * No AI_ADDRCONFIG: glibc ignores loopback addresses when deciding which families
 * are "configured", so in a container or network namespace with only `lo` it
 * hides 127.0.0.1 and ::1 and "localhost" stops resolving. Without it an IPv6
 * address on an IPv4-only box costs one connect() that fails at once
 * (ENETUNREACH), and the next address is tried.
 *
 * Connecting follows RFC 8305's "connection attempt delay" without re-sorting:
 * addresses are tried in getaddrinfo's order (RFC 6724); an attempt that fails
 * starts the next one at once; an attempt still pending after
 * NET_ATTEMPT_DELAY_MS starts the next one *in parallel* (the pending one is kept,
 * not abandoned), and the first to connect wins. So a black-holed first address
 * costs 250 ms, not the whole deadline, and a slow but working one is not killed.
 */
#include "net.h"

#include "buf.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NET_RESOLVERS 4
#define NET_HOST_MAX 253             /* longest DNS name; longer is refused */
#define NET_MAX_ATTEMPTS 16          /* addresses tried per connect */
#define NET_ATTEMPT_DELAY_MS 250     /* RFC 8305 section 5 recommends 250 ms */
#define NET_RESOLVER_STACK (256 * 1024) /* musl's getaddrinfo needs < 16 KiB; glibc + NSS more */

int64_t
net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before the deadline, clamped to [0, INT_MAX] for poll(). */
static int
remaining_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - net_now_ms();

	if (left < 0)
		return 0;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* err is optional: NULL or errlen 0 means "no message wanted". */
static int
err_open(struct buf *b, char *err, size_t errlen)
{
	if (err == NULL || errlen == 0)
		return 0;
	buf_init(b, err, errlen);
	return 1;
}

/* "host" or "[v6]" followed by ":port". */
static void
buf_hostport(struct buf *b, const char *host, uint16_t port)
{
	int v6 = strchr(host, ':') != NULL;

	if (v6)
		buf_char(b, '[');
	buf_str(b, host);
	if (v6)
		buf_char(b, ']');
	buf_char(b, ':');
	buf_uint(b, port, 0);
}

static void
err_host(char *err, size_t errlen, const char *host, const char *what, const char *detail)
{
	struct buf b;

	if (!err_open(&b, err, errlen))
		return;
	buf_str(&b, host);
	buf_str(&b, ": ");
	buf_str(&b, what);
	if (detail != NULL) {
		buf_str(&b, ": ");
		buf_str(&b, detail);
	}
}

static void
err_plain(char *err, size_t errlen, const char *what, int e)
{
	struct buf b;

	if (!err_open(&b, err, errlen))
		return;
	buf_str(&b, what);
	if (e != 0) {
		buf_str(&b, ": ");
		buf_str(&b, strerror(e));
	}
}

/* ---- resolution ---------------------------------------------------------- */

struct resolver {
	int busy;      /* a helper thread owns this slot until it clears busy */
	int done;      /* the helper finished and the caller still waits */
	int abandoned; /* the caller gave up: the helper frees its own result */
	int rc;        /* getaddrinfo's result */
	int sys_errno; /* errno for EAI_SYSTEM */
	struct addrinfo *res;
	char host[NET_HOST_MAX + 1];
	char port[6];
};

static pthread_mutex_t rs_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rs_cv;
static clockid_t rs_clock = CLOCK_REALTIME; /* the clock rs_cv measures */
static pthread_once_t rs_once = PTHREAD_ONCE_INIT;
static struct resolver rs_slots[NET_RESOLVERS];

static void
rs_init(void)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) == 0) {
		if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0)
			rs_clock = CLOCK_MONOTONIC;
		if (pthread_cond_init(&rs_cv, &ca) == 0) {
			pthread_condattr_destroy(&ca);
			return;
		}
		pthread_condattr_destroy(&ca);
	}
	rs_clock = CLOCK_REALTIME;
	pthread_cond_init(&rs_cv, NULL);
}

/* Waits on rs_cv (rs_mu held) until signalled or the monotonic deadline passes.
 * Returns 0 when the deadline has passed. */
static int
rs_wait(int64_t deadline_ms)
{
	struct timespec ts;
	int64_t left = deadline_ms - net_now_ms();

	if (left <= 0)
		return 0;
	clock_gettime(rs_clock, &ts);
	ts.tv_sec += (time_t)(left / 1000);
	ts.tv_nsec += (long)(left % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&rs_cv, &rs_mu, &ts);
	return 1;
}

static void *
rs_thread(void *arg)
{
	struct resolver *r = arg;
	struct addrinfo hints, *res = NULL;
	int rc, e;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV;
	/* r->host and r->port were written before pthread_create and stay unchanged
	 * while busy is set, so they are read without the lock. */
	rc = getaddrinfo(r->host, r->port, &hints, &res);
	e = errno;
	pthread_mutex_lock(&rs_mu);
	if (r->abandoned) {
		if (rc == 0)
			freeaddrinfo(res);
	} else {
		r->rc = rc;
		r->sys_errno = e;
		r->res = rc == 0 ? res : NULL;
		r->done = 1;
	}
	r->busy = 0;
	pthread_cond_broadcast(&rs_cv);
	pthread_mutex_unlock(&rs_mu);
	return NULL;
}

/* Starts the helper with every signal blocked (signals stay with the main thread)
 * and a small, explicit stack. Returns pthread_create's result. */
static int
rs_spawn(struct resolver *r)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int rc;

	if ((rc = pthread_attr_init(&attr)) != 0)
		return rc;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, NET_RESOLVER_STACK); /* on failure: default stack */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&tid, &attr, rs_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return rc;
}

int
net_is_localhost(const char *host)
{
	static const char name[] = "localhost";
	size_t n = strlen(host), k = sizeof name - 1;

	if (n > 0 && host[n - 1] == '.')
		n--;
	if (n < k || strncasecmp(host + n - k, name, k) != 0)
		return 0;
	return n == k || host[n - k - 1] == '.';
}

/* Addresses made here rather than by getaddrinfo: a localhost name's or a
 * literal's. Static, never freed. */
static struct addrinfo static_ai[2];

/* Fills *ai for sa (of len bytes); returns the next entry. */
static struct addrinfo *
static_entry(struct addrinfo *ai, struct sockaddr *sa, socklen_t len)
{
	ai->ai_family = sa->sa_family;
	ai->ai_socktype = SOCK_STREAM;
	ai->ai_protocol = IPPROTO_TCP;
	ai->ai_addr = sa;
	ai->ai_addrlen = len;
	return ai + 1;
}

/* static_ai holding v4 then v6 (either may be NULL; not both). */
static struct addrinfo *
static_addresses(const struct in_addr *v4, const struct in6_addr *v6, uint16_t port)
{
	static struct sockaddr_in sin;
	static struct sockaddr_in6 sin6;
	struct addrinfo *ai = static_ai;

	memset(static_ai, 0, sizeof static_ai);
	if (v4 != NULL) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr = *v4;
		ai = static_entry(ai, (struct sockaddr *)&sin, sizeof sin);
	}
	if (v6 != NULL) {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		sin6.sin6_port = htons(port);
		sin6.sin6_addr = *v6;
		ai = static_entry(ai, (struct sockaddr *)&sin6, sizeof sin6);
	}
	if (ai - static_ai == 2)
		static_ai[0].ai_next = &static_ai[1];
	return static_ai;
}

/* Takes a free resolver slot (rs_mu held), waiting for one until the deadline.
 * Returns it, or NULL. */
static struct resolver *
rs_take(int64_t deadline_ms)
{
	struct resolver *r = NULL;

	for (;;) {
		for (size_t i = 0; i < NET_RESOLVERS && r == NULL; i++)
			if (!rs_slots[i].busy && !rs_slots[i].done)
				r = &rs_slots[i];
		if (r != NULL || !rs_wait(deadline_ms))
			return r;
	}
}

/* getaddrinfo(host, portstr) on a helper thread, waited for until the deadline.
 * Returns 0 with getaddrinfo's result in *rc, *e (errno for EAI_SYSTEM) and *res;
 * -1 with err when it timed out or no thread could start. */
static int
rs_lookup(const char *host, const char *portstr, int64_t deadline_ms, int *rc, int *e,
    struct addrinfo **res, char *err, size_t errlen)
{
	struct resolver *r;
	int sr;

	pthread_once(&rs_once, rs_init);
	pthread_mutex_lock(&rs_mu);
	r = rs_take(deadline_ms);
	if (r == NULL || net_now_ms() >= deadline_ms) {
		pthread_mutex_unlock(&rs_mu);
		err_host(err, errlen, host, "resolving timed out",
		    r == NULL ? "earlier lookups still pending" : NULL);
		return -1;
	}
	memcpy(r->host, host, strlen(host) + 1);
	memcpy(r->port, portstr, sizeof r->port);
	r->busy = 1;
	r->done = 0;
	r->abandoned = 0;
	r->res = NULL;
	if ((sr = rs_spawn(r)) != 0) {
		r->busy = 0;
		pthread_mutex_unlock(&rs_mu);
		err_host(err, errlen, host, "cannot start resolver thread", strerror(sr));
		return -1;
	}
	while (!r->done && rs_wait(deadline_ms))
		;
	if (!r->done) {
		r->abandoned = 1; /* the helper frees its result and releases the slot */
		pthread_mutex_unlock(&rs_mu);
		err_host(err, errlen, host, "resolving timed out", NULL);
		return -1;
	}
	*rc = r->rc;
	*e = r->sys_errno;
	*res = r->res;
	r->res = NULL;
	r->done = 0; /* the slot is free again */
	pthread_cond_broadcast(&rs_cv);
	pthread_mutex_unlock(&rs_mu);
	return 0;
}

/* getaddrinfo's failure rc (e: errno for EAI_SYSTEM) in words. */
static void
err_resolve(char *err, size_t errlen, const char *host, int rc, int e)
{
	switch (rc) {
	case EAI_NONAME:
#ifdef EAI_NODATA
	case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
	case EAI_ADDRFAMILY:
#endif
		err_host(err, errlen, host, "name does not resolve", NULL);
		break;
	case EAI_AGAIN:
		err_host(err, errlen, host, "temporary failure resolving", NULL);
		break;
	case EAI_SYSTEM:
		err_host(err, errlen, host, "resolving failed", strerror(e));
		break;
	default:
		err_host(err, errlen, host, "resolving failed", gai_strerror(rc));
		break;
	}
}

/* getaddrinfo under a deadline. Returns 0 with *out (freed with freeaddrinfo unless
 * it is static_ai), or -1 with err. */
static int
resolve(const char *host, uint16_t port, int64_t deadline_ms, struct addrinfo **out, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	struct in_addr a4;
	struct in6_addr a6;
	char portstr[6];
	struct buf pb;
	size_t hlen = strlen(host);
	int rc, e;

	*out = NULL;
	buf_init(&pb, portstr, sizeof portstr);
	buf_uint(&pb, port, 0);

	if (hlen == 0 || hlen > NET_HOST_MAX) {
		err_host(err, errlen, hlen == 0 ? "(empty host)" : "(host name too long)",
		    "name does not resolve", NULL);
		return -1;
	}

	/* RFC 6761 6.3: localhost names are loopback, never asked of the resolver
	 * (whose answer could send a plain-http message off the machine). */
	if (net_is_localhost(host)) {
		struct in_addr lo = { htonl(INADDR_LOOPBACK) };

		*out = static_addresses(&lo, &in6addr_loopback, port);
		return 0;
	}
	/* A literal address: parsed here, no thread, no resolver and no malloc; the
	 * forms inet_pton does not take (127.1, a zone index) go to getaddrinfo. */
	if (inet_pton(AF_INET, host, &a4) == 1) {
		*out = static_addresses(&a4, NULL, port);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &a6) == 1) {
		*out = static_addresses(NULL, &a6, port);
		return 0;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, portstr, &hints, &res) == 0) {
		*out = res;
		return 0;
	}

	if (rs_lookup(host, portstr, deadline_ms, &rc, &e, &res, err, errlen) != 0)
		return -1;
	if (rc == 0 && res != NULL) {
		*out = res;
		return 0;
	}
	if (rc == 0) /* success with no address: not seen in practice */
		rc = EAI_NONAME;
	err_resolve(err, errlen, host, rc, e);
	return -1;
}

/* ---- connecting ---------------------------------------------------------- */

/* How much a connect error says: a family this box cannot use says less than a
 * peer's answer, so "refused" from 127.0.0.1 beats "network unreachable" from ::1. */
static int
err_rank(int e)
{
	switch (e) {
	case ENETUNREACH:
	case EAFNOSUPPORT:
	case EADDRNOTAVAIL:
	case EPROTONOSUPPORT:
		return 1;
	default:
		return 2;
	}
}

static const char *
connect_strerror(int e)
{
	switch (e) {
	case ECONNREFUSED:
		return "connection refused";
	case ETIMEDOUT:
		return "connect timed out";
	case EHOSTUNREACH:
		return "host unreachable";
	case ENETUNREACH:
		return "network unreachable";
	case ECONNRESET:
		return "connection reset";
	default:
		return strerror(e);
	}
}

/* Starts a non-blocking connect. Returns the fd (*connected set when it completed
 * at once), or -1 with *e. */
static int
attempt_start(const struct addrinfo *ai, int *connected, int *e)
{
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	*connected = 0;
	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*connected = 1;
		return fd;
	}
	/* EINTR: the connect goes on asynchronously, as with EINPROGRESS. */
	if (errno == EINPROGRESS || errno == EINTR)
		return fd;
	*e = errno;
	close(fd);
	return -1;
}

/* The connection attempts of one net_connect (RFC 8305 in small: the next address
 * starts when the last has had NET_ATTEMPT_DELAY_MS, or has failed). */
struct attempts {
	struct pollfd pend[NET_MAX_ATTEMPTS];
	int npend, tried;
	int best_err, best_rank;             /* the most telling error so far */
	int64_t next_start;                  /* when the next address may start */
	const struct addrinfo *next;         /* the next address, NULL when none */
};

static void
note_error(struct attempts *a, int e)
{
	if (err_rank(e) >= a->best_rank) {
		a->best_rank = err_rank(e);
		a->best_err = e;
	}
}

/* Starts addresses until one is pending or none is left. Returns the fd of a
 * connect that completed at once, else -1. */
static int
start_next(struct attempts *a, int64_t now)
{
	while (a->next != NULL && a->tried < NET_MAX_ATTEMPTS &&
	    (a->npend == 0 || now >= a->next_start)) {
		int connected, e = 0;
		int fd = attempt_start(a->next, &connected, &e);

		a->next = a->next->ai_next;
		a->tried++;
		if (fd < 0) {
			note_error(a, e);
			continue;
		}
		if (connected)
			return fd;
		a->pend[a->npend].fd = fd;
		a->pend[a->npend].events = POLLOUT;
		a->pend[a->npend].revents = 0;
		a->npend++;
		a->next_start = now + NET_ATTEMPT_DELAY_MS;
		break;
	}
	if (a->tried >= NET_MAX_ATTEMPTS)
		a->next = NULL;
	return -1;
}

/* Judges the pending attempts poll woke up for: returns the fd of the first that
 * connected (taken out of pend), else -1; the failed ones are closed. */
static int
reap(struct attempts *a)
{
	for (int i = 0; i < a->npend; i++) {
		struct pollfd *p = &a->pend[i];
		int soerr = 0, fd;
		socklen_t sl = sizeof soerr;

		if (p->revents == 0)
			continue;
		/* Writable with no error or hang-up is a connected socket (Linux
		 * raises POLLERR with every connect error): SO_ERROR is asked only
		 * to name a failure. A reset that comes later shows at the first
		 * send or recv, as it would after a check here. */
		if (p->revents == POLLOUT) {
			fd = p->fd;
			*p = a->pend[--a->npend];
			return fd;
		}
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
			soerr = errno;
		note_error(a, soerr != 0 ? soerr : ECONNABORTED);
		close(p->fd);
		a->pend[i--] = a->pend[--a->npend];
	}
	return -1;
}

/* Runs the attempts until one connects (its fd), or -1: every address failed,
 * poll failed (best_err), or the deadline passed (*timed_out). */
static int
race(struct attempts *a, int64_t deadline_ms, int *timed_out)
{
	for (;;) {
		int64_t now = net_now_ms();
		int wait, fd;

		if (now >= deadline_ms) {
			*timed_out = 1;
			return -1;
		}
		if ((fd = start_next(a, now)) >= 0)
			return fd;
		if (a->npend == 0) {
			if (a->next == NULL)
				return -1; /* every address failed */
			continue;
		}
		wait = remaining_ms(deadline_ms);
		if (a->next != NULL && a->next_start - now < wait)
			wait = a->next_start - now < 0 ? 0 : (int)(a->next_start - now);
		if (poll(a->pend, (nfds_t)a->npend, wait) < 0) {
			if (errno == EINTR)
				continue;
			a->best_err = errno;
			return -1;
		}
		if ((fd = reap(a)) >= 0)
			return fd;
	}
}

int
net_connect(const char *host, uint16_t port, int64_t deadline_ms, char *err, size_t errlen)
{
	struct addrinfo *res;
	struct attempts a;
	int winner, timed_out = 0;
	struct buf b;

	if (host == NULL)
		host = "";
	if (resolve(host, port, deadline_ms, &res, err, errlen) != 0)
		return -1;
	memset(&a, 0, sizeof a);
	a.next = res;
	winner = race(&a, deadline_ms, &timed_out);
	for (int i = 0; i < a.npend; i++)
		close(a.pend[i].fd);
	if (res != static_ai)
		freeaddrinfo(res);
	if (winner >= 0)
		return winner;

	if (!err_open(&b, err, errlen))
		return -1;
	buf_hostport(&b, host, port);
	buf_str(&b, ": ");
	if (timed_out || a.best_err == 0)
		buf_str(&b, "connect timed out");
	else
		buf_str(&b, connect_strerror(a.best_err));
	if (a.tried > 1) {
		buf_str(&b, " (");
		buf_uint(&b, (uint64_t)a.tried, 0);
		buf_str(&b, " addresses tried)");
	}
	return -1;
}

/* ---- I/O ------------------------------------------------------------------- */

int
net_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p;

	for (;;) {
		int left = remaining_ms(deadline_ms);
		int rc;

		p.fd = fd;
		p.events = events;
		p.revents = 0;
		rc = poll(&p, 1, left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (rc > 0) {
			if (p.revents & POLLNVAL) {
				errno = EBADF;
				return -1;
			}
			return 1;
		}
		/* poll may round the timeout down by a fraction of a millisecond. */
		if (net_now_ms() >= deadline_ms)
			return 0;
	}
}

static const char *
io_strerror(int e)
{
	switch (e) {
	case EPIPE:
		return "connection closed by peer";
	case ECONNRESET:
		return "connection reset";
	case ETIMEDOUT:
		return "timed out";
	default:
		return strerror(e);
	}
}

int
net_write_all(int fd, const void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen)
{
	const unsigned char *s = p;
	int is_sock = 1;

	while (n > 0) {
		/* send + MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE. */
		ssize_t w = is_sock ? send(fd, s, n, MSG_NOSIGNAL) : write(fd, s, n);

		if (w > 0) {
			s += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == ENOTSOCK && is_sock) {
			is_sock = 0; /* a pipe, in tests: plain write */
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = net_wait(fd, POLLOUT, deadline_ms);

			if (rc == 0) {
				err_plain(err, errlen, "timed out", 0);
				return -1;
			}
			if (rc < 0) {
				err_plain(err, errlen, "waiting to write", errno);
				return -1;
			}
			continue;
		}
		err_plain(err, errlen, w < 0 ? io_strerror(errno) : "write made no progress", 0);
		return -1;
	}
	return 0;
}

ssize_t
net_read(int fd, void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen)
{
	int is_sock = 1;

	if (n == 0)
		return 0;
	for (;;) {
		ssize_t r = is_sock ? recv(fd, p, n, 0) : read(fd, p, n);

		if (r >= 0)
			return r;
		if (errno == EINTR)
			continue;
		if (errno == ENOTSOCK && is_sock) {
			is_sock = 0;
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = net_wait(fd, POLLIN, deadline_ms);

			if (rc == 0) {
				err_plain(err, errlen, "timed out", 0);
				return -1;
			}
			if (rc < 0) {
				err_plain(err, errlen, "waiting to read", errno);
				return -1;
			}
			continue;
		}
		err_plain(err, errlen, io_strerror(errno), 0);
		return -1;
	}
}
