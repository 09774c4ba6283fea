/*
 * Unit tests for src/net.c. Every peer is on loopback; no packet leaves the box.
 *
 * Cases that need their own /etc/hosts or /etc/resolv.conf run in a forked child
 * that unshares its mount namespace and bind-mounts private copies over the
 * real files (root only; as non-root they are reported and skipped). The
 * "DNS that never answers" case points resolv.conf at a UDP socket this test
 * binds on a random 127.x.y.z:53 and never answers (resolv.conf cannot name a
 * port, so the address varies instead).
 */
#define _GNU_SOURCE /* unshare, CLONE_NEWNS */
#include "check.h"
#include "net.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers --------------------------------------------------------------- */

/* A TCP listener on addr (an IPv4 or IPv6 literal), port 0 = any. Returns the fd
 * and the port, or -1 (e.g. no IPv6). */
static int
listen_on(const char *addr, uint16_t port, int backlog, uint16_t *port_out)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd;

	memset(&ss, 0, sizeof ss);
	if (strchr(addr, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, addr, &s6->sin6_addr) != 1)
			return -1;
		sl = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		if (inet_pton(AF_INET, addr, &s4->sin_addr) != 1)
			return -1;
		sl = sizeof *s4;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, backlog) != 0) {
		close(fd);
		return -1;
	}
	sl = sizeof ss;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
	                                           : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* A port on which nothing listens on addr (bound, then closed). */
static uint16_t
closed_port(const char *addr)
{
	uint16_t port = 0;
	int fd = listen_on(addr, 0, 1, &port);

	if (fd >= 0)
		close(fd);
	return port;
}

