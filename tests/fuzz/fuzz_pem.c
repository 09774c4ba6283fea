/*
 * fuzz_pem: tls_trust_file, the loader of tls.caFile / SSL_CERT_FILE (src/trust.c).
 *
 * Two kinds of input, told apart by their content:
 *  - text that holds "-----BEGIN": written as it is to the CA file (PEM framing,
 *    base64, several objects, non-certificate objects);
 *  - anything else: taken as one DER certificate, which this harness wraps in a
 *    CERTIFICATE block (base64, 64 columns) so that the fuzzer works on the DER
 *    walker rather than on base64.
 * The file sits in the process's private tmpfs directory, rewritten each time.
 * Invariants on success: 1..512 anchors; every DN and key points inside the
 * store's arena, below store.used; RSA keys have no leading zero byte, EC keys
 * are uncompressed points on P-256/384/521 of the right length; flags are 0 or
 * BR_X509_TA_CA. On failure: a message that starts with the file's path.
 * Differential, DER inputs: when BearSSL's own decoder (br_x509_decoder, which
 * tools/mkroots.c uses for the compiled-in roots) fully decodes the certificate
 * and trust.c also loads it, both must agree on the subject DN (trust.c keeps 16
 * bytes of its SHA-256), the key and the CA flag.
 */
#include "fuzz_util.h"

#include <bearssl.h>

#include "trust.h"

static struct tls_store store;
static char path[512];
static char pem[(TLS_CERT_MAX + 4096) * 2];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_path(path, sizeof path, fz_tmpdir("pem"), "ca.pem");
	return 0;
}

