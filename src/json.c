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

/* The code unit of the 4 hex digits at p[i..i+4), or -1. */
static long
hex4(const unsigned char *p, size_t n, size_t i)
{
	long v = 0;

	if (n - i < 4)
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

/* What to say about a byte that cannot start what was expected. */
static const char *
unexpected(const unsigned char *p, size_t n, size_t i, const char *otherwise)
{
	if (p[i] == 0)
		return "NUL byte";
	if (p[i] >= 0x80 && utf8_len(p + i, n - i) == 0)
		return "invalid UTF-8";
	return otherwise;
}

/* Scans the string whose opening quote is at *ip; on success *ip is past the closing quote. */
static int
scan_string(const unsigned char *p, size_t n, size_t *ip, struct json_error *err)
{
	size_t start = *ip, i = *ip + 1;

	for (;;) {
		unsigned c;

		if (i >= n)
			return fail(err, p, start, "unterminated string");
		c = p[i];
		if (c == '"') {
			*ip = i + 1;
			return 0;
		}
		if (c == '\\') {
			long u, lo;

			if (i + 1 >= n)
				return fail(err, p, start, "unterminated string");
			switch (p[i + 1]) {
			case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
				i += 2;
				break;
			case 'u':
				u = hex4(p, n, i + 2);
				if (u < 0)
					return fail(err, p, i, "invalid \\u escape");
				if (u >= 0xDC00 && u <= 0xDFFF)
					return fail(err, p, i, "lone surrogate escape");
				if (u >= 0xD800 && u <= 0xDBFF) {
					if (n - i < 12 || p[i + 6] != '\\' || p[i + 7] != 'u')
						return fail(err, p, i, "lone surrogate escape");
					lo = hex4(p, n, i + 8);
					if (lo < 0)
						return fail(err, p, i + 6, "invalid \\u escape");
					if (lo < 0xDC00 || lo > 0xDFFF)
						return fail(err, p, i, "lone surrogate escape");
					i += 12;
				} else {
					i += 6;
				}
				break;
			case 0:
				return fail(err, p, i + 1, "NUL byte");
			default:
				return fail(err, p, i, "invalid escape");
			}
		} else if (c < 0x20) {
			return fail(err, p, i, c == 0 ? "NUL byte" : "control character in string");
		} else if (c < 0x80) {
			i++;
		} else {
			size_t len = utf8_len(p + i, n - i);
			if (len == 0)
				return fail(err, p, i, "invalid UTF-8");
			i += len;
		}
	}
}

/* Scans a number starting at *ip (a '-' or a digit). */
static int
scan_number(const unsigned char *p, size_t n, size_t *ip, struct json_error *err)
{
	size_t start = *ip, i = *ip;

	if (p[i] == '-')
		i++;
	if (i < n && p[i] == '0') {
		i++;
	} else if (i < n && p[i] >= '1' && p[i] <= '9') {
		while (i < n && ascii_is_digit(p[i]))
			i++;
	} else {
		return fail(err, p, start, "invalid number");
	}
	if (i < n && p[i] == '.') {
		i++;
		if (i >= n || !ascii_is_digit(p[i]))
			return fail(err, p, start, "invalid number");
		while (i < n && ascii_is_digit(p[i]))
			i++;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		if (i >= n || !ascii_is_digit(p[i]))
			return fail(err, p, start, "invalid number");
		while (i < n && ascii_is_digit(p[i]))
			i++;
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
 * An iterative checker: the only memory is one byte per open container, so a
 * deeply nested text costs JSON_MAX_DEPTH bytes of stack, not a stack overflow.
 * Each step below reads the token at v->i (white space skipped) in state v->st.
 */
enum { V_VALUE, V_FIRST_ITEM, V_FIRST_KEY, V_KEY, V_COLON, V_AFTER };

struct validator {
	const unsigned char *p;
	size_t n, i;
	size_t comma;                        /* where the last comma was */
	int st, after_comma;
	unsigned depth;
	unsigned char stack[JSON_MAX_DEPTH]; /* '[' or '{' per open container */
	struct json_error *err;
};

static int
v_fail(struct validator *v, size_t at, const char *what)
{
	return fail(v->err, v->p, at, what);
}

/* After a value: a comma, the end of the container, or the end of the text. */
static int
v_after(struct validator *v, unsigned c)
{
	unsigned char open;

	if (v->depth == 0)
		return v_fail(v, v->i, unexpected(v->p, v->n, v->i, "unexpected data after the value"));
	open = v->stack[v->depth - 1];
	if (c == ',') {
		v->comma = v->i++;
		v->after_comma = 1;
		v->st = open == '[' ? V_VALUE : V_KEY;
		return 0;
	}
	if (c == (open == '[' ? ']' : '}')) {
		v->depth--;
		v->i++;
		return 0;
	}
	return v_fail(v, v->i, unexpected(v->p, v->n, v->i,
	    open == '[' ? "expected ',' or ']'" : "expected ',' or '}'"));
}

/* In an object: a key, or '}' when none has been read yet. */
static int
v_key(struct validator *v, unsigned c)
{
	if (c == '"') {
		if (scan_string(v->p, v->n, &v->i, v->err) < 0)
			return -1;
		v->after_comma = 0;
		v->st = V_COLON;
		return 0;
	}
	if (c == '}' && v->st == V_FIRST_KEY) {
		v->depth--;
		v->i++;
		v->st = V_AFTER;
		return 0;
	}
	if (c == '}' && v->after_comma)
		return v_fail(v, v->comma, "trailing comma");
	return v_fail(v, v->i, unexpected(v->p, v->n, v->i, "expected a string key"));
}

/* Between a key and its value. */
static int
v_colon(struct validator *v, unsigned c)
{
	if (c != ':')
		return v_fail(v, v->i, unexpected(v->p, v->n, v->i, "expected ':'"));
	v->i++;
	v->st = V_VALUE;
	return 0;
}

/* A container opens: one more byte of stack. */
static int
v_open(struct validator *v, unsigned c)
{
	if (v->depth == JSON_MAX_DEPTH)
		return v_fail(v, v->i, "nesting too deep");
	v->stack[v->depth++] = (unsigned char)c;
	v->i++;
	v->st = c == '[' ? V_FIRST_ITEM : V_FIRST_KEY;
	return 0;
}

/* A value, or ']' when it is an array's first item. */
static int
v_value(struct validator *v, unsigned c)
{
	int r;

	if (c == ']') {
		if (v->st == V_FIRST_ITEM) {
			v->depth--;
			v->i++;
			v->st = V_AFTER;
			return 0;
		}
		if (v->after_comma)
			return v_fail(v, v->comma, "trailing comma");
		return v_fail(v, v->i, "expected a value");
	}
	v->after_comma = 0;
	switch (c) {
	case '[':
	case '{':
		return v_open(v, c);
	case '"':
		r = scan_string(v->p, v->n, &v->i, v->err);
		break;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		r = scan_number(v->p, v->n, &v->i, v->err);
		break;
	case '+':
	case '.':
		return v_fail(v, v->i, "invalid number");
	default:
		if (ascii_is_alnum(c) && !ascii_is_digit(c)) {
			r = scan_literal(v->p, v->n, &v->i, v->err);
			break;
		}
		return v_fail(v, v->i, unexpected(v->p, v->n, v->i, "expected a value"));
	}
	if (r < 0)
		return -1;
	v->st = V_AFTER;
	return 0;
}

/* The end of the text: complete only after one whole value. */
static int
v_end(struct validator *v)
{
	if (v->depth == 0 && v->st == V_AFTER)
		return 0;
	if (v->depth == 0 && v->st == V_VALUE)
		return v_fail(v, v->i, "empty document");
	return v_fail(v, v->i, "unexpected end of text");
}

int
json_validate(const char *s, size_t n, struct json_error *err)
{
	struct validator v;
	const unsigned char *p = (const unsigned char *)s;

	if (n >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return fail(err, p, 0, "byte order mark");
	v.p = p;
	v.n = n;
	v.i = 0;
	v.comma = 0;
	v.st = V_VALUE;
	v.after_comma = 0;
	v.depth = 0;
	v.err = err;
	for (;;) {
		unsigned c;
		int r;

		while (v.i < n && (p[v.i] == ' ' || p[v.i] == '\t' || p[v.i] == '\n' || p[v.i] == '\r'))
			v.i++;
		if (v.i == n)
			return v_end(&v);
		c = p[v.i];
		if (v.st == V_AFTER)
			r = v_after(&v, c);
		else if (v.st == V_COLON)
			r = v_colon(&v, c);
		else if (v.st == V_FIRST_KEY || v.st == V_KEY)
			r = v_key(&v, c);
		else
			r = v_value(&v, c);
		if (r != 0)
			return -1;
	}
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
		} else if (c == '\b') {
			esc[1] = 'b';
		} else if (c == '\f') {
			esc[1] = 'f';
		} else if (c == '\n') {
			esc[1] = 'n';
		} else if (c == '\r') {
			esc[1] = 'r';
		} else if (c == '\t') {
			esc[1] = 't';
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
	w->depth = 0;
	memset(w->has_items, 0, sizeof w->has_items);
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

void
json_object_begin(struct json_writer *w, const char *key)
{
	member(w, key);
	buf_char(w->b, '{');
	/* Too deep: the output is marked broken; depth still counts so ends pair up. */
	if (w->depth >= JSON_WRITE_MAX_DEPTH)
		w->b->overflow = 1;
	w->depth++;
	if (w->depth <= JSON_WRITE_MAX_DEPTH)
		w->has_items[w->depth] = 0;
}

void
json_object_end(struct json_writer *w)
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
	buf_char(w->b, '}');
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
	if (v)
		buf_add(w->b, "true", 4);
	else
		buf_add(w->b, "false", 5);
}

void
json_put_uint(struct json_writer *w, const char *key, uint64_t v)
{
	member(w, key);
	buf_uint(w->b, v, 1);
}
