/*
 * tls: BearSSL client engine driven by hand over a socket, under one deadline.
 *
 * We do not use br_sslio: its callbacks cannot see the deadline, and we want to tell
 * a TCP close from a timeout from a BearSSL error. The socket is used through
 * net_io (net.h): MSG_DONTWAIT, so the caller's fd may be blocking or not, and
 * MSG_NOSIGNAL, so a peer that resets the connection cannot kill us with SIGPIPE.
 *
 * The X.509 wrapper stays here, with the driver, rather than in x509.c: it is the
 * engine's hook (a br_x509_class whose state lives in tls_conn), it picks which
 * checks apply by trust mode, and its refusals are worded by say_engine_error below,
 * which needs the handshake's state too. The checks themselves (EKU, iPAddress
 * names, key size) are x509.c's pure functions; the anchors are trust.c's.
 */
#include "tls.h"

#include "buf.h"
#include "net.h"
#include "p256.h"
#include "rsa.h"
#include "sha256.h"
#include "x25519.h"
#include "x509.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

enum { MODE_CA, MODE_PIN, MODE_INSECURE };
/* Why judge_leaf refused the server's certificate. */
enum {
	REFUSE_NONE, REFUSE_PIN, REFUSE_TOO_LARGE, REFUSE_WEAK, REFUSE_WEAK_CHAIN, REFUSE_EKU,
	REFUSE_IP, REFUSE_UNREADABLE
};
enum { PHASE_HANDSHAKE, PHASE_WRITE, PHASE_READ };

/* ------------------------------------------------------ X.509 wrapper ----- */

static struct tls_x509 *
wrapper(const br_x509_class **ctx)
{
	/* ctx points at the vtable field, which is the first field. */
	return (struct tls_x509 *)(void *)ctx;
}

static void
xw_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_x509 *w = wrapper(ctx);

	w->ncerts = 0;
	w->refusal = REFUSE_NONE;
	w->have_validity = 0;
	if (w->minimal != NULL)
		w->minimal->vtable->start_chain(&w->minimal->vtable, server_name);
}

static void
xw_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_x509 *w = wrapper(ctx);

	w->ncerts++;
	if (w->minimal == NULL) {
		/* Pin / insecure: the leaf alone is kept, as leaf_key points into it. */
		if (w->ncerts == 1)
			w->cert_len = w->cert_cut = 0;
		return;
	}
	w->cert_len = 0;
	w->cert_cut = 0;
	w->minimal->vtable->start_cert(&w->minimal->vtable, length);
}

static void
xw_append(const br_x509_class **ctx, const unsigned char *p, size_t len)
{
	struct tls_x509 *w = wrapper(ctx);
	size_t room = sizeof w->cert - w->cert_len;
	size_t k = len < room ? len : room;

	if (w->minimal == NULL && w->ncerts > 1)
		return;
	memcpy(w->cert + w->cert_len, p, k);
	w->cert_len += k;
	w->cert_cut |= k < len;
	if (w->minimal != NULL)
		w->minimal->vtable->append(&w->minimal->vtable, p, len);
}

/* Whether k is an RSA key under TLS_RSA_MIN_BITS; its size is kept for the message. */
static int
weak_rsa(struct tls_x509 *w, const br_x509_pkey *k)
{
	return k->key_type == BR_KEYTYPE_RSA &&
	    (w->weak_bits = x509_rsa_bits(k)) < TLS_RSA_MIN_BITS;
}

/* What anontel judges itself in the server's certificate, which BearSSL's minimal
 * engine does not: the pin, the key's size (also under direct trust and pins),
 * Extended Key Usage, and for an IP endpoint its iPAddress names. */
