/*
 * fuzz_json: the strict validator and the emitter (src/json.c).
 *
 * 1. json_validate against a reference: a plain recursive-descent RFC 8259 parser
 *    written here from the grammar (plus json.h's own rules: nesting <= 64, no BOM,
 *    no lone surrogate escapes). Both must accept and refuse the same texts. On a
 *    refusal, the position must be inside the text and line/col must agree with
 *    the offset, and the reason must be one json.h lists.
 * 2. json_string over the input as raw bytes: the output must be valid JSON (by
 *    the reference: an oracle that shares no code with what it checks), a single
 *    string, and decode (by the reference decoder) to the input with each
 *    byte of an invalid UTF-8 sequence replaced by U+FFFD.
 * 3. json_writer driven by the input as a list of operations (objects, arrays and
 *    values), compact and pretty:
 *    whenever the writer did not flag overflow, both outputs are valid JSON, and the
 *    pretty one minus its whitespace outside strings equals the compact one.
 */
#include "fuzz_util.h"

#include "buf.h"
#include "json.h"

/* ---- reference validator ------------------------------------------------ */

struct ref {
	const unsigned char *p;
	size_t n, i;
	unsigned max_depth;    /* JSON_MAX_DEPTH for input, JSON_WRITE_MAX_DEPTH for output */
};

static void
ref_ws(struct ref *r)
{
	while (r->i < r->n && (r->p[r->i] == ' ' || r->p[r->i] == '\t' || r->p[r->i] == '\n' ||
	    r->p[r->i] == '\r'))
		r->i++;
}

static int
ref_hex4(struct ref *r, size_t at, unsigned *v)
{
	*v = 0;
	if (at + 4 > r->n)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		unsigned char c = r->p[at + k];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		*v = *v * 16 + d;
	}
	return 0;
}

static int
ref_string(struct ref *r)
{
	r->i++;    /* the opening quote */
	for (;;) {
		unsigned char c;
		uint32_t cp;

		if (r->i >= r->n)
			return -1;
		c = r->p[r->i];
		if (c == '"') {
			r->i++;
			return 0;
		}
		if (c < 0x20)
			return -1;
		if (c == '\\') {
			unsigned u, lo;

			if (r->i + 1 >= r->n)
				return -1;
			c = r->p[r->i + 1];
			if (c != 'u') {
				if (strchr("\"\\/bfnrt", c) == NULL || c == 0)
					return -1;
				r->i += 2;
				continue;
			}
			if (ref_hex4(r, r->i + 2, &u) != 0)
				return -1;
			r->i += 6;
			if (u >= 0xDC00 && u <= 0xDFFF)
				return -1;
			if (u >= 0xD800 && u <= 0xDBFF) {
				if (r->i + 6 > r->n || r->p[r->i] != '\\' || r->p[r->i + 1] != 'u' ||
				    ref_hex4(r, r->i + 2, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF)
					return -1;
				r->i += 6;
			}
			continue;
		}
		{
			size_t k = fz_utf8(r->p + r->i, r->n - r->i, &cp);
			if (k == 0)
				return -1;
			r->i += k;
		}
	}
}

static int
ref_digits(struct ref *r)
{
	size_t s = r->i;
	while (r->i < r->n && r->p[r->i] >= '0' && r->p[r->i] <= '9')
		r->i++;
	return r->i > s ? 0 : -1;
}

static int
ref_number(struct ref *r)
{
	if (r->p[r->i] == '-')
		r->i++;
	if (r->i >= r->n)
		return -1;
	if (r->p[r->i] == '0')
		r->i++;
	else if (ref_digits(r) != 0)
		return -1;
	if (r->i < r->n && r->p[r->i] == '.') {
		r->i++;
		if (ref_digits(r) != 0)
			return -1;
	}
	if (r->i < r->n && (r->p[r->i] == 'e' || r->p[r->i] == 'E')) {
		r->i++;
		if (r->i < r->n && (r->p[r->i] == '+' || r->p[r->i] == '-'))
			r->i++;
		if (ref_digits(r) != 0)
			return -1;
	}
	return 0;
}

static int
ref_lit(struct ref *r, const char *w)
{
	size_t k = strlen(w);
	if (r->n - r->i < k || memcmp(r->p + r->i, w, k) != 0)
		return -1;
	r->i += k;
	return 0;
}

/* depth: containers around this value. */
static int
ref_value(struct ref *r, unsigned depth)
{
	unsigned char c;

	ref_ws(r);
	if (r->i >= r->n)
		return -1;
	c = r->p[r->i];
	if (c == '{' || c == '[') {
		unsigned char close = c == '{' ? '}' : ']';

		if (depth + 1 > r->max_depth)
			return -1;
		r->i++;
		ref_ws(r);
		if (r->i < r->n && r->p[r->i] == close) {
			r->i++;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				ref_ws(r);
				if (r->i >= r->n || r->p[r->i] != '"' || ref_string(r) != 0)
					return -1;
				ref_ws(r);
				if (r->i >= r->n || r->p[r->i] != ':')
					return -1;
				r->i++;
			}
			if (ref_value(r, depth + 1) != 0)
				return -1;
			ref_ws(r);
			if (r->i >= r->n)
				return -1;
			if (r->p[r->i] == ',') {
				r->i++;
				continue;
			}
			if (r->p[r->i] == close) {
				r->i++;
				return 0;
			}
			return -1;
		}
	}
	if (c == '"')
		return ref_string(r);
	if (c == '-' || (c >= '0' && c <= '9'))
		return ref_number(r);
	if (c == 't')
		return ref_lit(r, "true");
	if (c == 'f')
		return ref_lit(r, "false");
	if (c == 'n')
		return ref_lit(r, "null");
	return -1;
}

