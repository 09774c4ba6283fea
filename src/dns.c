/*
 * dns: the stub resolver described in dns.h.
 *
 * Written for size and for hostile packets: every read of an answer is checked
 * against its length, and a compression pointer must point before the place the
 * name it continues started (as every compressor writes them), so no loop or
 * out-of-bounds read is possible. CNAME chains are followed by scanning the answer
 * section again per link, with no table of records.
 */
#include "dns.h"

#include "ascii.h"
#include "file.h"
#include "net.h"
#include "report.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define T_A 1
#define T_CNAME 5
#define T_AAAA 28
#define CLASS_IN 1
#define CNAME_LINKS 8
#define HOSTS_MAX ((off_t)8 << 20)
#define RESOLV_MAX ((off_t)64 << 10)
#define NAME_MAX_LEN 253                 /* dotted, without a trailing dot */

socklen_t
dns_sockaddr(union dns_sa *u, const struct dns_addr *a, uint16_t port)
{
	memset(u, 0, sizeof *u);
	if (a->family == AF_INET) {
		u->in.sin_family = AF_INET;
		u->in.sin_port = htons(port);
		memcpy(&u->in.sin_addr, a->a, 4);
		return sizeof u->in;
	}
	u->in6.sin6_family = AF_INET6;
	u->in6.sin6_port = htons(port);
	u->in6.sin6_scope_id = a->scope;
	memcpy(&u->in6.sin6_addr, a->a, 16);
	return sizeof u->in6;
}

/* ---- files ------------------------------------------------------------------- */

/* A blank between a line's fields, or the CR of a CRLF line end. */
static int
is_blank(int c)
{
	return ascii_is_blank(c) || c == '\r';
}

/* The next blank-separated field of *s..end (stopping at '#' when hash), or NULL;
 * its length in *len. */
static const char *
field(const char **s, const char *end, int hash, size_t *len)
{
	const char *p = *s, *f;

	while (p < end && is_blank(*p))
		p++;
	f = p;
	while (p < end && !is_blank(*p) && !(hash && *p == '#'))
		p++;
	*s = p;
	*len = (size_t)(p - f);
	return *len > 0 ? f : NULL;
}

/* An IPv6 zone (RFC 4007 11.2), a number or an interface name, as an interface
 * index; 0 when there is no such interface. */
static uint32_t
zone_index(const char *z, size_t n)
{
	char path[sizeof "/sys/class/net//ifindex" + 15], num[16];
	uint32_t v = 0;
	size_t len = n, i;

	for (i = 0; i < n && ascii_is_digit(z[i]); i++)
		;
	if (i < n) {
		/* A name: at most IFNAMSIZ - 1 bytes, never a path. */
		if (n > 15 || memchr(z, '/', n) != NULL || z[0] == '.')
			return 0;
		memcpy(path, "/sys/class/net/", 15);
		memcpy(path + 15, z, n);
		memcpy(path + 15 + n, "/ifindex", sizeof "/ifindex");
		if (file_read(AT_FDCWD, path, O_RDONLY, num, sizeof num, &len) != FILE_OK)
			return 0;
		z = num;
	}
	for (i = 0; i < len && ascii_is_digit(z[i]) && v < 100000000; i++)
		v = v * 10 + (uint32_t)(z[i] - '0');
	return v;
}

int
dns_addr_parse(const char *s, size_t n, struct dns_addr *a)
{
	char t[INET6_ADDRSTRLEN];
	const char *zone = memchr(s, '%', n);
	size_t k = zone != NULL ? (size_t)(zone - s) : n;

	if (k >= sizeof t)
		return 0;
	memcpy(t, s, k);
	t[k] = '\0';
	a->family = memchr(t, ':', k) != NULL ? AF_INET6 : AF_INET;
	a->scope = 0;
	if (zone != NULL && (a->family != AF_INET6 ||
	    (a->scope = zone_index(zone + 1, n - k - 1)) == 0))
		return 0;
	return inet_pton(a->family, t, a->a) == 1;
}

/* The number after "name:" in the field f[n], clamped to lo..hi; or *v unchanged. */
static void
option(const char *f, size_t n, const char *name, int lo, int hi, int *v)
{
	size_t k = strlen(name);
	long x = 0;

	if (n <= k || memcmp(f, name, k) != 0)
		return;
	for (size_t i = k; i < n; i++) {
		if (!ascii_is_digit(f[i]))
			return;
		if (x < 1000)
			x = x * 10 + (f[i] - '0');
	}
	*v = x < lo ? lo : x > hi ? hi : (int)x;
}

