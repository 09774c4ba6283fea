/*
 * x25519: RFC 7748's X25519 over GF(2^255 - 19) with five 51-bit limbs, and the
 * br_ec_impl that routes each curve to its implementation.
 *
 * Why our own: an ECDHE handshake with an OpenSSL server (which picks X25519) does
 * two scalar multiplications; BearSSL 0.6's portable br_ec_c25519_m31 (nine 30-bit
 * limbs, 32x32-bit products) spends about 2 M instructions on each, most of a
 * report's handshake. With 64x64 -> 128-bit products a multiplication in the field is
 * 25 machine multiplications instead of 81.
 *
 * Field elements. f = f[0] + f[1] 2^51 + f[2] 2^102 + f[3] 2^153 + f[4] 2^204, taken
 * mod p. Limbs are kept loose between operations; the bounds each function needs and
 * gives, which the ladder below keeps:
 *  - fe_mul: input limbs < 2^54 (a column sum of five products, some times 19,
 *    stays < 2^115; the top carry times 19 < 2^64); output ("reduced") limbs
 *    < 2^51, but limb 1 < 2^51 + 2^13;
 *  - fe_add of two reduced values: limbs < 2^53;
 *  - fe_sub(f, g) adds 2p limb by limb before subtracting, so g must be reduced
 *    (its limbs are then below 2p's, 2^52 - 38 and 2^52 - 2) and f too: limbs < 2^53.
 * So every input of a multiplication in the ladder has limbs < 2^53.
 * Only the ladder's swap and the scalar's bits are secret-dependent values, and they
 * are only ever used as masks.
 */
#include "x25519.h"

#include "p256.h"

#include <stdint.h>
#include <string.h>   /* explicit_bzero (-D_DEFAULT_SOURCE): a wipe the compiler
                       * cannot drop as a dead store */

#if defined(__SIZEOF_INT128__)

typedef unsigned __int128 u128;
typedef uint64_t fe[5];

#define MASK51 ((UINT64_C(1) << 51) - 1)

/* u = 9, little-endian. */
static const unsigned char GEN[32] = { 9 };

/* 2^255 - 1, big-endian as BearSSL's order() gives it: the key generator in the
 * TLS engine draws any 255-bit value, and mul clamps it. */
static const unsigned char ORDER[32] = {
	0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
	0xFF, 0xFF, 0xFF, 0xFF,
};

/* 1, and a24 = (486662 - 2) / 4 (RFC 7748 5), as field elements. */
static const fe ONE = { 1 };
static const fe A24 = { 121665 };

/*
 * h = f * g (a square when f and g are one pointer: 15 products instead of 25); h
 * may be f or g. The column sums t (each < 2^115) are then carried limb to limb, the
 * top carry wrapping around times 19 (2^255 = 19 mod p).
 */
static void
fe_mul(fe h, const fe f, const fe g)
{
	uint64_t c, g1 = 19 * g[1], g2 = 19 * g[2], g3 = 19 * g[3], g4 = 19 * g[4];
	u128 t[5];

	if (f == g) {
		uint64_t d0 = 2 * f[0], d1 = 2 * f[1], d2 = 2 * f[2], d3 = 2 * f[3];

		t[0] = (u128)f[0] * f[0] + (u128)d1 * g4 + (u128)d2 * g3;
		t[1] = (u128)d0 * f[1] + (u128)d2 * g4 + (u128)f[3] * g3;
		t[2] = (u128)d0 * f[2] + (u128)f[1] * f[1] + (u128)d3 * g4;
		t[3] = (u128)d0 * f[3] + (u128)d1 * f[2] + (u128)f[4] * g4;
		t[4] = (u128)d0 * f[4] + (u128)d1 * f[3] + (u128)f[2] * f[2];
	} else {
		t[0] = (u128)f[0] * g[0] + (u128)f[1] * g4 + (u128)f[2] * g3 +
		    (u128)f[3] * g2 + (u128)f[4] * g1;
		t[1] = (u128)f[0] * g[1] + (u128)f[1] * g[0] + (u128)f[2] * g4 +
		    (u128)f[3] * g3 + (u128)f[4] * g2;
		t[2] = (u128)f[0] * g[2] + (u128)f[1] * g[1] + (u128)f[2] * g[0] +
		    (u128)f[3] * g4 + (u128)f[4] * g3;
		t[3] = (u128)f[0] * g[3] + (u128)f[1] * g[2] + (u128)f[2] * g[1] +
		    (u128)f[3] * g[0] + (u128)f[4] * g4;
		t[4] = (u128)f[0] * g[4] + (u128)f[1] * g[3] + (u128)f[2] * g[2] +
		    (u128)f[3] * g[1] + (u128)f[4] * g[0];
	}
	t[1] += (uint64_t)(t[0] >> 51);
	t[2] += (uint64_t)(t[1] >> 51);
	t[3] += (uint64_t)(t[2] >> 51);
	t[4] += (uint64_t)(t[3] >> 51);
	c = (uint64_t)(t[4] >> 51);
	h[0] = ((uint64_t)t[0] & MASK51) + 19 * c;
	h[1] = ((uint64_t)t[1] & MASK51) + (h[0] >> 51);
	h[0] &= MASK51;
	h[2] = (uint64_t)t[2] & MASK51;
	h[3] = (uint64_t)t[3] & MASK51;
	h[4] = (uint64_t)t[4] & MASK51;
}