static int
judge_leaf(struct tls_x509 *w)
{
	struct x509_cert c;
	int have_key;

	if (x509_cert_parse(w->cert, w->cert_len, w->cert_cut, &c) != 0)
		return REFUSE_UNREADABLE;
	w->have_validity = c.have_validity;
	w->not_before = c.not_before;
	w->not_after = c.not_after;
	/* In CA mode BearSSL's engine decodes the key (and refuses what it cannot);
	 * in pin and insecure mode, this is the key the handshake uses. */
	have_key = x509_spki_key(c.spki, &w->leaf_key) == 0;
	if (!have_key && w->minimal == NULL)
		return REFUSE_UNREADABLE;
	if (w->mode == MODE_INSECURE)
		return REFUSE_NONE;
	if (w->mode == MODE_PIN) {
		unsigned char h[SHA256_LEN];

		sha256(c.spki.p, c.spki.n, h);
		if (memcmp(h, w->pin, sizeof h) != 0)
			return REFUSE_PIN;
	}
	if (w->cert_cut)
		return REFUSE_TOO_LARGE;
	if (have_key && weak_rsa(w, &w->leaf_key))
		return REFUSE_WEAK;
	switch (x509_eku(&c)) {
	case X509_EKU_NOT_SERVER:
		return REFUSE_EKU;
	case X509_EKU_BAD:
		return REFUSE_UNREADABLE;
	default:
		break;
	}
	if (w->mode == MODE_CA && w->ip_len != 0 && x509_san_ip_match(&c, w->ip, w->ip_len) != 1)
		return REFUSE_IP;
	return REFUSE_NONE;
}

/* A CA certificate of the chain with an RSA key under the minimum: BearSSL
 * refuses it too (set_minrsa); this finds its size for the message. */
static int
judge_chain_key(struct tls_x509 *w)
{
	struct x509_cert c;
	br_x509_pkey k;

	if (x509_cert_parse(w->cert, w->cert_len, 1, &c) == 0 &&
	    x509_spki_key(c.spki, &k) == 0 && weak_rsa(w, &k))
		return REFUSE_WEAK_CHAIN;
	return REFUSE_NONE;
}

/* The BearSSL error a refusal stands for (say_engine_error words it). */
static unsigned
refusal_code(int refusal)
{
	switch (refusal) {
	case REFUSE_PIN: return BR_ERR_X509_NOT_TRUSTED;
	case REFUSE_TOO_LARGE: return BR_ERR_X509_LIMIT_EXCEEDED;
	case REFUSE_WEAK:
	case REFUSE_WEAK_CHAIN: return BR_ERR_X509_WEAK_PUBLIC_KEY;
	case REFUSE_EKU: return BR_ERR_X509_FORBIDDEN_KEY_USAGE;
	case REFUSE_IP: return BR_ERR_X509_BAD_SERVER_NAME;
	case REFUSE_UNREADABLE: return BR_ERR_X509_UNSUPPORTED;
	default: return 0;
	}
}

static void
xw_end_cert(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrapper(ctx);

	if (w->ncerts == 1)
		w->refusal = judge_leaf(w);
	else if (w->refusal == REFUSE_NONE && w->mode == MODE_CA)
		w->refusal = judge_chain_key(w);
	if (w->minimal != NULL)
		w->minimal->vtable->end_cert(&w->minimal->vtable);
}

static unsigned
xw_end_chain(const br_x509_class **ctx)
{
	struct tls_x509 *w = wrapper(ctx);
	unsigned e;

	if (w->minimal != NULL) {
		/* The chain's own verdict first: an untrusted chain is reported as such. */
		e = w->minimal->vtable->end_chain(&w->minimal->vtable);
		if (e != 0)
			return e;
	} else if (w->ncerts == 0) {
		return BR_ERR_X509_EMPTY_CHAIN;
	}
	return refusal_code(w->refusal);
}

static const br_x509_pkey *
xw_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct tls_x509 *w = (struct tls_x509 *)(void *)(uintptr_t)ctx;

	if (w->refusal != REFUSE_NONE)
		return NULL;
	if (w->minimal != NULL)
		return w->minimal->vtable->get_pkey(
		    (const br_x509_class *const *)&w->minimal->vtable, usages);
	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return &w->leaf_key;
}

static const br_x509_class xw_vtable = {
	sizeof(struct tls_x509),
	xw_start_chain,
	xw_start_cert,
	xw_append,
	xw_end_cert,
	xw_end_chain,
	xw_get_pkey,
};

/* ------------------------------------------------------------ engine ----- */

