/*
 * p256: ECDSA verification and ECDH on P-256 with 4 x 64-bit limbs.
 *
 * Field elements and scalars are 4 little-endian 64-bit limbs, always fully
 * reduced (below the modulus), so equality is limb equality. Coordinates are in
 * Montgomery form mod p (mont_mul: CIOS with p's reduction step written out).
 *
 * Verification (variable time: every value is public, see p256.h). Scalars need
 * no multiplication: u1 = h/s and u2 = r/s mod n come from one binary extended
 * Euclid run (mod_div2). Points are Jacobian (X/Z^2, Y/Z^3), Z = 0 being the point
 * at infinity. Doubling uses a = -3 (Bernstein-Lange "dbl-2001-b", with Z3 = 2YZ);
 * addition is the classic 12M + 4S formula (11M when the second point is affine),
 * with the equal and opposite cases tested. u1 G + u2 Q is one run of 257
 * doublings over both scalars in width-5 NAF (Straus-Shamir): the odd multiples
 * 1G..15G are a 512-byte affine table, 1Q..15Q are computed at each call. x(R) mod
 * n == r is checked as X == r' Z^2 (mod p) for r' = r, and r' = r + n when that is
 * below p, so no inversion mod p is needed.
 *
 * ECDH (constant time in the scalar, below the "ECDH" line): its own field
 * functions without branches (fp_*_ct; mont_mul is shared), homogeneous projective
 * points with complete formulas, 4-bit fixed windows over a 16-entry table read
 * whole at each step, and one inversion by Fermat at the end.
 *
 * Written for gcc -Os, measured with callgrind: see the comments on add4 and mac (mac64.h).
 */
#include "p256.h"
#include "mac64.h"

#include <string.h>   /* explicit_bzero (-D_DEFAULT_SOURCE) */

#ifdef __SIZEOF_INT128__

typedef uint64_t fe[4];

/* p = 2^256 - 2^224 + 2^192 + 2^96 - 1 and n, the order of G (FIPS 186-4 D.1.2.3). */
static const fe P = { 0xffffffffffffffff, 0x00000000ffffffff, 0x0000000000000000,
	0xffffffff00000001 };
static const fe N = { 0xf3b9cac2fc632551, 0xbce6faada7179e84, 0xffffffffffffffff,
	0xffffffff00000000 };
/* 2^512 mod p: fp_mul by it converts to Montgomery form. */
static const fe P_RR = { 0x0000000000000003, 0xfffffffbffffffff, 0xfffffffffffffffe,
	0x00000004fffffffd };
/* The curve's b (FIPS 186-4 D.1.2.3) in Montgomery form: b 2^256 mod p. */
static const fe B_MONT = { 0xd89cdf6229c4bddf, 0xacf005cd78843090, 0xe5a220abf7212ed6,
	0xdc30061d04874834 };
static const fe ZERO = { 0, 0, 0, 0 };
static const fe ONE = { 1, 0, 0, 0 };
/* 1 in Montgomery form mod p: 2^256 - p. */
static const fe P_ONE = { 1, 0xffffffff00000000, 0xffffffffffffffff, 0x00000000fffffffe };

struct point {
	fe x, y, z;     /* Jacobian, Montgomery form mod p */
};

struct affine {
	fe x, y;        /* Montgomery form mod p */
};

#define WNAF_W   5
#define WNAF_LEN 257                            /* a 256-bit scalar's NAF digits */
#define ODD_MULS (1 << (WNAF_W - 2))            /* 1P, 3P, ..., 15P */

/*
 * G_ODD[k] = (2k + 1) G, affine, each coordinate times 2^256 mod p. Made with
 * Python's integers from FIPS 186-4's G (affine addition and pow(x, -1, p));
 * G_ODD[0] is G, which test_p256's known answers and every verification check.
 */
