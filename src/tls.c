/*
 * tls: BearSSL client engine driven by hand over a socket, under one deadline.
 *
 * We do not use br_sslio: its callbacks cannot see the deadline, and we want to tell
 * a TCP close from a timeout from a BearSSL error. Sockets are used with
 * MSG_DONTWAIT (so the caller's fd may be blocking or not) and MSG_NOSIGNAL (a peer
 * that resets the connection must not kill us with SIGPIPE).
 */
#include "tls.h"

#include "buf.h"
#include "civil.h"
#include "file.h"
#include "net.h"
#include "roots.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MODE_CA, MODE_PIN, MODE_INSECURE };
enum { PHASE_HANDSHAKE, PHASE_WRITE, PHASE_READ };

#define CAFILE_MAX_BYTES (4L * 1024 * 1024)

/* ---------------------------------------------------------------- errors --- */

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

/* -------------------------------------------------------------- time ------ */

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

/* --------------------------------------------------------------- DER ------ */

/* A bounded view of DER bytes. */
struct der {
	const unsigned char *p;
	size_t n;
};

/*
 * Reads one TLV from the front of d. The content must lie within d, except with
 * `partial`, where it is cut to what d holds (for the outer SEQUENCEs of a
 * certificate of which we keep only the head). *whole is the TLV with its header.
 */
static int
der_next(struct der *d, unsigned *tag, struct der *content, struct der *whole, int partial)
{
	size_t i = 0, len = 0;

	if (d->n < 2)
		return -1;
	*tag = d->p[i++];
	if ((*tag & 0x1f) == 0x1f)
		return -1;                   /* high tag numbers: none in the fields we read */
	unsigned l0 = d->p[i++];
	if (l0 < 0x80) {
		len = l0;
	} else {
		unsigned nb = l0 & 0x7f;
		if (nb == 0 || nb > 3 || d->n - i < nb)
			return -1;           /* indefinite, or longer than 16 MiB */
		for (unsigned k = 0; k < nb; k++)
			len = (len << 8) | d->p[i++];
	}
	if (len > d->n - i) {
		if (!partial)
			return -1;
		len = d->n - i;
	}
	content->p = d->p + i;
	content->n = len;
	if (whole != NULL) {
		whole->p = d->p;
		whole->n = i + len;
	}
	d->p += i + len;
	d->n -= i + len;
	return 0;
}

static int
der_expect(struct der *d, unsigned want, struct der *content, struct der *whole, int partial)
{
	unsigned tag;

	if (der_next(d, &tag, content, whole, partial) != 0 || tag != want)
		return -1;
	return 0;
}

static int
digits(const unsigned char *p, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (unsigned)(p[i] - '0');
	}
	return 0;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (the DER forms) to Unix. */
static int
der_time(struct der *d, int64_t *out)
{
	unsigned tag, y, mo, dd, h, mi, s;
	struct der t;
	const unsigned char *p;

	if (der_next(d, &tag, &t, NULL, 0) != 0)
		return -1;
	if (tag == 0x17 && t.n == 13) {
		if (digits(t.p, 2, &y) != 0)
			return -1;
		y += y < 50 ? 2000 : 1900;   /* RFC 5280 4.1.2.5.1 */
		p = t.p + 2;
	} else if (tag == 0x18 && t.n == 15) {
		if (digits(t.p, 4, &y) != 0)
			return -1;
		p = t.p + 4;
	} else {
		return -1;
	}
	if (p[10] != 'Z' || digits(p, 2, &mo) != 0 || digits(p + 2, 2, &dd) != 0 ||
	    digits(p + 4, 2, &h) != 0 || digits(p + 6, 2, &mi) != 0 || digits(p + 8, 2, &s) != 0)
		return -1;
	if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || s > 60)
		return -1;
	*out = civil_days(y, mo, dd) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/*
 * Walks Certificate -> tbsCertificate -> [0] version, serial, signature, issuer,
 * validity, subject -> subjectPublicKeyInfo. Gives the validity and the whole SPKI
 * TLV (which must be complete in the bytes we hold).
 */