static void
setup_engine(struct tls_conn *c, const struct tls_trust *t)
{
	/* A reduced profile: forward-secret ECDHE with AEAD ciphers, which every
	 * TLS 1.2 server worth talking to offers, and nothing else to link in. */
	static const uint16_t suites[] = {
		BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	};
	br_ssl_engine_context *eng = &c->sc.eng;

	br_ssl_client_zero(&c->sc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof suites / sizeof suites[0]);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	/* The portable constant-time code for each primitive, on every CPU. BearSSL's
	 * defaults would also link AES-NI, PCLMUL GHASH, SSE2 ChaCha20 and a
	 * 128-bit-multiply Poly1305: 8 KB, for 0.2 M of a report's 6 M instructions
	 * (AES-NI's share) and microseconds on the few KB a report encrypts. */
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, &br_aes_ct64_ctr_vtable);
	br_ssl_engine_set_ghash(eng, br_ghash_ctmul64);
	br_ssl_engine_set_ec(eng, &tls_ec);       /* P-256, P-384, P-521, X25519 (x25519.h) */
	/* RSA signatures, the ServerKeyExchange's and (br_ssl_engine_get_rsavrfy below)
	 * the chain's: ours (rsa.h), 0.4 M instructions for RSA-2048 where BearSSL's
	 * default, br_rsa_i62_pkcs1_vrfy, takes 2 M. */
	br_ssl_engine_set_rsavrfy(eng, rsa_pkcs1_vrfy);
	/* Not br_ssl_engine_set_default_ecdsa: it would set br_ec_all_m31 over tls_ec. */
	br_ssl_engine_set_ecdsa(eng, p256_vrfy_asn1); /* ours on P-256 (p256.h), else BearSSL's */

	memset(&c->x509, 0, sizeof c->x509);
	c->x509.vtable = &xw_vtable;
	if (t->pinned) {
		c->x509.mode = MODE_PIN;
		memcpy(c->x509.pin, t->pin, sizeof c->x509.pin);
	} else if (t->insecure) {
		c->x509.mode = MODE_INSECURE;
	} else {
		br_x509_minimal_context *xc = &c->xc;
		int64_t w = c->when < 0 ? 0 : c->when;

		c->x509.mode = MODE_CA;
		c->x509.minimal = xc;
		br_x509_minimal_init(xc, &trust_dn_hash, t->anchors, t->n_anchors);
		br_x509_minimal_set_hash(xc, br_sha256_ID, &br_sha256_vtable);
		br_x509_minimal_set_hash(xc, br_sha384_ID, &br_sha384_vtable);
		br_x509_minimal_set_hash(xc, br_sha512_ID, &br_sha512_vtable);
		br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(eng));
		br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(eng), br_ssl_engine_get_ecdsa(eng));
		br_x509_minimal_set_minrsa(xc, TLS_RSA_MIN_BITS / 8);
		/* BearSSL counts days from 0000-01-01: 719528 days before 1970. */
		br_x509_minimal_set_time(xc, (uint32_t)(w / 86400 + 719528), (uint32_t)(w % 86400));
	}
	br_ssl_engine_set_x509(eng, &c->x509.vtable);
	/* The two halves given explicitly: BearSSL 0.6's br_ssl_engine_set_buffer(..., 1)
	 * overlaps them by 240 bytes (its output buffer starts at buf + w, not at
	 * buf + buf_len - w), and the input buffer's end is where recv() reads ahead. */
	br_ssl_engine_set_buffers_bidi(eng, c->iobuf, BR_SSL_BUFSIZE_INPUT,
	    c->iobuf + BR_SSL_BUFSIZE_INPUT, BR_SSL_BUFSIZE_OUTPUT);
}

/* The alerts a server refuses a handshake with (RFC 5246 7.2), by name. */
static const struct {
	unsigned char code;
	char name[22];
} alerts[] = {
	{ 10, "unexpected_message" }, { 20, "bad_record_mac" }, { 40, "handshake_failure" },
	{ 42, "bad_certificate" }, { 46, "certificate_unknown" }, { 47, "illegal_parameter" },
	{ 48, "unknown_ca" }, { 50, "decode_error" }, { 51, "decrypt_error" },
	{ 70, "protocol_version" }, { 71, "insufficient_security" }, { 80, "internal_error" },
	{ 112, "unrecognized_name" },
};

static const char *
alert_name(int a)
{
	for (size_t i = 0; i < sizeof alerts / sizeof alerts[0]; i++) {
		if (alerts[i].code == a)
			return alerts[i].name;
	}
	return "unknown";
}

/* BearSSL's errors in words: a refusal never shows a bare library number. Every
 * code but an alert's is below 64: engine_word gives the place of its sentence in
 * engine_words (W_ENGINE, 0, for a code it does not name). */
