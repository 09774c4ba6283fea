/*
 * trust: the trust store (trust.h). The roots come from build/gen/roots.h; a CA file
 * is read a chunk at a time and decoded here rather than by BearSSL's PEM and X.509
 * decoders, whose cost at -Os is ten times a whole report (see the loader below).
 */
#include "trust.h"

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "roots.h"
#include "sha256.h"
#include "x509.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CAFILE_MAX_BYTES (4L * 1024 * 1024)

/* "A" "B" N "C" into err: the loader's messages that name a certificate's number. */
static void
say_count(char *err, size_t errlen, const char *a, const char *b, uint64_t n, const char *c)
{
	struct buf o;

	if (err == NULL || errlen == 0)
		return;
	buf_init(&o, err, errlen);
	buf_str(&o, a);
	buf_str(&o, b);
	buf_uint(&o, n, 0);
	buf_str(&o, c);
}

/* trust_dn_hash's context: it lives in the engine's br_hash_compat_context. */
struct dn_hash {
	const br_hash_class *vtable;
	br_sha256_context sha;
	unsigned char digest[TRUST_DN_HASH_LEN];   /* an anchor's, after TRUST_DN_DIGEST */
	unsigned char n;            /* bytes of it seen */
	unsigned char kind;         /* 0 nothing seen, else the first byte */
};

_Static_assert(sizeof(struct dn_hash) <= sizeof(br_hash_compat_context),
    "trust_dn_hash's context fits BearSSL's");

static void
dn_hash_init(const br_hash_class **ctx)
{
	struct dn_hash *h = (struct dn_hash *)ctx;

	h->vtable = &trust_dn_hash;
	br_sha256_init(&h->sha);
	h->n = 0;
	h->kind = 0;
}

static void
dn_hash_update(const br_hash_class **ctx, const void *data, size_t len)
{
	struct dn_hash *h = (struct dn_hash *)ctx;
	const unsigned char *p = data;

	if (len == 0)
		return;
	if (h->kind == 0)
		h->kind = p[0];
	if (h->kind != TRUST_DN_DIGEST) {
		br_sha256_update(&h->sha, p, len);
		return;
	}
	/* The marker itself is byte 0; digest bytes 1..16 (ANONTEL_ROOT_DN_LEN). */
	for (; len > 0 && h->n <= sizeof h->digest; len--, p++) {
		if (h->n > 0)
			h->digest[h->n - 1] = *p;
		h->n++;
	}
}

static void
dn_hash_out(const br_hash_class *const *ctx, void *out)
{
	const struct dn_hash *h = (const struct dn_hash *)ctx;
	unsigned char full[32];

	if (h->kind == TRUST_DN_DIGEST) {
		memcpy(out, h->digest, sizeof h->digest);
	} else {
		br_sha256_out(&h->sha, full);
		memcpy(out, full, TRUST_DN_HASH_LEN);
	}
}

const br_hash_class trust_dn_hash = {
	sizeof(struct dn_hash),
	BR_HASHDESC_OUT(TRUST_DN_HASH_LEN),   /* the output length, all the engine reads */
	dn_hash_init, dn_hash_update, dn_hash_out, NULL, NULL,
};

/* The compiled-in roots as BearSSL anchors, made once from roots.h's table of
 * lengths over its one array of bytes (see tools/mkroots.c for why). BearSSL's
 * fields are not const-qualified; nothing writes through them. */
static const br_x509_trust_anchor *
builtin_anchors(void)
{
	static br_x509_trust_anchor ta[ANONTEL_ROOTS_COUNT];
	static int made;
	unsigned char *p = (unsigned char *)anontel_root_bytes;

	for (size_t i = 0; i < ANONTEL_ROOTS_COUNT && !made; i++) {
		const struct anontel_root *r = &anontel_root_index[i];

		ta[i].dn.data = p;
		ta[i].dn.len = ANONTEL_ROOT_DN_LEN;  /* TRUST_DN_DIGEST, the DN's hash */
		ta[i].flags = BR_X509_TA_CA;
		p += ANONTEL_ROOT_DN_LEN;
		if (r->curve == 0) {
			ta[i].pkey.key_type = BR_KEYTYPE_RSA;
			ta[i].pkey.key.rsa.n = p;
			ta[i].pkey.key.rsa.nlen = r->key_len;
			ta[i].pkey.key.rsa.e = p + r->key_len;
			ta[i].pkey.key.rsa.elen = r->e_len;
		} else {
			ta[i].pkey.key_type = BR_KEYTYPE_EC;
			ta[i].pkey.key.ec.curve = r->curve;
			ta[i].pkey.key.ec.q = p;
			ta[i].pkey.key.ec.qlen = r->key_len;
		}
		p += r->key_len + r->e_len;
	}
	made = 1;
	return ta;
}

