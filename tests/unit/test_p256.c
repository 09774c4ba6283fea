/*
 * test_p256: our P-256 ECDSA verification (src/p256.c) on signatures made by two
 * other implementations, and its answer compared with BearSSL's own
 * br_ecdsa_i31_vrfy_asn1 on every input of every case, valid or not. Then our
 * P-256 ECDH (p256_ec, through tls_ec as the engine calls it): RFC 5903 8.1's
 * known answer, and every result and code compared with br_ec_p256_m31's on
 * random and edge scalars (0, 1, n - 1, n, n + 1, n + 6, 2^256 - 1, lengths 0 to
 * 40), random points and edge ones, and refused points.
 *
 * Sources of the signatures:
 *  openssl-*   made on 2026-12-01 with OpenSSL 3.0.19's command line, one key per
 *              letter k1..k3 and the message in the row's comment:
 *                openssl ecparam -name prime256v1 -genkey -noout -out k.pem
 *                printf '%s' "$msg" > msg.bin
 *                openssl ec -in k.pem -pubout -outform DER | tail -c 65   (key)
 *                openssl dgst -$md -binary msg.bin                        (hash)
 *                openssl dgst -$md -sign k.pem msg.bin                    (signature)
 *              each checked with `openssl dgst -$md -verify`. The P-384 row the same
 *              way with secp384r1 (`tail -c 97`).
 *  bearssl     signed here by br_ecdsa_i31_sign_asn1 with keys from br_ec_keygen.
 *  edge rows   built with Python's integers and affine point formulas (FIPS 186-4's
 *              curve constants): a valid signature whose sum u1 G + u2 Q is a
 *              doubling (Q = G, hash = r), one whose x(R) is n + 3 (so r = 3 and
 *              x(R) >= n), one whose sum is infinity (Q = G, hash = n - r), one on
 *              a zero hash, the point with x = 0 written with X = p, and one by the
 *              key (x, p - 1), whose Y is above n (x a root of x^3 - 3x + b - 1,
 *              found by polynomial gcd with X^p - X; the signature from chosen u1,
 *              u2: R = u1 G + u2 Q, r = x(R) mod n, s = r / u2, hash = u1 s), also
 *              written with Y = p + 1. Each valid one is valid for BearSSL too (the
 *              table asserts its answer).
 */
#include "check.h"
#include "p256.h"
#include "x25519.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The implementation the TLS engine gives both verifiers (br_ssl_engine_set_default_ec). */
#define IMPL (&br_ec_all_m31)

struct vec {
	const char *name;
	const char *q;          /* public key, hex */
	const char *hash;       /* hex */
	const char *sig;        /* DER, hex */
};