enum {
	W_ENGINE, W_VERSION, W_SUITE, W_INVALID, W_LIMITS, W_KX_SIGNATURE, W_KX_REFUSED, W_KX_USAGE,
	W_RANDOM,
	W_SNI, W_NOT_TRUSTED, W_EMPTY, W_WEAK, W_CRITICAL, W_NOT_CA, W_KEY_USAGE, W_SIGNATURE,
	W_UNSUPPORTED, W_ORDER, W_CHAIN_LIMITS, W_NO_TIME, W_MALFORMED
};

static const char *const engine_words[] = {
	[W_ENGINE] = "TLS failure inside the engine",
	[W_VERSION] = "server does not speak TLS 1.2",
	[W_SUITE] = "server chose a cipher suite anontel does not offer",
	[W_INVALID] = "the server sent invalid TLS data",
	[W_LIMITS] = "the server's handshake exceeds anontel's limits",
	[W_KX_SIGNATURE] = "the server's key exchange signature does not verify",
	/* One sentence in two literals (parenthesised: clang's -Wstring-concatenation). */
	[W_KX_REFUSED] = ("the server's key exchange uses a curve, point or signature algorithm "
	    "anontel does not accept"),
	[W_KX_USAGE] = "the server's key may not be used for this key exchange",
	[W_RANDOM] = "no randomness available for TLS",
	[W_SNI] = "the host name cannot be sent as SNI",
	[W_NOT_TRUSTED] = "certificate not trusted (unknown CA or missing intermediate)",
	[W_EMPTY] = "the server sent no certificate",
	[W_WEAK] = "a certificate in the chain has a weak key (RSA under 2048 bits)",
	[W_CRITICAL] = "certificate has a critical extension anontel does not know",
	[W_NOT_CA] = "an intermediate certificate is not a CA",
	[W_KEY_USAGE] = "a certificate's key usage forbids this use",
	[W_SIGNATURE] = "a certificate signature does not verify",
	[W_UNSUPPORTED] = "certificate uses a key or algorithm anontel does not support",
	[W_ORDER] = "certificate chain out of order (issuer and subject do not chain)",
	[W_CHAIN_LIMITS] = "certificate chain exceeds anontel's limits",
	[W_NO_TIME] = "no time to check certificates against",
	[W_MALFORMED] = "a certificate does not decode (malformed DER)",
};

static const unsigned char engine_word[64] = {
	[BR_ERR_BAD_VERSION] = W_VERSION,
	[BR_ERR_UNSUPPORTED_VERSION] = W_VERSION,
	[BR_ERR_BAD_CIPHER_SUITE] = W_SUITE,
	/* Record-layer or handshake garbage: not TLS, or tampered with. */
	[BR_ERR_BAD_LENGTH] = W_INVALID,
	[BR_ERR_TOO_LARGE] = W_INVALID,
	[BR_ERR_BAD_MAC] = W_INVALID,
	[BR_ERR_UNKNOWN_TYPE] = W_INVALID,
	[BR_ERR_UNEXPECTED] = W_INVALID,
	[BR_ERR_BAD_CCS] = W_INVALID,
	[BR_ERR_BAD_ALERT] = W_INVALID,
	[BR_ERR_BAD_HANDSHAKE] = W_INVALID,
	[BR_ERR_BAD_FRAGLEN] = W_INVALID,
	[BR_ERR_OVERSIZED_ID] = W_INVALID,
	[BR_ERR_BAD_COMPRESSION] = W_INVALID,
	[BR_ERR_BAD_SECRENEG] = W_INVALID,
	[BR_ERR_EXTRA_EXTENSION] = W_INVALID,
	[BR_ERR_BAD_HELLO_DONE] = W_INVALID,
	[BR_ERR_BAD_FINISHED] = W_INVALID,
	[BR_ERR_RESUME_MISMATCH] = W_INVALID,
	[BR_ERR_LIMIT_EXCEEDED] = W_LIMITS,
	/* The engine refused the server's key exchange: in the ServerKeyExchange, a
	 * curve or signature hash not offered or a signature type that does not fit the
	 * suite (before its signature is checked); or, making the ClientKeyExchange, a
	 * share tls_ec.mul refuses (off the curve, an all-zero X25519 secret). */
	[BR_ERR_INVALID_ALGORITHM] = W_KX_REFUSED,
	[BR_ERR_BAD_SIGNATURE] = W_KX_SIGNATURE,
	[BR_ERR_WRONG_KEY_USAGE] = W_KX_USAGE,
	[BR_ERR_NO_RANDOM] = W_RANDOM,
	[BR_ERR_BAD_SNI] = W_SNI,
	[BR_ERR_X509_NOT_TRUSTED] = W_NOT_TRUSTED,
	[BR_ERR_X509_EMPTY_CHAIN] = W_EMPTY,
	[BR_ERR_X509_WEAK_PUBLIC_KEY] = W_WEAK,
	[BR_ERR_X509_CRITICAL_EXTENSION] = W_CRITICAL,
	[BR_ERR_X509_NOT_CA] = W_NOT_CA,
	[BR_ERR_X509_FORBIDDEN_KEY_USAGE] = W_KEY_USAGE,
	[BR_ERR_X509_BAD_SIGNATURE] = W_SIGNATURE,
	[BR_ERR_X509_WRONG_KEY_TYPE] = W_UNSUPPORTED,
	[BR_ERR_X509_UNSUPPORTED] = W_UNSUPPORTED,
	[BR_ERR_X509_DN_MISMATCH] = W_ORDER,
	[BR_ERR_X509_LIMIT_EXCEEDED] = W_CHAIN_LIMITS,
	[BR_ERR_X509_TIME_UNKNOWN] = W_NO_TIME,
};

