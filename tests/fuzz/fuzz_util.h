/*
 * fuzz_util.h: helpers shared by the libFuzzer targets in tests/fuzz/.
 *
 * A target checks its invariants with FUZZ_CHECK: a broken invariant prints why and
 * aborts, which libFuzzer reports as a crash and saves the input. Targets that read
 * files work in one private directory per process (under /dev/shm when it is a
 * usable tmpfs, else $TMPDIR or /tmp), made once and reused by every iteration;
 * it is removed at exit.
 */
#ifndef ANONTEL_FUZZ_UTIL_H
#define ANONTEL_FUZZ_UTIL_H

#define _GNU_SOURCE 1

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUZZ_CHECK(cond, ...)                                                       \
	do {                                                                        \
		if (!(cond)) {                                                      \
			fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, \
			    __LINE__, #cond);                                       \
			fprintf(stderr, __VA_ARGS__);                               \
			fputc('\n', stderr);                                        \
			abort();                                                    \
		}                                                                   \
	} while (0)

/* The fuzzer's input as a stream: bytes past its end read as 0. */
struct fz_cursor {
	const uint8_t *p;
	size_t n, off;
};

static __attribute__((unused)) uint8_t
fz_take(struct fz_cursor *c)
{
	return c->off < c->n ? c->p[c->off++] : 0;
}

static __attribute__((unused)) void
fz_take_n(struct fz_cursor *c, unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		out[i] = fz_take(c);
}

/* p[0..n-1] as 2n lowercase hex digits and a NUL into out (for failure messages). */
static __attribute__((unused)) void
fz_hex(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/* Variables that change anontel's behaviour (tests/integration/lib.py's list). */
static const char *const fz_anontel_env[] = {
	"ANONTEL_CONFIG", "ANONTEL_ENDPOINT", "ANONTEL_STATE_DIR", "ANONTEL_DISABLED",
	"ANONTEL_ID", "DO_NOT_TRACK", "SSL_CERT_FILE", "https_proxy", "HTTPS_PROXY",
	"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "http_proxy", "HTTP_PROXY",
	"ANONTEL_SERVICE", "ANONTEL_SERVICE_VERSION", "ANONTEL_FORMAT", "ANONTEL_FEATURES_FILE",
	"ANONTEL_HEADERS_FILE",
};

static __attribute__((unused)) void
fz_clear_env(void)
{
	for (size_t i = 0; i < sizeof fz_anontel_env / sizeof fz_anontel_env[0]; i++)
		unsetenv(fz_anontel_env[i]);
}

static char fz_dir[256];

static __attribute__((unused)) int
fz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static __attribute__((unused)) void
fz_rm_dir(void)
{
	if (fz_dir[0] != '\0')
		nftw(fz_dir, fz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The process's private directory, made on first use (mode 0700). */
static __attribute__((unused)) const char *
fz_tmpdir(const char *tag)
{
	const char *bases[3] = { "/dev/shm", getenv("TMPDIR"), "/tmp" };

	if (fz_dir[0] != '\0')
		return fz_dir;
	for (int i = 0; i < 3; i++) {
		if (bases[i] == NULL || bases[i][0] == '\0' || access(bases[i], W_OK | X_OK) != 0)
			continue;
		snprintf(fz_dir, sizeof fz_dir, "%s/anontel-fuzz-%s-XXXXXX", bases[i], tag);
		if (mkdtemp(fz_dir) != NULL) {
			atexit(fz_rm_dir);
			return fz_dir;
		}
	}
	fprintf(stderr, "fuzz: cannot make a temporary directory\n");
	abort();
}

/* dir + "/" + rel into out (abort when it does not fit). */
static __attribute__((unused)) void
fz_path(char *out, size_t cap, const char *dir, const char *rel)
{
	int n = snprintf(out, cap, "%s/%s", dir, rel);
	FUZZ_CHECK(n > 0 && (size_t)n < cap, "path too long: %s/%s", dir, rel);
}

/* Writes p[n] as the whole content of path (created 0600 when missing). */
static __attribute__((unused)) void
fz_write_file(const char *path, const void *p, size_t n)
{
	const char *c = p;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);

	FUZZ_CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		FUZZ_CHECK(w > 0, "write %s: %s", path, strerror(errno));
		c += w;
		n -= (size_t)w;
	}
	close(fd);
}

/*
 * A strict UTF-8 decoder written apart from the project's (Unicode table 3-7 by
 * code point ranges: no overlongs, no surrogates, nothing above U+10FFFF).
 * Returns the length of the sequence at p[0..n) with *cp, or 0.
 */
static __attribute__((unused)) size_t
fz_utf8(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned c = p[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xE0) == 0xC0) {
		len = 2, v = c & 0x1F, min = 0x80;
	} else if ((c & 0xF0) == 0xE0) {
		len = 3, v = c & 0x0F, min = 0x800;
	} else if ((c & 0xF8) == 0xF0) {
		len = 4, v = c & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((p[k] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (p[k] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

/* 1 if p[0..n) is entirely valid UTF-8. */
static __attribute__((unused)) int
fz_utf8_valid(const void *s, size_t n)
{
	const unsigned char *p = s;
	uint32_t cp;

	for (size_t i = 0; i < n;) {
		size_t k = fz_utf8(p + i, n - i, &cp);
		if (k == 0)
			return 0;
		i += k;
	}
	return 1;
}

/* A NUL-terminated copy of p[n] in a static buffer of cap bytes (cut to fit). */
static __attribute__((unused)) const char *
fz_cstr(char *buf, size_t cap, const uint8_t *p, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

/* Splits p[n] at each occurrence of sep (seplen bytes) into at most max parts.
 * Returns the count; part i is p[off[i] .. off[i] + len[i]). */
static __attribute__((unused)) size_t
fz_split(const uint8_t *p, size_t n, const char *sep, size_t seplen, size_t max,
    size_t *off, size_t *len)
{
	size_t count = 0, start = 0;

	while (count + 1 < max) {
		const uint8_t *hit = memmem(p + start, n - start, sep, seplen);
		if (hit == NULL)
			break;
		off[count] = start;
		len[count] = (size_t)(hit - (p + start));
		count++;
		start = (size_t)(hit - p) + seplen;
	}
	off[count] = start;
	len[count] = n - start;
	return count + 1;
}

/* Collects a DN that BearSSL's decoder hands out in pieces (br_x509_decoder_init's
 * callback); `over` when it does not fit. */
struct fz_dn {
	unsigned char b[8192];
	size_t n;
	int over;
};

static inline void
fz_dn_append(void *ctx, const void *buf, size_t len)
{
	struct fz_dn *d = ctx;

	if (d->over || len > sizeof d->b - d->n) {
		d->over = 1;
		return;
	}
	memcpy(d->b + d->n, buf, len);
	d->n += len;
}

#endif