static const struct vec openssl_vecs[] = {
	{ "k1-sha256-a", /* sha256 of "anontel p256 vector 1" */
	    "04edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3",
	    "77f08831de2cf400d8f9c5cadfae3c6a49fbbe62f601ad70ddaf9e05eae95dc9",
	    "3044022039f7849d74b974af13bdf2a8b3505d9a7eca724bd7e7b714ed90fe3c0592469402204b0c53d6d8c7b754389cb6809a1cefd7f39331443d85e4f7ba561c2b68741e3f" },
	{ "k1-sha256-b", /* sha256 of "anontel p256 vector 2" */
	    "04edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3",
	    "bbe404795561a1d94cd3125a814e84242d3bc210b019a27266e0e97a6ecf74b3",
	    "304402201f3dbc3f465c76488f7ac92a2c7843df89042f0aabf42ce2cbf67f0c52e362fc022075bdce7f8a8a1b497f09055748de9d614f92b78efe54500f534280036b829dc5" },
	{ "k1-sha384", /* sha384 of "anontel p256 vector 3" */
	    "04edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3",
	    "968688f12cb4d187cbe77af90e2b6eadc18a1f375539409daec136fd5500938badb891084bffbc2e08dcf1b2cfeebadc",
	    "304402202ce356418b891b1ec32334d0adc904dd7516cc6dbd2d7d6e61261cab19a542fc022071b2a8d9073d9be41996065f493c9d934af2d5e0da2cbca77ff683118cd1530b" },
	{ "k2-sha256", /* sha256 of "anontel p256 vector 4" */
	    "04d8dc7a4d3d18c245a67a7f1c63e5ea5120cacde828307d309b027f8ab7d783cbebd0220e3ccf1809608cfa201aee35b7f390d3a160d3ebd3b2cd21f6facea67c",
	    "d15c0899d041da6b76f84cbff9d7b8ed7830a516dcf99e2688e3836d088c95f3",
	    "304602210082934b17ce0aa68bbee03c408c7fe46453dc246e4250e533e91d4ebb7cfb3e9d02210080ed6fc8b0e2915dc66c4e5975b0b69ea400468f1e6eecfa2c5e935be10fd3b2" },
	{ "k2-sha384", /* sha384 of "anontel p256 vector 5" */
	    "04d8dc7a4d3d18c245a67a7f1c63e5ea5120cacde828307d309b027f8ab7d783cbebd0220e3ccf1809608cfa201aee35b7f390d3a160d3ebd3b2cd21f6facea67c",
	    "5df5c280486cf852035c176dc057756685fae88650988f39b2fdf7da1593d486298a4da453284a0b24a7970f9abe345b",
	    "3045022100b6b51fd8cfd9fc1090ab4418dad56af5cab131fb19643607d62401dc5bd0148b0220292b3cb030448657c7a23a3f07b55a9b2c60bfcb385a55aa2611bda169196f9c" },
	{ "k2-sha1", /* sha1 of "anontel p256 vector 6" */
	    "04d8dc7a4d3d18c245a67a7f1c63e5ea5120cacde828307d309b027f8ab7d783cbebd0220e3ccf1809608cfa201aee35b7f390d3a160d3ebd3b2cd21f6facea67c",
	    "c12627206f9bbee65ad3eac8f7fc1711b7c5d6f4",
	    "304502207113a09ecafbd4a1e75f143ef81e930edbcf8aeb71d2952d3b76a3c93f11abf9022100f17ac944b9e49591699ec363a6cf923193d0f73b5be27630598ef7f8b8e6dc14" },
	{ "k3-sha256", /* sha256 of "anontel p256 vector 7" */
	    "049d31d182569afca4b7e7778931b1e54b8113fb39a532744af8e63dfa10e626ab7e35b677b6f5786211e361eb100a4f9b0a03efae2b7552de9e4ac610bf586972",
	    "8bec874f534f753db21b9b5a51f42bfb79e3a7fc1a0f5584913d86848cb2bdcd",
	    "3045022100c56f68ad496eeb8a328fd8e3f0dbcdb717ea46b40c064cb64f0d9b3e3afec6f402203a1e7d20ee034428422109181b6a1a210538c4d70381de2d94c2fac4b8419bce" },
	{ "k3-sha512", /* sha512 of "anontel p256 vector 8" */
	    "049d31d182569afca4b7e7778931b1e54b8113fb39a532744af8e63dfa10e626ab7e35b677b6f5786211e361eb100a4f9b0a03efae2b7552de9e4ac610bf586972",
	    "05385c4b185831c77b0e89a5a8e26f50820db97b746e559a8400ea3038d9802a9d1ec234187e387508fd141f11a19e0cad94f16b86241f55b9498cc49ca25281",
	    "3045022100b4c291c4ff8c9d439620fcbb30f519a970455f7d6ae5b4adf7852b43cc3c21c802205099a02be8b2610300765ed208666f628a6a94e810356d1c361d49c48de710ab" },
	{ "k3-sha224", /* sha224 of "anontel p256 vector 9" */
	    "049d31d182569afca4b7e7778931b1e54b8113fb39a532744af8e63dfa10e626ab7e35b677b6f5786211e361eb100a4f9b0a03efae2b7552de9e4ac610bf586972",
	    "22e64e036e296954c916f1784fdc599c390a27c5cb9612b55187f7de",
	    "304502207441f304d2b44aed588bc2cff93a97e43fea92c4b1ac7767939957c60f7cafc1022100e2bedefbe3d485351f1444535248f65355bcbe319b7459e65a5ea3b57f8a0353" },
};

#define NV (sizeof openssl_vecs / sizeof openssl_vecs[0])