static const char *
engine_error_words(int e)
{
	unsigned w = W_ENGINE;

	if (e >= 0 && e < (int)sizeof engine_word) {
		w = engine_word[e];
		/* The other X.509 codes (BR_ERR_X509_OK to 63) are the decoder's. */
		if (w == W_ENGINE && e >= BR_ERR_X509_OK)
			w = W_MALFORMED;
	}
	return engine_words[w];
}

/* Turns the engine's error into the one line the header promises. */
static void
say_engine_error(struct tls_conn *c, int e)
{
	struct tls_x509 *w = &c->x509;
	struct buf o;

	if (c->err == NULL || c->errlen == 0)
		return;
	buf_init(&o, c->err, c->errlen);
	if (w->refusal != REFUSE_NONE && (unsigned)e == refusal_code(w->refusal)) {
		switch (w->refusal) {
		case REFUSE_PIN:
			buf_str(&o, "server key does not match the pin");
			return;
		case REFUSE_TOO_LARGE:
			buf_str(&o, "server certificate larger than 16 KiB");
			return;
		case REFUSE_WEAK:
		case REFUSE_WEAK_CHAIN:
			buf_str(&o, w->refusal == REFUSE_WEAK ? "certificate key too weak: RSA " :
			    "a CA certificate in the chain has a weak key: RSA ");
			buf_uint(&o, w->weak_bits, 0);
			buf_str(&o, " bits (at least 2048)");
			return;
		case REFUSE_EKU:
			buf_str(&o, "certificate is not for a TLS server (its Extended Key Usage "
			    "lacks serverAuth)");
			return;
		case REFUSE_IP:
			buf_str(&o, "certificate does not match ");
			buf_str(&o, c->host);
			buf_str(&o, " (no such IP address in its subjectAltName)");
			return;
		default:
			buf_str(&o, "server certificate cannot be read (malformed extensions)");
			return;
		}
	}
	if (e >= BR_ERR_RECV_FATAL_ALERT && e < BR_ERR_RECV_FATAL_ALERT + 256) {
		int a = e - BR_ERR_RECV_FATAL_ALERT;
		if (a == 70 && !c->handshake_done) {
			buf_str(&o, "server requires TLS 1.3, which anontel does not support "
			    "(TLS 1.2 only)");
			return;
		}
		buf_str(&o, "TLS alert ");
		buf_uint(&o, (uint64_t)a, 0);
		buf_str(&o, " (");
		buf_str(&o, alert_name(a));
		buf_str(&o, ") from server");
		return;
	}
	if (e >= BR_ERR_SEND_FATAL_ALERT && e < BR_ERR_SEND_FATAL_ALERT + 256) {
		buf_str(&o, "anontel ended the handshake: the server's answer was not acceptable");
		return;
	}
	switch (e) {
	case BR_ERR_X509_BAD_SERVER_NAME:
		buf_str(&o, "certificate does not match ");
		buf_str(&o, c->host);
		return;
	case BR_ERR_X509_EXPIRED:
		if (w->have_validity && c->when < w->not_before)
			buf_str(&o, "certificate not yet valid");
		else if (w->have_validity && c->when > w->not_after)
			buf_str(&o, "certificate expired");
		else
			buf_str(&o, "a CA certificate in the chain is expired or not yet valid");
		return;
	default:
		buf_str(&o, engine_error_words(e));
	}
}

