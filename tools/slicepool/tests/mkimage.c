// SPDX-License-Identifier: GPL-2.0
/*
 * mkimage - write crafted dm-slicepool member images for the host tests
 *
 * Usage: mkimage <kind> <file>
 *
 * All images are sparse files of pool "tp" (slice size 1 MiB), 16 MiB
 * with 15 data slices per member unless said otherwise.  Volume "v1"
 * (4 MiB, 4 slices, generation 2) has logical slices 0 and 2 on member
 * m0, 1 and 3 on member m1; m1 also holds an orphan (logical 4,
 * generation 3: an expand that never committed) and a stale claim of
 * logical 2 by attempt 1, which lost to m0's claim of attempt 2 (an
 * orphan too).  The superblocks' attempt counter is 3.  m0 also records
 * a deleted volume "old".
 *
 * kinds: m0, m1            good members
 *        badmagic          m0 with the superblock magic overwritten
 *        badcrc            m0 with one superblock byte changed after the crc
 *        badversion        m0 with version SP_VERSION + 1 (and a valid crc)
 *        blocknr           m0 whose superblock says it is block 5
 *        badvolcrc         m0 with a corrupt volume table block
 *        grown             m0 after its device grew to 256 MiB and
 *                          revalidate_size took all it could: 127 slices,
 *                          what its one owner block describes
 *        overgrown         grown with 128 slices: more than one owner
 *                          block describes (a corrupt geometry)
 *        fm0, fm1          m0 and m1 after v1 grew to 5 slices by attempt 4,
 *                          which put logical 4 on m0: the record (generation
 *                          4) carries the fence {from 4, id 3}, so m1's
 *                          orphan of logical 4 (attempt 3, interrupted) is
 *                          never a claim, even without m0
 *        tie1              m1 with a second claim of logical 3 by attempt
 *                          2 (physical 4): the same attempt twice, which
 *                          only corruption makes; the first claim is kept,
 *                          the second is an orphan
 */
#include <endian.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "slicepool.h"
#include "sp-format.h"

#define IMG_SECTORS	32768ULL	/* 16 MiB */
#define SLICE_SECTORS	2048ULL		/* 1 MiB */
#define DATA_OFFSET	2048ULL
#define NR_SLICES	((IMG_SECTORS - DATA_OFFSET) / SLICE_SECTORS)

static u8 blocks[SP_OWNER_TABLE_START + 1][SP_BLOCK_SIZE];

static void uuid_fill(u8 *u, u8 v)
{
	memset(u, v, SP_UUID_LEN);
}

static void seal(unsigned int nr, u32 magic)
{
	struct sp_block_header *h = (void *)blocks[nr];

	h->magic = htole32(magic);
	h->blocknr = htole64(nr);
	h->crc = htole32(md3_crc32c(0xffffffff, blocks[nr] + 4,
				    SP_BLOCK_SIZE - 4));
}

static void set_owner(unsigned int phys, u8 vol, u64 logical, u64 gen)
{
	struct sp_owner_block *ob = (void *)blocks[SP_OWNER_TABLE_START];

	uuid_fill(ob->rec[phys].vol_uuid, vol);
	ob->rec[phys].logical = htole64(logical);
	ob->rec[phys].generation = htole64(gen);
}

static void set_vol(unsigned int slot, u8 uuid, const char *name, u64 size,
		    u64 gen, u32 state)
{
	struct sp_vol_block *vb = (void *)blocks[SP_VOL_TABLE_START];
	struct sp_vol_record *r = &vb->rec[slot];

	uuid_fill(r->uuid, uuid);
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->size_bytes = htole64(size);
	r->nr_slices = htole64((size + (SLICE_SECTORS << 9) - 1) /
			       (SLICE_SECTORS << 9));
	r->generation = htole64(gen);
	r->state = htole32(state);
}

