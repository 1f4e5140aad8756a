/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool on-disk metadata format 2.
 *
 * The module no longer reads it (md3 recognises a format-2 superblock by
 * its magic and the module refuses the member); tools/slicepool reads it
 * for "inspect" and "upgrade" (sb.c, fmt2.c).  Only <linux/types.h> is
 * included, which user space gets from linux-libc-dev; all fields are
 * little endian.  Documentation/dm-slicepool-metadata.rst ("Format 2")
 * describes it.
 *
 * Every metadata block is SP_BLOCK_SIZE bytes and starts with a
 * struct sp_block_header.  The checksum covers bytes 4..4095 of the block
 * (everything after the crc field) and is
 *
 *	crc = crc32c(0xffffffff, block + 4, SP_BLOCK_SIZE - 4)
 *
 * i.e. CRC-32C (Castagnoli), initial value 0xffffffff (~0), no final
 * inversion: exactly the kernel's crc32c(~0, p, len).
 *
 * Member layout (block numbers in units of SP_BLOCK_SIZE):
 *	block 0                         superblock
 *	blocks 1 .. SP_VOL_BLOCKS       volume record table
 *	next owner_blocks blocks        owner records, one per physical slice
 *	data_offset (sectors, 1 MiB aligned) ... data slices
 * Physical slice p occupies sectors
 *	[data_offset + p * slice_sectors, data_offset + (p + 1) * slice_sectors)
 * of the member.
 */
#ifndef DM_SLICEPOOL_FORMAT_H
#define DM_SLICEPOOL_FORMAT_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#else
#include <assert.h>
#endif

/*
 * Every structure below is naturally aligned (no padding), checked by the
 * size assertions at the end, so user space needs no packing attribute.
 */
#if !defined(__KERNEL__) && !defined(__packed)
#define __packed
#endif

#define SP_BLOCK_SIZE		4096
#define SP_SECTOR_SHIFT		9

#define SP_VERSION		2	/* 2: volume records carry fences */

/* Block magics, stored as __le32 in sp_block_header.magic. */
#define SP_SB_MAGIC		0x42535053	/* "SPSB" */
#define SP_VOL_MAGIC		0x4c565053	/* "SPVL" */
#define SP_OWNER_MAGIC		0x574f5053	/* "SPOW" */

#define SP_NAME_LEN		64	/* NUL-padded; names are <= 32 chars */
#define SP_UUID_LEN		16

/* Volume record table: fixed size. */
#define SP_VOL_RECORD_SIZE	256
#define SP_VOLS_PER_BLOCK	15	/* (4096 - 16) / 256 */
#define SP_VOL_BLOCKS		16
#define SP_MAX_FENCES		8	/* per volume record */
#define SP_MAX_VOLUMES		(SP_VOLS_PER_BLOCK * SP_VOL_BLOCKS)

/* Owner records: one per physical slice. */
#define SP_OWNER_RECORD_SIZE	32
#define SP_OWNERS_PER_BLOCK	127	/* (4096 - 16) / 32 */

/* The data area starts on a 1 MiB boundary. */
#define SP_DATA_ALIGN_SECTORS	2048

#define SP_SB_BLOCK		0
#define SP_VOL_TABLE_START	1
#define SP_OWNER_TABLE_START	(SP_VOL_TABLE_START + SP_VOL_BLOCKS)

/**
 * struct sp_block_header - first 16 bytes of every metadata block
 * @crc:     crc32c of bytes 4..4095, see above
 * @magic:   SP_SB_MAGIC, SP_VOL_MAGIC or SP_OWNER_MAGIC
 * @blocknr: the block's own block number (catches misdirected writes)
 */
struct sp_block_header {
	__le32 crc;
	__le32 magic;
	__le64 blocknr;
} __packed;

/**
 * struct sp_superblock - block 0 of a member
 * @hdr:            header, magic SP_SB_MAGIC
 * @version:        SP_VERSION; other versions are refused
 * @flags:          0
 * @pool_uuid:      UUID of the pool the member belongs to
 * @member_uuid:    UUID of this member, random at format time
 * @pool_name:      pool name at format time (informational)
 * @member_name:    configfs member name at format time (informational)
 * @domain:         failure domain label at format time
 * @slice_sectors:  slice size in 512-byte sectors (pool wide)
 * @nr_slices:      number of physical data slices on this member; grows
 *                  when the device grows (revalidate_size), up to
 *                  @owner_blocks * SP_OWNERS_PER_BLOCK
 * @data_offset:    first sector of physical slice 0
 * @owner_blocks:   number of owner record blocks, fixed at format time;
 *                  readers require DIV_ROUND_UP(@nr_slices,
 *                  SP_OWNERS_PER_BLOCK) <= @owner_blocks and the table to
 *                  end before @data_offset.  Records past @nr_slices are
 *                  zero (format writes every owner block whole).
 * @dev_sectors:    member size in sectors at format time, or at the last
 *                  growth
 * @generation:     incremented each time the superblock is written
 * @attempt:        pool-wide allocation attempt counter: the highest
 *                  attempt id handed out while this member was enabled.
 *                  Every create/expand takes id max(seen) + 1 and makes it
 *                  durable here on every enabled member before writing an
 *                  owner record stamped with it, so ids are never reused
 *                  (see "Commit protocol" in the rst).  It lives in what
 *                  was zero-filled space after @generation: 0 reads as
 *                  "no attempt recorded".
 */
