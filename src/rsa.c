/*
 * rsa: x^e mod n with 64-bit limbs, in variable time (all of it is public).
 *
 * Numbers are k little-endian 64-bit limbs, k = n's length in limbs, always
 * reduced below n. Multiplication is Montgomery's (CIOS, Koc-Acar-Kaliski 1996,
 * with the multiply and reduce loops fused), R = 2^(64k). x R mod n is made
 * directly, one limb shifted in and reduced at a time with a quotient estimated
 * from the top limbs (Knuth 4.3.1 D3), for about half a multiplication: the usual
 * way in, a multiplication by R^2 mod n, would need R^2 mod n first. The
 * exponent's bits are read left to right, and its last multiplication by x takes
 * x outside Montgomery form, which leaves the result outside it too: e = 65537
 * costs one conversion in and 17 multiplications in all.
 */
#include "rsa.h"

#include <string.h>

#ifdef __SIZEOF_INT128__

#include "mac64.h"

/* BearSSL's PKCS#1 v1.5 signature unpadding (its src/inner.h, not installed). */
uint32_t br_rsa_pkcs1_sig_unpad(const unsigned char *sig, size_t sig_len,
    const unsigned char *hash_oid, size_t hash_len, unsigned char *hash_out);

#define MAX_BYTES 512                   /* BearSSL's BR_MAX_RSA_SIZE, 4096 bits */
#define MAX_LIMBS (MAX_BYTES / 8)

struct mod {
	uint64_t n[MAX_LIMBS];
	uint64_t m0i;                   /* -1/n mod 2^64 */
	size_t k;                       /* n's limbs; the top one is not 0 */
};

/* len big-endian bytes (len <= 8k) into k limbs. */
static void
decode(uint64_t *r, size_t k, const unsigned char *b, size_t len)
{
	memset(r, 0, k * sizeof *r);
	for (size_t i = 0; i < len; i++)
		r[i / 8] |= (uint64_t)b[len - 1 - i] << (i % 8 * 8);
}

/* a < b, over k limbs. */
static int
lt(const uint64_t *a, const uint64_t *b, size_t k)
{
	while (k-- > 0)
		if (a[k] != b[k])
			return a[k] < b[k];
	return 0;
}

/* a -= b over k limbs; returns the borrow out. */
static uint64_t
sub(uint64_t *a, const uint64_t *b, size_t k)
{
	uint64_t c = 0;

	for (size_t i = 0; i < k; i++) {
		uint64_t d = a[i] - b[i], o = a[i] < b[i];

		o |= d < c;
		a[i] = d - c;
		c = o;
	}
	return c;
}

/*
 * Limb j of a 2^s, for a of k limbs, 0 <= s < 64: 0 when j is not below k (j = -1
 * wraps), and for j = k the bits shifted out of a's top limb.
 */
static uint64_t
limb_shl(const uint64_t *a, size_t j, size_t k, int s)
{
	uint64_t lo = j - 1 < k && s != 0 ? a[j - 1] >> (64 - s) : 0;

	return j < k ? a[j] << s | lo : lo;
}

/*
 * One step of the Montgomery multiplication: t = (t + a bi + q n) / 2^64, q
 * making the sum a multiple of 2^64; t has k + 1 limbs. Its own function: inlined,
 * gcc 12 at -Os moves every product through the stack.
 */
static __attribute__((noinline)) void
mont_step(uint64_t *t, const uint64_t *a, uint64_t bi, const struct mod *m)
{
	size_t k = m->k;
	uint64_t c = 0, cq = 0, u, q;

	u = mac(&c, a[0], bi, t[0]);
	q = u * m->m0i;
	mac(&cq, q, m->n[0], u);                /* 0, with a carry */
	if (k > 1) {                            /* a do-while: gcc's loop is shorter */
		size_t j = 1;

		do {
			u = mac(&c, a[j], bi, t[j]);
			t[j - 1] = mac(&cq, q, m->n[j], u);
		} while (++j < k);
	}
	u = t[k] + c;
	t[k] = u < c;
	u += cq;
	t[k] += u < cq;
	t[k - 1] = u;
}

/*
 * r = a b / R mod n, for a, b < n; r may be a or b. The sum t stays below 2n
 * after each step, so k limbs and a top bit hold it.
 */
static void
mont_mul(uint64_t *r, const uint64_t *a, const uint64_t *b, const struct mod *m)
{
	uint64_t t[MAX_LIMBS + 1];
	size_t k = m->k;

	memset(t, 0, (k + 1) * sizeof *t);
	for (size_t i = 0; i < k; i++)
		mont_step(t, a, b[i], m);
	if (t[k] != 0 || !lt(t, m->n, k))
		sub(t, m->n, k);
	memcpy(r, t, k * sizeof *t);
}

