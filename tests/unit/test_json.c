/* Unit tests of src/json.c: the strict validator, json_string and the writer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "json.h"

/* A literal with its exact length, so rows may hold NUL bytes. */
#define T(s) s, sizeof(s) - 1

/*
 * Validates s[0..n) from an exact-size heap copy: with no NUL after the text and
 * nothing past it, ASan reports any read beyond s + n.
 */
static int
validate_exact(const char *s, size_t n, struct json_error *e)
{
	char *copy = malloc(n ? n : 1);
	int r;

	CHECK(copy != NULL);
	memcpy(copy, s, n);
	r = json_validate(copy, n, e);
	free(copy);
	return r;
}

struct bad_row {
	const char *name;
	const char *text;
	size_t len;
	unsigned line, col;     /* 0: not checked */
	const char *what;
};

static const struct bad_row bad_rows[] = {
	/* numbers */
	{ "num-leading-zero", T("[-01]"), 1, 2, "invalid number" },
	{ "num-leading-zero-pos", T("01"), 1, 1, "invalid number" },
	{ "num-trailing-dot", T("[1.]"), 1, 2, "invalid number" },
	{ "num-leading-dot", T("[.5]"), 1, 2, "invalid number" },
	{ "num-hex", T("0x1"), 1, 1, "invalid number" },
	{ "num-exp-empty", T("1e"), 1, 1, "invalid number" },
	{ "num-exp-sign-only", T("1e+"), 1, 1, "invalid number" },
	{ "num-plus", T("+1"), 1, 1, "invalid number" },
	{ "num-minus-only", T("-"), 1, 1, "invalid number" },
	{ "num-double-minus", T("--1"), 1, 1, "invalid number" },
	{ "num-two-dots", T("1.5.3"), 1, 1, "invalid number" },
	{ "num-neg-infinity", T("-Infinity"), 1, 1, "invalid number" },
	{ "num-letter-after", T("[12a]"), 1, 2, "invalid number" },
	{ "num-infinity", T("Infinity"), 1, 1, "invalid literal" },
	{ "num-nan", T("[NaN]"), 1, 2, "invalid literal" },
	/* literals */
	{ "lit-tru", T("tru"), 1, 1, "invalid literal" },
	{ "lit-nul", T("[nul]"), 1, 2, "invalid literal" },
	{ "lit-True", T("True"), 1, 1, "invalid literal" },
	{ "lit-falsey", T("falsey"), 1, 1, "invalid literal" },
	{ "lit-undefined", T("undefined"), 1, 1, "invalid literal" },
	/* punctuation */
	{ "trailing-comma-array", T("[1,]"), 1, 3, "trailing comma" },
	{ "trailing-comma-object", T("{\"a\":1,}"), 1, 7, "trailing comma" },
	{ "leading-comma", T("[,1]"), 1, 2, "expected a value" },
	{ "double-comma", T("[1,,2]"), 1, 4, "expected a value" },
	{ "missing-colon", T("{\"a\" 1}"), 1, 6, "expected ':'" },
	{ "double-colon", T("{\"a\"::1}"), 1, 6, "expected a value" },
	{ "missing-value", T("{\"a\":}"), 1, 6, "expected a value" },
	{ "non-string-key", T("{1:2}"), 1, 2, "expected a string key" },
	{ "missing-comma-object", T("{\"a\":1 \"b\":2}"), 1, 8, "expected ',' or '}'" },
	{ "missing-comma-array", T("[1 2]"), 1, 4, "expected ',' or ']'" },
	{ "mismatched-close", T("[1}"), 1, 3, "expected ',' or ']'" },
	{ "stray-close", T("]"), 1, 1, "expected a value" },
	{ "single-quotes", T("['a']"), 1, 2, "expected a value" },
	/* strings */
	{ "raw-tab", T("\"a\tb\""), 1, 3, "control character in string" },
	{ "raw-newline", T("\"a\nb\""), 1, 3, "control character in string" },
	{ "raw-0x1f", T("[\"\x1f\"]"), 1, 3, "control character in string" },
	{ "unterminated-string", T("[\"abc"), 1, 2, "unterminated string" },
	{ "unterminated-escape", T("\"ab\\"), 1, 1, "unterminated string" },
	{ "bad-escape-x", T("\"\\x41\""), 1, 2, "invalid escape" },
	{ "bad-escape-quote", T("\"\\'\""), 1, 2, "invalid escape" },
	{ "bad-escape-U", T("\"\\U0041\""), 1, 2, "invalid escape" },
	{ "bad-u-short", T("\"\\u12\""), 1, 2, "invalid \\u escape" },
	{ "bad-u-nonhex", T("\"\\u12g4\""), 1, 2, "invalid \\u escape" },
	{ "bad-u-at-end", T("\"\\u12"), 1, 2, "invalid \\u escape" },
	{ "lone-high", T("\"\\ud800\""), 1, 2, "lone surrogate escape" },
	{ "lone-high-text", T("\"\\uD83Dx\""), 1, 2, "lone surrogate escape" },
	{ "lone-low", T("\"\\udc00\""), 1, 2, "lone surrogate escape" },
	{ "high-high", T("\"\\ud800\\ud800\""), 1, 2, "lone surrogate escape" },
	{ "high-bmp", T("\"\\ud800\\u0041\""), 1, 2, "lone surrogate escape" },
	{ "high-at-end", T("\"\\ud800"), 1, 2, "lone surrogate escape" },
	{ "low-then-high", T("\"\\udc00\\ud800\""), 1, 2, "lone surrogate escape" },
	/* UTF-8 */
	{ "utf8-overlong-2", T("\"\xc0\x80\""), 1, 2, "invalid UTF-8" },
	{ "utf8-overlong-c1", T("\"\xc1\xbf\""), 1, 2, "invalid UTF-8" },
	{ "utf8-overlong-3", T("\"\xe0\x80\xaf\""), 1, 2, "invalid UTF-8" },
	{ "utf8-overlong-4", T("\"\xf0\x80\x80\xaf\""), 1, 2, "invalid UTF-8" },
	{ "utf8-surrogate", T("\"\xed\xa0\x80\""), 1, 2, "invalid UTF-8" },
	{ "utf8-surrogate-low", T("\"\xed\xbf\xbf\""), 1, 2, "invalid UTF-8" },
	{ "utf8-above-10ffff", T("\"\xf4\x90\x80\x80\""), 1, 2, "invalid UTF-8" },
	{ "utf8-f5", T("\"\xf5\x80\x80\x80\""), 1, 2, "invalid UTF-8" },
	{ "utf8-ff", T("\"a\xff\""), 1, 3, "invalid UTF-8" },
	{ "utf8-lone-continuation", T("\"\x80\""), 1, 2, "invalid UTF-8" },
	{ "utf8-truncated-mid", T("\"\xe2\x82x\""), 1, 2, "invalid UTF-8" },
	{ "utf8-truncated-at-quote", T("\"\xe2\x82\""), 1, 2, "invalid UTF-8" },
	{ "utf8-truncated-at-end", T("\"\xf0\x9f\x98"), 1, 2, "invalid UTF-8" },
	{ "utf8-outside-string", T("[\xff]"), 1, 2, "invalid UTF-8" },
	{ "utf8-after-value", T("{}\xc3"), 1, 3, "invalid UTF-8" },
	{ "valid-utf8-outside-string", T("[\xc3\xa9]"), 1, 2, "expected a value" },
	{ "bom", T("\xef\xbb\xbf{}"), 1, 1, "byte order mark" },
	/* NUL */
	{ "nul-alone", T("\0"), 1, 1, "NUL byte" },
	{ "nul-in-string", T("\"a\0\""), 1, 3, "NUL byte" },
	{ "nul-after-escape", T("\"\\\0\""), 1, 3, "NUL byte" },
	{ "nul-after-value", T("{}\0"), 1, 3, "NUL byte" },
	{ "nul-after-number", T("1\0"), 1, 2, "NUL byte" },
	{ "nul-in-array", T("[1,\0]"), 1, 4, "NUL byte" },
	{ "nul-after-ws", T("{} \n \0"), 2, 2, "NUL byte" },
	/* whole text */
	{ "second-value", T("{} {}"), 1, 4, "unexpected data after the value" },
	{ "second-number", T("1 2"), 1, 3, "unexpected data after the value" },
	{ "second-string", T("\"a\"\"b\""), 1, 4, "unexpected data after the value" },
	{ "extra-close", T("[]]"), 1, 3, "unexpected data after the value" },
	{ "empty", T(""), 1, 1, "empty document" },
	{ "only-spaces", T("   "), 1, 4, "empty document" },
	{ "only-newlines", T("\n\t\r\n"), 3, 1, "empty document" },
	{ "unclosed-array", T("[1"), 1, 3, "unexpected end of text" },
	{ "unclosed-object", T("{\"a\":1"), 1, 7, "unexpected end of text" },
	{ "key-only", T("{\"a\""), 1, 5, "unexpected end of text" },
	{ "open-only", T("["), 1, 2, "unexpected end of text" },
	/* line and column */
	{ "line-col", T("{\n  \"a\": 01\n}"), 2, 8, "invalid number" },
	{ "line-col-crlf", T("{\r\n\"a\":\r\n[1,]}"), 3, 3, "trailing comma" },
	{ "col-counts-bytes", T("[\"\xc3\xa9\xc3\xa9\", tru]"), 1, 10, "invalid literal" },
};

