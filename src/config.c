#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ascii.h"
#include "buf.h"
#include "file.h"
#include "http.h"
#include "id.h"
#include "json.h"
#include "message.h"
#include "trust.h"

/* Parent links make jsmn's ',' and '}' O(depth) instead of a backward scan. */
#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include "jsmn.h"

#ifndef ANONTEL_VERSION
#define ANONTEL_VERSION "unknown"
#endif
_Static_assert(sizeof ANONTEL_VERSION <= CFG_NAME_MAX + 1, "ANONTEL_VERSION is too long");

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

/* One cfg_load call: what it fills, where its message goes, and what is being
 * read: a file and the value in it being checked, a variable or a flag. */
struct ctx {
	struct cfg *c;
	struct buf *e;
	jsmntok_t *tok;         /* the work's tokens, of js */
	uint32_t *feat_slot;    /* the work's hash set of feature keys */
	size_t used;            /* bytes of c->text the files read so far take */
	const char *where;      /* what messages name first: the file js came from,
	                         * or the variable or flag being read */
	char *js;               /* the file's text, inside c->text */
	int ntok;
	int file_enabled;       /* the config file's "enabled"; -1: not in it */
	size_t leaves;          /* booleans in enabledFeatures */
	size_t plen;            /* the length of path */
	char path[640];         /* the key path of the value being checked */
};

typedef int (*handler)(struct ctx *x, int t);

struct field {
	const char *name;
	handler fn;
};

/* What a text setting may hold, from the file or from outside (text_fault). */
enum text_kind {
	TEXT_ANY,       /* non-empty, no control characters */
	TEXT_OPTIONAL,  /* the same, or empty */
	TEXT_ABSOLUTE,  /* TEXT_ANY starting with '/' */
	TEXT_URL,       /* TEXT_ANY without spaces */
	/* Words: 1 to at most `max` bytes, each alphanumeric or one of a few (words[]). */
	TEXT_NAME,      /* [A-Za-z0-9_.+-]{1,64} */
	TEXT_KEY,       /* an enabledFeatures key, [A-Za-z0-9_.-]{1,64} */
	TEXT_HOST,      /* id.host */
	TEXT_API_KEY,   /* posthog.apiKey */
	TEXT_EVENT      /* posthog.event: printable ASCII */
};

/* The words' grammars, indexed by kind - TEXT_NAME, and what a refusal says. */
static const struct {
	uint8_t max;
	const char *extra;      /* the bytes allowed besides A-Z a-z 0-9 */
	const char *what;
} words[] = {
	[TEXT_NAME - TEXT_NAME] = { CFG_NAME_MAX, "_.+-",
	    "expected 1 to 64 of A-Z a-z 0-9 _ . + -" },
	[TEXT_KEY - TEXT_NAME] = { CFG_NAME_MAX, "_.-",
	    "invalid key: expected 1 to 64 of A-Z a-z 0-9 _ . -" },
	[TEXT_HOST - TEXT_NAME] = { 253, ".:_-",
	    "expected a host name or IP address (1 to 253 of A-Z a-z 0-9 . : _ -)" },
	[TEXT_API_KEY - TEXT_NAME] = { 128, "_-", "expected 1 to 128 of A-Z a-z 0-9 _ -" },
	/* Printable ASCII: the alphanumerics and these. */
	[TEXT_EVENT - TEXT_NAME] = { 128, " !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
	    "expected 1 to 128 printable ASCII characters" },
};
_Static_assert(sizeof words / sizeof words[0] == TEXT_EVENT - TEXT_NAME + 1,
    "a grammar for every word kind");
/* set_text copies a word and its NUL into its field: each field holds its maximum. */
#define FIELD_SIZE(f) sizeof (((struct cfg *)0)->f)
_Static_assert(FIELD_SIZE(service) > CFG_NAME_MAX && FIELD_SIZE(id_host) > 253 &&
    FIELD_SIZE(posthog_api_key) > 128 && FIELD_SIZE(posthog_event) > 128,
    "every word fits its field");

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