static int
has_ipv6(void)
{
	uint16_t port;
	int fd = listen_on("::1", 0, 1, &port);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Fills a listener whose backlog is 0: connects until a SYN goes unanswered,
 * which on Linux means the accept queue is full and further SYNs are dropped.
 * Returns the number of filler sockets (kept open in fillers[]). */
static int
fill_backlog(const char *addr, uint16_t port, int *fillers, int max)
{
	struct sockaddr_in sa;
	int n = 0;

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	inet_pton(AF_INET, addr, &sa.sin_addr);
	while (n < max) {
		struct pollfd p;
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		connect(fd, (struct sockaddr *)&sa, sizeof sa);
		fillers[n++] = fd;
		p.fd = fd;
		p.events = POLLOUT;
		if (poll(&p, 1, 200) == 0)
			return n; /* this one hangs: the queue is full */
	}
	return -1;
}

/* Runs fn in a forked child; returns its exit status (0 when every check passed). */
static int
in_child(void (*fn)(void))
{
	pid_t pid;
	int st = 0;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		check_failures = 0;
		fn();
		fflush(stdout);
		_exit(check_failures == 0 ? 0 : 1);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Writes text to a fresh temp file and bind-mounts it over target. */
static int
bind_text(const char *target, const char *text)
{
	char path[] = "/tmp/anontel-net-XXXXXX";
	int fd = mkstemp(path);
	int rc;

	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	if (rc == 0)
		rc = mount(path, target, NULL, MS_BIND, NULL);
	unlink(path); /* the mount keeps the inode */
	return rc;
}

/* In a child: a private mount namespace with our own /etc/hosts and resolv.conf. */
static int
private_etc(const char *hosts, const char *resolv)
{
	if (unshare(CLONE_NEWNS) != 0)
		return -1;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -1;
	if (bind_text("/etc/hosts", hosts) != 0)
		return -1;
	return bind_text("/etc/resolv.conf", resolv);
}

/* A UDP socket on a random 127.a.b.c:53 that never answers. addr receives the
 * address. Returns the fd or -1. */
static int
silent_dns(char *addr, size_t addrlen)
{
	for (int tries = 0; tries < 50; tries++) {
		struct sockaddr_in sa;
		unsigned r = (unsigned)getpid() * 2654435761u + (unsigned)tries * 40503u +
		    (unsigned)time(NULL);
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		memset(&sa, 0, sizeof sa);
		sa.sin_family = AF_INET;
		sa.sin_port = htons(53);
		/* 127.100-199.x.2-253: away from 127.0.0.x and 127.0.0.53 */
		sa.sin_addr.s_addr = htonl(0x7f000000u | ((100u + (r >> 16) % 100u) << 16) |
		    (((r >> 8) & 255u) << 8) | (2u + r % 252u));
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
			inet_ntop(AF_INET, &sa.sin_addr, addr, (socklen_t)addrlen);
			return fd;
		}
		if (fd >= 0)
			close(fd);
	}
	return -1;
}

/* The number of descriptors open in this process. */
static int
open_fds(void)
{
	int fd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (d == NULL)
		return -1;
	while (readdir(d) != NULL)
		n++;
	closedir(d);
	return n - 2; /* ".", "..", and d's own */
}

static int
count_pending_queries(int udp)
{
	unsigned char pkt[512];
	int n = 0;

	while (recv(udp, pkt, sizeof pkt, 0) > 0)
		n++;
	return n;
}

/* Connects with net_connect, accepts on lfd, and checks a write/read round trip
 * both ways. */
static void
roundtrip(const char *host, int lfd, uint16_t port)
{
	char err[256] = "", got[16];
	int64_t dl = net_now_ms() + 2000;
	int fd = net_connect(host, port, dl, err, sizeof err);
	int peer;
	ssize_t r;

	CHECKF(fd >= 0, "%s: net_connect failed: %s", host, err);
	if (fd < 0)
		return;
	CHECK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	peer = accept(lfd, NULL, NULL);
	CHECK(peer >= 0);
	CHECK(net_write_all(fd, "ping", 4, dl, err, sizeof err) == 0);
	r = read(peer, got, sizeof got);
	CHECK(r == 4 && memcmp(got, "ping", 4) == 0);
	CHECK(write(peer, "pong!", 5) == 5);
	r = net_read(fd, got, sizeof got, dl, err, sizeof err);
	CHECKF(r == 5 && memcmp(got, "pong!", 5) == 0, "net_read: %zd %s", r, err);
	close(peer);
	r = net_read(fd, got, sizeof got, dl, err, sizeof err);
	CHECKF(r == 0, "end of stream: got %zd (%s)", r, err);
	close(fd);
}

/* A connected pair on loopback: *client from net_connect, *server from accept. */
static int
tcp_pair(int *client, int *server)
{
	char err[128];
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 4, &port);

	*client = *server = -1;
	if (lfd < 0)
		return -1;
	*client = net_connect("127.0.0.1", port, net_now_ms() + 2000, err, sizeof err);
	if (*client >= 0)
		*server = accept(lfd, NULL, NULL);
	close(lfd);
	return *client >= 0 && *server >= 0 ? 0 : -1;
}

/* ---- cases --------------------------------------------------------------- */

static void
t_now_ms(void)
{
	int64_t a = net_now_ms(), b;
	struct timespec ts = { 0, 50 * 1000000L };

	nanosleep(&ts, NULL);
	b = net_now_ms();
	CHECKF(b - a >= 50 && b - a < 500, "slept 50 ms, clock moved %lld", (long long)(b - a));
	CHECK(a > 0);
}

static void
t_roundtrip_ipv4(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 4, &port);

	CHECK(lfd >= 0);
	roundtrip("127.0.0.1", lfd, port);
	close(lfd);
}

static void
t_roundtrip_ipv6(void)
{
	uint16_t port;
	int lfd;

	if (!has_ipv6()) {
		printf("# no ::1 here: IPv6 round trip skipped\n");
		return;
	}
	lfd = listen_on("::1", 0, 4, &port);
	CHECK(lfd >= 0);
	roundtrip("::1", lfd, port);
	close(lfd);
}

