/*
 * test_x25519: tls_ec (x25519.h) for Curve25519 against RFC 7748's vectors and
 * BearSSL's br_ec_c25519_m31, called as BearSSL's TLS engine calls it; and for the
 * NIST curves, against br_ec_all_m31: P-384 and P-521 routed to it unchanged, P-256
 * to p256.h's p256_ec, which must give its bytes (test_p256 tests it further).
 *
 * Known answers: RFC 7748 section 5.2 (the two X25519 vectors, and the iterated one
 * after 1 and 1,000 iterations; the 1,000,000 one takes minutes under the
 * sanitizers) and section 6.1 (Alice and Bob). Keys made by OpenSSL are checked at
 * test time by tests/integration/test_x25519.py.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "bearssl.h"
#include "check.h"
#include "p256.h"
#include "x25519.h"

#define C25519 BR_EC_curve25519

static void
unhex(unsigned char *out, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
}

static void
tohex(char *out, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

#define CHECK_HEX(got, n, want, label)                                                   \
	do {                                                                             \
		char h_[2 * 133 + 1];                                                    \
		tohex(h_, (got), (n));                                                   \
		CHECK_STR(h_, (want), (label));                                          \
	} while (0)

/* A small deterministic generator (splitmix64) for scalars and points. */
static uint64_t seed = 0x7e57c0de25519ULL;

static void
fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
		z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
		z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
		p[i] = (unsigned char)(z ^ (z >> 31));
	}
}

/* -------------------------------------------------------- RFC 7748 ----- */

