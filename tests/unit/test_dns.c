/*
 * Unit tests for src/dns.c's parsers: queries, answers (made here byte by byte,
 * hostile ones too, and every prefix of a good one), resolv.conf and /etc/hosts
 * lines, and the address order. The resolver against real DNS servers:
 * tests/integration/test_dns.py (dnsmasq).
 */
#include "check.h"
#include "dns.h"

#include <arpa/inet.h>
#include <stdlib.h>

/* ---- queries ------------------------------------------------------------------ */

static void
t_query(void)
{
	unsigned char q[DNS_QUERY_MAX];
	static const unsigned char want[] = { 0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'a', 'p', 'i', 4, 'T', 'e', 's', 't', 0, 0, 28, 0, 1 };
	char name[300];

	CHECK(dns_query(q, sizeof q, 0x1234, "api.Test", 28) == sizeof want);
	CHECK(memcmp(q, want, sizeof want) == 0);
	CHECK(dns_query(q, sizeof q, 0x1234, "api.Test.", 28) == sizeof want);
	CHECK(memcmp(q, want, sizeof want) == 0);
	CHECK(dns_query(q, sizeof q, 1, "", 1) == 0);
	CHECK(dns_query(q, sizeof q, 1, ".", 1) == 0);
	CHECK(dns_query(q, sizeof q, 1, "a..b", 1) == 0);
	CHECK(dns_query(q, sizeof q, 1, ".a", 1) == 0);
	CHECK(dns_query(q, sizeof q, 1, "a.b..", 1) == 0);
	/* labels of 63 and 64 bytes */
	memset(name, 'x', 64);
	name[63] = '\0';
	CHECK(dns_query(q, sizeof q, 1, name, 1) == 12 + 65 + 4);
	name[63] = 'x';
	name[64] = '\0';
	CHECK(dns_query(q, sizeof q, 1, name, 1) == 0);
	/* 253 bytes is the longest name; 254 is refused */
	for (int i = 0; i < 253; i++)
		name[i] = i % 2 ? '.' : 'a';
	name[253] = '\0';
	CHECK(dns_query(q, sizeof q, 1, name, 1) == 12 + 255 + 4);
	name[253] = '.';           /* a trailing dot is allowed */
	name[254] = '\0';
	CHECK(dns_query(q, sizeof q, 1, name, 1) == 12 + 255 + 4);
	name[253] = 'a';
	CHECK(dns_query(q, sizeof q, 1, name, 1) == 0);
	CHECK(dns_query(q, 20, 1, "api.test", 1) == 0);   /* does not fit */
}

/* ---- answers ------------------------------------------------------------------ */

struct pkt {
	unsigned char b[DNS_ANSWER_MAX];
	size_t n;
};

static void
put(struct pkt *p, const void *s, size_t n)
{
	if (p->n + n <= sizeof p->b)
		memcpy(p->b + p->n, s, n);
	p->n += n;
}

