/*
 * dns: names to addresses: /etc/hosts, then DNS over UDP, under one deadline.
 *
 * A small stub resolver in place of the libc's getaddrinfo, which needs a thread
 * to be bounded by a deadline, malloc and stdio. It reads /etc/hosts, then
 * /etc/resolv.conf, and asks the name servers itself, with musl's rules where a
 * user would notice them (defaults, search order, all servers asked at once).
 * Everything lives in the caller's buffers or on the stack; nothing here prints.
 *
 * /etc/hosts: the first field of a line is an IPv4 or IPv6 address (inet_pton,
 * so no "127.1"; an IPv6 one may carry a zone, "%2" or "%eth0", as in
 * resolv.conf), the others names; '#' starts a comment. A name
 * matches a field exactly, ignoring ASCII case (musl compares case-sensitively)
 * and one trailing dot of the name asked. Every matching line counts, in file
 * order, and DNS is not asked then.
 *
 * /etc/resolv.conf: "nameserver ADDR" (IPv4 or IPv6, the first 3; none means
 * 127.0.0.1; an IPv6 address may name its zone, "fe80::1%eth0" or "fe80::1%2",
 * as NetworkManager writes for a link-local server: the interface's index is read
 * from /sys/class/net/NAME/ifindex, and an unknown zone makes the line no server), "search" or "domain" (the last such line wins; longer than 255
 * bytes is ignored), "options" with ndots:N (default 1, at most 15), timeout:N
 * (seconds, default 5, 1..60) and attempts:N (default 2, 1..10). Anything else
 * is ignored; no file means the defaults.
 *
 * Files are read a line at a time (file_each_line): /etc/hosts up to 8 MiB,
 * resolv.conf up to 64 KiB; past the cap, at a line longer than 16 KiB, or at a
 * read error, reading stops and the lines before count. A file that cannot be
 * opened, or is not a regular file, counts as empty.
 *
 * Search (musl 1.2.3's order): a name with a trailing dot, or with at least
 * ndots dots, is asked as it is, and only so. A shorter one is tried with each
 * search domain appended in turn, then as it is. Only NXDOMAIN moves on to the
 * next candidate; an answer without addresses, a failure or a timeout ends the
 * search (as in musl).
 *
 * Asking: A and AAAA queries (random 16-bit IDs from report_random, no EDNS, so
 * answers are at most 512 bytes; a bigger datagram counts as truncated) go to every name
 * server at once, each over its own connected UDP socket, so only the server
 * asked can answer. Unanswered questions are sent again every timeout/attempts
 * seconds; a candidate name gets `timeout` seconds in all, and the deadline
 * bounds everything (poll). The first valid answer to each question is taken.
 * An answer is valid when its ID, QR bit, opcode and echoed question (name in
 * any case, type, class) match; anything else is ignored. Then:
 *   TC bit set                 the server failed this question (no TCP
 *                              fallback, as in musl 1.2.3, which would use the
 *                              records that fit; anontel uses none): "temporary"
 *   SERVFAIL, REFUSED          the server failed this question, not asked it
 *                              again (musl asks once more): "temporary"
 *   other non-zero RCODE       the server failed this question: "failed"
 *   NXDOMAIN                   the name does not exist: the lookup ends at once
 *   NOERROR                    the answer section is read: the CNAME chain from
 *                              the name asked (at most 8 links), then its A or
 *                              AAAA records of class IN; a malformed record
 *                              (bad lengths, compression pointers that do not
 *                              point backwards, names over 255 bytes) makes
 *                              the server fail the question: "malformed"
 * A question fails when every server has failed it, or a server's socket reports
 * an error (ICMP port unreachable, ...). Addresses from either question make the
 * lookup succeed, even when the other question failed.
 *
 * Order of the result: IPv6 and IPv4 interleaved, IPv6 first (RFC 8305 section 4),
 * each family in the order it came (file order, answer order); at most
 * DNS_MAX_ADDRS. No route check: on a box without IPv6 an IPv6 address fails at
 * connect() at once and the next one is tried.
 */
