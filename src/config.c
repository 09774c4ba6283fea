#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "http.h"
#include "id.h"
#include "json.h"
#include "message.h"

/* Parent links make jsmn's ',' and '}' O(depth) instead of a backward scan. */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include "jsmn.h"

#ifndef ANONTEL_VERSION
#define ANONTEL_VERSION "unknown"
#endif

#define DEFAULT_CONFIG "/etc/anontel/config.json"

/* Decoded string values land here before their checks (the longest field is a path). */
static char decoded[CFG_PATH_MAX + 1];

/* Duplicate feature keys are found with a hash set of (object, key): a scan of the
 * earlier entries made a flat object of n keys cost n^2/2 compares (1,000 flags: 30 M
 * instructions). An object is named by the index of its first entry, unique per
 * non-empty object. Entries: ((scope << 16) | index) + 1; 0 is empty. */
#define FEAT_SLOTS 4096   /* a power of two above CFG_MAX_FEATURES + 1 */

/* cfg_load's working room, in the caller's scratch: needed only during the call. */
struct work {
	jsmntok_t tok[CFG_MAX_TOKENS];
	uint32_t feat_slot[FEAT_SLOTS];
};
_Static_assert(sizeof(struct work) <= CFG_SCRATCH_SIZE, "CFG_SCRATCH_SIZE is too small");

struct ctx {
	struct cfg *c;
	const char *file;       /* the file js came from, for messages */
	char *js;               /* its text, inside c->text */
	const jsmntok_t *tok;   /* jsmn's tokens of js */
	uint32_t *feat_slot;    /* the hash set of feature keys */
	int ntok;
	struct buf *e;
	char path[640];         /* the key path of the value being checked */
	size_t plen;
	int file_enabled;       /* -1: not in the file */
	size_t leaves;
};

typedef int (*handler)(struct ctx *x, int t);

struct field {
	const char *name;
	handler fn;
};

/* ---- small helpers ---- */

/* 1 if s[0..n) has 1..max bytes, each alphanumeric or in `extra`. */
static int
charset_ok(const char *s, size_t n, size_t max, const char *extra)
{
	if (n < 1 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!ascii_is_alnum(c) && (c == 0 || strchr(extra, c) == NULL))
			return 0;
	}
	return 1;
}

static int
has_control(const char *s, size_t n, int space_too)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F || (space_too && c == ' '))
			return 1;
	}
	return 0;
}

static void
copy_str(char *dst, const char *s, size_t n)
{
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Index of the first token after the subtree rooted at t. */
static int
skip(const struct ctx *x, int t)
{
	int remaining = 1;

	while (remaining > 0 && t < x->ntok) {
		remaining += x->tok[t].size - 1;
		t++;
	}
	return t;
}

static void
put_utf8(char *out, size_t *o, unsigned long cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (char)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (char)(0xC0 | (cp >> 6));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		out[(*o)++] = (char)(0xE0 | (cp >> 12));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		out[(*o)++] = (char)(0xF0 | (cp >> 18));
		out[(*o)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (char)(0x80 | (cp & 0x3F));
	}
}

static unsigned long
hex4(const char *s)
{
	unsigned long v = 0;

	for (int k = 0; k < 4; k++)
		v = v * 16 + (unsigned)ascii_hex_val((unsigned char)s[k]);
	return v;
}

/*
 * Decodes the body of a JSON string that json_validate accepted (so every escape
 * is well formed and surrogates are paired) into out[0..cap), NUL-terminated.
 * Returns 0, -1 if more than cap - 1 bytes, -2 if it contains U+0000.
 */
static int
decode(const char *s, size_t n, char *out, size_t cap, size_t *outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		unsigned long cp;

		if (s[i] != '\\') {
			if (o + 1 >= cap)
				return -1;
			out[o++] = s[i++];
			continue;
		}
		switch (s[i + 1]) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			cp = hex4(s + i + 2);
			if (cp >= 0xD800 && cp <= 0xDBFF && i + 12 <= n) {
				cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(s + i + 8) - 0xDC00);
				i += 6;
			}
			i += 4;
			break;
		default: cp = (unsigned char)s[i + 1]; break;
		}
		i += 2;
		if (cp == 0)
			return -2;
		if (o + (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4) >= cap)
			return -1;
		put_utf8(out, &o, cp);
	}
	out[o] = '\0';
	*outlen = o;
	return 0;
}

/* ---- messages ---- */

static size_t
path_push(struct ctx *x, const char *key, size_t n)
{
	size_t saved = x->plen;
	struct buf b;

	/* A buf over the path's tail: a long path is cut, never overrun. */
	buf_init(&b, x->path + x->plen, sizeof x->path - x->plen);
	if (x->plen > 0)
		buf_char(&b, '.');
	buf_add(&b, key, n > 64 ? 64 : n);
	if (n > 64)
		buf_str(&b, "...");
	x->plen += b.len;
	return saved;
}