static const struct affine G_ODD[ODD_MULS] = {
	{ { 0x79e730d418a9143c, 0x75ba95fc5fedb601, 0x79fb732b77622510, 0x18905f76a53755c6 },
	  { 0xddf25357ce95560a, 0x8b4ab8e4ba19e45c, 0xd2e88688dd21f325, 0x8571ff1825885d85 } },
	{ { 0xffac3f904eebc127, 0xb027f84a087d81fb, 0x66ad77dd87cbbc98, 0x26936a3fb6ff747e },
	  { 0xb04c5c1fc983a7eb, 0x583e47ad0861fe1a, 0x788208311a2ee98e, 0xd5f06a29e587cc07 } },
	{ { 0xbe1b8aaec45c61f5, 0x90ec649a94b9537d, 0x941cb5aad076c20c, 0xc9079605890523c8 },
	  { 0xeb309b4ae7ba4f10, 0x73c568efe5eb882b, 0x3540a9877e7a1f68, 0x73a076bb2dd1e916 } },
	{ { 0x0746354ea0173b4f, 0x2bd20213d23c00f7, 0xf43eaab50c23bb08, 0x13ba5119c3123e03 },
	  { 0x2847d0303f5b9d4d, 0x6742f2f25da67bdd, 0xef933bdc77c94195, 0xeaedd9156e240867 } },
	{ { 0x75c96e8f264e20e8, 0xabe6bfed59a7a841, 0x2cc09c0444c8eb00, 0xe05b3080f0c4e16b },
	  { 0x1eb7777aa45f3314, 0x56af7bedce5d45e3, 0x2b6e019a88b12f1a, 0x086659cdfd835f9b } },
	{ { 0xea7d260a6245e404, 0x9de407956e7fdfe0, 0x1ff3a4158dac1ab5, 0x3e7090f1649c9073 },
	  { 0x1a7685612b944e88, 0x250f939ee57f61c8, 0x0c0daa891ead643d, 0x68930023e125b88e } },
	{ { 0xccc425634b2ed709, 0x0e356769856fd30d, 0xbcbcd43f559e9811, 0x738477ac5395b759 },
	  { 0x35752b90c00ee17f, 0x68748390742ed2e3, 0x7cd06422bd1f5bc1, 0xfbc08769c9e7b797 } },
	{ { 0x72bcd8b7bc60055b, 0x03cc23ee56e27e4b, 0xee337424e4819370, 0xe2aa0e430ad3da09 },
	  { 0x40b8524f6383c45d, 0xd766355442a41b25, 0x64efa6de778a4797, 0x2042170a7079adf4 } },
};

static int
is_zero(const fe a)
{
	return (a[0] | a[1] | a[2] | a[3]) == 0;
}

static int
fe_eq(const fe a, const fe b)
{
	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) == 0;
}

/* a < b, as 256-bit numbers. */
static int
fe_lt(const fe a, const fe b)
{
	for (int i = 3; i >= 0; i--)
		if (a[i] != b[i])
			return a[i] < b[i];
	return 0;
}

/*
 * r = a + b; returns the carry out. r may be a or b. Written out limb by limb
 * (at -Os a loop costs twice the instructions), through locals: gcc 12 checks
 * __builtin_add_overflow's overflow by reading an operand again after the store
 * to the result, which is wrong when they alias.
 */
static uint64_t
add4(fe r, const fe a, const fe b)
{
	uint64_t c = 0, s;

#define ADD_LIMB(i)                                                              \
	do {                                                                     \
		uint64_t k = __builtin_add_overflow(a[i], b[i], &s);              \
		k |= __builtin_add_overflow(s, c, &s);                           \
		r[i] = s;                                                        \
		c = k;                                                           \
	} while (0)
	ADD_LIMB(0);
	ADD_LIMB(1);
	ADD_LIMB(2);
	ADD_LIMB(3);
#undef ADD_LIMB
	return c;
}

/* r = a - b; returns the borrow out. r may be a or b. */
static uint64_t
sub4(fe r, const fe a, const fe b)
{
	uint64_t c = 0, d;

#define SUB_LIMB(i)                                                              \
	do {                                                                     \
		uint64_t k = __builtin_sub_overflow(a[i], b[i], &d);              \
		k |= __builtin_sub_overflow(d, c, &d);                           \
		r[i] = d;                                                        \
		c = k;                                                           \
	} while (0)
	SUB_LIMB(0);
	SUB_LIMB(1);
	SUB_LIMB(2);
	SUB_LIMB(3);
#undef SUB_LIMB
	return c;
}

/* x = (top * 2^256 + x) / 2, top 0 or 1. */
static void
shr1(fe x, uint64_t top)
{
	for (int i = 0; i < 3; i++)
		x[i] = x[i] >> 1 | x[i + 1] << 63;
	x[3] = x[3] >> 1 | top << 63;
}

/* r = a + b mod m and r = a - b mod m, for a, b < m; r may be a or b. */
static void
mod_add(fe r, const fe a, const fe b, const fe m)
{
	if (add4(r, a, b) != 0 || !fe_lt(r, m))
		sub4(r, r, m);
}

static void
mod_sub(fe r, const fe a, const fe b, const fe m)
{
	if (sub4(r, a, b) != 0)
		add4(r, r, m);
}

/* s = a + b + *c (*c 0 or 1), *c = the carry out. */
static inline __attribute__((always_inline)) uint64_t
adc(uint64_t *c, uint64_t a, uint64_t b)
{
	uint64_t s = a + b, k = s < b;

	s += *c;
	*c = k + (s < *c);
	return s;
}

/*
 * r = a * b / 2^256 mod p + top 2^256, with top (returned) 0 or 1, for a, b < p:
 * the sum is below 2p; r may be a or b. Montgomery multiplication (CIOS,
 * Koc-Acar-Kaliski 1996), each reduction step written for p's form: q = t0, as
 * p = -1 mod 2^64, and q p = q (2^64 - 1) + q (2^32 - 1) 2^64 + q P[3] 2^192. Added
 * to t, the first term clears limb 0 with a carry of q, which joins the second as
 * q 2^32 at limb 1 (q << 32 there, q >> 32 at limb 2); the third is one product at
 * limb 3. No branch: the ECDH code below calls it on secrets too.
 */