static const struct {
	const char *name, *k, *u, *out;
} rfc_rows[] = {
	{ "rfc7748-5.2-1", "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
	    "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
	    "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
	{ "rfc7748-5.2-2", "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
	    "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
	    "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
};

static void
test_rfc_vectors(void)
{
	for (size_t i = 0; i < sizeof rfc_rows / sizeof rfc_rows[0]; i++) {
		unsigned char k[32], g[32], ref[32];

		unhex(k, 32, rfc_rows[i].k);
		unhex(g, 32, rfc_rows[i].u);
		memcpy(ref, g, 32);
		CHECKF(tls_ec.mul(g, 32, k, 32, C25519) == 1, "%s: mul failed", rfc_rows[i].name);
		CHECK_HEX(g, 32, rfc_rows[i].out, rfc_rows[i].name);
		CHECK(br_ec_c25519_m31.mul(ref, 32, k, 32, C25519) == 1);
		CHECKF(memcmp(g, ref, 32) == 0, "%s: differs from br_ec_c25519_m31", rfc_rows[i].name);
	}
}

/* RFC 7748 5.2: k = u = 9; then k, u = X25519(k, u), k. */
static void
test_rfc_iterations(void)
{
	unsigned char k[32] = { 9 }, u[32] = { 9 }, r[32];

	for (int i = 1; i <= 1000; i++) {
		memcpy(r, u, 32);
		CHECK(tls_ec.mul(r, 32, k, 32, C25519) == 1);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			CHECK_HEX(k, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079",
			    "after 1 iteration");
	}
	CHECK_HEX(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51",
	    "after 1,000 iterations");
}

/* RFC 7748 6.1: both public keys and the shared secret, each way. */
static void
test_rfc_dh(void)
{
	unsigned char a[32], b[32], pa[32], pb[32], ka[32], kb[32];

	unhex(a, 32, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, 32, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	CHECK(tls_ec.mulgen(pa, a, 32, C25519) == 32);
	CHECK_HEX(pa, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", "Alice's key");
	CHECK(tls_ec.mulgen(pb, b, 32, C25519) == 32);
	CHECK_HEX(pb, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", "Bob's key");
	memcpy(ka, pb, 32);
	memcpy(kb, pa, 32);
	CHECK(tls_ec.mul(ka, 32, a, 32, C25519) == 1);
	CHECK(tls_ec.mul(kb, 32, b, 32, C25519) == 1);
	CHECK_HEX(ka, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "K (Alice)");
	CHECK_HEX(kb, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", "K (Bob)");
}

/* ---------------------------------------- as the TLS engine calls it ----- */

/* ssl_hs_client.c's make_pms_ecdh: the key drawn below order() with its top byte
 * masked and low bit set, mul on the server's point, the secret at xoff(), then
 * mulgen for our share; the curve is advertised from supported_curves. */
static void
test_engine_calls(void)
{
	const unsigned char *order, *gen;
	size_t olen, glen, xlen, xoff;
	unsigned char key[66], point[133], mask = 0xFF, ref[32], share[32];

	CHECK(tls_ec.supported_curves == br_ec_all_m31.supported_curves);
	order = tls_ec.order(C25519, &olen);
	CHECK(olen == 32);
	CHECK_HEX(order, olen, "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "order");
	gen = tls_ec.generator(C25519, &glen);
	CHECK(glen == 32);
	CHECK_HEX(gen, glen, "0900000000000000000000000000000000000000000000000000000000000000",
	    "generator");
	xoff = tls_ec.xoff(C25519, &xlen);
	CHECK(xoff == 0 && xlen == 32);
	while (mask >= order[0])
		mask >>= 1;
	for (int i = 0; i < 20; i++) {
		fill(key, olen);
		key[0] &= mask;
		key[olen - 1] |= 0x01;
		fill(point, glen);
		memcpy(ref, point, 32);
		CHECK(tls_ec.mul(point, glen, key, olen, C25519) == 1);
		CHECK(br_ec_c25519_m31.mul(ref, 32, key, olen, C25519) == 1);
		CHECKF(memcmp(point + xoff, ref, xlen) == 0, "shared secret %d", i);
		CHECK(tls_ec.mulgen(point, key, olen, C25519) == glen);
		CHECK(br_ec_c25519_m31.mulgen(share, key, olen, C25519) == 32);
		CHECKF(memcmp(point, share, 32) == 0, "key share %d", i);
	}
}

/* Lengths, the ignored top bit of u, non-canonical and low-order u, muladd: what
 * br_ec_c25519_m31 does, byte for byte, but for the refusal of an all-zero secret. */
static void
test_edges(void)
{
	static const char *const odd_u[] = {
		"0000000000000000000000000000000000000000000000000000000000000000", /* 0 */
		"0100000000000000000000000000000000000000000000000000000000000000", /* 1 */
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p - 1 */
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p */
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* p + 1 */
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", /* 2^255 - 1 */
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", /* top bit */
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800", /* order 8 */
	};
	unsigned char k[33], g[32], ref[32], keep[32];

	fill(k, sizeof k);
	fill(g, 32);
	memcpy(keep, g, 32);
	CHECK(tls_ec.mul(g, 31, k, 32, C25519) == 0 && memcmp(g, keep, 32) == 0);
	CHECK(tls_ec.mul(g, 32, k, 33, C25519) == 0 && memcmp(g, keep, 32) == 0);
	CHECK(tls_ec.mulgen(g, k, 33, C25519) == 32);
	CHECK_HEX(g, 32, "0900000000000000000000000000000000000000000000000000000000000000",
	    "mulgen with a 33-byte scalar");
	CHECK(tls_ec.muladd(g, NULL, 32, k, 32, k, 32, C25519) == 0);
	for (size_t n = 0; n <= 32; n++) {            /* short scalars: zero high bytes */
		fill(g, 32);
		memcpy(ref, g, 32);
		CHECK(tls_ec.mul(g, 32, k, n, C25519) == 1);
		CHECK(br_ec_c25519_m31.mul(ref, 32, k, n, C25519) == 1);
		CHECKF(memcmp(g, ref, 32) == 0, "scalar of %zu bytes", n);
	}
	for (size_t i = 0; i < sizeof odd_u / sizeof odd_u[0]; i++) {
		static const unsigned char zero[32];
		uint32_t r;

		unhex(g, 32, odd_u[i]);
		memcpy(ref, g, 32);
		r = tls_ec.mul(g, 32, k, 32, C25519);
		CHECK(br_ec_c25519_m31.mul(ref, 32, k, 32, C25519) == 1);
		CHECKF(memcmp(g, ref, 32) == 0, "u %s", odd_u[i]);
		/* Refused exactly when the secret is all zeros (low order). */
		CHECKF(r == (memcmp(ref, zero, 32) != 0), "u %s: returned %u", odd_u[i], (unsigned)r);
	}
	/* u and u + p (both < 2^255), u with the top bit set: one result. */
	unhex(g, 32, "0500000000000000000000000000000000000000000000000000000000000000");
	CHECK(tls_ec.mul(g, 32, k, 32, C25519) == 1);
	unhex(ref, 32, "f2ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
	CHECK(tls_ec.mul(ref, 32, k, 32, C25519) == 1);
	CHECK(memcmp(g, ref, 32) == 0);
	unhex(ref, 32, "0500000000000000000000000000000000000000000000000000000000000080");
	CHECK(tls_ec.mul(ref, 32, k, 32, C25519) == 1);
	CHECK(memcmp(g, ref, 32) == 0);
	/* A low-order point gives 0, which is refused (RFC 8422 5.11; BearSSL 0.6 does
	 * not refuse it): the engine then aborts the handshake. */
	unhex(g, 32, odd_u[7]);
	CHECK(tls_ec.mul(g, 32, k, 32, C25519) == 0);
	CHECK_HEX(g, 32, "0000000000000000000000000000000000000000000000000000000000000000", "order 8");
}

static void
test_random_vs_bearssl(void)
{
	unsigned char k[32], g[32], ref[32];

	for (int i = 0; i < 300; i++) {
		fill(k, 32);
		fill(g, 32);
		memcpy(ref, g, 32);
		CHECK(tls_ec.mul(g, 32, k, 32, C25519) == 1);
		CHECK(br_ec_c25519_m31.mul(ref, 32, k, 32, C25519) == 1);
		CHECKF(memcmp(g, ref, 32) == 0, "random case %d", i);
	}
}

/* ------------------------------------------------------ NIST curves ----- */

/* Everything but Curve25519 gives br_ec_all_m31's answers: generator, order, xoff,
 * mulgen, mul, muladd the same bytes and codes, on P-256, P-384 and P-521; but muladd
 * on P-256, which is 0 (p256.h). */
static void
test_nist_same_as_bearssl(void)
{
	static const int curves[] = { BR_EC_secp256r1, BR_EC_secp384r1, BR_EC_secp521r1 };
	br_hmac_drbg_context rng;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "nist", 4);
	for (size_t c = 0; c < sizeof curves / sizeof curves[0]; c++) {
		int curve = curves[c];
		const unsigned char *g1, *g2, *o1, *o2;
		size_t l1, l2, m1, m2, x1, x2, xl1, xl2;
		unsigned char sk[66], sk2[66], p1[133], p2[133], a1[133], a2[133];
		br_ec_private_key key;

		g1 = tls_ec.generator(curve, &l1);
		g2 = br_ec_all_m31.generator(curve, &l2);
		o1 = tls_ec.order(curve, &m1);
		o2 = br_ec_all_m31.order(curve, &m2);
		x1 = tls_ec.xoff(curve, &xl1);
		x2 = br_ec_all_m31.xoff(curve, &xl2);
		CHECKF(l1 == l2 && memcmp(g1, g2, l1) == 0 && m1 == m2 && memcmp(o1, o2, m1) == 0 &&
		    x1 == x2 && xl1 == xl2, "curve %d: constants", curve);
		for (int i = 0; i < 4; i++) {
			size_t n1, n2, klen = br_ec_keygen(&rng.vtable, &br_ec_all_m31, &key, sk, curve);
			uint32_t r1, r2;

			CHECK(klen > 0);
			br_ec_keygen(&rng.vtable, &br_ec_all_m31, &key, sk2, curve);
			n1 = tls_ec.mulgen(p1, sk, klen, curve);
			n2 = br_ec_all_m31.mulgen(p2, sk, klen, curve);
			CHECKF(n1 == n2 && n1 == l1 && memcmp(p1, p2, n1) == 0, "curve %d mulgen %d", curve, i);
			memcpy(a1, p1, n1);
			memcpy(a2, p1, n1);
			r1 = tls_ec.mul(a1, n1, sk2, klen, curve);
			r2 = br_ec_all_m31.mul(a2, n1, sk2, klen, curve);
			CHECKF(r1 == 1 && r2 == 1 && memcmp(a1, a2, n1) == 0, "curve %d mul %d", curve, i);
			memcpy(a1, p1, n1);
			memcpy(a2, p1, n1);
			r1 = tls_ec.muladd(a1, g1, n1, sk, klen, sk2, klen, curve);
			r2 = br_ec_all_m31.muladd(a2, g1, n1, sk, klen, sk2, klen, curve);
			if (curve == BR_EC_secp256r1)
				CHECKF(r1 == 0 && r2 == 1, "P-256 muladd %d: %u", i, r1);
			else
				CHECKF(r1 == 1 && r1 == r2 && memcmp(a1, a2, n1) == 0,
				    "curve %d muladd %d", curve, i);
			p1[n1 / 2] ^= 1;                      /* off the curve: refused by both */
			memcpy(a1, p1, n1);
			memcpy(a2, p1, n1);
			r1 = tls_ec.mul(a1, n1, sk2, klen, curve);
			r2 = br_ec_all_m31.mul(a2, n1, sk2, klen, curve);
			CHECKF(r1 == 0 && r2 == 0, "curve %d: a point off the curve", curve);
		}
	}
}

/* What the engine and the X.509 engine do with tls_ec (br_ssl_engine_get_ec, and
 * p256_vrfy_asn1 from br_ssl_engine_get_ecdsa): ECDSA signatures made with BearSSL's
 * own code verify, a changed one does not. BearSSL's own verifier over tls_ec, which
 * needs muladd, still works on P-384 and fails closed on P-256 (p256.h). */
static void
test_ecdsa_through_tls_ec(void)
{
	static const int curves[] = { BR_EC_secp256r1, BR_EC_secp384r1 };
	br_hmac_drbg_context rng;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "ecdsa", 5);
	for (size_t c = 0; c < sizeof curves / sizeof curves[0]; c++) {
		unsigned char skb[BR_EC_KBUF_PRIV_MAX_SIZE], pkb[BR_EC_KBUF_PUB_MAX_SIZE];
		unsigned char hash[48], sig[160];
		br_ec_private_key sk;
		br_ec_public_key pk;
		size_t slen;
		uint32_t want_i31 = curves[c] != BR_EC_secp256r1;

		CHECK(br_ec_keygen(&rng.vtable, &br_ec_all_m31, &sk, skb, curves[c]) > 0);
		CHECK(br_ec_compute_pub(&br_ec_all_m31, &pk, pkb, &sk) > 0);
		fill(hash, sizeof hash);
		slen = br_ecdsa_i31_sign_asn1(&br_ec_all_m31, &br_sha384_vtable, hash, &sk, sig);
		CHECK(slen > 0);
		CHECKF(p256_vrfy_asn1(&tls_ec, hash, 48, &pk, sig, slen) == 1,
		    "curve %d: signature refused", curves[c]);
		CHECKF(br_ecdsa_i31_vrfy_asn1(&tls_ec, hash, 48, &pk, sig, slen) == want_i31,
		    "curve %d: br_ecdsa_i31_vrfy_asn1 over tls_ec", curves[c]);
		hash[0] ^= 1;
		CHECKF(p256_vrfy_asn1(&tls_ec, hash, 48, &pk, sig, slen) == 0,
		    "curve %d: changed hash accepted", curves[c]);
	}
}

static const struct check_case cases[] = {
	{ "rfc_vectors", test_rfc_vectors },
	{ "rfc_iterations", test_rfc_iterations },
	{ "rfc_dh", test_rfc_dh },
	{ "engine_calls", test_engine_calls },
	{ "edges", test_edges },
	{ "random_vs_bearssl", test_random_vs_bearssl },
	{ "nist_same_as_bearssl", test_nist_same_as_bearssl },
	{ "ecdsa_through_tls_ec", test_ecdsa_through_tls_ec },
};

CHECK_MAIN(cases)