/* G and n (FIPS 186-4 D.1.2.3), and edge-row ingredients (see the header). */
#define G_HEX "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c2964fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
#define N_HEX "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
#define K1_Q  "04edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3"
#define K1_H  "77f08831de2cf400d8f9c5cadfae3c6a49fbbe62f601ad70ddaf9e05eae95dc9"
#define K1_R  "39f7849d74b974af13bdf2a8b3505d9a7eca724bd7e7b714ed90fe3c05924694"
#define K1_S  "4b0c53d6d8c7b754389cb6809a1cefd7f39331443d85e4f7ba561c2b68741e3f"
#define ZERO32 "0000000000000000000000000000000000000000000000000000000000000000"
#define HZERO_SIG "30460221009670835f2c93659928c275a6f8ff9d007244f9ed3e5583843206b8fa37618e4f022100b0b30dae4c319ea962b7d97d3d3ee3f9665eefaf69d079ebaa855b351f75d157"
/* Points on the curve with x = 0, and with y = p - 1 (see the header). */
#define X0_Q "04000000000000000000000000000000000000000000000000000000000000000066485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4"
#define YP1_Q "046916fac45e568b6b9e2e2ecd611b282e5fcc40a3067d601057f879ce5a8a73ccffffffff00000001000000000000000000000000fffffffffffffffffffffffe"
#define XBIG_Q "04bf30ca7d75aab6edda16e0f57173464cc98446d4ab2f40fe327b8e11fad35d3c2b472a9bfb4b67e96c44d74ef96f13b4a858b12aa882e079074e73241e081d9c"
#define XBIG_H "5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed5eed"
#define S_1111 "1111111111111111111111111111111111111111111111111111111111111111"
/* DER INTEGER pieces. */
#define INT32(v) "0220" v
#define INT33(v) "022100" v

/* Where p256_vrfy_asn1 is BearSSL's (no __int128: armhf), it shares BearSSL's
 * answer to r = 0 over a hash that is 0 mod n (see p256.h). */
#ifdef __SIZEOF_INT128__
#define R0_OURS 0
#else
#define R0_OURS 1
#endif

struct edge {
	const char *name;
	const char *q, *hash, *sig;
	int curve;              /* 0: BR_EC_secp256r1 */
	int ours, bearssl;      /* the expected answers */
};