static void build(bool m1)
{
	struct sp_superblock *sb = (void *)blocks[SP_SB_BLOCK];

	memset(blocks, 0, sizeof(blocks));
	sb->version = htole32(SP_VERSION);
	uuid_fill(sb->pool_uuid, 0x11);
	uuid_fill(sb->member_uuid, m1 ? 0x22 : 0x21);
	snprintf(sb->pool_name, sizeof(sb->pool_name), "tp");
	snprintf(sb->member_name, sizeof(sb->member_name), m1 ? "m1" : "m0");
	snprintf(sb->domain, sizeof(sb->domain), m1 ? "dB" : "dA");
	sb->slice_sectors = htole64(SLICE_SECTORS);
	sb->nr_slices = htole64(NR_SLICES);
	sb->data_offset = htole64(DATA_OFFSET);
	sb->owner_blocks = htole64(1);
	sb->dev_sectors = htole64(IMG_SECTORS);
	sb->generation = htole64(7);
	sb->attempt = htole64(3);

	set_vol(0, 0xaa, "v1", 4 << 20, 2, SP_VOL_LIVE);
	if (m1) {
		set_owner(0, 0xaa, 1, 1);
		set_owner(1, 0xaa, 3, 2);
		set_owner(2, 0xaa, 4, 3);	/* orphan */
		set_owner(3, 0xaa, 2, 1);	/* lost to m0's attempt 2 */
	} else {
		set_vol(1, 0xbb, "old", 1 << 20, 5, SP_VOL_DELETED);
		set_owner(0, 0xaa, 0, 1);
		set_owner(1, 0xaa, 2, 2);
	}
	seal(SP_SB_BLOCK, SP_SB_MAGIC);
	seal(SP_VOL_TABLE_START, SP_VOL_MAGIC);
	seal(SP_OWNER_TABLE_START, SP_OWNER_MAGIC);
}

int main(int argc, char **argv)
{
	struct sp_superblock *sb = (void *)blocks[SP_SB_BLOCK];
	const char *kind;
	unsigned int i;
	int fd;

	if (argc != 3) {
		fprintf(stderr, "usage: mkimage <kind> <file>\n");
		return 2;
	}
	kind = argv[1];
	build(!strcmp(kind, "m1") || !strcmp(kind, "fm1") ||
	      !strcmp(kind, "tie1"));
	if (!strcmp(kind, "badmagic")) {
		sb->hdr.magic = htole32(0x12345678);
	} else if (!strcmp(kind, "badcrc")) {
		sb->generation = htole64(8);
	} else if (!strcmp(kind, "badversion")) {
		sb->version = htole32(SP_VERSION + 1);
		seal(SP_SB_BLOCK, SP_SB_MAGIC);
	} else if (!strcmp(kind, "blocknr")) {
		seal(SP_SB_BLOCK, SP_SB_MAGIC);
		sb->hdr.blocknr = htole64(5);
		sb->hdr.crc = htole32(md3_crc32c(0xffffffff,
						 blocks[SP_SB_BLOCK] + 4,
						SP_BLOCK_SIZE - 4));
	} else if (!strcmp(kind, "badvolcrc")) {
		blocks[SP_VOL_TABLE_START][100] ^= 1;
	} else if (!strcmp(kind, "grown") || !strcmp(kind, "overgrown")) {
		u64 nr = SP_OWNERS_PER_BLOCK + !strcmp(kind, "overgrown");

		sb->nr_slices = htole64(nr);
		sb->dev_sectors = htole64(DATA_OFFSET + nr * SLICE_SECTORS);
		seal(SP_SB_BLOCK, SP_SB_MAGIC);
	} else if (!strcmp(kind, "fm0") || !strcmp(kind, "fm1")) {
		struct sp_vol_block *vb = (void *)blocks[SP_VOL_TABLE_START];
		struct sp_vol_record *r = &vb->rec[0];

		set_vol(0, 0xaa, "v1", 5 << 20, 4, SP_VOL_LIVE);
		r->started = htole64(4);
		r->nr_fences = htole32(1);
		r->fences[0].from = htole32(4);
		r->fences[0].to = htole32(SP_FENCE_END);
		r->fences[0].id = htole64(3);
		if (!strcmp(kind, "fm0"))
			set_owner(2, 0xaa, 4, 4);
		sb->attempt = htole64(4);
		seal(SP_SB_BLOCK, SP_SB_MAGIC);
		seal(SP_VOL_TABLE_START, SP_VOL_MAGIC);
		seal(SP_OWNER_TABLE_START, SP_OWNER_MAGIC);
	} else if (!strcmp(kind, "tie1")) {
		set_owner(4, 0xaa, 3, 2);
		seal(SP_OWNER_TABLE_START, SP_OWNER_MAGIC);
	} else if (strcmp(kind, "m0") && strcmp(kind, "m1")) {
		fprintf(stderr, "mkimage: unknown kind '%s'\n", kind);
		return 2;
	}
	fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 ||
	    ftruncate(fd, (off_t)(le64toh(sb->dev_sectors) << 9))) {
		perror(argv[2]);
		return 1;
	}
	for (i = 0; i <= SP_OWNER_TABLE_START; i++) {
		if (pwrite(fd, blocks[i], SP_BLOCK_SIZE,
			   (off_t)i * SP_BLOCK_SIZE) != SP_BLOCK_SIZE) {
			perror(argv[2]);
			return 1;
		}
	}
	return close(fd) ? 1 : 0;
}
