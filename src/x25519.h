/*
 * x25519: the elliptic-curve implementation the TLS engine uses (tls.c hands it to
 * br_ssl_engine_set_ec, and the X.509 engine gets it back for ECDSA checks).
 *
 * For Curve25519 (X25519 key exchange, RFC 7748) it is our own code on compilers
 * with unsigned __int128 (x86_64, aarch64, riscv64: five 51-bit limbs), about a
 * fifth of the instructions of BearSSL's br_ec_c25519_m31, which it then keeps out
 * of the link. P-256 goes to p256.h's p256_ec (our constant-time ECDH), which keeps
 * br_ec_p256_m31 out in the same way. Without __int128 (armhf) both curves stay
 * BearSSL's. P-384 and P-521 are BearSSL's br_ec_prime_i31, as br_ec_all_m31 routes
 * them.
 *
 * Our Curve25519 code runs in constant time for the scalar (a Montgomery ladder with
 * masked swaps, no branch or memory index that depends on it, inversion by a fixed
 * chain of squarings and multiplications), allocates nothing, and wipes its copy of
 * the scalar and the ladder's state from the stack when done.
 */
#ifndef ANONTEL_X25519_H
#define ANONTEL_X25519_H

#include "bearssl.h"

/*
 * tls_ec: a br_ec_impl (bearssl_ec.h) for BR_EC_secp256r1, BR_EC_secp384r1,
 * BR_EC_secp521r1 and BR_EC_curve25519 (supported_curves is br_ec_all_m31's). Each
 * call goes to the curve's implementation: p256_ec (whose semantics p256.h gives),
 * br_ec_prime_i31, or for Curve25519 ours, with br_ec_c25519_m31's semantics to the
 * byte:
 *  - points and scalars are 32 bytes, little-endian (RFC 7748); generator() is
 *    u = 9, order() is 2^255 - 1 (any 32-byte scalar is accepted), xoff() is 0/32;
 *  - mul(G, Glen, k, klen): returns 0 and leaves G untouched when Glen != 32 or
 *    klen > 32; else a shorter k is padded with zero high bytes, clamped (bits 0-2
 *    and 255 cleared, bit 254 set), the top bit of G ignored (a non-canonical u,
 *    p <= u < 2^255, is taken mod p), G replaced by the canonical u of k * G, and 1
 *    returned; except that tls_ec.mul returns 0 for an all-zero result (G of low
 *    order; G is left all zeros), with our code or BearSSL's: RFC 8422 5.11 requires
 *    the handshake to be aborted then, and BearSSL 0.6's engine aborts on a 0 from
 *    mul (br_ec_c25519_m31 itself returns 1 and the zeros);
 *  - mulgen(R, k, klen) writes k * 9 to R[0..32) and returns 32 (with klen > 32, R
 *    holds the generator itself, as BearSSL's does);
 *  - muladd() returns 0 (there is no ECDSA over Curve25519).
 */
extern const br_ec_impl tls_ec;

#endif