static int
leaf_fields(const unsigned char *cert, size_t n, int64_t *nb, int64_t *na, struct der *spki)
{
	struct der d = { cert, n }, c, tbs, x, validity;
	unsigned tag;

	if (der_expect(&d, 0x30, &c, NULL, 1) != 0 || der_expect(&c, 0x30, &tbs, NULL, 1) != 0)
		return -1;
	if (tbs.n > 0 && tbs.p[0] == 0xa0 && der_next(&tbs, &tag, &x, NULL, 0) != 0)
		return -1;
	if (der_expect(&tbs, 0x02, &x, NULL, 0) != 0 ||      /* serialNumber */
	    der_expect(&tbs, 0x30, &x, NULL, 0) != 0 ||      /* signature */
	    der_expect(&tbs, 0x30, &x, NULL, 0) != 0 ||      /* issuer */
	    der_expect(&tbs, 0x30, &validity, NULL, 0) != 0 ||
	    der_expect(&tbs, 0x30, &x, NULL, 0) != 0 ||      /* subject */
	    der_expect(&tbs, 0x30, &x, spki, 0) != 0)
		return -1;
	if (der_time(&validity, nb) != 0 || der_time(&validity, na) != 0 || validity.n != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------ X.509 wrapper ----- */

static struct tls_x509 *
wrapper(const br_x509_class **ctx)
{
	/* ctx points at the vtable field, which is the first field. */
	return (struct tls_x509 *)(void *)ctx;
}

static void
xw_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *w = wrapper(ctx);

	w->ncerts = 0;
	w->head_len = 0;
	w->pin_mismatch = 0;
	w->have_validity = 0;
	if (w->minimal != NULL)
		w->minimal->vtable->start_chain(&w->minimal->vtable, server_name);
}

static void
xw_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *w = wrapper(ctx);

	w->ncerts++;
	if (w->ncerts == 1 && w->minimal == NULL)
		br_x509_decoder_init(&w->dc, NULL, NULL);
	if (w->minimal != NULL)
		w->minimal->vtable->start_cert(&w->minimal->vtable, length);
}

static void
xw_append(const br_x509_class **ctx, const unsigned char *p, size_t len)
{
	struct tls_x509 *w = wrapper(ctx);

	if (w->ncerts == 1) {
		size_t room = sizeof w->head - w->head_len;
		size_t k = len < room ? len : room;
		memcpy(w->head + w->head_len, p, k);
		w->head_len += k;
		if (w->minimal == NULL)
			br_x509_decoder_push(&w->dc, p, len);
	}
	if (w->minimal != NULL)
		w->minimal->vtable->append(&w->minimal->vtable, p, len);
}

static void
xw_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrapper(ctx);
	struct der spki;

	if (w->ncerts == 1) {
		if (leaf_fields(w->head, w->head_len, &w->not_before, &w->not_after, &spki) == 0) {
			w->have_validity = 1;
			if (w->mode == MODE_PIN) {
				unsigned char h[32];
				br_sha256_context sh;
				br_sha256_init(&sh);
				br_sha256_update(&sh, spki.p, spki.n);
				br_sha256_out(&sh, h);
				w->pin_mismatch = memcmp(h, w->pin, 32) != 0;
			}
		} else if (w->mode == MODE_PIN) {
			w->pin_mismatch = 1;  /* cannot find the key: it cannot match */
		}
	}
	if (w->minimal != NULL)
		w->minimal->vtable->end_cert(&w->minimal->vtable);
}

static unsigned
xw_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrapper(ctx);
	int e;

	if (w->minimal != NULL)
		return w->minimal->vtable->end_chain(&w->minimal->vtable);
	if (w->ncerts == 0)
		return BR_ERR_X509_EMPTY_CHAIN;
	e = br_x509_decoder_last_error(&w->dc);
	if (e != 0)
		return (unsigned)e;
	if (w->mode == MODE_PIN && w->pin_mismatch)
		return BR_ERR_X509_NOT_TRUSTED;
	return 0;
}

static const br_x509_pkey *
xw_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *w = (struct tls_x509 *)(void *)(uintptr_t)ctx;

	if (w->minimal != NULL)
		return w->minimal->vtable->get_pkey(
		    (const br_x509_class *const *)&w->minimal->vtable, usages);
	if (w->mode == MODE_PIN && w->pin_mismatch)
		return NULL;
	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&w->dc);
}

static const br_x509_class xw_vtable = {
	sizeof(struct tls_x509),
	xw_start_chain,
	xw_start_cert,
	xw_append,
	xw_end_cert,
	xw_end_chain,
	xw_get_pkey,
};

