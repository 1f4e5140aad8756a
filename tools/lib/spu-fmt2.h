/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libspu - the checks of a format-2 member's metadata blocks and its
 * superblock (dm-slicepool/sp-format.h), shared by the tool's reader
 * (tools/slicepool/sb.c) and the agent's check of a granted namespace
 * (nvmet-remote-ns/agent/borrower.c).  Users build with
 * -I<top>/dm-slicepool; libspu.a carries md3_crc32c()
 * (dm-slicepool/md3-record.c).
 */
#ifndef SPU_FMT2_H
#define SPU_FMT2_H

#include "spu.h"

#define SPU_FMT2_BLOCK		4096	/* a metadata block (SP_BLOCK_SIZE) */

/*
 * dm-slicepool/md3-record.c's CRC-32C, the kernel's crc32c(crc, buf,
 * len) (the reflected polynomial 0x82F63B78, the seed used as is, no
 * final inversion): the one user-space implementation, built into
 * libspu.a.
 */
u32 md3_crc32c(u32 crc, const void *buf, size_t len);

/* What a format-2 superblock says. */
struct spu_fmt2_sb {
	char pool_name[SPU_NAME_MAX + 1];
	char pool_uuid[SPU_UUID_STR];
	char member_name[SPU_NAME_MAX + 1];
	char member_uuid[SPU_UUID_STR];
	char domain[SPU_NAME_MAX + 1];
	u32 version;
	u64 slice_sectors;
	u64 nr_slices;
	u64 data_offset;	/* sectors */
	u64 owner_blocks;
	u64 dev_sectors;
	u64 generation;
	u64 attempt;		/* highest allocation attempt id */
};

/*
 * The crc, magic and block number of the metadata block @b (4 KiB), as the
 * kernel checks them: 0, or -EINVAL with @why naming @what and @blocknr.
 */
int spu_fmt2_check_block(const u8 *b, u32 magic, u64 blocknr,
			 const char *what, char *why, size_t whylen);

/* Copies a NUL-padded on-disk name; false if it is not a valid name. */
bool spu_fmt2_copy_name(char *dst, const char *src, bool allow_empty);

/*
 * Parses the superblock in @buf (@len bytes, at least one block): 0,
 * -ENODATA when block 0 has no slicepool superblock magic (not a member:
 * not an error), or -EINVAL with @why set when it is refused (checksum,
 * block number, version, names or layout).
 */
int spu_fmt2_sb_parse(const void *buf, size_t len, struct spu_fmt2_sb *info,
		      char *why, size_t whylen);

#endif /* SPU_FMT2_H */
