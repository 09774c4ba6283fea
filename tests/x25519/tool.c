/*
 * tool.c: drives x25519.h's tls_ec for tests/integration/test_x25519.py, which
 * compiles it with the host compiler against src/x25519.c, src/p256.c and the host
 * BearSSL.
 *
 *   tool mulgen K         prints tls_ec.mulgen(K) for Curve25519, as hex
 *   tool mul K U          prints tls_ec.mul(U, K), or "refused" when it returns 0
 *   tool p256-mulgen K    the same for P-256: K 32 bytes, big-endian; the point
 *   tool p256-mul K Q     printed (and Q given) as 65 bytes, 0x04 || X || Y
 *   tool ct               for valgrind's memcheck ("ctgrind"): the scalars of RFC 7748
 *                         6.1 and RFC 5903 8.1 marked undefined, mulgen and mul
 *                         through tls_ec on Curve25519 and P-256, the results marked
 *                         defined again and checked; exit 0 when right
 *   tool ct-control       the same, then one branch and one table lookup on a secret
 *                         bit in this file: memcheck must report them, which shows
 *                         that the marking works and that `ct` would see such code
 *
 * K and U are 32-byte hex strings (little-endian for Curve25519, as RFC 7748 writes
 * them).
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "x25519.h"

#define C25519 BR_EC_curve25519
#define P256 BR_EC_secp256r1

/* Exactly n bytes of hex into out: 0, or -1. */
static int
unhexn(unsigned char *out, size_t n, const char *hex)
{
	if (strlen(hex) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int
unhex(unsigned char out[32], const char *hex)
{
	return unhexn(out, 32, hex);
}

static void
putn(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static void
put(const unsigned char p[32])
{
	putn(p, 32);
}

/* Not inlined, so the control's branch stays a branch. */
static __attribute__((noinline)) int
odd(void)
{
	return 1;
}

static int
ct(int control)
{
	static const int table[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	unsigned char a[32], b[32], pa[32], pb[32], ka[32], kb[32], want[32];
	unsigned char i5903[32], gi[65], gr[65], gir[65], want65[65];
	volatile int sink = 0;
	int bad = 0;

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(pb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	unhexn(i5903, 32, "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433");
	unhexn(gr, 65, "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
	    "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab");
	VALGRIND_MAKE_MEM_UNDEFINED(a, sizeof a);
	VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof b);
	VALGRIND_MAKE_MEM_UNDEFINED(i5903, sizeof i5903);
	if (control) {
		if (a[3] & 1)
			sink += odd();
		sink += table[b[7] & 15];
	}
	tls_ec.mulgen(pa, a, sizeof a, C25519);           /* Alice's key share */
	VALGRIND_MAKE_MEM_DEFINED(pa, sizeof pa);          /* public */
	memcpy(ka, pb, sizeof ka);
	tls_ec.mul(ka, sizeof ka, a, sizeof a, C25519);   /* the secret, Alice's way */
	memcpy(kb, pa, sizeof kb);
	tls_ec.mul(kb, sizeof kb, b, sizeof b, C25519);   /* and Bob's */
	VALGRIND_MAKE_MEM_DEFINED(ka, sizeof ka);
	VALGRIND_MAKE_MEM_DEFINED(kb, sizeof kb);
	unhex(want, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
	bad |= memcmp(pa, want, 32) != 0;
	unhex(want, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
	bad |= memcmp(ka, want, 32) != 0 || memcmp(kb, want, 32) != 0;

	tls_ec.mulgen(gi, i5903, sizeof i5903, P256);     /* RFC 5903 8.1: g^i */
	memcpy(gir, gr, sizeof gir);
	bad |= tls_ec.mul(gir, sizeof gir, i5903, sizeof i5903, P256) != 1;   /* g^ir */
	VALGRIND_MAKE_MEM_DEFINED(gi, sizeof gi);
	VALGRIND_MAKE_MEM_DEFINED(gir, sizeof gir);
	unhexn(want65, 65, "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
	    "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3");
	bad |= memcmp(gi, want65, 65) != 0;
	unhexn(want65, 65, "04d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"
	    "522bde0af0d8585b8def9c183b5ae38f50235206a8674ecb5d98edb20eb153a2");
	bad |= memcmp(gir, want65, 65) != 0;
	printf("%s\n", bad ? "wrong results" : "results right");
	return bad;
}

int
main(int argc, char **argv)
{
	unsigned char k[32], u[32], q[65];

	if (argc == 3 && strcmp(argv[1], "mulgen") == 0 && unhex(k, argv[2]) == 0) {
		tls_ec.mulgen(u, k, sizeof k, C25519);
		put(u);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "mul") == 0 && unhex(k, argv[2]) == 0 &&
	    unhex(u, argv[3]) == 0) {
		if (tls_ec.mul(u, sizeof u, k, sizeof k, C25519) != 1)
			printf("refused\n");
		else
			put(u);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "p256-mulgen") == 0 && unhexn(k, 32, argv[2]) == 0) {
		tls_ec.mulgen(q, k, 32, P256);
		putn(q, 65);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "p256-mul") == 0 && unhexn(k, 32, argv[2]) == 0 &&
	    unhexn(q, 65, argv[3]) == 0) {
		if (tls_ec.mul(q, 65, k, 32, P256) != 1)
			printf("refused\n");
		else
			putn(q, 65);
		return 0;
	}
	if (argc == 2 && strcmp(argv[1], "ct") == 0)
		return ct(0);
	if (argc == 2 && strcmp(argv[1], "ct-control") == 0)
		return ct(1);
	fprintf(stderr, "usage: tool mulgen K | mul K U | p256-mulgen K | p256-mul K Q | ct | "
	    "ct-control\n");
	return 2;
}