/* Why s[0..n) is not a text setting of this kind, or NULL when it is one. */
static const char *
text_fault(const char *s, size_t n, enum text_kind kind)
{
	if (kind >= TEXT_NAME)
		return charset_ok(s, n, words[kind - TEXT_NAME].max, words[kind - TEXT_NAME].extra) ?
		    NULL : words[kind - TEXT_NAME].what;
	if (n == 0 && kind != TEXT_OPTIONAL)
		return "must not be empty";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7F || (c == ' ' && kind == TEXT_URL))
			return kind == TEXT_URL ? "must not contain spaces or control characters"
			                        : "must not contain control characters";
	}
	if (kind == TEXT_ABSOLUTE && s[0] != '/')
		return "expected an absolute path";
	return NULL;
}

/* A variable's value v (getenv's), or NULL when it is empty: empty means unset. */
static const char *
nonempty(const char *v)
{
	return v != NULL && v[0] != '\0' ? v : NULL;
}

/* The length of token t's text. */
static size_t
tok_len(const struct ctx *x, int t)
{
	return (size_t)(x->tok[t].end - x->tok[t].start);
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

/* json_unescape over the text of token t. */
static long
decode_tok(const struct ctx *x, int t, char *out, size_t cap)
{
	return json_unescape(x->js + x->tok[t].start, tok_len(x, t), out, cap);
}

/* ---- messages ---- */

/* Appends token k's text, the key of the value checked next, to the key path;
 * returns the path's length before, for path_pop. */
static size_t
path_push(struct ctx *x, int k)
{
	size_t saved = x->plen, n = tok_len(x, k);
	struct buf b;

	/* A buf over the path's tail: a long path is cut, never overrun. */
	buf_init(&b, x->path + x->plen, sizeof x->path - x->plen);
	if (x->plen > 0)
		buf_char(&b, '.');
	buf_add(&b, x->js + x->tok[k].start, n > 64 ? 64 : n);
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

/* Appends a, v in decimal, then z ("longer than 64 bytes"). Returns -1. */
static int
put_num(struct buf *e, const char *a, uint64_t v, const char *z)
{
	buf_str(e, a);
	buf_uint(e, v, 0);
	buf_str(e, z);
	return -1;
}

/* "WHERE: key.path: " (no key path outside a file). */
static void
fail_prefix(struct ctx *x)
{
	buf_str(x->e, x->where);
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
	return put_num(x->e, a, v, z);
}

/* ---- typed values ---- */

/* The decoded string at token t, at most max (< sizeof decoded) bytes, into
 * decoded; returns its length or -1. */
static long
get_str(struct ctx *x, int t, size_t max)
{
	long n;

	if (x->tok[t].type != JSMN_STRING)
		return fail(x, "expected a string");
	n = decode_tok(x, t, decoded, max + 1);
	if (n == -1)
		return fail_n(x, "longer than ", max, " bytes");
	if (n == -2)
		return fail(x, "contains a NUL character (\\u0000)");
	return n;
}

/* 't' or 'f' when token t is true or false, else 0. */
static int
bool_at(const struct ctx *x, int t)
{
	char c = x->js[x->tok[t].start];

	return x->tok[t].type == JSMN_PRIMITIVE && (c == 't' || c == 'f') ? c : 0;
}

static int
get_bool(struct ctx *x, int t, int *v)
{
	int b = bool_at(x, t);

	if (b == 0)
		return fail(x, "expected true or false");
	*v = b == 't';
	return 0;
}

/* s[0..n) into dst when text_fault takes it as `kind`; else why not. */
static int
set_text(struct ctx *x, const char *s, size_t n, char *dst, enum text_kind kind)
{
	const char *why = text_fault(s, n, kind);

	if (why != NULL)
		return fail(x, why);
	memcpy(dst, s, n + 1);
	return 0;
}

/* A string of at most max bytes that text_fault takes as `kind`, into dst. */
static int
get_text(struct ctx *x, int t, char *dst, size_t max, enum text_kind kind)
{
	long n = get_str(x, t, max);

	return n < 0 ? -1 : set_text(x, decoded, (size_t)n, dst, kind);
}

/* A word of `kind` into dst: its grammar says its length, so a longer string is
 * refused as a word ("expected 1 to 64 of ..."), not as too long. */
static int
get_word(struct ctx *x, int t, char *dst, enum text_kind kind)
{
	return get_text(x, t, dst, CFG_PATH_MAX, kind);
}

static int
get_duration(struct ctx *x, int t, uint64_t *ms)
{
	if (get_str(x, t, CFG_PATH_MAX) < 0)
		return -1;
	if (cfg_parse_duration(decoded, ms) < 0)
		return fail(x, "invalid duration (a whole number and ms, s, m, h or d; at most 365d)");
	return 0;
}

/* Appends the names of a module's table, name(0), name(1), ... up to the first
 * NULL (msg_format_name, id_scheme_name), as: expected "a", "b" or "c". */
static void
put_choices(struct buf *e, const char *(*name)(unsigned))
{
	buf_str(e, "expected ");
	for (unsigned i = 0; name(i) != NULL; i++) {
		if (i > 0)
			buf_str(e, name(i + 1) != NULL ? ", " : " or ");
		buf_char(e, '"');
		buf_str(e, name(i));
		buf_char(e, '"');
	}
}

/* The index of s in a module's table; anything else is refused with the table's
 * names. */
static int
choice(struct ctx *x, const char *s, const char *(*name)(unsigned))
{
	for (unsigned i = 0; name(i) != NULL; i++)
		if (strcmp(s, name(i)) == 0)
			return (int)i;
	fail_prefix(x);
	put_choices(x->e, name);
	return -1;
}

/* The index of the name at token t in a module's table, as choice. */
static int
get_choice(struct ctx *x, int t, const char *(*name)(unsigned))
{
	if (get_str(x, t, CFG_PATH_MAX) < 0)
		return -1;
	return choice(x, decoded, name);
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
	return get_word(x, t, x->c->service, TEXT_NAME);
}

static int
h_service_version(struct ctx *x, int t)
{
	return get_word(x, t, x->c->service_version, TEXT_NAME);
}

static int
h_runtime_version(struct ctx *x, int t)
{
	return get_word(x, t, x->c->runtime_version, TEXT_NAME);
}

static int
h_endpoint(struct ctx *x, int t)
{
	return get_text(x, t, x->c->endpoint, CFG_URL_MAX, TEXT_URL);
}

static int
h_format(struct ctx *x, int t)
{
	int v = get_choice(x, t, msg_format_name);

	if (v < 0)
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
	int v = get_choice(x, t, id_scheme_name);

	if (v < 0)
		return -1;
	x->c->scheme = (enum cfg_scheme)v;
	return 0;
}

static int
h_host(struct ctx *x, int t)
{
	return get_word(x, t, x->c->id_host, TEXT_HOST);
}

/* 32 hex digits, or a UUID 8-4-4-4-12; kept as 32 lowercase hex digits. */
static int
h_app_id(struct ctx *x, int t)
{
	long n = get_str(x, t, CFG_PATH_MAX);
	size_t o = 0;

	if (n < 0)
		return -1;
	if (n != 32 && n != 36)
		goto bad;
	/* The digits are gathered at the front of decoded itself (o <= i). */
	for (long i = 0; i < n; i++) {
		if (n == 36 && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (decoded[i] != '-')
				goto bad;
		} else if (ascii_hex_val((unsigned char)decoded[i]) < 0) {
			goto bad;
		} else {
			decoded[o++] = (char)ascii_lower((unsigned char)decoded[i]);
		}
	}
	memcpy(x->c->id_app_id, decoded, o);
	x->c->id_app_id[o] = '\0';
	return 0;
bad:
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
	return get_text(x, t, x->c->state_dir, CFG_PATH_MAX - 1, TEXT_ABSOLUTE);
}

static int
h_ca_file(struct ctx *x, int t)
{
	return get_text(x, t, x->c->ca_file, CFG_PATH_MAX - 1, TEXT_ANY);
}

/* "sha256//" and the canonical base64 of 32 bytes: the pin the tls module takes. */
static int
h_pin(struct ctx *x, int t)
{
	struct tls_trust trust;
	long n = get_str(x, t, CFG_PATH_MAX);

	if (n < 0)
		return -1;
	if (tls_trust_pin(&trust, decoded, NULL, 0) < 0)
		return fail(x, "expected sha256// and the base64 SHA-256 of a public key (44 characters)");
	memcpy(x->c->pin, decoded, (size_t)n + 1);
	return 0;
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
	return get_text(x, t, x->c->proxy, CFG_URL_MAX, TEXT_OPTIONAL);
}

static int
h_api_key(struct ctx *x, int t)
{
	return get_word(x, t, x->c->posthog_api_key, TEXT_API_KEY);
}

static int
h_event(struct ctx *x, int t)
{
	return get_word(x, t, x->c->posthog_event, TEXT_EVENT);
}

static int
h_posthog(struct ctx *x, int t)
{
	static const struct field f[] = { { "apiKey", h_api_key }, { "event", h_event } };
	return walk_object(x, t, f, sizeof f / sizeof f[0]);
}

/* Runs each(x, k, arg) on the members of the object at token t in turn, k the
 * member's key, with the key on the path while it runs; "expected an object"
 * when t is not one. */
static int
each_member(struct ctx *x, int t, int (*each)(struct ctx *x, int k, void *arg), void *arg)
{
	int k = t + 1;

	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object");
	for (int m = 0; m < x->tok[t].size; m++) {
		size_t saved = path_push(x, k);

		if (each(x, k, arg) < 0)
			return -1;
		path_pop(x, saved);
		k = skip(x, k + 1);     /* past the member's value */
	}
	return 0;
}

/* 1 if key is already in object `scope`; else records it as entry n_features. */
static int
feat_seen(const struct ctx *x, size_t scope, const char *key)
{
	const struct cfg *c = x->c;
	uint32_t *feat_slot = x->feat_slot;
	uint32_t h = (uint32_t)scope;

	/* FNV-1a's steps over the key, from the scope instead of FNV's offset basis. */
	for (const char *p = key; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;

	for (uint32_t i = h & (FEAT_SLOTS - 1);; i = (i + 1) & (FEAT_SLOTS - 1)) {
		uint32_t e = feat_slot[i];
		const char *o;

		if (e == 0) {
			feat_slot[i] = (((uint32_t)scope << 16) | (uint32_t)c->n_features) + 1;
			return 0;
		}
		e--;
		o = c->features[e & 0xffff].key;
		if ((e >> 16) == scope && strcmp(o, key) == 0)
			return 1;
	}
}

/* An object inside enabledFeatures: the depth of its members, and the index of
 * its first entry, which names it in feat_seen. */
struct feat_object {
	unsigned depth;
	size_t first;
};

static int walk_features(struct ctx *x, int t, unsigned depth);

/*
 * A member of enabledFeatures or of an object inside it, at key k: entries in
 * file order, pre-order. Keys are checked on their raw text: their grammar has
 * no backslash, so raw text equals the decoded key, and the closing quote can
 * become the key's NUL.
 */
static int
put_feature(struct ctx *x, int k, void *arg)
{
	const struct feat_object *o = arg;
	struct cfg *c = x->c;
	int v = k + 1, b = bool_at(x, v);
	const char *key = x->js + x->tok[k].start, *why;
	struct cfg_feature *f;

	x->js[x->tok[k].end] = '\0';     /* feat_seen compares whole keys */
	if ((why = text_fault(key, tok_len(x, k), TEXT_KEY)) != NULL)
		return fail(x, why);
	if (feat_seen(x, o->first, key))
		return fail(x, "duplicate key");
	if (o->depth > CFG_MAX_FEAT_DEPTH)
		return fail(x, "nested deeper than 8 levels");
	if (c->n_features >= CFG_MAX_FEATURES)
		return fail(x, "more than 2048 entries in enabledFeatures");
	f = &c->features[c->n_features];
	if (x->tok[v].type == JSMN_OBJECT)
		f->kind = CFG_FEATURE_OBJECT;
	else if (b == 0)
		return fail(x, "expected true, false or an object");
	else if (++x->leaves > CFG_MAX_LEAVES)
		return fail(x, "more than 1024 booleans in enabledFeatures");
	else
		f->kind = b == 't' ? CFG_FEATURE_TRUE : CFG_FEATURE_FALSE;
	f->depth = (uint8_t)o->depth;
	f->key = key;
	c->n_features++;
	return f->kind == CFG_FEATURE_OBJECT ? walk_features(x, v, o->depth + 1) : 0;
}

/* The object at token t, whose members have depth `depth`. */
static int
walk_features(struct ctx *x, int t, unsigned depth)
{
	struct feat_object o = { depth, x->c->n_features };

	return each_member(x, t, put_feature, &o);
}

static int
h_features(struct ctx *x, int t)
{
	x->c->n_features = 0;       /* ANONTEL_FEATURES_FILE's replace the config's */
	x->leaves = 0;
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
put_header(struct ctx *x, int k, void *arg)
{
	size_t *total = arg;
	const jsmntok_t *kt = &x->tok[k], *vt = &x->tok[k + 1];
	char *line = x->js + kt->start;
	size_t klen = tok_len(x, k);
	const char *reserved = NULL;
	long vlen;

	if (vt->type != JSMN_STRING)
		return fail(x, "expected a string");
	if (x->c->n_headers >= CFG_MAX_HEADERS)
		return fail_n(x, "more than ", CFG_MAX_HEADERS, " headers");
	if (memchr(line, ':', klen) != NULL)
		goto invalid;
	line[klen] = ':';
	line[klen + 1] = ' ';
	vlen = decode_tok(x, k + 1, line + klen + 2,
	    (size_t)(vt->end - kt->start) - klen - 1);
	if (vlen == -2)
		return fail(x, "contains a NUL character (\\u0000)");
	switch (vlen >= 0 ? http_header_check(line, &reserved) : HTTP_HEADER_INVALID) {
	case HTTP_HEADER_OK:
		break;
	case HTTP_HEADER_RESERVED:
		fail(x, "the ");
		buf_str(x->e, reserved);
		buf_str(x->e, " header is anontel's to write (refused)");
		return -1;
	default:
		goto invalid;
	}
	if (header_seen(x->c, line, x->c->n_headers))
		return fail(x, "duplicate header (names are case-insensitive)");
	*total += klen + 2 + (size_t)vlen + 2;
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

	x->c->n_headers = 0;
	return each_member(x, t, put_header, &total);
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

/* The fields an object may have, and those it has had so far. */
struct fields {
	const struct field *f;
	size_t n;
	uint32_t seen;
};

/* The member at key k: one of the fields, at most once. */
static int
put_field(struct ctx *x, int k, void *arg)
{
	struct fields *fs = arg;
	char name[32];
	size_t i = fs->n;

	/* Keys are matched decoded; one too long for name is no field's. */
	if (decode_tok(x, k, name, sizeof name) >= 0)
		for (i = 0; i < fs->n && strcmp(fs->f[i].name, name) != 0; i++)
			;
	if (i == fs->n)
		return fail(x, "unknown key");
	if (fs->seen & (UINT32_C(1) << i))
		return fail(x, "duplicate key");
	fs->seen |= UINT32_C(1) << i;
	return fs->f[i].fn(x, k + 1);
}

/* Checks the object at token t against fields: each known at most once, no other. */
static int
walk_object(struct ctx *x, int t, const struct field *f, size_t nf)
{
	struct fields fs = { f, nf, 0 };

	return each_member(x, t, put_field, &fs);
}

/* The config file's top level: an object of top_fields. */
static int
h_top(struct ctx *x, int t)
{
	if (x->tok[t].type != JSMN_OBJECT)
		return fail(x, "expected an object at the top level");
	return walk_object(x, t, top_fields, sizeof top_fields / sizeof top_fields[0]);
}

/* ---- the files ---- */

/*
 * Reads path into the room left in c->text after x->used bytes, NUL-terminated,
 * checks it with json_validate ("F:L:C: what"), tokenises it and runs top on its
 * value. Returns 1, 0 when an optional file is absent, or -1. `shared`: the room
 * is what the config file left, said so when the file is too big.
 */
static int
read_json(struct ctx *x, const char *path, int optional, int shared, handler top)
{
	size_t room = CFG_MAX_FILE - x->used, n;
	char *js = x->c->text + x->used;
	struct buf *e = x->e;
	struct json_error je;
	jsmn_parser p;
	int r = file_read(AT_FDCWD, path, 0, js, room, &n);

	x->where = path;
	if (r == FILE_ABSENT && optional)
		return 0;
	if (r == FILE_TOO_BIG)
		return fail_n(x, "larger than ", room,
		    shared ? " bytes (what the config file leaves of 262144)" : " bytes");
	if (r == FILE_NOT_REGULAR)
		return fail(x, "not a regular file");
	if (r != FILE_OK) {
		fail(x, "cannot open: ");
		buf_str(e, strerror(r == FILE_ABSENT ? ENOENT : errno));
		return -1;
	}
	js[n] = '\0';
	/* The next file gets what is left after this one's NUL (none after a file
	 * that took all the room). */
	x->used += n + (n < room);
	if (json_validate(js, n, &je) < 0) {
		buf_str(e, path);
		put_num(e, ":", je.line, ":");
		put_num(e, "", je.col, ": ");
		buf_str(e, je.what);
		return -1;
	}
	jsmn_init(&p);
	r = jsmn_parse(&p, js, n, x->tok, CFG_MAX_TOKENS);
	if (r == JSMN_ERROR_NOMEM)
		return fail_n(x, "more than ", CFG_MAX_TOKENS, " JSON values");
	if (r < 0)
		return fail(x, "cannot tokenise");
	x->js = js;
	x->ntok = r;
	return top(x, 0) < 0 ? -1 : 1;
}

/* The JSON file a variable names (ANONTEL_FEATURES_FILE, ANONTEL_HEADERS_FILE),
 * path its value (getenv's), read after the config file and run through top.
 * *from names the file once it is read. */
static int
read_env_file(struct ctx *x, const char *path, handler top, const char **from)
{
	if (nonempty(path) == NULL)
		return 0;
	if (read_json(x, path, 0, 1, top) < 0)
		return -1;
	*from = path;
	return 0;
}

/* ---- public ---- */

int
cfg_env_says_off(const char *v)
{
	return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0 &&
	    strncasecmp(v, "false", sizeof "false") != 0;
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
	static const char *const text[] = {
		[CFG_RULE_DEFAULT] = "on by default",
		[CFG_RULE_CONFIG_ENABLED] = "\"enabled\": true in the config file",
		[CFG_RULE_CONFIG_DISABLED] = "\"enabled\": false in the config file",
		[CFG_RULE_ANONTEL_DISABLED] = "ANONTEL_DISABLED is set",
		[CFG_RULE_DO_NOT_TRACK] = "DO_NOT_TRACK is set",
	};

	return (unsigned)rule < sizeof text / sizeof text[0] ? text[rule] : "unknown rule";
}

int
cfg_parse_duration(const char *s, uint64_t *ms)
{
	static const struct {
		char name[3];
		uint32_t ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60 * 1000 }, { "h", 3600 * 1000 },
		{ "d", 24 * 3600 * 1000 },
	};
	static const uint64_t max = 365ULL * 24 * 3600 * 1000;
	uint64_t v = 0;
	size_t i = 0;

	if (s == NULL || !ascii_is_digit(s[0]))
		return -1;
	for (; ascii_is_digit(s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > max)
			return -1;
	}
	for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
		/* v <= max, ms <= 86400000: the product fits in 64 bits. */
		if (strcmp(s + i, units[u].name) == 0) {
			if (v == 0 || v * units[u].ms > max)
				return -1;
			*ms = v * units[u].ms;
			return 0;
		}
	}
	return -1;
}

void
cfg_defaults(struct cfg *c)
{
	/* Everything before the feature table; the big arrays are filled as read.
	 * Zero is: rule default, no file, format butler, scheme auto, no headers. */
	memset(c, 0, offsetof(struct cfg, features));
	c->enabled = 1;
	memcpy(c->service, "anontel", sizeof "anontel");
	memcpy(c->service_version, ANONTEL_VERSION, sizeof ANONTEL_VERSION);
	c->envelope = 1;
	c->interval_ms = 12ULL * 3600 * 1000;
	c->timeout_ms = 5000;
	memcpy(c->posthog_event, "telemetry sent", sizeof "telemetry sent");
	c->features_from = c->headers_from = c->file;
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

/* A setting from the environment or a flag, v, into dst[cap]: what text_fault
 * takes as `kind`, shorter than cap. Returns 1, or -1 when it is refused
 * ("NAME: why"). */
static int
outside_value(struct ctx *x, const char *name, const char *v, char *dst, size_t cap,
    enum text_kind kind)
{
	size_t n = strlen(v);

	x->where = name;
	if (n >= cap && kind < TEXT_NAME)       /* a word's grammar says its length */
		return fail_n(x, "longer than ", cap - 1, " bytes");
	return set_text(x, v, n, dst, kind) < 0 ? -1 : 1;
}

/* Environment variable `name` into dst[cap] through outside_value unless it is
 * unset or empty: 1 when it was set, else 0, or -1. */
static int
env_setting(struct ctx *x, const char *name, char *dst, size_t cap, enum text_kind kind)
{
	const char *v = nonempty(getenv(name));

	return v != NULL ? outside_value(x, name, v, dst, cap, kind) : 0;
}

/* The message's inputs from the environment, for a run without a config file:
 * ANONTEL_SERVICE, ANONTEL_SERVICE_VERSION, ANONTEL_FORMAT, ANONTEL_FEATURES_FILE,
 * and the request's ANONTEL_HEADERS_FILE. */
static int
env_inputs(struct ctx *x)
{
	struct cfg *c = x->c;
	const char *v = nonempty(getenv("ANONTEL_FORMAT"));
	int format;

	if (env_setting(x, "ANONTEL_SERVICE", c->service, sizeof c->service, TEXT_NAME) < 0 ||
	    env_setting(x, "ANONTEL_SERVICE_VERSION", c->service_version,
	    sizeof c->service_version, TEXT_NAME) < 0)
		return -1;
	if (v != NULL) {
		x->where = "ANONTEL_FORMAT";
		if ((format = choice(x, v, msg_format_name)) < 0)
			return -1;
		c->format = (enum cfg_format)format;
	}
	/* Each file replaces what the config file said. */
	if (read_env_file(x, getenv("ANONTEL_FEATURES_FILE"), h_features,
	    &c->features_from) < 0)
		return -1;
	return read_env_file(x, getenv("ANONTEL_HEADERS_FILE"), h_headers, &c->headers_from);
}

/* Environment over the file (empty means unset), flags over both. */
static int
outside(struct ctx *x, const struct cfg_flags *flags)
{
	struct cfg *c = x->c;
	int r;

	if (env_setting(x, "ANONTEL_ENDPOINT", c->endpoint, sizeof c->endpoint, TEXT_URL) < 0 ||
	    env_setting(x, "ANONTEL_STATE_DIR", c->state_dir, sizeof c->state_dir,
	    TEXT_ABSOLUTE) < 0 ||
	    env_setting(x, "ANONTEL_ID", c->fixed_id, sizeof c->fixed_id, TEXT_ANY) < 0)
		return -1;
	c->ca_file_from = c->ca_file[0] != '\0' ? "tls.caFile" : "";
	r = env_setting(x, "SSL_CERT_FILE", c->ca_file, sizeof c->ca_file, TEXT_ANY);
	if (r < 0)
		return -1;
	if (r > 0)
		c->ca_file_from = "SSL_CERT_FILE";
	if (env_inputs(x) < 0)
		return -1;
	if (flags->endpoint != NULL && outside_value(x, "--endpoint", flags->endpoint,
	    c->endpoint, sizeof c->endpoint, TEXT_URL) < 0)
		return -1;
	if (flags->timeout != NULL && cfg_parse_duration(flags->timeout, &c->timeout_ms) < 0) {
		size_t n = strlen(flags->timeout);

		x->where = "--timeout";
		fail(x, "invalid duration '");
		buf_shown(x->e, flags->timeout, n < 64 ? n : 64);
		buf_char(x->e, '\'');
		return -1;
	}
	return 0;
}

int
cfg_load(struct cfg *c, const struct cfg_flags *flags, void *scratch, char *err, size_t errlen)
{
	static const struct cfg_flags none;
	static struct ctx x;
	struct work *w = scratch;
	char dummy[1];
	struct buf eb;
	const char *path;
	int optional = 0, found;    /* optional: the default file, absent means none */
	enum cfg_rule rule;

	if (err != NULL && errlen > 0)
		buf_init(&eb, err, errlen);
	else
		buf_init(&eb, dummy, sizeof dummy);
	if (flags == NULL)
		flags = &none;
	cfg_defaults(c);
	memset(&x, 0, sizeof x);
	x.c = c;
	x.e = &eb;
	x.tok = w->tok;
	x.feat_slot = w->feat_slot;
	x.file_enabled = -1;

	if (flags->config != NULL) {
		x.where = "--config";
		if (flags->config[0] == '\0')
			return fail(&x, "must not be empty");
		path = flags->config;
	} else if ((path = nonempty(getenv("ANONTEL_CONFIG"))) == NULL) {
		path = DEFAULT_CONFIG;
		optional = 1;
	}
	if (strlen(path) >= sizeof c->file) {
		buf_str(&eb, "config path longer than 4095 bytes");
		return -1;
	}
	/* c->file names the file while it is checked (its features and headers say
	 * where they came from), and stays "" when the default one is absent. */
	memcpy(c->file, path, strlen(path) + 1);
	found = read_json(&x, c->file, optional, 0, h_top);
	if (found < 0)
		return -1;
	if (found == 0)
		c->file[0] = '\0';
	if (outside(&x, flags) < 0)
		return -1;
	/* The format's own rules, once every source of its settings is read. */
	if (msg_check(c, &eb) != 0)
		return -1;

	rule = cfg_env_optout();
	if (rule != CFG_RULE_DEFAULT)
		c->rule = rule;
	else if (x.file_enabled == 0)
		c->rule = CFG_RULE_CONFIG_DISABLED;
	else if (x.file_enabled == 1)
		c->rule = CFG_RULE_CONFIG_ENABLED;
	else
		c->rule = CFG_RULE_DEFAULT;
	c->enabled = c->rule == CFG_RULE_DEFAULT || c->rule == CFG_RULE_CONFIG_ENABLED;
	return 0;
}