/* h = f^(2^n): n squarings (n >= 1). */
static void
fe_sqn(fe h, const fe f, int n)
{
	fe_mul(h, f, f);
	while (--n > 0)
		fe_mul(h, h, h);
}

static void
fe_add(fe h, const fe f, const fe g)
{
	int i;

	for (i = 0; i < 5; i++)
		h[i] = f[i] + g[i];
}

/* h = f - g + 2p, limb by limb (g reduced, see the top of the file). */
static void
fe_sub(fe h, const fe f, const fe g)
{
	int i;

	for (i = 0; i < 5; i++)
		h[i] = f[i] + (i == 0 ? 2 * MASK51 - 36 : 2 * MASK51) - g[i];
}

/* Exchanges f and g when bit is 1, leaves them when it is 0, in the same
 * instructions either way. */
static void
fe_cswap(fe f, fe g, uint64_t bit)
{
	uint64_t mask = -bit, x;
	int i;

	for (i = 0; i < 5; i++) {
		x = mask & (f[i] ^ g[i]);
		f[i] ^= x;
		g[i] ^= x;
	}
}

static uint64_t
le64(const unsigned char *s)
{
	uint64_t w = 0;
	int i;

	for (i = 7; i >= 0; i--)
		w = w << 8 | s[i];
	return w;
}

/* The low 255 bits of s[0..32), little-endian (RFC 7748 5: the top bit is ignored). */
static void
fe_load(fe h, const unsigned char s[32])
{
	uint64_t w0 = le64(s), w1 = le64(s + 8), w2 = le64(s + 16), w3 = le64(s + 24);

	h[0] = w0 & MASK51;
	h[1] = (w0 >> 51 | w1 << 13) & MASK51;
	h[2] = (w1 >> 38 | w2 << 26) & MASK51;
	h[3] = (w2 >> 25 | w3 << 39) & MASK51;
	h[4] = w3 >> 12 & MASK51;
}

/*
 * The canonical encoding of f (reduced, as fe_mul gives it) in s[0..32). Multiplied
 * by 1, f is carried once more: limbs <= 2^51, value v < 2p. So v >= p exactly when
 * v + 19 reaches 2^255; q is that carry, and v + 19q with bit 255 dropped is v mod p.
 */
static void
fe_store(unsigned char s[32], const fe f)
{
	uint64_t h[5], q, w[4];
	int i;

	fe_mul(h, f, ONE);
	q = (h[0] + 19) >> 51;
	for (i = 1; i < 5; i++)
		q = (h[i] + q) >> 51;
	h[0] += 19 * q;
	for (i = 0; i < 4; i++) {
		h[i + 1] += h[i] >> 51;
		h[i] &= MASK51;
	}
	h[4] &= MASK51;
	w[0] = h[0] | h[1] << 51;
	w[1] = h[1] >> 13 | h[2] << 38;
	w[2] = h[2] >> 26 | h[3] << 25;
	w[3] = h[3] >> 39 | h[4] << 12;
	for (i = 0; i < 32; i++)
		s[i] = (unsigned char)(w[i >> 3] >> (8 * (i & 7)));
}

