#include "x509.h"

#include <string.h>

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
der_time(struct x509_der *d, int64_t *out)
{
	unsigned tag, y, mo, dd, h, mi, s;
	struct x509_der t;
	const unsigned char *p;

	if (x509_der_next(d, &tag, &t, NULL, 0) != 0)
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

int
x509_cert_parse(const unsigned char *cert, size_t n, int partial, struct x509_cert *c)
{
	struct x509_der d = { cert, n }, outer, tbs, x, validity;
	unsigned tag;

	memset(c, 0, sizeof *c);
	if (x509_der_expect(&d, 0x30, &outer, NULL, partial) != 0 || (!partial && d.n != 0) ||
	    x509_der_expect(&outer, 0x30, &tbs, NULL, partial) != 0)
		return -1;
	if (tbs.n > 0 && tbs.p[0] == 0xa0 && x509_der_next(&tbs, &tag, &x, NULL, 0) != 0)
		return -1;
	if (x509_der_expect(&tbs, 0x02, &x, NULL, 0) != 0 ||      /* serialNumber */
	    x509_der_expect(&tbs, 0x30, &x, NULL, 0) != 0 ||      /* signature */
	    x509_der_expect(&tbs, 0x30, &x, NULL, 0) != 0 ||      /* issuer */
	    x509_der_expect(&tbs, 0x30, &validity, NULL, 0) != 0 ||
	    x509_der_expect(&tbs, 0x30, &x, &c->subject, 0) != 0 ||
	    x509_der_expect(&tbs, 0x30, &x, &c->spki, 0) != 0)
		return -1;
	c->have_validity = der_time(&validity, &c->not_before) == 0 &&
	    der_time(&validity, &c->not_after) == 0 && validity.n == 0;
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
	if (x509_der_expect(d, 0x02, v, NULL, 0) != 0 || v->n == 0 || (v->p[0] & 0x80))
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
	if (x509_der_expect(d, 0x03, v, NULL, 0) != 0 || v->n < 2 || v->p[0] != 0)
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
	static const unsigned char p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
	static const unsigned char p384[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };
	static const unsigned char p521[] = { 0x2b, 0x81, 0x04, 0x00, 0x23 };
	struct x509_der alg, oid, bits, seq, n, e;
	struct x509_der tlv = spki;

	if (x509_der_expect(&tlv, 0x30, &spki, NULL, 0) != 0 || tlv.n != 0 ||
	    x509_der_expect(&spki, 0x30, &alg, NULL, 0) != 0 ||
	    x509_der_expect(&alg, 0x06, &oid, NULL, 0) != 0 ||
	    der_key_bits(&spki, &bits) != 0 || spki.n != 0)
		return -1;
	if (der_is(&oid, rsa, sizeof rsa)) {
		if (x509_der_expect(&bits, 0x30, &seq, NULL, 0) != 0 || bits.n != 0 ||
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
		int id;
		size_t qlen;

		if (x509_der_expect(&alg, 0x06, &curve, NULL, 0) != 0)
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
 * its extnValue OCTET STRING, 0 when absent, -1 when malformed, -2 when it appears
 * twice (RFC 5280 4.2: at most one instance of an extension). */
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
		if (blocks++ || x509_der_expect(&exts, 0x30, &list, NULL, 0) != 0 || exts.n != 0)
			return -1;
		while (list.n > 0) {
			if (x509_der_expect(&list, 0x30, &ext, NULL, 0) != 0 ||
			    x509_der_expect(&ext, 0x06, &id, NULL, 0) != 0)
				return -1;
			if (!der_is(&id, oid, oidlen))
				continue;
			if (found)
				return -2;
			if (ext.n > 0 && ext.p[0] == 0x01 &&            /* critical: a BOOLEAN */
			    (x509_der_next(&ext, &tag, &b, NULL, 0) != 0 || b.n != 1))
				return -1;
			if (x509_der_expect(&ext, 0x04, &v, NULL, 0) != 0 || ext.n != 0)
				return -1;
			*value = v;
			found = 1;
		}
	}
	return found;
}

int
x509_is_ca(const struct x509_cert *c)
{
	struct x509_der v, seq, b;
	int r = find_extension(c, OID_BASIC_CONSTRAINTS, sizeof OID_BASIC_CONSTRAINTS, &v);

	if (r == -2)
		return -1;
	if (r != 1 || x509_der_expect(&v, 0x30, &seq, NULL, 0) != 0 || v.n != 0)
		return 0;
	return x509_der_expect(&seq, 0x01, &b, NULL, 0) == 0 && b.n == 1 && b.p[0] != 0;
}

enum x509_eku
x509_eku(const struct x509_cert *c)
{
	struct x509_der v, list, oid;
	int r = find_extension(c, OID_EXT_KEY_USAGE, sizeof OID_EXT_KEY_USAGE, &v);

	if (r == 0)
		return X509_EKU_ABSENT;
	if (r < 0 || x509_der_expect(&v, 0x30, &list, NULL, 0) != 0 || v.n != 0 || list.n == 0)
		return X509_EKU_BAD;
	r = X509_EKU_NOT_SERVER;
	while (list.n > 0) {
		if (x509_der_expect(&list, 0x06, &oid, NULL, 0) != 0)
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
	struct x509_der v, names, name;
	unsigned tag;
	int r = find_extension(c, OID_SUBJECT_ALT_NAME, sizeof OID_SUBJECT_ALT_NAME, &v);
	int match = 0;

	if (r <= 0)
		return r == 0 ? 0 : -1;
	if (x509_der_expect(&v, 0x30, &names, NULL, 0) != 0 || v.n != 0)
		return -1;
	while (names.n > 0) {
		if (x509_der_next(&names, &tag, &name, NULL, 0) != 0)
			return -1;
		if (tag == TAG_SAN_IP && name.n == len && memcmp(name.p, ip, len) == 0)
			match = 1;
	}
	return match;
}