void
tls_trust_builtin(struct tls_trust *t)
{
	memset(t, 0, sizeof *t);
	t->anchors = builtin_anchors();
	t->n_anchors = ANONTEL_ROOTS_COUNT;
}

size_t
tls_builtin_count(void)
{
	return ANONTEL_ROOTS_COUNT;
}

void
tls_trust_insecure(struct tls_trust *t)
{
	memset(t, 0, sizeof *t);
	t->insecure = 1;
}

/*
 * Loading a CA file. BearSSL's PEM decoder costs ~200 ns a byte and its X.509
 * decoder ~140 us a certificate at -Os: with Debian's bundle, 65 ms, ten times a
 * whole report (SPEC 10 allows 2x). So the file is read a chunk at a time, its
 * base64 decoded here, and each certificate read with the DER walker above: the
 * subject DN, the key, and Basic Constraints are all an anchor needs. (tools/mkroots.c builds the compiled-in
 * anchors with BearSSL's decoders; the unit test checks both agree on that bundle.)
 */
struct loader {
	struct tls_store *s;
	int full;                            /* the arena ran out */
};

static unsigned char *
arena_put(struct loader *l, const void *p, size_t n)
{
	struct tls_store *s = l->s;

	if (l->full || n > sizeof s->arena - s->used) {
		l->full = 1;
		return NULL;
	}
	unsigned char *d = s->arena + s->used;
	memcpy(d, p, n);
	s->used += n;
	return d;
}

/* Makes one DER certificate anchor number num (from 1). Returns 0, or -1 with err. */
static int
loader_add(struct loader *l, const unsigned char *der, size_t len, const char *path, size_t num,
    char *err, size_t errlen)
{
	struct tls_store *s = l->s;
	br_x509_trust_anchor *ta = &s->anchors[num - 1];
	unsigned char dn[1 + TRUST_DN_HASH_LEN], full[SHA256_LEN];
	struct x509_cert c;
	br_x509_pkey k;
	int r = -1, ca = 0;

	if (x509_cert_parse(der, len, 0, &c) == 0)
		r = x509_spki_key(c.spki, &k);
	if (r == 0 && (ca = x509_is_ca(&c)) < 0)
		r = -3;
	if (r != 0) {
		say_count(err, errlen, path, ": certificate ", num,
		    r == -2 ? ": key type not supported" :
		    r == -3 ? ": Basic Constraints appears twice" : ": cannot decode it");
		return -1;
	}
	/* The DN in the compiled-in roots' form (trust.h): hashed once here, not by the
	 * X.509 engine for every anchor it looks through, at every connection. */
	sha256(c.subject.p, c.subject.n, full);
	dn[0] = TRUST_DN_DIGEST;
	memcpy(dn + 1, full, TRUST_DN_HASH_LEN);
	ta->dn.data = arena_put(l, dn, sizeof dn);
	ta->dn.len = sizeof dn;
	ta->flags = ca ? BR_X509_TA_CA : 0;
	ta->pkey = k;
	if (k.key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = arena_put(l, k.key.rsa.n, k.key.rsa.nlen);
		ta->pkey.key.rsa.e = arena_put(l, k.key.rsa.e, k.key.rsa.elen);
	} else {
		ta->pkey.key.ec.q = arena_put(l, k.key.ec.q, k.key.ec.qlen);
	}
	if (l->full) {
		buf_join(err, errlen, path, ": certificates too large to load", NULL);
		return -1;
	}
	return 0;
}

static int
starts(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);

	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0;
}