static void
test_refused(void)
{
	for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
		const struct bad_row *r = &bad_rows[i];
		struct json_error e;

		memset(&e, 0, sizeof e);
		e.what = "(none)";
		CHECKF(validate_exact(r->text, r->len, &e) == -1, "%s: accepted", r->name);
		CHECKF(e.what != NULL && strcmp(e.what, r->what) == 0, "%s: what \"%s\", want \"%s\"",
		    r->name, e.what, r->what);
		CHECKF(r->line == 0 || (e.line == r->line && e.col == r->col),
		    "%s: at %u:%u, want %u:%u", r->name, e.line, e.col, r->line, r->col);
		/* A NULL err is allowed. */
		CHECKF(validate_exact(r->text, r->len, NULL) == -1, "%s: accepted with NULL err", r->name);
	}
}

struct good_row {
	const char *name;
	const char *text;
	size_t len;
};

static const struct good_row good_rows[] = {
	{ "zero", T("0") },
	{ "neg-zero", T("-0") },
	{ "exp", T("1e5") },
	{ "frac-exp", T("1.5E-3") },
	{ "neg-frac-exp", T("-1.25e+10") },
	{ "zero-frac", T("0.0") },
	{ "zero-exp", T("0e0") },
	{ "big-int", T("123456789012345678901234567890") },
	{ "true", T("true") },
	{ "false", T(" false ") },
	{ "null", T("null") },
	{ "string", T("\"abc\"") },
	{ "empty-string", T("\"\"") },
	{ "escapes", T("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"") },
	{ "u-escape", T("\"\\u00e9\\u0041\\uFFFF\\u0000\"") },
	{ "surrogate-pair", T("\"\\ud83d\\ude00\"") },
	{ "surrogate-pair-max", T("\"\\uDBFF\\uDFFF\"") },
	{ "surrogate-pair-min", T("\"\\uD800\\uDC00\"") },
	{ "utf8-2", T("\"\xc3\xa9\"") },
	{ "utf8-3", T("\"\xe2\x82\xac\xef\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"") },
	{ "utf8-4-emoji", T("\"\xf0\x9f\x98\x80\"") },
	{ "utf8-max", T("\"\xf4\x8f\xbf\xbf\"") },
	{ "del-raw", T("\"\x7f\"") },
	{ "empty-array", T("[]") },
	{ "empty-object", T(" {} ") },
	{ "nested", T("{\"a\":[1,{\"b\":null,\"c\":[true,false,[]]}],\"d\":{\"e\":\"f\"}}") },
	{ "whitespace", T(" \t\r\n[ 1 , 2 ]\r\n") },
	{ "dup-keys-allowed", T("{\"a\":1,\"a\":2}") },
	{ "number-before-close", T("[1,-2.5e3]") },
	{ "literal-before-close", T("{\"a\":true}") },
};

static void
test_accepted(void)
{
	for (size_t i = 0; i < sizeof good_rows / sizeof good_rows[0]; i++) {
		struct json_error e = { 0, 0, 0, "(none)" };
		CHECKF(validate_exact(good_rows[i].text, good_rows[i].len, &e) == 0,
		    "%s: refused at %u:%u: %s", good_rows[i].name, e.line, e.col, e.what);
	}
}

/* Every prefix of a few documents, each in an exact-size buffer: no overread, and
 * only the prefixes that are themselves documents pass. */
static void
test_slices(void)
{
	static const char *docs[] = {
		"{\"a\":[1,-2.5e+3,true,false,null,\"\\ud83d\\ude00\\u00e9\xc3\xa9\xf0\x9f\x98\x80\"],\"b\":{}}",
		"12345",
		"\"\\u12\"",
		"[\"\xe2\x82\xac\",tru]",
	};
	for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
		size_t n = strlen(docs[d]);
		for (size_t k = 0; k <= n; k++) {
			struct json_error e;
			int r = validate_exact(docs[d], k, &e);
			if (d == 0)
				CHECKF(r == (k == n ? 0 : -1), "doc %zu prefix %zu: %d", d, k, r);
			if (d == 1)
				CHECKF(r == (k == 0 ? -1 : 0), "doc %zu prefix %zu: %d", d, k, r);
			if (d >= 2)
				CHECKF(r == -1, "doc %zu prefix %zu accepted", d, k);
			if (r < 0)
				CHECKF(e.offset <= k, "doc %zu prefix %zu: offset %zu", d, k, e.offset);
		}
	}
}

static char *
nested(size_t n, const char *open, const char *close)
{
	size_t lo = strlen(open), lc = strlen(close);
	char *s = malloc(n * (lo + lc) + 1);
	size_t o = 0;

	for (size_t i = 0; i < n; i++, o += lo)
		memcpy(s + o, open, lo);
	for (size_t i = 0; i < n; i++, o += lc)
		memcpy(s + o, close, lc);
	s[o] = '\0';
	return s;
}

/* n nested objects: {"a":{"a":...{}...}} */
static char *
objects(size_t n)
{
	char *s = malloc(6 * n + 1);

	s[0] = '\0';
	for (size_t i = 1; i < n; i++)
		strcat(s, "{\"a\":");
	strcat(s, "{}");
	for (size_t i = 1; i < n; i++)
		strcat(s, "}");
	return s;
}

static void
test_depth(void)
{
	struct json_error e;
	size_t n = 100000;
	char *s = malloc(n);
	clock_t t0 = clock();

	memset(s, '[', n);
	CHECK(json_validate(s, n, &e) == -1);
	CHECK_STR(e.what, "nesting too deep", "100000 [");
	CHECKF(e.offset == JSON_MAX_DEPTH && e.col == JSON_MAX_DEPTH + 1, "at offset %zu col %u",
	    e.offset, e.col);
	CHECKF((double)(clock() - t0) / CLOCKS_PER_SEC < 0.5, "too slow");
	free(s);

	s = nested(JSON_MAX_DEPTH, "[", "]");
	CHECKF(validate_exact(s, strlen(s), &e) == 0, "depth %d refused", JSON_MAX_DEPTH);
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, "[", "]");
	CHECK(validate_exact(s, strlen(s), &e) == -1 && strcmp(e.what, "nesting too deep") == 0);
	free(s);
	/* Objects: n - 1 times {"a": then {} then n - 1 closes is depth n. */
	s = nested(JSON_MAX_DEPTH - 1, "{\"a\":", "}");
	CHECKF(validate_exact(s, strlen(s), &e) == -1, "missing value accepted");
	free(s);
	s = objects(JSON_MAX_DEPTH);
	CHECKF(validate_exact(s, strlen(s), &e) == 0, "objects depth %d refused: %s at %zu",
	    JSON_MAX_DEPTH, e.what, e.offset);
	free(s);
	s = objects(JSON_MAX_DEPTH + 1);
	CHECK(validate_exact(s, strlen(s), &e) == -1 && strcmp(e.what, "nesting too deep") == 0);
	free(s);
	s = nested(JSON_MAX_DEPTH + 1, "{\"a\":", "}");
	CHECK(validate_exact(s, strlen(s), &e) == -1 && strcmp(e.what, "nesting too deep") == 0);
	CHECK(e.offset == 5 * JSON_MAX_DEPTH);
	free(s);
	/* Depth is per nesting, not per container seen. */
	s = malloc(1000 * 3 + 3);
	strcpy(s, "[");
	for (int i = 0; i < 1000; i++)
		strcat(s, i ? ",[]" : "[]");
	strcat(s, "]");
	CHECK(validate_exact(s, strlen(s), &e) == 0);
	free(s);
}

/* ---- the emitter ---- */

static const char *
emit(const char *s, size_t n)
{
	static char mem[4096];
	struct buf b;

	buf_init(&b, mem, sizeof mem);
	json_string(&b, s, n);
	CHECK(!b.overflow);
	return mem;
}

static void
test_string_controls(void)
{
	static const char *names[32] = {
		"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
		"\\b", "\\t", "\\n", "\\u000b", "\\f", "\\r", "\\u000e", "\\u000f",
		"\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
		"\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
	};
	char in[3], want[32];

	for (int c = 0; c < 32; c++) {
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'b';
		strcpy(want, "\"a");
		strcat(want, names[c]);
		strcat(want, "b\"");
		CHECKF(strcmp(emit(in, 3), want) == 0, "byte 0x%02x: got %s want %s", c, emit(in, 3), want);
	}
	CHECK_STR(emit("\x7f", 1), "\"\\u007f\"", "DEL");
	CHECK_STR(emit("\"", 1), "\"\\\"\"", "quote");
	CHECK_STR(emit("\\", 1), "\"\\\\\"", "backslash");
	CHECK_STR(emit("/", 1), "\"/\"", "slash");
	CHECK_STR(emit("", 0), "\"\"", "empty");
	CHECK_STR(emit(" ~", 2), "\" ~\"", "printable ends");
}

struct emit_row {
	const char *name;
	const char *in;
	size_t len;
	const char *want;
};

static const struct emit_row emit_rows[] = {
	{ "ascii", T("Hello, world"), "\"Hello, world\"" },
	{ "utf8-2", T("caf\xc3\xa9"), "\"caf\xc3\xa9\"" },
	{ "utf8-3-euro", T("\xe2\x82\xac" "5"), "\"\xe2\x82\xac" "5\"" },
	{ "utf8-3-bounds", T("\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf"),
	  "\"\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"" },
	{ "utf8-4-emoji", T("\xf0\x9f\x98\x80!"), "\"\xf0\x9f\x98\x80!\"" },
	{ "utf8-4-max", T("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\"" },
	{ "u2028-passes", T("\xe2\x80\xa8"), "\"\xe2\x80\xa8\"" },
	{ "invalid-ff", T("a\xff" "b"), "\"a\\ufffdb\"" },
	{ "invalid-lone-cont", T("\x80\xbf"), "\"\\ufffd\\ufffd\"" },
	{ "invalid-overlong", T("\xc0\xaf"), "\"\\ufffd\\ufffd\"" },
	{ "invalid-overlong-3", T("\xe0\x80\xaf"), "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "invalid-surrogate", T("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "invalid-above-max", T("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "invalid-f8", T("\xf8\x88\x80\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "truncated-at-end", T("x\xe2\x82"), "\"x\\ufffd\\ufffd\"" },
	{ "truncated-then-ascii", T("\xf0\x9f\x98" "a"), "\"\\ufffd\\ufffd\\ufffda\"" },
	{ "truncated-then-valid", T("\xe2\xc3\xa9"), "\"\\ufffd\xc3\xa9\"" },
	{ "mixed", T("\"\xc3\xa9\n\xff\\"), "\"\\\"\xc3\xa9\\n\\ufffd\\\\\"" },
};

static void
test_string_utf8(void)
{
	for (size_t i = 0; i < sizeof emit_rows / sizeof emit_rows[0]; i++) {
		const char *got = emit(emit_rows[i].in, emit_rows[i].len);
		CHECKF(strcmp(got, emit_rows[i].want) == 0, "%s: got %s want %s", emit_rows[i].name, got,
		    emit_rows[i].want);
	}
}

/* Everything json_string emits passes json_validate. */
static void
test_string_validates(void)
{
	static char mem[64];
	struct json_error e;
	uint32_t x = 12345;

	for (int round = 0; round < 20000; round++) {
		char in[8];
		struct buf b;
		size_t n = (size_t)(round % 8);

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			in[i] = (char)(x >> 16);
		}
		buf_init(&b, mem, sizeof mem);
		json_string(&b, in, n);
		CHECKF(!b.overflow && json_validate(b.p, b.len, &e) == 0, "round %d: %s", round,
		    e.what);
	}
}

static void
test_string_overflow(void)
{
	char mem[8];
	struct buf b;

	buf_init(&b, mem, sizeof mem);
	json_string(&b, "abcdefgh", 8);
	CHECK(b.overflow);
	CHECK(b.len < sizeof mem && mem[b.len] == '\0');
}

static void
write_sample(struct json_writer *w)
{
	json_object_begin(w, NULL);
	json_put_string(w, "a", "b", 1);
	json_object_begin(w, "c");
	json_object_end(w);
	json_object_begin(w, "d");
	json_put_bool(w, "e", 1);
	json_put_bool(w, "f", 0);
	json_object_begin(w, "g\"h");
	json_put_string(w, "i", "\n", 1);
	json_object_end(w);
	json_object_end(w);
	json_array_begin(w, "j");
	json_put_uint(w, NULL, 7);
	json_array_begin(w, NULL);
	json_array_end(w);
	json_object_begin(w, NULL);
	json_put_bool(w, "k", 1);
	json_object_end(w);
	json_array_end(w);
	json_object_end(w);
}

static void
test_writer_compact(void)
{
	char mem[256];
	struct buf b;
	struct json_writer w;

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 0);
	write_sample(&w);
	CHECK(!b.overflow);
	CHECK_STR(mem, "{\"a\":\"b\",\"c\":{},\"d\":{\"e\":true,\"f\":false,\"g\\\"h\":{\"i\":\"\\n\"}},"
	    "\"j\":[7,[],{\"k\":true}]}", "compact");

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 0);
	json_object_begin(&w, NULL);
	json_object_end(&w);
	CHECK_STR(mem, "{}", "empty compact");
}

/* Expected bytes are those of JSON.stringify(v, null, 2) for the same value. */
static void
test_writer_pretty(void)
{
	char mem[256];
	struct buf b;
	struct json_writer w;

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 1);
	write_sample(&w);
	CHECK(!b.overflow);
	CHECK_STR(mem,
	    "{\n"
	    "  \"a\": \"b\",\n"
	    "  \"c\": {},\n"
	    "  \"d\": {\n"
	    "    \"e\": true,\n"
	    "    \"f\": false,\n"
	    "    \"g\\\"h\": {\n"
	    "      \"i\": \"\\n\"\n"
	    "    }\n"
	    "  },\n"
	    "  \"j\": [\n"
	    "    7,\n"
	    "    [],\n"
	    "    {\n"
	    "      \"k\": true\n"
	    "    }\n"
	    "  ]\n"
	    "}",
	    "pretty");

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 1);
	json_object_begin(&w, NULL);
	json_object_end(&w);
	CHECK_STR(mem, "{}", "empty pretty");
}