static void
path_pop(struct ctx *x, size_t saved)
{
	x->plen = saved;
	x->path[saved] = '\0';
}

/* "FILE: key.path: " */
static void
fail_prefix(struct ctx *x)
{
	buf_str(x->e, x->file);
	buf_str(x->e, ": ");
	if (x->plen > 0) {
		buf_add(x->e, x->path, x->plen);
		buf_str(x->e, ": ");
	}
}

static int
fail(struct ctx *x, const char *what)
{
	fail_prefix(x);
	buf_str(x->e, what);
	return -1;
}

static int
fail_n(struct ctx *x, const char *a, uint64_t v, const char *z)
{
	fail_prefix(x);
	buf_str(x->e, a);
	buf_uint(x->e, v, 0);
	buf_str(x->e, z);
	return -1;
}

/* ---- typed values ---- */

/* The decoded string at token t, at most max bytes, into decoded. */
static int
get_str(struct ctx *x, int t, size_t max, const char **s, size_t *n)
{
	int r;

	if (x->tok[t].type != JSMN_STRING)
		return fail(x, "expected a string");
	r = decode(x->js + x->tok[t].start, (size_t)(x->tok[t].end - x->tok[t].start), decoded,
	    max + 1 < sizeof decoded ? max + 1 : sizeof decoded, n);
	if (r == -1)
		return fail_n(x, "longer than ", max, " bytes");
	if (r == -2)
		return fail(x, "contains a NUL character (\\u0000)");
	*s = decoded;
	return 0;
}

static int
get_bool(struct ctx *x, int t, int *v)
{
	char c = x->js[x->tok[t].start];

	if (x->tok[t].type != JSMN_PRIMITIVE || (c != 't' && c != 'f'))
		return fail(x, "expected true or false");
	*v = c == 't';
	return 0;
}

static int
get_name(struct ctx *x, int t, char *dst)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (!charset_ok(s, n, CFG_NAME_MAX, "_.+-"))
		return fail(x, "expected 1 to 64 of A-Z a-z 0-9 _ . + -");
	copy_str(dst, s, n);
	return 0;
}

/* A path: non-empty, no control characters; absolute when asked. */
static int
get_path(struct ctx *x, int t, char *dst, int absolute)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX - 1, &s, &n) < 0)
		return -1;
	if (n == 0)
		return fail(x, "must not be empty");
	if (has_control(s, n, 0))
		return fail(x, "must not contain control characters");
	if (absolute && s[0] != '/')
		return fail(x, "expected an absolute path");
	copy_str(dst, s, n);
	return 0;
}

static int
get_duration(struct ctx *x, int t, uint64_t *ms)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (cfg_parse_duration(s, ms) < 0)
		return fail(x, "invalid duration (a whole number and ms, s, m, h or d; at most 365d)");
	return 0;
}

/* ---- the schema ---- */

static int walk_object(struct ctx *x, int t, const struct field *f, size_t nf);

static int
h_enabled(struct ctx *x, int t)
{
	return get_bool(x, t, &x->file_enabled);
}

static int
h_service(struct ctx *x, int t)
{
	return get_name(x, t, x->c->service);
}

static int
h_service_version(struct ctx *x, int t)
{
	return get_name(x, t, x->c->service_version);
}

static int
h_runtime_version(struct ctx *x, int t)
{
	return get_name(x, t, x->c->runtime_version);
}

static int
h_endpoint(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_URL_MAX, &s, &n) < 0)
		return -1;
	if (n == 0)
		return fail(x, "must not be empty");
	if (has_control(s, n, 1))
		return fail(x, "must not contain spaces or control characters");
	copy_str(x->c->endpoint, s, n);
	return 0;
}

/* Appends the names of a module's table, name(0), name(1), ... up to the first
 * NULL (msg_format_name, id_scheme_name), as: expected "a", "b" or "c". */
static void
put_choices(struct buf *e, const char *(*name)(unsigned))
{
	unsigned count;

	for (count = 0; name(count) != NULL; count++)
		;
	buf_str(e, "expected ");
	for (unsigned i = 0; i < count; i++) {
		if (i > 0)
			buf_str(e, i + 1 < count ? ", " : " or ");
		buf_char(e, '"');
		buf_str(e, name(i));
		buf_char(e, '"');
	}
}

/* The index of s in a module's table into *v; -1 when it is not there. */
static int
choose(const char *(*name)(unsigned), const char *s, unsigned *v)
{
	for (unsigned i = 0; name(i) != NULL; i++) {
		if (strcmp(s, name(i)) == 0) {
			*v = i;
			return 0;
		}
	}
	return -1;
}

/* A name out of a module's table into *v; anything else is refused with the
 * table's names. */