/* Base64 body lines of a PEM object into s->der; strict (RFC 7468): only the
 * alphabet, line breaks and trailing '=' padding. */
struct b64 {
	uint32_t acc;
	unsigned nch, pad;
	size_t len;
	int bad;
};

static void
b64_line(struct b64 *d, unsigned char *out, size_t cap, const char *p, const char *end)
{
	/* The state in locals: every store to out may alias *d, and a CA file's base64
	 * is most of its cost (a 150-root file: 200 KB of it). */
	uint32_t acc = d->acc;
	unsigned nch = d->nch, pad = d->pad;
	size_t len = d->len;
	int bad = d->bad;

	for (; p < end && !bad; p++) {
		int v;

		if (ascii_is_blank(*p) || *p == '\r')
			continue;
		if (*p == '=') {
			/* Only as the 3rd or 4th character of the last group, which then
			 * gives 3 - pad bytes; nothing may follow (pad 5). */
			bad = nch + pad < 2 || nch + pad > 3;
			if (++pad + nch == 4) {
				acc <<= 6 * pad;
				if (len + 3 - pad > cap) {
					bad = 1;
					break;
				}
				out[len++] = (unsigned char)(acc >> 16);
				if (pad == 1)
					out[len++] = (unsigned char)(acc >> 8);
				nch = 0;
				acc = 0;
				pad = 5;
			}
			continue;
		}
		v = ascii_b64_val((unsigned char)*p);
		if (v < 0 || pad != 0) {
			bad = 1;
			break;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (++nch == 4) {
			if (len + 3 > cap) {
				bad = 1;
				break;
			}
			out[len++] = (unsigned char)(acc >> 16);
			out[len++] = (unsigned char)(acc >> 8);
			out[len++] = (unsigned char)acc;
			nch = 0;
			acc = 0;
		}
	}
	d->acc = acc;
	d->nch = nch;
	d->pad = pad;
	d->len = len;
	d->bad = bad;
}

int
tls_trust_pin(struct tls_trust *t, const char *pin, char *err, size_t errlen)
{
	static const char prefix[] = "sha256//";
	unsigned char out[32];
	struct b64 d;
	const char *s;

	if (strncmp(pin, prefix, sizeof prefix - 1) != 0) {
		buf_join(err, errlen, "pin must start with sha256//", NULL, NULL);
		return -1;
	}
	s = pin + sizeof prefix - 1;
	/* 32 bytes = 10 groups of 3 + 2 bytes: 43 characters and one '='. */
	if (strlen(s) != 44 || s[43] != '=') {
		buf_join(err, errlen, "pin must be sha256// and 44 base64 characters ending in one =",
		    NULL, NULL);
		return -1;
	}
	/* A byte outside the alphabet (or a blank, which b64_line skips) leaves a
	 * group unfinished or fewer than 32 bytes. */
	memset(&d, 0, sizeof d);
	b64_line(&d, out, sizeof out, s, s + 44);
	if (d.bad || d.nch != 0 || d.len != sizeof out) {
		buf_join(err, errlen, "pin has a character that is not base64", NULL, NULL);
		return -1;
	}
	/* The last 3 characters carry 18 bits: 16 of data and 2 that must be zero. */
	if ((ascii_b64_val((unsigned char)s[42]) & 3) != 0) {
		buf_join(err, errlen, "pin is not canonical base64 (bad last character)", NULL, NULL);
		return -1;
	}
	memset(t, 0, sizeof *t);
	t->pinned = 1;
	memcpy(t->pin, out, sizeof out);
	return 0;
}

/* Where a CA file's reading is: the PEM object being read, the certificates so far. */
struct pem {
	struct loader l;
	struct b64 d;
	size_t num;
	int in_obj, is_cert;
	const char *path;
	char *err;                 /* where a line's failure is said */
	size_t errlen;
};

#define PEM_FAILED 2           /* pem_each stopped the reading (not a file_result) */

/* file_each_line's callback: one line [p, eol) of the CA file. Returns 0, or
 * PEM_FAILED with m->err. */
static int
pem_each(void *ctx, const char *p, const char *eol)
{
	struct pem *m = ctx;
	struct tls_store *store = m->l.s;

	if (!m->in_obj) {
		if (starts(p, eol, "-----BEGIN ")) {
			m->in_obj = 1;
			m->is_cert = starts(p, eol, "-----BEGIN CERTIFICATE-----") ||
			    starts(p, eol, "-----BEGIN X509 CERTIFICATE-----");
			memset(&m->d, 0, sizeof m->d);
		}
		return 0;
	}
	if (!starts(p, eol, "-----END ")) {
		if (m->is_cert)
			b64_line(&m->d, store->der, sizeof store->der, p, eol);
		return 0;
	}
	m->in_obj = 0;
	if (!m->is_cert)
		return 0;
	if (m->d.bad || m->d.nch != 0 || m->d.len == 0) {
		say_count(m->err, m->errlen, m->path, ": bad PEM in certificate ", m->num + 1, "");
		return PEM_FAILED;
	}
	if (m->num == TLS_CAFILE_MAX_ANCHORS) {
		say_count(m->err, m->errlen, m->path, ": more than ", TLS_CAFILE_MAX_ANCHORS,
		    " certificates");
		return PEM_FAILED;
	}
	m->num++;
	if (loader_add(&m->l, store->der, m->d.len, m->path, m->num, m->err, m->errlen) != 0)
		return PEM_FAILED;
	return 0;
}

/* Reads the CA file open as fd (size bytes when opened) a line at a time
 * (file.h): memory stays a chunk however large the bundle (a mapping of it all
 * would count whole in the run's resident size). A file over the cap is refused
 * before any read. Returns 0 with m->num certificates in store, or -1 with m->err. */
static int
load_fd(struct pem *m, int fd, off_t size)
{
	const char *path = m->path;
	char *err = m->err;
	size_t errlen = m->errlen;
	int r = FILE_TOO_BIG;

	if (size <= CAFILE_MAX_BYTES)
		r = file_each_line(fd, size, CAFILE_MAX_BYTES, pem_each, m);
	if (r == FILE_ERROR)
		buf_join(err, errlen, path, ": ", strerror(errno));
	else if (r == FILE_TOO_BIG)
		buf_join(err, errlen, path, ": larger than 4 MiB", NULL);
	else if (r == FILE_LONG_LINE)
		say_count(err, errlen, path, ": bad PEM (a line longer than ", FILE_LINE_MAX,
		    " bytes)");
	else if (r == FILE_OK && m->in_obj)
		buf_join(err, errlen, path, ": bad PEM (an object is not terminated)", NULL);
	else if (r == FILE_OK && m->num == 0)
		buf_join(err, errlen, path, ": no certificate", NULL);
	else if (r == FILE_OK)
		return 0;
	return -1;                 /* PEM_FAILED: err says why already */
}

int
tls_trust_file(struct tls_trust *t, struct tls_store *store, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	struct pem m;
	int fd, r;

	fd = file_open(AT_FDCWD, path, 0, &st, &r);
	if (fd < 0) {
		buf_join(err, errlen, path, ": ", r == FILE_ABSENT ? strerror(ENOENT) :
		    r == FILE_NOT_REGULAR ? "not a regular file" : strerror(errno));
		return -1;
	}
	memset(&m, 0, sizeof m);
	m.l.s = store;
	m.path = path;
	m.err = err;
	m.errlen = errlen;
	store->used = 0;
	r = load_fd(&m, fd, st.st_size);
	close(fd);
	if (r != 0)
		return -1;
	memset(t, 0, sizeof *t);
	t->anchors = store->anchors;
	t->n_anchors = m.num;
	return 0;
}

/* ------------------------------------------------------- choice ----- */

int
tls_trust_choose(struct tls_trust *t, struct tls_store *store, const char *pin,
    const char *ca_file, char *err, size_t errlen)
{
	if (pin != NULL && pin[0] != '\0')
		return tls_trust_pin(t, pin, err, errlen);
	if (ca_file != NULL && ca_file[0] != '\0')
		return tls_trust_file(t, store, ca_file, err, errlen);
	tls_trust_builtin(t);
	return 0;
}

time_t
tls_check_time(time_t now, time_t build_time, int *clamped)
{
	int c = now < build_time;

	if (clamped != NULL)
		*clamped = c;
	return c ? build_time : now;
}
