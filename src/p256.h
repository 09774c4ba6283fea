/*
 * p256: ECDSA signature verification on NIST P-256 (FIPS 186-4 §6.4.2), our own,
 * for the two verifications of a TLS handshake with an ECDSA server (the chain's
 * signature in BearSSL's X.509 engine, and the ServerKeyExchange signature).
 * BearSSL 0.6 has no 64-bit P-256 code: its 31-bit one, the TLS engine's, costs
 * about 10 M instructions per verification; this one, with 64-bit limbs and
 * unsigned __int128, about 1.5 M.
 *
 * A verification handles only public values (hash, public key, signature), so it
 * runs in variable time. It never signs, and holds no secret.
 */
#ifndef ANONTEL_P256_H
#define ANONTEL_P256_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"

/*
 * A br_ecdsa_vrfy (bearssl_ec.h) for ASN.1 (DER) signatures, for
 * br_ssl_engine_set_ecdsa: 1 if sig is a valid signature of hash by pk, else 0.
 *
 * For pk->curve == BR_EC_secp256r1, on a compiler with unsigned __int128, it
 * verifies itself and answers as br_ecdsa_i31_vrfy_asn1 does: 0 when impl does
 * not support P-256; the DER parsed by br_ecdsa_asn1_to_raw (at most 144 bytes);
 * r and s in [1, n-1]; pk->q 65 bytes, 0x04 || X || Y, with X, Y < p and the point
 * on the curve; the hash read as BearSSL's bits2int does (its leftmost 32 bytes,
 * or a shorter hash whole, as a big-endian number) and reduced mod n; 0 when the
 * hash is 0 mod n (BearSSL 0.6 cannot verify that case); 0 when u1*G + u2*Q is
 * the point at infinity; 1 when x(R) mod n == r.
 *
 * One case differs, on purpose: BearSSL 0.6 accepts r = 0 with any valid key and
 * any s in [1, n-1] when the hash is 0 mod n (u1 = u2 = 0 then, and its muladd
 * encodes the point at infinity with x = 0 instead of failing); this function
 * refuses it (r = 0 is never a valid signature).
 *
 * Any other curve, or a compiler without __int128 (32-bit targets), gets
 * br_ecdsa_i31_vrfy_asn1's own answer.
 */
uint32_t p256_vrfy_asn1(const br_ec_impl *impl, const void *hash, size_t hash_len,
    const br_ec_public_key *pk, const void *sig, size_t sig_len);

#endif
