// SPDX-License-Identifier: GPL-2.0
/*
 * slicepool - CRC-32C (Castagnoli), table driven
 *
 * spt_crc32c(crc, buf, len) matches the kernel's crc32c(crc, buf, len): the
 * reflected polynomial 0x82F63B78, the caller's seed used as is and no
 * final inversion. The standard check value is
 * ~spt_crc32c(~0, "123456789", 9) == 0xE3069283. dm-slicepool metadata
 * uses crc32c(0xffffffff, block + 4, 4092), see sp-format.h.
 */
#include "slicepool.h"

#define CRC32C_POLY 0x82F63B78u

static u32 crc32c_table[256];
static bool crc32c_ready;

static void crc32c_init(void)
{
	u32 i, j, c;

	for (i = 0; i < 256; i++) {
		c = i;
		for (j = 0; j < 8; j++)
			c = (c >> 1) ^ ((c & 1) ? CRC32C_POLY : 0);
		crc32c_table[i] = c;
	}
	crc32c_ready = true;
}

u32 spt_crc32c(u32 crc, const void *buf, size_t len)
{
	const u8 *p = buf;

	if (!crc32c_ready)
		crc32c_init();
	while (len--)
		crc = (crc >> 8) ^ crc32c_table[(crc ^ *p++) & 0xff];
	return crc;
}