void
dns_conf_init(struct dns_conf *c)
{
	memset(c, 0, sizeof *c);
	c->ndots = 1;
	c->timeout = 5;
	c->attempts = 2;
}

void
dns_conf_line(struct dns_conf *c, const char *line, const char *end)
{
	size_t n = (size_t)(end - line), k = 0, len;
	const char *p, *f;

	/* The keyword: the line's first k bytes, then a blank. */
	while (k < n && !is_blank(line[k]))
		k++;
	if (k == n)
		return;
	p = line + k;
	if (k == 10 && memcmp(line, "nameserver", 10) == 0) {
		f = field(&p, end, 0, &len);
		if (f != NULL && c->nns < DNS_MAX_NS && dns_addr_parse(f, len, &c->ns[c->nns]))
			c->nns++;
	} else if (k == 6 && (memcmp(line, "search", 6) == 0 || memcmp(line, "domain", 6) == 0)) {
		/* Kept as it is: the search walks it field by field. */
		if (n - 6 < sizeof c->search) {
			memcpy(c->search, line + 6, n - 6);
			c->search[n - 6] = '\0';
		}
	} else if (k == 7 && memcmp(line, "options", 7) == 0) {
		while ((f = field(&p, end, 0, &len)) != NULL) {
			option(f, len, "ndots:", 0, 15, &c->ndots);
			option(f, len, "timeout:", 1, 60, &c->timeout);
			option(f, len, "attempts:", 1, 10, &c->attempts);
		}
	}
}

int
dns_hosts_line(const char *line, const char *end, const char *name, size_t namelen,
    struct dns_addr *a)
{
	const char *p = line, *f, *af;
	size_t len, alen;

	/* The names first: only a matching line's address is parsed (a zone's costs
	 * an open of /sys). */
	if ((af = field(&p, end, 1, &alen)) == NULL)
		return 0;
	while ((f = field(&p, end, 1, &len)) != NULL)
		if (len == namelen && strncasecmp(f, name, len) == 0)
			return dns_addr_parse(af, alen, a);
	return 0;
}

static int
conf_fn(void *ctx, const char *line, const char *end)
{
	dns_conf_line(ctx, line, end);
	return 0;
}

struct hosts_ctx {
	const char *name;
	size_t len;
	struct dns_addr *out;
	int n;
};

static int
hosts_fn(void *ctx, const char *line, const char *end)
{
	struct hosts_ctx *h = ctx;

	if (dns_hosts_line(line, end, h->name, h->len, &h->out[h->n]))
		h->n++;
	return h->n == 2 * DNS_MAX_ADDRS; /* full: stop */
}

/* ---- packets ------------------------------------------------------------------ */

size_t
dns_query(unsigned char *q, size_t cap, uint16_t id, const char *name, unsigned qtype)
{
	size_t n = strlen(name), o = 13, label = 12;

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN || 12 + n + 2 + 4 > cap)
		return 0;
	memset(q, 0, 12);
	q[0] = (unsigned char)(id >> 8);
	q[1] = (unsigned char)id;
	q[2] = 1;                /* RD: recursion desired */
	q[5] = 1;                /* one question */
	for (size_t i = 0; i <= n; i++) {
		if (i < n && name[i] != '.') {
			q[o++] = (unsigned char)name[i];
			continue;
		}
		if (o - label - 1 == 0 || o - label - 1 > 63)
			return 0;
		q[label] = (unsigned char)(o - label - 1);
		label = o++;
	}
	q[label] = 0;
	q[o++] = 0;
	q[o++] = (unsigned char)qtype;
	q[o++] = 0;
	q[o++] = CLASS_IN;
	return o;
}