/* localhost: loopback without the resolver, as often as asked. */
static void
t_roundtrip_localhost(void)
{
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 4, &port);
	int v6 = -1;

	CHECK(lfd >= 0);
	/* Where localhost also maps to ::1, listen there too (same port if free). */
	if (has_ipv6())
		v6 = listen_on("::1", port, 4, &port);
	for (int i = 0; i < 3; i++) {
		char err[128];
		int fd = net_connect("localhost", port, net_now_ms() + 2000, err, sizeof err);
		CHECKF(fd >= 0, "localhost: %s", err);
		if (fd >= 0)
			close(fd);
		for (int l = 0; l < 2; l++) {
			int s = l == 0 ? lfd : v6;
			struct pollfd p = { s, POLLIN, 0 };
			if (s >= 0 && poll(&p, 1, 0) == 1)
				close(accept(s, NULL, NULL));
		}
	}
	if (v6 >= 0)
		close(v6);
	close(lfd);
}

static void
t_refused(void)
{
	char err[128], want[128];
	uint16_t port = closed_port("127.0.0.1");
	int64_t t0 = net_now_ms();
	int fd = net_connect("127.0.0.1", port, t0 + 3000, err, sizeof err);
	int64_t took = net_now_ms() - t0;

	CHECK(port != 0);
	CHECK(fd == -1);
	snprintf(want, sizeof want, "127.0.0.1:%u: connection refused", port);
	CHECK_STR(err, want, "refused");
	CHECKF(took < 200, "refused took %lld ms", (long long)took);
}

static void
t_refused_ipv6_literal(void)
{
	char err[128], want[128];
	uint16_t port;

	if (!has_ipv6()) {
		printf("# no ::1 here: skipped\n");
		return;
	}
	port = closed_port("::1");
	CHECK(net_connect("::1", port, net_now_ms() + 3000, err, sizeof err) == -1);
	snprintf(want, sizeof want, "[::1]:%u: connection refused", port);
	CHECK_STR(err, want, "refused v6");
}

/* Listener with a full accept queue: SYNs are dropped, connect hangs until the deadline. */
static void
t_connect_timeout(void)
{
	char err[128], want[128];
	int fillers[16], n;
	uint16_t port;
	int lfd = listen_on("127.0.0.1", 0, 0, &port);
	int64_t t0, took;
	int fd;

	CHECK(lfd >= 0);
	n = fill_backlog("127.0.0.1", port, fillers, 16);
	CHECKF(n > 0, "could not fill the accept queue");
	if (n <= 0)
		return;
	t0 = net_now_ms();
	fd = net_connect("127.0.0.1", port, t0 + 500, err, sizeof err);
	took = net_now_ms() - t0;
	CHECK(fd == -1);
	snprintf(want, sizeof want, "127.0.0.1:%u: connect timed out", port);
	CHECK_STR(err, want, "timeout");
	CHECKF(took >= 500 && took <= 550, "connect timeout took %lld ms for 500", (long long)took);
	printf("# connect to a full backlog: timed out after %lld ms (deadline 500)\n",
	    (long long)took);
	for (int i = 0; i < n; i++)
		close(fillers[i]);
	close(lfd);
}

static void
t_read_timeout(void)
{
	char err[128], b[8];
	int c, s;
	int64_t t0, took;
	ssize_t r;

	CHECK(tcp_pair(&c, &s) == 0);
	t0 = net_now_ms();
	r = net_read(c, b, sizeof b, t0 + 500, err, sizeof err);
	took = net_now_ms() - t0;
	CHECK(r == -1);
	CHECK_STR(err, "timed out", "read timeout");
	CHECKF(took >= 500 && took <= 550, "read timeout took %lld ms for 500", (long long)took);
	printf("# silent peer: net_read timed out after %lld ms (deadline 500)\n", (long long)took);
	close(c);
	close(s);
}

/* A peer that sends faster than we read: data is always waiting, so no read ever
 * blocks, and the deadline alone must end the reading. */
