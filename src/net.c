/*
 * net: name resolution and TCP under one deadline.
 *
 * Resolution. A localhost name is loopback (RFC 6761), and a literal address is
 * parsed in place (dns_addr_parse, dns.h): no file read, no DNS. Any other name goes to
 * dns_resolve (dns.h: /etc/hosts, then DNS over UDP), which polls under the same
 * deadline as everything here, so no thread is needed to bound it. Its answer is
 * kept for the run: a run that connects to one name again (one connection per
 * kept message, a redirect back to the same host) asks once.
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
	const char *what = ": resolving failed: ", *why = NULL;

	switch (st) {
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		what = ": name does not resolve";
		break;
	case DNS_AGAIN:
		what = ": temporary failure resolving";
		break;
	case DNS_TIMEOUT:
		what = ": resolving timed out";
		break;
	case DNS_BAD:
		why = "malformed answer from the DNS server";
		break;
	case DNS_FAIL:
		why = "the DNS server could not answer";
		break;
	default:
		why = strerror(e);
		break;
	}
	buf_join(err, errlen, host, what, why);
}

/* The last name dns_resolve found, and its addresses (n 0: none yet). */
static struct {
	char host[NET_HOST_MAX + 1];
	struct dns_addr a[DNS_MAX_ADDRS];
	int n;
} resolved;

/* host's addresses into a[], at most DNS_MAX_ADDRS. Returns their count, or -1
 * with err. */
static int
resolve(const char *host, int64_t deadline_ms, struct dns_addr a[DNS_MAX_ADDRS], char *err,
    size_t errlen)
{
	size_t hlen = strlen(host);
	int n = 0, st, e = 0;

	if (hlen == 0 || hlen > NET_HOST_MAX) {
		err_resolve(err, errlen, hlen == 0 ? "(empty host)" : "(host name too long)",
		    DNS_NXDOMAIN, 0);
		return -1;
	}
	/* RFC 6761 6.3: localhost names are loopback, never asked of the resolver
	 * (whose answer could send a plain-http message off the machine). */
	if (net_is_localhost(host)) {
		(void)dns_addr_parse("127.0.0.1", 9, &a[0]);
		(void)dns_addr_parse("::1", 3, &a[1]);
		return 2;
	}
	if (dns_addr_parse(host, hlen, &a[0]))
		return 1;
	if (resolved.n > 0 && strcmp(resolved.host, host) == 0) {
		memcpy(a, resolved.a, (size_t)resolved.n * sizeof *a);
		return resolved.n;
	}
	if ((st = dns_resolve(host, deadline_ms, a, &n, &e)) != DNS_FOUND) {
		err_resolve(err, errlen, host, st, e);
		return -1;
	}
	memcpy(resolved.host, host, hlen + 1);
	memcpy(resolved.a, a, (size_t)n * sizeof *a);
	resolved.n = n;
	return n;
}

/* ---- connecting ---------------------------------------------------------- */

/* How much a connect error says: a family this box cannot use says less than a
 * peer's answer, so "refused" from 127.0.0.1 beats "network unreachable" from ::1. */
