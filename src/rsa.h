/*
 * rsa: RSA public-key operation (signature verification) with 64-bit limbs and
 * unsigned __int128, for the TLS engine's rsavrfy, which BearSSL's X.509 engine
 * shares: the ServerKeyExchange signature of an ECDHE_RSA server and each RSA
 * signature of the chain. About 0.4 M instructions for RSA-2048 with e = 65537,
 * where BearSSL's br_rsa_i62_public costs 2 M (its exponentiation is written for
 * long private exponents, in constant time). Every input is public (key,
 * signature, hash), so it runs in variable time.
 */
#ifndef ANONTEL_RSA_H
#define ANONTEL_RSA_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"

#ifdef __SIZEOF_INT128__
/*
 * A br_rsa_public (bearssl_rsa.h) with br_rsa_i62_public's contract: x (xlen
 * bytes, big-endian) becomes x^e mod n, written back in place over xlen bytes, and
 * 1 is returned. Leading zero bytes of pk->n and pk->e are skipped. 0 is returned,
 * x untouched, when n is 0 or over 4096 bits (BearSSL's BR_MAX_RSA_SIZE), when
 * xlen is not n's length in bytes, when n is even, or when x >= n. An e of value
 * 0 gives 1 (for n = 1 too, as BearSSL writes it); x = 0 gives 0 for any other e.
 */
uint32_t rsa_public(unsigned char *x, size_t xlen, const br_rsa_public_key *pk);
#endif

/*
 * A br_rsa_pkcs1_vrfy (bearssl_rsa.h) for br_ssl_engine_set_rsavrfy: rsa_public
 * on a copy of the signature x, then BearSSL's PKCS#1 v1.5 unpadding
 * (br_rsa_pkcs1_sig_unpad), as br_rsa_i62_pkcs1_vrfy does with its own
 * br_rsa_i62_public: 1 with the hash in hash_out when x is a valid signature
 * under pk, else 0. On a compiler without __int128 (32-bit targets), BearSSL's
 * default (br_rsa_pkcs1_vrfy_get_default) answers.
 */
uint32_t rsa_pkcs1_vrfy(const unsigned char *x, size_t xlen, const unsigned char *hash_oid,
    size_t hash_len, const br_rsa_public_key *pk, unsigned char *hash_out);

#endif