/* ------------------------------------------------------------- trust ----- */

void
tls_trust_builtin(struct tls_trust *t)
{
	memset(t, 0, sizeof *t);
	t->anchors = anontel_roots;
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

/* Base64 (RFC 4648, not URL-safe) digit values; -1 for anything else. */
static const signed char b64_digit[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int
b64_value(unsigned char ch)
{
	return b64_digit[ch];
}

int
tls_trust_pin(struct tls_trust *t, const char *pin, char *err, size_t errlen)
{
	static const char prefix[] = "sha256//";
	unsigned char out[32];
	const char *s;
	uint32_t acc = 0;
	size_t o = 0;

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
	for (size_t i = 0; i < 43; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0) {
			buf_join(err, errlen, "pin has a character that is not base64", NULL, NULL);
			return -1;
		}
		acc = (acc << 6) | (uint32_t)v;
		if (i % 4 == 3) {
			out[o++] = (unsigned char)(acc >> 16);
			out[o++] = (unsigned char)(acc >> 8);
			out[o++] = (unsigned char)acc;
			acc = 0;
		}
	}
	/* The last 3 characters carry 18 bits: 16 of data and 2 that must be zero. */
	if ((acc & 3) != 0) {
		buf_join(err, errlen, "pin is not canonical base64 (bad last character)", NULL, NULL);
		return -1;
	}
	out[o++] = (unsigned char)(acc >> 10);
	out[o++] = (unsigned char)(acc >> 2);
	memset(t, 0, sizeof *t);
	t->pinned = 1;
	memcpy(t->pin, out, sizeof out);
	return 0;
}

/*
 * Loading a CA file. BearSSL's PEM decoder costs ~200 ns a byte and its X.509
 * decoder ~140 us a certificate at -Os: with Debian's bundle, 65 ms, ten times a
 * whole report (SPEC 10 allows 2x). So the file is mapped, its base64 decoded here,
 * and each certificate read with the DER walker above: the subject DN, the key, and
 * Basic Constraints are all an anchor needs. (tools/mkroots.c builds the compiled-in
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

static int
der_is(const struct der *d, const unsigned char *v, size_t n)
{
	return d->n == n && memcmp(d->p, v, n) == 0;
}

/* A positive INTEGER without its leading zero bytes. */
static int
der_uint(struct der *d, struct der *v)
{
	if (der_expect(d, 0x02, v, NULL, 0) != 0 || v->n == 0 || (v->p[0] & 0x80))
		return -1;
	while (v->n > 1 && v->p[0] == 0) {
		v->p++;
		v->n--;
	}
	return 0;
}

/* The BIT STRING of a key, with no unused bits. */
static int
der_key_bits(struct der *d, struct der *v)
{
	if (der_expect(d, 0x03, v, NULL, 0) != 0 || v->n < 2 || v->p[0] != 0)
		return -1;
	v->p++;
	v->n--;
	return 0;
}

/* Reads SubjectPublicKeyInfo into k (pointing into the DER). Returns 0, -1 bad DER,
 * -2 a key type or curve BearSSL does not do. */
static int
spki_key(struct der spki, br_x509_pkey *k)
{
	static const unsigned char rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
	static const unsigned char ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
	static const unsigned char p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const unsigned char p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
	static const unsigned char p521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };
	struct der alg, oid, bits, seq, n, e;

	if (der_expect(&spki, 0x30, &alg, NULL, 0) != 0 || der_expect(&alg, 0x06, &oid, NULL, 0) != 0 ||
	    der_key_bits(&spki, &bits) != 0 || spki.n != 0)
		return -1;
	if (der_is(&oid, rsa, sizeof rsa)) {
		if (der_expect(&bits, 0x30, &seq, NULL, 0) != 0 || bits.n != 0 ||
		    der_uint(&seq, &n) != 0 || der_uint(&seq, &e) != 0 || seq.n != 0)
			return -1;
		k->key_type = BR_KEYTYPE_RSA;
		k->key.rsa.n = (unsigned char *)(uintptr_t)n.p;
		k->key.rsa.nlen = n.n;
		k->key.rsa.e = (unsigned char *)(uintptr_t)e.p;
		k->key.rsa.elen = e.n;
		return 0;
	}
	if (der_is(&oid, ec, sizeof ec)) {
		struct der curve;
		int id;
		size_t qlen;

		if (der_expect(&alg, 0x06, &curve, NULL, 0) != 0)
			return -2;   /* explicit curve parameters */
		if (der_is(&curve, p256, sizeof p256))
			id = BR_EC_secp256r1, qlen = 65;
		else if (der_is(&curve, p384, sizeof p384))
			id = BR_EC_secp384r1, qlen = 97;
		else if (der_is(&curve, p521, sizeof p521))
			id = BR_EC_secp521r1, qlen = 133;
		else
			return -2;
		if (bits.n != qlen || bits.p[0] != 0x04)
			return -2;   /* compressed points: BearSSL takes them not */
		k->key_type = BR_KEYTYPE_EC;
		k->key.ec.curve = id;
		k->key.ec.q = (unsigned char *)(uintptr_t)bits.p;
		k->key.ec.qlen = bits.n;
		return 0;
	}
	return -2;
}

