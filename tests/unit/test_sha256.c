/*
 * test_sha256: SHA-256 and HMAC-SHA256 known answers, every split point, and a
 * comparison with BearSSL's own br_sha256 / br_hmac on seeded random inputs.
 *
 * Sources of the known answers (each row's name says which):
 *  cavp-lenN   NIST CAVP SHAVS, SHA256ShortMsg.rsp, the Len = 8N row (bytes).
 *  fips-*      FIPS 180-2 Appendix B examples (B.1 "abc", B.2 the 56-byte
 *              message, B.3 one million 'a'); nist-112 is the two-block
 *              112-byte example from NIST's published SHA-256 examples.
 *  hashlib-N   NOT from NIST: message byte i = (i * 31 + 7) & 0xff, length N;
 *              digests produced by an independent implementation (OpenSSL via
 *              Python's hashlib, cross-checked with coreutils sha256sum) on
 *              2026-11-26, for lengths CAVP ShortMsg does not cover (> 64).
 *  rfc4231-N   RFC 4231 section 4, HMAC-SHA-256 test case N (5 truncated to 128 bits).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bearssl.h"
#include "check.h"
#include "sha256.h"

#define MAXMSG 1024

struct vec {
	const char *name;
	const char *hex;   /* message as hex, or NULL */
	const char *text;  /* message as text, or NULL */
	size_t gen;        /* else: generated message of this length */
	const char *md;
};