static int
get_choice(struct ctx *x, int t, const char *(*name)(unsigned), unsigned *v)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (choose(name, s, v) == 0)
		return 0;
	fail_prefix(x);
	put_choices(x->e, name);
	return -1;
}

static int
h_format(struct ctx *x, int t)
{
	unsigned v;

	if (get_choice(x, t, msg_format_name, &v) < 0)
		return -1;
	x->c->format = (enum cfg_format)v;
	return 0;
}

static int
h_envelope(struct ctx *x, int t)
{
	return get_bool(x, t, &x->c->envelope);
}

static int
h_scheme(struct ctx *x, int t)
{
	unsigned v;

	if (get_choice(x, t, id_scheme_name, &v) < 0)
		return -1;
	x->c->scheme = (enum cfg_scheme)v;
	return 0;
}

static int
h_host(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (!charset_ok(s, n, sizeof x->c->id_host - 3, ".:_-"))
		return fail(x, "expected a host name or IP address (1 to 253 of A-Z a-z 0-9 . : _ -)");
	copy_str(x->c->id_host, s, n);
	return 0;
}

/* 32 hex digits, or a UUID 8-4-4-4-12; kept as 32 lowercase hex digits. */
static int
h_app_id(struct ctx *x, int t)
{
	static const char lower[] = "0123456789abcdef";
	const char *s;
	size_t n, o = 0;
	int dashed;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	dashed = n == 36;
	if (n != 32 && n != 36)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		int v;
		if (dashed && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i] != '-')
				goto bad;
			continue;
		}
		v = ascii_hex_val((unsigned char)s[i]);
		if (v < 0)
			goto bad;
		x->c->id_app_id[o++] = lower[v];
	}
	x->c->id_app_id[o] = '\0';
	return 0;
bad:
	x->c->id_app_id[0] = '\0';
	return fail(x, "expected 32 hex digits or a UUID");
}

static int
h_id(struct ctx *x, int t)
{
	static const struct field f[] = {
		{ "scheme", h_scheme }, { "host", h_host }, { "appId", h_app_id },
	};
	return walk_object(x, t, f, sizeof f / sizeof f[0]);
}

static int
h_interval(struct ctx *x, int t)
{
	return get_duration(x, t, &x->c->interval_ms);
}

static int
h_timeout(struct ctx *x, int t)
{
	return get_duration(x, t, &x->c->timeout_ms);
}

static int
h_state_dir(struct ctx *x, int t)
{
	return get_path(x, t, x->c->state_dir, 1);
}

static int
h_ca_file(struct ctx *x, int t)
{
	return get_path(x, t, x->c->ca_file, 0);
}

/* "sha256//" and the canonical base64 of 32 bytes: 43 digits, the last with its
 * two low bits zero, then one '='. */
static int
h_pin(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (n != 8 + 44 || memcmp(s, "sha256//", 8) != 0 || s[8 + 43] != '=')
		goto bad;
	for (size_t i = 8; i < 8 + 43; i++) {
		int v = ascii_b64_val((unsigned char)s[i]);
		if (v < 0 || (i == 8 + 42 && (v & 3) != 0))
			goto bad;
	}
	copy_str(x->c->pin, s, n);
	return 0;
bad:
	return fail(x, "expected sha256// and the base64 SHA-256 of a public key (44 characters)");
}

static int
h_tls(struct ctx *x, int t)
{
	static const struct field f[] = { { "caFile", h_ca_file }, { "pin", h_pin } };
	return walk_object(x, t, f, sizeof f / sizeof f[0]);
}

static int
h_proxy(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_URL_MAX, &s, &n) < 0)
		return -1;
	if (has_control(s, n, 0))
		return fail(x, "must not contain control characters");
	copy_str(x->c->proxy, s, n);
	return 0;
}

static int
h_api_key(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (!charset_ok(s, n, sizeof x->c->posthog_api_key - 1, "_-"))
		return fail(x, "expected 1 to 128 of A-Z a-z 0-9 _ -");
	copy_str(x->c->posthog_api_key, s, n);
	return 0;
}

static int
h_event(struct ctx *x, int t)
{
	const char *s;
	size_t n;

	if (get_str(x, t, CFG_PATH_MAX, &s, &n) < 0)
		return -1;
	if (n < 1 || n > sizeof x->c->posthog_event - 1)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7E)
			goto bad;
	copy_str(x->c->posthog_event, s, n);
	return 0;
bad:
	return fail(x, "expected 1 to 128 printable ASCII characters");
}

static int
h_posthog(struct ctx *x, int t)
{
	static const struct field f[] = { { "apiKey", h_api_key }, { "event", h_event } };
	return walk_object(x, t, f, sizeof f / sizeof f[0]);
}

/*
 * enabledFeatures: keys in file order, pre-order. The children of the object at
 * token t have depth `depth`. Keys are checked on their raw text: their grammar
 * has no backslash, so raw text equals the decoded key, and the closing quote
 * can become the key's NUL.
 */
