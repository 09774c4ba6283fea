/*
 * x509: the fields of X.509 certificates that anontel reads itself, with a bounded
 * DER walker: validity, subject, SubjectPublicKeyInfo and its key, Basic
 * Constraints, Extended Key Usage and the iPAddress names of subjectAltName.
 * BearSSL's minimal engine validates the chain and matches DNS names; what it
 * does not do (EKU, IP addresses, the leaf's key size under direct trust and pins,
 * CA-file anchors without its decoder's cost) is judged here. Pure functions over
 * caller-owned bytes: no I/O, no allocation.
 */
#ifndef ANONTEL_X509_H
#define ANONTEL_X509_H

#include <stddef.h>
#include <stdint.h>

#include "bearssl.h"

/* A bounded view of DER bytes. */
struct x509_der {
	const unsigned char *p;
	size_t n;
};

/*
 * Reads one TLV from the front of d (tags below 31, definite lengths under 16 MiB).
 * The content must lie within d, except with `partial`, where it is cut to what d
 * holds (for the outer SEQUENCEs of a certificate of which only the head is kept).
 * *whole (may be NULL) is the TLV with its header. Returns 0, or -1.
 */
int x509_der_next(struct x509_der *d, unsigned *tag, struct x509_der *content,
    struct x509_der *whole, int partial);

/* x509_der_next, and the tag must be `want`. */
int x509_der_expect(struct x509_der *d, unsigned want, struct x509_der *content,
    struct x509_der *whole, int partial);

/* What x509_cert_parse finds in a certificate. */
struct x509_cert {
	int have_validity;                   /* the times below decoded (UTCTime or
	                                      * GeneralizedTime, the DER forms) */
	int64_t not_before, not_after;       /* Unix seconds */
	struct x509_der subject;             /* the Name TLV */
	struct x509_der spki;                /* the SubjectPublicKeyInfo TLV */
	struct x509_der rest;                /* tbsCertificate after the SPKI (unique IDs,
	                                      * [3] extensions): empty when cut off */
};

/*
 * Walks Certificate -> tbsCertificate to the SubjectPublicKeyInfo, which must be
 * complete in the n bytes given; with `partial` the certificate may be cut after
 * it (rest is then what is there). Returns 0, or -1 when it does not decode.
 */
int x509_cert_parse(const unsigned char *cert, size_t n, int partial, struct x509_cert *c);

/* Reads a SubjectPublicKeyInfo TLV (x509_cert.spki) into k (pointing into the DER). Returns 0, -1 bad
 * DER, -2 a key type or curve BearSSL does not do (RSA, EC P-256/384/521 only). */
int x509_spki_key(struct x509_der spki, br_x509_pkey *k);

/* The size of an RSA key's modulus in bits (k->key_type must be RSA). */
unsigned x509_rsa_bits(const br_x509_pkey *k);

/* Whether the extensions (c->rest) assert cA in Basic Constraints: 1 yes, 0 no, -1
 * when Basic Constraints appears twice (RFC 5280 4.2: decoders disagree on which
 * counts, so the certificate is refused rather than guessed at). */
int x509_is_ca(const struct x509_cert *c);

enum x509_eku {
	X509_EKU_ABSENT,          /* no Extended Key Usage: any use */
	X509_EKU_SERVER,          /* lists serverAuth or anyExtendedKeyUsage */
	X509_EKU_NOT_SERVER,      /* lists neither: not for a TLS server */
	X509_EKU_BAD              /* malformed, or the extension twice */
};

/* Judges the Extended Key Usage of c (RFC 5280 4.2.1.12) for a TLS server. */
enum x509_eku x509_eku(const struct x509_cert *c);

/*
 * Matches an IP address (4 or 16 bytes, network order) against the iPAddress
 * entries of c's subjectAltName (RFC 5280 4.2.1.6): 1 when one is equal, 0 when
 * none (or no SAN: an IP endpoint never matches a CN or a dNSName), -1 when the
 * extension is malformed or appears twice.
 */
int x509_san_ip_match(const struct x509_cert *c, const unsigned char *ip, size_t len);

#endif