static uint64_t
mont_mul(fe r, const fe a, const fe b)
{
	uint64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, t5, c, q;

	for (int i = 0; i < 4; i++) {
		uint64_t bi = b[i];

		c = 0;
		t0 = mac(&c, a[0], bi, t0);
		t1 = mac(&c, a[1], bi, t1);
		t2 = mac(&c, a[2], bi, t2);
		t3 = mac(&c, a[3], bi, t3);
		t4 += c;
		t5 = t4 < c;
		q = t0;
		c = 0;
		t0 = adc(&c, t1, q << 32);
		t1 = adc(&c, t2, q >> 32);
		t2 = mac(&c, q, P[3], t3);
		t3 = t4 + c;
		t4 = t5 + (t3 < c);
	}
	r[0] = t0, r[1] = t1, r[2] = t2, r[3] = t3;
	return t4;
}

/* r = a * b / 2^256 mod p, for a, b < p, on public values (a branch); r may be a or b. */
static void
fp_mul(fe r, const fe a, const fe b)
{
	if (mont_mul(r, a, b) != 0 || !fe_lt(r, P))
		sub4(r, r, P);
}

/* 32 big-endian bytes to limbs. */
static void
fe_from_be(fe r, const unsigned char b[32])
{
	for (int i = 0; i < 4; i++) {
		uint64_t w = 0;
		for (int k = 0; k < 8; k++)
			w = w << 8 | b[(3 - i) * 8 + k];
		r[i] = w;
	}
}

/*
 * A big-endian number of any length into r: 1 if it is below m (leading zero
 * bytes allowed, as br_i31_decode_mod allows them), else 0.
 */
static int
decode_below(fe r, const unsigned char *b, size_t len, const fe m)
{
	unsigned char buf[32] = { 0 };

	for (; len > 32; len--, b++)
		if (*b != 0)
			return 0;
	if (len > 0)
		memcpy(buf + 32 - len, b, len);
	fe_from_be(r, buf);
	return fe_lt(r, m);
}

/* x = x / 2 mod m, for x < m, m odd. */
static void
half_mod(fe x, const fe m)
{
	shr1(x, (x[0] & 1) != 0 ? add4(x, x, m) : 0);
}

/*
 * q[k] = num[k] / a mod m for k = 0, 1, for 0 < a < m, num[k] < m, m an odd
 * prime: binary extended Euclid (Hankerson-Menezes-Vanstone, "Guide to Elliptic
 * Curve Cryptography", algorithm 2.22, started from num[k] instead of 1), which
 * keeps x1[k] a = num[k] u and x2[k] a = num[k] v (mod m). u and v are odd and
 * differ after the halvings (their gcd is 1), so each subtraction leaves them > 0.
 */
static void
mod_div2(fe q[2], const fe num[2], const fe a, const fe m)
{
	fe u, v, x1[2], x2[2];

	memcpy(u, a, sizeof u);
	memcpy(v, m, sizeof v);
	memcpy(x1, num, sizeof x1);
	memset(x2, 0, sizeof x2);
	while (!fe_eq(u, ONE) && !fe_eq(v, ONE)) {
		for (; (u[0] & 1) == 0; shr1(u, 0))
			for (int k = 0; k < 2; k++)
				half_mod(x1[k], m);
		for (; (v[0] & 1) == 0; shr1(v, 0))
			for (int k = 0; k < 2; k++)
				half_mod(x2[k], m);
		if (fe_lt(u, v)) {
			sub4(v, v, u);
			for (int k = 0; k < 2; k++)
				mod_sub(x2[k], x2[k], x1[k], m);
		} else {
			sub4(u, u, v);
			for (int k = 0; k < 2; k++)
				mod_sub(x1[k], x1[k], x2[k], m);
		}
	}
	memcpy(q, fe_eq(u, ONE) ? x1 : x2, sizeof x1);
}

/* r = 2a (a = -3 curve); r may be a. Infinity stays infinity (Z3 = 2YZ = 0). */
static void
pt_double(struct point *r, const struct point *a)
{
	fe delta, gamma, beta, alpha, t;

	fp_mul(delta, a->z, a->z);
	fp_mul(gamma, a->y, a->y);
	fp_mul(beta, a->x, gamma);
	/* alpha = 3 (X - delta)(X + delta) */
	mod_sub(t, a->x, delta, P);
	mod_add(alpha, a->x, delta, P);
	fp_mul(alpha, alpha, t);
	mod_add(t, alpha, alpha, P);
	mod_add(alpha, alpha, t, P);
	fp_mul(r->z, a->y, a->z);
	mod_add(r->z, r->z, r->z, P);
	/* X3 = alpha^2 - 8 beta; Y3 = alpha (4 beta - X3) - 8 gamma^2 */
	mod_add(beta, beta, beta, P);
	mod_add(beta, beta, beta, P);
	fp_mul(r->x, alpha, alpha);
	mod_sub(r->x, r->x, beta, P);
	mod_sub(r->x, r->x, beta, P);
	mod_sub(t, beta, r->x, P);
	fp_mul(t, alpha, t);
	fp_mul(gamma, gamma, gamma);
	mod_add(gamma, gamma, gamma, P);
	mod_add(gamma, gamma, gamma, P);
	mod_add(gamma, gamma, gamma, P);
	mod_sub(r->y, t, gamma, P);
}