static void
test_writer_limits(void)
{
	static char mem[65536];    /* JSON_WRITE_MAX_DEPTH levels, indented */
	struct buf b;
	struct json_writer w;
	struct json_error e;

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 1);
	for (int i = 0; i < JSON_WRITE_MAX_DEPTH; i++)
		json_object_begin(&w, i ? "k" : NULL);
	for (int i = 0; i < JSON_WRITE_MAX_DEPTH; i++)
		json_object_end(&w);
	CHECK(!b.overflow);
	CHECK(json_validate(b.p, b.len, &e) == -1);   /* deeper than the validator takes */

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 0);
	for (int i = 0; i <= JSON_WRITE_MAX_DEPTH; i++)
		json_object_begin(&w, i ? "k" : NULL);
	for (int i = 0; i <= JSON_WRITE_MAX_DEPTH; i++)
		json_object_end(&w);
	CHECKF(b.overflow, "depth %d not refused", JSON_WRITE_MAX_DEPTH + 1);

	buf_init(&b, mem, sizeof mem);
	json_writer_init(&w, &b, 0);
	json_object_end(&w);
	CHECKF(b.overflow, "unbalanced end not flagged");

	buf_init(&b, mem, 10);
	json_writer_init(&w, &b, 0);
	json_object_begin(&w, NULL);
	json_put_string(&w, "key", "value", 5);
	json_object_end(&w);
	CHECK(b.overflow);
}

