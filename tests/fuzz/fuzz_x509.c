/*
 * fuzz_x509: the certificate fields anontel reads itself (src/x509.c): the DER
 * walker, x509_cert_parse, x509_spki_key, x509_rsa_bits, x509_is_ca, x509_eku and
 * x509_san_ip_match. The input is one DER certificate (or anything).
 *
 * Invariants, beyond ASan/UBSan cleanliness:
 *  - x509_der_next, walked over every TLV it accepts (nested, both modes), agrees
 *    with a TLV reader written here (tag, header and content lengths; with
 *    `partial` the content is cut to the input) and never yields bytes outside
 *    the input; x509_der_expect succeeds exactly on the tag read.
 *  - x509_cert_parse accepts exactly what a walk of the same structure written
 *    here accepts, at the same subject, SubjectPublicKeyInfo and rest; its
 *    validity equals the one decoded here with timegm(3). partial=1 on the
 *    whole input agrees with partial=0 whenever the latter succeeds. A prefix
 *    (copied into its own allocation, so that reading past it is an ASan error)
 *    decodes with partial=1 exactly when it holds the whole SPKI, and then
 *    agrees with the whole certificate.
 *  - x509_spki_key (on the certificate's SPKI and on the raw input): 0, -1 or -2;
 *    the key lies inside the SPKI; RSA integers have no leading zero byte; EC
 *    points are uncompressed and of their curve's length. x509_rsa_bits equals
 *    8 * length - leading zero bits, also with zero bytes put in front.
 *  - x509_is_ca, x509_eku, x509_san_ip_match: in range, the same on a second
 *    call, and, where the extensions are well formed (RFC 5280 4.1, checked
 *    here, strictly), equal to what this harness reads from them (one instance
 *    counts, two are refused; a malformed EKU value is X509_EKU_BAD, a malformed
 *    subjectAltName -1). A match of x509_san_ip_match means its bytes are in the
 *    input.
 *  - BearSSL's br_x509_decoder is the independent reference: a certificate it
 *    decodes is decoded by x509_cert_parse too (unless it uses a length of more
 *    than 3 bytes, which x509.h refuses by design), with the same subject DN,
 *    the same validity (when x509 decodes it), the same key (x509_spki_key 0) or
 *    a key x509 declines (-2: an EC point BearSSL does not check), and the same
 *    CA flag (unless x509_is_ca refuses a duplicate Basic Constraints).
 * tls.c's server_name() (SNI or IP literal) is static and not reached here.
 */
#include "fuzz_util.h"

#include <time.h>

#include <bearssl.h>

#include "x509.h"

#define MAX_INPUT 65536
#define MAX_DEPTH 8
#define MAX_EXTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *in_p;
static size_t in_n;

/* 1 if p[n] lies inside the current input. */
static int
in_input(const void *p, size_t n)
{
	const uint8_t *c = p;
	return c >= in_p && n <= in_n && c <= in_p + in_n - n;
}

/* 1 if p[n] lies inside d. */
static int
in_der(const void *p, size_t n, struct x509_der d)
{
	const uint8_t *c = p;
	return c >= d.p && n <= d.n && c <= d.p + d.n - n;
}

/*
 * The reference TLV reader: one-byte tags (number below 31), definite lengths in
 * short form or in 1..max_nb long-form bytes (x509.h: under 16 MiB, so 3; BearSSL
 * reads more). Content longer than what is left is cut with `partial`. Returns 0
 * with *tag, *hdr (header bytes) and *len (content bytes), or -1.
 */
static int
ref_tlv(const uint8_t *p, size_t n, int partial, unsigned max_nb, unsigned *tag, size_t *hdr,
    size_t *len)
{
	size_t l = 0, h;

	if (n < 2 || (p[0] & 0x1f) == 0x1f)
		return -1;
	*tag = p[0];
	if (p[1] < 0x80) {
		l = p[1];
		h = 2;
	} else {
		size_t nb = p[1] & 0x7f;
		if (nb == 0 || nb > max_nb || n - 2 < nb)
			return -1;
		for (size_t k = 0; k < nb; k++)
			l = l << 8 | p[2 + k];
		h = 2 + nb;
	}
	if (l > n - h) {
		if (!partial)
			return -1;
		l = n - h;
	}
	*hdr = h;
	*len = l;
	return 0;
}

