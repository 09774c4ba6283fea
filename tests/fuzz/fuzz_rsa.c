/*
 * fuzz_rsa: our RSA public-key operation (src/rsa.c) against BearSSL's
 * br_rsa_i62_public, which the engine used before, differentially, on moduli,
 * exponents and operands taken from the input; and rsa_pkcs1_vrfy against
 * br_rsa_i62_pkcs1_vrfy on the same key with the operand as the signature.
 *
 * Input: byte 0 holds flags; bytes 1-2 (big-endian) n's length, taken mod 520
 * (so lengths over 512 bytes, refused by both, come up too); then n, then x (as
 * long as n unless flag 0x04), then e (the rest of the input, up to 64 bytes).
 *  0x01  n's last byte made odd (most keys are then valid)
 *  0x02  one leading zero byte put before n and one before e (both skipped)
 *  0x04  x one byte shorter than n (both must refuse it, and leave x alone)
 *  0x08  e replaced by 65537, 0x10 by 3 (the exponents of real keys)
 *  0x20  n's top byte made non-zero
 *  0x40  x's top byte cleared (then x is below n more often)
 * An input read past its end gives zeros.
 *
 * Invariants, beyond ASan/UBSan cleanliness:
 *  - rsa_public and br_rsa_i62_public return the same code, and the same bytes
 *    when it is 1; when xlen is not n's length (without its leading zeros), 0 is
 *    returned and x is left as it was;
 *  - rsa_pkcs1_vrfy and br_rsa_i62_pkcs1_vrfy (SHA-256's OID) return the same
 *    code, and the same hash when it is 1; the signature is not written.
 */
#include "fuzz_util.h"

#include <bearssl.h>

#include "rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char E65537[] = { 0, 1, 0, 1 }, E3[] = { 0, 3 };
	static const unsigned char sha256_oid[] = { 9, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
		0x04, 0x02, 0x01 };
	unsigned char n[1 + 520], e[1 + 64], x[520], a[520], b[520], ha[32], hb[32];
	struct fz_cursor c = { data, size, 0 };
	uint8_t flags = fz_take(&c), hi = fz_take(&c);
	size_t nlen = (size_t)(hi << 8 | fz_take(&c)) % 520, xlen, elen;
	size_t z = (flags & 0x02) != 0;
	br_rsa_public_key pk;

	if (nlen == 0)
		return 0;
	n[0] = 0;
	e[0] = 0;
	fz_take_n(&c, n + 1, nlen);
	if (flags & 0x01)
		n[nlen] |= 1;
	if ((flags & 0x20) && n[1] == 0)
		n[1] = 1;
	xlen = nlen - ((flags & 0x04) != 0);
	fz_take_n(&c, x, xlen);
	if (flags & 0x40)
		x[0] = 0;
	elen = c.off < c.n ? c.n - c.off : 0;
	if (elen > 64)
		elen = 64;              /* longer ones only slow the run: the bit loop is the same */
	fz_take_n(&c, e + 1, elen);
	pk.n = n + 1 - z;
	pk.nlen = nlen + z;
	pk.e = e + 1 - z;
	pk.elen = elen + z;
	if (flags & 0x18) {
		const unsigned char *fe = (flags & 0x08) ? E65537 : E3;

		pk.e = (unsigned char *)(uintptr_t)(fe + 1 - z);
		pk.elen = ((flags & 0x08) ? sizeof E65537 : sizeof E3) - 1 + z;
	}

	memcpy(a, x, xlen);
	memcpy(b, x, xlen);
	uint32_t ra = rsa_public(a, xlen, &pk), rb = br_rsa_i62_public(b, xlen, &pk);

	FUZZ_CHECK(ra == rb, "nlen %zu elen %zu xlen %zu: ours %u, i62 %u", nlen, pk.elen,
	    xlen, ra, rb);
	if (ra == 1)
		FUZZ_CHECK(memcmp(a, b, xlen) == 0, "nlen %zu elen %zu: results differ", nlen,
		    pk.elen);
	size_t real = nlen;                     /* n's length without leading zeros */

	for (const unsigned char *p = n + 1; real > 0 && *p == 0; p++)
		real--;
	if (xlen != real)
		FUZZ_CHECK(ra == 0 && memcmp(a, x, xlen) == 0, "x written on a wrong length");

	memcpy(a, x, xlen);
	memset(ha, 0, sizeof ha);
	memset(hb, 0, sizeof hb);
	ra = rsa_pkcs1_vrfy(a, xlen, sha256_oid, sizeof ha, &pk, ha);
	rb = br_rsa_i62_pkcs1_vrfy(x, xlen, sha256_oid, sizeof hb, &pk, hb);
	FUZZ_CHECK(ra == rb, "pkcs1: ours %u, i62 %u", ra, rb);
	FUZZ_CHECK(memcmp(a, x, xlen) == 0, "the signature was written");
	if (ra == 1)
		FUZZ_CHECK(memcmp(ha, hb, sizeof ha) == 0, "pkcs1: hashes differ");
	return 0;
}