/* FNV-1a over n bytes, continuing from h (start with FNV_OFFSET). */
#define FNV_OFFSET 14695981039346656037ULL
static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	return h;
}

/* 1 if key is already in object `scope`; else records it as entry n_features. */
static int
feat_seen(const struct ctx *x, size_t scope, const char *key, size_t klen)
{
	const struct cfg *c = x->c;
	uint32_t *feat_slot = x->feat_slot;
	uint64_t h = fnv1a(fnv1a(FNV_OFFSET, &scope, sizeof scope), key, klen);

	for (uint32_t i = (uint32_t)h & (FEAT_SLOTS - 1);; i = (i + 1) & (FEAT_SLOTS - 1)) {
		uint32_t e = feat_slot[i];
		const char *o;

		if (e == 0) {
			feat_slot[i] = (((uint32_t)scope << 16) | (uint32_t)c->n_features) + 1;
			return 0;
		}
		e--;
		o = c->features[e & 0xffff].key;
		if ((e >> 16) == scope && strlen(o) == klen && memcmp(o, key, klen) == 0)
			return 1;
	}
}

static int
walk_features(struct ctx *x, int t, unsigned depth)
{
	struct cfg *c = x->c;
	size_t first = c->n_features;
	int k = t + 1;

	for (int m = 0; m < x->tok[t].size; m++) {
		int v = k + 1;
		const char *key = x->js + x->tok[k].start;
		size_t klen = (size_t)(x->tok[k].end - x->tok[k].start);
		size_t saved = path_push(x, key, klen);
		char first_byte = x->js[x->tok[v].start];
		struct cfg_feature *f;

		if (!charset_ok(key, klen, CFG_NAME_MAX, "_.-"))
			return fail(x, "invalid key: expected 1 to 64 of A-Z a-z 0-9 _ . -");
		if (feat_seen(x, first, key, klen))
			return fail(x, "duplicate key");
		if (depth > CFG_MAX_FEAT_DEPTH)
			return fail(x, "nested deeper than 8 levels");
		if (c->n_features >= CFG_MAX_FEATURES)
			return fail(x, "more than 2048 entries in enabledFeatures");
		f = &c->features[c->n_features];
		if (x->tok[v].type == JSMN_OBJECT) {
			f->kind = CFG_FEATURE_OBJECT;
		} else if (x->tok[v].type == JSMN_PRIMITIVE && (first_byte == 't' || first_byte == 'f')) {
			if (++x->leaves > CFG_MAX_LEAVES)
				return fail(x, "more than 1024 booleans in enabledFeatures");
			f->kind = first_byte == 't' ? CFG_FEATURE_TRUE : CFG_FEATURE_FALSE;
		} else {
			return fail(x, "expected true, false or an object");
		}
		f->depth = (uint8_t)depth;
		f->key = key;
		x->js[x->tok[k].end] = '\0';
		c->n_features++;
		if (f->kind == CFG_FEATURE_OBJECT && walk_features(x, v, depth + 1) < 0)
			return -1;
		path_pop(x, saved);
		k = skip(x, v);
	}
	return 0;
}

static int
h_features(struct ctx *x, int t)
{
	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object");
	x->c->n_features = 0;       /* ANONTEL_FEATURES_FILE's replace the config's */
	memset(x->feat_slot, 0, FEAT_SLOTS * sizeof x->feat_slot[0]);
	return walk_features(x, t, 1);
}

/* 1 if a header named like line's (up to its ':') is among the first n of c's. */
static int
header_seen(const struct cfg *c, const char *line, size_t n)
{
	size_t len = (size_t)(strchr(line, ':') - line);

	for (size_t i = 0; i < n; i++)
		if (strncasecmp(c->headers[i], line, len) == 0 && c->headers[i][len] == ':')
			return 1;
	return 0;
}

/*
 * One member of headers at token k: the line "Name: value" is written over the
 * member's own text, from the name's first byte to the value's closing quote, as
 * the feature keys are ended in place: the name stays as written, ": " takes the
 * place of `": "`, and a decoded value is never longer than its JSON text. The
 * line is judged by http_header_check, as check -H is; a ':' inside the name
 * would move where the value starts, so it is refused first.
 */