static void
put16(struct pkt *p, unsigned v)
{
	unsigned char b[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	put(p, b, 2);
}

/* A dotted name in wire form; "@N" alone is a pointer to offset N. */
static void
put_name(struct pkt *p, const char *name)
{
	if (name[0] == '@') {
		put16(p, 0xc000u | (unsigned)atoi(name + 1));
		return;
	}
	while (*name != '\0') {
		const char *dot = strchr(name, '.');
		size_t l = dot != NULL ? (size_t)(dot - name) : strlen(name);
		unsigned char c = (unsigned char)l;

		put(p, &c, 1);
		put(p, name, l);
		name += l + (dot != NULL);
		if (name[0] == '@') {           /* "label.@N": labels, then a pointer */
			put16(p, 0xc000u | (unsigned)atoi(name + 1));
			return;
		}
	}
	put(p, "", 1);
}

/* The answer's header and question for query q: flags byte 2 and 3, ancount. */
static void
answer_head(struct pkt *p, const unsigned char *q, size_t qlen, unsigned f2, unsigned f3,
    unsigned ancount)
{
	p->n = 0;
	put(p, q, qlen);
	p->b[2] = (unsigned char)f2;
	p->b[3] = (unsigned char)f3;
	p->b[6] = (unsigned char)(ancount >> 8);
	p->b[7] = (unsigned char)ancount;
}

static void
put_rr(struct pkt *p, const char *owner, unsigned type, unsigned cls, const void *rd,
    size_t rdlen)
{
	put_name(p, owner);
	put16(p, type);
	put16(p, cls);
	put(p, "\0\0\1\0", 4);
	put16(p, (unsigned)rdlen);
	put(p, rd, rdlen);
}

/* A CNAME record whose data is the name target (wire form via put_name). */
static void
put_cname(struct pkt *p, const char *owner, const char *target)
{
	struct pkt t = { { 0 }, 0 };

	put_name(&t, target);
	put_rr(p, owner, 5, 1, t.b, t.n);
}

static const unsigned char A1[4] = { 127, 0, 0, 1 }, A2[4] = { 192, 0, 2, 7 };
static const unsigned char V6[16] = { [15] = 1 };

static unsigned char qa[DNS_QUERY_MAX], qaaaa[DNS_QUERY_MAX];
static size_t qa_len, qaaaa_len;

static void
make_queries(void)
{
	qa_len = dns_query(qa, sizeof qa, 0xbeef, "Api.Example.test", 1);
	qaaaa_len = dns_query(qaaaa, sizeof qaaaa, 0x0102, "api.example.test", 28);
	CHECK(qa_len == 34 && qaaaa_len == 34);
}

static int
judge(const struct pkt *p, const unsigned char *q, size_t qlen, struct dns_addr *out, int *n)
{
	return dns_answer(p->b, p->n, q, qlen, out, DNS_MAX_ADDRS, n);
}

/* The name's offset in an answer to qa: the question starts at 12. */
#define QNAME "@12"

static void
t_answer_addresses(void)
{
	struct pkt p;
	struct dns_addr a[DNS_MAX_ADDRS];
	int n;

	make_queries();
	/* Two A records, owner by pointer and spelled out in another case. */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 2);
	put_rr(&p, QNAME, 1, 1, A1, 4);
	put_rr(&p, "API.example.TEST", 1, 1, A2, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_FOUND);
	CHECK(n == 2 && a[0].family == AF_INET && memcmp(a[0].a, A1, 4) == 0);
	CHECK(n == 2 && a[1].family == AF_INET && memcmp(a[1].a, A2, 4) == 0);

	/* AAAA; records of another type, class or owner are passed over. */
	answer_head(&p, qaaaa, qaaaa_len, 0x81, 0x80, 4);
	put_rr(&p, QNAME, 1, 1, A1, 4);
	put_rr(&p, QNAME, 28, 3, V6, 16);
	put_rr(&p, "other.test", 28, 1, V6, 16);
	put_rr(&p, QNAME, 28, 1, V6, 16);
	CHECK(judge(&p, qaaaa, qaaaa_len, a, &n) == DNS_FOUND);
	CHECK(n == 1 && a[0].family == AF_INET6 && memcmp(a[0].a, V6, 16) == 0);

	/* NOERROR without an address: no data */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 0);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA && n == 0);
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, "other.test", 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA);

	/* 20 addresses: the first max are kept */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 20);
	for (int i = 0; i < 20; i++)
		put_rr(&p, QNAME, 1, 1, A2, 4);
	CHECK(dns_answer(p.b, p.n, qa, qa_len, a, 3, &n) == DNS_FOUND && n == 3);
}

static void
t_answer_cname(void)
{
	struct pkt p;
	struct dns_addr a[DNS_MAX_ADDRS];
	char owner[32], target[32];
	int n;

	make_queries();
	/* api -> b.test -> c.test (A); the records out of order, pointers into names */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 4);
	put_rr(&p, "c.test", 1, 1, A2, 4);          /* at 34: c.test */
	put_cname(&p, "b.@36", "c.@36");            /* b.test -> c.test, "test" at 36 */
	put_cname(&p, QNAME, "b.test");
	put_rr(&p, "b.test", 1, 1, A1, 4);          /* b's own A: not the end of the chain */
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_FOUND);
	CHECK(n == 1 && memcmp(a[0].a, A2, 4) == 0);

	/* a chain that ends nowhere: no data */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_cname(&p, QNAME, "gone.test");
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA);

	/* a loop: a -> b -> a */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 2);
	put_cname(&p, QNAME, "b.test");
	put_cname(&p, "b.test", "api.example.test");
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA);

	/* 8 links are followed, 9 are not */
	for (int links = 8; links <= 9; links++) {
		answer_head(&p, qa, qa_len, 0x81, 0x80, (unsigned)links + 1);
		put_cname(&p, QNAME, "l1.test");
		for (int i = 1; i < links; i++) {
			snprintf(owner, sizeof owner, "l%d.test", i);
			snprintf(target, sizeof target, "l%d.test", i + 1);
			put_cname(&p, owner, target);
		}
		snprintf(owner, sizeof owner, "l%d.test", links);
		put_rr(&p, owner, 1, 1, A1, 4);
		CHECKF(judge(&p, qa, qa_len, a, &n) == (links == 8 ? DNS_FOUND : DNS_NODATA),
		    "%d links", links);
	}
	/* 9 links with an address met on the way: no data, and no address with it */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 11);
	put_cname(&p, QNAME, "l1.test");
	for (int i = 1; i < 9; i++) {
		snprintf(owner, sizeof owner, "l%d.test", i);
		snprintf(target, sizeof target, "l%d.test", i + 1);
		if (i == 8)
			put_rr(&p, owner, 1, 1, A1, 4);
		put_cname(&p, owner, target);
	}
	put_rr(&p, "l9.test", 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA && n == 0);
}