/*
 * x = x R mod n, for x < n: k times x = x 2^64 mod n, subtracting q n from
 * x 2^64 with q estimated as x 2^64's top two limbs over n's top limb + 1, both
 * read as if shifted left until n's top bit is set. That estimate is never above
 * the true quotient and at most 2 below it (Knuth 4.3.1 theorem B bounds the one
 * over n's top limb alone, which is at most 2 above): the remainder is below 3n,
 * and subtractions finish it.
 */
static void
to_mont(uint64_t *x, const struct mod *m)
{
	size_t k = m->k;
	int s = __builtin_clzll(m->n[k - 1]);
	u128 d = (u128)limb_shl(m->n, k - 1, k, s) + 1;

	for (size_t i = 0; i < k; i++) {
		u128 top = (u128)limb_shl(x, k - 1, k, s) << 64 | limb_shl(x, k - 2, k, s);
		uint64_t q = (uint64_t)(top / d), c = 0, b = 0, v = 0;

		for (size_t j = 0; j < k; j++) {
			uint64_t p = mac(&c, q, m->n[j], 0), dj = v - p, o = v < p;

			v = x[j];               /* x 2^64's next limb */
			o |= dj < b;
			x[j] = dj - b;
			b = o;
		}
		for (v -= c + b; v != 0 || !lt(x, m->n, k);)
			v -= sub(x, m->n, k);
	}
}

uint32_t
rsa_public(unsigned char *x, size_t xlen, const br_rsa_public_key *pk)
{
	const unsigned char *n = pk->n, *e = pk->e;
	size_t nlen = pk->nlen, elen = pk->elen;
	uint64_t a[MAX_LIMBS], am[MAX_LIMBS], acc[MAX_LIMBS];
	struct mod m;

	for (; nlen > 0 && *n == 0; n++)
		nlen--;
	for (; elen > 0 && *e == 0; e++)
		elen--;
	if (nlen == 0 || nlen > MAX_BYTES || xlen != nlen || (n[nlen - 1] & 1) == 0)
		return 0;
	m.k = (nlen + 7) / 8;
	decode(m.n, m.k, n, nlen);
	decode(a, m.k, x, xlen);
	if (!lt(a, m.n, m.k))
		return 0;
	/* 1/n mod 2^64 by Newton's iteration: n0 is its own inverse mod 2^3, and
	 * each step doubles the bits that are right (3, 6, ..., 96). */
	uint64_t inv = m.n[0];

	for (int i = 0; i < 5; i++)
		inv *= 2 - m.n[0] * inv;
	m.m0i = -inv;

	memset(acc, 0, sizeof acc);
	acc[0] = 1;                             /* x^0 */
	if (elen > 0) {
		/* i: the index of e's top bit, counted from its last one */
		size_t i = elen * 8 - 1 - (size_t)(__builtin_clz(e[0]) - 24);
		int plain = 0;

		memcpy(am, a, sizeof am);
		to_mont(am, &m);
		memcpy(acc, am, sizeof acc);
		while (i-- > 0) {
			mont_mul(acc, acc, acc, &m);
			if ((e[elen - 1 - i / 8] >> (i % 8) & 1) != 0) {
				plain = i == 0;
				mont_mul(acc, acc, plain ? a : am, &m);
			}
		}
		if (!plain) {
			/* acc is x^e R mod n: times 1, over R */
			memset(a, 0, sizeof a);
			a[0] = 1;
			mont_mul(acc, acc, a, &m);
		}
	}
	for (size_t i = 0; i < xlen; i++)
		x[xlen - 1 - i] = (unsigned char)(acc[i / 8] >> (i % 8 * 8));
	return 1;
}

uint32_t
rsa_pkcs1_vrfy(const unsigned char *x, size_t xlen, const unsigned char *hash_oid,
    size_t hash_len, const br_rsa_public_key *pk, unsigned char *hash_out)
{
	unsigned char sig[MAX_BYTES];

	if (xlen > sizeof sig)
		return 0;
	memcpy(sig, x, xlen);
	return rsa_public(sig, xlen, pk) &&
	    br_rsa_pkcs1_sig_unpad(sig, xlen, hash_oid, hash_len, hash_out);
}

#else /* no unsigned __int128: BearSSL's own code */

uint32_t
rsa_pkcs1_vrfy(const unsigned char *x, size_t xlen, const unsigned char *hash_oid,
    size_t hash_len, const br_rsa_public_key *pk, unsigned char *hash_out)
{
	return br_rsa_pkcs1_vrfy_get_default()(x, xlen, hash_oid, hash_len, pk, hash_out);
}

#endif
