/*
 * test_rsa: our RSA public-key operation (src/rsa.c) compared, return code and
 * bytes, with BearSSL's br_rsa_i62_public (the engine's default it replaces) and
 * br_rsa_i31_public on random odd moduli of 1 to 512 bytes, random x below n and
 * edge ones (0, 1, n - 1), x >= n (n, n + 1, all ones), e = 0, 1, 3, 17, 65537
 * and long random e (up to n's length); leading zero bytes in n and e; xlen off
 * by one; even n; n over 4096 bits. Then rsa_pkcs1_vrfy on PKCS#1 v1.5 signatures
 * made by br_rsa_i31_pkcs1_sign with keys from br_rsa_i31_keygen (1024 to 3072
 * bits, e = 3 and 65537), each also refused with a byte of the signature flipped.
 * OpenSSL's signatures are verified in real handshakes: test_delivery's
 * test_all_rsa_chains, test_trust's test_forged_rsa_signatures.
 */
#include "check.h"
#include "rsa.h"

#include <stdlib.h>
#include <string.h>

static br_hmac_drbg_context rng;

static void
rnd(void *p, size_t len)
{
	br_hmac_drbg_generate(&rng, p, len);
}

static size_t
rnd_below(size_t n)
{
	uint32_t v;

	rnd(&v, sizeof v);
	return v % n;
}

/* Our answer and both of BearSSL's for x under pk: the codes must agree, and the
 * bytes too when the code is 1. Returns the code. */
static uint32_t
same(const unsigned char *x, size_t xlen, const br_rsa_public_key *pk, const char *what)
{
	unsigned char a[600], b[600], c[600];
	uint32_t ra, rb, rc;

	memcpy(a, x, xlen);
	memcpy(b, x, xlen);
	memcpy(c, x, xlen);
	ra = rsa_public(a, xlen, pk);
	rb = br_rsa_i62_public(b, xlen, pk);
	rc = br_rsa_i31_public(c, xlen, pk);
	CHECKF(ra == rb && rb == rc, "%s: nlen %zu elen %zu xlen %zu: ours %u, i62 %u, i31 %u",
	    what, pk->nlen, pk->elen, xlen, ra, rb, rc);
	if (ra == 1 && rb == 1)
		CHECKF(memcmp(a, b, xlen) == 0, "%s: nlen %zu elen %zu: bytes differ from i62",
		    what, pk->nlen, pk->elen);
	if (ra == 1 && rc == 1)
		CHECKF(memcmp(a, c, xlen) == 0, "%s: nlen %zu elen %zu: bytes differ from i31",
		    what, pk->nlen, pk->elen);
	return ra;
}

/* An odd modulus of nlen bytes, top byte not 0. */
static void
rnd_modulus(unsigned char *n, size_t nlen)
{
	rnd(n, nlen);
	n[0] |= (unsigned char)(1 + rnd_below(255));
	n[nlen - 1] |= 1;
}

/* x below n (len bytes): random, its top byte below n's. */
static void
rnd_below_n(unsigned char *x, const unsigned char *n, size_t len)
{
	rnd(x, len);
	x[0] = n[0] == 1 ? 0 : (unsigned char)rnd_below(n[0]);
}

static const unsigned char E3[] = { 3 }, E17[] = { 17 }, E65537[] = { 1, 0, 1 },
    E1[] = { 1 }, E0[] = { 0 };