static void
t_answer_rcodes(void)
{
	static const struct {
		unsigned f2, f3;
		int want;
	} rows[] = {
		{ 0x81, 0x83, DNS_NXDOMAIN },
		{ 0x81, 0x82, DNS_AGAIN },     /* SERVFAIL */
		{ 0x81, 0x85, DNS_AGAIN },     /* REFUSED */
		{ 0x83, 0x80, DNS_AGAIN },     /* TC */
		{ 0x81, 0x81, DNS_FAIL },      /* FORMERR */
		{ 0x81, 0x84, DNS_FAIL },      /* NOTIMP */
		{ 0x01, 0x80, DNS_IGNORE },    /* QR clear: a query, not an answer */
		{ 0x89, 0x80, DNS_IGNORE },    /* opcode 1 */
	};
	struct pkt p;
	struct dns_addr a[DNS_MAX_ADDRS];
	int n;

	make_queries();
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		answer_head(&p, qa, qa_len, rows[i].f2, rows[i].f3, 0);
		CHECKF(judge(&p, qa, qa_len, a, &n) == rows[i].want, "flags %02x %02x", rows[i].f2,
		    rows[i].f3);
	}
}

static void
t_answer_not_ours(void)
{
	struct pkt p;
	struct dns_addr a[DNS_MAX_ADDRS];
	int n;

	make_queries();
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, QNAME, 1, 1, A1, 4);
	p.b[1] ^= 1;                                         /* another ID */
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_IGNORE);
	CHECK(judge(&p, qaaaa, qaaaa_len, a, &n) == DNS_IGNORE);  /* the A answer to AAAA */
	p.b[1] ^= 1;
	p.b[13] = 'x';                                       /* another name */
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_IGNORE);
	p.b[13] = 'a';
	p.b[33] = 3;                                         /* another class */
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_IGNORE);
	p.b[33] = 1;
	p.b[5] = 2;                                          /* two questions */
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_IGNORE);
	p.b[5] = 1;
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_FOUND);    /* and back: ours */
	/* no question at all */
	p.n = 12;
	p.b[5] = 0;
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_IGNORE);
}

static void
t_answer_malformed(void)
{
	struct pkt p;
	struct dns_addr a[DNS_MAX_ADDRS];
	int n;

	make_queries();
	/* an owner that points at itself */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, "@34", 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* a pointer forwards */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, "@60", 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* two names pointing at each other: x.@52 at 34, y.@34 at 52 */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 2);
	put_rr(&p, "x.@52", 1, 1, A1, 4);
	put_rr(&p, "y.@34", 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* an A record of 5 bytes, an AAAA of 4 */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, QNAME, 1, 1, "\1\2\3\4\5", 5);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	answer_head(&p, qaaaa, qaaaa_len, 0x81, 0x80, 1);
	put_rr(&p, QNAME, 28, 1, A1, 4);
	CHECK(judge(&p, qaaaa, qaaaa_len, a, &n) == DNS_BAD);
	/* more records announced than sent */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 3);
	put_rr(&p, QNAME, 1, 1, A1, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* a CNAME whose data runs past its length */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, QNAME, 5, 1, "\1b\4test\0", 3);
	put(&p, "\4test\0", 6);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* a label of type 0x40 (extended), and one of 0x80 */
	answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
	put_rr(&p, QNAME, 1, 1, A1, 4);
	p.b[34] = 0x41;
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	p.b[34] = 0x81;
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
	/* a name of 257 bytes in wire form, then one of 255 */
	{
		char owner[64 * 5];
		struct pkt l;

		answer_head(&p, qa, qa_len, 0x81, 0x80, 1);
		memset(owner, 'z', sizeof owner);
		for (int i = 0; i < 4; i++)
			owner[i * 64 + 63] = '.';
		owner[4 * 64 - 1] = '\0';           /* 4 labels of 63: 256 bytes in wire form */
		l = p;
		put_rr(&p, owner, 1, 1, A1, 4);
		CHECK(judge(&p, qa, qa_len, a, &n) == DNS_BAD);
		owner[3 * 64 + 61] = '\0';          /* 255 bytes: fine, and not ours */
		p = l;
		put_rr(&p, owner, 1, 1, A1, 4);
		CHECK(judge(&p, qa, qa_len, a, &n) == DNS_NODATA);
	}
}