/* A view of the next TLV of d (reference reader, 3 length bytes at most). */
static int
ref_next(struct x509_der *d, unsigned want, struct x509_der *content, struct x509_der *whole)
{
	unsigned tag;
	size_t h, l;

	if (ref_tlv(d->p, d->n, 0, 3, &tag, &h, &l) != 0 || tag != want)
		return -1;
	if (content != NULL)
		*content = (struct x509_der){ d->p + h, l };
	if (whole != NULL)
		*whole = (struct x509_der){ d->p, h + l };
	d->p += h + l;
	d->n -= h + l;
	return 0;
}

/* Walks d's TLVs with x509_der_next against ref_tlv, descending into each. */
static void
walk(struct x509_der d, int partial, int depth)
{
	while (d.n > 0) {
		struct x509_der before = d, content, whole, e = d, ec, ew;
		unsigned tag, rtag;
		size_t h, l;
		int r = x509_der_next(&d, &tag, &content, &whole, partial);
		int rr = ref_tlv(before.p, before.n, partial, 3, &rtag, &h, &l);

		FUZZ_CHECK(r == rr, "x509_der_next %d, reference %d (partial %d, %zu bytes left)", r,
		    rr, partial, before.n);
		if (r != 0) {
			FUZZ_CHECK(d.p == before.p && d.n == before.n, "failed read moved the view");
			return;
		}
		FUZZ_CHECK(tag == rtag && whole.p == before.p && whole.n == h + l &&
		    content.p == before.p + h && content.n == l,
		    "TLV tag %#x hdr+len %zu+%zu, reference %#x %zu+%zu", tag,
		    (size_t)(content.p - whole.p), content.n, rtag, h, l);
		FUZZ_CHECK(in_der(whole.p, whole.n, before) && in_input(content.p, content.n),
		    "TLV outside the input");
		FUZZ_CHECK(d.p == before.p + whole.n && d.n == before.n - whole.n,
		    "view not advanced past the TLV");
		FUZZ_CHECK(x509_der_expect(&e, tag, &ec, &ew, partial) == 0 && e.p == d.p &&
		    ec.p == content.p && ec.n == content.n && ew.n == whole.n,
		    "x509_der_expect differs from x509_der_next");
		e = before;
		FUZZ_CHECK(x509_der_expect(&e, tag ^ 1, &ec, NULL, partial) != 0,
		    "x509_der_expect accepted tag %#x for %#x", tag ^ 1, tag);
		if (depth < MAX_DEPTH)
			walk(content, 0, depth + 1);
	}
}

/* What the reference walk of a certificate finds. */
struct ref_cert {
	struct x509_der subject, spki, rest, validity;
};

/* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL,
 * serialNumber INTEGER, signature, issuer, validity, subject, subjectPublicKeyInfo
 * SEQUENCEs, rest } ... }: the fields x509_cert_parse reads. With `partial`, the
 * two outer SEQUENCEs may be cut short. */
static int
ref_cert_parse(const uint8_t *p, size_t n, int partial, unsigned max_nb, struct ref_cert *rc)
{
	struct x509_der tbs, d;
	unsigned tag;
	size_t h, l;

	if (ref_tlv(p, n, partial, max_nb, &tag, &h, &l) != 0 || tag != 0x30 ||
	    (!partial && h + l != n))
		return -1;
	d = (struct x509_der){ p + h, l };
	if (ref_tlv(d.p, d.n, partial, max_nb, &tag, &h, &l) != 0 || tag != 0x30)
		return -1;
	tbs = (struct x509_der){ d.p + h, l };
	for (unsigned i = 0; i < 7; i++) {
		static const unsigned want[7] = { 0xa0, 0x02, 0x30, 0x30, 0x30, 0x30, 0x30 };
		if (i == 0 && (tbs.n == 0 || tbs.p[0] != 0xa0))
			continue;
		if (ref_tlv(tbs.p, tbs.n, 0, max_nb, &tag, &h, &l) != 0 || tag != want[i])
			return -1;
		if (i == 4)
			rc->validity = (struct x509_der){ tbs.p + h, l };
		if (i == 5)
			rc->subject = (struct x509_der){ tbs.p, h + l };
		if (i == 6)
			rc->spki = (struct x509_der){ tbs.p, h + l };
		tbs.p += h + l;
		tbs.n -= h + l;
	}
	rc->rest = tbs;
	return 0;
}

static int
ref_digits(const uint8_t *p, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		*v = *v * 10 + (p[i] - '0');
	}
	return 0;
}

/* UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, by timegm(3) (which
 * rolls second 60 over as x509.c does). A day its month lacks (Apr 31, Feb 29 of a
 * common year) is refused: timegm moves it to the next month. */
static int
ref_time(struct x509_der *d, int64_t *out)
{
	struct x509_der t;
	struct tm tm;
	int y, f[5];
	const uint8_t *q;

	memset(&tm, 0, sizeof tm);
	if (ref_next(d, 0x17, &t, NULL) == 0 && t.n == 13) {
		if (ref_digits(t.p, 2, &y) != 0)
			return -1;
		y = y >= 50 ? 1900 + y : 2000 + y;
		q = t.p + 2;
	} else if (ref_next(d, 0x18, &t, NULL) == 0 && t.n == 15) {
		if (ref_digits(t.p, 4, &y) != 0)
			return -1;
		q = t.p + 4;
	} else {
		return -1;
	}
	for (int i = 0; i < 5; i++)
		if (ref_digits(q + 2 * i, 2, &f[i]) != 0)
			return -1;
	if (q[10] != 'Z' || f[0] < 1 || f[0] > 12 || f[1] < 1 || f[1] > 31 || f[2] > 23 ||
	    f[3] > 59 || f[4] > 60)
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = f[0] - 1;
	tm.tm_mday = f[1];
	(void)timegm(&tm);
	if (tm.tm_mday != f[1])
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = f[0] - 1;
	tm.tm_mday = f[1];
	tm.tm_hour = f[2];
	tm.tm_min = f[3];
	tm.tm_sec = f[4];
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* One extension: its OID and the content of its extnValue. */
struct ref_ext {
	struct x509_der oid, value;
};

/* RFC 5280 4.1, strictly: rest is [1]? [2]? [3]? in this order, [3] holds exactly
 * one SEQUENCE of one or more Extension ::= SEQUENCE { OID, critical BOOLEAN
 * (one byte) OPTIONAL, OCTET STRING } and nothing else. Returns the count, or -1. */
static int
ref_exts(struct x509_der rest, struct ref_ext *out)
{
	struct x509_der exts, list, ext;
	int count = 0;

	if (rest.n > 0 && (rest.p[0] & 0xdf) == 0x81 && ref_next(&rest, rest.p[0], NULL, NULL) != 0)
		return -1;
	if (rest.n > 0 && (rest.p[0] & 0xdf) == 0x82 && ref_next(&rest, rest.p[0], NULL, NULL) != 0)
		return -1;
	if (rest.n == 0)
		return 0;
	if (ref_next(&rest, 0xa3, &exts, NULL) != 0 || rest.n != 0 ||
	    ref_next(&exts, 0x30, &list, NULL) != 0 || exts.n != 0 || list.n == 0)
		return -1;
	while (list.n > 0) {
		struct x509_der crit;

		if (count == MAX_EXTS || ref_next(&list, 0x30, &ext, NULL) != 0 ||
		    ref_next(&ext, 0x06, &out[count].oid, NULL) != 0)
			return -1;
		if (ext.n > 0 && ext.p[0] == 0x01 && (ref_next(&ext, 0x01, &crit, NULL) != 0 ||
		    crit.n != 1))
			return -1;
		if (ref_next(&ext, 0x04, &out[count].value, NULL) != 0 || ext.n != 0)
			return -1;
		count++;
	}
	return count;
}

/* The one instance of extension 55 1d <id>: 1 with *v, 0 absent, 2 twice or more. */
static int
ref_find(const struct ref_ext *e, int count, unsigned id, struct x509_der *v)
{
	int found = 0;

	for (int i = 0; i < count; i++) {
		if (e[i].oid.n == 3 && e[i].oid.p[0] == 0x55 && e[i].oid.p[1] == 0x1d &&
		    e[i].oid.p[2] == id) {
			*v = e[i].value;
			found++;
		}
	}
	return found > 1 ? 2 : found;
}

/* BasicConstraints ::= SEQUENCE { cA BOOLEAN DEFAULT FALSE, pathLenConstraint
 * INTEGER OPTIONAL }: 1/0, or -1 when the value is not exactly that. */
static int
ref_basic_constraints(struct x509_der v)
{
	struct x509_der seq, b;
	int ca = 0;

	if (ref_next(&v, 0x30, &seq, NULL) != 0 || v.n != 0)
		return -1;
	if (seq.n > 0 && seq.p[0] == 0x01) {
		if (ref_next(&seq, 0x01, &b, NULL) != 0 || b.n != 1)
			return -1;
		ca = b.p[0] != 0;
	}
	if (seq.n > 0 && ref_next(&seq, 0x02, NULL, NULL) != 0)
		return -1;
	return seq.n == 0 ? ca : -1;
}

static enum x509_eku
ref_eku(struct x509_der v)
{
	static const uint8_t server[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
	static const uint8_t any[] = { 0x55, 0x1d, 0x25, 0x00 };
	struct x509_der list, oid;
	enum x509_eku r = X509_EKU_NOT_SERVER;

	if (ref_next(&v, 0x30, &list, NULL) != 0 || v.n != 0 || list.n == 0)
		return X509_EKU_BAD;
	while (list.n > 0) {
		if (ref_next(&list, 0x06, &oid, NULL) != 0)
			return X509_EKU_BAD;
		if ((oid.n == sizeof server && memcmp(oid.p, server, oid.n) == 0) ||
		    (oid.n == sizeof any && memcmp(oid.p, any, oid.n) == 0))
			r = X509_EKU_SERVER;
	}
	return r;
}

/* GeneralNames: a SEQUENCE of TLVs (an empty one matches nothing); 1 when an
 * iPAddress [7] equals ip, 0 when none, -1 malformed. */
static int
ref_san_ip(struct x509_der v, const uint8_t *ip, size_t len)
{
	struct x509_der names;
	int match = 0;

	if (ref_next(&v, 0x30, &names, NULL) != 0 || v.n != 0)
		return -1;
	while (names.n > 0) {
		struct x509_der name;
		unsigned tag;
		size_t h, l;

		if (ref_tlv(names.p, names.n, 0, 3, &tag, &h, &l) != 0)
			return -1;
		name = (struct x509_der){ names.p + h, l };
		if (tag == 0x87 && l == len && memcmp(name.p, ip, len) == 0)
			match = 1;
		names.p += h + l;
		names.n -= h + l;
	}
	return match;
}

/* Leading zero bytes off (all of them: zero is the empty number). */
static void
strip_zeros(const unsigned char **p, size_t *n)
{
	while (*n > 0 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

static unsigned
ref_bits(const unsigned char *p, size_t n)
{
	strip_zeros(&p, &n);
	if (n == 0)
		return 0;
	return (unsigned)(8 * n) - (unsigned)(__builtin_clz(p[0]) - (8 * sizeof(unsigned) - 8));
}

/* Checks x509_spki_key on one SPKI TLV; returns its result, *k on 0. */
static int
check_spki(struct x509_der spki, br_x509_pkey *k)
{
	static unsigned char padded[4096 + 3];
	int r;

	memset(k, 0, sizeof *k);
	r = x509_spki_key(spki, k);
	FUZZ_CHECK(r == 0 || r == -1 || r == -2, "x509_spki_key returned %d", r);
	if (r != 0)
		return r;
	if (k->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_public_key *rk = &k->key.rsa;
		unsigned bits = x509_rsa_bits(k), want = ref_bits(rk->n, rk->nlen);
		br_x509_pkey z = *k;

		FUZZ_CHECK(rk->nlen > 0 && rk->elen > 0 && in_der(rk->n, rk->nlen, spki) &&
		    in_der(rk->e, rk->elen, spki), "RSA key outside the SPKI");
		FUZZ_CHECK((rk->nlen == 1 || rk->n[0] != 0) && (rk->elen == 1 || rk->e[0] != 0),
		    "RSA integers keep leading zeros");
		FUZZ_CHECK(bits == want, "x509_rsa_bits %u, reference %u (%zu bytes)", bits, want,
		    rk->nlen);
		if (rk->nlen <= sizeof padded - 3) {
			memset(padded, 0, 3);
			memcpy(padded + 3, rk->n, rk->nlen);
			z.key.rsa.n = padded;
			z.key.rsa.nlen = rk->nlen + 3;
			FUZZ_CHECK(x509_rsa_bits(&z) == bits, "x509_rsa_bits counts leading zeros");
		}
		z.key.rsa.nlen = 0;
		FUZZ_CHECK(x509_rsa_bits(&z) == 0, "x509_rsa_bits of an empty modulus");
	} else {
		const br_ec_public_key *ek = &k->key.ec;
		size_t want = ek->curve == BR_EC_secp256r1 ? 65 : ek->curve == BR_EC_secp384r1 ? 97 :
		    ek->curve == BR_EC_secp521r1 ? 133 : 0;

		FUZZ_CHECK(k->key_type == BR_KEYTYPE_EC, "key type %d", k->key_type);
		FUZZ_CHECK(want != 0 && ek->qlen == want && ek->q[0] == 0x04 &&
		    in_der(ek->q, ek->qlen, spki), "EC key: curve %d, %zu bytes", ek->curve, ek->qlen);
	}
	return 0;
}

static int
same_der(struct x509_der a, struct x509_der b)
{
	return a.p == b.p && a.n == b.n;
}

/* The IP addresses to try against the subjectAltName: every [7] of 4 or 16
 * bytes in the extensions, loopbacks, and the last bytes of the input. */
static size_t
candidate_ips(const struct x509_cert *c, uint8_t ips[][16], size_t *lens, size_t max)
{
	size_t count = 0;

	memcpy(ips[count], "\x7f\x00\x00\x01", 4);
	lens[count++] = 4;
	memcpy(ips[count], "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
	lens[count++] = 16;
	if (in_n >= 16) {
		memcpy(ips[count], in_p + in_n - 4, 4);
		lens[count++] = 4;
		memcpy(ips[count], in_p + in_n - 16, 16);
		lens[count++] = 16;
	}
	for (size_t i = 0; i + 2 <= c->rest.n && count < max; i++) {
		size_t len = c->rest.p[i + 1];
		if (c->rest.p[i] == 0x87 && (len == 4 || len == 16) && c->rest.n - i - 2 >= len) {
			memcpy(ips[count], c->rest.p + i + 2, len);
			lens[count++] = len;
		}
	}
	return count;
}

/* The extension judges on a decoded certificate. */
static void
check_extensions(const struct x509_cert *c)
{
	static struct ref_ext exts[MAX_EXTS];
	uint8_t ips[24][16];
	size_t lens[24], n_ips;
	int count = ref_exts(c->rest, exts);
	int ca = x509_is_ca(c);
	enum x509_eku eku = x509_eku(c);
	struct x509_der v;
	int f;

	FUZZ_CHECK(ca >= -1 && ca <= 1, "x509_is_ca returned %d", ca);
	FUZZ_CHECK(x509_is_ca(c) == ca, "x509_is_ca differs on a second call");
	FUZZ_CHECK(eku == X509_EKU_ABSENT || eku == X509_EKU_SERVER || eku == X509_EKU_NOT_SERVER ||
	    eku == X509_EKU_BAD, "x509_eku returned %d", (int)eku);
	FUZZ_CHECK(x509_eku(c) == eku, "x509_eku differs on a second call");
	if (count >= 0) {
		f = ref_find(exts, count, 0x13, &v);
		if (f != 1 || ref_basic_constraints(v) >= 0) {
			int want = f == 2 ? -1 : f == 0 ? 0 : ref_basic_constraints(v);
			FUZZ_CHECK(ca == want, "x509_is_ca %d, reference %d", ca, want);
		}
		f = ref_find(exts, count, 0x25, &v);
		enum x509_eku want = f == 2 ? X509_EKU_BAD : f == 0 ? X509_EKU_ABSENT : ref_eku(v);
		FUZZ_CHECK(eku == want, "x509_eku %d, reference %d", (int)eku, (int)want);
	}
	n_ips = candidate_ips(c, ips, lens, sizeof lens / sizeof lens[0]);
	f = count >= 0 ? ref_find(exts, count, 0x11, &v) : -1;
	for (size_t i = 0; i < n_ips; i++) {
		int m = x509_san_ip_match(c, ips[i], lens[i]);

		FUZZ_CHECK(m >= -1 && m <= 1, "x509_san_ip_match returned %d", m);
		FUZZ_CHECK(x509_san_ip_match(c, ips[i], lens[i]) == m,
		    "x509_san_ip_match differs on a second call");
		FUZZ_CHECK(m != 1 || memmem(in_p, in_n, ips[i], lens[i]) != NULL,
		    "x509_san_ip_match matched an address not in the input");
		if (f >= 0) {
			int want = f == 2 ? -1 : f == 0 ? 0 : ref_san_ip(v, ips[i], lens[i]);
			FUZZ_CHECK(m == want, "x509_san_ip_match %d, reference %d (%zu bytes)", m, want,
			    lens[i]);
		}
	}
}

/* A decoded certificate against the reference walk and its own invariants. */
static void
check_cert(const uint8_t *p, size_t n, int partial, const struct x509_cert *c)
{
	struct ref_cert rc;
	br_x509_pkey k;

	FUZZ_CHECK(ref_cert_parse(p, n, partial, 3, &rc) == 0,
	    "x509_cert_parse (partial %d) accepted what the reference refuses", partial);
	FUZZ_CHECK(same_der(c->subject, rc.subject) && same_der(c->spki, rc.spki) &&
	    same_der(c->rest, rc.rest), "fields differ from the reference walk");
	FUZZ_CHECK(in_input(c->subject.p, c->subject.n) && in_input(c->spki.p, c->spki.n) &&
	    in_input(c->rest.p, c->rest.n), "fields outside the input");
	{
		struct x509_der v = rc.validity;
		int64_t nb, na;
		int have = ref_time(&v, &nb) == 0 && ref_time(&v, &na) == 0 && v.n == 0;

		FUZZ_CHECK(c->have_validity == have, "have_validity %d, reference %d",
		    c->have_validity, have);
		FUZZ_CHECK(!have || (c->not_before == nb && c->not_after == na),
		    "validity %lld..%lld, reference %lld..%lld", (long long)c->not_before,
		    (long long)c->not_after, (long long)nb, (long long)na);
	}
	check_spki(c->spki, &k);
	check_extensions(c);
}

/* The first `len` bytes alone (own allocation) with partial=1, against the whole. */
static void
check_prefix(const uint8_t *p, const struct x509_cert *whole, size_t len)
{
	size_t spki_end = (size_t)(whole->spki.p + whole->spki.n - p);
	const uint8_t *saved_p = in_p;
	size_t saved_n = in_n;
	uint8_t *cut = malloc(len ? len : 1);
	struct x509_cert c;
	int r;

	FUZZ_CHECK(cut != NULL, "out of memory");
	memcpy(cut, p, len);
	r = x509_cert_parse(cut, len, 1, &c);
	FUZZ_CHECK((r == 0) == (len >= spki_end),
	    "prefix of %zu bytes (SPKI ends at %zu): x509_cert_parse %d", len, spki_end, r);
	if (r == 0) {
		size_t rest_off = (size_t)(whole->rest.p - p);
		size_t rest_n = len - rest_off < whole->rest.n ? len - rest_off : whole->rest.n;

		FUZZ_CHECK(c.subject.p - cut == whole->subject.p - p && c.subject.n == whole->subject.n &&
		    c.spki.p - cut == whole->spki.p - p && c.spki.n == whole->spki.n &&
		    c.rest.p - cut == (ptrdiff_t)rest_off && c.rest.n == rest_n,
		    "prefix of %zu bytes: fields differ from the whole certificate's", len);
		FUZZ_CHECK(c.have_validity == whole->have_validity &&
		    c.not_before == whole->not_before && c.not_after == whole->not_after,
		    "prefix of %zu bytes: validity differs", len);
		in_p = cut;
		in_n = len;
		check_cert(cut, len, 1, &c);
		in_p = saved_p;
		in_n = saved_n;
	}
	free(cut);
}

static int
same_int(const unsigned char *a, size_t an, const unsigned char *b, size_t bn)
{
	strip_zeros(&a, &an);
	strip_zeros(&b, &bn);
	return an == bn && memcmp(a, b, an) == 0;
}

/* BearSSL's decoder as the reference on the whole input. */
static void
differential(const uint8_t *p, size_t n)
{
	static br_x509_decoder_context dc;
	static struct fz_dn dn;
	struct ref_cert rc;
	struct x509_cert c;
	const br_x509_pkey *bk;
	br_x509_pkey k;
	int r;

	dn.n = 0;
	dn.over = 0;
	br_x509_decoder_init(&dc, fz_dn_append, &dn);
	br_x509_decoder_push(&dc, p, n);
	bk = br_x509_decoder_get_pkey(&dc);
	if (br_x509_decoder_last_error(&dc) != 0 || bk == NULL || dn.over)
		return;
	if (x509_cert_parse(p, n, 0, &c) != 0) {
		FUZZ_CHECK(ref_cert_parse(p, n, 0, 3, &rc) != 0 && ref_cert_parse(p, n, 0, 8, &rc) == 0,
		    "BearSSL decodes the certificate, x509_cert_parse does not");
		return;   /* lengths over 3 bytes: refused by design */
	}
	FUZZ_CHECK(c.subject.n == dn.n && memcmp(c.subject.p, dn.b, dn.n) == 0,
	    "subject DN differs from BearSSL's (%zu vs %zu bytes)", c.subject.n, dn.n);
	if (c.have_validity) {
		int64_t nb = ((int64_t)dc.notbefore_days - 719528) * 86400 + dc.notbefore_seconds;
		int64_t na = ((int64_t)dc.notafter_days - 719528) * 86400 + dc.notafter_seconds;
		FUZZ_CHECK(c.not_before == nb && c.not_after == na,
		    "validity %lld..%lld, BearSSL %lld..%lld", (long long)c.not_before,
		    (long long)c.not_after, (long long)nb, (long long)na);
	}
	r = x509_spki_key(c.spki, &k);
	if (r == 0) {
		FUZZ_CHECK(k.key_type == bk->key_type, "key type %d, BearSSL %d", k.key_type,
		    bk->key_type);
		if (k.key_type == BR_KEYTYPE_RSA) {
			FUZZ_CHECK(same_int(k.key.rsa.n, k.key.rsa.nlen, bk->key.rsa.n, bk->key.rsa.nlen),
			    "RSA modulus differs from BearSSL's");
			FUZZ_CHECK(same_int(k.key.rsa.e, k.key.rsa.elen, bk->key.rsa.e, bk->key.rsa.elen),
			    "RSA exponent differs from BearSSL's");
		} else {
			FUZZ_CHECK(k.key.ec.curve == bk->key.ec.curve && k.key.ec.qlen == bk->key.ec.qlen &&
			    memcmp(k.key.ec.q, bk->key.ec.q, k.key.ec.qlen) == 0,
			    "EC key differs from BearSSL's (curve %d/%d)", k.key.ec.curve,
			    bk->key.ec.curve);
		}
	} else {
		const br_ec_public_key *e = &bk->key.ec;
		size_t want = e->curve == BR_EC_secp256r1 ? 65 : e->curve == BR_EC_secp384r1 ? 97 :
		    e->curve == BR_EC_secp521r1 ? 133 : 0;
		FUZZ_CHECK(r == -2 && bk->key_type == BR_KEYTYPE_EC &&
		    !(want != 0 && e->qlen == want && e->q[0] == 0x04),
		    "x509_spki_key %d on a key BearSSL decodes (type %d)", r, bk->key_type);
	}
	r = x509_is_ca(&c);
	FUZZ_CHECK(r == -1 || r == (br_x509_decoder_isCA(&dc) != 0), "x509_is_ca %d, BearSSL %d", r,
	    br_x509_decoder_isCA(&dc));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct x509_cert c, cp;
	br_x509_pkey k;
	int r, rp;

	if (size > MAX_INPUT)
		return 0;
	in_p = data;
	in_n = size;
	walk((struct x509_der){ data, size }, 0, 0);
	walk((struct x509_der){ data, size }, 1, 0);
	check_spki((struct x509_der){ data, size }, &k);

	r = x509_cert_parse(data, size, 0, &c);
	rp = x509_cert_parse(data, size, 1, &cp);
	FUZZ_CHECK((r == 0) == (ref_cert_parse(data, size, 0, 3, &(struct ref_cert){ 0 }) == 0),
	    "x509_cert_parse %d disagrees with the reference walk", r);
	if (rp == 0)
		check_cert(data, size, 1, &cp);
	if (r == 0) {
		size_t spki_end = (size_t)(c.spki.p + c.spki.n - data);

		FUZZ_CHECK(rp == 0 && same_der(c.subject, cp.subject) && same_der(c.spki, cp.spki) &&
		    same_der(c.rest, cp.rest) && c.have_validity == cp.have_validity &&
		    c.not_before == cp.not_before && c.not_after == cp.not_after,
		    "partial=1 differs from partial=0 on a whole certificate");
		check_cert(data, size, 0, &c);
		check_prefix(data, &c, spki_end);
		check_prefix(data, &c, spki_end - 1);
		check_prefix(data, &c, spki_end + data[size - 1] % (size - spki_end + 1));
		check_prefix(data, &c, data[0] % spki_end);
	}
	differential(data, size);
	return 0;
}
