/*
 * fuzz_p256: our P-256 ECDSA verification (src/p256.c) against BearSSL's
 * br_ecdsa_i31_vrfy_asn1, differentially, on signatures BearSSL makes and on
 * signatures, keys and hashes taken from the input.
 *
 * Input: byte 0 picks the mode (bits 0-1) and its variant (bits 2-7); what
 * follows is read by the mode, below. An input read past its end gives zeros.
 *
 *  mode 0  a key d (32 bytes: the top bit cleared, 0 made 1, so 0 < d < n), its
 *          public key from br_ec_compute_pub, a hash (the next 64 bytes) of 16,
 *          20, 28, 32, 48 or 64 bytes signed by br_ecdsa_i31_sign_raw and put in DER
 *          by br_ecdsa_raw_to_asn1; then one mutation: none, a bit flipped in the
 *          signature, the hash or the key, the signature cut or lengthened, a byte
 *          set, the hash shortened or lengthened, or s replaced by n - s (the
 *          other valid signature: ECDSA's malleability). Two bytes give the
 *          mutation's position (and bit), one more a byte's new value.
 *  mode 1  d's public key, the hash (a length byte, up to 64, then its bytes),
 *          and the rest of the input as the DER signature.
 *  mode 2  the hash from the input (a length byte, up to 64, then its bytes),
 *          the key from the next 65 bytes (or 0x04 and the next 64), given with
 *          its length 65 or, by bit 3 of byte 0, 58 to 72, and the rest as the
 *          DER signature.
 *  mode 3  the key G or -G, r and s from the input (below 2^255), and the hash
 *          r or n - r, which drive pt_add's corner cases: with G and hash r,
 *          u1 = u2 and the first NAF digit adds a point to itself (a doubling);
 *          with -G and hash r, each digit adds a point and its opposite, and the
 *          sum is infinity; with G and hash n - r, the sum is infinity.
 *
 * Invariants, beyond ASan/UBSan cleanliness:
 *  - p256_vrfy_asn1 and br_ecdsa_i31_vrfy_asn1 (both with br_ec_all_m31, the
 *    TLS engine's) give the same answer, 0 or 1, on every input, except where
 *    r is 0 and the hash is 0 mod n: there ours must be 0 (BearSSL 0.6 may
 *    say 1; see p256.h);
 *  - an unmutated mode-0 signature, and its (r, n - s) twin, verify (ours 1),
 *    unless the hash is 0 mod n;
 *  - the input buffers are not written (the function takes const pointers;
 *    checked by comparing copies).
 */
#include "fuzz_util.h"

#include <bearssl.h>

#include "p256.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define IMPL (&br_ec_all_m31)

static const unsigned char N_BE[32] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2,
	0xfc, 0x63, 0x25, 0x51,
};

/* out = a - b on 32-byte big-endian numbers (mod 2^256). */
static void
sub_be(unsigned char out[32], const unsigned char a[32], const unsigned char b[32])
{
	int borrow = 0;

	for (int i = 31; i >= 0; i--) {
		int d = a[i] - b[i] - borrow;
		borrow = d < 0;
		out[i] = (unsigned char)(d & 0xff);
	}
}