/* Every prefix of a good answer: never an address, never a crash (ASan). */
static void
t_answer_every_prefix(void)
{
	struct pkt p, cut;
	struct dns_addr a[DNS_MAX_ADDRS];
	int n, st;

	make_queries();
	answer_head(&p, qa, qa_len, 0x81, 0x80, 3);
	put_cname(&p, QNAME, "b.test");
	put_rr(&p, "b.@48", 28, 1, V6, 16);        /* "test" of the CNAME's data */
	put_rr(&p, "b.test", 1, 1, A2, 4);
	CHECK(judge(&p, qa, qa_len, a, &n) == DNS_FOUND && n == 1);
	for (size_t len = 0; len < p.n; len++) {
		memcpy(cut.b, p.b, len);
		cut.n = len;
		st = judge(&cut, qa, qa_len, a, &n);
		CHECKF(st == DNS_IGNORE || st == DNS_BAD, "prefix of %zu bytes: %d", len, st);
	}
}

/* ---- resolv.conf ---------------------------------------------------------------- */

static void
conf(struct dns_conf *c, const char *text)
{
	dns_conf_init(c);
	while (*text != '\0') {
		const char *eol = strchr(text, '\n');

		dns_conf_line(c, text, eol);
		text = eol + 1;
	}
}

static void
t_conf(void)
{
	struct dns_conf c;
	char s[64];

	conf(&c, "");
	CHECK(c.nns == 0 && c.ndots == 1 && c.timeout == 5 && c.attempts == 2 && c.search[0] == 0);

	conf(&c, "# a comment\nnameserver2 1.1.1.1\n nameserver 10.9.9.9\nnameserver 10.0.0.1\n"
	    "nameserver\t::1\nnameserver bogus\nnameserver 10.0.0.3 # comment\n"
	    "nameserver 10.0.0.4\n");
	CHECK(c.nns == 3);
	inet_ntop(AF_INET, c.ns[0].a, s, sizeof s);
	CHECK(c.ns[0].family == AF_INET && strcmp(s, "10.0.0.1") == 0);
	inet_ntop(AF_INET6, c.ns[1].a, s, sizeof s);
	CHECK(c.ns[1].family == AF_INET6 && strcmp(s, "::1") == 0);
	inet_ntop(AF_INET, c.ns[2].a, s, sizeof s);
	CHECK(c.ns[2].family == AF_INET && strcmp(s, "10.0.0.3") == 0);

	/* IPv6 zones: a number, or an interface's name read as its index; an unknown
	 * one makes the line no server. lo's index is read from sysfs here too. */
	{
		FILE *f = fopen("/sys/class/net/lo/ifindex", "r");
		unsigned lo = 0;

		CHECK(f != NULL && fscanf(f, "%u", &lo) == 1 && lo > 0);
		if (f != NULL)
			fclose(f);
		conf(&c, "nameserver fe80::1%lo\nnameserver fe80::2%7\nnameserver fe80::3%nope0\n"
		    "nameserver fe80::4%../lo\nnameserver 10.0.0.1%lo\nnameserver fe80::5%\n");
		CHECK(c.nns == 2 && c.ns[0].scope == lo && c.ns[1].scope == 7);
		inet_ntop(AF_INET6, c.ns[1].a, s, sizeof s);
		CHECK_STR(s, "fe80::2", "zone cut off the address");
		conf(&c, "nameserver 10.0.0.1\n");
		CHECK(c.nns == 1 && c.ns[0].scope == 0);
	}

	conf(&c, "search a.test b.test\ndomain c.test\r\n");
	CHECK_STR(c.search, " c.test\r", "domain wins, kept as written");
	conf(&c, "domain c.test\nsearch  a.test\tb.test\nsearch\n");
	CHECK_STR(c.search, "  a.test\tb.test", "search");

	conf(&c, "options ndots:3 timeout:2 attempts:4 rotate\n");
	CHECK(c.ndots == 3 && c.timeout == 2 && c.attempts == 4);
	conf(&c, "options ndots:99 timeout:0 attempts:0\n");
	CHECK(c.ndots == 15 && c.timeout == 1 && c.attempts == 1);
	conf(&c, "options timeout:1000000000000 attempts:99 ndots:0\n");
	CHECK(c.ndots == 0 && c.timeout == 60 && c.attempts == 10);
	conf(&c, "options ndots:x timeout: attempts:-1 ndots\n");
	CHECK(c.ndots == 1 && c.timeout == 5 && c.attempts == 2);
}