/* h = z^(p - 2) = 1/z (0 for z = 0), by a fixed chain: p - 2 = 2^255 - 21. Each
 * comment gives the exponent reached. */
static void
fe_invert(fe h, const fe z)
{
	fe z2, z11, a, b, c;

	fe_mul(z2, z, z);                 /* 2 */
	fe_sqn(a, z2, 2);                 /* 8 */
	fe_mul(b, a, z);                  /* 9 */
	fe_mul(z11, b, z2);               /* 11 */
	fe_mul(a, z11, z11);              /* 22 */
	fe_mul(a, a, b);                  /* 31 = 2^5 - 1 */
	fe_sqn(b, a, 5);
	fe_mul(b, b, a);                  /* 2^10 - 1 */
	fe_sqn(a, b, 10);
	fe_mul(a, a, b);                  /* 2^20 - 1 */
	fe_sqn(c, a, 20);
	fe_mul(c, c, a);                  /* 2^40 - 1 */
	fe_sqn(c, c, 10);
	fe_mul(b, c, b);                  /* 2^50 - 1 */
	fe_sqn(a, b, 50);
	fe_mul(a, a, b);                  /* 2^100 - 1 */
	fe_sqn(c, a, 100);
	fe_mul(c, c, a);                  /* 2^200 - 1 */
	fe_sqn(c, c, 50);
	fe_mul(c, c, b);                  /* 2^250 - 1 */
	fe_sqn(c, c, 5);                  /* 2^255 - 32 */
	fe_mul(h, c, z11);                /* 2^255 - 21 */
}

/* The ladder's state (RFC 7748 5): x2/z2 and x3/z3 the two points, x1 the input u,
 * a..d scratch; the clamped scalar with it, so one wipe clears every secret. */
struct ladder {
	fe x1, x2, z2, x3, z3, a, b, c, d;
	unsigned char k[32];
};

/* One step of the ladder (RFC 7748 5's formulas, a24 = 121665), after the swap. */
static void
ladder_step(struct ladder *l)
{
	fe_add(l->a, l->x2, l->z2);       /* A */
	fe_sub(l->b, l->x2, l->z2);       /* B */
	fe_add(l->c, l->x3, l->z3);       /* C */
	fe_sub(l->d, l->x3, l->z3);       /* D */
	fe_mul(l->d, l->d, l->a);         /* DA */
	fe_mul(l->c, l->c, l->b);         /* CB */
	fe_mul(l->a, l->a, l->a);         /* AA */
	fe_mul(l->b, l->b, l->b);         /* BB */
	fe_add(l->x3, l->d, l->c);
	fe_mul(l->x3, l->x3, l->x3);      /* x3 = (DA + CB)^2 */
	fe_sub(l->z3, l->d, l->c);
	fe_mul(l->z3, l->z3, l->z3);
	fe_mul(l->z3, l->z3, l->x1);      /* z3 = x1 (DA - CB)^2 */
	fe_mul(l->x2, l->a, l->b);        /* x2 = AA BB */
	fe_sub(l->b, l->a, l->b);         /* E = AA - BB */
	fe_mul(l->z2, l->b, A24);         /* a24 E */
	fe_add(l->z2, l->z2, l->a);
	fe_mul(l->z2, l->z2, l->b);       /* z2 = E (AA + a24 E) */
}

/* u = l->k * u, with l->k already clamped: 255 steps from bit 254 down. */
static void
ladder_run(struct ladder *l, unsigned char u[32])
{
	uint64_t swap = 0, bit;
	int i;

	fe_load(l->x1, u);
	memcpy(l->x2, ONE, sizeof l->x2);
	memset(l->z2, 0, sizeof l->z2);
	memcpy(l->x3, l->x1, sizeof l->x3);
	memcpy(l->z3, ONE, sizeof l->z3);
	for (i = 254; i >= 0; i--) {
		bit = (uint64_t)(l->k[i >> 3] >> (i & 7)) & 1;
		swap ^= bit;
		fe_cswap(l->x2, l->x3, swap);
		fe_cswap(l->z2, l->z3, swap);
		swap = bit;
		ladder_step(l);
	}
	fe_cswap(l->x2, l->x3, swap);
	fe_cswap(l->z2, l->z3, swap);
	fe_invert(l->z2, l->z2);
	fe_mul(l->x2, l->x2, l->z2);
	fe_store(u, l->x2);
}

