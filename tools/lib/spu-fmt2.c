// SPDX-License-Identifier: GPL-2.0
/*
 * libspu - the checks of a format-2 member's metadata blocks and its
 * superblock, read in user space (spu-fmt2.h).  The layout is
 * dm-slicepool/sp-format.h: every block carries a header whose crc covers
 * bytes 4..4095 with crc32c(0xffffffff, ...), no final inversion, and
 * whose blocknr is the block's own number.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "spu-fmt2.h"
#include "sp-format.h"

static_assert(sizeof(struct sp_superblock) <= SP_BLOCK_SIZE);
static_assert(SPU_FMT2_BLOCK == SP_BLOCK_SIZE);

bool spu_fmt2_copy_name(char *dst, const char *src, bool allow_empty)
{
	size_t n = strnlen(src, SP_NAME_LEN);

	if (n >= SP_NAME_LEN || n > SPU_NAME_MAX)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	if (!n)
		return allow_empty;
	return spu_valid_name(dst);
}

static bool copy_domain(char *dst, const char *src)
{
	size_t n = strnlen(src, SP_NAME_LEN);

	if (n >= SP_NAME_LEN || n > SPU_NAME_MAX)
		return false;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return spu_valid_domain(dst);
}

int spu_fmt2_check_block(const u8 *b, u32 magic, u64 blocknr,
			 const char *what, char *why, size_t whylen)
{
	const struct sp_block_header *h = (const void *)b;
	u32 crc = md3_crc32c(0xffffffff, b + 4, SP_BLOCK_SIZE - 4);

	if (le32toh(h->magic) != magic) {
		snprintf(why, whylen, "%s (block %llu): bad magic 0x%08x",
			 what, (unsigned long long)blocknr, le32toh(h->magic));
		return -EINVAL;
	}
	if (le32toh(h->crc) != crc) {
		snprintf(why, whylen,
			 "%s (block %llu): checksum mismatch (stored 0x%08x, computed 0x%08x)",
			 what, (unsigned long long)blocknr, le32toh(h->crc), crc);
		return -EINVAL;
	}
	if (le64toh(h->blocknr) != blocknr) {
		snprintf(why, whylen,
			 "%s (block %llu): records block number %llu (misdirected write)",
			 what, (unsigned long long)blocknr,
			 (unsigned long long)le64toh(h->blocknr));
		return -EINVAL;
	}
	return 0;
}

int spu_fmt2_sb_parse(const void *buf, size_t len, struct spu_fmt2_sb *info,
		      char *why, size_t whylen)
{
	const struct sp_superblock *sb = buf;
	const u8 *b = buf;
	u64 need;
	int ret;

	memset(info, 0, sizeof(*info));
	if (len < SP_BLOCK_SIZE || le32toh(sb->hdr.magic) != SP_SB_MAGIC)
		return -ENODATA;
	ret = spu_fmt2_check_block(b, SP_SB_MAGIC, SP_SB_BLOCK, "superblock",
				   why, whylen);
	if (ret)
		return ret;
	info->version = le32toh(sb->version);
	if (info->version != SP_VERSION) {
		snprintf(why, whylen,
			 "superblock: unsupported metadata version %u (this tool reads version %u)",
			 info->version, SP_VERSION);
		return -EINVAL;
	}
	spu_uuid_format(sb->pool_uuid, info->pool_uuid);
	spu_uuid_format(sb->member_uuid, info->member_uuid);
	if (!spu_fmt2_copy_name(info->pool_name, sb->pool_name, false) ||
	    !spu_fmt2_copy_name(info->member_name, sb->member_name, false) ||
	    !copy_domain(info->domain, sb->domain)) {
		snprintf(why, whylen,
			 "superblock: pool, member or domain name is not a valid name");
		return -EINVAL;
	}
	info->slice_sectors = le64toh(sb->slice_sectors);
	info->nr_slices = le64toh(sb->nr_slices);
	info->data_offset = le64toh(sb->data_offset);
	info->owner_blocks = le64toh(sb->owner_blocks);
	info->dev_sectors = le64toh(sb->dev_sectors);
	info->generation = le64toh(sb->generation);
	info->attempt = le64toh(sb->attempt);

	if (!info->slice_sectors ||
	    info->slice_sectors % SP_DATA_ALIGN_SECTORS) {
		snprintf(why, whylen,
			 "superblock: slice size of %llu sectors is not a multiple of 1 MiB",
			 (unsigned long long)info->slice_sectors);
		return -EINVAL;
	}
	need = (info->nr_slices + SP_OWNERS_PER_BLOCK - 1) / SP_OWNERS_PER_BLOCK;
	if (info->owner_blocks < need ||
	    info->nr_slices > info->dev_sectors / info->slice_sectors ||
	    info->data_offset * 512 <
		(u64)(SP_OWNER_TABLE_START + info->owner_blocks) * SP_BLOCK_SIZE ||
	    info->data_offset + info->nr_slices * info->slice_sectors >
		info->dev_sectors) {
		snprintf(why, whylen,
			 "superblock: inconsistent layout (%llu slices, %llu owner blocks, data at sector %llu, %llu sectors)",
			 (unsigned long long)info->nr_slices,
			 (unsigned long long)info->owner_blocks,
			 (unsigned long long)info->data_offset,
			 (unsigned long long)info->dev_sectors);
		return -EINVAL;
	}
	return 0;
}