static size_t
wrap_der(const uint8_t *p, size_t n, char *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0, col = 0;

	o += (size_t)sprintf(out, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t k = n - i < 3 ? n - i : 3;
		char q[4];

		if (k > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (k > 2)
			v |= p[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = k > 1 ? b64[v >> 6 & 63] : '=';
		q[3] = k > 2 ? b64[v & 63] : '=';
		memcpy(out + o, q, 4);
		o += 4;
		col += 4;
		if (col == 64) {
			out[o++] = '\n';
			col = 0;
		}
	}
	if (col != 0)
		out[o++] = '\n';
	o += (size_t)sprintf(out + o, "-----END CERTIFICATE-----\n");
	return o;
}

static int
in_arena(const void *p, size_t n)
{
	const unsigned char *c = p;
	return c >= store.arena && n <= store.used && c <= store.arena + store.used - n;
}

static void
strip0(const unsigned char **p, size_t *n)
{
	while (*n > 1 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

static void
differential(const uint8_t *der, size_t n, const br_x509_trust_anchor *ta)
{
	static br_x509_decoder_context dc;
	static struct fz_dn dn;
	br_sha256_context sha;
	unsigned char full[32];
	const br_x509_pkey *k;

	dn.n = 0;
	dn.over = 0;
	br_x509_decoder_init(&dc, fz_dn_append, &dn);
	br_x509_decoder_push(&dc, der, n);
	if (br_x509_decoder_last_error(&dc) != 0 || dn.over)
		return;
	k = br_x509_decoder_get_pkey(&dc);
	if (k == NULL)
		return;
	/* The anchor keeps its DN as TRUST_DN_DIGEST and the first bytes of its SHA-256
	 * (trust.h): those of the DN BearSSL's decoder read. */
	br_sha256_init(&sha);
	br_sha256_update(&sha, dn.b, dn.n);
	br_sha256_out(&sha, full);
	FUZZ_CHECK(ta->dn.len == 1 + TRUST_DN_HASH_LEN && ta->dn.data[0] == TRUST_DN_DIGEST &&
	    memcmp(ta->dn.data + 1, full, TRUST_DN_HASH_LEN) == 0,
	    "subject DN hash differs from that of BearSSL's DN (%zu bytes)", ta->dn.len);
	FUZZ_CHECK(ta->pkey.key_type == k->key_type, "key type %d, BearSSL %d", ta->pkey.key_type,
	    k->key_type);
	if (k->key_type == BR_KEYTYPE_RSA) {
		const unsigned char *a = ta->pkey.key.rsa.n, *b = k->key.rsa.n;
		size_t an = ta->pkey.key.rsa.nlen, bn = k->key.rsa.nlen;
		const unsigned char *ae = ta->pkey.key.rsa.e, *be = k->key.rsa.e;
		size_t aen = ta->pkey.key.rsa.elen, ben = k->key.rsa.elen;

		strip0(&a, &an);
		strip0(&b, &bn);
		strip0(&ae, &aen);
		strip0(&be, &ben);
		FUZZ_CHECK(an == bn && memcmp(a, b, an) == 0, "RSA modulus differs from BearSSL's");
		FUZZ_CHECK(aen == ben && memcmp(ae, be, aen) == 0, "RSA exponent differs from BearSSL's");
	} else {
		FUZZ_CHECK(ta->pkey.key.ec.curve == k->key.ec.curve, "curve %d, BearSSL %d",
		    ta->pkey.key.ec.curve, k->key.ec.curve);
		FUZZ_CHECK(ta->pkey.key.ec.qlen == k->key.ec.qlen &&
		    memcmp(ta->pkey.key.ec.q, k->key.ec.q, k->key.ec.qlen) == 0,
		    "EC point differs from BearSSL's");
	}
	FUZZ_CHECK(((ta->flags & BR_X509_TA_CA) != 0) == (br_x509_decoder_isCA(&dc) != 0),
	    "CA flag %u, BearSSL says isCA %d", ta->flags, br_x509_decoder_isCA(&dc));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_trust t;
	char err[1024];
	int der_mode = memmem(data, size, "-----BEGIN", 10) == NULL;
	int r;

	if (der_mode) {
		if (size > TLS_CERT_MAX + 4096)
			return 0;
		fz_write_file(path, pem, wrap_der(data, size, pem));
	} else {
		fz_write_file(path, data, size);
	}
	memset(&t, 0x5A, sizeof t);
	err[0] = '\0';
	r = tls_trust_file(&t, &store, path, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1, "tls_trust_file returned %d", r);
	if (r != 0) {
		FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0 && strlen(err) > strlen(path),
		    "message does not name the file: \"%s\"", err);
		FUZZ_CHECK(strchr(err, '\n') == NULL, "message is not one line");
		return 0;
	}
	FUZZ_CHECK(t.anchors == store.anchors && t.n_anchors >= 1 &&
	    t.n_anchors <= TLS_CAFILE_MAX_ANCHORS, "%zu anchors", t.n_anchors);
	FUZZ_CHECK(!t.pinned && !t.insecure, "trust mode");
	FUZZ_CHECK(store.used <= sizeof store.arena, "arena used %zu", store.used);
	if (der_mode)
		FUZZ_CHECK(t.n_anchors == 1, "one DER certificate gave %zu anchors", t.n_anchors);
	for (size_t i = 0; i < t.n_anchors; i++) {
		const br_x509_trust_anchor *ta = &t.anchors[i];

		FUZZ_CHECK(ta->dn.len > 0 && in_arena(ta->dn.data, ta->dn.len), "anchor %zu DN", i);
		FUZZ_CHECK(ta->flags == 0 || ta->flags == BR_X509_TA_CA, "anchor %zu flags %u", i,
		    ta->flags);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
			const br_rsa_public_key *k = &ta->pkey.key.rsa;
			FUZZ_CHECK(k->nlen > 0 && in_arena(k->n, k->nlen) && k->elen > 0 &&
			    in_arena(k->e, k->elen), "anchor %zu RSA key", i);
			FUZZ_CHECK((k->nlen == 1 || k->n[0] != 0) && (k->elen == 1 || k->e[0] != 0),
			    "anchor %zu RSA key has leading zeros", i);
		} else {
			const br_ec_public_key *k = &ta->pkey.key.ec;
			size_t want = k->curve == BR_EC_secp256r1 ? 65 : k->curve == BR_EC_secp384r1 ? 97 :
			    k->curve == BR_EC_secp521r1 ? 133 : 0;
			FUZZ_CHECK(ta->pkey.key_type == BR_KEYTYPE_EC, "anchor %zu key type %d", i,
			    ta->pkey.key_type);
			FUZZ_CHECK(want != 0 && k->qlen == want && in_arena(k->q, k->qlen) &&
			    k->q[0] == 0x04, "anchor %zu EC key", i);
		}
	}
	if (der_mode)
		differential(data, size, &t.anchors[0]);
	return 0;
}