static const struct vec vecs[] = {
	{ "cavp-len0", "", NULL, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "cavp-len1", "d3", NULL, 0,
	    "28969cdfa74a12c82f3bad960b0b000aca2ac329deea5c2328ebc6f2ba9802c1" },
	{ "cavp-len2", "11af", NULL, 0,
	    "5ca7133fa735326081558ac312c620eeca9970d1e70a4b95533d956f072d1f98" },
	{ "cavp-len3", "b4190e", NULL, 0,
	    "dff2e73091f6c05e528896c4c831b9448653dc2ff043528f6769437bc7b975c2" },
	{ "cavp-len4", "74ba2521", NULL, 0,
	    "b16aa56be3880d18cd41e68384cf1ec8c17680c45a02b1575dc1518923ae8b0e" },
	{ "cavp-len5", "c299209682", NULL, 0,
	    "f0887fe961c9cd3beab957e8222494abb969b1ce4c6557976df8b0f6d20e9166" },
	{ "cavp-len6", "e1dc724d5621", NULL, 0,
	    "eca0a060b489636225b4fa64d267dabbe44273067ac679f20820bddc6b6a90ac" },
	{ "cavp-len7", "06e076f5a442d5", NULL, 0,
	    "3fd877e27450e6bbd5d74bb82f9870c64c66e109418baa8e6bbcff355e287926" },
	{ "cavp-len8", "5738c929c4f4ccb6", NULL, 0,
	    "963bb88f27f512777aab6c8b1a02c70ec0ad651d428f870036e1917120fb48bf" },
	{ "cavp-len9", "3334c58075d3f4139e", NULL, 0,
	    "078da3d77ed43bd3037a433fd0341855023793f9afd08b4b08ea1e5597ceef20" },
	{ "cavp-len10", "74cb9381d89f5aa73368", NULL, 0,
	    "73d6fad1caaa75b43b21733561fd3958bdc555194a037c2addec19dc2d7a52bd" },
	{ "cavp-len11", "76ed24a0f40a41221ebfcf", NULL, 0,
	    "044cef802901932e46dc46b2545e6c99c0fc323a0ed99b081bda4216857f38ac" },
	{ "cavp-len12", "9baf69cba317f422fe26a9a0", NULL, 0,
	    "fe56287cd657e4afc50dba7a3a54c2a6324b886becdcd1fae473b769e551a09b" },
	{ "cavp-len13", "68511cdb2dbbf3530d7fb61cbc", NULL, 0,
	    "af53430466715e99a602fc9f5945719b04dd24267e6a98471f7a7869bd3b4313" },
	{ "cavp-len14", "af397a8b8dd73ab702ce8e53aa9f", NULL, 0,
	    "d189498a3463b18e846b8ab1b41583b0b7efc789dad8a7fb885bbf8fb5b45c5c" },
	{ "cavp-len15", "294af4802e5e925eb1c6cc9c724f09", NULL, 0,
	    "dcbaf335360de853b9cddfdafb90fa75567d0d3d58af8db9d764113aef570125" },
	{ "cavp-len16", "0a27847cdc98bd6f62220b046edd762b", NULL, 0,
	    "80c25ec1600587e7f28b18b1b18e3cdc89928e39cab3bc25e4d4a4c139bcedc4" },
	{ "cavp-len17", "1b503fb9a73b16ada3fcf1042623ae7610", NULL, 0,
	    "d5c30315f72ed05fe519a1bf75ab5fd0ffec5ac1acb0daf66b6b769598594509" },
	{ "cavp-len18", "59eb45bbbeb054b0b97334d53580ce03f699", NULL, 0,
	    "32c38c54189f2357e96bd77eb00c2b9c341ebebacc2945f97804f59a93238288" },
	{ "cavp-len19", "58e5a3259cb0b6d12c83f723379e35fd298b60", NULL, 0,
	    "9b5b37816de8fcdf3ec10b745428708df8f391c550ea6746b2cafe019c2b6ace" },
	{ "cavp-len20", "c1ef39cee58e78f6fcdc12e058b7f902acd1a93b", NULL, 0,
	    "6dd52b0d8b48cc8146cebd0216fbf5f6ef7eeafc0ff2ff9d1422d6345555a142" },
	{ "cavp-len31", "95a765809caf30ada90ad6d61c2b4b30250df0a7ce23b7753c9187f4319ce2", NULL, 0,
	    "a4139b74b102cf1e2fce229a6cd84c87501f50afa4c80feacf7d8cf5ed94f042" },
	{ "cavp-len32", "09fc1accc230a205e4a208e64a8f204291f581a12756392da4b8c0cf5ef02b95", NULL, 0,
	    "4f44c1c7fbebb6f9601829f3897bfd650c56fa07844be76489076356ac1886a4" },
	{ "cavp-len33", "0546f7b8682b5b95fd32385faf25854cb3f7b40cc8fa229fbd52b16934aab388"
	    "a7", NULL, 0,
	    "b31ad3cd02b10db282b3576c059b746fb24ca6f09fef69402dc90ece7421cbb7" },
	{ "cavp-len54", "25362a4b9d74bde6128c4fdc672305900947bc3ada9d9d316ebcf1667ad43631"
	    "89937251f149c72e064a48608d940b7574b17fefc0df", NULL, 0,
	    "f8e4ccab6c979229f6066cc0cb0cfa81bb21447c16c68773be7e558e9f9d798d" },
	{ "cavp-len55", "3ebfb06db8c38d5ba037f1363e118550aad94606e26835a01af05078533cc25f"
	    "2f39573c04b632f62f68c294ab31f2a3e2a1a0d8c2be51", NULL, 0,
	    "6595a2ef537a69ba8583dfbf7f5bec0ab1f93ce4c8ee1916eff44a93af5749c4" },
	{ "cavp-len56", "2d52447d1244d2ebc28650e7b05654bad35b3a68eedc7f8515306b496d75f3e7"
	    "3385dd1b002625024b81a02f2fd6dffb6e6d561cb7d0bd7a", NULL, 0,
	    "cfb88d6faf2de3a69d36195acec2e255e2af2b7d933997f348e09f6ce5758360" },
	{ "cavp-len57", "4cace422e4a015a75492b3b3bbfbdf3758eaff4fe504b46a26c90dacc119fa90"
	    "50f603d2b58b398cad6d6d9fa922a154d9e0bc4389968274b0", NULL, 0,
	    "4d54b2d284a6794581224e08f675541c8feab6eefa3ac1cfe5da4e03e62f72e4" },
	{ "cavp-len62", "6511a2242ddb273178e19a82c57c85cb05a6887ff2014cf1a31cb9ba5df1695a"
	    "adb25c22b3c5ed51c10d047d256b8e3442842ae4e6c525f8d7a5a944af2a", NULL, 0,
	    "d6859c0b5a0b66376a24f56b2ab104286ed0078634ba19112ace0d6d60a9c1ae" },
	{ "cavp-len63", "e2f76e97606a872e317439f1a03fcd92e632e5bd4e7cbc4e97f1afc19a16fde9"
	    "2d77cbe546416b51640cddb92af996534dfd81edb17c4424cf1ac4d75aceeb", NULL, 0,
	    "18041bd4665083001fba8c5411d2d748e8abbfdcdfd9218cb02b68a78e7d4c23" },
	{ "cavp-len64", "5a86b737eaea8ee976a0a24da63e7ed7eefad18a101c1211e2b3650c5187c2a8"
	    "a650547208251f6d4237e661c7bf4c77f335390394c37fa1a9f9be836ac28509", NULL, 0,
	    "42e61e174fbb3897d6dd6cef3dd2802fe67b331953b06114a65c772859dfc1aa" },
	{ "fips-b1-abc", NULL, "abc", 0,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "fips-b2-56", NULL, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 0,
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "nist-112", NULL, "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	    "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 0,
	    "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "hashlib-65", NULL, NULL, 65,
	    "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0" },
	{ "hashlib-111", NULL, NULL, 111,
	    "dd1413178fb627f9abbc041ffe39c44aa7aaa0e2e6d2ca5c4528ac7073a2da45" },
	{ "hashlib-112", NULL, NULL, 112,
	    "a65c92dac124062d0ab951a42773cb04fc98d1d4bf8897b176f8cff3509d379e" },
	{ "hashlib-119", NULL, NULL, 119,
	    "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe" },
	{ "hashlib-120", NULL, NULL, 120,
	    "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656" },
	{ "hashlib-127", NULL, NULL, 127,
	    "192409cd280e14b743642ad1343fbd3e82d9305de72c078117745a679210cc3d" },
	{ "hashlib-128", NULL, NULL, 128,
	    "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356" },
	{ "hashlib-129", NULL, NULL, 129,
	    "81e89a7b2911aaa7795f9e3d4910cb47d6cd2b00d83b8399481527261a1a7519" },
	{ "hashlib-200", NULL, NULL, 200,
	    "44cae5223d431caed4a9e32271d6abf17c3f2f4abac45fcdb48a99fcc6072a09" },
};

