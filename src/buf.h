/*
 * buf: a caller-owned, fixed-size text buffer.
 *
 * Every formatter in anontel writes through a struct buf instead of the printf
 * family (which would add ~26 KB to a static binary). A buf never grows: a write
 * that does not fit sets `overflow`, keeps what fitted, and later writes are
 * dropped, so callers check once at the end. The text is always NUL-terminated.
 */
#ifndef ANONTEL_BUF_H
#define ANONTEL_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf {
	char *p;        /* caller's memory, cap bytes */
	size_t len;     /* bytes written, excluding the NUL; always < cap */
	size_t cap;     /* size of p, including room for the NUL */
	int overflow;   /* set once a write did not fit */
};

/* Points b at mem[cap] (cap >= 1) and empties it. */
void buf_init(struct buf *b, char *mem, size_t cap);

/* Appends n bytes of s. */
void buf_add(struct buf *b, const void *s, size_t n);

/* Appends the NUL-terminated string s. */
void buf_str(struct buf *b, const char *s);

/* Appends one byte. */
void buf_char(struct buf *b, char c);

/* Appends v in decimal, left-padded with zeros to at least `width` digits. */
void buf_uint(struct buf *b, uint64_t v, unsigned width);

/* Appends n bytes as lowercase hexadecimal (2n characters). */
void buf_hex(struct buf *b, const void *p, size_t n);

/* Appends n bytes that came from outside (environment, files, peers) for a
 * message: control bytes (0x00-0x1f, 0x7f) as "\xHH", so a value can never move a
 * terminal's cursor or forge a line; other bytes as they are. */
void buf_shown(struct buf *b, const char *s, size_t n);

/* Writes a, b and c (NULL ones skipped) into dst[cap], cut to fit and
 * NUL-terminated: the one way modules fill a caller's `char *err, size_t errlen`
 * (a cut reason beats none). dst may be NULL or cap 0: nothing is written. */
void buf_join(char *dst, size_t cap, const char *a, const char *b, const char *c);

/* Appends "name: value\n" (the lines of status, --version and id --explain). */
void buf_line(struct buf *b, const char *name, const char *value);

#endif