/*
 * r = a + b for any a, b (infinity, equal, opposite); r may be a. With b_affine,
 * b is not infinity and its Z is taken as 1 (b->z is not read).
 */
static void
pt_add(struct point *r, const struct point *a, const struct point *b, int b_affine)
{
	fe z1z1, z2z2, u1, u2, s1, s2, h, rr, hhh;

	if (!b_affine && is_zero(b->z)) {
		if (r != a)
			*r = *a;
		return;
	}
	if (is_zero(a->z)) {
		memcpy(r->x, b->x, sizeof r->x);
		memcpy(r->y, b->y, sizeof r->y);
		memcpy(r->z, b_affine ? P_ONE : b->z, sizeof r->z);
		return;
	}
	fp_mul(z1z1, a->z, a->z);
	fp_mul(u2, b->x, z1z1);
	fp_mul(s2, b->y, a->z);
	fp_mul(s2, s2, z1z1);
	if (b_affine) {
		memcpy(u1, a->x, sizeof u1);
		memcpy(s1, a->y, sizeof s1);
	} else {
		fp_mul(z2z2, b->z, b->z);
		fp_mul(u1, a->x, z2z2);
		fp_mul(s1, a->y, b->z);
		fp_mul(s1, s1, z2z2);
	}
	mod_sub(h, u2, u1, P);
	mod_sub(rr, s2, s1, P);
	if (is_zero(h)) {
		if (is_zero(rr))
			pt_double(r, a);
		else
			memset(r, 0, sizeof *r);
		return;
	}
	/* X3 = rr^2 - H^3 - 2 U1 H^2; Y3 = rr (U1 H^2 - X3) - S1 H^3; Z3 = Z1 Z2 H */
	fp_mul(z1z1, h, h);
	fp_mul(hhh, z1z1, h);
	fp_mul(u1, u1, z1z1);
	fp_mul(r->z, a->z, h);
	if (!b_affine)
		fp_mul(r->z, r->z, b->z);
	fp_mul(r->x, rr, rr);
	mod_sub(r->x, r->x, hhh, P);
	mod_sub(r->x, r->x, u1, P);
	mod_sub(r->x, r->x, u1, P);
	mod_sub(u1, u1, r->x, P);
	fp_mul(u1, u1, rr);
	fp_mul(s1, s1, hhh);
	mod_sub(r->y, u1, s1, P);
}

/*
 * Width-5 NAF of k < 2^256: k = sum d[i] 2^i, each d[i] 0 or odd in [-15, 15],
 * and any nonzero digit followed by at least 4 zeros.
 */
static void
wnaf(signed char d[WNAF_LEN], const fe k)
{
	fe x;

	memcpy(x, k, sizeof x);
	for (int i = 0; i < WNAF_LEN; i++) {
		int digit = 0;
		uint64_t top = 0;

		if (x[0] & 1) {
			fe small = { 0, 0, 0, 0 };

			digit = (int)(x[0] & ((1u << WNAF_W) - 1));
			if (digit >= 1 << (WNAF_W - 1))
				digit -= 1 << WNAF_W;
			/* x -= digit clears the low WNAF_W bits: x stays >= 0,
			 * and below 2^257 (top is its bit 256). */
			small[0] = (uint64_t)(digit < 0 ? -digit : digit);
			if (digit > 0)
				sub4(x, x, small);
			else
				top = add4(x, x, small);
		}
		d[i] = (signed char)digit;
		shr1(x, top);
	}
}

/*
 * r += digit T for one NAF digit (0 or odd): T = (2k + 1) P is jac[k], or aff[k]
 * when aff is not NULL; -T is (X, -Y, Z).
 */
static void
add_digit(struct point *r, int digit, const struct point *jac, const struct affine *aff)
{
	struct point t;
	int k = (digit < 0 ? -digit : digit) >> 1;

	if (digit == 0)
		return;
	if (aff != NULL) {
		memcpy(t.x, aff[k].x, sizeof t.x);
		memcpy(t.y, aff[k].y, sizeof t.y);
	} else {
		t = jac[k];
	}
	if (digit < 0)
		mod_sub(t.y, ZERO, t.y, P);
	pt_add(r, r, &t, aff != NULL);
}

