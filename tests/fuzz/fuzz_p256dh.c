/*
 * fuzz_p256dh: p256.h's ECDH (p256_ec, through tls_ec as the engine calls it)
 * against BearSSL's br_ec_p256_m31, which it replaces in the TLS engine
 * (differential).
 *
 * The input: byte 0's bit 0 picks the point: 0, the key share of a 32-byte seed
 * (br_ec_p256_m31.mulgen of it, top bit cleared: a valid point, but for the seed 0,
 * whose infinity, 0x04 and zeros, is refused); 1, 65 bytes as they come (mostly off
 * the curve). Its bit 1 gives the point's length from
 * byte 2 (% 70: 0..69) instead of 65. Byte 1 is the scalar's length (% 41: 0..40).
 * Then the seed or the point, then the scalar; zeros past the input's end.
 *
 * Invariants: mul returns br_ec_p256_m31's code; when 1, the 65 bytes are
 * br_ec_p256_m31's for k mod n (the value BearSSL gets right: for some k >= n, such
 * as n + 6, its incomplete addition gives infinity, see p256.h), and when 0 the
 * buffer is untouched; mulgen returns 65 and br_ec_p256_m31's bytes for k mod n.
 */
#include "fuzz_util.h"

#include "p256.h"
#include "x25519.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define P256 BR_EC_secp256r1

static const unsigned char N_BE[33] = {
	0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca,
	0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* out = k mod n (32 bytes, big-endian), bit by bit: r = 2r + bit, less n when r >= n. */
static void
mod_n(unsigned char out[32], const unsigned char *k, size_t klen)
{
	unsigned char r[33] = { 0 };

	for (size_t i = 0; i < 8 * klen; i++) {
		int c = (k[i / 8] >> (7 - i % 8)) & 1, d;

		for (int j = 32; j >= 0; j--) {
			d = 2 * r[j] + c;
			r[j] = (unsigned char)d;
			c = d >> 8;
		}
		if (memcmp(r, N_BE, 33) >= 0)
			for (int j = 32, b = 0; j >= 0; j--) {
				d = r[j] - N_BE[j] - b;
				r[j] = (unsigned char)d;
				b = d < 0;
			}
	}
	memcpy(out, r + 1, 32);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char in[3 + 65 + 40] = { 0 }, q[72] = { 0 }, a[72], b[72], c[72], k[40], kn[32];
	size_t glen, klen, n1, n2;
	uint32_t r1, r2;
	char h1[145], h2[145];

	memcpy(in, data, size < sizeof in ? size : sizeof in);
	klen = in[1] % 41;
	glen = (in[0] & 2) ? (size_t)(in[2] % 70) : 65;
	if (in[0] & 1) {
		memcpy(q, in + 3, 65);
		memcpy(k, in + 3 + 65, klen);
	} else {
		unsigned char d[32];

		memcpy(d, in + 3, 32);
		d[0] &= 0x7f;
		FUZZ_CHECK(br_ec_p256_m31.mulgen(q, d, 32, P256) == 65, "seed's key share");
		memcpy(k, in + 3 + 32, klen);
	}
	mod_n(kn, k, klen);

	memcpy(a, q, sizeof a);
	memcpy(b, q, sizeof b);
	memcpy(c, q, sizeof c);
	r1 = tls_ec.mul(a, glen, k, klen, P256);
	r2 = br_ec_p256_m31.mul(b, glen, k, klen, P256);
	FUZZ_CHECK(r1 == r2, "mul: glen %zu klen %zu: ours %u, BearSSL's %u", glen, klen, r1, r2);
	if (r1 == 1) {
		FUZZ_CHECK(br_ec_p256_m31.mul(c, glen, kn, 32, P256) == 1, "BearSSL on k mod n");
		fz_hex(h1, a, 65);
		fz_hex(h2, c, 65);
		FUZZ_CHECK(memcmp(a, c, 65) == 0 && memcmp(a + 65, q + 65, sizeof a - 65) == 0,
		    "mul: klen %zu: ours %s, BearSSL's (k mod n) %s", klen, h1, h2);
	} else {
		FUZZ_CHECK(memcmp(a, q, sizeof a) == 0, "mul: refused, but the buffer changed");
	}

	n1 = tls_ec.mulgen(a, k, klen, P256);
	n2 = br_ec_p256_m31.mulgen(b, kn, 32, P256);
	fz_hex(h1, a, 65);
	fz_hex(h2, b, 65);
	FUZZ_CHECK(n1 == 65 && n2 == 65 && memcmp(a, b, 65) == 0,
	    "mulgen: klen %zu: ours %zu %s, BearSSL's (k mod n) %zu %s", klen, n1, h1, n2, h2);
	return 0;
}