/* Whether the extensions (the rest of tbsCertificate) assert cA in Basic Constraints:
 * 1 yes, 0 no, -1 when Basic Constraints appears twice (RFC 5280 4.2: at most one
 * instance of an extension; decoders disagree on which one counts, so the
 * certificate is refused rather than guessed at). */
static int
is_ca(struct der tbs)
{
	static const unsigned char bc[] = { 0x55, 0x1d, 0x13 };
	struct der exts, list, ext, oid, val, seq, b;
	unsigned tag;
	int seen = 0, ca = 0;

	while (tbs.n > 0) {
		if (der_next(&tbs, &tag, &exts, NULL, 0) != 0)
			return 0;
		if (tag != 0xa3)
			continue;            /* issuerUniqueID, subjectUniqueID */
		if (der_expect(&exts, 0x30, &list, NULL, 0) != 0)
			return 0;
		while (list.n > 0) {
			if (der_expect(&list, 0x30, &ext, NULL, 0) != 0 ||
			    der_expect(&ext, 0x06, &oid, NULL, 0) != 0)
				return 0;
			if (!der_is(&oid, bc, sizeof bc))
				continue;
			if (seen++)
				return -1;
			if (ext.n > 0 && ext.p[0] == 0x01 && der_next(&ext, &tag, &b, NULL, 0) != 0)
				continue;    /* critical */
			if (der_expect(&ext, 0x04, &val, NULL, 0) != 0 ||
			    der_expect(&val, 0x30, &seq, NULL, 0) != 0)
				continue;
			ca = der_expect(&seq, 0x01, &b, NULL, 0) == 0 && b.n == 1 && b.p[0] != 0;
		}
	}
	return ca;
}

/* Makes one DER certificate anchor number num (from 1). Returns 0, or -1 with err. */
static int
loader_add(struct loader *l, const unsigned char *der, size_t len, const char *path, size_t num,
    char *err, size_t errlen)
{
	struct tls_store *s = l->s;
	br_x509_trust_anchor *ta = &s->anchors[num - 1];
	struct der d = { der, len }, cert, tbs, x, subject, spki;
	br_x509_pkey k;
	unsigned tag;
	int r = -1, ca = 0;

	if (der_expect(&d, 0x30, &cert, NULL, 0) == 0 && d.n == 0 &&
	    der_expect(&cert, 0x30, &tbs, NULL, 0) == 0 &&
	    (tbs.n == 0 || tbs.p[0] != 0xa0 || der_next(&tbs, &tag, &x, NULL, 0) == 0) &&
	    der_expect(&tbs, 0x02, &x, NULL, 0) == 0 &&
	    der_expect(&tbs, 0x30, &x, NULL, 0) == 0 &&
	    der_expect(&tbs, 0x30, &x, NULL, 0) == 0 &&
	    der_expect(&tbs, 0x30, &x, NULL, 0) == 0 &&
	    der_expect(&tbs, 0x30, &x, &subject, 0) == 0 &&
	    der_expect(&tbs, 0x30, &spki, NULL, 0) == 0)
		r = spki_key(spki, &k);
	if (r == 0 && (ca = is_ca(tbs)) < 0)
		r = -3;
	if (r != 0) {
		say_count(err, errlen, path, ": certificate ", num,
		    r == -2 ? ": key type not supported" :
		    r == -3 ? ": Basic Constraints appears twice" : ": cannot decode it");
		return -1;
	}
	ta->dn.data = arena_put(l, subject.p, subject.n);
	ta->dn.len = subject.n;
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
	for (; p < end && !d->bad; p++) {
		int v;

		if (*p == ' ' || *p == '\t' || *p == '\r')
			continue;
		if (*p == '=') {
			/* Only as the 3rd or 4th character of the last group. */
			if (d->nch + d->pad < 2 || d->nch + d->pad > 3)
				d->bad = 1;
			d->pad++;
			if (d->nch + d->pad == 4) {
				d->acc <<= 6 * d->pad;
				if (d->len + 3 - d->pad > cap) {
					d->bad = 1;
					break;
				}
				out[d->len++] = (unsigned char)(d->acc >> 16);
				if (d->pad == 1)
					out[d->len++] = (unsigned char)(d->acc >> 8);
				d->nch = 0;
				d->acc = 0;
				d->pad = 5;   /* nothing may follow */
			}
			continue;
		}
		v = b64_value((unsigned char)*p);
		if (v < 0 || d->pad != 0) {
			d->bad = 1;
			break;
		}
		d->acc = (d->acc << 6) | (uint32_t)v;
		if (++d->nch == 4) {
			if (d->len + 3 > cap) {
				d->bad = 1;
				break;
			}
			out[d->len++] = (unsigned char)(d->acc >> 16);
			out[d->len++] = (unsigned char)(d->acc >> 8);
			out[d->len++] = (unsigned char)d->acc;
			d->nch = 0;
			d->acc = 0;
		}
	}
}

