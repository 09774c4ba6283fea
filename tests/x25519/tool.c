/*
 * tool.c: drives x25519.h's tls_ec for tests/integration/test_x25519.py, which
 * compiles it with the host compiler against src/x25519.c and the host BearSSL.
 *
 *   tool mulgen K         prints tls_ec.mulgen(K) for Curve25519, as hex
 *   tool mul K U          prints tls_ec.mul(U, K), or "refused" when it returns 0
 *   tool ct               for valgrind's memcheck ("ctgrind"): the scalars of RFC 7748
 *                         6.1 marked undefined, mulgen and mul through tls_ec, the
 *                         results marked defined again and checked; exit 0 when right
 *   tool ct-control       the same, then one branch and one table lookup on a secret
 *                         bit in this file: memcheck must report them, which shows
 *                         that the marking works and that `ct` would see such code
 *
 * K and U are 32-byte hex strings (little-endian, as RFC 7748 writes them).
 */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "x25519.h"

#define C25519 BR_EC_curve25519

static int
unhex(unsigned char out[32], const char *hex)
{
	if (strlen(hex) != 64)
		return -1;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void
put(const unsigned char p[32])
{
	for (int i = 0; i < 32; i++)
		printf("%02x", p[i]);
	putchar('\n');
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
	volatile int sink = 0;
	int bad = 0;

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
	unhex(pb, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
	VALGRIND_MAKE_MEM_UNDEFINED(a, sizeof a);
	VALGRIND_MAKE_MEM_UNDEFINED(b, sizeof b);
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
	printf("%s\n", bad ? "wrong results" : "results right");
	return bad;
}

int
main(int argc, char **argv)
{
	unsigned char k[32], u[32];

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
	if (argc == 2 && strcmp(argv[1], "ct") == 0)
		return ct(0);
	if (argc == 2 && strcmp(argv[1], "ct-control") == 0)
		return ct(1);
	fprintf(stderr, "usage: tool mulgen K | mul K U | ct | ct-control\n");
	return 2;
}