static const struct edge edges[] = {
	/* Out of range r and s. */
	{ "r-zero", K1_Q, K1_H, "3025020100" INT32(K1_S), 0, 0, 0 },
	{ "s-zero", K1_Q, K1_H, "3025" INT32(K1_R) "020100", 0, 0, 0 },
	{ "r-n", K1_Q, K1_H, "3045" INT33(N_HEX) INT32(K1_S), 0, 0, 0 },
	{ "s-n", K1_Q, K1_H, "3045" INT32(K1_R) INT33(N_HEX), 0, 0, 0 },
	{ "r-over-32-bytes", K1_Q, K1_H, "3045" "022101" K1_R INT32(K1_S), 0, 0, 0 },
	/* Keys. */
	{ "key-not-on-curve", "04edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e4",
	    K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-x-is-p", "04ffffffff00000001000000000000000000000000ffffffffffffffffffffffff66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4",
	    K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-x-zero", X0_Q, K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-y-over-n", YP1_Q, "124b9cfee3d734644329e3d51e21674448bb8ef7d8a0a8bb9bb0646a385cc78a",
	    "304502205adbda3e15b5bdca11c69716218062a740d92372f957cd3fd9c5a7ee8820aed1022100d915115fcfa88bb099cf45f1061a0cbc91529e6842d31d0f447a2646ac68a12c",
	    0, 1, 1 },
	{ "key-y-is-p-plus-1", "046916fac45e568b6b9e2e2ecd611b282e5fcc40a3067d601057f879ce5a8a73ccffffffff00000001000000000000000000000001000000000000000000000000",
	    "124b9cfee3d734644329e3d51e21674448bb8ef7d8a0a8bb9bb0646a385cc78a",
	    "304502205adbda3e15b5bdca11c69716218062a740d92372f957cd3fd9c5a7ee8820aed1022100d915115fcfa88bb099cf45f1061a0cbc91529e6842d31d0f447a2646ac68a12c",
	    0, 0, 0 },
	{ "key-compressed", "02edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b",
	    K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-64-bytes", "edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3",
	    K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-66-bytes", K1_Q "00", K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	{ "key-prefix-06", "06edc6c73dfc8cd4cb04ace38172770816f2487131013381c5808d668e4184b03b8cb81faefc87e6849ee9ed26941ab0ae6203b7de89ffbd8b3d8bb67ec88029e3",
	    K1_H, "3044" INT32(K1_R) INT32(K1_S), 0, 0, 0 },
	/* The sum's special cases. */
	{ "sum-doubling", G_HEX, "471c3e758c4904285bba7e53118ed0f524adeb0757d25bd2f8e7b0d76dfa714c",
	    "30440220471c3e758c4904285bba7e53118ed0f524adeb0757d25bd2f8e7b0d76dfa714c02201ab01dd8c7986e701d9b3e8309260983824fbc63a2a8153dc7b0b661def5a045",
	    0, 1, 1 },
	{ "sum-infinity", G_HEX, "dddddddcdddddddedddddddddddddddd9ac4d88b84f57c62d197a8a0da41032f",
	    "30260220222222222222222222222222222222222222222222222222222222222222222202023333",
	    0, 0, 0 },
	{ "x-over-n", XBIG_Q, XBIG_H, "3025020103" INT32(S_1111), 0, 1, 1 },
	{ "x-over-n-r-unreduced", XBIG_Q, XBIG_H,
	    "3045" INT33("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632554") INT32(S_1111),
	    0, 0, 0 },
	{ "x-over-n-wrong-r", XBIG_Q, XBIG_H, "3025020104" INT32(S_1111), 0, 0, 0 },
	/* Hashes that are 0 mod n: BearSSL 0.6 cannot verify these (see p256.h). */
	{ "hash-zero", G_HEX, ZERO32, HZERO_SIG, 0, 0, 0 },
	{ "hash-n", G_HEX, N_HEX, HZERO_SIG, 0, 0, 0 },
	{ "hash-empty", G_HEX, "", HZERO_SIG, 0, 0, 0 },
	{ "hash-zero-r-zero", K1_Q, ZERO32, "3006020100020101", 0, R0_OURS, 1 },  /* the one difference */
	{ "hash-empty-r-zero", K1_Q, "", "3006020100020101", 0, R0_OURS, 1 },
	/* DER as BearSSL reads it: leading zeros allowed, 144 bytes at most. */
	{ "der-padded", K1_Q, K1_H, "3046022200" "00" K1_R INT32(K1_S), 0, 1, 1 },
	{ "der-144-bytes", K1_Q, K1_H,
	    "30818d" "0269" /* 73 zero bytes, then r */
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "000000000000000000"
	    K1_R INT32(K1_S), 0, 1, 1 },
	{ "der-145-bytes", K1_Q, K1_H,
	    "30818e" "026a" /* 74 zero bytes, then r */
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "0000000000000000000000000000000000000000000000000000000000000000"
	    "00000000000000000000"
	    K1_R INT32(K1_S), 0, 0, 0 },
	{ "der-raw-not-der", K1_Q, K1_H, K1_R K1_S, 0, 0, 0 },
	{ "der-empty", K1_Q, K1_H, "", 0, 0, 0 },
	{ "der-trailing-byte", K1_Q, K1_H, "3044" INT32(K1_R) INT32(K1_S) "00", 0, 0, 0 },
	/* Another curve is BearSSL's business (made as the openssl rows, secp384r1). */
	{ "p384-delegated",
	    "0418f1e001bc27c1cc087ab13e81e4ae600e6c1bcd7b07ce64df3ae3be0853a725922f9dc7efe3241e66d83b7ece4664ee6ba704ff26d878d241cd70b10f19a1c78e031c4f711e3281a503c8e9a85965ee799e99276489a12fc28366dbe893d27c",
	    "fb236cab2e46153f55ed09d0f6adb6472d233da11c906acd74e51569b62d251ac6e0cb8045ddb2bb8c775ea7ca5921f8",
	    "3065023100d4f587f56c349029fc218244a1dd9727f8eac3153ac9b6b589c58c7a2912525933691254af13256f62881b07f2de3e3c02302ff6f75f51f7595c180c509b75eca29e3051ff917e71d5c4013953019f133d59c764e376be23eb110778c99a7e2bccef",
	    BR_EC_secp384r1, 1, 1 },
};

#define NE (sizeof edges / sizeof edges[0])

struct input {
	unsigned char q[97], hash[64], sig[160];
	size_t qlen, hlen, slen;
};

static size_t
unhex(unsigned char *out, size_t cap, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (n > cap || strlen(hex) % 2 != 0) {
		printf("#   test table: hex too long or odd: %s\n", hex);
		abort();
	}
	for (size_t i = 0; i < n; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };
		out[i] = (unsigned char)strtoul(b, NULL, 16);
	}
	return n;
}

static void
load(struct input *in, const char *q, const char *hash, const char *sig)
{
	in->qlen = unhex(in->q, sizeof in->q, q);
	in->hlen = unhex(in->hash, sizeof in->hash, hash);
	in->slen = unhex(in->sig, sizeof in->sig, sig);
}

/* Our answer and BearSSL's, for impl, on curve. */
static void
both(const br_ec_impl *impl, int curve, const struct input *in, uint32_t *ours, uint32_t *theirs)
{
	br_ec_public_key pk = { curve, (unsigned char *)in->q, in->qlen };

	*ours = p256_vrfy_asn1(impl, in->hash, in->hlen, &pk, in->sig, in->slen);
	*theirs = br_ecdsa_i31_vrfy_asn1(impl, in->hash, in->hlen, &pk, in->sig, in->slen);
}

