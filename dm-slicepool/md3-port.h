/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool metadata v3: kernel / user space portability.
 *
 * md3.c and md3-*.c are built into the kernel module, the slicepool tool
 * and the host crash simulator (selftests/crashsim).  This header gives
 * them the same small set of helpers in both worlds: fixed-width types,
 * little-endian conversion, CRC-32C, zeroed allocation of large arrays
 * and the bit operations of one bitmap chunk.  Nothing here depends on
 * selftests/.
 */
#ifndef DM_SLICEPOOL_MD3_PORT_H
#define DM_SLICEPOOL_MD3_PORT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/slab.h>
#include <linux/mm.h>
#include <linux/bitops.h>
#include <linux/bitmap.h>
#include <linux/crc32c.h>
#include <asm/byteorder.h>
#include <asm/unaligned.h>
#include <linux/stdarg.h>

static inline void *md3_zalloc(size_t n)
{
	return kvzalloc(n, GFP_KERNEL);
}

static inline void *md3_calloc(size_t nr, size_t size)
{
	return kvcalloc(nr, size, GFP_KERNEL);
}

static inline void md3_free(void *p)
{
	kvfree(p);
}

static inline void *md3_realloc(void *p, size_t old, size_t new)
{
	return kvrealloc(p, old, new, GFP_KERNEL | __GFP_ZERO);
}

static inline u32 md3_crc32c(u32 crc, const void *p, size_t len)
{
	return crc32c(crc, p, len);
}

#else /* user space */
#include <linux/types.h>
#include <errno.h>
#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same definitions as the kernel (asm-generic/int-ll64.h) */
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define cpu_to_le16(x)	((__le16)htole16(x))
#define cpu_to_le32(x)	((__le32)htole32(x))
#define cpu_to_le64(x)	((__le64)htole64(x))
#define le16_to_cpu(x)	le16toh((__u16)(x))
#define le32_to_cpu(x)	le32toh((__u32)(x))
#define le64_to_cpu(x)	le64toh((__u64)(x))

#ifndef BITS_PER_LONG
#define BITS_PER_LONG	(8 * (int)sizeof(long))
#endif

static inline void *md3_zalloc(size_t n)
{
	return calloc(1, n ? n : 1);
}

static inline void *md3_calloc(size_t nr, size_t size)
{
	return calloc(nr ? nr : 1, size ? size : 1);
}

static inline void md3_free(void *p)
{
	free(p);
}

static inline void *md3_realloc(void *p, size_t old, size_t new)
{
	u8 *q = realloc(p, new ? new : 1);

	if (q && new > old)
		memset(q + old, 0, new - old);
	return q;
}

static inline size_t strscpy(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = 0;
	return n;
}

static inline void put_unaligned_le32(u32 v, void *p)
{
	u32 le = htole32(v);

	memcpy(p, &le, 4);
}

static inline void put_unaligned_le64(u64 v, void *p)
{
	u64 le = htole64(v);

	memcpy(p, &le, 8);
}

static inline void put_unaligned_le16(u16 v, void *p)
{
	u16 le = htole16(v);

	memcpy(p, &le, 2);
}

static inline u16 get_unaligned_le16(const void *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return le16toh(v);
}

static inline u32 get_unaligned_le32(const void *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static inline u64 get_unaligned_le64(const void *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

/* One-chunk bit operations (the kernel's are in <linux/bitops.h>). */
static inline void __set_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] |= 1UL << (nr % BITS_PER_LONG);
}

static inline void __clear_bit(unsigned long nr, unsigned long *map)
{
	map[nr / BITS_PER_LONG] &= ~(1UL << (nr % BITS_PER_LONG));
}

static inline bool test_bit(unsigned long nr, const unsigned long *map)
{
	return (map[nr / BITS_PER_LONG] >> (nr % BITS_PER_LONG)) & 1;
}

static inline unsigned long find_next_zero_bit(const unsigned long *map,
					       unsigned long size,
					       unsigned long off)
{
	while (off < size) {
		unsigned long w = ~map[off / BITS_PER_LONG];

		w &= ~0UL << (off % BITS_PER_LONG);
		if (w) {
			off = off - off % BITS_PER_LONG + __builtin_ctzl(w);
			return off < size ? off : size;
		}
		off = off - off % BITS_PER_LONG + BITS_PER_LONG;
	}
	return size;
}

/*
 * CRC-32C (Castagnoli), no inversion in or out: exactly the kernel's
 * crc32c(crc, p, len).  Slicing by 8, tables built on first use.
 */
u32 md3_crc32c(u32 crc, const void *p, size_t len);

#endif /* __KERNEL__ */

#endif /* DM_SLICEPOOL_MD3_PORT_H */