static size_t
unhex(const char *h, unsigned char *out, size_t cap)
{
	size_t n = strlen(h) / 2;

	if (strlen(h) % 2 != 0 || n > cap)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			abort();
		out[i] = (unsigned char)v;
	}
	return n;
}

static void
tohex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = '\0';
}

static size_t
vec_msg(const struct vec *v, unsigned char *m)
{
	if (v->hex)
		return unhex(v->hex, m, MAXMSG);
	if (v->text) {
		size_t n = strlen(v->text);

		memcpy(m, v->text, n);
		return n;
	}
	for (size_t i = 0; i < v->gen; i++)
		m[i] = (unsigned char)((i * 31 + 7) & 0xff);
	return v->gen;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		if (s[i])
			return 0;
	return 1;
}

/* Every row: one call, two pieces at every offset, and byte by byte. */
static void
test_known_answers(void)
{
	unsigned char m[MAXMSG], d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	int cavp = 0;

	for (size_t r = 0; r < sizeof vecs / sizeof vecs[0]; r++) {
		const struct vec *v = &vecs[r];
		size_t n = vec_msg(v, m);
		struct sha256 c;
		int bad_split = -1;

		if (strncmp(v->name, "cavp-", 5) == 0)
			cavp++;
		sha256(m, n, d);
		tohex(d, SHA256_LEN, hex);
		CHECKF(strcmp(hex, v->md) == 0, "%s (%zu bytes): got %s", v->name, n, hex);

		for (size_t cut = 0; cut <= n; cut++) {
			sha256_init(&c);
			sha256_update(&c, m, cut);
			sha256_update(&c, m + cut, n - cut);
			sha256_final(&c, d);
			tohex(d, SHA256_LEN, hex);
			if (strcmp(hex, v->md) != 0 && bad_split < 0)
				bad_split = (int)cut;
		}
		CHECKF(bad_split < 0, "%s: split at %d gives %s", v->name, bad_split, hex);

		sha256_init(&c);
		for (size_t i = 0; i < n; i++)
			sha256_update(&c, m + i, 1);
		sha256_final(&c, d);
		tohex(d, SHA256_LEN, hex);
		CHECKF(strcmp(hex, v->md) == 0, "%s byte by byte: got %s", v->name, hex);
		CHECKF(all_zero(&c, sizeof c), "%s: context not wiped by sha256_final", v->name);
	}
	CHECKF(cavp >= 20, "only %d CAVP rows", cavp);
}

