/*
 * mac64: the 64-bit multiply-accumulate step that p256.c and rsa.c build their
 * multiplications from, for compilers with unsigned __int128 (the only ones that
 * compile either file's own arithmetic).
 */
#ifndef ANONTEL_MAC64_H
#define ANONTEL_MAC64_H

#include <stdint.h>

#ifdef __SIZEOF_INT128__

typedef unsigned __int128 u128;

/* Returns the low limb of a * b + t + *carry and sets *carry to its high limb
 * (the sum fits in 128 bits). Written with 64-bit halves: gcc 12 spills the
 * 128-bit form of the same sum to the stack at every step. */
static inline __attribute__((always_inline)) uint64_t
mac(uint64_t *carry, uint64_t a, uint64_t b, uint64_t t)
{
	u128 p = (u128)a * b;
	uint64_t lo = (uint64_t)p, hi = (uint64_t)(p >> 64);

	lo += t;
	hi += lo < t;
	lo += *carry;
	hi += lo < *carry;
	*carry = hi;
	return lo;
}

#endif
#endif