static unsigned
u16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* The name at *off of p[len], lowercased, in wire form into out[255]; *off moves
 * past it. Returns its length (with the root's 0), or 0 when malformed. */
static size_t
read_name(const unsigned char *p, size_t len, size_t *off, unsigned char *out)
{
	size_t at = *off, lim = at, o = 0, next = 0;

	for (;;) {
		unsigned c;

		if (at >= len)
			return 0;
		c = p[at];
		if (c >= 0xc0) {            /* a pointer: strictly backwards, see the top */
			size_t to;

			if (at + 1 >= len || (to = (c & 0x3fu) << 8 | p[at + 1]) >= lim)
				return 0;
			if (next == 0)
				next = at + 2;
			lim = at = to;
			continue;
		}
		if (c > 63 || len - at - 1 < c || o + 1 + c > 255)
			return 0;
		out[o++] = (unsigned char)c;
		for (unsigned i = 1; i <= c; i++)
			out[o++] = (unsigned char)ascii_lower(p[at + i]);
		at += 1 + c;
		if (c == 0) {
			*off = next != 0 ? next : at;
			return o;
		}
	}
}

int
dns_answer(const unsigned char *p, size_t len, const unsigned char *q, size_t qlen,
    struct dns_addr *out, int max, int *n)
{
	unsigned char name[255];
	size_t off = 12, nlen, start;
	unsigned count, i = 0, links = 0, qtype = u16(q + qlen - 4);
	int m = 0;                       /* addresses of this pass; *n at the end */

	*n = 0;
	/* q is dns_query's: its name in wire form from byte 12, then its type and
	 * class, the last 4 bytes. That name has no 0 byte before its end, so
	 * strncasecmp compares all of it. */
	if (len < 12 || memcmp(p, q, 2) != 0 || (p[2] & 0xf8) != 0x80 || u16(p + 4) != 1 ||
	    (nlen = read_name(p, len, &off, name)) != qlen - 16 ||
	    strncasecmp((const char *)name, (const char *)q + 12, nlen) != 0 ||
	    len - off < 4 || memcmp(p + off, q + qlen - 4, 4) != 0)
		return DNS_IGNORE;
	if (p[2] & 2)                    /* TC */
		return DNS_AGAIN;
	switch (p[3] & 15) {             /* RCODE */
	case 0:
		break;
	case 3:
		return DNS_NXDOMAIN;
	case 2:
	case 5:
		return DNS_AGAIN;
	default:
		return DNS_FAIL;
	}
	count = u16(p + 6);
	start = off += 4;
	/* One pass per link of the CNAME chain from the question's name: a CNAME
	 * owned by name makes its target the name and starts the pass over; the last
	 * pass (no CNAME) takes name's addresses and reads every record, so none goes
	 * unchecked. */
	while (i < count) {
		unsigned char owner[255];
		size_t olen, rd, rdlen;
		unsigned type;
		int mine;

		/* A record: owner, type, class, TTL, the data's length, the data. */
		olen = read_name(p, len, &off, owner);
		rd = off + 10;
		if (olen == 0 || len < rd || len - rd < (rdlen = u16(p + off + 8)))
			return DNS_BAD;
		type = u16(p + off);
		mine = u16(p + off + 2) == CLASS_IN && olen == nlen &&
		    memcmp(owner, name, nlen) == 0;
		off = rd + rdlen;
		i++;
		if (mine && type == T_CNAME) {
			size_t t = rd;

			if ((nlen = read_name(p, len, &t, name)) == 0 || t != off)
				return DNS_BAD;
			if (links++ == CNAME_LINKS)
				return DNS_NODATA;
			off = start;
			i = 0;
			m = 0;
			continue;
		}
		if (!mine || type != qtype)
			continue;
		if (rdlen != (qtype == T_A ? 4u : 16u))
			return DNS_BAD;
		if (m < max) {
			out[m].family = qtype == T_A ? AF_INET : AF_INET6;
			out[m].scope = 0;
			memcpy(out[m].a, p + rd, rdlen);
			m++;
		}
	}
	*n = m;
	return m > 0 ? DNS_FOUND : DNS_NODATA;
}

int
dns_interleave(struct dns_addr *a, int n)
{
	struct dns_addr t[2 * DNS_MAX_ADDRS];
	int i6 = 0, i4 = 0, k = 0;

	if (n > 2 * DNS_MAX_ADDRS)
		n = 2 * DNS_MAX_ADDRS;
	memcpy(t, a, (size_t)n * sizeof *a);
	while (k < n && k < DNS_MAX_ADDRS) {
		int want = k % 2 == 0 ? AF_INET6 : AF_INET, *i = want == AF_INET6 ? &i6 : &i4;

		while (*i < n && t[*i].family != want)
			(*i)++;
		if (*i == n) {                  /* this family is done: the other's turn */
			i = want == AF_INET6 ? &i4 : &i6;
			want = want == AF_INET6 ? AF_INET : AF_INET6;
			while (*i < n && t[*i].family != want)
				(*i)++;
		}
		a[k++] = t[(*i)++];
	}
	return k;
}

/* ---- asking ------------------------------------------------------------------- */

struct question {
	unsigned char q[DNS_QUERY_MAX];
	size_t qlen;
	int status;            /* DNS_IGNORE while open */
	unsigned failed;       /* bit s: server s failed it */
	int fail;              /* the highest failure so far */
	int n;
	struct dns_addr addr[DNS_MAX_ADDRS];
};

struct ask {
	const struct dns_conf *c;
	struct question qs[2];  /* AAAA, A */
	struct pollfd fd[DNS_MAX_NS];
	int err;
};

/* 1 while question q is open and server s has not failed it. */
static int
waiting(const struct question *q, int s)
{
	return q->status == DNS_IGNORE && !(q->failed & 1u << s);
}

/* Server s failed question q with status st. */
static void
fail(struct ask *k, struct question *q, int s, int st)
{
	q->failed |= 1u << s;
	if (st > q->fail)
		q->fail = st;
	if (q->failed == (1u << k->c->nns) - 1)
		q->status = q->fail;
}

/* Server s's socket failed (errno): it fails every open question. */
static void
server_down(struct ask *k, int s)
{
	k->err = errno;
	for (int i = 0; i < 2; i++)
		if (waiting(&k->qs[i], s))
			fail(k, &k->qs[i], s, DNS_SYSERR);
}

/* Reads server s's datagrams until none is left or the time is up (end): a
 * flood of junk datagrams must not hold the lookup past its deadline. */
static void
receive(struct ask *k, int s, int64_t end)
{
	unsigned char p[DNS_ANSWER_MAX];

	while (net_now_ms() < end) {
		ssize_t got = recv(k->fd[s].fd, p, sizeof p, MSG_TRUNC);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				server_down(k, s);
			return;
		}
		if ((size_t)got > sizeof p) {
			/* Longer than a UDP answer may be: judged as a truncated one (TC), by
			 * the header and question it begins with. */
			p[2] |= 2;
			got = sizeof p;
		}
		for (struct question *q = k->qs; q < k->qs + 2; q++) {
			int st;

			if (!waiting(q, s))
				continue;
			st = dns_answer(p, (size_t)got, q->q, q->qlen, q->addr, DNS_MAX_ADDRS, &q->n);
			if (st == DNS_IGNORE)
				continue;
			if (st <= DNS_NXDOMAIN)
				q->status = st;
			else
				fail(k, q, s, st);
			break;
		}
	}
}