/* Whether p[0..n) is one JSON value nested at most max_depth deep. */
static int
ref_valid_to(const uint8_t *p, size_t n, unsigned max_depth)
{
	struct ref r = { p, n, 0, max_depth };

	if (ref_value(&r, 0) != 0)
		return -1;
	ref_ws(&r);
	return r.i == n ? 0 : -1;
}

/* What json_validate must accept: nested at most JSON_MAX_DEPTH deep. */
static int
ref_validate(const uint8_t *p, size_t n)
{
	return ref_valid_to(p, n, JSON_MAX_DEPTH);
}

/* ---- reference string decoder -------------------------------------------- */

static void
put_cp(uint8_t *out, size_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		out[(*o)++] = (uint8_t)cp;
	} else if (cp < 0x800) {
		out[(*o)++] = (uint8_t)(0xC0 | cp >> 6);
		out[(*o)++] = (uint8_t)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		out[(*o)++] = (uint8_t)(0xE0 | cp >> 12);
		out[(*o)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (uint8_t)(0x80 | (cp & 0x3F));
	} else {
		out[(*o)++] = (uint8_t)(0xF0 | cp >> 18);
		out[(*o)++] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		out[(*o)++] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		out[(*o)++] = (uint8_t)(0x80 | (cp & 0x3F));
	}
}

/* Decodes the JSON string s[0..n) (quotes included, already validated) into out. */
static size_t
decode_string(const uint8_t *s, size_t n, uint8_t *out)
{
	struct ref r = { s, n, 1, 0 };
	size_t o = 0;

	while (r.i < n - 1) {
		uint8_t c = s[r.i];
		unsigned u, lo;

		if (c != '\\') {
			out[o++] = c;
			r.i++;
			continue;
		}
		c = s[r.i + 1];
		r.i += 2;
		switch (c) {
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			ref_hex4(&r, r.i, &u);
			r.i += 4;
			if (u >= 0xD800 && u <= 0xDBFF) {
				ref_hex4(&r, r.i + 2, &lo);
				r.i += 6;
				u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
			}
			put_cp(out, &o, u);
			break;
		default: out[o++] = c; break;
		}
	}
	return o;
}