static void
t_read_deadline_with_data_waiting(void)
{
	char err[128], b[8];
	int c, s, reads = 0;
	int64_t t0 = net_now_ms();
	ssize_t r;

	CHECK(tcp_pair(&c, &s) == 0);
	do {
		CHECK(write(s, "endless!", 8) == 8);
		r = net_read(c, b, sizeof b, t0 + 100, err, sizeof err);
		reads++;
	} while (r > 0 && net_now_ms() - t0 < 1000);
	CHECK(r == -1);
	CHECK_STR(err, "timed out", "read past the deadline with data waiting");
	CHECKF(net_now_ms() - t0 < 150, "ended after %lld ms for 100",
	    (long long)(net_now_ms() - t0));
	printf("# data always waiting: net_read timed out after %d reads\n", reads);
	close(c);
	close(s);
}

/* A peer that never reads: the send buffer fills and net_write_all times out. */
static void
t_write_timeout(void)
{
	size_t big = 64u << 20;
	char *p = calloc(1, big), err[128];
	int c, s;
	int64_t t0, took;

	CHECK(p != NULL && tcp_pair(&c, &s) == 0);
	if (p == NULL)
		return;
	t0 = net_now_ms();
	CHECK(net_write_all(c, p, big, t0 + 300, err, sizeof err) == -1);
	took = net_now_ms() - t0;
	CHECK_STR(err, "timed out", "write timeout");
	CHECKF(took >= 300 && took <= 330, "write timeout took %lld ms for 300", (long long)took);
	free(p);
	close(c);
	close(s);
}

/* The peer closes: a write fails (EPIPE once its RST is back) with an error, and
 * no SIGPIPE kills the process (its disposition is the default here on purpose;
 * a send without MSG_NOSIGNAL would end the test binary). */
static void
t_write_to_closed_peer(void)
{
	char err[128] = "", chunk[4096];
	int c, s, rc = 0, i;
	struct timespec ts = { 0, 10 * 1000000L };

	signal(SIGPIPE, SIG_DFL);
	memset(chunk, 'x', sizeof chunk);
	CHECK(tcp_pair(&c, &s) == 0);
	close(s); /* FIN; our next data draws an RST, and the write after that EPIPE */
	for (i = 0; i < 100 && rc == 0; i++) {
		nanosleep(&ts, NULL);
		rc = net_write_all(c, chunk, sizeof chunk, net_now_ms() + 1000, err, sizeof err);
	}
	CHECK(rc == -1);
	CHECKF(strcmp(err, "connection reset") == 0 || strcmp(err, "connection closed by peer") == 0,
	    "err: %s", err);
	printf("# write to a closed peer: \"%s\" after %d writes, no SIGPIPE\n", err, i);
	close(c);
}

/* net_io's outcomes, which net_read, net_write_all and tls.c word each their own
 * way: a count, the end of the stream, and each kind of failure. */
static void
t_io(void)
{
	char b[8];
	int c, s, fd;
	int64_t t0;
	ssize_t r;

	CHECK(tcp_pair(&c, &s) == 0);
	CHECK(net_io(s, "hi", 2, POLLOUT, 0, net_now_ms() + 500) == 2);
	CHECK(net_io(c, b, sizeof b, POLLIN, 1, net_now_ms() + 500) == 2); /* waits first */
	CHECK(memcmp(b, "hi", 2) == 0);
	t0 = net_now_ms();
	r = net_io(c, b, sizeof b, POLLIN, 0, t0 + 100);
	CHECKF(r == NET_IO_TIMEOUT, "silent peer: %zd", r);
	CHECKF(net_now_ms() - t0 >= 100, "timed out after %lld ms for 100",
	    (long long)(net_now_ms() - t0));
	CHECK(write(s, "x", 1) == 1);
	CHECK(net_wait(c, POLLIN, net_now_ms() + 500) == 1);
	CHECK(net_io(c, b, sizeof b, POLLIN, 0, net_now_ms() - 1) == NET_IO_TIMEOUT);
	CHECK(net_io(c, b, sizeof b, POLLIN, 0, net_now_ms() + 500) == 1);
	close(s);
	CHECK(net_io(c, b, sizeof b, POLLIN, 0, net_now_ms() + 500) == 0);   /* the end */
	fd = c;
	close(c);
	errno = 0;
	CHECK(net_io(fd, b, sizeof b, POLLIN, 1, net_now_ms() + 500) == NET_IO_WAIT);
	CHECK(errno == EBADF);
	errno = 0;
	CHECK(net_io(fd, b, sizeof b, POLLIN, 0, net_now_ms() + 500) == NET_IO_FAILED);
	CHECK(errno == EBADF);
}

