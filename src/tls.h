/*
 * tls: a BearSSL TLS 1.2 client over a connected socket, under one deadline. This
 * module owns the engine driver: the handshake, records to and from the socket, the
 * X.509 engine handed to BearSSL (which applies a struct tls_trust from trust.h and
 * judges the server's certificate with x509.h), and the one-line words for every
 * failure. What is trusted, and loading it, is trust.h's (included here, so callers
 * of tls_open see both). Certificates are always validated: when the system clock is
 * before the build date, at the build date (tls_check_time). Caller-owned contexts;
 * nothing is allocated.
 */
#ifndef ANONTEL_TLS_H
#define ANONTEL_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <bearssl.h>

#include "trust.h"

/* The server's certificate is kept whole to judge what BearSSL does not (x509.h):
 * one larger than TLS_CERT_MAX (trust.h) is refused. RSA keys below TLS_RSA_MIN_BITS
 * are refused in the chain (BearSSL's minimum, set to it) and in the leaf (also under
 * direct trust and pins). */
#define TLS_RSA_MIN_BITS 2048

/*
 * Private: the X.509 engine handed to BearSSL (its first field is the vtable, as
 * BearSSL's object pattern requires). It forwards to the minimal engine when trusting
 * CAs, and itself judges pin and insecure mode; in every mode it keeps the server's
 * certificate and judges it (pin, key size, Extended Key Usage, iPAddress names).
 * Here and in tls_conn the small fields come first and the buffers last: the code
 * reaches a field in the first 128 bytes with a one-byte offset.
 */
struct tls_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context *minimal;    /* CA mode; NULL in pin / insecure mode */
	int mode;
	unsigned ncerts;                     /* certificates seen in this chain */
	size_t cert_len;                     /* bytes of the current certificate kept */
	int cert_cut;                        /* it is larger than TLS_CERT_MAX */
	int refusal;                         /* why the leaf was refused, 0 when not */
	unsigned weak_bits;                  /* the weak RSA size, for the message */
	int have_validity;
	int64_t not_before, not_after;       /* the leaf's validity, Unix seconds */
	size_t ip_len;                       /* 4 or 16; 0 for a DNS name */
	unsigned char ip[16];                /* the endpoint's address when it is an IP */
	unsigned char pin[32];
	br_x509_pkey leaf_key;               /* pin / insecure mode: the server's key, in
	                                      * cert (which then keeps the leaf alone) */
	unsigned char cert[TLS_CERT_MAX];    /* judged at its end (the leaf first) */
};

/* Room for outgoing records gathered so that a flight leaves in one send: the
 * handshake's second flight (ClientKeyExchange, ChangeCipherSpec, Finished: under 200
 * bytes), a ClientHello with the longest SNI (under 400), close_notify. */
#define TLS_OUT_BATCH 512

/*
 * One TLS connection. Large (it holds the I/O buffer): keep it static. iobuf is
 * BearSSL's input buffer (BR_SSL_BUFSIZE_INPUT bytes) then its output buffer: the
 * input buffer holds one record at a time from its start, and the rest of it is
 * where one recv() reads ahead (a whole flight, several records) for the records
 * that follow.
 */
struct tls_conn {
	int fd;
	int64_t deadline_ms;
	int64_t when;                        /* validation time, Unix seconds */
	int phase;                           /* the call in progress (handshake, write,
	                                      * read), its host ("" after tls_open), and
	                                      * where its failure is said */
	const char *host;
	char *err;
	size_t errlen;
	int handshake_done;
	int sent_last;                       /* bytes were sent since the last received */
	int nodelay;                         /* TCP_NODELAY is set on fd */
	size_t ahead_at, ahead_len;          /* read ahead, not yet given to the engine */
	size_t out_len;                      /* bytes of records waiting in out */
	br_ssl_client_context sc;
	br_x509_minimal_context xc;
	struct tls_x509 x509;
	unsigned char out[TLS_OUT_BATCH];
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/*
 * Runs a TLS 1.2 handshake on connected socket fd for `host`, trusting t,
 * validating at time `when`. A DNS name (one trailing dot dropped) is sent as SNI
 * and matched against the dNSName names (the CN when there is no subjectAltName;
 * one leading "*." label); an IP literal sends no SNI (RFC 6066) and matches only
 * iPAddress names. Returns 0, or -1 with one line in words naming the cause:
 * "certificate not trusted (unknown CA or missing intermediate)", "certificate
 * expired", "certificate not yet valid" (judged by the server certificate's own
 * dates; "a CA certificate in the chain is expired or not yet valid" otherwise),
 * "certificate does not match HOST", "certificate is not for a TLS server (its
 * Extended Key Usage lacks serverAuth)", "certificate key too weak: RSA N bits (at
 * least 2048)", "server key does not match the pin", "server requires TLS 1.3,
 * which anontel does not support (TLS 1.2 only)" (alert 70 protocol_version in
 * answer to our TLS 1.2 hello), "connection closed during the TLS handshake",
 * "timed out in the TLS handshake", "TLS alert N (name) from server", ... never a
 * bare BearSSL error number. Ciphers: ECDHE-ECDSA / ECDHE-RSA with AES-GCM only
 * (128-bit with SHA-256, 256-bit with SHA-384).
 *
 * System calls: the records of one flight leave in one send() (they are gathered
 * until the engine waits for the server), one recv() takes whatever the server sent
 * (up to 16 KiB: a whole flight), and right after a send the wait for the answer is
 * a poll() rather than a recv() that fails with EAGAIN. TCP_NODELAY is set on fd
 * only before a send that follows another with no answer read in between (a request
 * over several records, a full socket buffer): only then can Nagle hold a segment,
 * since an answer acknowledges everything sent before it.
 */
int tls_open(struct tls_conn *c, int fd, const char *host, const struct tls_trust *t, time_t when,
    int64_t deadline_ms, char *err, size_t errlen);

/* Buffers n bytes to send: a full record (16 KiB) goes out as it fills, the rest
 * stays until tls_flush or tls_read. Returns 0, or -1 with err. */
int tls_write(struct tls_conn *c, const void *p, size_t n, char *err, size_t errlen);

/* Sends what tls_write buffered, as one record when it fits (one send for a request
 * of head and body). Returns 0, or -1 with err. */
int tls_flush(struct tls_conn *c, char *err, size_t errlen);

/* Reads at most n bytes, first sending what tls_write buffered. Returns the count,
 * 0 when the server closed the stream (close_notify, or a TCP close without
 * close_notify, which BearSSL would call an error: HTTP framing then judges whether
 * the response is complete), -1 with err. */
ssize_t tls_read(struct tls_conn *c, void *p, size_t n, char *err, size_t errlen);

/* Sends close_notify (best effort, within the deadline; does not wait for the
 * server's). Does not close fd. */
void tls_close(struct tls_conn *c);

#endif