/* a then b (NULL: none) into the call's err. */
static void
say(struct tls_conn *c, const char *a, const char *b)
{
	buf_join(c->err, c->errlen, a, b, NULL);
}

/* Says what failed with where: "timed out in the TLS handshake". */
static void
say_phase(struct tls_conn *c, const char *what)
{
	static const char *const where[] = {
		" in the TLS handshake", " sending over TLS", " reading over TLS",
	};
	say(c, what, where[c->phase]);
}

/* net_io's failure r (not NET_IO_FAILED, which the caller words) into err. */
static void
say_io(struct tls_conn *c, ssize_t r)
{
	if (r == NET_IO_TIMEOUT)
		say_phase(c, "timed out");
	else
		say(c, "poll: ", strerror(errno));
}

/* Sends up to n bytes (net_io). Returns the count sent, -1 with err. */
static ssize_t
sock_send(struct tls_conn *c, const unsigned char *p, size_t n)
{
	static const int one = 1;
	ssize_t r;

	/* Nagle holds a small segment only while earlier ones are unacknowledged,
	 * that is when this send follows another with no answer read in between. */
	if (c->sent_last && !c->nodelay) {
		(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->nodelay = 1;
	}
	r = net_io(c->fd, (void *)(uintptr_t)p, n, POLLOUT, 0, c->deadline_ms);
	if (r > 0) {
		c->sent_last = 1;
		return r;
	}
	if (r < NET_IO_FAILED)
		say_io(c, r);
	else if (c->phase == PHASE_HANDSHAKE && r < 0 && (errno == EPIPE || errno == ECONNRESET))
		say(c, "connection closed during the TLS handshake", NULL);
	else
		say(c, "sending over TLS: ", r < 0 ? strerror(errno) : "no progress");
	return -1;
}

/* Sends the records gathered in out. 0, or -1 with err. */
static int
flush_out(struct tls_conn *c)
{
	while (c->out_len > 0) {
		ssize_t r = sock_send(c, c->out, c->out_len);

		if (r < 0)
			return -1;
		memmove(c->out, c->out + r, c->out_len - (size_t)r);
		c->out_len -= (size_t)r;
	}
	return 0;
}

/* Takes the engine's outgoing record: into out when it fits, so that the records of
 * a flight leave together (the engine holds one record at a time); a larger one
 * goes from the engine's buffer once out is sent. 0 on progress, -1 with err. */
static int
take_record(struct tls_conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	size_t len;
	unsigned char *p = br_ssl_engine_sendrec_buf(eng, &len);
	ssize_t r;

	if (len <= sizeof c->out - c->out_len) {
		memcpy(c->out + c->out_len, p, len);
		c->out_len += len;
		br_ssl_engine_sendrec_ack(eng, len);
		return 0;
	}
	if (c->out_len > 0)
		return flush_out(c);
	r = sock_send(c, p, len);
	if (r < 0)
		return -1;
	br_ssl_engine_sendrec_ack(eng, (size_t)r);
	return 0;
}

/* One recv() of up to n bytes (net_io). Right after a send the answer cannot be
 * there yet, so it waits first rather than learn that from EAGAIN. Returns the
 * count, 0 at the end of the stream, -1 with err (a reset worded for the phase). */
static ssize_t
sock_recv(struct tls_conn *c, unsigned char *p, size_t n)
{
	ssize_t r = net_io(c->fd, p, n, POLLIN, c->sent_last, c->deadline_ms);

	if (r > 0)
		c->sent_last = 0;
	if (r >= 0)
		return r;
	if (r < NET_IO_FAILED)
		say_io(c, r);
	else if (errno != ECONNRESET)
		say(c, "reading over TLS: ", strerror(errno));
	else if (c->phase == PHASE_HANDSHAKE)
		say(c, "connection closed during the TLS handshake", NULL);
	else
		say(c, "connection reset by the server", NULL);
	return -1;
}

/* The server ended the stream (a TCP close, or close_notify): the end of the
 * response in PHASE_READ (1), else -1 with err. */
static int
stream_ended(struct tls_conn *c)
{
	if (c->phase == PHASE_READ)
		return 1;
	say(c, c->phase == PHASE_HANDSHAKE ? "connection closed during the TLS handshake" :
	    "connection closed by the server", NULL);
	return -1;
}

/*
 * Gives the engine the bytes it asks for: from what was read ahead, or from one
 * recv() into the rest of its input buffer. This leans on how BearSSL 0.6 uses that
 * buffer (ssl_engine.c): a record's header is received at its start and the body
 * right after (before encryption, each piece of the body again right after the
 * header), an encrypted record is decrypted in place, and no byte past those it
 * asked for is written. So bytes read ahead, past the current record, stay put
 * until the engine asks for its next record, and are then moved down to where it
 * wants them. Returns 0 on progress, 1 at the end of the stream in PHASE_READ, -1
 * with err.
 */
static int
feed_engine(struct tls_conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	size_t want, at, k;
	unsigned char *p = br_ssl_engine_recvrec_buf(eng, &want);

	at = (size_t)(p - c->iobuf);
	if (at >= BR_SSL_BUFSIZE_INPUT || at + c->ahead_len > BR_SSL_BUFSIZE_INPUT) {
		say(c, "TLS engine stalled", NULL);
		return -1;
	}
	if (c->ahead_len == 0) {
		ssize_t r = sock_recv(c, p, BR_SSL_BUFSIZE_INPUT - at);

		if (r < 0)
			return -1;
		if (r == 0) {
			/* BearSSL would call a TCP close without close_notify a
			 * truncation attack; after the handshake, HTTP framing judges
			 * whether the response is complete (as curl does). */
			return stream_ended(c);
		}
		c->ahead_len = (size_t)r;
	} else if (c->ahead_at != at) {
		memmove(p, c->iobuf + c->ahead_at, c->ahead_len);
	}
	k = c->ahead_len < want ? c->ahead_len : want;
	c->ahead_at = at + k;
	c->ahead_len -= k;
	br_ssl_engine_recvrec_ack(eng, k);
	return 0;
}

/* The engine has closed: its error in words, or for a clean close 1 in PHASE_READ
 * and -1 with err otherwise. A last record it made (a fatal alert) is sent first,
 * best effort: the engine's error is the one said. */
static int
engine_closed(struct tls_conn *c)
{
	int e = br_ssl_engine_last_error(&c->sc.eng);

	/* Best effort: a failure's words in err are overwritten below, or unread (a
	 * clean close in PHASE_READ returns 1, which carries no err). */
	(void)flush_out(c);
	if (e == BR_ERR_OK)
		return stream_ended(c);
	say_engine_error(c, e);
	return -1;
}

/*
 * Runs the engine until its state has one of the bits in `target`. Returns 0 then;
 * 1 when the stream ended (close_notify, or a TCP close) in PHASE_READ; -1 with err.
 * Records the engine makes wait in out until it wants to receive (or tls_flush).
 */
static int
run_until(struct tls_conn *c, unsigned target)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);

		if (st & BR_SSL_CLOSED)
			return engine_closed(c);
		if (st & BR_SSL_SENDREC) {
			if (take_record(c) != 0)
				return -1;
			continue;
		}
		if (st & target)
			return 0;
		if (st & BR_SSL_RECVAPP) {
			/* Data arrived while we want to send: an HTTP server does not
			 * talk before it is asked. */
			say(c, "server sent data out of turn", NULL);
			return -1;
		}
		if (st & BR_SSL_RECVREC) {
			int r = flush_out(c);

			if (r == 0)
				r = feed_engine(c);
			if (r != 0)
				return r;
			continue;
		}
		/* Only unsent application data can be left: make it a record. */
		br_ssl_engine_flush(eng, 0);
		if (!(br_ssl_engine_current_state(eng) & (BR_SSL_SENDREC | BR_SSL_CLOSED))) {
			say(c, "TLS engine stalled", NULL);
			return -1;
		}
	}
}