static int
load_text(struct tls_store *store, const char *text, size_t size, const char *path, size_t *count,
    char *err, size_t errlen)
{
	struct loader l;
	const char *p = text, *end = text + size;
	struct b64 d = { 0 };
	size_t num = 0;
	int in_obj = 0, is_cert = 0;

	memset(&l, 0, sizeof l);
	l.s = store;
	store->used = 0;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *next = eol != NULL ? eol + 1 : end;

		if (eol == NULL)
			eol = end;
		if (!in_obj) {
			if (starts(p, eol, "-----BEGIN ")) {
				in_obj = 1;
				is_cert = starts(p, eol, "-----BEGIN CERTIFICATE-----") ||
				    starts(p, eol, "-----BEGIN X509 CERTIFICATE-----");
				memset(&d, 0, sizeof d);
			}
		} else if (starts(p, eol, "-----END ")) {
			in_obj = 0;
			if (is_cert) {
				if (d.bad || d.nch != 0 || d.len == 0) {
					say_count(err, errlen, path, ": bad PEM in certificate ",
					    num + 1, "");
					return -1;
				}
				if (num == TLS_CAFILE_MAX_ANCHORS) {
					say_count(err, errlen, path, ": more than ",
					    TLS_CAFILE_MAX_ANCHORS, " certificates");
					return -1;
				}
				num++;
				if (loader_add(&l, store->der, d.len, path, num, err, errlen) != 0)
					return -1;
			}
		} else if (is_cert) {
			b64_line(&d, store->der, sizeof store->der, p, eol);
		}
		p = next;
	}
	if (in_obj) {
		buf_join(err, errlen, path, ": bad PEM (an object is not terminated)", NULL);
		return -1;
	}
	*count = num;
	return 0;
}

int
tls_trust_file(struct tls_trust *t, struct tls_store *store, const char *path, char *err,
    size_t errlen)
{
	struct stat st;
	void *map;
	size_t num = 0;
	int fd, r;

	fd = file_open(AT_FDCWD, path, 0, &st, &r);
	if (fd < 0) {
		buf_join(err, errlen, path, ": ", r == FILE_ABSENT ? strerror(ENOENT) :
		    r == FILE_NOT_REGULAR ? "not a regular file" : strerror(errno));
		return -1;
	}
	if (st.st_size > CAFILE_MAX_BYTES) {
		buf_join(err, errlen, path, ": larger than 4 MiB", NULL);
		close(fd);
		return -1;
	}
	if (st.st_size == 0) {
		close(fd);
		buf_join(err, errlen, path, ": no certificate", NULL);
		return -1;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		buf_join(err, errlen, path, ": ", strerror(errno));
		return -1;
	}
	r = load_text(store, map, (size_t)st.st_size, path, &num, err, errlen);
	munmap(map, (size_t)st.st_size);
	if (r != 0)
		return -1;
	if (num == 0) {
		buf_join(err, errlen, path, ": no certificate", NULL);
		return -1;
	}
	memset(t, 0, sizeof *t);
	t->anchors = store->anchors;
	t->n_anchors = num;
	return 0;
}