/* r = u1 G + u2 q, for plain scalars u1, u2 < n (Straus-Shamir, width-5 NAF). */
static void
mul_add(struct point *r, const fe u1, const fe u2, const struct point *q)
{
	struct point q_odd[ODD_MULS], twice;
	signed char d1[WNAF_LEN], d2[WNAF_LEN];

	q_odd[0] = *q;
	pt_double(&twice, q);
	for (int k = 1; k < ODD_MULS; k++)
		pt_add(&q_odd[k], &q_odd[k - 1], &twice, 0);
	wnaf(d1, u1);
	wnaf(d2, u2);
	memset(r, 0, sizeof *r);
	for (int i = WNAF_LEN - 1; i >= 0; i--) {
		if (!is_zero(r->z))
			pt_double(r, r);
		add_digit(r, d1[i], NULL, G_ODD);
		add_digit(r, d2[i], q_odd, NULL);
	}
}

/* b[len] as a point q (Z = 1): 1 if it is 0x04 || X || Y, X, Y < p, on the curve. */
static int
decode_point(struct point *q, const unsigned char *b, size_t len)
{
	fe x, y, lhs, rhs, t;

	if (len != 65 || b[0] != 0x04 || !decode_below(x, b + 1, 32, P) ||
	    !decode_below(y, b + 33, 32, P))
		return 0;
	fp_mul(q->x, x, P_RR);
	fp_mul(q->y, y, P_RR);
	memcpy(q->z, P_ONE, sizeof q->z);
	/* y^2 == x^3 - 3x + b */
	fp_mul(lhs, q->y, q->y);
	fp_mul(rhs, q->x, q->x);
	fp_mul(rhs, rhs, q->x);
	mod_add(t, q->x, q->x, P);
	mod_add(t, t, q->x, P);
	mod_sub(rhs, rhs, t, P);
	mod_add(rhs, rhs, B_MONT, P);
	return fe_eq(lhs, rhs);
}

/*
 * x(a) mod n == r, for a not infinity and 0 < r < n. x(a) = X/Z^2 < p < 2n, so
 * x(a) mod n is r when x(a) is r or r + n (the latter only when r + n < p).
 */
static int
x_mod_n_is(const struct point *a, const fe r)
{
	fe z2, x, t, r2;

	fp_mul(z2, a->z, a->z);                 /* Z^2 2^256 */
	fp_mul(x, a->x, ONE);                   /* X, plain */
	fp_mul(t, z2, r);                       /* r Z^2, plain */
	if (fe_eq(t, x))
		return 1;
	if (add4(r2, r, N) != 0 || !fe_lt(r2, P))
		return 0;
	fp_mul(t, z2, r2);
	return fe_eq(t, x);
}

/* The verification proper, on a raw signature (r || s, each sig_len / 2 bytes). */
static uint32_t
vrfy_raw(const void *hash, size_t hash_len, const br_ec_public_key *pk,
    const unsigned char *sig, size_t sig_len)
{
	struct point q, sum;
	fe r, s, num[2], u[2];                  /* num = (h, r), u = (u1, u2) */
	unsigned char hb[32] = { 0 };
	size_t half = sig_len / 2, k = hash_len < 32 ? hash_len : 32;

	if ((sig_len & 1) != 0 || !decode_below(r, sig, half, N) ||
	    !decode_below(s, sig + half, half, N) || is_zero(r) || is_zero(s) ||
	    !decode_point(&q, pk->q, pk->qlen))
		return 0;
	/* bits2int: the hash's leftmost 256 bits (a shorter hash whole), then mod n;
	 * h < 2^256 < 2n, so one subtraction reduces it. */
	if (k > 0)
		memcpy(hb + 32 - k, hash, k);
	fe_from_be(num[0], hb);
	if (!fe_lt(num[0], N))
		sub4(num[0], num[0], N);
	/* u1 = 0 makes u1 G infinity, which BearSSL 0.6's muladd cannot add: it
	 * refuses every such signature but r = 0 (see p256.h); so do we, all. */
	if (is_zero(num[0]))
		return 0;
	memcpy(num[1], r, sizeof r);
	mod_div2(u, num, s, N);                 /* u1 = h / s, u2 = r / s mod n */
	mul_add(&sum, u[0], u[1], &q);
	return !is_zero(sum.z) && x_mod_n_is(&sum, r);
}

/* br_ecdsa_i31_vrfy_asn1 refuses a DER signature longer than half its buffer:
 * ((BR_MAX_EC_SIZE + 7) / 8 * 4 + 24) / 2 bytes, BR_MAX_EC_SIZE being 528 (bits,
 * P-521 rounded up) in BearSSL 0.6's src/inner.h. */
#define DER_MAX 144

uint32_t
p256_vrfy_asn1(const br_ec_impl *impl, const void *hash, size_t hash_len,
    const br_ec_public_key *pk, const void *sig, size_t sig_len)
{
	unsigned char raw[256];                 /* asn1_to_raw may grow it, to <= 254 */

	if (pk->curve != BR_EC_secp256r1)
		return br_ecdsa_i31_vrfy_asn1(impl, hash, hash_len, pk, sig, sig_len);
	if (((impl->supported_curves >> BR_EC_secp256r1) & 1) == 0 || sig_len > DER_MAX)
		return 0;
	if (sig_len > 0)
		memcpy(raw, sig, sig_len);
	sig_len = br_ecdsa_asn1_to_raw(raw, sig_len);
	return vrfy_raw(hash, hash_len, pk, raw, sig_len);
}