/* ---- /etc/hosts ------------------------------------------------------------------ */

static int
hosts(const char *line, const char *name, char *addr, size_t addrlen)
{
	struct dns_addr a;

	if (!dns_hosts_line(line, line + strlen(line), name, strlen(name), &a))
		return 0;
	inet_ntop(a.family, a.a, addr, (socklen_t)addrlen);
	return 1;
}

static void
t_hosts(void)
{
	char s[64];

	CHECK(hosts("127.0.0.2 a.test alias", "a.test", s, sizeof s) && strcmp(s, "127.0.0.2") == 0);
	CHECK(hosts("127.0.0.2\ta.test  alias\r", "ALIAS", s, sizeof s));
	CHECK(hosts("::1 v6.test", "V6.Test", s, sizeof s) && strcmp(s, "::1") == 0);
	CHECK(!hosts("127.0.0.2 a.test", "a.tes", s, sizeof s));
	CHECK(!hosts("127.0.0.2 a.test", "a.test.x", s, sizeof s));
	CHECK(!hosts("127.0.0.2 a.test#x", "x", s, sizeof s));
	CHECK(hosts("127.0.0.2 a.test#x", "a.test", s, sizeof s));
	CHECK(!hosts("# 127.0.0.2 a.test", "a.test", s, sizeof s));
	CHECK(!hosts("127.0.0.2 # a.test", "a.test", s, sizeof s));
	CHECK(!hosts("127.1 a.test", "a.test", s, sizeof s));
	CHECK(hosts("fe80::1%lo a.test", "a.test", s, sizeof s) && strcmp(s, "fe80::1") == 0);
	CHECK(!hosts("fe80::1%no-such-if0 a.test", "a.test", s, sizeof s));
	CHECK(!hosts("127.0.0.2%lo a.test", "a.test", s, sizeof s));
	CHECK(!hosts("a.test 127.0.0.2", "a.test", s, sizeof s));
	CHECK(!hosts("127.0.0.2", "127.0.0.2", s, sizeof s));
	CHECK(!hosts("", "a.test", s, sizeof s));
}

/* ---- order ----------------------------------------------------------------------- */

static void
t_interleave(void)
{
	struct dns_addr a[2 * DNS_MAX_ADDRS];
	const char *in = "446664", *want = "646464";
	int n;

	for (int i = 0; in[i] != '\0'; i++) {
		a[i].family = in[i] == '6' ? AF_INET6 : AF_INET;
		a[i].a[0] = (unsigned char)i;
	}
	n = dns_interleave(a, 6);
	CHECK(n == 6);
	for (int i = 0; i < n; i++)
		CHECKF((a[i].family == AF_INET6) == (want[i] == '6'), "position %d", i);
	/* each family keeps its order: v6 were 2,3,4 and v4 0,1,5 */
	CHECK(a[0].a[0] == 2 && a[2].a[0] == 3 && a[4].a[0] == 4);
	CHECK(a[1].a[0] == 0 && a[3].a[0] == 1 && a[5].a[0] == 5);
	/* one family alone keeps its order; more than DNS_MAX_ADDRS are cut */
	for (int i = 0; i < 2 * DNS_MAX_ADDRS; i++) {
		a[i].family = AF_INET;
		a[i].a[0] = (unsigned char)i;
	}
	n = dns_interleave(a, 2 * DNS_MAX_ADDRS);
	CHECK(n == DNS_MAX_ADDRS);
	for (int i = 0; i < n; i++)
		CHECK(a[i].a[0] == i);
}

static const struct check_case cases[] = {
	{ "query", t_query },
	{ "answer_addresses", t_answer_addresses },
	{ "answer_cname", t_answer_cname },
	{ "answer_rcodes", t_answer_rcodes },
	{ "answer_not_ours", t_answer_not_ours },
	{ "answer_malformed", t_answer_malformed },
	{ "answer_every_prefix", t_answer_every_prefix },
	{ "conf", t_conf },
	{ "hosts", t_hosts },
	{ "interleave", t_interleave },
};

CHECK_MAIN(cases)