/* ------------------------------------------------------------ engine ----- */

static void
setup_engine(struct tls_conn *c, const struct tls_trust *t)
{
	/* A reduced profile: forward-secret ECDHE with AEAD ciphers, which every
	 * TLS 1.2 server worth talking to offers, and nothing else to link in. */
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	br_ssl_engine_context *eng = &c->sc.eng;

	br_ssl_client_zero(&c->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	br_ssl_engine_set_default_ec(eng);        /* P-256, P-384, P-521, X25519 */
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);

	memset(&c->x509, 0, sizeof c->x509);
	c->x509.vtable = &xw_vtable;
	if (t->pinned) {
		c->x509.mode = MODE_PIN;
		memcpy(c->x509.pin, t->pin, sizeof c->x509.pin);
	} else if (t->insecure) {
		c->x509.mode = MODE_INSECURE;
	} else {
		br_x509_minimal_context *xc = &c->xc;
		int64_t w = c->when < 0 ? 0 : c->when;

		c->x509.mode = MODE_CA;
		c->x509.minimal = xc;
		br_x509_minimal_init(xc, &br_sha256_vtable, t->anchors, t->n_anchors);
		br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
		br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
		br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
		br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(eng));
		br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(eng), br_ssl_engine_get_ecdsa(eng));
		/* BearSSL counts days from 0000-01-01: 719528 days before 1970. */
		br_x509_minimal_set_time(xc, (uint32_t)(w / 86400 + 719528), (uint32_t)(w % 86400));
	}
	br_ssl_engine_set_x509(eng, &c->x509.vtable);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof c->iobuf, 1);
}

static const char *
alert_name(int a)
{
	switch (a) {
	case 10: return "unexpected_message";
	case 20: return "bad_record_mac";
	case 40: return "handshake_failure";
	case 42: return "bad_certificate";
	case 46: return "certificate_unknown";
	case 47: return "illegal_parameter";
	case 48: return "unknown_ca";
	case 50: return "decode_error";
	case 51: return "decrypt_error";
	case 70: return "protocol_version";
	case 71: return "insufficient_security";
	case 80: return "internal_error";
	case 112: return "unrecognized_name";
	default: return NULL;
	}
}

/* Turns the engine's error into the one line the header promises. */
static void
say_engine_error(struct tls_conn *c, int e, const char *host, char *err, size_t errlen)
{
	struct tls_x509 *w = &c->x509;
	struct buf o;

	if (err == NULL || errlen == 0)
		return;
	buf_init(&o, err, errlen);
	if (w->mode == MODE_PIN && w->pin_mismatch) {
		buf_str(&o, "server key does not match the pin");
		return;
	}
	if (e >= BR_ERR_RECV_FATAL_ALERT && e < BR_ERR_RECV_FATAL_ALERT + 256) {
		int a = e - BR_ERR_RECV_FATAL_ALERT;
		if (a == 70 && !c->handshake_done) {
			buf_str(&o, "server requires TLS 1.3, which anontel does not support "
			    "(TLS 1.2 only)");
			return;
		}
		buf_str(&o, "TLS alert ");
		buf_uint(&o, (uint64_t)a, 0);
		if (alert_name(a) != NULL) {
			buf_str(&o, " (");
			buf_str(&o, alert_name(a));
			buf_str(&o, ")");
		}
		buf_str(&o, " from server");
		return;
	}
	switch (e) {
	case BR_ERR_X509_NOT_TRUSTED:
		buf_str(&o, "certificate not trusted (unknown CA or missing intermediate)");
		return;
	case BR_ERR_X509_BAD_SERVER_NAME:
		buf_str(&o, "certificate does not match ");
		buf_str(&o, host);
		return;
	case BR_ERR_X509_EXPIRED:
		if (w->have_validity && c->when < w->not_before)
			buf_str(&o, "certificate not yet valid");
		else if (w->have_validity && c->when > w->not_after)
			buf_str(&o, "certificate expired");
		else
			buf_str(&o, "a CA certificate in the chain is expired or not yet valid");
		return;
	case BR_ERR_BAD_VERSION:
	case BR_ERR_UNSUPPORTED_VERSION:
		buf_str(&o, "server does not speak TLS 1.2");
		return;
	case BR_ERR_BAD_CIPHER_SUITE:
		buf_str(&o, "server chose a cipher suite anontel does not offer");
		return;
	case BR_ERR_BAD_LENGTH:
	case BR_ERR_TOO_LARGE:
	case BR_ERR_BAD_MAC:
	case BR_ERR_UNKNOWN_TYPE:
	case BR_ERR_UNEXPECTED:
	case BR_ERR_BAD_CCS:
	case BR_ERR_BAD_ALERT:
	case BR_ERR_BAD_HANDSHAKE:
	case BR_ERR_BAD_FRAGLEN:
		/* Record-layer garbage: not TLS, or tampered with on the way. */
		buf_str(&o, "the server sent invalid TLS data (BearSSL error ");
		buf_uint(&o, (uint64_t)e, 0);
		buf_str(&o, ")");
		return;
	default:
		break;
	}
	if (e >= BR_ERR_X509_OK && e < BR_ERR_X509_OK + 32)
		buf_str(&o, "certificate rejected (BearSSL error ");
	else
		buf_str(&o, "TLS failure (BearSSL error ");
	buf_uint(&o, (uint64_t)e, 0);
	buf_str(&o, ")");
}

