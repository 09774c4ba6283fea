/*
 * test_tls: pin parsing, the clock floor, the compiled-in roots, CA files, and real
 * handshakes against `openssl s_server` on loopback with certificates made at test
 * time (a test CA, an ECDSA and an RSA leaf for localhost, and an unrelated CA).
 */
#include "check.h"
#include "tls.h"
#include "trust.h"
#include "x25519.h"
#include "x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct tls_conn conn;
static struct tls_store store;

/* ------------------------------------------------------------ pins ------ */

static void
test_pin_table(void)
{
	static const struct {
		const char *in;
		int ok;
	} rows[] = {
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 1 },
		{ "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", 1 },
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 },   /* 43 */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 }, /* 45 */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0 },  /* no = */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", 0 },  /* == */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAA*AAAAAAAAAAAAAAAAAAAA=", 0 },  /* bad char */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-_AAA=", 0 },  /* url-safe */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", 0 },  /* bits left */
		{ "sha256//AAAAAAAAAAAAAAAAAAAAAAAA AAAAAAAAAAAAAAAAAA=", 0 },  /* space */
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 },          /* no prefix */
		{ "sha1//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 },
		{ "SHA256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0 },
		{ "sha256//", 0 },
		{ "", 0 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct tls_trust t;
		char err[160] = "";
		int r = tls_trust_pin(&t, rows[i].in, err, sizeof err);
		CHECKF((r == 0) == rows[i].ok, "row %zu \"%s\": got %d (%s)", i, rows[i].in, r, err);
		if (r != 0)
			CHECKF(err[0] != '\0', "row %zu: no reason", i);
		else
			CHECKF(t.pinned == 1 && t.insecure == 0 && t.n_anchors == 0, "row %zu", i);
	}
	/* The value: 47DEQpj8... is SHA-256 of the empty string. */
	struct tls_trust t;
	static const unsigned char empty_sha[4] = { 0xe3, 0xb0, 0xc4, 0x42 };
	CHECK(tls_trust_pin(&t, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", NULL, 0) == 0);
	CHECK(memcmp(t.pin, empty_sha, 4) == 0 && t.pin[31] == 0x55);
}

/* ------------------------------------------------------------ clock ----- */

static void
test_check_time(void)
{
	static const struct {
		time_t now, build;
		time_t want;
		int clamped;
	} rows[] = {
		{ 0, 1700000000, 1700000000, 1 },                  /* no RTC: 1970 */
		{ 1699999999, 1700000000, 1700000000, 1 },
		{ 1700000000, 1700000000, 1700000000, 0 },
		{ 1800000000, 1700000000, 1800000000, 0 },
		{ -5, 0, 0, 1 },
	};
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		int c = -1;
		time_t got = tls_check_time(rows[i].now, rows[i].build, &c);
		CHECKF(got == rows[i].want && c == rows[i].clamped, "row %zu: got %lld clamped %d", i,
		    (long long)got, c);
	}
	CHECK(tls_check_time(5, 10, NULL) == 10);
	/* The build's own floor is a real date after 2024. */
	CHECK((long long)ANONTEL_BUILD_EPOCH > 1704067200LL);
}

/* ------------------------------------------------------------ roots ----- */

static void
append_cb(void *ctx, const void *p, size_t n)
{
	unsigned char **w = ctx;
	memcpy(*w, p, n);
	*w += n;
}

/* Decodes the first PEM certificate of path into der (cap bytes). Returns its length. */
static size_t
pem_to_der(const char *path, unsigned char *der, size_t cap)
{
	static unsigned char text[65536];
	br_pem_decoder_context pc;
	unsigned char *w = der;
	size_t n, off = 0;
	FILE *f = fopen(path, "rb");
	int done = 0;

	if (f == NULL)
		return 0;
	n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n++] = '\n';
	br_pem_decoder_init(&pc);
	while (off < n && !done) {
		off += br_pem_decoder_push(&pc, text + off, n - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			if (cap < 8192)
				return 0;
			br_pem_decoder_setdest(&pc, append_cb, &w);
			break;
		case BR_PEM_END_OBJ:
			done = 1;
			break;
		case BR_PEM_ERROR:
			return 0;
		}
	}
	return done ? (size_t)(w - der) : 0;
}

/* What BearSSL's X.509 engine compares an issuer and an anchor by: the DN's hash
 * under trust_dn_hash (a compiled-in anchor holds 0xff and its DN's hash). */
static void
dn_hash_of(const unsigned char *p, size_t n, unsigned char out[TRUST_DN_HASH_LEN])
{
	br_hash_compat_context hc;

	trust_dn_hash.init(&hc.vtable);
	trust_dn_hash.update(&hc.vtable, p, n);
	trust_dn_hash.out(&hc.vtable, out);
}

static int
same_dn(const br_x509_trust_anchor *a, const unsigned char *dn, size_t n)
{
	unsigned char x[TRUST_DN_HASH_LEN], y[TRUST_DN_HASH_LEN];

	dn_hash_of(a->dn.data, a->dn.len, x);
	dn_hash_of(dn, n, y);
	return memcmp(x, y, sizeof x) == 0;
}

static void
test_builtin_roots(void)
{
	static unsigned char der[16384], dn[4096];
	unsigned char *w = dn;
	struct tls_trust t;
	br_x509_decoder_context dc;
	size_t n, found = 0;

	tls_trust_builtin(&t);
	CHECKF(tls_builtin_count() > 100, "only %zu roots", tls_builtin_count());
	CHECK(t.n_anchors == tls_builtin_count() && t.anchors != NULL && !t.pinned && !t.insecure);

	n = pem_to_der("/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt", der, sizeof der);
	CHECKF(n > 0, "cannot read ISRG_Root_X1.crt");
	br_x509_decoder_init(&dc, append_cb, &w);
	br_x509_decoder_push(&dc, der, n);
	CHECK(br_x509_decoder_last_error(&dc) == 0);
	const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
	CHECK(pk != NULL && pk->key_type == BR_KEYTYPE_RSA);
	for (size_t i = 0; i < t.n_anchors; i++) {
		const br_x509_trust_anchor *a = &t.anchors[i];
		CHECKF(a->flags & BR_X509_TA_CA, "root %zu is not a CA anchor", i);
		CHECKF(a->dn.len == 1 + TRUST_DN_HASH_LEN && a->dn.data[0] == TRUST_DN_DIGEST,
		    "root %zu does not hold its DN's digest", i);
		if (same_dn(a, dn, (size_t)(w - dn))) {
			found++;
			CHECK(pk != NULL && a->pkey.key_type == BR_KEYTYPE_RSA &&
			    a->pkey.key.rsa.nlen == pk->key.rsa.nlen &&
			    memcmp(a->pkey.key.rsa.n, pk->key.rsa.n, pk->key.rsa.nlen) == 0);
		}
	}
	CHECKF(found == 1, "ISRG Root X1 found %zu times", found);
}

/* ------------------------------------------------- temp dir, openssl ----- */

static char dir[64];

static void
remove_dir(void)
{
	if (dir[0] != '\0') {
		char cmd[128];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

static int
sh(const char *fmt, const char *arg)
{
	char cmd[4096];

	snprintf(cmd, sizeof cmd, fmt, arg);   /* every fmt here has one %s */
	return system(cmd);
}

/* Makes, once per process: ca.pem, other-ca.pem, ec.pem/ec.key and rsa.pem/rsa.key
 * (leaves for localhost signed by ca), and their pins ec.pin / rsa.pin. */
static int
setup(void)
{
	static int done;

	if (done)
		return done > 0 ? 0 : -1;
	done = -1;
	strcpy(dir, "/tmp/anontel-tls-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	atexit(remove_dir);
	if (sh("cd %s && exec >log 2>&1 && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 "
	    "-subj '/CN=anontel test CA' && "
	    "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "
	    "other.key -out other-ca.pem -days 3650 -subj '/CN=anontel other CA' && "
	    "printf 'subjectAltName=DNS:localhost\\nbasicConstraints=CA:FALSE\\n"
	    "keyUsage=critical,digitalSignature,keyEncipherment\\nextendedKeyUsage=serverAuth\\n' "
	    "> leaf.ext && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ec.key "
	    "-out ec.csr -subj '/CN=localhost' && "
	    "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
	    "-extfile leaf.ext -out ec.pem && "
	    "openssl req -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.csr -subj '/CN=localhost' && "
	    "openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 "
	    "-extfile leaf.ext -out rsa.pem && "
	    "for k in ec rsa; do openssl x509 -in $k.pem -pubkey -noout | openssl pkey -pubin "
	    "-outform der | openssl dgst -sha256 -binary | base64 > $k.pin || exit 1; done",
	    dir) != 0)
		return -1;
	done = 1;
	return 0;
}

static void
path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void
read_pin(const char *name, char *out, size_t n)
{
	char p[128], line[128] = "";
	FILE *f;

	path_of(p, sizeof p, name);
	f = fopen(p, "r");
	if (f != NULL) {
		if (fgets(line, sizeof line, f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	line[strcspn(line, "\r\n")] = '\0';
	snprintf(out, n, "sha256//%s", line);
}

static int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (s >= 0 && bind(s, (struct sockaddr *)&a, sizeof a) == 0 &&
	    getsockname(s, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (s >= 0)
		close(s);
	return port;
}

static int
connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		return -1;
	if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) {
		close(s);
		return -1;
	}
	return s;
}

struct server {
	pid_t pid;
	int port;
};

/* Starts `openssl s_server -www` with leaf NAME (ec / rsa) and an optional extra flag;
 * extra "-WWW" serves the files of dir instead. */
static int
server_start(struct server *s, const char *leaf, const char *extra)
{
	char cert[128], key[128], accept_arg[32];

	path_of(cert, sizeof cert, leaf);
	strcat(cert, ".pem");
	path_of(key, sizeof key, leaf);
	strcat(key, ".key");
	s->port = free_port();
	if (s->port < 0)
		return -1;
	snprintf(accept_arg, sizeof accept_arg, "127.0.0.1:%d", s->port);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (chdir(dir) != 0)
			_exit(127);
		if (extra != NULL && strcmp(extra, "-WWW") == 0)   /* files from dir */
			execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", cert,
			    "-key", key, "-WWW", (char *)NULL);
		else if (extra != NULL)
			execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", cert,
			    "-key", key, "-www", extra, (char *)NULL);
		else
			execlp("openssl", "openssl", "s_server", "-accept", accept_arg, "-cert", cert,
			    "-key", key, "-www", (char *)NULL);
		_exit(127);
	}
	/* Wait until it listens; the probe connection is closed at once. */
	for (int i = 0; i < 500; i++) {
		int fd = connect_port(s->port);
		if (fd >= 0) {
			close(fd);
			return 0;
		}
		usleep(10000);
	}
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
	return -1;
}

static void
server_stop(struct server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * One handshake against a fresh server; on success also a GET through tls_write,
 * tls_flush and tls_read. Returns tls_open's result; err holds its line.
 */
static int
handshake(const char *leaf, const char *extra, const char *host, const struct tls_trust *t,
    time_t when, char *err, size_t errlen)
{
	struct server s;
	int fd, r;

	err[0] = '\0';
	if (server_start(&s, leaf, extra) != 0) {
		snprintf(err, errlen, "test: cannot start openssl s_server");
		return -2;
	}
	fd = connect_port(s.port);
	if (fd < 0) {
		server_stop(&s);
		snprintf(err, errlen, "test: cannot connect");
		return -2;
	}
	r = tls_open(&conn, fd, host, t, when, mono_ms() + 10000, err, errlen);
	if (r == 0) {
		static const char req[] = "GET / HTTP/1.0\r\n\r\n";
		char resp[65536], e2[160] = "";
		size_t got = 0;
		ssize_t k;

		CHECKF(tls_write(&conn, req, sizeof req - 1, e2, sizeof e2) == 0 &&
		    tls_flush(&conn, e2, sizeof e2) == 0, "write: %s", e2);
		while ((k = tls_read(&conn, resp + got, sizeof resp - 1 - got, e2, sizeof e2)) > 0)
			got += (size_t)k;
		CHECKF(k == 0, "read: %s", e2);
		resp[got] = '\0';
		CHECKF(strncmp(resp, "HTTP/1.0 200 ok", 15) == 0, "response: %.40s", resp);
		tls_close(&conn);
	}
	close(fd);
	server_stop(&s);
	return r;
}

static int
load_ca(struct tls_trust *t, const char *name)
{
	char p[128], err[256] = "";

	path_of(p, sizeof p, name);
	if (tls_trust_file(t, &store, p, err, sizeof err) != 0) {
		CHECKF(0, "tls_trust_file %s: %s", name, err);
		return -1;
	}
	return 0;
}

#define SETUP() do { if (setup() != 0) { CHECKF(0, "setup failed, see %s/log", dir); return; } } while (0)

static void
expect(int r, const char *err, const char *want, const char *label)
{
	if (want == NULL) {
		CHECKF(r == 0, "%s: tls_open failed: %s", label, err);
	} else {
		CHECKF(r == -1, "%s: tls_open returned %d, want -1 (%s)", label, r, want);
		CHECK_STR(err, want, label);
	}
}

static void
test_verified(void)
{
	struct tls_trust t;
	char err[256];

	SETUP();
	if (load_ca(&t, "ca.pem") != 0)
		return;
	CHECK(t.n_anchors == 1 && (t.anchors[0].flags & BR_X509_TA_CA));
	expect(handshake("ec", NULL, "localhost", &t, time(NULL), err, sizeof err), err, NULL, "ec");
	expect(handshake("rsa", NULL, "localhost", &t, time(NULL), err, sizeof err), err, NULL,
	    "rsa");
}

/*
 * The engine's curves are x25519.h's tls_ec, for the key exchange and for the X.509
 * engine's ECDSA checks (br_ssl_engine_set_default_ecdsa would set br_ec_all_m31 over
 * it): X25519 and P-256 our own (p256.h's p256_ec), P-384 BearSSL's through it.
 * (BearSSL 0.6's hello lists P-256 first, so a server that follows the client's order
 * picks P-256.)
 */
static void
test_engine_curves(void)
{
	static const struct {
		const char *groups;
		int curve;
	} rows[] = {
		{ "-groups=X25519", BR_EC_curve25519 },
		{ "-groups=P-256", BR_EC_secp256r1 },
		{ "-groups=P-384", BR_EC_secp384r1 },
	};
	struct tls_trust t;
	char err[256];

	SETUP();
	if (load_ca(&t, "ca.pem") != 0)
		return;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const char *label = rows[i].groups;

		expect(handshake("ec", rows[i].groups, "localhost", &t, time(NULL), err, sizeof err),
		    err, NULL, label);
		CHECKF(br_ssl_engine_get_ec(&conn.sc.eng) == &tls_ec, "%s: engine's ec", label);
		CHECKF(conn.xc.iec == &tls_ec, "%s: X.509 engine's ec", label);
		CHECKF(br_ssl_engine_get_ecdhe_curve(&conn.sc.eng) == rows[i].curve,
		    "%s: ECDHE curve %d, want %d", label, br_ssl_engine_get_ecdhe_curve(&conn.sc.eng),
		    rows[i].curve);
	}
}

static void
test_unknown_ca(void)
{
	struct tls_trust t;
	char err[256];

	SETUP();
	if (load_ca(&t, "other-ca.pem") != 0)
		return;
	expect(handshake("ec", NULL, "localhost", &t, time(NULL), err, sizeof err), err,
	    "certificate not trusted (unknown CA or missing intermediate)", "other CA");
	/* The compiled-in roots do not know the test CA either. */
	tls_trust_builtin(&t);
	expect(handshake("rsa", NULL, "localhost", &t, time(NULL), err, sizeof err), err,
	    "certificate not trusted (unknown CA or missing intermediate)", "builtin");
}

static void
test_wrong_host(void)
{
	struct tls_trust t;
	char err[256];

	SETUP();
	if (load_ca(&t, "ca.pem") != 0)
		return;
	expect(handshake("ec", NULL, "wrong.example", &t, time(NULL), err, sizeof err), err,
	    "certificate does not match wrong.example", "wrong host");
}

static void
test_validity(void)
{
	struct tls_trust t;
	char err[256];
	time_t now = time(NULL);

	SETUP();
	if (load_ca(&t, "ca.pem") != 0)
		return;
	expect(handshake("ec", NULL, "localhost", &t, now - 2 * 86400, err, sizeof err), err,
	    "certificate not yet valid", "before notBefore");
	expect(handshake("rsa", NULL, "localhost", &t, now + 60 * 86400, err, sizeof err), err,
	    "certificate expired", "after notAfter");
	/* The clock floor in use: a box at 1970 validates at the build date. */
	int clamped;
	time_t when = tls_check_time(0, now, &clamped);
	CHECK(clamped == 1);
	expect(handshake("ec", NULL, "localhost", &t, when, err, sizeof err), err, NULL,
	    "clamped 1970");
}

/* The leaf ec.pem in DER (OpenSSL's -outform der) into der[cap]: its length, or 0. */
static size_t
read_der(unsigned char *der, size_t cap)
{
	char p[128];
	size_t n = 0;
	FILE *f;

	if (sh("cd %s && openssl x509 -in ec.pem -outform der -out ec.der", dir) != 0)
		return 0;
	path_of(p, sizeof p, "ec.der");
	f = fopen(p, "rb");
	if (f != NULL) {
		n = fread(der, 1, cap, f);
		fclose(f);
	}
	return n;
}

/* x509_cert_parse's notBefore with the leaf's UTCTime set to the date yymmdd at
 * 12:00:00 (the DER keeps its length, and the walker checks no signature). */
static int
not_before_at(const unsigned char *der, size_t n, const char *yymmdd, struct x509_cert *c)
{
	unsigned char copy[4096];
	size_t i;

	/* Validity: a SEQUENCE of two UTCTimes (30 1e 17 0d ...), notBefore first. */
	memcpy(copy, der, n);
	for (i = 0; i + 17 <= n && memcmp(copy + i, "\x30\x1e\x17\x0d", 4) != 0; i++)
		;
	if (i + 17 > n)
		return -2;
	memcpy(copy + i + 4, yymmdd, 6);
	memcpy(copy + i + 10, "120000Z", 7);
	return x509_cert_parse(copy, n, 0, c);
}

static void
test_der_dates(void)
{
	/* Each date, whether it exists, and its Unix time at 12:00 (timegm's, not ours). */
	static const struct { const char *yymmdd; int exists; struct tm tm; } cases[] = {
		{ "240229", 1, { .tm_year = 124, .tm_mon = 1, .tm_mday = 29, .tm_hour = 12 } },
		{ "230229", 0, { 0 } },
		{ "300430", 1, { .tm_year = 130, .tm_mon = 3, .tm_mday = 30, .tm_hour = 12 } },
		{ "300431", 0, { 0 } },
		{ "300230", 0, { 0 } },
		{ "301231", 1, { .tm_year = 130, .tm_mon = 11, .tm_mday = 31, .tm_hour = 12 } },
		{ "301131", 0, { 0 } },
		{ "300100", 0, { 0 } },
		{ "301301", 0, { 0 } },
	};
	unsigned char der[4096];
	struct x509_cert c;
	size_t n;

	SETUP();
	n = read_der(der, sizeof der);
	CHECKF(n > 0 && x509_cert_parse(der, n, 0, &c) == 0 && c.have_validity,
	    "the leaf as OpenSSL made it parses, with its validity (%zu bytes)", n);
	for (size_t i = 0; n > 0 && i < sizeof cases / sizeof cases[0]; i++) {
		struct tm tm = cases[i].tm;

		memset(&c, 0, sizeof c);
		CHECKF(not_before_at(der, n, cases[i].yymmdd, &c) == 0, "%s: the DER walks",
		    cases[i].yymmdd);
		CHECKF(c.have_validity == cases[i].exists, "%s: validity %s", cases[i].yymmdd,
		    cases[i].exists ? "read" : "refused (no such day)");
		if (cases[i].exists)
			CHECKF(c.not_before == (int64_t)timegm(&tm), "%s: %lld", cases[i].yymmdd,
			    (long long)c.not_before);
	}
}

static void
test_pin(void)
{
	struct tls_trust t;
	char pin[128], err[256];

	SETUP();
	read_pin("ec.pin", pin, sizeof pin);
	CHECKF(tls_trust_pin(&t, pin, err, sizeof err) == 0, "%s: %s", pin, err);
	/* No CA, no clock, no name: the key alone. */
	expect(handshake("ec", NULL, "localhost", &t, 0, err, sizeof err), err, NULL, "ec pin");
	expect(handshake("ec", NULL, "other.example", &t, 0, err, sizeof err), err, NULL,
	    "ec pin, any name");
	expect(handshake("rsa", NULL, "localhost", &t, time(NULL), err, sizeof err), err,
	    "server key does not match the pin", "rsa server, ec pin");
	read_pin("rsa.pin", pin, sizeof pin);
	CHECKF(tls_trust_pin(&t, pin, err, sizeof err) == 0, "%s: %s", pin, err);
	expect(handshake("rsa", NULL, "localhost", &t, time(NULL), err, sizeof err), err, NULL,
	    "rsa pin");
	CHECK(tls_trust_pin(&t, "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", NULL, 0) == 0);
	expect(handshake("rsa", NULL, "localhost", &t, time(NULL), err, sizeof err), err,
	    "server key does not match the pin", "wrong pin");
}

static void
test_insecure(void)
{
	struct tls_trust t;
	char err[256];

	SETUP();
	tls_trust_insecure(&t);
	expect(handshake("ec", NULL, "wrong.example", &t, 0, err, sizeof err), err, NULL,
	    "insecure ec");
	expect(handshake("rsa", NULL, "localhost", &t, 0, err, sizeof err), err, NULL,
	    "insecure rsa");
}

static void
test_tls13_only(void)
{
	struct tls_trust t;
	char err[256];

	SETUP();
	if (load_ca(&t, "ca.pem") != 0)
		return;
	expect(handshake("ec", "-tls1_3", "localhost", &t, time(NULL), err, sizeof err), err,
	    "server requires TLS 1.3, which anontel does not support (TLS 1.2 only)", "tls1.3");
}

/* A peer that accepts TCP and then says nothing, or closes at once. */
static void
test_silent_and_closing_peer(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	struct tls_trust t;
	char err[256] = "";
	int l = socket(AF_INET, SOCK_STREAM, 0), fd, acc;

	tls_trust_builtin(&t);
	CHECK(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 4) == 0 &&
	    getsockname(l, (struct sockaddr *)&a, &len) == 0);
	fd = connect_port(ntohs(a.sin_port));
	CHECK(fd >= 0);
	int64_t t0 = mono_ms();
	int r = tls_open(&conn, fd, "localhost", &t, time(NULL), t0 + 300, err, sizeof err);
	int64_t took = mono_ms() - t0;
	CHECK(r == -1);
	CHECK_STR(err, "timed out in the TLS handshake", "silent");
	CHECKF(took >= 290 && took < 2000, "took %lld ms", (long long)took);
	close(fd);

	fd = connect_port(ntohs(a.sin_port));
	acc = accept(l, NULL, NULL);   /* the first connection */
	close(acc);
	acc = accept(l, NULL, NULL);
	close(acc);
	r = tls_open(&conn, fd, "localhost", &t, time(NULL), mono_ms() + 3000, err, sizeof err);
	CHECK(r == -1);
	CHECK_STR(err, "connection closed during the TLS handshake", "closing");
	close(fd);
	close(l);
}

/* ------------------------------------------------------ read ahead ----- */

/* The file big.txt: n bytes of a pattern no shift of itself matches. */
static void
pattern(unsigned char *p, size_t n)
{
	uint32_t x = 12345;

	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)('a' + (x >> 16) % 26);
	}
}