/* json_unescape: every escape, surrogate pairs to UTF-8, raw bytes as they are. */
static void
test_unescape(void)
{
	static const struct {
		const char *in, *out;
		long ret;
		size_t cap;
	} rows[] = {
		{ "a\\\"\\/\\b\\f\\n\\r\\t\\\\", "a\"/\b\f\n\r\t\\", 9, 16 },
		{ "\\u0041\\u00e9\\u20ac\\ud83d\\ude00", "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, 16 },
		{ "caf\xc3\xa9", "caf\xc3\xa9", 5, 16 },
		{ "abcd", "abcd", 4, 5 },
		{ "abcde", NULL, -1, 5 },          /* one byte too many */
		{ "\\u20ac", NULL, -1, 3 },        /* a character never cut */
		{ "a\\u0000b", NULL, -2, 16 },
	};
	char out[16];

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		long r = json_unescape(rows[i].in, strlen(rows[i].in), out, rows[i].cap);

		CHECKF(r == rows[i].ret, "row %zu: %ld", i, r);
		if (rows[i].out != NULL && r >= 0)
			CHECKF(strcmp(out, rows[i].out) == 0, "row %zu: %s", i, out);
	}
}

/* ---- the corpus for tests/integration/test_json_emit.py ---- */

static const char *selected;

