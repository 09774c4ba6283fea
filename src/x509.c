#include "x509.h"

#include <string.h>

#include "ascii.h"
#include "civil.h"

static const unsigned char OID_BASIC_CONSTRAINTS[] = { 0x55, 0x1d, 0x13 };
static const unsigned char OID_EXT_KEY_USAGE[] = { 0x55, 0x1d, 0x25 };
static const unsigned char OID_SUBJECT_ALT_NAME[] = { 0x55, 0x1d, 0x11 };
static const unsigned char OID_ANY_EKU[] = { 0x55, 0x1d, 0x25, 0x00 };
static const unsigned char OID_SERVER_AUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };

#define TAG_SAN_IP 0x87   /* [7] iPAddress, implicit OCTET STRING */

int
x509_der_next(struct x509_der *d, unsigned *tag, struct x509_der *content,
    struct x509_der *whole, int partial)
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

int
x509_der_expect(struct x509_der *d, unsigned want, struct x509_der *content,
    struct x509_der *whole, int partial)
{
	unsigned tag;

	if (x509_der_next(d, &tag, content, whole, partial) != 0 || tag != want)
		return -1;
	return 0;
}

/* x509_der_expect of a TLV that must be complete, its header not wanted: how most
 * fields are read. */
static int
der_take(struct x509_der *d, unsigned want, struct x509_der *content)
{
	return x509_der_expect(d, want, content, NULL, 0);
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (the DER forms) to Unix. */
static int
der_time(struct x509_der *d, int64_t *out)
{
	unsigned tag, y, f[5];
	struct x509_der t;
	int64_t days;
	size_t yn;

	if (x509_der_next(d, &tag, &t, NULL, 0) != 0 || (tag != 0x17 && tag != 0x18))
		return -1;
	yn = tag == 0x17 ? 2 : 4;
	if (t.n != yn + 11 || t.p[t.n - 1] != 'Z' ||
	    ascii_digits((const char *)t.p, yn, &y) != 0)
		return -1;
	if (yn == 2)
		y += y < 50 ? 2000 : 1900;   /* RFC 5280 4.1.2.5.1 */
	/* Month, day, hour, minute, second: civil_date checks the date (Apr 31, Feb 29
	 * of a common year); a leap second is allowed. */
	for (size_t i = 0; i < 5; i++) {
		if (ascii_digits((const char *)t.p + yn + 2 * i, 2, &f[i]) != 0)
			return -1;
	}
	if (f[2] > 23 || f[3] > 59 || f[4] > 60 || civil_date(y, f[0], f[1], &days) != 0)
		return -1;
	*out = days * 86400 + f[2] * 3600 + f[3] * 60 + f[4];
	return 0;
}

int
x509_cert_parse(const unsigned char *cert, size_t n, int partial, struct x509_cert *c)
{
	/* tbsCertificate's fields up to the key, after the optional [0] version. */
	enum { SERIAL, SIGNATURE, ISSUER, VALIDITY, SUBJECT, SPKI, FIELDS };
	static const unsigned char tags[FIELDS] = { 0x02, 0x30, 0x30, 0x30, 0x30, 0x30 };
	struct x509_der d = { cert, n }, outer, tbs, x, f[FIELDS], whole[FIELDS];
	unsigned tag;

	memset(c, 0, sizeof *c);
	if (x509_der_expect(&d, 0x30, &outer, NULL, partial) != 0 || (!partial && d.n != 0) ||
	    x509_der_expect(&outer, 0x30, &tbs, NULL, partial) != 0)
		return -1;
	if (tbs.n > 0 && tbs.p[0] == 0xa0 && x509_der_next(&tbs, &tag, &x, NULL, 0) != 0)
		return -1;
	for (size_t i = 0; i < FIELDS; i++) {
		if (x509_der_expect(&tbs, tags[i], &f[i], &whole[i], 0) != 0)
			return -1;
	}
	c->subject = whole[SUBJECT];
	c->spki = whole[SPKI];
	c->have_validity = der_time(&f[VALIDITY], &c->not_before) == 0 &&
	    der_time(&f[VALIDITY], &c->not_after) == 0 && f[VALIDITY].n == 0;
	c->rest = tbs;
	return 0;
}

static int
der_is(const struct x509_der *d, const unsigned char *v, size_t n)
{
	return d->n == n && memcmp(d->p, v, n) == 0;
}

/* A positive INTEGER without its leading zero bytes. */
static int
der_uint(struct x509_der *d, struct x509_der *v)
{
	if (der_take(d, 0x02, v) != 0 || v->n == 0 || (v->p[0] & 0x80))
		return -1;
	while (v->n > 1 && v->p[0] == 0) {
		v->p++;
		v->n--;
	}
	return 0;
}

/* The BIT STRING of a key, with no unused bits. */
static int
der_key_bits(struct x509_der *d, struct x509_der *v)
{
	if (der_take(d, 0x03, v) != 0 || v->n < 2 || v->p[0] != 0)
		return -1;
	v->p++;
	v->n--;
	return 0;
}

int
x509_spki_key(struct x509_der spki, br_x509_pkey *k)
{
	static const unsigned char rsa[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01 };
	static const unsigned char ec[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
	/* The named curves BearSSL does: OID, BearSSL's id, an uncompressed point's
	 * length. */
	static const struct {
		unsigned char oid[8], oid_len, id, qlen;
	} curves[] = {
		{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 }, 8, BR_EC_secp256r1, 65 },
		{ { 0x2b, 0x81, 0x04, 0x00, 0x22 }, 5, BR_EC_secp384r1, 97 },
		{ { 0x2b, 0x81, 0x04, 0x00, 0x23 }, 5, BR_EC_secp521r1, 133 },
	};
	struct x509_der alg, oid, bits, seq, n, e;
	struct x509_der tlv = spki;

	if (der_take(&tlv, 0x30, &spki) != 0 || tlv.n != 0 ||
	    der_take(&spki, 0x30, &alg) != 0 ||
	    der_take(&alg, 0x06, &oid) != 0 ||
	    der_key_bits(&spki, &bits) != 0 || spki.n != 0)
		return -1;
	if (der_is(&oid, rsa, sizeof rsa)) {
		if (der_take(&bits, 0x30, &seq) != 0 || bits.n != 0 ||
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
		struct x509_der curve;
		size_t i = 0;

		if (der_take(&alg, 0x06, &curve) != 0)
			return -2;   /* explicit curve parameters */
		while (i < sizeof curves / sizeof curves[0] &&
		    !der_is(&curve, curves[i].oid, curves[i].oid_len))
			i++;
		if (i == sizeof curves / sizeof curves[0])
			return -2;
		if (bits.n != curves[i].qlen || bits.p[0] != 0x04)
			return -2;   /* compressed points: BearSSL takes them not */
		k->key_type = BR_KEYTYPE_EC;
		k->key.ec.curve = curves[i].id;
		k->key.ec.q = (unsigned char *)(uintptr_t)bits.p;
		k->key.ec.qlen = bits.n;
		return 0;
	}
	return -2;
}

unsigned
x509_rsa_bits(const br_x509_pkey *k)
{
	const unsigned char *n = k->key.rsa.n;
	size_t len = k->key.rsa.nlen;
	unsigned bits;

	while (len > 0 && *n == 0) {
		n++;
		len--;
	}
	if (len == 0)
		return 0;
	bits = (unsigned)(len - 1) * 8;
	for (unsigned top = n[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

/* Finds extension `oid` in c->rest's [3] Extensions: 1 with *value the content of
 * the SEQUENCE its extnValue OCTET STRING holds (the value of each one read here),
 * 0 when absent, -1 when malformed, -2 when it appears twice (RFC 5280 4.2: at most
 * one instance of an extension). */
static int
find_extension(const struct x509_cert *c, const unsigned char *oid, size_t oidlen,
    struct x509_der *value)
{
	struct x509_der rest = c->rest, exts, list, ext, id, v, b;
	unsigned tag;
	int found = 0, blocks = 0;

	while (rest.n > 0) {
		if (x509_der_next(&rest, &tag, &exts, NULL, 0) != 0)
			return -1;
		if (tag != 0xa3)
			continue;            /* issuerUniqueID, subjectUniqueID */
		if (blocks++ || der_take(&exts, 0x30, &list) != 0 || exts.n != 0)
			return -1;
		while (list.n > 0) {
			if (der_take(&list, 0x30, &ext) != 0 ||
			    der_take(&ext, 0x06, &id) != 0)
				return -1;
			if (!der_is(&id, oid, oidlen))
				continue;
			if (found)
				return -2;
			if (ext.n > 0 && ext.p[0] == 0x01 &&            /* critical: a BOOLEAN */
			    (x509_der_next(&ext, &tag, &b, NULL, 0) != 0 || b.n != 1))
				return -1;
			if (der_take(&ext, 0x04, &v) != 0 || ext.n != 0)
				return -1;
			found = 1;
		}
	}
	if (found && (der_take(&v, 0x30, value) != 0 || v.n != 0))
		return -1;
	return found;
}

int
x509_is_ca(const struct x509_cert *c)
{
	struct x509_der seq, b;
	int r = find_extension(c, OID_BASIC_CONSTRAINTS, sizeof OID_BASIC_CONSTRAINTS, &seq);

	if (r == -2)
		return -1;
	if (r != 1)
		return 0;
	return der_take(&seq, 0x01, &b) == 0 && b.n == 1 && b.p[0] != 0;
}

enum x509_eku
x509_eku(const struct x509_cert *c)
{
	struct x509_der list, oid;
	int r = find_extension(c, OID_EXT_KEY_USAGE, sizeof OID_EXT_KEY_USAGE, &list);

	if (r == 0)
		return X509_EKU_ABSENT;
	if (r < 0 || list.n == 0)
		return X509_EKU_BAD;
	r = X509_EKU_NOT_SERVER;
	while (list.n > 0) {
		if (der_take(&list, 0x06, &oid) != 0)
			return X509_EKU_BAD;
		if (der_is(&oid, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH) ||
		    der_is(&oid, OID_ANY_EKU, sizeof OID_ANY_EKU))
			r = X509_EKU_SERVER;
	}
	return (enum x509_eku)r;
}

int
x509_san_ip_match(const struct x509_cert *c, const unsigned char *ip, size_t len)
{
	struct x509_der names, name;
	unsigned tag;
	int r = find_extension(c, OID_SUBJECT_ALT_NAME, sizeof OID_SUBJECT_ALT_NAME, &names);
	int match = 0;

	if (r <= 0)
		return r == 0 ? 0 : -1;
	while (names.n > 0) {
		if (x509_der_next(&names, &tag, &name, NULL, 0) != 0)
			return -1;
		if (tag == TAG_SAN_IP && name.n == len && memcmp(name.p, ip, len) == 0)
			match = 1;
	}
	return match;
}
