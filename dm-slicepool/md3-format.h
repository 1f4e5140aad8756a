/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool pool metadata format v3: on-disk structures.
 *
 * Documentation/dm-slicepool-metadata.rst describes every field; this file
 * only fixes the layout.  All fields are little endian.  Every metadata
 * block is MD3_BLOCK_SIZE bytes and starts with a struct md3_block_header
 * whose crc covers bytes 4..4095:
 *
 *	crc = crc32c(0xffffffff, block + 4, MD3_BLOCK_SIZE - 4)
 *
 * (the kernel's crc32c(~0, p, len), no final inversion), as in format 2.
 *
 * Member layout (block numbers in units of MD3_BLOCK_SIZE):
 *	block 0, block 1           label A, label B
 *	journal_start ...          journal ring, journal_blocks blocks
 *	data_offset (sectors)      data slices, 1 MiB aligned
 */
#ifndef DM_SLICEPOOL_MD3_FORMAT_H
#define DM_SLICEPOOL_MD3_FORMAT_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <linux/build_bug.h>
#else
#include <assert.h>
#endif

#define MD3_BLOCK_SIZE		4096
#define MD3_VERSION		3

/* Block magics, stored as __le32 in md3_block_header.magic */
#define MD3_LABEL_MAGIC		0x4c335053	/* "SP3L" */
#define MD3_JOURNAL_MAGIC	0x4a335053	/* "SP3J" */
/* Format 2's superblock magic, recognised only to refuse it */
#define MD3_V2_SB_MAGIC		0x42535053	/* "SPSB" */

#define MD3_UUID_LEN		16
#define MD3_LABEL_A		0
#define MD3_LABEL_B		1
#define MD3_JOURNAL_START	2		/* default first journal block */
#define MD3_DATA_ALIGN_SECTORS	2048		/* 1 MiB */

/* Journal record types (md3_frag.type) */
#define MD3_TX_DELTA		1
#define MD3_TX_CHECKPOINT	2

/**
 * struct md3_block_header - first 16 bytes of every metadata block
 * @crc:     crc32c of bytes 4..4095
 * @magic:   MD3_LABEL_MAGIC or MD3_JOURNAL_MAGIC
 * @blocknr: the block's own block number (catches misdirected writes)
 */
struct md3_block_header {
	__le32 crc;
	__le32 magic;
	__le64 blocknr;
};

/**
 * struct md3_label - blocks 0 and 1 of a member
 * @hdr:            header, magic MD3_LABEL_MAGIC
 * @version:        MD3_VERSION
 * @flags:          0; readers refuse other values
 * @pool_uuid:      the pool
 * @member_uuid:    this member, random at format time
 * @member_id:      pool-assigned member id, never reused
 * @reserved:       0
 * @label_seq:      incremented on every label write; the valid label with
 *                  the higher value is current, the other slot is the next
 *                  one written
 * @journal_start:  first block of the journal ring
 * @journal_blocks: length of the ring in blocks
 * @data_offset:    first data sector (1 MiB aligned)
 * @dev_sectors:    device size in sectors when the label was written
 * @ckpt_block:     ring index (0 .. journal_blocks - 1) of the first block
 *                  of the newest checkpoint known complete on this member
 * @ckpt_seq:       its sequence number
 * @ckpt_hash:      its chain hash
 * @ckpt_epoch:     its journal epoch
 * @reserved2:      0
 */
struct md3_label {
	struct md3_block_header hdr;
	__le32 version;
	__le32 flags;
	__u8 pool_uuid[MD3_UUID_LEN];
	__u8 member_uuid[MD3_UUID_LEN];
	__le32 member_id;
	__le32 reserved;
	__le64 label_seq;
	__le64 journal_start;
	__le64 journal_blocks;
	__le64 data_offset;
	__le64 dev_sectors;
	__le64 ckpt_block;
	__le64 ckpt_seq;
	__le64 ckpt_hash;
	__le32 ckpt_epoch;
	__le32 reserved2;
};

/**
 * struct md3_frag - header of one journal block (one fragment of a record)
 * @hdr:       header, magic MD3_JOURNAL_MAGIC
 * @seq:       pool transaction sequence number of the record
 * @hash:      chain hash of transaction @seq
 * @aux:       DELTA: chain hash of transaction @seq - 1;
 *             CHECKPOINT: md3_hash(0, @seq, payload), the content hash
 * @epoch:     journal epoch of this member: incremented when the member's
 *             journal is restarted from a checkpoint (catch-up, rejoin)
 * @type:      MD3_TX_DELTA or MD3_TX_CHECKPOINT
 * @frag:      index of this fragment, 0 .. @nfrag - 1
 * @nfrag:     number of fragments (consecutive ring blocks, wrapping)
 * @len:       payload bytes in this block
 * @reserved:  0
 * @total_len: payload bytes of the whole record
 *
 * The payload follows the header, up to MD3_FRAG_PAYLOAD bytes per block.
 */
struct md3_frag {
	struct md3_block_header hdr;
	__le64 seq;
	__le64 hash;
	__le64 aux;
	__le32 epoch;
	__le32 type;
	__le32 frag;
	__le32 nfrag;
	__le32 len;
	__le32 reserved;
	__le64 total_len;
};

#define MD3_FRAG_PAYLOAD	(MD3_BLOCK_SIZE - (int)sizeof(struct md3_frag))

/*
 * Payload records (TLV).  Each record is an 8-byte header
 *	__le16 tag, __le16 flags (0), __le32 len
 * followed by len value bytes and zero padding to a multiple of 8.  A tag
 * with MD3_TAG_OPTIONAL set may be skipped by a reader that does not know
 * it; any other unknown tag makes the record unreadable.  The values are
 * listed in Documentation/dm-slicepool-metadata.rst.
 */
#define MD3_TLV_HDR		8
#define MD3_TAG_OPTIONAL	0x8000
#define MD3_TAG_OP		1	/* operation code (informational) */
#define MD3_TAG_POOL		2	/* pool record, replaces */
#define MD3_TAG_MEMBER		3	/* member record, upsert by id */
#define MD3_TAG_VOLUME		4	/* volume header, upsert by id */
#define MD3_TAG_VOL_DEL		5	/* delete volume by id */
#define MD3_TAG_MAP		6	/* set a range of a volume's map */
#define MD3_TAG_MOVE		7	/* pending move, upsert by vol+first */
#define MD3_TAG_MOVE_CURSOR	8	/* advance a move's copy cursor */
#define MD3_TAG_MOVE_DEL	9	/* end a pending move */
/*
 * MARK: one STALE mark (member, seq of the marking transaction, mark id),
 * appended to the state's mark log; a checkpoint holds the whole log.  It
 * came before any device was written in format 3, so MD3_VERSION stays 3;
 * it is not optional: a reader that does not know it refuses the record.
 */
#define MD3_TAG_MARK		10
/* DOMAIN: a failure domain (id, label); members refer to it by id */
#define MD3_TAG_DOMAIN		11
/*
 * CLONE: a clone of an image (Documentation/dm-slicepool-images.rst), upsert
 * by name; CLONE_DEL ends it.  Added after format-3 pools were written, as
 * new tags (not optional: an older reader that skipped them would let an
 * image with clones be deleted), so MD3_VERSION stays 3 and a state
 * without clones is written exactly as before.
 */
#define MD3_TAG_CLONE		12
#define MD3_TAG_CLONE_DEL	13
/*
 * Redundant volumes (issue 15): COPIES sets a volume's copies (written
 * only when above 1), LEGS places legs 1 .. copies - 1 of a range of its
 * logical slices (leg 0 is the MAP entry), LEG_STALE marks one leg stale
 * or in sync.  New tags, not optional: an older reader that skipped them
 * would serve one leg and write only to it, so it refuses the record;
 * a state with no volume of copies > 1 is written exactly as before and
 * MD3_VERSION stays 3.
 */
#define MD3_TAG_COPIES		14
#define MD3_TAG_LEGS		15
#define MD3_TAG_LEG_STALE	16

/* Fixed value sizes (MAP and MOVE add 12 bytes per slice) */
#define MD3_POOL_LEN		112
#define MD3_MEMBER_LEN		144
#define MD3_MEMBER_MIN_LEN	136	/* written before the flags were added */
/* The longest fixed part of a record with a min (MEMBER, VOLUME) */
#define MD3_PAD_LEN		MD3_MEMBER_LEN
#define MD3_VOLUME_LEN		112
#define MD3_VOLUME_MIN_LEN	104	/* written before the flags were added */
#define MD3_MAP_LEN		24
#define MD3_MOVE_LEN		40
#define MD3_SLICE_LEN		12
#define MD3_MARK_LEN		24	/* __le32 member, __le32 0, __le64 seq, __le64 mark */
#define MD3_DOMAIN_LEN		72	/* __le32 id, __le32 0, label[64] */
#define MD3_CLONE_LEN		88	/* __le64 image, __le32 thin_id, __le32 0,
					 * __le64 sectors, name[64]
					 */
#define MD3_CLONE_DEL_LEN	64	/* name[64] */
#define MD3_COPIES_LEN		16	/* __le64 volume, __le32 copies, __le32 0 */
#define MD3_LEGS_LEN		32	/* __le64 volume, first, count, __le32 leg,
					 * __le32 0, then count MAP entries
					 */
#define MD3_LEG_STALE_LEN	24	/* __le64 volume, slice, __le32 leg,
					 * __le32 stale (0 or 1)
					 */

#ifdef __KERNEL__
static_assert(sizeof(struct md3_label) == 136);
static_assert(sizeof(struct md3_frag) == 72);
static_assert(MD3_PAD_LEN >= MD3_VOLUME_LEN);
#else
static_assert(sizeof(struct md3_label) == 136, "md3_label layout");
static_assert(sizeof(struct md3_frag) == 72, "md3_frag layout");
static_assert(MD3_PAD_LEN >= MD3_VOLUME_LEN, "MD3_PAD_LEN");
#endif

#endif /* DM_SLICEPOOL_MD3_FORMAT_H */