/* Checks that both answer want (BearSSL's answer is the oracle); the rest of the
 * arguments name the input, printf-style. */
static void __attribute__((format(printf, 3, 4)))
agree(const struct input *in, uint32_t want, const char *fmt, ...)
{
	char label[160];
	uint32_t o, t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(label, sizeof label, fmt, ap);
	va_end(ap);
	both(IMPL, BR_EC_secp256r1, in, &o, &t);
	CHECKF(o == want && t == want, "%s: ours %u, BearSSL %u, want %u", label, o, t, want);
}

static void
test_openssl(void)
{
	struct input in;

	for (size_t i = 0; i < NV; i++) {
		load(&in, openssl_vecs[i].q, openssl_vecs[i].hash, openssl_vecs[i].sig);
		agree(&in, 1, "%s", openssl_vecs[i].name);
	}
}

/*
 * Each byte of the signature, the hash and the key with one bit flipped (bit i % 8
 * of byte i). Every such input is refused, but a flip in a hash byte past the 32nd:
 * bits2int reads only the leftmost 256 bits, so the signature still holds.
 */
static void
test_bit_flips(void)
{
	struct input in;

	for (size_t v = 0; v < NV; v++) {
		const struct vec *t = &openssl_vecs[v];

		load(&in, t->q, t->hash, t->sig);
		for (size_t i = 0; i < in.slen; i++) {
			in.sig[i] ^= (unsigned char)(1u << (i % 8));
			agree(&in, 0, "%s: signature byte %zu", t->name, i);
			in.sig[i] ^= (unsigned char)(1u << (i % 8));
		}
		for (size_t i = 0; i < in.hlen; i++) {
			in.hash[i] ^= (unsigned char)(1u << (i % 8));
			agree(&in, i >= 32, "%s: hash byte %zu", t->name, i);
			in.hash[i] ^= (unsigned char)(1u << (i % 8));
		}
		for (size_t i = 0; i < in.qlen; i++) {
			in.q[i] ^= (unsigned char)(1u << (i % 8));
			agree(&in, 0, "%s: key byte %zu", t->name, i);
			in.q[i] ^= (unsigned char)(1u << (i % 8));
		}
		agree(&in, 1, "%s: restored", t->name);
	}
}

/* The edge table, under the TLS engine's implementation and under the generic
 * br_ec_prime_i31 (BearSSL's other P-256 code, whose corner cases differ). */
static void
test_edges(void)
{
	struct input in;

	for (size_t i = 0; i < NE; i++) {
		const struct edge *e = &edges[i];
		int curve = e->curve != 0 ? e->curve : BR_EC_secp256r1;
		uint32_t o, t;

		load(&in, e->q, e->hash, e->sig);
		both(IMPL, curve, &in, &o, &t);
		CHECKF(o == (uint32_t)e->ours && t == (uint32_t)e->bearssl,
		    "%s: ours %u (want %d), BearSSL %u (want %d)", e->name, o, e->ours, t,
		    e->bearssl);
		both(&br_ec_prime_i31, curve, &in, &o, &t);
		CHECKF(o == (uint32_t)e->ours, "%s, prime_i31: ours %u, want %d", e->name, o,
		    e->ours);
		if (e->ours == e->bearssl)
			CHECKF(t == o, "%s, prime_i31: BearSSL %u, ours %u", e->name, t, o);
	}
}

/* An implementation without P-256 makes both refuse even a good signature. */
static void
test_impl_without_p256(void)
{
	struct input in;
	uint32_t o, t;

	load(&in, openssl_vecs[0].q, openssl_vecs[0].hash, openssl_vecs[0].sig);
	both(&br_ec_c25519_i31, BR_EC_secp256r1, &in, &o, &t);
	CHECKF(o == 0 && t == 0, "ours %u, BearSSL %u", o, t);
	both(&br_ec_p256_m31, BR_EC_secp256r1, &in, &o, &t);
	CHECKF(o == 1 && t == 1, "p256_m31: ours %u, BearSSL %u", o, t);
}

/*
 * Keys from br_ec_keygen and signatures from br_ecdsa_i31_sign_asn1 (RFC 6979
 * nonces), over hashes of 20 to 64 bytes from a seeded DRBG; each verifies, and
 * the same signature over the hash with one bit changed does not (but past the
 * 32nd byte, which bits2int does not read).
 */
