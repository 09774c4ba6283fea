/*
 * sha256: FIPS 180-4 SHA-256 and RFC 2104 HMAC, written for clarity over speed:
 * the ID hashes a few hundred bytes once per run.
 */
#include "sha256.h"

#include <string.h>   /* explicit_bzero (-D_DEFAULT_SOURCE): a wipe the compiler
                       * cannot drop as a dead store */

/* FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
ror(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/* FIPS 180-4 §6.2.2: one 64-byte block into the state. */
static void
compress(uint32_t st[8], const unsigned char blk[SHA256_BLOCK])
{
	uint32_t w[64], a, b, c, d, e, f, g, h;
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
		    (uint32_t)blk[4 * i + 2] << 8 | (uint32_t)blk[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = st[0]; b = st[1]; c = st[2]; d = st[3];
	e = st[4]; f = st[5]; g = st[6]; h = st[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = h + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) +
		    K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));

		h = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	st[0] += a; st[1] += b; st[2] += c; st[3] += d;
	st[4] += e; st[5] += f; st[6] += g; st[7] += h;
	explicit_bzero(w, sizeof w);
}

void
sha256_init(struct sha256 *c)
{
	/* FIPS 180-4 §5.3.3: square roots of the first 8 primes. */
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof iv);
	c->total = 0;
	c->fill = 0;
	memset(c->block, 0, sizeof c->block);
}

void
sha256_update(struct sha256 *c, const void *p, size_t n)
{
	const unsigned char *s = p;

	c->total += n;
	while (n > 0) {
		size_t take = SHA256_BLOCK - c->fill;

		if (take > n)
			take = n;
		memcpy(c->block + c->fill, s, take);
		c->fill += take;
		s += take;
		n -= take;
		if (c->fill == SHA256_BLOCK) {
			compress(c->h, c->block);
			c->fill = 0;
		}
	}
}

void
sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN])
{
	uint64_t bits = c->total * 8;
	unsigned i;

	/* §5.1.1: a 1 bit, zeros up to 56 mod 64, then the length in bits, big-endian. */
	c->block[c->fill++] = 0x80;
	if (c->fill > SHA256_BLOCK - 8) {
		memset(c->block + c->fill, 0, SHA256_BLOCK - c->fill);
		compress(c->h, c->block);
		c->fill = 0;
	}
	memset(c->block + c->fill, 0, SHA256_BLOCK - 8 - c->fill);
	for (i = 0; i < 8; i++)
		c->block[SHA256_BLOCK - 1 - i] = (unsigned char)(bits >> (8 * i));
	compress(c->h, c->block);
	for (i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
	explicit_bzero(c, sizeof *c);
}

void
sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, p, n);
	sha256_final(&c, out);
}

void
hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len)
{
	unsigned char k[SHA256_BLOCK], ipad[SHA256_BLOCK];
	unsigned i;

	/* RFC 2104 §2: K is the key zero-padded to B bytes, or its hash if longer. */
	memset(k, 0, sizeof k);
	if (key_len > SHA256_BLOCK)
		sha256(key, key_len, k);
	else if (key_len > 0)
		memcpy(k, key, key_len);
	for (i = 0; i < SHA256_BLOCK; i++) {
		ipad[i] = k[i] ^ 0x36;
		h->opad[i] = k[i] ^ 0x5c;
	}
	sha256_init(&h->inner);
	sha256_update(&h->inner, ipad, sizeof ipad);
	explicit_bzero(k, sizeof k);
	explicit_bzero(ipad, sizeof ipad);
}

void
hmac_sha256_update(struct hmac_sha256 *h, const void *p, size_t n)
{
	sha256_update(&h->inner, p, n);
}

void
hmac_sha256_final(struct hmac_sha256 *h, unsigned char out[SHA256_LEN])
{
	unsigned char inner[SHA256_LEN];
	struct sha256 outer;

	sha256_final(&h->inner, inner);         /* wipes the inner state */
	sha256_init(&outer);
	sha256_update(&outer, h->opad, sizeof h->opad);
	sha256_update(&outer, inner, sizeof inner);
	sha256_final(&outer, out);              /* wipes the outer state */
	explicit_bzero(inner, sizeof inner);
	explicit_bzero(h, sizeof *h);
}

void
hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
    unsigned char out[SHA256_LEN])
{
	struct hmac_sha256 h;

	hmac_sha256_init(&h, key, key_len);
	hmac_sha256_update(&h, msg, msg_len);
	hmac_sha256_final(&h, out);
}
