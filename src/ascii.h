/*
 * ascii: character classes and case mapping for the ASCII subset, independent of
 * the C locale (every parser in anontel reads protocol or config text, never
 * locale-dependent text). Inline: each is one comparison or two.
 */
#ifndef ANONTEL_ASCII_H
#define ANONTEL_ASCII_H

#include <stddef.h>

static inline int
ascii_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Space or tab: HTTP's optional whitespace (RFC 9110 5.6.3), the blank between
 * items of NO_PROXY and of a resolver file's line. */
static inline int
ascii_is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* The value of exactly n decimal digits at s into *v: 0, or -1 at a non-digit.
 * n is small (dates' fields): no overflow check. */
static inline int
ascii_digits(const char *s, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ascii_is_digit((unsigned char)s[i]))
			return -1;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 0;
}

static inline int
ascii_is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
ascii_is_alnum(int c)
{
	return ascii_is_digit(c) || ascii_is_alpha(c);
}

static inline int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static inline int
ascii_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* The value of a hexadecimal digit (either case), or -1. */
static inline int
ascii_hex_val(int c)
{
	if (ascii_is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of a base64 digit (RFC 4648, not URL-safe), or -1. Tested from the
 * top down (lowercase, uppercase, digits: '0' < 'A' < 'a' in ASCII), so a letter
 * costs two comparisons: a CA file is about 200 KB of these. */
static inline __attribute__((always_inline)) int
ascii_b64_val(int c)
{
	if (c >= 'a')
		return c <= 'z' ? c - 'a' + 26 : -1;
	if (c >= 'A')
		return c <= 'Z' ? c - 'A' : -1;
	if (c >= '0')
		return c <= '9' ? c - '0' + 52 : -1;
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

#endif