static void
test_bearssl_signed(void)
{
	static const br_hash_class *const hfs[] = { &br_sha1_vtable, &br_sha224_vtable,
		&br_sha256_vtable, &br_sha384_vtable, &br_sha512_vtable };
	br_hmac_drbg_context rng;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "test_p256", 9);
	for (int i = 0; i < 40; i++) {
		unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_private_key sk;
		br_ec_public_key pk;
		struct input in;
		const br_hash_class *hf = hfs[i % 5];

		CHECK(br_ec_keygen(&rng.vtable, IMPL, &sk, kbuf, BR_EC_secp256r1) == 32);
		CHECK(br_ec_compute_pub(IMPL, &pk, pbuf, &sk) == 65);
		memcpy(in.q, pk.q, pk.qlen);
		in.qlen = pk.qlen;
		/* The signer takes the hash's length from hf, and derives its nonce
		 * with HMAC over hf (RFC 6979); the hash itself is random here. */
		in.hlen = (hf->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
		br_hmac_drbg_generate(&rng, in.hash, in.hlen);
		in.slen = br_ecdsa_i31_sign_asn1(IMPL, hf, in.hash, &sk, in.sig);
		CHECK(in.slen > 0);
		agree(&in, 1, "key %d", i);
		in.hash[i % in.hlen] ^= 0x80;
		agree(&in, i % in.hlen >= 32, "key %d, hash changed", i);
	}
}


/* -------------------------------------------------------------- ECDH ----- */

#define P256 BR_EC_secp256r1
#define EC (&tls_ec)    /* the engine's: p256_ec on P-256 where there is __int128 */

/* out = k mod n, 32 bytes big-endian, for k of any length: bit by bit, r = 2r + bit
 * then r - n when r >= n (r < n < 2^256 before, so 2r + 1 fits in 33 bytes). */
static void
mod_n(unsigned char out[32], const unsigned char *k, size_t klen)
{
	unsigned char n[33] = { 0 }, r[33] = { 0 };

	unhex(n + 1, 32, N_HEX);
	for (size_t i = 0; i < 8 * klen; i++) {
		int c = (k[i / 8] >> (7 - i % 8)) & 1, d;

		for (int j = 32; j >= 0; j--) {
			d = 2 * r[j] + c;
			r[j] = (unsigned char)d;
			c = d >> 8;
		}
		if (memcmp(r, n, 33) >= 0)
			for (int j = 32, b = 0; j >= 0; j--) {
				d = r[j] - n[j] - b;
				r[j] = (unsigned char)d;
				b = d < 0;
			}
	}
	memcpy(out, r + 1, 32);
}

/* 1 if k (big-endian, any length) is below n. */
static int
below_n(const unsigned char *k, size_t klen)
{
	unsigned char kn[32], pad[32] = { 0 };

	for (; klen > 32; k++, klen--)
		if (*k != 0)
			return 0;
	memcpy(pad + 32 - klen, k, klen);
	mod_n(kn, pad, 32);
	return memcmp(kn, pad, 32) == 0;
}

/*
 * mul(q, k) and mulgen(k) by EC, against br_ec_p256_m31 on k mod n (which it gets
 * right: its additions fail only on sums its windows reach with k >= n), and on k
 * itself when same_raw; label names the case. q is a valid point.
 */
static void __attribute__((format(printf, 5, 6)))
ecdh_agree(const unsigned char q[65], const unsigned char *k, size_t klen, int same_raw,
    const char *fmt, ...)
{
	unsigned char kn[32], a[65], b[65], c[65];
	char label[160];
	uint32_t ra, rb, rc;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(label, sizeof label, fmt, ap);
	va_end(ap);
	mod_n(kn, k, klen);
	memcpy(a, q, 65);
	memcpy(b, q, 65);
	memcpy(c, q, 65);
	ra = EC->mul(a, 65, k, klen, P256);
	rb = br_ec_p256_m31.mul(b, 65, kn, 32, P256);
	rc = br_ec_p256_m31.mul(c, 65, k, klen, P256);
	CHECKF(ra == 1 && rb == 1 && memcmp(a, b, 65) == 0, "%s: mul %u, k mod n %u", label, ra, rb);
	if (same_raw)
		CHECKF(rc == 1 && memcmp(a, c, 65) == 0, "%s: mul, BearSSL on k", label);
	CHECKF(EC->mulgen(a, k, klen, P256) == 65 && br_ec_p256_m31.mulgen(b, kn, 32, P256) == 65 &&
	    memcmp(a, b, 65) == 0, "%s: mulgen", label);
	br_ec_p256_m31.mulgen(c, k, klen, P256);
	if (same_raw)
		CHECKF(memcmp(a, c, 65) == 0, "%s: mulgen, BearSSL on k", label);
}