/* ---- checks ------------------------------------------------------------- */

static const char *const reasons[] = {
	"empty document", "unexpected end of text", "unterminated string", "invalid number",
	"invalid literal", "trailing comma", "expected a value", "expected a string key",
	"expected ':'", "expected ',' or ']'", "expected ',' or '}'",
	"control character in string", "invalid escape", "invalid \\u escape",
	"lone surrogate escape", "invalid UTF-8", "NUL byte", "byte order mark",
	"nesting too deep", "unexpected data after the value",
};

static void
check_validate(const uint8_t *data, size_t size)
{
	struct json_error e;
	int got, want, known = 0;
	unsigned line = 1;
	size_t line_start = 0;

	memset(&e, 0, sizeof e);
	got = json_validate((const char *)data, size, &e);
	want = ref_validate(data, size);
	FUZZ_CHECK(got == want, "json_validate says %d, the reference %d (what: %s at %zu)", got,
	    want, got < 0 ? e.what : "-", e.offset);
	FUZZ_CHECK(json_validate((const char *)data, size, NULL) == got, "err == NULL changes the result");
	if (got == 0)
		return;
	FUZZ_CHECK(e.what != NULL, "no reason");
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		known |= strcmp(e.what, reasons[i]) == 0;
	FUZZ_CHECK(known, "undocumented reason \"%s\"", e.what);
	FUZZ_CHECK(e.offset <= size, "offset %zu past the end %zu", e.offset, size);
	for (size_t i = 0; i < e.offset; i++)
		if (data[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	FUZZ_CHECK(e.line == line && e.col == e.offset - line_start + 1,
	    "offset %zu is line %u col %zu, err says %u:%u", e.offset, line,
	    e.offset - line_start + 1, e.line, e.col);
	if (strcmp(e.what, "unexpected end of text") == 0 || strcmp(e.what, "empty document") == 0)
		FUZZ_CHECK(e.offset == size, "end-of-text error not at the end");
	else
		FUZZ_CHECK(e.offset < size, "error at the end but not an end-of-text error");
}

static char sbuf[6 * 65536 + 16];
static uint8_t dec[4 * 65536 + 16];
static uint8_t want[4 * 65536 + 16];

static void
check_string(const uint8_t *data, size_t size)
{
	struct buf b;
	size_t o = 0, dn;
	uint32_t cp;

	if (size > 65536)
		size = 65536;
	buf_init(&b, sbuf, sizeof sbuf);
	json_string(&b, (const char *)data, size);
	FUZZ_CHECK(!b.overflow, "6n+2 bytes are not enough for json_string");
	FUZZ_CHECK(b.len >= 2 && b.p[0] == '"' && b.p[b.len - 1] == '"', "not a quoted string");
	FUZZ_CHECK(ref_validate((const uint8_t *)b.p, b.len) == 0,
	    "json_string output is not valid JSON");
	for (size_t i = 0; i < b.len; i++)
		FUZZ_CHECK((unsigned char)b.p[i] >= 0x20 && (unsigned char)b.p[i] != 0x7f,
		    "raw control byte 0x%02x in the output", (unsigned char)b.p[i]);

	/* what the output must decode to */
	for (size_t i = 0; i < size;) {
		size_t k = fz_utf8(data + i, size - i, &cp);
		if (k == 0) {
			memcpy(want + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		} else {
			memcpy(want + o, data + i, k);
			o += k;
			i += k;
		}
	}
	dn = decode_string((const uint8_t *)b.p, b.len, dec);
	FUZZ_CHECK(dn == o && memcmp(dec, want, o) == 0, "json_string does not round-trip "
	    "(decoded %zu bytes, want %zu)", dn, o);
}

/* Copies s without the whitespace outside strings. */
static size_t
squeeze(const char *s, size_t n, char *out)
{
	size_t o = 0;
	int in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (in_str) {
			out[o++] = c;
			if (c == '\\')
				out[o++] = s[++i];
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
			out[o++] = c;
		} else if (c != ' ' && c != '\n') {
			out[o++] = c;
		}
	}
	return o;
}

static char wc[1 << 16], wp[1 << 17], sq[1 << 17];

static void
check_writer(const uint8_t *p, size_t n)
{
	struct buf bc, bp;
	struct json_writer c, w;
	unsigned depth = 1;
	unsigned char array[JSON_WRITE_MAX_DEPTH + 2] = { 0 };   /* per open level: an array? */
	size_t i = 0;
	char key[20];
	const char *name;

	buf_init(&bc, wc, sizeof wc);
	buf_init(&bp, wp, sizeof wp);
	json_writer_init(&c, &bc, 0);
	json_writer_init(&w, &bp, 1);
	json_object_begin(&c, NULL);
	json_object_begin(&w, NULL);
	while (i < n && !bc.overflow && !bp.overflow) {
		unsigned op = p[i++] % 7;
		size_t kl = i < n ? p[i++] % 16 : 0, vl;

		/* a key: NUL bytes become 'x' (keys are C strings) */
		if (kl > n - i)
			kl = n - i;
		for (size_t k = 0; k < kl; k++)
			key[k] = p[i + k] != 0 ? (char)p[i + k] : 'x';
		key[kl] = '\0';
		i += kl;
		name = array[depth] ? NULL : key;    /* an array's elements have no key */
		switch (op) {
		case 0:
		case 6:
			(op == 6 ? json_array_begin : json_object_begin)(&c, name);
			(op == 6 ? json_array_begin : json_object_begin)(&w, name);
			array[++depth] = op == 6;
			break;
		case 1:
			if (depth > 1) {
				(array[depth] ? json_array_end : json_object_end)(&c);
				(array[depth] ? json_array_end : json_object_end)(&w);
				depth--;
			}
			break;
		case 2:
			vl = i < n ? p[i++] % 48 : 0;
			if (vl > n - i)
				vl = n - i;
			json_put_string(&c, name, (const char *)p + i, vl);
			json_put_string(&w, name, (const char *)p + i, vl);
			i += vl;
			break;
		case 3: {
			int v = i < n && (p[i++] & 1);
			json_put_bool(&c, name, v);
			json_put_bool(&w, name, v);
			break;
		}
		case 4: {
			uint64_t v = 0;
			for (int k = 0; k < 8 && i < n; k++)
				v = v << 8 | p[i++];
			json_put_uint(&c, name, v);
			json_put_uint(&w, name, v);
			break;
		}
		default:
			json_object_begin(&c, name);
			json_object_begin(&w, name);
			json_object_end(&c);
			json_object_end(&w);
			break;
		}
	}
	for (; depth > 0; depth--) {
		(array[depth] ? json_array_end : json_object_end)(&c);
		(array[depth] ? json_array_end : json_object_end)(&w);
	}
	FUZZ_CHECK(bc.len < bc.cap && bc.p[bc.len] == '\0', "compact buf not terminated");
	FUZZ_CHECK(bp.len < bp.cap && bp.p[bp.len] == '\0', "pretty buf not terminated");
	if (bc.overflow || bp.overflow)
		return;
	/* The writer nests deeper than input may (json.h: a message's schema). */
	FUZZ_CHECK(ref_valid_to((const uint8_t *)bc.p, bc.len, JSON_WRITE_MAX_DEPTH) == 0,
	    "compact writer output is not valid JSON");
	FUZZ_CHECK(ref_valid_to((const uint8_t *)bp.p, bp.len, JSON_WRITE_MAX_DEPTH) == 0,
	    "pretty writer output is not valid JSON");
	FUZZ_CHECK(squeeze(bp.p, bp.len, sq) == bc.len && memcmp(sq, bc.p, bc.len) == 0,
	    "pretty and compact outputs differ beyond whitespace");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_validate(data, size);
	check_string(data, size);
	check_writer(data, size);
	return 0;
}