static void
t_wait(void)
{
	int pfd[2];
	int64_t t0, took;

	CHECK(pipe(pfd) == 0);
	t0 = net_now_ms();
	CHECK(net_wait(pfd[0], POLLIN, t0 + 100) == 0);
	took = net_now_ms() - t0;
	CHECKF(took >= 100 && took <= 150, "net_wait took %lld ms for 100", (long long)took);
	CHECK(net_wait(pfd[1], POLLOUT, t0) == 1); /* ready beats a passed deadline */
	CHECK(write(pfd[1], "x", 1) == 1);
	CHECK(net_wait(pfd[0], POLLIN, net_now_ms() + 100) == 1);
	close(pfd[0]);
	close(pfd[1]);
	CHECK(net_wait(pfd[0], POLLIN, net_now_ms() + 100) == -1); /* closed fd */
}

/* A literal address or a localhost name never reaches the resolver: with the
 * deadline already gone it fails in the connect step, while a name fails in the
 * resolving step. */
static void
t_literal_skips_resolver(void)
{
	char err[128], want[128];
	int64_t past = net_now_ms() - 1;

	CHECK(net_connect("127.0.0.1", 9, past, err, sizeof err) == -1);
	CHECK_STR(err, "127.0.0.1:9: connect timed out", "v4 literal");
	CHECK(net_connect("::1", 9, past, err, sizeof err) == -1);
	CHECK_STR(err, "[::1]:9: connect timed out", "v6 literal");
	CHECK(net_connect("localhost", 9, past, err, sizeof err) == -1);
	CHECK_STR(err, "localhost:9: connect timed out", "localhost");
	CHECK(net_connect("a.b.localhost.", 9, past, err, sizeof err) == -1);
	CHECK_STR(err, "a.b.localhost.:9: connect timed out", "*.localhost");
	CHECK(net_connect("example.invalid", 9, past, err, sizeof err) == -1);
	CHECK_STR(err, "example.invalid: resolving timed out", "name");
	snprintf(want, sizeof want, "%s", "(empty host): name does not resolve");
	CHECK(net_connect("", 9, net_now_ms() + 100, err, sizeof err) == -1);
	CHECK_STR(err, want, "empty");
}

static void
t_small_err_buffers(void)
{
	char err[8];
	uint16_t port = closed_port("127.0.0.1");

	memset(err, 'Z', sizeof err);
	CHECK(net_connect("127.0.0.1", port, net_now_ms() + 1000, err, sizeof err) == -1);
	CHECK(memchr(err, '\0', sizeof err) != NULL);
	CHECK(net_connect("127.0.0.1", port, net_now_ms() + 1000, NULL, 0) == -1);
	CHECK(net_connect("127.0.0.1", port, net_now_ms() + 1000, err, 0) == -1);
}

/* ---- cases in a private mount namespace ------------------------------------ */

static int
need_root(void)
{
	if (geteuid() != 0) {
		printf("# not root: private /etc/hosts and resolv.conf cases skipped\n");
		return 0;
	}
	return 1;
}

static char g_dns[INET_ADDRSTRLEN];
static int g_udp = -1;

