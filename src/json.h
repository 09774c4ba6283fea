/*
 * json: strict RFC 8259 validation of untrusted text, the decoding of its strings,
 * and hand-written emission.
 *
 * Validation runs over the whole text before jsmn sees it, because jsmn alone
 * accepts invalid JSON (bad numbers, `tru`, `[1,]`, trailing values, raw control
 * characters, invalid UTF-8, NUL bytes). The emitter escapes every string and
 * never lets invalid UTF-8 through, so what anontel prints and sends always
 * parses in a strict parser.
 */
#ifndef ANONTEL_JSON_H
#define ANONTEL_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Nesting deeper than this is refused by json_validate. */
#define JSON_MAX_DEPTH 64

/* Nesting deeper than this is refused by the writer: a message's JSON Schema
 * (schema.h) nests twice as deep as the message. */
#define JSON_WRITE_MAX_DEPTH (2 * JSON_MAX_DEPTH)

/* Where and why a text was refused. line and col are 1-based; col counts bytes. */
struct json_error {
	size_t offset;
	unsigned line;
	unsigned col;
	const char *what;    /* static, lowercase, e.g. "invalid number" */
};

/*
 * Checks that s[0..n) is exactly one RFC 8259 JSON value, optionally surrounded by
 * whitespace: strict numbers and literals, strings of valid UTF-8 with no raw
 * control characters and no lone surrogate escapes (\uD800-\uDFFF unpaired), no
 * NUL byte, no trailing commas, no second value, nesting <= JSON_MAX_DEPTH.
 * Duplicate keys are not this function's concern (the schema layer checks them).
 * A UTF-8 byte order mark is refused too. Iterative: a deep text costs no stack.
 * Returns 0 if valid; -1 with *err filled otherwise (err may be NULL). Never
 * reads past s + n.
 *
 * err->what is one of: "empty document", "unexpected end of text", "unterminated
 * string", "invalid number", "invalid literal", "trailing comma", "expected a
 * value", "expected a string key", "expected ':'", "expected ',' or ']'",
 * "expected ',' or '}'", "control character in string", "invalid escape",
 * "invalid \u escape", "lone surrogate escape", "invalid UTF-8", "NUL byte",
 * "byte order mark", "nesting too deep", "unexpected data after the value".
 * The position is the first byte of the offending number, literal or escape, of
 * the string for "unterminated string", of the comma for "trailing comma", of
 * the '[' or '{' one level too deep, else of the offending byte (the end of the
 * text for the two end-of-text errors). Lines end at '\n'.
 */
int json_validate(const char *s, size_t n, struct json_error *err);

/*
 * Decodes the body of a string json_validate accepted (between its quotes, so
 * every escape is well formed and surrogates are paired) into out[0..cap),
 * NUL-terminated: escapes become their characters in UTF-8, other bytes stay as
 * they are. Returns its length, -1 if it takes more than cap - 1 bytes, -2 if it
 * holds U+0000.
 */
long json_unescape(const char *s, size_t n, char *out, size_t cap);

/* Appends s[0..n) as a quoted JSON string: `"` `\` and controls escaped
 * (\b \f \n \r \t, others as \u00XX, 0x7F as \u007f), valid UTF-8 passed through,
 * each byte of an invalid UTF-8 sequence replaced by \ufffd. */
void json_string(struct buf *b, const char *s, size_t n);

/*
 * A streaming writer of objects, arrays, strings, booleans and integers: compact,
 * or indented by two spaces per level like JSON.stringify(v, null, 2) when
 * `pretty` is set. Keys are NUL-terminated and escaped like strings; a NULL key
 * means "a value with no key" (the top-level value, an array's element). Overflow
 * is reported through the underlying buf.
 */
struct json_writer {
	struct buf *b;
	int pretty;
	unsigned depth;
	unsigned char has_items[JSON_WRITE_MAX_DEPTH + 1];
};

/* Starts writing into b. */
void json_writer_init(struct json_writer *w, struct buf *b, int pretty);

/* Opens an object under `key` (NULL at top level). */
void json_object_begin(struct json_writer *w, const char *key);

/* Closes the innermost open object; an empty one is written `{}`. */
void json_object_end(struct json_writer *w);

/* Opens an array under `key`, and closes the innermost open one (`[]` when
 * empty); its elements are written with a NULL key. */
void json_array_begin(struct json_writer *w, const char *key);
void json_array_end(struct json_writer *w);

/* Writes key: "s" with s escaped as json_string does. */
void json_put_string(struct json_writer *w, const char *key, const char *s, size_t n);

/* Writes key: true or key: false. */
void json_put_bool(struct json_writer *w, const char *key, int v);

/* Writes key: v, a non-negative integer in decimal. */
void json_put_uint(struct json_writer *w, const char *key, uint64_t v);

#endif