/* Sends every open question to every server that has not failed it. */
static void
send_open(struct ask *k)
{
	for (int s = 0; s < k->c->nns; s++)
		for (int i = 0; i < 2; i++) {
			struct question *q = &k->qs[i];

			if (k->fd[s].fd >= 0 && waiting(q, s) &&
			    send(k->fd[s].fd, q->q, q->qlen, MSG_NOSIGNAL) < 0 && errno != EAGAIN &&
			    errno != EINTR)
				server_down(k, s);
		}
}

/* A connected UDP socket to server s, or -1. */
static int
open_server(const struct dns_addr *a)
{
	union dns_sa u;
	socklen_t sl = dns_sockaddr(&u, a, 53);
	int fd = socket(a->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, &u.sa, sl) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		fd = -1;
	}
	return fd;
}

/* 1 while the lookup needs more answers. */
static int
open_questions(const struct ask *k)
{
	const struct question *a = &k->qs[0], *b = &k->qs[1];

	if (a->status == DNS_NXDOMAIN || b->status == DNS_NXDOMAIN)
		return 0;
	return a->status == DNS_IGNORE || b->status == DNS_IGNORE;
}

/* Asks every server for name's AAAA and A records, for conf's timeout at most and
 * until the deadline; out/n as dns_resolve. */