static void
say_phase(int phase, const char *what, char *err, size_t errlen)
{
	static const char *const where[] = {
		" in the TLS handshake", " sending over TLS", " reading over TLS",
	};
	buf_join(err, errlen, what, where[phase], NULL);
}

/* The socket would block: waits for it until the deadline. 0 ready, -1 with err. */
static int
wait_ready(struct tls_conn *c, short events, int phase, char *err, size_t errlen)
{
	int w = net_wait(c->fd, events, c->deadline_ms);

	if (w > 0)
		return 0;
	if (w == 0)
		say_phase(phase, "timed out", err, errlen);
	else
		buf_join(err, errlen, "poll: ", strerror(errno), NULL);
	return -1;
}

/* Sends some of the engine's outgoing records. Returns 0 on progress, -1 with err. */
static int
send_some(struct tls_conn *c, int phase, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	size_t len;
	unsigned char *p = br_ssl_engine_sendrec_buf(eng, &len);
	ssize_t r = send(c->fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (r > 0) {
		br_ssl_engine_sendrec_ack(eng, (size_t)r);
		return 0;
	}
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return wait_ready(c, POLLOUT, phase, err, errlen);
	if (phase == PHASE_HANDSHAKE && r < 0 && (errno == EPIPE || errno == ECONNRESET))
		buf_join(err, errlen, "connection closed during the TLS handshake", NULL, NULL);
	else
		buf_join(err, errlen, "sending over TLS: ", r < 0 ? strerror(errno) : "no progress",
		    NULL);
	return -1;
}

/* Feeds the engine incoming bytes. Returns 0 on progress, 1 at the end of the stream
 * in PHASE_READ, -1 with err. */
static int
recv_some(struct tls_conn *c, int phase, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	size_t len;
	unsigned char *p = br_ssl_engine_recvrec_buf(eng, &len);
	ssize_t r = recv(c->fd, p, len, MSG_DONTWAIT);

	if (r > 0) {
		br_ssl_engine_recvrec_ack(eng, (size_t)r);
		return 0;
	}
	if (r < 0 && errno == EINTR)
		return 0;
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return wait_ready(c, POLLIN, phase, err, errlen);
	if (r == 0 || errno == ECONNRESET) {
		/* BearSSL would call a TCP close without close_notify a truncation
		 * attack; after the handshake, HTTP framing judges whether the
		 * response is complete (as curl does). */
		if (phase == PHASE_READ && r == 0)
			return 1;
		if (phase == PHASE_HANDSHAKE)
			buf_join(err, errlen, "connection closed during the TLS handshake", NULL, NULL);
		else
			buf_join(err, errlen, r == 0 ? "connection closed by the server" :
			    "connection reset by the server", NULL, NULL);
		return -1;
	}
	buf_join(err, errlen, "reading over TLS: ", strerror(errno), NULL);
	return -1;
}

/*
 * Runs the engine until its state has one of the bits in `target`. Returns 0 then;
 * 1 when the stream ended (close_notify, or a TCP close) in PHASE_READ; -1 with err.
 */
static int
run_until(struct tls_conn *c, unsigned target, int phase, const char *host, char *err,
    size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);

		if (st & BR_SSL_CLOSED) {
			int e = br_ssl_engine_last_error(eng);
			if (e == BR_ERR_OK) {
				if (phase == PHASE_READ)
					return 1;
				buf_join(err, errlen, phase == PHASE_HANDSHAKE ?
				    "connection closed during the TLS handshake" :
				    "connection closed by the server", NULL, NULL);
				return -1;
			}
			say_engine_error(c, e, host, err, errlen);
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			if (send_some(c, phase, err, errlen) != 0)
				return -1;
			continue;
		}
		if (st & target)
			return 0;
		if (st & BR_SSL_RECVAPP) {
			/* Data arrived while we want to send: an HTTP server does not
			 * talk before it is asked. */
			buf_join(err, errlen, "server sent data out of turn", NULL, NULL);
			return -1;
		}
		if (st & BR_SSL_RECVREC) {
			int r = recv_some(c, phase, err, errlen);
			if (r != 0)
				return r;
			continue;
		}
		/* Only unsent application data can be left: make it a record. */
		br_ssl_engine_flush(eng, 0);
		if (!(br_ssl_engine_current_state(eng) & (BR_SSL_SENDREC | BR_SSL_CLOSED))) {
			buf_join(err, errlen, "TLS engine stalled", NULL, NULL);
			return -1;
		}
	}
}