static void
test_random_moduli(void)
{
	static const size_t lens[] = { 1, 2, 7, 8, 9, 12, 16, 17, 24, 33, 64, 128, 129,
		192, 255, 256, 257, 300, 384, 511, 512 };
	unsigned char n[512], x[512], e[512];

	for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
		size_t nlen = lens[li];

		for (int round = 0; round < (nlen > 128 ? 3 : 12); round++) {
			br_rsa_public_key pk = { n, nlen, NULL, 0 };

			rnd_modulus(n, nlen);
			/* the exponents: fixed ones, then a long random one */
			const unsigned char *es[] = { E3, E17, E65537, E1, E0, e };
			/* long e costs a multiplication a bit: one as long as n up to
			 * 2048 bits, else random lengths up to 1024 bits */
			size_t elen = 1 + rnd_below(nlen < 128 ? nlen : 128);
			size_t elens[] = { 1, 1, 3, 1, 1, round == 0 && nlen <= 256 ? nlen : elen };

			rnd(e, elens[5]);
			for (size_t ei = 0; ei < 6; ei++) {
				pk.e = (unsigned char *)(uintptr_t)es[ei];
				pk.elen = elens[ei];
				rnd_below_n(x, n, nlen);
				CHECK(same(x, nlen, &pk, "random x") == 1);
				memset(x, 0, nlen);
				CHECK(same(x, nlen, &pk, "x = 0") == 1);
				x[nlen - 1] = 1;
				CHECK(same(x, nlen, &pk, "x = 1") == (nlen > 1 || n[0] > 1));
				memcpy(x, n, nlen);
				x[nlen - 1] ^= 1;       /* n - 1 (n is odd) */
				CHECK(same(x, nlen, &pk, "x = n - 1") == 1);
				CHECK(same(n, nlen, &pk, "x = n") == 0);
				memset(x, 0xff, nlen);
				CHECK(same(x, nlen, &pk, "x = all ones") == 0);
			}
		}
	}
}

/* 2048-bit moduli with e = 65537 and many x: the engine's common case. */
static void
test_random_2048(void)
{
	unsigned char n[256], x[256];
	br_rsa_public_key pk = { n, sizeof n, (unsigned char *)(uintptr_t)E65537, 3 };

	for (int i = 0; i < 200; i++) {
		rnd_modulus(n, sizeof n);
		if (i % 4 == 0)
			n[0] = 0x80;            /* the top bit alone */
		if (i % 4 == 1)
			n[0] = 0xff, n[1] = 0xff, n[2] = 0xff;
		rnd_below_n(x, n, sizeof x);
		CHECK(same(x, sizeof x, &pk, "2048") == 1);
	}
}

/* A near-2^64k modulus and one just over a power of two: x = n - 1 and x near it,
 * where the quotient estimates of the conversion are at their worst. */
static void
test_edge_moduli(void)
{
	unsigned char n[256], x[256];
	br_rsa_public_key pk = { n, sizeof n, (unsigned char *)(uintptr_t)E65537, 3 };

	for (int shape = 0; shape < 4; shape++) {
		memset(n, shape < 2 ? 0xff : 0, sizeof n);
		if (shape >= 2)
			n[0] = shape == 2 ? 0x80 : 0x01;
		n[sizeof n - 1] |= 1;
		if (shape == 1)
			n[100] = 0;
		for (int k = 0; k < 8; k++) {
			memcpy(x, n, sizeof x);
			x[sizeof x - 1] ^= 1;
			x[sizeof x - 1 - (size_t)k * 17] ^= 0x40;
			same(x, sizeof x, &pk, "edge modulus");
			memcpy(x, n, sizeof x);
			x[k] = 0;
			same(x, sizeof x, &pk, "edge modulus");
		}
	}
}

