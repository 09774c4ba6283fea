/*
 * fuzz_dns: dns_answer (src/dns.c), the parser of what a DNS server sends back,
 * and the resolv.conf and /etc/hosts line parsers.
 *
 * The input's first byte picks the query (even: A, odd: AAAA, for
 * "api.example.test" with ID 0xbeef, as dns_query writes it); the rest is the
 * answer. Invariants: the outcome is one dns.h lists; DNS_FOUND exactly when
 * addresses came back, at most the max asked for, of the query's family, each
 * one 4 or 16 bytes found in the packet; the same input judged twice gives the
 * same; an answer taken is ignored with its ID changed or its QR bit cleared; no
 * prefix of a found answer ends in an address read past the prefix (ASan).
 * Then the input, cut at "\n", is read as resolv.conf lines (every field within
 * dns.h's ranges, the search list NUL-terminated) and as /etc/hosts lines for
 * the name "api.example.test" (a match names it, ignoring case, as a field).
 */
#include "fuzz_util.h"

#include <arpa/inet.h>
#include <strings.h>

#include "dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char NAME[] = "api.example.test";

/* The first n addresses of a and b agree (al bytes each). */
static int
same(const struct dns_addr *a, const struct dns_addr *b, int n, size_t al)
{
	for (int i = 0; i < n; i++)
		if (a[i].family != b[i].family || memcmp(a[i].a, b[i].a, al) != 0)
			return 0;
	return 1;
}

static void
check_answer(const unsigned char *p, size_t len, const unsigned char *q, size_t qlen,
    unsigned qtype)
{
	struct dns_addr a[DNS_MAX_ADDRS], b[DNS_MAX_ADDRS];
	unsigned char copy[DNS_ANSWER_MAX];
	int n, m, st, max = len % 2 ? DNS_MAX_ADDRS : 3;

	st = dns_answer(p, len, q, qlen, a, max, &n);
	FUZZ_CHECK(st >= DNS_FOUND && st <= DNS_IGNORE && st != DNS_SYSERR && st != DNS_TIMEOUT,
	    "status %d", st);
	FUZZ_CHECK((st == DNS_FOUND) == (n > 0), "status %d with %d addresses", st, n);
	FUZZ_CHECK(n >= 0 && n <= max, "%d addresses, max %d", n, max);
	for (int i = 0; i < n && st == DNS_FOUND; i++) {
		size_t al = qtype == 1 ? 4 : 16;

		FUZZ_CHECK(a[i].family == (qtype == 1 ? AF_INET : AF_INET6), "family %d", a[i].family);
		FUZZ_CHECK(memmem(p, len, a[i].a, al) != NULL, "address %d not in the packet", i);
	}
	m = -1;
	FUZZ_CHECK(dns_answer(p, len, q, qlen, b, max, &m) == st && m == n &&
	    same(a, b, n, qtype == 1 ? 4 : 16), "not the same twice");
	if (st != DNS_IGNORE) {        /* then len >= 12 */
		memcpy(copy, p, len);
		copy[0] ^= 0x40;
		FUZZ_CHECK(dns_answer(copy, len, q, qlen, b, max, &m) == DNS_IGNORE, "another ID");
		copy[0] ^= 0x40;
		copy[2] &= 0x7f;
		FUZZ_CHECK(dns_answer(copy, len, q, qlen, b, max, &m) == DNS_IGNORE, "QR clear");
	}
	if (st == DNS_FOUND)
		for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
			unsigned char *pre = malloc(cut + 1);   /* its own allocation: ASan sees overreads */

			memcpy(pre, p, cut);
			(void)dns_answer(pre, cut, q, qlen, b, max, &m);
			free(pre);
		}
}

static void
check_text(const uint8_t *data, size_t size)
{
	struct dns_conf c;
	size_t off[64], len[64], n = fz_split(data, size, "\n", 1, 64, off, len);

	dns_conf_init(&c);
	for (size_t i = 0; i < n; i++) {
		const char *s = (const char *)data + off[i];
		struct dns_addr a;

		dns_conf_line(&c, s, s + len[i]);
		if (dns_hosts_line(s, s + len[i], NAME, sizeof NAME - 1, &a) == 1) {
			int found = 0;

			FUZZ_CHECK(a.family == AF_INET || a.family == AF_INET6, "hosts family");
			for (size_t k = 0; k + sizeof NAME - 1 <= len[i]; k++)
				found |= strncasecmp(s + k, NAME, sizeof NAME - 1) == 0;
			FUZZ_CHECK(found, "a hosts line matched without the name in it");
		}
	}
	FUZZ_CHECK(c.nns >= 0 && c.nns <= DNS_MAX_NS, "nns %d", c.nns);
	FUZZ_CHECK(c.ndots >= 0 && c.ndots <= 15 && c.timeout >= 1 && c.timeout <= 60 &&
	    c.attempts >= 1 && c.attempts <= 10, "options %d %d %d", c.ndots, c.timeout, c.attempts);
	FUZZ_CHECK(memchr(c.search, '\0', sizeof c.search) != NULL, "search not terminated");
	for (int i = 0; i < c.nns; i++)
		FUZZ_CHECK(c.ns[i].family == AF_INET || c.ns[i].family == AF_INET6, "ns family");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char q[DNS_QUERY_MAX], *p;
	unsigned qtype;
	size_t qlen;

	if (size == 0 || size - 1 > DNS_ANSWER_MAX)
		return 0;
	qtype = data[0] % 2 ? 28 : 1;
	qlen = dns_query(q, sizeof q, 0xbeef, NAME, qtype);
	FUZZ_CHECK(qlen == 34, "query length %zu", qlen);
	p = malloc(size - 1 + 1);               /* exact size: ASan sees any overread */
	memcpy(p, data + 1, size - 1);
	check_answer(p, size - 1, q, qlen, qtype);
	free(p);
	check_text(data, size);
	return 0;
}