/* The required lengths around the padding boundary are present. */
static void
test_lengths_covered(void)
{
	static const size_t want[] = { 0, 55, 56, 63, 64, 65 };
	unsigned char m[MAXMSG];

	for (size_t w = 0; w < sizeof want / sizeof want[0]; w++) {
		int found = 0;

		for (size_t r = 0; r < sizeof vecs / sizeof vecs[0]; r++)
			if (vec_msg(&vecs[r], m) == want[w])
				found = 1;
		CHECKF(found, "no known answer of %zu bytes", want[w]);
	}
}

/* FIPS 180-2 B.3: one million 'a', fed in pieces of several sizes. */
static void
test_million_a(void)
{
	static const size_t pieces[] = { 1, 3, 55, 63, 64, 65, 1000, 4096, 1000000 };
	static unsigned char a[1000000];
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	memset(a, 'a', sizeof a);
	for (size_t p = 0; p < sizeof pieces / sizeof pieces[0]; p++) {
		struct sha256 c;

		sha256_init(&c);
		for (size_t off = 0; off < sizeof a; off += pieces[p]) {
			size_t take = sizeof a - off < pieces[p] ? sizeof a - off : pieces[p];

			sha256_update(&c, a + off, take);
		}
		sha256_final(&c, d);
		tohex(d, SHA256_LEN, hex);
		CHECKF(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0,
		    "fips-b3-million-a in pieces of %zu: got %s", pieces[p], hex);
	}
}

struct hvec {
	const char *name;
	unsigned char key_byte;  /* key = key_len bytes of key_byte ... */
	size_t key_len;
	const char *key_text;    /* ... or this text, or 0x01..0x19 when key_len == 25 */
	unsigned char data_byte; /* data = data_len bytes of data_byte ... */
	size_t data_len;
	const char *data_text;   /* ... or this text */
	const char *mac;         /* hex; case 5 has 128 bits */
};