static int
err_rank(int e)
{
	switch (e) {
	case 0:
		return 0;
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

/* The connection attempts of one net_connect (RFC 8305 in small: the next address
 * starts when the last has had NET_ATTEMPT_DELAY_MS, or has failed). */
struct attempts {
	struct pollfd pend[NET_MAX_ATTEMPTS];
	int npend;
	int best_err;                        /* the most telling error so far */
	int64_t next_start;                  /* when the next address may start */
	const struct dns_addr *addr;         /* the addresses */
	int naddr, next;                     /* how many; the next one's index, = tried */
	uint16_t port;
};

static void
note_error(struct attempts *a, int e)
{
	if (err_rank(e) >= err_rank(a->best_err))
		a->best_err = e;
}

/* Starts addresses (non-blocking connects) until one is pending or none is left.
 * Returns the fd of a connect that completed at once, else -1. */
static int
start_next(struct attempts *a, int64_t now)
{
	while (a->next < a->naddr && (a->npend == 0 || now >= a->next_start)) {
		union dns_sa u;
		socklen_t sl = dns_sockaddr(&u, &a->addr[a->next++], a->port);
		int fd = socket(u.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);

		if (fd < 0) {
			note_error(a, errno);
			continue;
		}
		if (connect(fd, &u.sa, sl) == 0)
			return fd;
		/* EINTR: the connect goes on asynchronously, as with EINPROGRESS. */
		if (errno == EINPROGRESS || errno == EINTR) {
			a->pend[a->npend++] = (struct pollfd){ .fd = fd, .events = POLLOUT };
			a->next_start = now + NET_ATTEMPT_DELAY_MS;
			break;
		}
		note_error(a, errno);
		close(fd);
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

/* Runs the attempts until one connects (its fd), or -1 with best_err: every
 * address failed, poll failed, or the deadline passed (ETIMEDOUT). */
static int
race(struct attempts *a, int64_t deadline_ms)
{
	for (;;) {
		int64_t now = net_now_ms();
		int wait, fd;

		if (now >= deadline_ms) {
			a->best_err = ETIMEDOUT;
			return -1;
		}
		if ((fd = start_next(a, now)) >= 0)
			return fd;
		/* start_next stops only at a pending attempt or the last address. */
		if (a->npend == 0)
			return -1; /* every address failed */
		/* When one is left to start, its time is after now (start_next). */
		wait = remaining_ms(deadline_ms);
		if (a->next < a->naddr && a->next_start - now < wait)
			wait = (int)(a->next_start - now);
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
	struct dns_addr addr[DNS_MAX_ADDRS];
	struct attempts a;
	int winner;
	struct buf b;

	if (host == NULL)
		host = "";
	memset(&a, 0, sizeof a);
	if ((a.naddr = resolve(host, deadline_ms, addr, err, errlen)) < 0)
		return -1;
	a.addr = addr;
	a.port = port;
	winner = race(&a, deadline_ms);
	for (int i = 0; i < a.npend; i++)
		close(a.pend[i].fd);
	if (winner >= 0)
		return winner;

	if (err == NULL || errlen == 0)
		return -1;
	buf_init(&b, err, errlen);
	buf_hostport(&b, host, port);
	buf_str(&b, ": ");
	buf_str(&b, connect_strerror(a.best_err));
	if (a.next > 1) {
		buf_str(&b, " (");
		buf_uint(&b, (uint64_t)a.next, 0);
		buf_str(&b, " addresses tried)");
	}
	return -1;
}

/* ---- I/O ------------------------------------------------------------------- */

int
net_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int rc = poll(&p, 1, remaining_ms(deadline_ms));

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

ssize_t
net_io(int fd, void *p, size_t n, short events, int wait_first, int64_t deadline_ms)
{
	/* A peer that sends faster than we read never lets a read block, so poll's
	 * timeout alone would not end it: the deadline is checked on every read. */
	if (events == POLLIN && net_now_ms() >= deadline_ms)
		return NET_IO_TIMEOUT;
	for (;;) {
		ssize_t r;

		if (wait_first) {
			int w = net_wait(fd, events, deadline_ms);

			if (w <= 0)
				return w == 0 ? NET_IO_TIMEOUT : NET_IO_WAIT;
		}
		/* MSG_NOSIGNAL: a peer that went away gives EPIPE, not SIGPIPE. */
		r = events == POLLIN ? recv(fd, p, n, MSG_DONTWAIT) :
		    send(fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r >= 0)
			return r;
		wait_first = errno != EINTR;
		if (wait_first && errno != EAGAIN && errno != EWOULDBLOCK)
			return NET_IO_FAILED;
	}
}

/* net_io's failure r in words into err ("waiting to read: " or "waiting to write: "
 * begins a failed wait's); returns -1. */
static int
io_error(ssize_t r, const char *waiting, char *err, size_t errlen)
{
	const char *a = "timed out", *b = NULL;

	if (r == NET_IO_WAIT) {
		a = waiting;
		b = strerror(errno);
	} else if (r == NET_IO_FAILED) {
		a = io_strerror(errno);
	}
	buf_join(err, errlen, a, b, NULL);
	return -1;
}

int
net_write_all(int fd, const void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen)
{
	const unsigned char *s = p;

	while (n > 0) {
		ssize_t w = net_io(fd, (void *)(uintptr_t)s, n, POLLOUT, 0, deadline_ms);

		if (w == 0) {
			buf_join(err, errlen, "write made no progress", NULL, NULL);
			return -1;
		}
		if (w < 0)
			return io_error(w, "waiting to write: ", err, errlen);
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

ssize_t
net_read(int fd, void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen)
{
	ssize_t r;

	if (n == 0)
		return 0;
	r = net_io(fd, p, n, POLLIN, 0, deadline_ms);
	return r < 0 ? io_error(r, "waiting to read: ", err, errlen) : r;
}