static void
test_refused(void)
{
	unsigned char n[520], x[520], xs[520];
	br_rsa_public_key pk = { n, 0, (unsigned char *)(uintptr_t)E65537, 3 };

	/* leading zero bytes of n and e are skipped */
	unsigned char e0[] = { 0, 0, 1, 0, 1 };

	memset(x, 0, sizeof x);
	memset(n, 0, 3);
	rnd_modulus(n + 3, 256);
	pk.nlen = 259;
	pk.e = e0;
	pk.elen = sizeof e0;
	rnd_below_n(x, n + 3, 256);
	CHECK(same(x, 256, &pk, "leading zeros") == 1);
	/* xlen must be n's length without the zeros */
	CHECK(same(x, 259, &pk, "xlen with n's zeros") == 0);
	CHECK(same(x, 255, &pk, "xlen short") == 0);
	memcpy(xs, x, 257);
	CHECK(rsa_public(xs, 257, &pk) == 0);
	CHECKF(memcmp(xs, x, 257) == 0, "x changed on a wrong xlen");
	/* even n */
	n[258] &= 0xfe;
	CHECK(same(x, 256, &pk, "even n") == 0);
	/* all zero n, and no n */
	memset(n, 0, 259);
	CHECK(rsa_public(x, 256, &pk) == 0);
	pk.nlen = 0;
	CHECK(rsa_public(x, 0, &pk) == 0);
	/* 4096 bits is the limit: 4097 bits (513 bytes) is refused */
	rnd_modulus(n, 513);
	n[0] = 1;
	pk.nlen = 513;
	pk.e = (unsigned char *)(uintptr_t)E3;
	pk.elen = 1;
	rnd_below_n(x, n, 513);
	CHECK(same(x, 513, &pk, "4097 bits") == 0);
	pk.nlen = 512;
	n[0] = 0xff;
	CHECK(same(x, 512, &pk, "4096 bits") == 1);
	/* e of zero bytes only: x^0 = 1 */
	pk.e = e0;
	pk.elen = 2;
	CHECK(same(x, 512, &pk, "e = 0 (2 zero bytes)") == 1);
	pk.elen = 0;
	CHECK(same(x, 512, &pk, "e empty") == 1);
	CHECK(rsa_public(x, 512, &pk) == 1);
	CHECK(x[511] == 1 && x[0] == 0 && x[300] == 0);
}

/* Signatures by BearSSL's signer with its own keys: verified, and refused with one
 * byte of the signature flipped. */
static void
test_pkcs1(void)
{
	static const struct {
		unsigned bits;
		uint32_t e;
	} keys[] = { { 1024, 65537 }, { 2048, 65537 }, { 2048, 3 }, { 3072, 3 } };
	static const unsigned char sha256_oid[] = { 9, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
		0x04, 0x02, 0x01 };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		unsigned char kbuf[BR_RSA_KBUF_PRIV_SIZE(4096)], pbuf[BR_RSA_KBUF_PUB_SIZE(4096)];
		unsigned char hash[32], sig[512], out[32];
		br_rsa_private_key sk;
		br_rsa_public_key pk;
		size_t len = (keys[i].bits + 7) / 8;

		CHECK(br_rsa_i31_keygen(&rng.vtable, &sk, kbuf, &pk, pbuf, keys[i].bits,
		    keys[i].e) == 1);
		for (int m = 0; m < 4; m++) {
			rnd(hash, sizeof hash);
			CHECK(br_rsa_i31_pkcs1_sign(sha256_oid, hash, sizeof hash, &sk, sig) == 1);
			memset(out, 0, sizeof out);
			CHECKF(rsa_pkcs1_vrfy(sig, len, sha256_oid, sizeof hash, &pk, out) == 1,
			    "%u bits e=%u: valid signature refused", keys[i].bits, keys[i].e);
			CHECKF(memcmp(out, hash, sizeof hash) == 0, "%u bits: wrong hash out",
			    keys[i].bits);
			sig[rnd_below(len)] ^= (unsigned char)(1 + rnd_below(255));
			CHECKF(rsa_pkcs1_vrfy(sig, len, sha256_oid, sizeof hash, &pk, out) == 0,
			    "%u bits e=%u: flipped signature accepted", keys[i].bits, keys[i].e);
			CHECK(rsa_pkcs1_vrfy(sig, len + 1, sha256_oid, sizeof hash, &pk, out) == 0);
		}
	}
}

static const struct check_case cases[] = {
	{ "random_moduli", test_random_moduli },
	{ "random_2048", test_random_2048 },
	{ "edge_moduli", test_edge_moduli },
	{ "refused", test_refused },
	{ "pkcs1", test_pkcs1 },
};

int
main(int argc, char **argv)
{
	br_hmac_drbg_init(&rng, &br_sha256_vtable, "test_rsa", 8);
	return check_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
