#include "buf.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";

void
buf_init(struct buf *b, char *mem, size_t cap)
{
	b->p = mem;
	b->cap = cap;
	b->len = 0;
	b->overflow = 0;
	mem[0] = '\0';
}

void
buf_add(struct buf *b, const void *s, size_t n)
{
	if (b->overflow)
		return;
	if (n >= b->cap - b->len) {
		n = b->cap - 1 - b->len;   /* keep what fits, so a cut message still says something */
		b->overflow = 1;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_char(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

void
buf_uint(struct buf *b, uint64_t v, unsigned width)
{
	char digits[24];
	size_t n = 0;

	do {
		digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 || (n < width && n < sizeof digits));
	buf_add(b, digits + sizeof digits - n, n);
}

void
buf_hex(struct buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		char pair[2] = { hex[s[i] >> 4], hex[s[i] & 15] };
		buf_add(b, pair, 2);
	}
}

void
buf_join(char *dst, size_t cap, const char *a, const char *b, const char *c)
{
	const char *part[] = { a, b, c };
	struct buf e;

	if (dst == NULL || cap == 0)
		return;
	buf_init(&e, dst, cap);
	for (size_t i = 0; i < sizeof part / sizeof part[0]; i++)
		if (part[i] != NULL)
			buf_str(&e, part[i]);
}

void
buf_shown(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != 0x7f) {
			buf_char(b, (char)c);
		} else {
			buf_add(b, "\\x", 2);
			buf_hex(b, &c, 1);
		}
	}
}

void
buf_line(struct buf *b, const char *name, const char *value)
{
	buf_str(b, name);
	buf_str(b, ": ");
	buf_str(b, value);
	buf_char(b, '\n');
}