#define BIG_LEN 150000

/*
 * Relays one connection from l to port, handing the server's bytes to the client
 * in uneven pieces (1 to 700 bytes, a pause after each), so that records and
 * their headers arrive cut at many places. Runs in a child; exits at either end.
 */
static void
trickle_relay(int l, int port)
{
	static unsigned char b[4096];
	static const int one = 1;
	uint32_t x = 7;
	int a = accept(l, NULL, NULL), s = connect_port(port);

	if (a < 0 || s < 0)
		_exit(1);
	(void)setsockopt(a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (;;) {
		struct pollfd pf[2] = { { a, POLLIN, 0 }, { s, POLLIN, 0 } };
		ssize_t n;

		if (poll(pf, 2, 10000) <= 0)
			_exit(1);
		if (pf[0].revents) {
			n = read(a, b, sizeof b);
			if (n <= 0 || write(s, b, (size_t)n) != n)
				_exit(0);
		}
		if (pf[1].revents) {
			n = read(s, b, sizeof b);
			if (n <= 0)
				_exit(0);
			for (ssize_t off = 0; off < n;) {
				ssize_t k;

				x = x * 1103515245u + 12345u;
				k = 1 + (ssize_t)((x >> 16) % 700);
				if (k > n - off)
					k = n - off;
				if (write(a, b + off, (size_t)k) != k)
					_exit(0);
				off += k;
				usleep(50);
			}
		}
	}
}

/* GET /big.txt from a -WWW server, directly or through trickle_relay, reading with
 * read sizes from 1 byte to 16 KiB; the body must be the file, byte for byte. */
static void
fetch_big(int trickle, const char *label)
{
	static unsigned char want[BIG_LEN], got[BIG_LEN + 4096];
	static const char req[] = "GET /big.txt HTTP/1.0\r\n\r\n";
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	struct server s;
	struct tls_trust t;
	char err[256] = "", p[128];
	size_t have = 0, step = 1;
	pid_t relay = -1;
	int fd, l = -1;
	ssize_t k;
	FILE *f;

	pattern(want, sizeof want);
	path_of(p, sizeof p, "big.txt");
	f = fopen(p, "wb");
	CHECK(f != NULL && fwrite(want, 1, sizeof want, f) == sizeof want && fclose(f) == 0);
	if (load_ca(&t, "ca.pem") != 0 || server_start(&s, "ec", "-WWW") != 0) {
		CHECKF(0, "%s: cannot start the server", label);
		return;
	}
	if (trickle) {
		l = socket(AF_INET, SOCK_STREAM, 0);
		CHECK(l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 &&
		    listen(l, 1) == 0 && getsockname(l, (struct sockaddr *)&a, &alen) == 0);
		relay = fork();
		if (relay == 0)
			trickle_relay(l, s.port);
		fd = connect_port(ntohs(a.sin_port));
	} else {
		fd = connect_port(s.port);
	}
	CHECK(fd >= 0);
	CHECKF(tls_open(&conn, fd, "localhost", &t, time(NULL), mono_ms() + 20000, err,
	    sizeof err) == 0, "%s: tls_open: %s", label, err);
	CHECKF(tls_write(&conn, req, sizeof req - 1, err, sizeof err) == 0, "%s: %s", label, err);
	/* No tls_flush: tls_read sends what is buffered before it waits. */
	while (have < sizeof got &&
	    (k = tls_read(&conn, got + have, step < sizeof got - have ? step : sizeof got - have,
	    err, sizeof err)) > 0) {
		have += (size_t)k;
		step = step * 3 % 16411 + 1;
	}
	tls_close(&conn);
	close(fd);
	if (l >= 0)
		close(l);
	if (relay > 0)
		waitpid(relay, NULL, 0);
	server_stop(&s);
	{
		static const char head[] = "HTTP/1.0 200 ok\r\nContent-type: text/plain\r\n\r\n";
		size_t hl = sizeof head - 1;

		CHECKF(have == hl + sizeof want, "%s: %zu bytes, want %zu (%s)", label, have,
		    hl + sizeof want, err);
		CHECKF(have >= hl && memcmp(got, head, hl) == 0, "%s: head %.40s", label, got);
		CHECKF(have == hl + sizeof want && memcmp(got + hl, want, sizeof want) == 0,
		    "%s: the body differs", label);
	}
}

/* Many full records back to back: one recv() takes several, the last one cut. */
static void
test_large_response(void)
{
	SETUP();
	fetch_big(0, "direct");
}

/* The server's bytes cut at many places: a header in pieces, a record over many
 * recv()s, records and pieces of the next in one. */
static void
test_trickled_stream(void)
{
	SETUP();
	fetch_big(1, "trickled");
}

/* ------------------------------------------------------------ CA files --- */

static void
test_cafile_errors(void)
{
	struct tls_trust t;
	char err[256], p[128];
	FILE *f;

	SETUP();
	CHECK(tls_trust_file(&t, &store, "/nonexistent/ca.pem", err, sizeof err) == -1);
	CHECKF(strncmp(err, "/nonexistent/ca.pem: ", 21) == 0, "%s", err);

	path_of(p, sizeof p, "empty.pem");
	f = fopen(p, "w");
	fputs("no certificates here\n", f);
	fclose(f);
	CHECK(tls_trust_file(&t, &store, p, err, sizeof err) == -1);
	CHECKF(strstr(err, ": no certificate") != NULL, "%s", err);

	path_of(p, sizeof p, "bad.pem");
	f = fopen(p, "w");
	fputs("-----BEGIN CERTIFICATE-----\nMIIB*xx\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	CHECK(tls_trust_file(&t, &store, p, err, sizeof err) == -1);
	CHECKF(strstr(err, "bad PEM") != NULL, "%s", err);

	path_of(p, sizeof p, "junk.pem");
	f = fopen(p, "w");
	fputs("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	CHECK(tls_trust_file(&t, &store, p, err, sizeof err) == -1);
	CHECKF(strstr(err, "certificate 1: cannot decode it") != NULL, "%s", err);

	path_of(p, sizeof p, "unterminated.pem");
	f = fopen(p, "w");
	fputs("-----BEGIN CERTIFICATE-----\nAAAAAAAA\n", f);
	fclose(f);
	CHECK(tls_trust_file(&t, &store, p, err, sizeof err) == -1);
	CHECKF(strstr(err, "not terminated") != NULL, "%s", err);

	/* A key next to the certificates is skipped; no final newline is fine. */
	CHECK(sh("cd %s && cat ec.key ca.pem | head -c -1 > mixed.pem", dir) == 0);
	path_of(p, sizeof p, "mixed.pem");
	CHECKF(tls_trust_file(&t, &store, p, err, sizeof err) == 0, "%s", err);
	CHECK(t.n_anchors == 1);

	/* The file is read a chunk at a time: a line longer than a chunk is refused,
	 * and a certificate across a chunk boundary reads as one (450 comment lines
	 * of 36 bytes put it across the first, at 16384). */
	path_of(p, sizeof p, "longline.pem");
	f = fopen(p, "w");
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	for (int i = 0; i < 20000; i++)
		fputc('A', f);
	fputs("\n-----END CERTIFICATE-----\n", f);
	fclose(f);
	CHECK(tls_trust_file(&t, &store, p, err, sizeof err) == -1);
	CHECKF(strstr(err, "longline.pem: bad PEM (a line longer than 16383 bytes)") != NULL, "%s",
	    err);
	CHECK(sh("cd %s && for i in $(seq 450); do echo '# a comment line of 36 bytes.......'; "
	    "done > across.pem && cat ca.pem >> across.pem", dir) == 0);
	path_of(p, sizeof p, "across.pem");
	CHECKF(tls_trust_file(&t, &store, p, err, sizeof err) == 0, "%s", err);
	CHECK(t.n_anchors == 1);
}

static void
test_cafile_system_bundle(void)
{
	struct tls_trust t;
	char err[256] = "";
	int64_t t0 = mono_ms();
	int r = tls_trust_file(&t, &store, "/etc/ssl/certs/ca-certificates.crt", err, sizeof err);

	CHECKF(r == 0, "%s", err);
	CHECKF(t.n_anchors == tls_builtin_count(), "%zu anchors from the file, %zu built in",
	    t.n_anchors, tls_builtin_count());
	printf("# system bundle: %zu anchors, %zu arena bytes, %lld ms (ASan build)\n",
	    t.n_anchors, store.used, (long long)(mono_ms() - t0));
	/* The same anchors as compiled in: keys byte for byte, DNs by the hash the
	 * X.509 engine compares them by (trust_dn_hash). */
	struct tls_trust b;
	tls_trust_builtin(&b);
	for (size_t i = 0; r == 0 && i < t.n_anchors && i < b.n_anchors; i++) {
		const br_x509_trust_anchor *x = &t.anchors[i], *y = &b.anchors[i];
		CHECKF(same_dn(y, x->dn.data, x->dn.len), "anchor %zu DN", i);
		CHECKF(x->flags == y->flags, "anchor %zu flags", i);
		CHECKF(x->pkey.key_type == y->pkey.key_type, "anchor %zu key type", i);
		if (x->pkey.key_type != y->pkey.key_type)
			continue;
		if (x->pkey.key_type == BR_KEYTYPE_RSA) {
			const br_rsa_public_key *u = &x->pkey.key.rsa, *v = &y->pkey.key.rsa;
			CHECKF(u->nlen == v->nlen && memcmp(u->n, v->n, u->nlen) == 0 &&
			    u->elen == v->elen && memcmp(u->e, v->e, u->elen) == 0, "anchor %zu RSA", i);
		} else {
			const br_ec_public_key *u = &x->pkey.key.ec, *v = &y->pkey.key.ec;
			CHECKF(u->curve == v->curve && u->qlen == v->qlen &&
			    memcmp(u->q, v->q, u->qlen) == 0, "anchor %zu EC", i);
		}
	}
}

static const struct check_case cases[] = {
	{ "pin_table", test_pin_table },
	{ "check_time", test_check_time },
	{ "builtin_roots", test_builtin_roots },
	{ "cafile_errors", test_cafile_errors },
	{ "cafile_system_bundle", test_cafile_system_bundle },
	{ "verified", test_verified },
	{ "engine_curves", test_engine_curves },
	{ "unknown_ca", test_unknown_ca },
	{ "wrong_host", test_wrong_host },
	{ "validity", test_validity },
	{ "der_dates", test_der_dates },
	{ "pin", test_pin },
	{ "insecure", test_insecure },
	{ "tls13_only", test_tls13_only },
	{ "silent_and_closing_peer", test_silent_and_closing_peer },
	{ "large_response", test_large_response },
	{ "trickled_stream", test_trickled_stream },
};

CHECK_MAIN(cases)