static int
is_zero_bytes(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

/* 1 if the hash's bits2int (its leftmost 32 bytes, a shorter one whole) is 0 mod
 * n, i.e. 0 or n: no signature verifies then (p256.h). */
static int
hash_zero_mod_n(const unsigned char *hash, size_t hlen)
{
	unsigned char h[32] = { 0 };
	size_t k = hlen < 32 ? hlen : 32;

	memcpy(h + 32 - k, hash, k);
	return is_zero_bytes(h, 32) || memcmp(h, N_BE, 32) == 0;
}

/* The known difference (p256.h): BearSSL's DER reading gives r = 0, over a hash
 * that is 0 mod n. */
static int
r_zero_hash_zero(const unsigned char *hash, size_t hlen, const unsigned char *sig, size_t slen)
{
	unsigned char raw[256];
	size_t rl;

	if (slen > 144 || !hash_zero_mod_n(hash, hlen))
		return 0;
	memcpy(raw, sig, slen);
	rl = br_ecdsa_asn1_to_raw(raw, slen);
	return rl != 0 && is_zero_bytes(raw, rl / 2);
}

/* Both verifiers on one input; returns ours. */
static uint32_t
check(const unsigned char *q, size_t qlen, const unsigned char *hash, size_t hlen,
    const unsigned char *sig, size_t slen)
{
	unsigned char qc[128], hc[64], sc[512];
	br_ec_public_key pk = { BR_EC_secp256r1, (unsigned char *)q, qlen };
	uint32_t ours, theirs;

	FUZZ_CHECK(qlen <= sizeof qc && hlen <= sizeof hc && slen <= sizeof sc, "harness sizes");
	memcpy(qc, q, qlen);
	memcpy(hc, hash, hlen);
	memcpy(sc, sig, slen);
	ours = p256_vrfy_asn1(IMPL, hash, hlen, &pk, sig, slen);
	FUZZ_CHECK(memcmp(qc, q, qlen) == 0 && memcmp(hc, hash, hlen) == 0 &&
	    memcmp(sc, sig, slen) == 0, "an input buffer was written");
	theirs = br_ecdsa_i31_vrfy_asn1(IMPL, hash, hlen, &pk, sig, slen);
	FUZZ_CHECK(ours <= 1, "ours answered %u", ours);
	if (r_zero_hash_zero(hash, hlen, sig, slen))
		FUZZ_CHECK(ours == 0, "r = 0 over a zero hash accepted (BearSSL %u)", theirs);
	else
		FUZZ_CHECK(ours == theirs, "ours %u, BearSSL %u (qlen %zu, hlen %zu, slen %zu)",
		    ours, theirs, qlen, hlen, slen);
	return ours;
}

/* d from the cursor, 0 < d < 2^255 < n, and its public key into q[65]. */
static void
make_key(struct fz_cursor *c, unsigned char d[32], unsigned char q[65], br_ec_private_key *sk)
{
	br_ec_public_key pk;
	unsigned char pbuf[BR_EC_KBUF_PUB_MAX_SIZE];

	fz_take_n(c, d, 32);
	d[0] &= 0x7f;
	if (is_zero_bytes(d, 32))
		d[31] = 1;
	sk->curve = BR_EC_secp256r1;
	sk->x = d;
	sk->xlen = 32;
	FUZZ_CHECK(br_ec_compute_pub(IMPL, &pk, pbuf, sk) == 65, "compute_pub");
	memcpy(q, pk.q, 65);
}

/* The hash functions whose lengths the signer takes (16 to 64 bytes). */
static const br_hash_class *const hashes[] = {
	&br_md5_vtable, &br_sha1_vtable, &br_sha224_vtable, &br_sha256_vtable,
	&br_sha384_vtable, &br_sha512_vtable,
};

/* Mode 0: sign, mutate, compare. */
static void
mode_signed(struct fz_cursor *c, unsigned sel)
{
	unsigned char d[32], q[65], hash[96] = { 0 }, raw[64], sig[160] = { 0 };
	br_ec_private_key sk;
	const br_hash_class *hf = hashes[(sel >> 2) % 6];
	size_t hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK, slen, pos;
	unsigned mut = (sel >> 5) & 7;
	uint8_t a, b;

	make_key(c, d, q, &sk);
	fz_take_n(c, hash, 64);
	FUZZ_CHECK(br_ecdsa_i31_sign_raw(IMPL, hf, hash, &sk, raw) == 64, "sign_raw");
	slen = br_ecdsa_raw_to_asn1(memcpy(sig, raw, 64), 64);
	FUZZ_CHECK(slen >= 8 && slen <= 72, "raw_to_asn1: %zu", slen);
	a = fz_take(c);
	b = fz_take(c);
	pos = (size_t)a << 8 | b;
	switch (mut) {
	case 0:
		FUZZ_CHECK(check(q, 65, hash, hlen, sig, slen) == 1 || hash_zero_mod_n(hash, hlen),
		    "a good signature refused");
		return;
	case 1:
		sig[pos % slen] ^= (unsigned char)(1u << (pos >> 13));
		break;
	case 2:
		hash[pos % hlen] ^= (unsigned char)(1u << (pos >> 13));
		break;
	case 3:
		q[pos % 65] ^= (unsigned char)(1u << (pos >> 13));
		break;
	case 4:
		slen = pos % (slen + 8);        /* cut, or 0 bytes appended from sig[] */
		break;
	case 5:
		sig[pos % slen] = fz_take(c);
		break;
	case 6:
		hlen = pos % 65;                /* the signed hash cut or lengthened */
		break;
	default:
		sub_be(raw + 32, N_BE, raw + 32);
		slen = br_ecdsa_raw_to_asn1(memcpy(sig, raw, 64), 64);
		FUZZ_CHECK(check(q, 65, hash, hlen, sig, slen) == 1 || hash_zero_mod_n(hash, hlen),
		    "(r, n - s) refused");
		return;
	}
	check(q, 65, hash, hlen, sig, slen);
}

/* Mode 3: Q = G or -G, hash r or n - r, r and s from the input. */
static void
mode_special(struct fz_cursor *c, unsigned sel)
{
	static const unsigned char G[65] = {
		0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5,
		0x63, 0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4,
		0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a,
		0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33,
		0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5,
	};
	static const unsigned char P_BE[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	};
	unsigned char q[65], raw[64], hash[32], sig[80];
	size_t slen;

	memcpy(q, G, sizeof q);
	if (sel & 4)
		sub_be(q + 33, P_BE, G + 33);   /* -G = (x, p - y) */
	fz_take_n(c, raw, 64);
	raw[0] &= 0x7f;                         /* r, s < 2^255 < n */
	raw[32] &= 0x7f;
	if (sel & 8)
		sub_be(hash, N_BE, raw);        /* hash = n - r */
	else
		memcpy(hash, raw, 32);          /* hash = r */
	slen = br_ecdsa_raw_to_asn1(memcpy(sig, raw, 64), 64);
	check(q, 65, hash, 32, sig, slen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_cursor c = { data, size, 0 };
	unsigned sel = fz_take(&c);
	unsigned char d[32], q[80] = { 0 }, hash[64];
	br_ec_private_key sk;
	size_t hlen, rest;

	switch (sel & 3) {
	case 0:
		mode_signed(&c, sel);
		break;
	case 1:
		make_key(&c, d, q, &sk);
		hlen = fz_take(&c) % 65;
		fz_take_n(&c, hash, hlen);
		rest = size > c.off ? size - c.off : 0;
		if (rest <= 400)
			check(q, 65, hash, hlen, data + c.off, rest);
		break;
	case 2:
		hlen = fz_take(&c) % 65;
		fz_take_n(&c, hash, hlen);
		q[0] = 0x04;
		fz_take_n(&c, q + ((sel & 4) ? 0 : 1), (sel & 4) ? 65 : 64);
		rest = size > c.off ? size - c.off : 0;
		if (rest <= 400)
			check(q, (sel & 8) ? 65 + (sel >> 4) % 15 - 7 : 65, hash, hlen, data + c.off, rest);
		break;
	default:
		mode_special(&c, sel);
		break;
	}
	return 0;
}