int
tls_open(struct tls_conn *c, int fd, const char *host, const struct tls_trust *t, time_t when,
    int64_t deadline_ms, char *err, size_t errlen)
{
	static const int one = 1;

	/* BearSSL hands out one record at a time, so a flight is several small
	 * send()s: with Nagle the later ones wait for the server's delayed ACK
	 * (40 ms on Linux). curl sets TCP_NODELAY for the same reason. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->fd = fd;
	c->deadline_ms = deadline_ms;
	c->when = (int64_t)when;
	c->handshake_done = 0;
	setup_engine(c, t);
	if (!br_ssl_client_reset(&c->sc, host, 0)) {
		say_engine_error(c, br_ssl_engine_last_error(&c->sc.eng), host, err, errlen);
		return -1;
	}
	if (run_until(c, BR_SSL_SENDAPP, PHASE_HANDSHAKE, host, err, errlen) != 0)
		return -1;
	c->handshake_done = 1;
	return 0;
}

int
tls_write_all(struct tls_conn *c, const void *p, size_t n, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	const unsigned char *s = p;

	while (n > 0) {
		unsigned char *dst;
		size_t room;

		if (run_until(c, BR_SSL_SENDAPP, PHASE_WRITE, "", err, errlen) != 0)
			return -1;
		dst = br_ssl_engine_sendapp_buf(eng, &room);
		if (room > n)
			room = n;
		memcpy(dst, s, room);
		br_ssl_engine_sendapp_ack(eng, room);
		s += room;
		n -= room;
	}
	/* Make a record of what is buffered and send it; the reply is read later. */
	br_ssl_engine_flush(eng, 0);
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return run_until(c, BR_SSL_SENDAPP, PHASE_WRITE, "", err, errlen);
		if (!(st & BR_SSL_SENDREC))
			return 0;
		if (send_some(c, PHASE_WRITE, err, errlen) != 0)
			return -1;
	}
}

ssize_t
tls_read(struct tls_conn *c, void *p, size_t n, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned char *src;
	size_t len;
	int r;

	if (n == 0)
		return 0;
	r = run_until(c, BR_SSL_RECVAPP, PHASE_READ, "", err, errlen);
	if (r == 1)
		return 0;
	if (r != 0)
		return -1;
	src = br_ssl_engine_recvapp_buf(eng, &len);
	if (len > n)
		len = n;
	memcpy(p, src, len);
	br_ssl_engine_recvapp_ack(eng, len);
	return (ssize_t)len;
}

void
tls_close(struct tls_conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	br_ssl_engine_close(eng);
	/* Send what is queued (our close_notify); do not wait for the server's. */
	while ((br_ssl_engine_current_state(eng) & (BR_SSL_SENDREC | BR_SSL_CLOSED)) ==
	    BR_SSL_SENDREC) {
		if (send_some(c, PHASE_WRITE, NULL, 0) != 0)
			break;
	}
}
