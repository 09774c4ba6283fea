/*
 * tls: a BearSSL TLS 1.2 client over a connected socket, under one deadline.
 *
 * Trust is one of: the Mozilla roots compiled into the binary (generated at build
 * time from Debian's ca-certificates by tools/mkroots.c), a CA file loaded at run
 * time (tls.caFile / SSL_CERT_FILE), or a pin (curl's sha256// form: SHA-256 of the
 * server's SubjectPublicKeyInfo) which accepts that key alone with no CA and no
 * clock. Certificates are always validated: when the system clock is before the
 * build date, at the build date. Caller-owned contexts; nothing is allocated.
 */
#ifndef ANONTEL_TLS_H
#define ANONTEL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <bearssl.h>

#define TLS_CAFILE_MAX_ANCHORS 512
#define TLS_CAFILE_ARENA       (384 * 1024)   /* DN and key bytes of loaded anchors */

/* What the client trusts. Fill with tls_trust_builtin, tls_trust_file or tls_trust_pin. */
struct tls_trust {
	const br_x509_trust_anchor *anchors;
	size_t n_anchors;
	int pinned;                          /* 1: only the key whose SPKI hash is pin */
	unsigned char pin[32];
	int insecure;                        /* 1: accept any certificate (check -k only) */
};

/* Storage for anchors loaded from a file; large: keep it static. */
struct tls_store {
	br_x509_trust_anchor anchors[TLS_CAFILE_MAX_ANCHORS];
	unsigned char arena[TLS_CAFILE_ARENA];
	size_t used;
};

/* Trust the compiled-in roots. */
void tls_trust_builtin(struct tls_trust *t);

/* Number of compiled-in roots (for --version). */
size_t tls_builtin_count(void);

/* Loads every CERTIFICATE in a PEM file into store and points t at them.
 * Returns 0, or -1 with "FILE: ..." in err (unreadable, no certificate, bad PEM,
 * too many, a certificate BearSSL cannot decode). */
int tls_trust_file(struct tls_trust *t, struct tls_store *store, const char *path, char *err,
    size_t errlen);

/* Parses "sha256//BASE64" (44 base64 characters of 32 bytes) into t.
 * Returns 0, or -1 with a reason. */
int tls_trust_pin(struct tls_trust *t, const char *pin, char *err, size_t errlen);

/*
 * The time certificates are checked at: now, or the build time when now is earlier
 * (a box with no RTC). Sets *clamped to 1 when it clamped.
 */
time_t tls_check_time(time_t now, time_t build_time, int *clamped);

/* One TLS connection. Large (it holds the I/O buffer): keep it static. */
struct tls_conn {
	br_ssl_client_context sc;
	br_x509_minimal_context xc;
	const br_x509_class *pin_vtable;     /* the pin / insecure wrapper (see tls.c) */
	const br_x509_class **x509;          /* the engine's X.509 context in use */
	unsigned char pin[32];
	int pin_ok;
	int mode;                            /* private */
	unsigned char leaf_spki_hash[32];
	int fd;
	int64_t deadline_ms;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/*
 * Runs a TLS 1.2 handshake on connected socket fd with SNI and host name check for
 * `host`, trusting t, validating at time `when`. Returns 0, or -1 with one line
 * naming the cause: "certificate not trusted (unknown CA or missing intermediate)",
 * "certificate expired", "certificate not yet valid", "certificate does not match
 * HOST", "server key does not match the pin", "server requires TLS 1.3, which
 * anontel does not support (TLS 1.2 only)", "connection closed during the TLS
 * handshake", "timed out in the TLS handshake", "TLS alert N from server", ...
 */
int tls_open(struct tls_conn *c, int fd, const char *host, const struct tls_trust *t, time_t when,
    int64_t deadline_ms, char *err, size_t errlen);

/* Sends all n bytes and flushes. Returns 0, or -1 with err. */
int tls_write_all(struct tls_conn *c, const void *p, size_t n, char *err, size_t errlen);

/* Reads at most n bytes. Returns the count, 0 when the server closed the stream
 * (close_notify, or a TCP close, which HTTP framing then judges), -1 with err. */
ssize_t tls_read(struct tls_conn *c, void *p, size_t n, char *err, size_t errlen);

/* Sends close_notify (best effort, within the deadline). Does not close fd. */
void tls_close(struct tls_conn *c);

#endif
