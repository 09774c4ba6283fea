/*
 * test_roots: the compiled-in anchors tls_trust_builtin hands BearSSL are the bundle's
 * certificates, every one: its DN (as 0xff and its SHA-256's first TRUST_DN_HASH_LEN
 * bytes, which trust_dn_hash turns
 * into the same hash as the DN's own) and its key, byte for byte, in the bundle's order.
 * The bundle (the one roots.h was made from) is decoded here with BearSSL's PEM and
 * X.509 decoders, so a slip in tools/mkroots.c's packed table or in trust.c's
 * unpacking of it (an offset, a length, a key type) shows as a mismatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bearssl.h"
#include "check.h"
#include "roots.h"
#include "trust.h"

#define BUNDLE_MAX (4 * 1024 * 1024)

struct bytes {
	unsigned char p[16384];
	size_t n;
};

static void
append(void *ctx, const void *p, size_t n)
{
	struct bytes *b = ctx;

	if (b->n + n <= sizeof b->p)
		memcpy(b->p + b->n, p, n);
	b->n += n;
}

static int
same(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* trust_dn_hash over p, fed one byte at a time (as BearSSL's engine feeds a
 * certificate's DN) when len is odd, else whole. */
static void
dn_hash(const unsigned char *p, size_t len, unsigned char out[TRUST_DN_HASH_LEN])
{
	br_hash_compat_context hc;

	trust_dn_hash.init(&hc.vtable);
	if (len % 2)
		for (size_t i = 0; i < len; i++)
			trust_dn_hash.update(&hc.vtable, p + i, 1);
	else
		trust_dn_hash.update(&hc.vtable, p, len);
	trust_dn_hash.out(&hc.vtable, out);
}

/* Compares certificate der (the bundle's number i) with anchor ta. */
static void
compare(size_t i, const unsigned char *der, size_t len, const br_x509_trust_anchor *ta)
{
	static struct bytes dn;
	br_sha256_context sh;
	unsigned char want[32], got_cert[TRUST_DN_HASH_LEN], got_anchor[TRUST_DN_HASH_LEN];
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;

	dn.n = 0;
	br_x509_decoder_init(&dc, append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	CHECKF(pk != NULL, "certificate %zu: not decoded", i + 1);
	if (pk == NULL)
		return;
	CHECKF(ta->dn.len == 1 + TRUST_DN_HASH_LEN && ta->dn.data[0] == TRUST_DN_DIGEST,
	    "anchor %zu: its DN is not a stored digest", i + 1);
	br_sha256_init(&sh);
	br_sha256_update(&sh, dn.p, dn.n);
	br_sha256_out(&sh, want);
	CHECKF(ta->dn.len == 1 + TRUST_DN_HASH_LEN &&
	    memcmp(ta->dn.data + 1, want, TRUST_DN_HASH_LEN) == 0,
	    "anchor %zu: DN digest differs", i + 1);
	/* What BearSSL's engine does with them: both hashed by trust_dn_hash, equal. */
	dn_hash(dn.p, dn.n, got_cert);
	dn_hash(ta->dn.data, ta->dn.len, got_anchor);
	CHECKF(memcmp(got_cert, got_anchor, sizeof got_cert) == 0 &&
	    memcmp(got_cert, want, sizeof got_cert) == 0,
	    "anchor %zu: trust_dn_hash differs between the DN and the anchor", i + 1);
	CHECKF(ta->flags == BR_X509_TA_CA, "anchor %zu: not a CA anchor", i + 1);
	CHECKF(ta->pkey.key_type == pk->key_type, "anchor %zu: key type %d, want %d", i + 1,
	    ta->pkey.key_type, pk->key_type);
	if (ta->pkey.key_type != pk->key_type)
		return;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		CHECKF(same(ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen, pk->key.rsa.n,
		    pk->key.rsa.nlen), "anchor %zu: RSA modulus differs", i + 1);
		CHECKF(same(ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen, pk->key.rsa.e,
		    pk->key.rsa.elen), "anchor %zu: RSA exponent differs", i + 1);
	} else {
		CHECKF(ta->pkey.key.ec.curve == pk->key.ec.curve, "anchor %zu: curve differs", i + 1);
		CHECKF(same(ta->pkey.key.ec.q, ta->pkey.key.ec.qlen, pk->key.ec.q, pk->key.ec.qlen),
		    "anchor %zu: EC point differs", i + 1);
	}
}

static void
anchors_are_the_bundle(void)
{
	static unsigned char pem[BUNDLE_MAX];
	static struct bytes der;
	br_pem_decoder_context pc;
	struct tls_trust t;
	size_t n, off = 0, count = 0;
	FILE *f = fopen(ANONTEL_ROOTS_SOURCE, "rb");

	CHECKF(f != NULL, "cannot open %s", ANONTEL_ROOTS_SOURCE);
	if (f == NULL)
		return;
	n = fread(pem, 1, sizeof pem - 1, f);
	fclose(f);
	pem[n++] = '\n';
	/* Asked twice (the anchors are made once): the second answer is compared. */
	tls_trust_builtin(&t);
	tls_trust_builtin(&t);
	CHECK(t.n_anchors == ANONTEL_ROOTS_COUNT && t.n_anchors == tls_builtin_count());
	br_pem_decoder_init(&pc);
	while (off < n) {
		off += br_pem_decoder_push(&pc, pem + off, n - off);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			der.n = 0;
			br_pem_decoder_setdest(&pc, append, &der);
			break;
		case BR_PEM_END_OBJ:
			CHECKF(der.n <= sizeof der.p, "certificate %zu: larger than the test's buffer",
			    count + 1);
			if (count < t.n_anchors && der.n <= sizeof der.p)
				compare(count, der.p, der.n, &t.anchors[count]);
			count++;
			break;
		case BR_PEM_ERROR:
			CHECKF(0, "bad PEM after certificate %zu", count);
			return;
		default:
			break;
		}
	}
	CHECKF(count == t.n_anchors, "the bundle has %zu certificates, the binary %zu anchors",
	    count, t.n_anchors);
}

int
main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		{ "anchors_are_the_bundle", anchors_are_the_bundle },
	};

	return check_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
