/*
 * fuzz_x25519: x25519.h's tls_ec for Curve25519 against BearSSL's br_ec_c25519_m31,
 * which it replaces in the TLS engine (differential).
 *
 * The input: byte 0 picks the point length (32, or with its top bit set, its low 6
 * bits: 0..63, mostly refused), byte 1 the scalar length (byte % 40: 0..39, over 32
 * refused); then the point's bytes and the scalar's, zero-padded when the input is
 * short. Invariants: mul leaves the same 64 bytes in the point's buffer as
 * br_ec_c25519_m31 (unchanged when refused for a length) and gives its return code,
 * except that an all-zero secret is refused (0) where BearSSL returns 1; a result is
 * canonical (< 2^255 - 19); mulgen returns the same length and writes the same bytes
 * over the same prior content.
 */
#include "fuzz_util.h"

#include "x25519.h"

#define C25519 BR_EC_curve25519

/* 1 when the 32 little-endian bytes are below p = 2^255 - 19. */
static int
canonical(const unsigned char u[32])
{
	static const unsigned char p[32] = {
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0x7f,
	};

	for (int i = 31; i >= 0; i--)
		if (u[i] != p[i])
			return u[i] < p[i];
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char zero[32];
	unsigned char in[2 + 64 + 40] = { 0 }, g1[64], g2[64], k[40], r1[32], r2[32];
	size_t glen, klen, n1, n2;
	uint32_t c1, c2, ok;
	char h1[129], h2[129];

	memcpy(in, data, size < sizeof in ? size : sizeof in);
	glen = (in[0] & 0x80) ? (size_t)(in[0] & 0x3f) : 32;
	klen = in[1] % 40;
	memcpy(g1, in + 2, sizeof g1);
	memcpy(g2, g1, sizeof g2);
	memcpy(k, in + 2 + glen, klen);

	c1 = tls_ec.mul(g1, glen, k, klen, C25519);
	c2 = br_ec_c25519_m31.mul(g2, glen, k, klen, C25519);
	fz_hex(h1, g1, sizeof g1);
	fz_hex(h2, g2, sizeof g2);
	ok = glen == 32 && klen <= 32;
	FUZZ_CHECK(c1 == (c2 && memcmp(g2, zero, 32) != 0) && memcmp(g1, g2, sizeof g1) == 0,
	    "mul: glen %zu klen %zu: ours %u %s, BearSSL's %u %s", glen, klen, c1, h1, c2, h2);
	FUZZ_CHECK(c1 != 1 || canonical(g1), "mul: result not below p: %s", h1);
	FUZZ_CHECK(c2 == ok, "mul: BearSSL's code %u for glen %zu klen %zu", c2, glen, klen);

	memcpy(r1, in + 2, sizeof r1);            /* the same prior content in both */
	memcpy(r2, r1, sizeof r2);
	n1 = tls_ec.mulgen(r1, k, klen, C25519);
	n2 = br_ec_c25519_m31.mulgen(r2, k, klen, C25519);
	fz_hex(h1, r1, sizeof r1);
	fz_hex(h2, r2, sizeof r2);
	FUZZ_CHECK(n1 == n2 && memcmp(r1, r2, sizeof r1) == 0,
	    "mulgen: klen %zu: ours %zu %s, BearSSL's %zu %s", klen, n1, h1, n2, h2);
	return 0;
}
