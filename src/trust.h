/*
 * trust: what a TLS connection trusts, and the loading of it. This module owns the
 * trust store: the Mozilla roots compiled into the binary (generated at build time
 * from Debian's ca-certificates by tools/mkroots.c), CA files loaded at run time
 * (tls.caFile / SSL_CERT_FILE: PEM framing and base64 decoded here, each certificate
 * read with x509.h's DER walker), pins (curl's sha256// form: SHA-256 of the server's
 * SubjectPublicKeyInfo, which accepts that key alone with no CA and no clock), the
 * choice among them, and the time certificates are checked at. It does no network
 * I/O and never looks at a server's certificate: tls.h applies a struct tls_trust
 * to a handshake. Caller-owned store; nothing is allocated.
 *
 * The functions keep the tls_ prefix they had when this lived in tls.c: client.c and
 * main.c call them by those names.
 */
#ifndef ANONTEL_TRUST_H
#define ANONTEL_TRUST_H

#include <stddef.h>
#include <time.h>

#include <bearssl.h>

#define TLS_CAFILE_MAX_ANCHORS 512
#define TLS_CAFILE_ARENA       (256 * 1024)   /* DN hash and key bytes of loaded anchors:
                                               * 512 of 512 bytes (Debian's 144 roots:
                                               * about 50 KiB) */
#define TLS_CERT_MAX           16384          /* largest certificate anontel reads, in a
                                               * CA file or from a server */

/* What the client trusts. Fill with tls_trust_builtin, tls_trust_file, tls_trust_pin or
 * tls_trust_insecure. */
struct tls_trust {
	const br_x509_trust_anchor *anchors;
	size_t n_anchors;
	int pinned;                          /* 1: only the key whose SPKI hash is pin */
	unsigned char pin[32];
	int insecure;                        /* 1: accept any certificate (check -k only) */
};

/* Storage for anchors loaded from a file; large: keep it static. */
struct tls_store {
	size_t used;                         /* bytes of arena taken */
	br_x509_trust_anchor anchors[TLS_CAFILE_MAX_ANCHORS];
	unsigned char arena[TLS_CAFILE_ARENA];
	unsigned char der[TLS_CERT_MAX];     /* scratch: the certificate being decoded */
};

/*
 * The DN hash for BearSSL's X.509 engine (br_x509_minimal_init's dn_hash_impl), which
 * matches a certificate's issuer to an anchor by the hashes of their DNs alone: the
 * first TRUST_DN_HASH_LEN bytes of a DN's SHA-256, except that a compiled-in anchor's
 * "DN" is TRUST_DN_DIGEST followed by those bytes of its real DN's SHA-256, which are
 * its hash as they stand. So the binary carries 17 bytes per root instead of its DN
 * (about 100), and the end of a chain hashes no root's DN; anchors loaded from a CA
 * file are stored in the same form, their DN hashed once at load. A DER DN starts with 0x30
 * (SEQUENCE), never 0xff, so the two inputs cannot pass for each other. Why 16 bytes
 * are enough: a DN match only picks the key a signature is then checked with (or, for
 * a certificate that is itself an anchor, is followed by a comparison of the whole
 * key), so two DNs hashing alike could make a chain fail, never pass; and 128 bits
 * make even that take a deliberate collision. Only init, update and out are given
 * (all the engine calls); desc gives the output length alone.
 */
#define TRUST_DN_DIGEST   0xff
#define TRUST_DN_HASH_LEN 16
extern const br_hash_class trust_dn_hash;

/* Trust the compiled-in roots. */
void tls_trust_builtin(struct tls_trust *t);

/* Number of compiled-in roots (for --version). */
size_t tls_builtin_count(void);

/* Loads every CERTIFICATE in a PEM file (at most 4 MiB; a regular file, opened as
 * file.h does, so a FIFO or device there is refused at once) into store and points t at
 * them. Other PEM objects are ignored. A certificate that asserts CA status is a CA
 * anchor; one that does not (a self-signed server certificate) is trusted directly,
 * by its key. Returns 0, or -1 with "FILE: ..." in err (unreadable, no certificate,
 * bad PEM, too many, a certificate that does not decode or has a key type BearSSL does
 * not support). */
int tls_trust_file(struct tls_trust *t, struct tls_store *store, const char *path, char *err,
    size_t errlen);

/* Parses "sha256//BASE64" (44 base64 characters of 32 bytes) into t.
 * Returns 0, or -1 with a reason. */
int tls_trust_pin(struct tls_trust *t, const char *pin, char *err, size_t errlen);

/* Accept any certificate chain and use the server's key as sent (check -k only). */
void tls_trust_insecure(struct tls_trust *t);

/* Picks the trust for a connection: the pin when pin is not NULL/"", else the CA
 * file when ca_file is not NULL/"", else the compiled-in roots. Returns 0, or -1
 * with err as tls_trust_pin / tls_trust_file. */
int tls_trust_choose(struct tls_trust *t, struct tls_store *store, const char *pin,
    const char *ca_file, char *err, size_t errlen);

/*
 * The time certificates are checked at: now, or the build time when now is earlier
 * (a box with no RTC). Sets *clamped (when not NULL) to 1 when it clamped, else 0.
 */
time_t tls_check_time(time_t now, time_t build_time, int *clamped);

#endif