struct sp_superblock {
	struct sp_block_header hdr;
	__le32 version;
	__le32 flags;
	__u8 pool_uuid[SP_UUID_LEN];
	__u8 member_uuid[SP_UUID_LEN];
	char pool_name[SP_NAME_LEN];
	char member_name[SP_NAME_LEN];
	char domain[SP_NAME_LEN];
	__le64 slice_sectors;
	__le64 nr_slices;
	__le64 data_offset;
	__le64 owner_blocks;
	__le64 dev_sectors;
	__le64 generation;
	__le64 attempt;
} __packed;

enum sp_vol_state {
	SP_VOL_FREE = 0,	/* unused slot */
	SP_VOL_LIVE = 1,
	SP_VOL_DELETED = 2,	/* tombstone, kept so that stale copies lose */
};

/**
 * struct sp_fence - owner records that must not be taken as claims
 * @from: first logical slice the fence covers; with SP_FENCE_EXACT or'ed
 *        in, the fence excludes attempt @id only, not every id up to it
 * @to:   first logical slice it no longer covers; SP_FENCE_END: no end
 * @id:   an owner record of logical slice L, @from <= L < @to, is a claim
 *        only if its attempt id is above @id (exact: is not @id)
 *
 * A fence is written when an operation may have left owner records of the
 * volume on members that are not enabled at a later time: an interrupted
 * create/expand (from the size it started at, no end), a shrink (from the
 * new size, no end, until the released records are cleared) and a slice
 * move (the moved slices, until the source records are cleared).  See
 * "Commit protocol" in Documentation/dm-slicepool.rst.
 */
struct sp_fence {
	__le32 from;
	__le32 to;
	__le64 id;
} __packed;

#define SP_FENCE_END		0xffffffffU
#define SP_FENCE_EXACT		0x80000000U	/* in sp_fence.from */
#define SP_MAX_VOL_SLICES	0x7fffffffU	/* logical slices per volume */

/**
 * struct sp_vol_record - one volume record (SP_VOL_RECORD_SIZE bytes)
 * @uuid:       volume UUID
 * @name:       volume name (configfs item name), NUL padded
 * @size_bytes: volume size in bytes (a multiple of 512)
 * @nr_slices:  logical slices: ceil(size_bytes / slice size)
 * @generation: commit generation; the highest one found on any member wins
 * @started:    highest create/expand/move attempt id started on the
 *              volume; above @generation when that attempt did not
 *              commit.  Of two copies with the same @generation the
 *              higher @started wins.
 * @started_from, @started_to: the logical slices that attempt writes
 *              owner records for ([old size, SP_FENCE_END) for an expand,
 *              the moved slices with SP_FENCE_EXACT for a move): the
 *              fence it gets if it does not commit
 * @state:      enum sp_vol_state
 * @nr_fences:  valid entries of @fences
 * @fences:     see struct sp_fence, sorted by @from, ids increasing
 */
struct sp_vol_record {
	__u8 uuid[SP_UUID_LEN];
	char name[SP_NAME_LEN];
	__le64 size_bytes;
	__le64 nr_slices;
	__le64 generation;
	__le64 started;
	__le32 state;
	__le32 nr_fences;
	struct sp_fence fences[SP_MAX_FENCES];
	__le32 started_from;
	__le32 started_to;
} __packed;

/**
 * struct sp_vol_block - a block of the volume record table
 */
struct sp_vol_block {
	struct sp_block_header hdr;
	struct sp_vol_record rec[SP_VOLS_PER_BLOCK];
} __packed;

/**
 * struct sp_owner_record - owner of one physical slice (32 bytes)
 * @vol_uuid:   owning volume; all zero means the slice is free
 * @logical:    logical slice index within the volume
 * @generation: attempt id of the create/expand that wrote it (equal to
 *              the volume generation it commits as)
 */
struct sp_owner_record {
	__u8 vol_uuid[SP_UUID_LEN];
	__le64 logical;
	__le64 generation;
} __packed;

/**
 * struct sp_owner_block - a block of owner records; physical slice p is
 * record p % SP_OWNERS_PER_BLOCK of block
 * SP_OWNER_TABLE_START + p / SP_OWNERS_PER_BLOCK.
 */
struct sp_owner_block {
	struct sp_block_header hdr;
	struct sp_owner_record rec[SP_OWNERS_PER_BLOCK];
} __packed;

static_assert(sizeof(struct sp_block_header) == 16, "sp_block_header");
static_assert(sizeof(struct sp_superblock) == 304, "sp_superblock");
static_assert(sizeof(struct sp_fence) == 16, "sp_fence");
static_assert(sizeof(struct sp_vol_record) == SP_VOL_RECORD_SIZE,
	      "sp_vol_record");
static_assert(sizeof(struct sp_vol_block) <= SP_BLOCK_SIZE, "sp_vol_block");
static_assert(sizeof(struct sp_owner_record) == SP_OWNER_RECORD_SIZE,
	      "sp_owner_record");
static_assert(sizeof(struct sp_owner_block) <= SP_BLOCK_SIZE,
	      "sp_owner_block");

#endif /* DM_SLICEPOOL_FORMAT_H */