static void
child_silent_dns(void)
{
	char resolv[160], err[160];
	int64_t t0, took;
	uint16_t port;
	int lfd, fd, fds;

	snprintf(resolv, sizeof resolv, "nameserver %s\noptions timeout:30 attempts:5\n", g_dns);
	if (private_etc("", resolv) != 0) {
		CHECKF(0, "private /etc: %s", strerror(errno));
		return;
	}

	fds = open_fds();
	t0 = net_now_ms();
	fd = net_connect("example.invalid-host-name.test", 443, t0 + 1000, err, sizeof err);
	took = net_now_ms() - t0;
	CHECK(fd == -1);
	CHECK_STR(err, "example.invalid-host-name.test: resolving timed out", "silent dns");
	/* The deadline holds; the slack is a loaded machine's scheduling (ASan build). */
	CHECKF(took >= 1000 && took <= 1300, "took %lld ms for a 1000 ms deadline", (long long)took);
	printf("# DNS that never answers: gave up after %lld ms (deadline 1000)\n", (long long)took);
	CHECKF(count_pending_queries(g_udp) > 0, "the silent server saw no query: test did not test");

	/* Nothing is left behind: no descriptor stays open, a literal connects at
	 * once, and each later lookup ends at its own deadline. */
	CHECKF(open_fds() == fds, "%d descriptors open after the lookup, %d before", open_fds(), fds);
	lfd = listen_on("127.0.0.1", 0, 4, &port);
	t0 = net_now_ms();
	fd = net_connect("127.0.0.1", port, t0 + 1000, err, sizeof err);
	CHECKF(fd >= 0 && net_now_ms() - t0 < 300, "literal after a stuck lookup: %s", err);
	if (fd >= 0)
		close(fd);
	close(lfd);
	for (int i = 0; i < 3; i++) {
		t0 = net_now_ms();
		fd = net_connect("second.invalid-host-name.test", 443, t0 + 200, err, sizeof err);
		took = net_now_ms() - t0;
		CHECK(fd == -1);
		CHECK_STR(err, "second.invalid-host-name.test: resolving timed out", "again");
		CHECKF(took >= 200 && took <= 300, "again: %lld ms for 200", (long long)took);
	}
}

static void
t_dns_never_answers(void)
{
	int st;

	if (!need_root())
		return;
	g_udp = silent_dns(g_dns, sizeof g_dns);
	CHECKF(g_udp >= 0, "no silent DNS socket");
	if (g_udp < 0)
		return;
	st = in_child(child_silent_dns);
	CHECKF(st == 0, "child status %d", st);
	close(g_udp);
}

static const char *g_multi_hosts = "::1 multi.anontel.test\n127.0.0.1 multi.anontel.test\n";

static void
child_first_refuses(void)
{
	char resolv[160], err[160];
	const char *first = "::1", *only[2] = { "127.0.0.1", "::1" };

	snprintf(resolv, sizeof resolv, "nameserver %s\noptions timeout:30 attempts:5\n", g_dns);
	if (private_etc(g_multi_hosts, resolv) != 0) {
		CHECKF(0, "private /etc: %s", strerror(errno));
		return;
	}
	/* Listen on one family only: one of the two runs has the first address (::1:
	 * IPv6 first) refuse and the second accept. */
	for (int i = 0; i < 2; i++) {
		uint16_t port;
		int lfd = listen_on(only[i], 0, 4, &port);
		int64_t t0 = net_now_ms(), took;
		int fd = net_connect("multi.anontel.test", port, t0 + 2000, err, sizeof err);

		took = net_now_ms() - t0;
		CHECKF(fd >= 0, "only %s listens: %s", only[i], err);
		CHECKF(took < 200, "only %s listens: took %lld ms", only[i], (long long)took);
		if (fd >= 0 && strcmp(first, only[i]) != 0)
			printf("# first address %s refused, %s accepted in %lld ms\n", first, only[i],
			    (long long)took);
		if (fd >= 0)
			close(fd);
		close(lfd);
	}
	{
		char want[160];
		uint16_t port = closed_port("127.0.0.1");
		CHECK(net_connect("multi.anontel.test", port, net_now_ms() + 2000, err, sizeof err) == -1);
		snprintf(want, sizeof want, "multi.anontel.test:%u: connection refused (2 addresses tried)",
		    port);
		CHECK_STR(err, want, "both refuse");
	}
}