static int
put_header(struct ctx *x, int k, size_t *total)
{
	const jsmntok_t *kt = &x->tok[k], *vt = &x->tok[k + 1];
	char *line = x->js + kt->start;
	size_t klen = (size_t)(kt->end - kt->start), vlen;
	const char *reserved = NULL;
	int r;

	if (vt->type != JSMN_STRING)
		return fail(x, "expected a string");
	if (x->c->n_headers >= CFG_MAX_HEADERS)
		return fail_n(x, "more than ", CFG_MAX_HEADERS, " headers");
	if (memchr(line, ':', klen) != NULL)
		goto invalid;
	line[klen] = ':';
	line[klen + 1] = ' ';
	r = decode(x->js + vt->start, (size_t)(vt->end - vt->start), line + klen + 2,
	    (size_t)(vt->end - kt->start) - klen - 1, &vlen);
	if (r == -2)
		return fail(x, "contains a NUL character (\\u0000)");
	switch (r == 0 ? http_header_check(line, &reserved) : HTTP_HEADER_INVALID) {
	case HTTP_HEADER_OK:
		break;
	case HTTP_HEADER_RESERVED:
		fail_prefix(x);
		buf_str(x->e, "the ");
		buf_str(x->e, reserved);
		buf_str(x->e, " header is anontel's to write (refused)");
		return -1;
	default:
		goto invalid;
	}
	if (header_seen(x->c, line, x->c->n_headers))
		return fail(x, "duplicate header (names are case-insensitive)");
	*total += klen + 2 + vlen + 2;
	if (*total > CFG_HEADERS_MAX)
		return fail_n(x, "the headers take more than ", CFG_HEADERS_MAX, " bytes in all");
	x->c->headers[x->c->n_headers++] = line;
	return 0;
invalid:
	/* The value is not shown: it may be a secret, or hold the bytes that broke it. */
	return fail(x, "expected a header name (an RFC 9110 token, as written) and a value "
	    "without control characters");
}

/* headers: {"Name": "value", ...}; the lines replace any read before. */
static int
h_headers(struct ctx *x, int t)
{
	size_t total = 0;
	int k = t + 1;

	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object");
	x->c->n_headers = 0;
	for (int m = 0; m < x->tok[t].size; m++) {
		size_t saved = path_push(x, x->js + x->tok[k].start,
		    (size_t)(x->tok[k].end - x->tok[k].start));

		if (put_header(x, k, &total) < 0)
			return -1;
		path_pop(x, saved);
		k += 2;     /* a name and its string */
	}
	return 0;
}

static const struct field top_fields[] = {
	{ "enabled", h_enabled },
	{ "service", h_service },
	{ "serviceVersion", h_service_version },
	{ "endpoint", h_endpoint },
	{ "format", h_format },
	{ "envelope", h_envelope },
	{ "runtimeVersion", h_runtime_version },
	{ "id", h_id },
	{ "interval", h_interval },
	{ "timeout", h_timeout },
	{ "stateDir", h_state_dir },
	{ "tls", h_tls },
	{ "proxy", h_proxy },
	{ "posthog", h_posthog },
	{ "enabledFeatures", h_features },
	{ "headers", h_headers },
};

/* Checks the object at token t against fields: each known at most once, no other. */
static int
walk_object(struct ctx *x, int t, const struct field *f, size_t nf)
{
	uint32_t seen = 0;
	int k = t + 1;

	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object");
	for (int m = 0; m < x->tok[t].size; m++) {
		char name[32];
		size_t n, saved, i = nf;
		int v = k + 1;

		if (decode(x->js + x->tok[k].start, (size_t)(x->tok[k].end - x->tok[k].start),
		        name, sizeof name, &n) == 0) {
			for (i = 0; i < nf; i++)
				if (strlen(f[i].name) == n && memcmp(f[i].name, name, n) == 0)
					break;
		}
		saved = path_push(x, x->js + x->tok[k].start, (size_t)(x->tok[k].end - x->tok[k].start));
		if (i == nf)
			return fail(x, "unknown key");
		if (seen & (UINT32_C(1) << i))
			return fail(x, "duplicate key");
		seen |= UINT32_C(1) << i;
		if (f[i].fn(x, v) < 0)
			return -1;
		path_pop(x, saved);
		k = skip(x, v);
	}
	return 0;
}

/* ---- the files ---- */

static void
fail_errno(struct buf *e, const char *path, const char *what, int errnum)
{
	buf_str(e, path);
	buf_str(e, what);
	buf_str(e, strerror(errnum));
}

#define TEXT_ABSENT (-2)

/* Reads path into dst[0..cap) and NUL-terminates it (dst has cap + 1 bytes).
 * Returns its length, TEXT_ABSENT when an optional file is absent, or -1.
 * `shared`: cap is what the config file left of cfg.text, said so when the file
 * is too big. */
static long
read_text(const char *path, char *dst, size_t cap, int optional, int shared, struct buf *e)
{
	size_t got;
	int r = file_read(AT_FDCWD, path, 0, dst, cap, &got);

	if (r == FILE_ABSENT && optional)
		return TEXT_ABSENT;
	if (r == FILE_TOO_BIG) {
		buf_str(e, path);
		buf_str(e, ": larger than ");
		buf_uint(e, cap, 0);
		buf_str(e, shared ? " bytes (what the config file leaves of 262144)" : " bytes");
		return -1;
	}
	if (r == FILE_NOT_REGULAR) {
		buf_str(e, path);
		buf_str(e, ": not a regular file");
		return -1;
	}
	if (r != FILE_OK) {
		fail_errno(e, path, ": cannot open: ", r == FILE_ABSENT ? ENOENT : errno);
		return -1;
	}
	dst[got] = '\0';
	return (long)got;
}