/* Starts a call on c: its phase, and where its failure is said. */
static void
begin(struct tls_conn *c, int phase, const char *host, char *err, size_t errlen)
{
	c->phase = phase;
	c->host = host;
	c->err = err;
	c->errlen = errlen;
}

/* The name to send as SNI and match: the host without one trailing dot (a name,
 * not a label, in both). An IP literal (IPv6 without brackets, as url.h keeps it)
 * has no SNI: its address goes to ip instead (*ip_len 4 or 16, else 0). */
static int
server_name(const char *host, char *name, size_t cap, unsigned char ip[16], size_t *ip_len)
{
	size_t n = strlen(host);

	*ip_len = 0;
	if (inet_pton(AF_INET, host, ip) == 1)
		*ip_len = 4;
	else if (inet_pton(AF_INET6, host, ip) == 1)
		*ip_len = 16;
	if (n > 1 && host[n - 1] == '.')
		n--;
	if (n >= cap)
		return -1;
	memcpy(name, host, n);
	name[n] = '\0';
	return 0;
}

int
tls_open(struct tls_conn *c, int fd, const char *host, const struct tls_trust *t, time_t when,
    int64_t deadline_ms, char *err, size_t errlen)
{
	char name[256];

	c->fd = fd;
	c->deadline_ms = deadline_ms;
	c->when = (int64_t)when;
	c->handshake_done = 0;
	c->sent_last = 0;
	c->nodelay = 0;
	c->ahead_at = c->ahead_len = 0;
	c->out_len = 0;
	begin(c, PHASE_HANDSHAKE, host, err, errlen);
	setup_engine(c, t);
	if (server_name(host, name, sizeof name, c->x509.ip, &c->x509.ip_len) != 0) {
		say(c, "host name too long for TLS: ", host);
		return -1;
	}
	if (!br_ssl_client_reset(&c->sc, c->x509.ip_len ? NULL : name, 0)) {
		say_engine_error(c, br_ssl_engine_last_error(&c->sc.eng));
		return -1;
	}
	if (run_until(c, BR_SSL_SENDAPP) != 0)
		return -1;
	c->handshake_done = 1;
	return 0;
}

