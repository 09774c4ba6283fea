/*
 * p256: NIST P-256 (FIPS 186-4 D.1.2.3) for the TLS engine, our own, with 64-bit
 * limbs and unsigned __int128 (BearSSL 0.6 has no 64-bit P-256 code):
 *  - ECDSA signature verification (FIPS 186-4 6.4.2), for the two verifications of
 *    a handshake with an ECDSA server (the chain's signature in BearSSL's X.509
 *    engine, and the ServerKeyExchange signature): about 1.5 M instructions each,
 *    where BearSSL's 31-bit code costs about 10 M. It handles only public values
 *    (hash, public key, signature), so it runs in variable time;
 *  - ECDHE on P-256 (p256_ec, which x25519.h's tls_ec routes P-256 to, keeping
 *    BearSSL's br_ec_p256_m31 out of the link): the key share and the shared
 *    secret, about 2.9 M instructions each where br_ec_p256_m31 costs 3.8 M (key
 *    share) and 5.6 M (secret), in constant time for the secret scalar: no branch
 *    or memory index depends on it, the point formulas are complete (the same
 *    operations for every pair of points), and the state is wiped when done.
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

#ifdef __SIZEOF_INT128__
/*
 * p256_ec: a br_ec_impl (bearssl_ec.h) for BR_EC_secp256r1 alone, with
 * br_ec_p256_m31's semantics (compilers without __int128 keep br_ec_p256_m31):
 *  - generator() is G, uncompressed (65 bytes); order() is n (32 bytes, big-endian);
 *    xoff() is 1, length 32;
 *  - mul(G, Glen, k, klen): returns 0 when G is not 0x04 || X || Y in 65 bytes with
 *    X, Y < p and the point on the curve (then G is left untouched; BearSSL's leaves
 *    unspecified bytes there when Glen > 65). Else G is replaced by k G, 0x04 || x
 *    || y, and 1 is returned. k is big-endian, of any length (klen 0 is k = 0),
 *    taken whole; when k G is the point at infinity (k = 0 mod n), G becomes 0x04
 *    and 64 zero bytes, as with br_ec_p256_m31. The time taken depends on klen
 *    alone.
 *  - mulgen(R, k, klen) writes k G to R[0..65) the same way and returns 65.
 *  - For every k below n the bytes are br_ec_p256_m31's. Above (which BearSSL's
 *    engine never passes: its scalars are below 2^255), ours is always k G (= (k mod
 *    n) G), while br_ec_p256_m31's incomplete addition can give infinity instead
 *    (mul with k = n + 6, for one).
 *  - muladd() returns 0: only BearSSL's ECDSA verification calls it
 *    (br_ecdsa_i31_vrfy_*), and on P-256 the engine and the X.509 engine verify with
 *    p256_vrfy_asn1, which never calls it; anything else that would verify a P-256
 *    signature through tls_ec fails closed.
 */
extern const br_ec_impl p256_ec;
#endif

#endif