static const unsigned char *
c25519_generator(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof GEN;
	return GEN;
}

static const unsigned char *
c25519_order(int curve, size_t *len)
{
	(void)curve;
	*len = sizeof ORDER;
	return ORDER;
}

static size_t
c25519_xoff(int curve, size_t *len)
{
	(void)curve;
	*len = 32;
	return 0;
}

static uint32_t
c25519_mul(unsigned char *G, size_t Glen, const unsigned char *kb, size_t kblen, int curve)
{
	struct ladder l;

	(void)curve;
	if (Glen != 32 || kblen > 32)
		return 0;
	memcpy(l.k, kb, kblen);
	memset(l.k + kblen, 0, sizeof l.k - kblen);
	l.k[0] &= 0xF8;
	l.k[31] = (unsigned char)((l.k[31] & 0x7F) | 0x40);
	ladder_run(&l, G);
	explicit_bzero(&l, sizeof l);
	return 1;
}

static size_t
c25519_mulgen(unsigned char *R, const unsigned char *x, size_t xlen, int curve)
{
	memcpy(R, GEN, sizeof GEN);
	c25519_mul(R, sizeof GEN, x, xlen, curve);
	return sizeof GEN;
}

static uint32_t
c25519_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	(void)A, (void)B, (void)len, (void)x, (void)xlen, (void)y, (void)ylen, (void)curve;
	return 0;
}

static const br_ec_impl c25519 = {
	(uint32_t)1 << BR_EC_curve25519,
	c25519_generator, c25519_order, c25519_xoff, c25519_mul, c25519_mulgen, c25519_muladd,
};
#define C25519 (&c25519)
#define P256 (&p256_ec)

#else /* no __int128: BearSSL's 32-bit code */
#define C25519 (&br_ec_c25519_m31)
#define P256 (&br_ec_p256_m31)
#endif

/* br_ec_all_m31's routing, with our Curve25519 and P-256. */
static const br_ec_impl *
pick(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1:
		return P256;
	case BR_EC_curve25519:
		return C25519;
	default:
		return &br_ec_prime_i31;
	}
}

static const unsigned char *
all_generator(int curve, size_t *len)
{
	return pick(curve)->generator(curve, len);
}

static const unsigned char *
all_order(int curve, size_t *len)
{
	return pick(curve)->order(curve, len);
}

static size_t
all_xoff(int curve, size_t *len)
{
	return pick(curve)->xoff(curve, len);
}

/* 1 when the 32 bytes are not all zeros. Every byte is read whatever the others
 * hold: a secret's bits decide nothing but the answer. */
static uint32_t
nonzero32(const unsigned char *p)
{
	unsigned any = 0;

	for (int i = 0; i < 32; i++)
		any |= p[i];
	return (any + 0xFF) >> 8;
}

static uint32_t
all_mul(unsigned char *G, size_t Glen, const unsigned char *k, size_t klen, int curve)
{
	uint32_t r = pick(curve)->mul(G, Glen, k, klen, curve);

	/* RFC 8422 5.11: an all-zero X25519 secret (G of low order) aborts the handshake,
	 * which the engine does on a 0 from mul (BearSSL 0.6 makes no such check). */
	if (r == 1 && curve == BR_EC_curve25519)
		r = nonzero32(G);
	return r;
}

static size_t
all_mulgen(unsigned char *R, const unsigned char *k, size_t klen, int curve)
{
	return pick(curve)->mulgen(R, k, klen, curve);
}

static uint32_t
all_muladd(unsigned char *A, const unsigned char *B, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	return pick(curve)->muladd(A, B, len, x, xlen, y, ylen, curve);
}

const br_ec_impl tls_ec = {
	(uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_secp384r1 |
	    (uint32_t)1 << BR_EC_secp521r1 | (uint32_t)1 << BR_EC_curve25519,
	all_generator, all_order, all_xoff, all_mul, all_mulgen, all_muladd,
};