/* ---------------------------------------------------------------- ECDH ----- */

/*
 * Everything below runs in constant time for the scalar: the scalar's bits are
 * only ever used as masks, every field operation on a secret value is
 * branch-free (mont_mul, and the fp_*_ct functions), and the table is read whole
 * at each step. The point taken in (the peer's, or G) and the scalar's length are
 * public.
 */

/* r = a where mask is all ones, unchanged where it is 0. */
static void
fe_cmov(fe r, const fe a, uint64_t mask)
{
	for (int i = 0; i < 4; i++)
		r[i] ^= mask & (r[i] ^ a[i]);
}

/* s = a - b - *w (*w 0 or 1), *w = the borrow out: adc's counterpart. */
static inline __attribute__((always_inline)) uint64_t
sbb(uint64_t *w, uint64_t a, uint64_t b)
{
	uint64_t d = a - b, k = a < b;

	k |= d < *w;
	d -= *w;
	*w = k;
	return d;
}

/*
 * r = (top 2^256 + r) mod p, for top 0 or 1 and top 2^256 + r < 2p: r - p is kept
 * unless it borrows with top 0 (then r < p). Limb by limb, for the reason given
 * at add4; the choice by a mask.
 */
static void
fp_reduce_ct(fe r, uint64_t top)
{
	uint64_t w = 0, t0, t1, t2, t3, keep;

	t0 = sbb(&w, r[0], P[0]);
	t1 = sbb(&w, r[1], P[1]);
	t2 = sbb(&w, r[2], P[2]);
	t3 = sbb(&w, r[3], P[3]);
	keep = top - w;                         /* all ones: r < p */
	r[0] = t0 ^ (keep & (r[0] ^ t0));
	r[1] = t1 ^ (keep & (r[1] ^ t1));
	r[2] = t2 ^ (keep & (r[2] ^ t2));
	r[3] = t3 ^ (keep & (r[3] ^ t3));
}

/* r = a * b / 2^256, a + b, a - b (mod p), for a, b < p; r may be a or b. */
static void
fp_mul_ct(fe r, const fe a, const fe b)
{
	fp_reduce_ct(r, mont_mul(r, a, b));
}

static void
fp_add_ct(fe r, const fe a, const fe b)
{
	uint64_t c = 0;

	r[0] = adc(&c, a[0], b[0]);
	r[1] = adc(&c, a[1], b[1]);
	r[2] = adc(&c, a[2], b[2]);
	r[3] = adc(&c, a[3], b[3]);
	fp_reduce_ct(r, c);
}

/* The difference, and p added back under the mask of its borrow. */
static void
fp_sub_ct(fe r, const fe a, const fe b)
{
	uint64_t w = 0, c = 0, d0, d1, d2, d3, m;

	d0 = sbb(&w, a[0], b[0]);
	d1 = sbb(&w, a[1], b[1]);
	d2 = sbb(&w, a[2], b[2]);
	d3 = sbb(&w, a[3], b[3]);
	m = -w;
	r[0] = adc(&c, d0, m & P[0]);
	r[1] = adc(&c, d1, m & P[1]);
	r[2] = adc(&c, d2, m & P[2]);
	r[3] = adc(&c, d3, m & P[3]);
}

/*
 * Point arithmetic in homogeneous projective coordinates (x = X/Z, y = Y/Z; the
 * point at infinity is (0 : Y : 0)), a point being fe[3] = { X, Y, Z }. The
 * formulas are Renes-Costello-Batina 2016, "Complete addition formulas for prime
 * order elliptic curves", algorithms 4 (addition) and 6 (doubling), for a = -3,
 * step for step. Complete: the result is right for every pair of points on a
 * curve of prime order (no point of order 2), as P-256 is, infinity and a = b
 * included, so the same field operations run whatever the points are.
 *
 * Each formula is a program over a file of field registers (as BearSSL's
 * ec_prime_i31.c does its formulas): one 16-bit instruction per field operation,
 * the operation and its three registers 4 bits each, run by pt_run: 2 bytes an
 * operation, where a call written out takes about 20 (gcc -Os, x86_64).
 */
enum {
	X1, Y1, Z1,             /* input a */
	X2, Y2, Z2,             /* input b (addition only) */
	X3, Y3, Z3,             /* result */
	T0, T1, T2, T3, T4,     /* scratch */
	CB,                     /* the curve's b, Montgomery form */
	NREG
};

#define MUL(d, a, b) (uint16_t)(0 << 12 | (d) << 8 | (a) << 4 | (b))
#define ADD(d, a, b) (uint16_t)(1 << 12 | (d) << 8 | (a) << 4 | (b))
#define SUB(d, a, b) (uint16_t)(2 << 12 | (d) << 8 | (a) << 4 | (b))