static const struct hvec hvecs[] = {
	{ "rfc4231-1", 0x0b, 20, NULL, 0, 0, "Hi There",
	    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "rfc4231-2", 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
	    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "rfc4231-3", 0xaa, 20, NULL, 0xdd, 50, NULL,
	    "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "rfc4231-4", 0, 25, NULL, 0xcd, 50, NULL,
	    "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "rfc4231-5", 0x0c, 20, NULL, 0, 0, "Test With Truncation",
	    "a3b6167473100ee06e0c796c2955552b" },
	{ "rfc4231-6", 0xaa, 131, NULL, 0, 0,
	    "Test Using Larger Than Block-Size Key - Hash Key First",
	    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "rfc4231-7", 0xaa, 131, NULL, 0, 0,
	    "This is a test using a larger than block-size key and a larger than block-size"
	    " data. The key needs to be hashed before being used by the HMAC algorithm.",
	    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
};

static void
test_hmac_rfc4231(void)
{
	unsigned char key[256], data[256], d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	for (size_t r = 0; r < sizeof hvecs / sizeof hvecs[0]; r++) {
		const struct hvec *v = &hvecs[r];
		size_t kn, dn, want = strlen(v->mac);
		int bad_split = -1;

		if (v->key_text) {
			kn = strlen(v->key_text);
			memcpy(key, v->key_text, kn);
		} else {
			kn = v->key_len;
			for (size_t i = 0; i < kn; i++)
				key[i] = v->key_len == 25 ? (unsigned char)(i + 1) : v->key_byte;
		}
		if (v->data_text) {
			dn = strlen(v->data_text);
			memcpy(data, v->data_text, dn);
		} else {
			dn = v->data_len;
			memset(data, v->data_byte, dn);
		}

		hmac_sha256(key, kn, data, dn, d);
		tohex(d, SHA256_LEN, hex);
		CHECKF(strncmp(hex, v->mac, want) == 0, "%s: got %.*s", v->name, (int)want, hex);

		for (size_t cut = 0; cut <= dn; cut++) {
			struct hmac_sha256 h;

			hmac_sha256_init(&h, key, kn);
			hmac_sha256_update(&h, data, cut);
			hmac_sha256_update(&h, data + cut, dn - cut);
			hmac_sha256_final(&h, d);
			tohex(d, SHA256_LEN, hex);
			if (strncmp(hex, v->mac, want) != 0 && bad_split < 0)
				bad_split = (int)cut;
			if (!all_zero(&h, sizeof h) && bad_split < 0)
				bad_split = 1000 + (int)cut;   /* not wiped */
		}
		CHECKF(bad_split < 0, "%s: split at %d wrong (>= 1000: context not wiped)",
		    v->name, bad_split);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* 1000 seeded random messages (0..300 bytes) and keys (0..200 bytes), each
 * split at a random point, against BearSSL. */
static void
test_vs_bearssl(void)
{
	unsigned char m[301], key[201], d[SHA256_LEN], bd[SHA256_LEN];
	int sha_bad = 0, hmac_bad = 0;

	rng = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < 1000; i++) {
		size_t n = (size_t)(xorshift() % 301), kn = (size_t)(xorshift() % 201);
		size_t cut = n ? (size_t)(xorshift() % (n + 1)) : 0;
		br_sha256_context bc;
		br_hmac_key_context kc;
		br_hmac_context hc;
		struct sha256 c;
		struct hmac_sha256 h;

		for (size_t j = 0; j < n; j++)
			m[j] = (unsigned char)xorshift();
		for (size_t j = 0; j < kn; j++)
			key[j] = (unsigned char)xorshift();

		br_sha256_init(&bc);
		br_sha256_update(&bc, m, n);
		br_sha256_out(&bc, bd);
		sha256(m, n, d);
		if (memcmp(d, bd, SHA256_LEN) != 0 && sha_bad++ < 3)
			CHECKF(0, "sha256 input %d (%zu bytes) differs from BearSSL", i, n);
		sha256_init(&c);
		sha256_update(&c, m, cut);
		sha256_update(&c, m + cut, n - cut);
		sha256_final(&c, d);
		if (memcmp(d, bd, SHA256_LEN) != 0 && sha_bad++ < 3)
			CHECKF(0, "sha256 input %d split at %zu differs from BearSSL", i, cut);

		br_hmac_key_init(&kc, &br_sha256_vtable, key, kn);
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, m, n);
		CHECK(br_hmac_out(&hc, bd) == SHA256_LEN);
		hmac_sha256(key, kn, m, n, d);
		if (memcmp(d, bd, SHA256_LEN) != 0 && hmac_bad++ < 3)
			CHECKF(0, "hmac input %d (key %zu, msg %zu) differs from BearSSL", i, kn, n);
		hmac_sha256_init(&h, key, kn);
		hmac_sha256_update(&h, m, cut);
		hmac_sha256_update(&h, m + cut, n - cut);
		hmac_sha256_final(&h, d);
		if (memcmp(d, bd, SHA256_LEN) != 0 && hmac_bad++ < 3)
			CHECKF(0, "hmac input %d split at %zu differs from BearSSL", i, cut);
	}
	CHECKF(sha_bad == 0 && hmac_bad == 0, "%d sha256 and %d hmac mismatches", sha_bad, hmac_bad);
}

/* A table that cannot fail proves nothing: a wrong digest must be seen as wrong. */
static void
test_detects_error(void)
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	sha256("abd", 3, d);
	tohex(d, SHA256_LEN, hex);
	CHECK(strcmp(hex, vecs[0].md) != 0);
	CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") != 0);
	hmac_sha256("Jefe", 4, "what do ya want for nothing!", 28, d);
	tohex(d, SHA256_LEN, hex);
	CHECK(strcmp(hex, hvecs[1].mac) != 0);
}

static const struct check_case cases[] = {
	{ "known-answers", test_known_answers },
	{ "lengths-covered", test_lengths_covered },
	{ "million-a", test_million_a },
	{ "hmac-rfc4231", test_hmac_rfc4231 },
	{ "vs-bearssl", test_vs_bearssl },
	{ "detects-error", test_detects_error },
};

CHECK_MAIN(cases)