static void
t_first_address_refuses(void)
{
	int st;

	if (!need_root())
		return;
	if (!has_ipv6()) {
		printf("# no ::1 here: skipped\n");
		return;
	}
	g_udp = silent_dns(g_dns, sizeof g_dns);
	CHECK(g_udp >= 0);
	st = in_child(child_first_refuses);
	CHECKF(st == 0, "child status %d", st);
	CHECKF(count_pending_queries(g_udp) == 0, "a hosts-file name went to DNS");
	close(g_udp);
}

/* The first address is black-holed (full accept queue on 127.0.0.2), the second
 * (127.0.0.3) works: the second attempt starts after 250 ms, in parallel, and wins. */
static void
child_black_hole_first(void)
{
	char resolv[160], err[160];
	const char *first = "127.0.0.2", *second = "127.0.0.3"; /* file order within a family */
	int fillers[16], n, bh, ok, fd;
	uint16_t port, port2;
	int64_t t0, took;

	snprintf(resolv, sizeof resolv, "nameserver %s\noptions timeout:30 attempts:5\n", g_dns);
	if (private_etc("127.0.0.2 bh.anontel.test\n127.0.0.3 bh.anontel.test\n", resolv) != 0) {
		CHECKF(0, "private /etc: %s", strerror(errno));
		return;
	}
	bh = listen_on(first, 0, 0, &port);
	ok = listen_on(second, port, 4, &port2);
	CHECK(bh >= 0 && ok >= 0);
	n = fill_backlog(first, port, fillers, 16);
	CHECK(n > 0);
	t0 = net_now_ms();
	fd = net_connect("bh.anontel.test", port, t0 + 3000, err, sizeof err);
	took = net_now_ms() - t0;
	CHECKF(fd >= 0, "%s", err);
	CHECKF(took >= 250 && took < 600, "black-holed first address: connected after %lld ms",
	    (long long)took);
	printf("# first address black-holed: second connected after %lld ms\n", (long long)took);
	if (fd >= 0)
		close(fd);

	/* Both black-holed: the deadline holds. */
	close(ok);
	ok = listen_on(second, port, 0, &port2);
	CHECK(ok >= 0 && fill_backlog(second,
	    port, fillers + n, 8) > 0);
	t0 = net_now_ms();
	fd = net_connect("bh.anontel.test", port, t0 + 800, err, sizeof err);
	took = net_now_ms() - t0;
	CHECK(fd == -1);
	CHECKF(starts_with(err, "bh.anontel.test:") && strstr(err, ": connect timed out") != NULL,
	    "%s", err);
	CHECKF(took >= 800 && took <= 880, "both black-holed: %lld ms for 800", (long long)took);
}

static void
t_black_hole_first(void)
{
	int st;

	if (!need_root())
		return;
	g_udp = silent_dns(g_dns, sizeof g_dns);
	CHECK(g_udp >= 0);
	st = in_child(child_black_hole_first);
	CHECKF(st == 0, "child status %d", st);
	close(g_udp);
}

static const struct check_case cases[] = {
	{ "now_ms", t_now_ms },
	{ "roundtrip_ipv4", t_roundtrip_ipv4 },
	{ "roundtrip_ipv6", t_roundtrip_ipv6 },
	{ "roundtrip_localhost", t_roundtrip_localhost },
	{ "refused", t_refused },
	{ "refused_ipv6_literal", t_refused_ipv6_literal },
	{ "connect_timeout_full_backlog", t_connect_timeout },
	{ "read_timeout", t_read_timeout },
	{ "read_deadline_with_data_waiting", t_read_deadline_with_data_waiting },
	{ "write_timeout", t_write_timeout },
	{ "write_to_closed_peer", t_write_to_closed_peer },
	{ "io", t_io },
	{ "wait", t_wait },
	{ "literal_skips_resolver", t_literal_skips_resolver },
	{ "small_err_buffers", t_small_err_buffers },
	{ "dns_never_answers", t_dns_never_answers },
	{ "first_address_refuses", t_first_address_refuses },
	{ "black_hole_first", t_black_hole_first },
};

CHECK_MAIN(cases)