/* Reads the config file at path into c->text; returns its length, 0 with c->file
 * "" when the default file is absent, or -1. */
static long
read_file(struct cfg *c, const char *path, enum cfg_file_source src, struct buf *e)
{
	long n;

	if (strlen(path) >= sizeof c->file) {
		buf_str(e, "config path longer than 4095 bytes");
		return -1;
	}
	n = read_text(path, c->text, CFG_MAX_FILE, src == CFG_FILE_DEFAULT, 0, e);
	if (n == TEXT_ABSENT)
		return 0;
	if (n < 0)
		return -1;
	memcpy(c->file, path, strlen(path) + 1);
	c->file_source = src;
	return n;
}

/* The config file's top level: an object of top_fields. */
static int
h_top(struct ctx *x, int t)
{
	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object at the top level");
	return walk_object(x, t, top_fields, sizeof top_fields / sizeof top_fields[0]);
}

/*
 * Checks js[0..n), the text of `file` inside c->text, with json_validate ("F:L:C:
 * what"), tokenises it into w and runs top on its value. *file_enabled (may be
 * NULL) gets "enabled" from it, -1 when absent.
 */
static int
parse_text(struct cfg *c, const char *file, char *js, size_t n, struct work *w, handler top,
    struct buf *e, int *file_enabled)
{
	static struct ctx x;
	struct json_error je;
	jsmn_parser p;
	int r;

	if (json_validate(js, n, &je) < 0) {
		buf_str(e, file);
		buf_char(e, ':');
		buf_uint(e, je.line, 0);
		buf_char(e, ':');
		buf_uint(e, je.col, 0);
		buf_str(e, ": ");
		buf_str(e, je.what);
		return -1;
	}
	jsmn_init(&p);
	r = jsmn_parse(&p, js, n, w->tok, CFG_MAX_TOKENS);
	if (r < 0) {
		buf_str(e, file);
		if (r == JSMN_ERROR_NOMEM) {
			buf_str(e, ": more than ");
			buf_uint(e, CFG_MAX_TOKENS, 0);
			buf_str(e, " JSON values");
		} else {
			buf_str(e, ": cannot tokenise");
		}
		return -1;
	}
	memset(&x, 0, sizeof x);
	x.c = c;
	x.file = file;
	x.js = js;
	x.tok = w->tok;
	x.feat_slot = w->feat_slot;
	x.ntok = r;
	x.e = e;
	x.file_enabled = -1;
	if (top(&x, 0) < 0)
		return -1;
	if (file_enabled != NULL)
		*file_enabled = x.file_enabled;
	return 0;
}

/* A JSON file named by variable `var` (ANONTEL_FEATURES_FILE, ANONTEL_HEADERS_FILE),
 * read into the room left in c->text after *used bytes and run through top. *from
 * names the file (the variable's value) once it is read. */
static int
read_env_file(struct cfg *c, const char *var, size_t *used, struct work *w, handler top,
    const char **from, struct buf *e)
{
	const char *path = getenv(var);
	size_t room;
	long n;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (*used > CFG_MAX_FILE)       /* a config file of CFG_MAX_FILE bytes: no room */
		*used = CFG_MAX_FILE;
	room = CFG_MAX_FILE - *used;
	n = read_text(path, c->text + *used, room, 0, 1, e);
	if (n < 0 || parse_text(c, path, c->text + *used, (size_t)n, w, top, e, NULL) < 0)
		return -1;
	*used += (size_t)n + 1;
	*from = path;
	return 0;
}

/* ---- public ---- */

int
cfg_env_says_off(const char *v)
{
	static const char f[] = "false";
	size_t i;

	if (v == NULL || v[0] == '\0' || strcmp(v, "0") == 0)
		return 0;
	for (i = 0; i < 5; i++)
		if (v[i] != f[i] && v[i] != f[i] - 'a' + 'A')
			return 1;
	return v[5] != '\0';
}

enum cfg_rule
cfg_env_optout(void)
{
	if (cfg_env_says_off(getenv("ANONTEL_DISABLED")))
		return CFG_RULE_ANONTEL_DISABLED;
	if (cfg_env_says_off(getenv("DO_NOT_TRACK")))
		return CFG_RULE_DO_NOT_TRACK;
	return CFG_RULE_DEFAULT;
}