#ifndef ANONTEL_DNS_H
#define ANONTEL_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define DNS_MAX_ADDRS 16     /* addresses a lookup returns */
#define DNS_MAX_NS 3         /* name servers read from resolv.conf */
#define DNS_QUERY_MAX 280    /* a query: header, a name of <= 255 bytes, type, class */
#define DNS_ANSWER_MAX 512   /* an answer over UDP without EDNS */

struct dns_addr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char a[16];     /* 4 or 16 bytes, network order */
	uint32_t scope;          /* IPv6 zone: an interface index, 0 for none */
};

/* A sockaddr for an IPv4 or IPv6 address. */
union dns_sa {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

/* Outcomes, from an answer or a whole lookup. The order matters: when no address
 * was found, a lookup reports the highest of its questions' outcomes. */
enum dns_status {
	DNS_FOUND,       /* at least one address */
	DNS_NODATA,      /* the name exists, without an address */
	DNS_NXDOMAIN,    /* the name does not exist (or cannot be a DNS name) */
	DNS_AGAIN,       /* SERVFAIL, REFUSED, truncated, or no answer in `timeout` */
	DNS_FAIL,        /* another RCODE */
	DNS_BAD,         /* a malformed answer */
	DNS_SYSERR,      /* a system call failed (errno in *err) */
	DNS_TIMEOUT,     /* the deadline passed */
	DNS_IGNORE       /* dns_answer only: not an answer to this query */
};

struct dns_conf {
	struct dns_addr ns[DNS_MAX_NS];
	int nns;
	int ndots, timeout, attempts;
	char search[256];        /* the search domains, blank-separated */
};

/*
 * Resolves name (not a literal: the caller parses those) before deadline_ms
 * (net_now_ms's clock). Returns DNS_FOUND with out[0..*n-1], or another status
 * (*err = errno for DNS_SYSERR). Neither an empty name nor one of more than 253
 * bytes (a trailing dot aside) resolves.
 */
int dns_resolve(const char *name, int64_t deadline_ms, struct dns_addr out[DNS_MAX_ADDRS],
    int *n, int *err);

/* An address literal of n bytes (IPv4, or IPv6 with an optional %zone: an interface
 * name or index) into *a; returns 1, or 0 when it is not one. */
int dns_addr_parse(const char *s, size_t n, struct dns_addr *a);

/* Fills *u for a at port; returns its length. */
socklen_t dns_sockaddr(union dns_sa *u, const struct dns_addr *a, uint16_t port);

/* ---- the parsers, for the tests and the fuzz target -------------------------- */

/* Sets musl's defaults: no name server yet, ndots 1, timeout 5, attempts 2. */
void dns_conf_init(struct dns_conf *c);

/* Applies one line of resolv.conf (line..end, no "\n"). */
void dns_conf_line(struct dns_conf *c, const char *line, const char *end);

/* 1 when the /etc/hosts line (line..end) lists name (namelen bytes, no trailing
 * dot), with the line's address in *a; else 0 (*a may have been written). */
int dns_hosts_line(const char *line, const char *end, const char *name, size_t namelen,
    struct dns_addr *a);

/* Writes a recursive query for name (dotted, one trailing dot allowed) of type
 * qtype (1 A, 28 AAAA) with ID id into q[cap]. Returns its length, or 0 when name
 * cannot be a DNS name (empty label, label over 63 bytes, over 253 bytes). */
size_t dns_query(unsigned char *q, size_t cap, uint16_t id, const char *name, unsigned qtype);

/* Judges p[len] as the answer to the query q[qlen] (made by dns_query): returns
 * DNS_IGNORE when it is not one, DNS_FOUND with the addresses of the name's type
 * in out[0..*n-1] (at most max; the rest dropped), or DNS_NODATA, DNS_NXDOMAIN,
 * DNS_AGAIN, DNS_FAIL or DNS_BAD as described at the top. */
int dns_answer(const unsigned char *p, size_t len, const unsigned char *q, size_t qlen,
    struct dns_addr *out, int max, int *n);

/* Reorders a[0..n-1] IPv6 first, then alternating families, each family in its
 * order; returns min(n, DNS_MAX_ADDRS), the count kept at the front. */
int dns_interleave(struct dns_addr *a, int n);

#endif