static void
corpus_line(const char *s, size_t n)
{
	static char mem[4096];
	struct buf b;

	buf_init(&b, mem, sizeof mem);
	json_string(&b, s, n);
	CHECK(!b.overflow);
	if (selected == NULL || strcmp(selected, "emit-corpus") != 0)
		return;
	fputs("#corpus ", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%02x", (unsigned char)s[i]);
	printf("\t%s\n", mem);
}

static void
put_cp(char *o, size_t *n, uint32_t cp)
{
	if (cp < 0x80) {
		o[(*n)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*n)++] = (char)(0xC0 | cp >> 6);
		o[(*n)++] = (char)(0x80 | (cp & 63));
	} else if (cp < 0x10000) {
		o[(*n)++] = (char)(0xE0 | cp >> 12);
		o[(*n)++] = (char)(0x80 | (cp >> 6 & 63));
		o[(*n)++] = (char)(0x80 | (cp & 63));
	} else {
		o[(*n)++] = (char)(0xF0 | cp >> 18);
		o[(*n)++] = (char)(0x80 | (cp >> 12 & 63));
		o[(*n)++] = (char)(0x80 | (cp >> 6 & 63));
		o[(*n)++] = (char)(0x80 | (cp & 63));
	}
}

static void
test_emit_corpus(void)
{
	static const uint32_t cps[] = { 0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xfffe,
		0xffff, 0x10000, 0x1f600, 0x10ffff, 0x2028, 0x2029, 0xfeff };
	char in[16];
	uint32_t x = 2463534242u;

	for (int c = 0; c < 256; c++) {
		in[0] = (char)c;
		corpus_line(in, 1);
	}
	for (size_t i = 0; i < sizeof cps / sizeof cps[0]; i++) {
		size_t n = 0;
		in[n++] = '<';
		put_cp(in, &n, cps[i]);
		in[n++] = '>';
		corpus_line(in, n);
		corpus_line(in, n - 2); /* truncated: cut inside the sequence */
	}
	for (size_t i = 0; i < sizeof emit_rows / sizeof emit_rows[0]; i++)
		corpus_line(emit_rows[i].in, emit_rows[i].len);
	/* Random strings biased towards UTF-8 lead and continuation bytes. */
	for (int round = 0; round < 3000; round++) {
		size_t n = 1 + (size_t)(round % 15);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			switch (x % 4) {
			case 0: in[i] = (char)(x >> 8 & 0x7f); break;
			case 1: in[i] = (char)(0x80 | (x >> 8 & 0x3f)); break;
			case 2: in[i] = (char)(0xc0 | (x >> 8 & 0x3f)); break;
			default: in[i] = (char)(x >> 8); break;
			}
		}
		corpus_line(in, n);
	}
}

static const struct check_case cases[] = {
	{ "refused", test_refused },
	{ "accepted", test_accepted },
	{ "slices", test_slices },
	{ "depth", test_depth },
	{ "string-controls", test_string_controls },
	{ "string-utf8", test_string_utf8 },
	{ "string-validates", test_string_validates },
	{ "string-overflow", test_string_overflow },
	{ "writer-compact", test_writer_compact },
	{ "writer-pretty", test_writer_pretty },
	{ "writer-limits", test_writer_limits },
	{ "unescape", test_unescape },
	{ "emit-corpus", test_emit_corpus },
};

int
main(int argc, char **argv)
{
	selected = argc > 1 ? argv[1] : NULL;
	return check_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