/* 1 if the 65 bytes at got are the hex want. */
static int
eq_hex(const unsigned char got[65], const char *want)
{
	unsigned char w[65];

	return unhex(w, sizeof w, want) == 65 && memcmp(got, w, 65) == 0;
}

/* RFC 5903 8.1: both key shares and the shared secret, x and y. */
static void
test_ecdh_rfc5903(void)
{
	unsigned char i[32], r[32], gi[65], gr[65], p[65];

	unhex(i, 32, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433");
	unhex(r, 32, "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53");
	CHECK(EC->mulgen(gi, i, 32, P256) == 65);
	CHECKF(eq_hex(gi, "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3"), "g^i");
	CHECK(EC->mulgen(gr, r, 32, P256) == 65);
	CHECKF(eq_hex(gr, "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"), "g^r");
	memcpy(p, gr, 65);
	CHECK(EC->mul(p, 65, i, 32, P256) == 1);
	CHECKF(eq_hex(p, "04d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"
	    "522bde0af0d8585b8def9c183b5ae38f50235206a8674ecb5d98edb20eb153a2"), "g^ir");
	memcpy(p, gi, 65);
	CHECK(EC->mul(p, 65, r, 32, P256) == 1);
	CHECKF(eq_hex(p, "04d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"
	    "522bde0af0d8585b8def9c183b5ae38f50235206a8674ecb5d98edb20eb153a2"), "g^ri");
}

/* Random points (BearSSL's key shares) and scalars: 32 bytes as the engine draws
 * them (top bit clear), 32 bytes of any value, and 0 to 40 bytes. */
static void
test_ecdh_random(void)
{
	br_hmac_drbg_context rng;

	br_hmac_drbg_init(&rng, &br_sha256_vtable, "ecdh", 4);
	for (int i = 0; i < 120; i++) {
		unsigned char d[32], q[65], k[40];
		size_t klen = i % 3 == 2 ? (size_t)(i * 7 % 41) : 32;

		br_hmac_drbg_generate(&rng, d, sizeof d);
		d[0] &= 0x7f;
		d[31] |= 1;
		CHECK(br_ec_p256_m31.mulgen(q, d, 32, P256) == 65);
		br_hmac_drbg_generate(&rng, k, klen);
		if (i % 3 == 0)
			k[0] &= 0x7f;
		ecdh_agree(q, k, klen, below_n(k, klen), "random %d (klen %zu)", i, klen);
	}
}

/*
 * Edge scalars on edge points. n + 6 is where br_ec_p256_m31 is wrong: its last
 * window adds 3P to (n + 3) P = 3P, a doubling its addition cannot do, and it gives
 * infinity; ours gives 6P, as BearSSL does for 6 (k mod n).
 */
static void
test_ecdh_edge_scalars(void)
{
	static const struct {
		const char *k;
		int same_raw;           /* br_ec_p256_m31 right on k itself */
	} ks[] = {
		{ "", 1 }, { "00", 1 }, { ZERO32, 1 }, { "01", 1 }, { "0000000001", 1 },
		{ "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550", 1 },
		{ N_HEX, 1 },
		{ "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632552", 1 },
		{ "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632557", 0 },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1 },
		{ "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1 },
		{ "0000" N_HEX, 1 },
		{ "01" N_HEX, 1 },
		{ "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 1 },
	};
	static const char *const qs[] = { G_HEX, K1_Q, X0_Q, YP1_Q, XBIG_Q };
	unsigned char q[65], k[40], g[65], inf[65] = { 0x04 };

	for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
		unhex(q, sizeof q, qs[j]);
		for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
			size_t klen = unhex(k, sizeof k, ks[i].k);

			ecdh_agree(q, k, klen, ks[i].same_raw, "point %zu, k %s", j, ks[i].k);
		}
	}
	/* Infinity is 0x04 and 64 zeros, with 1 (mul) and 65 (mulgen). */
	unhex(q, sizeof q, G_HEX);
	unhex(k, sizeof k, N_HEX);
	CHECK(EC->mulgen(g, k, 32, P256) == 65 && memcmp(g, inf, 65) == 0);
	CHECK(EC->mul(q, 65, k, 0, P256) == 1 && memcmp(q, inf, 65) == 0);
	/* BearSSL's n + 6, as described above. */
	unhex(q, sizeof q, G_HEX);
	unhex(k, sizeof k, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632557");
	CHECK(br_ec_p256_m31.mul(q, 65, k, 32, P256) == 1 && memcmp(q, inf, 65) == 0);
	unhex(q, sizeof q, G_HEX);
	CHECK(EC->mul(q, 65, k, 32, P256) == 1);
	CHECKF(eq_hex(q, "04b01a172a76a4602c92d3242cb897dde3024c740debb215b4c6b0aae93c2291a9"
	    "e85c10743237dad56fec0e2dfba703791c00f7701c7e16bdfd7c48538fc77fe2"), "6G");
}

/* Points mul refuses as br_ec_p256_m31 does, with 0 and the buffer untouched: bad
 * lengths, prefixes other than 0x04 (compressed, hybrid), coordinates not below p
 * (p itself, or the x = 0 and y = p - 1 points written with p added), points off
 * the curve, and infinity's own encoding. */
static void
test_ecdh_refused(void)
{
	static const struct {
		const char *q;
		size_t len;             /* 0: the hex's length */
	} bad[] = {
		{ G_HEX, 64 }, { G_HEX "00", 66 }, { G_HEX, 1 }, { "", 0 },
		{ "02" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296", 0 },
		{ "06" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		  "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5", 0 },
		{ "00" "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		  "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5", 0 },
		{ "04ffffffff00000001000000000000000000000000ffffffffffffffffffffffff"
		  "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4", 0 },
		{ "046916fac45e568b6b9e2e2ecd611b282e5fcc40a3067d601057f879ce5a8a73cc"
		  "ffffffff00000001000000000000000000000001000000000000000000000000", 0 },
		{ "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		  "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff", 0 },
		{ "046b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
		  "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f4", 0 },
		{ "04" ZERO32 ZERO32, 0 },
	};
	unsigned char q[80], before[80], theirs[80], k[32] = { 0x5a, 0x17 };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t len = unhex(q, sizeof q, bad[i].q);
		uint32_t r1, r2;

		if (bad[i].len != 0)
			len = bad[i].len;
		memcpy(before, q, sizeof q);
		memcpy(theirs, q, sizeof q);
		r1 = EC->mul(q, len, k, sizeof k, P256);
		r2 = br_ec_p256_m31.mul(theirs, len, k, sizeof k, P256);
		CHECKF(r1 == 0 && r2 == 0, "bad point %zu: ours %u, BearSSL %u", i, r1, r2);
		CHECKF(memcmp(q, before, sizeof q) == 0, "bad point %zu: buffer written", i);
	}
}

/* The rest of the br_ec_impl: constants as br_ec_p256_m31's, and muladd 0 (p256.h). */
static void
test_ecdh_impl(void)
{
	const unsigned char *a, *b;
	size_t la, lb;
	unsigned char q[65], x[1] = { 1 };

	a = EC->generator(P256, &la);
	b = br_ec_p256_m31.generator(P256, &lb);
	CHECK(la == 65 && lb == 65 && memcmp(a, b, 65) == 0);
	a = EC->order(P256, &la);
	b = br_ec_p256_m31.order(P256, &lb);
	CHECK(la == 32 && lb == 32 && memcmp(a, b, 32) == 0);
	CHECK(EC->xoff(P256, &la) == 1 && br_ec_p256_m31.xoff(P256, &lb) == 1 && la == 32 && lb == 32);
#ifdef __SIZEOF_INT128__
	CHECK(p256_ec.supported_curves == (uint32_t)1 << P256);
	unhex(q, sizeof q, G_HEX);
	CHECK(p256_ec.muladd(q, NULL, 65, x, 1, x, 1, P256) == 0);
	CHECK(EC->muladd(q, NULL, 65, x, 1, x, 1, P256) == 0);
#endif
	(void)q, (void)x;
}

static const struct check_case cases[] = {
	{ "openssl", test_openssl },
	{ "bit-flips", test_bit_flips },
	{ "edges", test_edges },
	{ "impl-without-p256", test_impl_without_p256 },
	{ "bearssl-signed", test_bearssl_signed },
	{ "ecdh-rfc5903", test_ecdh_rfc5903 },
	{ "ecdh-random", test_ecdh_random },
	{ "ecdh-edge-scalars", test_ecdh_edge_scalars },
	{ "ecdh-refused", test_ecdh_refused },
	{ "ecdh-impl", test_ecdh_impl },
};

CHECK_MAIN(cases)