int
tls_write(struct tls_conn *c, const void *p, size_t n, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	const unsigned char *s = p;

	begin(c, PHASE_WRITE, "", err, errlen);
	while (n > 0) {
		unsigned char *dst;
		size_t room;

		if (run_until(c, BR_SSL_SENDAPP) != 0)
			return -1;
		dst = br_ssl_engine_sendapp_buf(eng, &room);
		if (room > n)
			room = n;
		memcpy(dst, s, room);
		br_ssl_engine_sendapp_ack(eng, room);
		s += room;
		n -= room;
	}
	return 0;
}

int
tls_flush(struct tls_conn *c, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	begin(c, PHASE_WRITE, "", err, errlen);
	/* Make a record of what is buffered and send it; the reply is read later. */
	br_ssl_engine_flush(eng, 0);
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);

		if (st & BR_SSL_CLOSED)
			return run_until(c, BR_SSL_SENDAPP);
		if (!(st & BR_SSL_SENDREC))
			return flush_out(c);
		if (take_record(c) != 0)
			return -1;
	}
}

ssize_t
tls_read(struct tls_conn *c, void *p, size_t n, char *err, size_t errlen)
{
	br_ssl_engine_context *eng = &c->sc.eng;
	unsigned char *src;
	size_t len;
	int r;

	if (n == 0)
		return 0;
	begin(c, PHASE_READ, "", err, errlen);
	br_ssl_engine_flush(eng, 0);   /* what tls_write left goes out before the wait */
	r = run_until(c, BR_SSL_RECVAPP);
	if (r == 1)
		return 0;
	if (r != 0)
		return -1;
	src = br_ssl_engine_recvapp_buf(eng, &len);
	if (len > n)
		len = n;
	memcpy(p, src, len);
	br_ssl_engine_recvapp_ack(eng, len);
	return (ssize_t)len;
}

void
tls_close(struct tls_conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	begin(c, PHASE_WRITE, "", NULL, 0);
	br_ssl_engine_close(eng);
	/* Send what is queued (our close_notify); do not wait for the server's. */
	while ((br_ssl_engine_current_state(eng) & (BR_SSL_SENDREC | BR_SSL_CLOSED)) ==
	    BR_SSL_SENDREC) {
		if (take_record(c) != 0)
			break;
	}
	(void)flush_out(c);
}