const char *
cfg_rule_text(enum cfg_rule rule)
{
	switch (rule) {
	case CFG_RULE_DEFAULT:
		return "on by default";
	case CFG_RULE_CONFIG_ENABLED:
		return "\"enabled\": true in the config file";
	case CFG_RULE_CONFIG_DISABLED:
		return "\"enabled\": false in the config file";
	case CFG_RULE_ANONTEL_DISABLED:
		return "ANONTEL_DISABLED is set";
	case CFG_RULE_DO_NOT_TRACK:
		return "DO_NOT_TRACK is set";
	}
	return "unknown rule";
}

int
cfg_parse_duration(const char *s, uint64_t *ms)
{
	static const uint64_t max = 365ULL * 24 * 3600 * 1000;
	uint64_t v = 0, unit;
	size_t i = 0;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	if (strcmp(s + i, "ms") == 0)
		unit = 1;
	else if (strcmp(s + i, "s") == 0)
		unit = 1000;
	else if (strcmp(s + i, "m") == 0)
		unit = 60ULL * 1000;
	else if (strcmp(s + i, "h") == 0)
		unit = 3600ULL * 1000;
	else if (strcmp(s + i, "d") == 0)
		unit = 24ULL * 3600 * 1000;
	else
		return -1;
	/* v <= max, unit <= 86400000: the product fits in 64 bits. */
	if (v == 0 || v * unit > max)
		return -1;
	*ms = v * unit;
	return 0;
}

void
cfg_defaults(struct cfg *c)
{
	/* Everything before the feature table; the big arrays are filled as read. */
	memset(c, 0, offsetof(struct cfg, features));
	c->enabled = 1;
	c->rule = CFG_RULE_DEFAULT;
	c->file_source = CFG_FILE_NONE;
	memcpy(c->service, "anontel", sizeof "anontel");
	copy_str(c->service_version, ANONTEL_VERSION,
	    strlen(ANONTEL_VERSION) < sizeof c->service_version ? strlen(ANONTEL_VERSION)
	                                                         : sizeof c->service_version - 1);
	c->format = CFG_FORMAT_BUTLER;
	c->envelope = 1;
	c->scheme = CFG_SCHEME_AUTO;
	c->interval_ms = 12ULL * 3600 * 1000;
	c->timeout_ms = 5000;
	memcpy(c->posthog_event, "telemetry sent", sizeof "telemetry sent");
	c->features_from = c->headers_from = c->file;
	c->n_features = 0;
	c->text[0] = '\0';
}

void
cfg_header_names(const struct cfg *c, struct buf *b)
{
	for (size_t i = 0; i < c->n_headers; i++) {
		if (i > 0)
			buf_str(b, ", ");
		buf_add(b, c->headers[i], (size_t)(strchr(c->headers[i], ':') - c->headers[i]));
	}
}

/* A setting from the environment or a flag: non-empty, bounded, clean.
 * kind 'u': a URL (no spaces either); '/': an absolute path; 0: any text. */
static int
outside_value(struct buf *e, const char *name, const char *v, char *dst, size_t cap, int kind)
{
	size_t n = strlen(v);
	const char *why = NULL;

	if (n == 0)
		why = ": must not be empty";
	else if (n >= cap) {
		buf_str(e, name);
		buf_str(e, ": longer than ");
		buf_uint(e, cap - 1, 0);
		buf_str(e, " bytes");
		return -1;
	}
	else if (has_control(v, n, kind == 'u'))
		why = kind == 'u' ? ": must not contain spaces or control characters"
		                  : ": must not contain control characters";
	else if (kind == '/' && v[0] != '/')
		why = ": expected an absolute path";
	if (why != NULL) {
		buf_str(e, name);
		buf_str(e, why);
		return -1;
	}
	copy_str(dst, v, n);
	return 0;
}

/* ANONTEL_SERVICE or ANONTEL_SERVICE_VERSION into dst, when set. */
static int
env_name(struct buf *e, const char *var, char *dst)
{
	const char *v = getenv(var);

	if (v == NULL || v[0] == '\0')
		return 0;
	if (!charset_ok(v, strlen(v), CFG_NAME_MAX, "_.+-")) {
		buf_str(e, var);
		buf_str(e, ": expected 1 to 64 of A-Z a-z 0-9 _ . + -");
		return -1;
	}
	copy_str(dst, v, strlen(v));
	return 0;
}

/* The message's inputs from the environment, for a run without a config file:
 * ANONTEL_SERVICE, ANONTEL_SERVICE_VERSION, ANONTEL_FORMAT, ANONTEL_FEATURES_FILE,
 * and the request's ANONTEL_HEADERS_FILE. used: the bytes of c->text taken. */