static int
ask_name(struct ask *k, const char *name, int64_t deadline, struct dns_addr *out, int *n)
{
	const struct dns_conf *c = k->c;
	int64_t now = net_now_ms(), end = now + (int64_t)c->timeout * 1000, next = now;
	int interval = c->timeout * 1000 / c->attempts, st = DNS_FOUND, nx = 0;
	uint16_t id[2];

	report_random(id, sizeof id);     /* never blocks, even in early boot */
	for (struct question *q = k->qs; q < k->qs + 2; q++) {
		memset(q, 0, sizeof *q);
		q->status = DNS_IGNORE;
		q->qlen = dns_query(q->q, sizeof q->q, id[q - k->qs], name,
		    q == k->qs ? T_AAAA : T_A);
		if (q->qlen == 0)
			return DNS_NXDOMAIN;
	}
	if (end > deadline)
		end = deadline;
	for (int s = 0; s < c->nns; s++) {
		k->fd[s].fd = -1;
		k->fd[s].events = POLLIN;
		if (now < end && (k->fd[s].fd = open_server(&c->ns[s])) < 0)
			server_down(k, s);
	}
	while (open_questions(k) && (now = net_now_ms()) < end) {
		int64_t wait;

		if (now >= next) {
			send_open(k);
			next = now + interval;
		}
		wait = (next < end ? next : end) - now;
		if (poll(k->fd, (nfds_t)c->nns, (int)wait) < 0 && errno != EINTR) {
			k->err = errno;
			st = DNS_SYSERR;
			break;
		}
		for (int s = 0; s < c->nns; s++)
			if (k->fd[s].fd >= 0 && k->fd[s].revents != 0)
				receive(k, s, end);
	}
	for (int s = 0; s < c->nns; s++)
		if (k->fd[s].fd >= 0)
			close(k->fd[s].fd);
	/* Addresses from either question; else NXDOMAIN from either; else the
	 * highest outcome, an unanswered question counting as the deadline's fault
	 * or the servers'. */
	*n = 0;
	for (int i = 0; i < 2; i++) {
		struct question *q = &k->qs[i];
		int qs = q->status;

		memcpy(out + *n, q->addr, (size_t)q->n * sizeof *q->addr);
		*n += qs == DNS_FOUND ? q->n : 0;
		if (qs == DNS_IGNORE)
			qs = net_now_ms() >= deadline ? DNS_TIMEOUT : DNS_AGAIN;
		nx |= qs == DNS_NXDOMAIN;
		if (qs > st)
			st = qs;
	}
	return *n > 0 ? DNS_FOUND : nx ? DNS_NXDOMAIN : st;
}

/* Asks DNS for name (len bytes without its trailing dot) as resolv.conf says,
 * candidate by candidate (dns.h's search); out, n and err as dns_resolve's. */
static int
search(const char *name, size_t len, int64_t deadline_ms, struct dns_addr *out, int *n,
    int *err)
{
	struct dns_conf c;
	struct ask k;
	size_t dots = 0;
	int st = DNS_NXDOMAIN;

	dns_conf_init(&c);
	(void)file_lines("/etc/resolv.conf", RESOLV_MAX, conf_fn, &c);    /* up to max bytes: dns.h */
	if (c.nns == 0) {
		c.ns[0].family = AF_INET;
		memcpy(c.ns[0].a, "\177\0\0\1", 4);
		c.nns = 1;
	}
	k.c = &c;
	k.err = 0;
	for (size_t i = 0; i < len; i++)
		dots += name[i] == '.';
	if (name[len] == '\0' && dots < (size_t)c.ndots) {   /* no trailing dot */
		const char *p = c.search, *end = p + strlen(p), *d;
		char fq[NAME_MAX_LEN + 2];  /* name.domain */
		size_t dl;

		memcpy(fq, name, len);
		fq[len] = '.';
		while (st == DNS_NXDOMAIN && (d = field(&p, end, 0, &dl)) != NULL) {
			if (len + 1 + dl >= sizeof fq)
				continue;
			memcpy(fq + len + 1, d, dl);
			fq[len + 1 + dl] = '\0';
			st = ask_name(&k, fq, deadline_ms, out, n);
		}
	}
	if (st == DNS_NXDOMAIN)
		st = ask_name(&k, name, deadline_ms, out, n);
	*err = k.err;
	return st;
}

int
dns_resolve(const char *name, int64_t deadline_ms, struct dns_addr out[DNS_MAX_ADDRS],
    int *n, int *err)
{
	struct dns_addr all[2 * DNS_MAX_ADDRS];
	struct hosts_ctx h = { name, strlen(name), all, 0 };
	int st = DNS_FOUND;

	*n = 0;
	*err = 0;
	if (h.len > 0 && name[h.len - 1] == '.')
		h.len--;
	if (h.len == 0 || h.len > NAME_MAX_LEN)
		return DNS_NXDOMAIN;
	(void)file_lines("/etc/hosts", HOSTS_MAX, hosts_fn, &h);
	*n = h.n;
	if (h.n == 0)
		st = search(name, h.len, deadline_ms, all, n, err);
	if (st == DNS_FOUND) {
		*n = dns_interleave(all, *n);
		memcpy(out, all, (size_t)*n * sizeof *all);
	}
	return st;
}