/* (X3, Y3, Z3) = (X1, Y1, Z1) + (X2, Y2, Z2): 12M + 2 by b + 29 add (RCB alg. 4). */
static const uint16_t CODE_ADD[] = {
	MUL(T0, X1, X2), MUL(T1, Y1, Y2), MUL(T2, Z1, Z2),
	ADD(T3, X1, Y1), ADD(T4, X2, Y2), MUL(T3, T3, T4),
	ADD(T4, T0, T1), SUB(T3, T3, T4), ADD(T4, Y1, Z1),      /* t3 = X1 Y2 + X2 Y1 */
	ADD(X3, Y2, Z2), MUL(T4, T4, X3), ADD(X3, T1, T2),
	SUB(T4, T4, X3), ADD(X3, X1, Z1), ADD(Y3, X2, Z2),      /* t4 = Y1 Z2 + Y2 Z1 */
	MUL(X3, X3, Y3), ADD(Y3, T0, T2), SUB(Y3, X3, Y3),      /* y3 = X1 Z2 + X2 Z1 */
	MUL(Z3, CB, T2), SUB(X3, Y3, Z3), ADD(Z3, X3, X3),
	ADD(X3, X3, Z3), SUB(Z3, T1, X3), ADD(X3, T1, X3),
	MUL(Y3, CB, Y3), ADD(T1, T2, T2), ADD(T2, T1, T2),
	SUB(Y3, Y3, T2), SUB(Y3, Y3, T0), ADD(T1, Y3, Y3),
	ADD(Y3, T1, Y3), ADD(T1, T0, T0), ADD(T0, T1, T0),
	SUB(T0, T0, T2), MUL(T1, T4, Y3), MUL(T2, T0, Y3),
	MUL(Y3, X3, Z3), ADD(Y3, Y3, T2), MUL(X3, T3, X3),
	SUB(X3, X3, T1), MUL(Z3, T4, Z3), MUL(T1, T3, T0),
	ADD(Z3, Z3, T1),
};

/* (X3, Y3, Z3) = 2 (X1, Y1, Z1): 8M + 3S + 2 by b + 21 add (RCB alg. 6). */
static const uint16_t CODE_DBL[] = {
	MUL(T0, X1, X1), MUL(T1, Y1, Y1), MUL(T2, Z1, Z1),
	MUL(T3, X1, Y1), ADD(T3, T3, T3), MUL(Z3, X1, Z1),
	ADD(Z3, Z3, Z3), MUL(Y3, CB, T2), SUB(Y3, Y3, Z3),
	ADD(X3, Y3, Y3), ADD(Y3, X3, Y3), SUB(X3, T1, Y3),
	ADD(Y3, T1, Y3), MUL(Y3, X3, Y3), MUL(X3, X3, T3),
	ADD(T3, T2, T2), ADD(T2, T2, T3), MUL(Z3, CB, Z3),
	SUB(Z3, Z3, T2), SUB(Z3, Z3, T0), ADD(T3, Z3, Z3),
	ADD(Z3, Z3, T3), ADD(T3, T0, T0), ADD(T0, T3, T0),
	SUB(T0, T0, T2), MUL(T0, T0, Z3), ADD(Y3, Y3, T0),
	MUL(T0, Y1, Z1), ADD(T0, T0, T0), MUL(Z3, T0, Z3),
	SUB(X3, X3, Z3), MUL(Z3, T0, T1), ADD(Z3, Z3, Z3),
	ADD(Z3, Z3, Z3),
};

/* One scalar multiplication's state, in one place so one wipe clears it: tab[i] =
 * i P (tab[0] infinity, tab[1] the point P), acc the running sum, t the entry of
 * the step, reg the formulas' registers. */
struct ecdh {
	fe tab[16][3], acc[3], t[3], reg[NREG];
};

/* r = a + b (code CODE_ADD), or 2a (CODE_DBL, with b = a, which it does not use):
 * a, b, r points; r may be a or b. */
static void
pt_run(struct ecdh *e, fe r[3], const fe a[3], const fe b[3], const uint16_t *code,
    size_t len)
{
	static void (*const op[])(fe, const fe, const fe) = { fp_mul_ct, fp_add_ct, fp_sub_ct };

	memcpy(e->reg[X1], a, 3 * sizeof(fe));
	memcpy(e->reg[X2], b, 3 * sizeof(fe));
	for (size_t i = 0; i < len; i++) {
		unsigned c = code[i];

		op[c >> 12](e->reg[c >> 8 & 15], e->reg[c >> 4 & 15], e->reg[c & 15]);
	}
	memcpy(r, e->reg[X3], 3 * sizeof(fe));
}

#define PT_ADD(e, r, a, b) pt_run(e, r, a, b, CODE_ADD, sizeof CODE_ADD / sizeof CODE_ADD[0])
#define PT_DBL(e, r, a)    pt_run(e, r, a, a, CODE_DBL, sizeof CODE_DBL / sizeof CODE_DBL[0])

/*
 * e->acc = k P, P = e->tab[1], for k big-endian of any length (the whole of it:
 * the sum is right for any k, so k mod n is never formed): fixed 4-bit windows
 * from the top, each four doublings and one addition of tab[digit], the digit 0
 * adding infinity. The entry is picked by reading all 16 under masks.
 */
