/*
 * net: name resolution and TCP under one deadline.
 *
 * Deadlines are absolute CLOCK_MONOTONIC milliseconds (net_now_ms() + timeout).
 * Every wait is a poll() bounded by the deadline; sockets are non-blocking.
 * Resolution runs getaddrinfo on a helper thread, so a resolver that never
 * answers cannot hold the process past the deadline.
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
 * connects to port, trying every address getaddrinfo returns (IPv6 and IPv4) in
 * turn until one accepts, all before the deadline. Returns a connected
 * non-blocking socket, or -1 with one line in err: "HOST: name does not resolve",
 * "HOST: resolving timed out", "HOST:PORT: connection refused",
 * "HOST:PORT: connect timed out", ...
 */
int net_connect(const char *host, uint16_t port, int64_t deadline_ms, char *err, size_t errlen);

/* Writes all n bytes before the deadline. Returns 0, or -1 with err. */
int net_write_all(int fd, const void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen);

/* Reads at most n bytes, waiting until the deadline. Returns the count, 0 at end of
 * stream, or -1 with err ("timed out", "connection reset", ...). */
ssize_t net_read(int fd, void *p, size_t n, int64_t deadline_ms, char *err, size_t errlen);

/* Waits until fd is readable (POLLIN) or writable (POLLOUT) or the deadline passes.
 * Returns 1 ready, 0 timed out, -1 error. */
int net_wait(int fd, short events, int64_t deadline_ms);

#endif
