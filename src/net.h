/*
 * net: name resolution and TCP under one deadline.
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds (net_now_ms() + timeout).
 * Every wait is a poll() bounded by the deadline; sockets are non-blocking.
 * Names are resolved by dns.c (/etc/hosts, then DNS over UDP) on the caller's
 * thread, polling under the same deadline, so a name server that never answers
 * cannot hold the process past it. No threads, no allocation. Error lines go to
 * a caller's err[errlen]; err may be NULL (or errlen 0) when no line is wanted.
 */
#ifndef ANONTEL_NET_H
#define ANONTEL_NET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t net_now_ms(void);

/*
 * Resolves host (a name, an IPv4 literal or an IPv6 literal without brackets) and
 * connects to port, trying every address dns_resolve returns (IPv6 and IPv4
 * interleaved, IPv6 first, at most 16) until one accepts, all before the deadline.
 * A literal is parsed in place (dns_addr_parse, dns.h), and a localhost name
 * (net_is_localhost) is 127.0.0.1 then ::1: no /etc/hosts, no DNS. An address that
 * fails lets the next one start at once; one still pending after 250 ms lets the
 * next start alongside it (RFC 8305's connection attempt delay), and the first to
 * connect wins, so a black-holed address costs 250 ms, not the whole deadline.
 * Returns a connected socket (non-blocking, close-on-exec), or -1 with one line in
 * err:
 *   "HOST: name does not resolve"          NXDOMAIN, no address, empty host
 *   "HOST: temporary failure resolving"    SERVFAIL, REFUSED, truncated, or no
 *                                          answer within resolv.conf's timeout
 *   "HOST: resolving timed out"            deadline passed during resolution
 *   "HOST: resolving failed: WHY"          a malformed answer, another RCODE, a
 *                                          system call's error (dns.h)
 *   "HOST:PORT: connection refused"        also "host unreachable", "network
 *   "HOST:PORT: connect timed out"         unreachable", "connection reset", strerror
 * HOST:PORT is "[HOST]:PORT" for an IPv6 literal. With several addresses the
 * connect line ends in " (N addresses tried)" and names the most telling error
 * (a peer's answer beats "network unreachable" from a family the box lacks).
 */
int net_connect(const char *host, uint16_t port, int64_t deadline_ms, char *err, size_t errlen);

/* 1 when host is "localhost" or ends in ".localhost" (either case, one trailing dot
 * allowed): loopback by RFC 6761 6.3, never resolved by DNS. */
int net_is_localhost(const char *host);

/* Writes all n bytes before the deadline (send with MSG_NOSIGNAL: a closed peer
 * is an error, never SIGPIPE). Returns 0, or -1 with err ("timed out",
 * "connection reset", "connection closed by peer", ...). */
int net_write_all(int fd, const void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen);

/* Reads at most n bytes, waiting until the deadline. Returns the count, 0 at end of
 * stream (or when n is 0), or -1 with err ("timed out", "connection reset", ...).
 * Past the deadline it reads nothing, even with data waiting: a peer that sends
 * faster than the caller reads cannot hold it longer. */
ssize_t net_read(int fd, void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen);

/* What net_io returns when it fails (a count is never negative). */
#define NET_IO_FAILED (-1)   /* send or recv failed: errno */
#define NET_IO_TIMEOUT (-2)  /* the deadline passed */
#define NET_IO_WAIT (-3)     /* poll failed: errno */

/*
 * One send (events POLLOUT, with MSG_NOSIGNAL) or recv (POLLIN) of up to n bytes on
 * socket fd, MSG_DONTWAIT (so fd may be blocking or not): while it would block, or
 * first of all with wait_first (right after a send, an answer cannot be there
 * yet), it waits with net_wait. A recv is not tried past the deadline, even with
 * data waiting. Returns the count (0 from recv: the end of the stream), or
 * NET_IO_FAILED, NET_IO_TIMEOUT or NET_IO_WAIT; the callers word them.
 */
ssize_t net_io(int fd, void *p, size_t n, short events, int wait_first, int64_t deadline_ms);

/* Waits until fd is readable (POLLIN) or writable (POLLOUT) or the deadline passes.
 * Returns 1 ready (an error or hang-up on fd counts as ready: the next read or
 * write reports it), 0 timed out, -1 error (errno set; EBADF for a closed fd). */
int net_wait(int fd, short events, int64_t deadline_ms);

#endif