static void
ecdh_run(struct ecdh *e, const unsigned char *k, size_t klen)
{
	memcpy(e->reg[CB], B_MONT, sizeof(fe));
	memset(e->tab[0], 0, sizeof e->tab[0]);
	memcpy(e->tab[0][1], P_ONE, sizeof(fe));
	for (int i = 2; i < 16; i++)
		PT_ADD(e, e->tab[i], e->tab[i - 1], e->tab[1]);
	memcpy(e->acc, e->tab[0], sizeof e->acc);
	for (size_t i = 0; i < 2 * klen; i++) {
		uint64_t digit = (uint64_t)(k[i >> 1] >> (4 - 4 * (i & 1))) & 15;

		for (int d = 0; d < 4; d++)
			PT_DBL(e, e->acc, e->acc);
		memcpy(e->t, e->tab[0], sizeof e->t);
		for (uint64_t j = 1; j < 16; j++) {
			uint64_t mask = -(((j ^ digit) - 1) >> 63);     /* all ones: j == digit */

			for (int c = 0; c < 3; c++)
				fe_cmov(e->t[c], e->tab[j][c], mask);
		}
		PT_ADD(e, e->acc, e->acc, e->t);
	}
}

/* Limbs (plain, below p) to 32 big-endian bytes. */
static void
fe_to_be(unsigned char b[32], const fe a)
{
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)(a[3 - i / 8] >> (56 - 8 * (i % 8)));
}

/*
 * e->acc as 0x04 || x || y in out[65]. 1/Z is Z^(p - 2) (Fermat), by square and
 * multiply over the public exponent's bits; Z = 0 (infinity) gives x = y = 0, the
 * bytes br_ec_p256_m31 writes for infinity too.
 */
static void
ecdh_encode(unsigned char out[65], struct ecdh *e)
{
	fe *zi = &e->t[2];

	memcpy(*zi, P_ONE, sizeof *zi);
	for (int i = 255; i >= 0; i--) {
		uint64_t w = i < 64 ? P[0] - 2 : P[i >> 6];

		fp_mul_ct(*zi, *zi, *zi);
		if ((w >> (i & 63)) & 1)
			fp_mul_ct(*zi, *zi, e->acc[2]);
	}
	fp_mul_ct(*zi, *zi, ONE);               /* 1/Z 2^-256: the products come out plain */
	fp_mul_ct(e->t[0], e->acc[0], *zi);
	fp_mul_ct(e->t[1], e->acc[1], *zi);
	out[0] = 0x04;
	fe_to_be(out + 1, e->t[0]);
	fe_to_be(out + 33, e->t[1]);
}

/* G, uncompressed (FIPS 186-4 D.1.2.3), and n, big-endian, as BearSSL gives them. */
static const unsigned char GEN[65] = {
	0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
	0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39,
	0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e,
	0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e,
	0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
};
static const unsigned char ORDER[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2,
	0xfc, 0x63, 0x25, 0x51,
};

static const unsigned char *
ec_generator(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof GEN;
	return GEN;
}

static const unsigned char *
ec_order(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof ORDER;
	return ORDER;
}

static size_t
ec_xoff(int curve, size_t *len)
{
	(void)curve;
	*len = 32;
	return 1;
}

static uint32_t
ec_mul(unsigned char *G, size_t Glen, const unsigned char *k, size_t klen, int curve)
{
	struct ecdh e;
	struct point q;

	(void)curve;
	if (!decode_point(&q, G, Glen))         /* public: the peer's point */
		return 0;
	memcpy(e.tab[1][0], q.x, sizeof q.x);
	memcpy(e.tab[1][1], q.y, sizeof q.y);
	memcpy(e.tab[1][2], q.z, sizeof q.z);
	ecdh_run(&e, k, klen);
	ecdh_encode(G, &e);
	explicit_bzero(&e, sizeof e);
	return 1;
}

static size_t
ec_mulgen(unsigned char *R, const unsigned char *k, size_t klen, int curve)
{
	memcpy(R, GEN, sizeof GEN);
	ec_mul(R, sizeof GEN, k, klen, curve);
	return sizeof GEN;
}

static uint32_t
ec_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	(void)A, (void)B, (void)len, (void)x, (void)xlen, (void)y, (void)ylen, (void)curve;
	return 0;
}

const br_ec_impl p256_ec = {
	(uint32_t)1 << BR_EC_secp256r1,
	ec_generator, ec_order, ec_xoff, ec_mul, ec_mulgen, ec_muladd,
};

#else /* no unsigned __int128: BearSSL's own code */

uint32_t
p256_vrfy_asn1(const br_ec_impl *impl, const void *hash, size_t hash_len,
    const br_ec_public_key *pk, const void *sig, size_t sig_len)
{
	return br_ecdsa_i31_vrfy_asn1(impl, hash, hash_len, pk, sig, sig_len);
}

#endif