static int
env_inputs(struct cfg *c, size_t used, struct work *w, struct buf *e)
{
	const char *v = getenv("ANONTEL_FORMAT");
	unsigned format;

	if (env_name(e, "ANONTEL_SERVICE", c->service) < 0 ||
	    env_name(e, "ANONTEL_SERVICE_VERSION", c->service_version) < 0)
		return -1;
	if (v != NULL && v[0] != '\0') {
		if (choose(msg_format_name, v, &format) < 0) {
			buf_str(e, "ANONTEL_FORMAT: ");
			put_choices(e, msg_format_name);
			return -1;
		}
		c->format = (enum cfg_format)format;
	}
	/* Each file replaces what the config file said. */
	if (read_env_file(c, "ANONTEL_FEATURES_FILE", &used, w, h_features, &c->features_from,
	    e) < 0)
		return -1;
	return read_env_file(c, "ANONTEL_HEADERS_FILE", &used, w, h_headers, &c->headers_from, e);
}

/* Environment over the file (empty means unset), flags over both. */
static int
outside(struct cfg *c, const struct cfg_flags *flags, size_t used, struct work *w,
    struct buf *e)
{
	const char *v;

	if ((v = getenv("ANONTEL_ENDPOINT")) != NULL && v[0] != '\0' &&
	    outside_value(e, "ANONTEL_ENDPOINT", v, c->endpoint, sizeof c->endpoint, 'u') < 0)
		return -1;
	if ((v = getenv("ANONTEL_STATE_DIR")) != NULL && v[0] != '\0' &&
	    outside_value(e, "ANONTEL_STATE_DIR", v, c->state_dir, sizeof c->state_dir, '/') < 0)
		return -1;
	if ((v = getenv("ANONTEL_ID")) != NULL && v[0] != '\0' &&
	    outside_value(e, "ANONTEL_ID", v, c->fixed_id, sizeof c->fixed_id, 0) < 0)
		return -1;
	c->ca_file_from = c->ca_file[0] != '\0' ? "tls.caFile" : "";
	if ((v = getenv("SSL_CERT_FILE")) != NULL && v[0] != '\0') {
		if (outside_value(e, "SSL_CERT_FILE", v, c->ca_file, sizeof c->ca_file, 0) < 0)
			return -1;
		c->ca_file_from = "SSL_CERT_FILE";
	}
	if (env_inputs(c, used, w, e) < 0)
		return -1;
	if (flags->endpoint != NULL &&
	    outside_value(e, "--endpoint", flags->endpoint, c->endpoint, sizeof c->endpoint, 'u') < 0)
		return -1;
	if (flags->timeout != NULL && cfg_parse_duration(flags->timeout, &c->timeout_ms) < 0) {
		buf_str(e, "--timeout: invalid duration '");
		buf_shown(e, flags->timeout, strnlen(flags->timeout, 64));
		buf_char(e, '\'');
		return -1;
	}
	return 0;
}

int
cfg_load(struct cfg *c, const struct cfg_flags *flags, void *scratch, char *err, size_t errlen)
{
	static const struct cfg_flags none;
	char dummy[1];
	struct buf eb;
	const char *path, *v;
	enum cfg_file_source src;
	enum cfg_rule rule;
	int file_enabled = -1;
	long n;

	if (err != NULL && errlen > 0)
		buf_init(&eb, err, errlen);
	else
		buf_init(&eb, dummy, sizeof dummy);
	if (flags == NULL)
		flags = &none;
	cfg_defaults(c);

	if (flags->config != NULL) {
		if (flags->config[0] == '\0') {
			buf_str(&eb, "--config: must not be empty");
			return -1;
		}
		path = flags->config;
		src = CFG_FILE_FLAG;
	} else if ((v = getenv("ANONTEL_CONFIG")) != NULL && v[0] != '\0') {
		path = v;
		src = CFG_FILE_ENV;
	} else {
		path = DEFAULT_CONFIG;
		src = CFG_FILE_DEFAULT;
	}
	n = read_file(c, path, src, &eb);
	if (n < 0)
		return -1;
	if (c->file_source != CFG_FILE_NONE && parse_text(c, c->file, c->text, (size_t)n, scratch,
	    h_top, &eb, &file_enabled) < 0)
		return -1;
	if (outside(c, flags, c->file_source != CFG_FILE_NONE ? (size_t)n + 1 : 0, scratch,
	    &eb) < 0)
		return -1;
	/* The format's own rules, once every source of its settings is read. */
	if (msg_check(c, &eb) != 0)
		return -1;

	rule = cfg_env_optout();
	if (rule != CFG_RULE_DEFAULT)
		c->rule = rule;
	else if (file_enabled == 0)
		c->rule = CFG_RULE_CONFIG_DISABLED;
	else if (file_enabled == 1)
		c->rule = CFG_RULE_CONFIG_ENABLED;
	else
		c->rule = CFG_RULE_DEFAULT;
	c->enabled = c->rule == CFG_RULE_DEFAULT || c->rule == CFG_RULE_CONFIG_ENABLED;
	return 0;
}
