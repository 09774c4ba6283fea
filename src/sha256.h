/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), built in so that the
 * instance ID does not depend on the TLS library. Caller-owned contexts; no
 * allocation; key material is wiped from contexts when a digest is produced.
 */
#ifndef ANONTEL_SHA256_H
#define ANONTEL_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN   32
#define SHA256_BLOCK 64

struct sha256 {
	uint32_t h[8];
	uint64_t total;                 /* bytes hashed so far */
	unsigned char block[SHA256_BLOCK];
	size_t fill;                    /* bytes waiting in block */
};

/* Starts a new hash. */
void sha256_init(struct sha256 *c);

/* Hashes n more bytes of p (any split of the input gives the same digest). */
void sha256_update(struct sha256 *c, const void *p, size_t n);

/* Writes the 32-byte digest to out and wipes the context. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

/* out = SHA-256(p[0..n)). */
void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);

/* out = HMAC-SHA256(key, msg); keys longer than 64 bytes are hashed first. */
void hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len,
    unsigned char out[SHA256_LEN]);

/*
 * Incremental HMAC-SHA256, for a message given in pieces (any split gives the
 * same MAC as hmac_sha256 over the whole). The context holds the outer key pad:
 * hmac_sha256_final wipes it; a context abandoned before final must be wiped by
 * its owner.
 */
struct hmac_sha256 {
	struct sha256 inner;
	unsigned char opad[SHA256_BLOCK]; /* key XOR 0x5c */
};

void hmac_sha256_init(struct hmac_sha256 *h, const void *key, size_t key_len);
void hmac_sha256_update(struct hmac_sha256 *h, const void *p, size_t n);
void hmac_sha256_final(struct hmac_sha256 *h, unsigned char out[SHA256_LEN]);

#endif
