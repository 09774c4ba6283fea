/*
 * net: name resolution and TCP under one deadline.
 *
 * Resolution. A localhost name is loopback (RFC 6761), and a literal address is
 * parsed in place (inet_pton): no file read, no DNS. Any other name goes to
 * dns_resolve (dns.h: /etc/hosts, then DNS over UDP), which polls under the same
 * deadline as everything here, so no thread is needed to bound it.
 *
 * Connecting follows RFC 8305's "connection attempt delay" without re-sorting:
 * addresses are tried in dns_resolve's order (IPv6 and IPv4 interleaved, IPv6
 * first; a literal's one, localhost's 127.0.0.1 then ::1); an attempt that fails
 * starts the next one at once; an attempt still pending after
 * NET_ATTEMPT_DELAY_MS starts the next one *in parallel* (the pending one is kept,
 * not abandoned), and the first to connect wins. So a black-holed first address
 * costs 250 ms, not the whole deadline, and a slow but working one is not killed.
 */
#include "net.h"

#include "buf.h"
#include "dns.h"

#include <errno.h>
#include <limits.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NET_HOST_MAX 253             /* longest DNS name; longer is refused */
#define NET_MAX_ATTEMPTS DNS_MAX_ADDRS /* addresses tried per connect */
#define NET_ATTEMPT_DELAY_MS 250     /* RFC 8305 section 5 recommends 250 ms */

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

/* dns_resolve's failure st (e: errno for DNS_SYSERR) in words. */
static void
err_resolve(char *err, size_t errlen, const char *host, int st, int e)
{
	switch (st) {
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		err_host(err, errlen, host, "name does not resolve", NULL);
		break;
	case DNS_AGAIN:
		err_host(err, errlen, host, "temporary failure resolving", NULL);
		break;
	case DNS_TIMEOUT:
		err_host(err, errlen, host, "resolving timed out", NULL);
		break;
	case DNS_BAD:
		err_host(err, errlen, host, "resolving failed", "malformed answer from the DNS server");
		break;
	case DNS_FAIL:
		err_host(err, errlen, host, "resolving failed", "the DNS server could not answer");
		break;
	default:
		err_host(err, errlen, host, "resolving failed", strerror(e));
		break;
	}
}

/* host's addresses (port set) into sa[], at most NET_MAX_ATTEMPTS. Returns their
 * count, or -1 with err. */
static int
resolve(const char *host, uint16_t port, int64_t deadline_ms, union dns_sa *sa, char *err,
    size_t errlen)
{
	struct dns_addr a[DNS_MAX_ADDRS] = { { 0 } };
	size_t hlen = strlen(host);
	int n = 0, st = DNS_FOUND, e = 0;

	if (hlen == 0 || hlen > NET_HOST_MAX) {
		err_host(err, errlen, hlen == 0 ? "(empty host)" : "(host name too long)",
		    "name does not resolve", NULL);
		return -1;
	}
	/* RFC 6761 6.3: localhost names are loopback, never asked of the resolver
	 * (whose answer could send a plain-http message off the machine). */
	if (net_is_localhost(host)) {
		a[0].family = AF_INET;
		memcpy(a[0].a, "\177\0\0\1", 4);
		a[1].family = AF_INET6;
		memcpy(a[1].a, &in6addr_loopback, 16);
		n = 2;
	} else if (inet_pton(AF_INET, host, a[0].a) == 1) {
		a[0].family = AF_INET;
		n = 1;
	} else if (inet_pton(AF_INET6, host, a[0].a) == 1) {
		a[0].family = AF_INET6;
		n = 1;
	} else if ((st = dns_resolve(host, deadline_ms, a, &n, &e)) != DNS_FOUND) {
		err_resolve(err, errlen, host, st, e);
		return -1;
	}
	for (int i = 0; i < n; i++)
		dns_sockaddr(&sa[i], &a[i], port);
	return n;
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
attempt_start(const union dns_sa *sa, int *connected, int *e)
{
	int fd = socket(sa->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	*connected = 0;
	if (fd < 0) {
		*e = errno;
		return -1;
	}
	if (connect(fd, &sa->sa, sa->sa.sa_family == AF_INET ? sizeof sa->in : sizeof sa->in6) == 0) {
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
	const union dns_sa *addr;            /* the addresses */
	int naddr, next;                     /* how many; the next one's index */
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
	while (a->next < a->naddr && (a->npend == 0 || now >= a->next_start)) {
		int connected, e = 0;
		int fd = attempt_start(&a->addr[a->next++], &connected, &e);

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
			if (a->next == a->naddr)
				return -1; /* every address failed */
			continue;
		}
		wait = remaining_ms(deadline_ms);
		if (a->next < a->naddr && a->next_start - now < wait)
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
	union dns_sa sa[NET_MAX_ATTEMPTS];
	struct attempts a;
	int winner, timed_out = 0;
	struct buf b;

	if (host == NULL)
		host = "";
	memset(&a, 0, sizeof a);
	if ((a.naddr = resolve(host, port, deadline_ms, sa, err, errlen)) < 0)
		return -1;
	a.addr = sa;
	winner = race(&a, deadline_ms, &timed_out);
	for (int i = 0; i < a.npend; i++)
		close(a.pend[i].fd);
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
	/* A peer that sends faster than we read never lets a read block, so poll's
	 * timeout alone would not end it: the deadline is checked on every read. */
	if (net_now_ms() >= deadline_ms) {
		err_plain(err, errlen, "timed out", 0);
		return -1;
	}
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
