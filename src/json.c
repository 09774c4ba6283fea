#include "json.h"

#include <string.h>

#include "ascii.h"

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) (Unicode table 3-7: no
 * overlongs, no UTF-16 surrogates, nothing above U+10FFFF), or 0 if there is none.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned c = p[0];
	unsigned lo = 0x80, hi = 0xBF;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c < 0xC2)
		return 0;
	if (c < 0xE0) {
		len = 2;
	} else if (c < 0xF0) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c < 0xF5) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* The two-character escapes: each control byte, then the letter that names it. */
static const char short_esc[] = "\bb\ff\nn\rr\tt";

/* The code unit of the 4 hex digits at p[i..i+4), or -1. */
static long
hex4(const unsigned char *p, size_t n, size_t i)
{
	long v = 0;

	if (i > n || n - i < 4)
		return -1;
	for (size_t k = 0; k < 4; k++) {
		int d = ascii_hex_val(p[i + k]);
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* Fills *err for offset off; line and col are found by counting, only on failure. */
static int
fail(struct json_error *err, const unsigned char *p, size_t off, const char *what)
{
	unsigned line = 1;
	size_t line_start = 0;

	if (err == NULL)
		return -1;
	for (size_t i = 0; i < off; i++) {
		if (p[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	err->offset = off;
	err->line = line;
	err->col = (unsigned)(off - line_start + 1);
	err->what = what;
	return -1;
}

/* Scans the string whose opening quote is at *ip; on success *ip is past the closing quote. */
static int
scan_string(const unsigned char *p, size_t n, size_t *ip, struct json_error *err)
{
	size_t start = *ip, i = *ip + 1, len;
	long u, lo;

	for (;;) {
		if (i >= n)
			return fail(err, p, start, "unterminated string");
		if (p[i] == '"') {
			*ip = i + 1;
			return 0;
		}
		if (p[i] < 0x20)
			return fail(err, p, i, p[i] == 0 ? "NUL byte" : "control character in string");
		if (p[i] != '\\') {
			len = utf8_len(p + i, n - i);
			if (len == 0)
				return fail(err, p, i, "invalid UTF-8");
			i += len;
			continue;
		}
		if (i + 1 >= n)
			return fail(err, p, start, "unterminated string");
		if (p[i + 1] == 0)
			return fail(err, p, i + 1, "NUL byte");
		if (p[i + 1] != 'u') {
			if (memchr("\"\\/bfnrt", p[i + 1], 8) == NULL)
				return fail(err, p, i, "invalid escape");
			i += 2;
			continue;
		}
		u = hex4(p, n, i + 2);
		if (u < 0)
			return fail(err, p, i, "invalid \\u escape");
		if (u >= 0xDC00 && u <= 0xDFFF)
			return fail(err, p, i, "lone surrogate escape");
		if (u >= 0xD800 && u <= 0xDBFF) {
			/* a high surrogate: the low one must follow */
			if (n - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u')
				return fail(err, p, i, "lone surrogate escape");
			lo = hex4(p, n, i + 8);
			if (lo < 0)
				return fail(err, p, i + 6, "invalid \\u escape");
			if (lo < 0xDC00 || lo > 0xDFFF)
				return fail(err, p, i, "lone surrogate escape");
			i += 6;
		}
		i += 6;
	}
}

/* Moves *ip past a run of digits; -1 when there is none. */
static int
digits(const unsigned char *p, size_t n, size_t *ip)
{
	size_t i = *ip;

	while (i < n && ascii_is_digit(p[i]))
		i++;
	if (i == *ip)
		return -1;
	*ip = i;
	return 0;
}

/* Scans a number starting at *ip (a '-' or a digit). */
static int
scan_number(const unsigned char *p, size_t n, size_t *ip, struct json_error *err)
{
	size_t start = *ip, i = *ip;

	if (p[i] == '-')
		i++;
	if (i < n && p[i] == '0')
		i++;
	else if (digits(p, n, &i) < 0)
		return fail(err, p, start, "invalid number");
	if (i < n && p[i] == '.') {
		i++;
		if (digits(p, n, &i) < 0)
			return fail(err, p, start, "invalid number");
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (digits(p, n, &i) < 0)
			return fail(err, p, start, "invalid number");
	}
	/* "-01", "0x1", "1.5.3", "1e5e": the number must end at a delimiter. */
	if (i < n && (ascii_is_alnum(p[i]) || p[i] == '.' || p[i] == '+' || p[i] == '-'))
		return fail(err, p, start, "invalid number");
	*ip = i;
	return 0;
}

static int
scan_literal(const unsigned char *p, size_t n, size_t *ip, struct json_error *err)
{
	static const char *const lits[] = { "true", "false", "null" };
	size_t i = *ip;

	for (size_t k = 0; k < sizeof lits / sizeof lits[0]; k++) {
		size_t len = strlen(lits[k]);
		if (n - i >= len && memcmp(p + i, lits[k], len) == 0 &&
		    !(n - i > len && ascii_is_alnum(p[i + len]))) {
			*ip = i + len;
			return 0;
		}
	}
	return fail(err, p, i, "invalid literal");
}

/*
 * json_validate is an iterative checker: the only memory is one byte per open
 * container, so a deeply nested text costs JSON_MAX_DEPTH bytes of stack, not a
 * stack overflow. The state says what the next token (white space skipped) may be.
 */
enum {
	V_VALUE,        /* the top-level value, or a member's value after ':' */
	V_FIRST_ITEM,   /* an array's first element, or ']' */
	V_ITEM,         /* an array's element after ',' */
	V_FIRST_KEY,    /* an object's first key, or '}' */
	V_KEY,          /* an object's key after ',' */
	V_COLON,        /* ':' after a key */
	V_AFTER         /* after a value: ',' or the container's end, or the end of the text */
};

int
json_validate(const char *s, size_t n, struct json_error *err)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char close[JSON_MAX_DEPTH];    /* ']' or '}' per open container */
	unsigned depth = 0;
	size_t i = 0, comma = 0;                /* comma: where the last ',' was */
	int st = V_VALUE, r;
	const char *what;                       /* for a byte that cannot be next */

	if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
		return fail(err, p, 0, "byte order mark");
	for (;;) {
		unsigned c;

		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
			i++;
		if (i == n) {
			/* complete only after one whole value */
			if (depth == 0 && st == V_AFTER)
				return 0;
			return fail(err, p, i, depth == 0 && st == V_VALUE ? "empty document" :
			    "unexpected end of text");
		}
		c = p[i];
		switch (st) {
		case V_AFTER:
			if (depth == 0) {
				what = "unexpected data after the value";
				goto unexpected;
			}
			if (c == ',') {
				comma = i++;
				st = close[depth - 1] == ']' ? V_ITEM : V_KEY;
			} else if (c == close[depth - 1]) {
				depth--;
				i++;
			} else {
				what = close[depth - 1] == ']' ? "expected ',' or ']'" :
				    "expected ',' or '}'";
				goto unexpected;
			}
			continue;
		case V_COLON:
			if (c != ':') {
				what = "expected ':'";
				goto unexpected;
			}
			i++;
			st = V_VALUE;
			continue;
		case V_FIRST_KEY:
		case V_KEY:
			if (c == '"') {
				if (scan_string(p, n, &i, err) < 0)
					return -1;
				st = V_COLON;
			} else if (c == '}' && st == V_FIRST_KEY) {
				depth--;
				i++;
				st = V_AFTER;
			} else if (c == '}') {
				return fail(err, p, comma, "trailing comma");
			} else {
				what = "expected a string key";
				goto unexpected;
			}
			continue;
		}
		/* A value, or ']' when it may be an array's first element. */
		if (c == ']') {
			if (st == V_FIRST_ITEM) {
				depth--;
				i++;
				st = V_AFTER;
				continue;
			}
			return fail(err, p, st == V_ITEM ? comma : i,
			    st == V_ITEM ? "trailing comma" : "expected a value");
		}
		if (c == '[' || c == '{') {
			if (depth == JSON_MAX_DEPTH)
				return fail(err, p, i, "nesting too deep");
			close[depth++] = c == '[' ? ']' : '}';
			i++;
			st = c == '[' ? V_FIRST_ITEM : V_FIRST_KEY;
			continue;
		}
		if (c == '"') {
			r = scan_string(p, n, &i, err);
		} else if (c == '-' || ascii_is_digit(c)) {
			r = scan_number(p, n, &i, err);
		} else if (c == '+' || c == '.') {
			return fail(err, p, i, "invalid number");
		} else if (ascii_is_alpha(c)) {
			r = scan_literal(p, n, &i, err);
		} else {
			what = "expected a value";
			goto unexpected;
		}
		if (r < 0)
			return -1;
		st = V_AFTER;
	}
unexpected:
	if (p[i] == 0)
		what = "NUL byte";
	else if (p[i] >= 0x80 && utf8_len(p + i, n - i) == 0)
		what = "invalid UTF-8";
	return fail(err, p, i, what);
}

/* The code point of the escape after the backslash at p[*i], *i moved past it. */
static long
unescape(const unsigned char *p, size_t n, size_t *i)
{
	long cp = p[*i + 1];
	const char *m;

	*i += 2;
	if (cp != 'u')      /* validated: one of " \ / b f n r t; a letter matches no control */
		return (m = memchr(short_esc, (int)cp, sizeof short_esc - 1)) != NULL ?
		    (unsigned char)m[-1] : cp;
	cp = hex4(p, n, *i);
	*i += 4;
	if (cp >= 0xD800 && cp <= 0xDBFF && *i + 6 <= n) {   /* validated: the low half follows */
		cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(p, n, *i + 2) - 0xDC00);
		*i += 6;
	}
	return cp;
}

long
json_unescape(const char *s, size_t n, char *out, size_t cap)
{
	static const unsigned char lead[] = { 0, 0, 0xC0, 0xE0, 0xF0 };  /* by length */
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, len;

	for (size_t i = 0; i < n; o += len) {
		long cp = p[i];

		len = 1;        /* a byte as it is, UTF-8 or not */
		if (cp == '\\') {
			cp = unescape(p, n, &i);
			if (cp == 0)
				return -2;
			len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
		} else {
			i++;
		}
		if (o + len >= cap)
			return -1;
		for (size_t k = len - 1; k > 0; k--, cp >>= 6)
			out[o + k] = (char)(0x80 | (cp & 0x3F));
		out[o] = (char)(lead[len] | cp);
	}
	out[o] = '\0';
	return (long)o;
}

void
json_string(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	buf_char(b, '"');
	while (i < n) {
		unsigned c = p[i];
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t elen = 2;
		const char *m;

		if (c >= 0x80) {
			size_t len = utf8_len(p + i, n - i);
			if (len != 0) {
				i += len;
				continue;
			}
			memcpy(esc, "\\ufffd", 6);
			elen = 6;
		} else if (c == '"' || c == '\\') {
			esc[1] = (char)c;
		} else if (c >= 0x20 && c != 0x7F) {
			i++;
			continue;
		} else if ((m = memchr(short_esc, (int)c, sizeof short_esc - 1)) != NULL) {
			esc[1] = m[1];      /* c is a control: it matches no letter */
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
		}
		buf_add(b, s + run, i - run);
		buf_add(b, esc, elen);
		run = ++i;
	}
	buf_add(b, s + run, i - run);
	buf_char(b, '"');
}

void
json_writer_init(struct json_writer *w, struct buf *b, int pretty)
{
	w->b = b;
	w->pretty = pretty;
	w->depth = 0;         /* has_items[d] is set as level d opens */
}

static void
newline_indent(struct json_writer *w)
{
	buf_char(w->b, '\n');
	for (unsigned d = 0; d < w->depth; d++)
		buf_add(w->b, "  ", 2);
}

/* The separator, line break and key before a member of the innermost object. */
static void
member(struct json_writer *w, const char *key)
{
	if (w->depth > 0 && w->depth <= JSON_WRITE_MAX_DEPTH) {
		if (w->has_items[w->depth])
			buf_char(w->b, ',');
		w->has_items[w->depth] = 1;
		if (w->pretty)
			newline_indent(w);
	}
	if (key != NULL) {
		json_string(w->b, key, strlen(key));
		buf_char(w->b, ':');
		if (w->pretty)
			buf_char(w->b, ' ');
	}
}

/* Opens an object ('{') or an array ('['). */
static void
begin(struct json_writer *w, const char *key, char bracket)
{
	member(w, key);
	buf_char(w->b, bracket);
	/* Too deep: the output is marked broken; depth still counts so ends pair up. */
	if (w->depth >= JSON_WRITE_MAX_DEPTH)
		w->b->overflow = 1;
	w->depth++;
	if (w->depth <= JSON_WRITE_MAX_DEPTH)
		w->has_items[w->depth] = 0;
}

void
json_object_begin(struct json_writer *w, const char *key)
{
	begin(w, key, '{');
}

void
json_array_begin(struct json_writer *w, const char *key)
{
	begin(w, key, '[');
}

/* Closes the innermost object ('}') or array (']'). */
static void
end(struct json_writer *w, char bracket)
{
	int had = 0;

	if (w->depth == 0) {
		w->b->overflow = 1;
		return;
	}
	if (w->depth <= JSON_WRITE_MAX_DEPTH)
		had = w->has_items[w->depth];
	w->depth--;
	if (w->pretty && had)
		newline_indent(w);
	buf_char(w->b, bracket);
}

void
json_object_end(struct json_writer *w)
{
	end(w, '}');
}

void
json_array_end(struct json_writer *w)
{
	end(w, ']');
}

void
json_put_string(struct json_writer *w, const char *key, const char *s, size_t n)
{
	member(w, key);
	json_string(w->b, s, n);
}

void
json_put_bool(struct json_writer *w, const char *key, int v)
{
	member(w, key);
	buf_str(w->b, v ? "true" : "false");
}

void
json_put_uint(struct json_writer *w, const char *key, uint64_t v)
{
	member(w, key);
	buf_uint(w->b, v, 1);
}
