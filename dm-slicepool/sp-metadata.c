// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: member metadata I/O (superblock, volume records, owner
 * records) through dm-bufio.  The format is in sp-format.h; the commit
 * protocol that orders these writes across members is in sp-pool.c and
 * Documentation/dm-slicepool.rst.
 *
 * All functions here are called with pool->lock held.
 */
#include <linux/blkdev.h>
#include <linux/crc32c.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "sp-core.h"
#include "md3-format.h"

static u32 sp_block_crc(const void *blk)
{
	return crc32c(~0U, (const u8 *)blk + 4, SP_BLOCK_SIZE - 4);
}

static void sp_block_seal(void *blk, u32 magic, u64 blocknr)
{
	struct sp_block_header *h = blk;

	h->magic = cpu_to_le32(magic);
	h->blocknr = cpu_to_le64(blocknr);
	h->crc = cpu_to_le32(sp_block_crc(blk));
}

/*
 * Seal the block of buffer @b (block @blocknr, of @magic), mark it dirty
 * and release it: it is written at the next sp_md_commit().
 */
static void sp_block_put_sealed(struct dm_buffer *b, u32 magic, u64 blocknr)
{
	sp_block_seal(dm_bufio_get_block_data(b), magic, blocknr);
	dm_bufio_mark_buffer_dirty(b);
	dm_bufio_release(b);
}

static int sp_block_check(struct sp_member *m, const void *blk, u32 magic,
			  u64 blocknr, const char *what)
{
	const struct sp_block_header *h = blk;

	if (le32_to_cpu(h->magic) != magic) {
		sp_err("%s: %s block %llu: bad magic 0x%08x (expected 0x%08x)",
		       m->path, what, blocknr, le32_to_cpu(h->magic), magic);
		return -EILSEQ;
	}
	if (le32_to_cpu(h->crc) != sp_block_crc(blk)) {
		sp_err("%s: %s block %llu: checksum mismatch (stored 0x%08x, computed 0x%08x)",
		       m->path, what, blocknr, le32_to_cpu(h->crc),
		       sp_block_crc(blk));
		return -EILSEQ;
	}
	if (le64_to_cpu(h->blocknr) != blocknr) {
		sp_err("%s: %s block %llu: carries block number %llu",
		       m->path, what, blocknr, le64_to_cpu(h->blocknr));
		return -EILSEQ;
	}
	return 0;
}

/*
 * Read block @blocknr of the table @what through the buffer cache and
 * check it (sp_block_check()); the caller releases *@bp.  On a read or
 * check error, logged, the buffer is released and an ERR_PTR() returned.
 */
static void *sp_md_read_table(struct sp_member *m, u64 blocknr, u32 magic,
			      const char *what, struct dm_buffer **bp)
{
	void *data = dm_bufio_read(m->bufio, blocknr, bp);
	int r;

	if (IS_ERR(data)) {
		sp_err("%s: cannot read %s block %llu: %ld",
		       m->path, what, blocknr, PTR_ERR(data));
		return data;
	}
	r = sp_block_check(m, data, magic, blocknr, what);
	if (r) {
		dm_bufio_release(*bp);
		return ERR_PTR(r);
	}
	return data;
}

int sp_md_open(struct sp_member *m)
{
	struct dm_bufio_client *c;

	if (bdev_logical_block_size(m->bdev.bdev) > SP_BLOCK_SIZE) {
		sp_err("%s: logical block size %u is larger than %u",
		       m->path, bdev_logical_block_size(m->bdev.bdev),
		       SP_BLOCK_SIZE);
		return -EINVAL;
	}
	c = dm_bufio_client_create(m->bdev.bdev, SP_BLOCK_SIZE, 1, 0,
				   NULL, NULL, 0);
	if (IS_ERR(c))
		return PTR_ERR(c);
	m->bufio = c;
	return 0;
}

void sp_md_close(struct sp_member *m)
{
	if (m->bufio)
		dm_bufio_client_destroy(m->bufio);
	m->bufio = NULL;
}

/*
 * Read and check the superblock.  *blank is set when block 0 is all zero
 * (the device may be formatted); anything else that is not a valid
 * superblock of this format version is refused.
 */
int sp_md_read_sb(struct sp_member *m, struct sp_superblock *sb, bool *blank)
{
	struct dm_buffer *b;
	void *data;
	u64 nr, slice, dev, end, blocks, room;
	int r;

	*blank = false;
	data = dm_bufio_read(m->bufio, SP_SB_BLOCK, &b);
	if (IS_ERR(data)) {
		sp_err("%s: cannot read superblock: %ld", m->path,
		       PTR_ERR(data));
		return PTR_ERR(data);
	}
	if (!memchr_inv(data, 0, SP_BLOCK_SIZE)) {
		dm_bufio_release(b);
		*blank = true;
		return 0;
	}
	if (le32_to_cpu(((struct sp_block_header *)data)->magic) ==
	    MD3_LABEL_MAGIC) {
		dm_bufio_release(b);
		sp_err("%s: refused: a member of metadata format 3; enable it in a pool whose metadata_format is 3",
		       m->path);
		return -EILSEQ;
	}
	if (le32_to_cpu(((struct sp_block_header *)data)->magic) !=
	    SP_SB_MAGIC) {
		dm_bufio_release(b);
		sp_err("%s: refused: block 0 is neither blank nor a slicepool superblock (wipe the device first)",
		       m->path);
		return -EILSEQ;
	}
	r = sp_block_check(m, data, SP_SB_MAGIC, SP_SB_BLOCK, "superblock");
	if (!r)
		memcpy(sb, data, sizeof(*sb));
	dm_bufio_release(b);
	if (r)
		return r;

	if (le32_to_cpu(sb->version) != SP_VERSION) {
		sp_err("%s: refused: superblock version %u, this module reads version %u",
		       m->path, le32_to_cpu(sb->version), SP_VERSION);
		return -EILSEQ;
	}
	/*
	 * The owner table must describe every slice and end before the data
	 * area: ceil(nr / SP_OWNERS_PER_BLOCK) <= owner_blocks <= the blocks
	 * between SP_OWNER_TABLE_START and data_offset.  Format makes
	 * owner_blocks exactly ceil(nr / SP_OWNERS_PER_BLOCK); growth
	 * (sp_md_grow()) raises nr up to owner_blocks * SP_OWNERS_PER_BLOCK
	 * and never changes owner_blocks.  Written so that nothing overflows.
	 */
	nr = le64_to_cpu(sb->nr_slices);
	slice = le64_to_cpu(sb->slice_sectors);
	dev = bdev_nr_sectors(m->bdev.bdev);
	end = le64_to_cpu(sb->data_offset);
	blocks = le64_to_cpu(sb->owner_blocks);
	room = div64_u64(end, SP_BLOCK_SIZE >> SECTOR_SHIFT);
	if (!slice || slice % SP_DATA_ALIGN_SECTORS || !nr ||
	    div64_u64(nr - 1, SP_OWNERS_PER_BLOCK) >= blocks ||
	    room < SP_OWNER_TABLE_START ||
	    blocks > room - SP_OWNER_TABLE_START ||
	    check_mul_overflow(nr, slice, &nr) || check_add_overflow(end, nr, &end) ||
	    end > dev) {
		sp_err("%s: refused: superblock geometry is inconsistent (slice %llu sectors, %llu slices, %llu owner blocks, data offset %llu, device %llu sectors)",
		       m->path, slice, le64_to_cpu(sb->nr_slices), blocks,
		       le64_to_cpu(sb->data_offset), dev);
		return -EILSEQ;
	}
	return 0;
}

/* Block @blocknr in the buffer cache, all zero, without reading it. */
static void *sp_md_new_block(struct sp_member *m, u64 blocknr,
			     struct dm_buffer **bp)
{
	void *data = dm_bufio_new(m->bufio, blocknr, bp);

	if (!IS_ERR(data))
		memset(data, 0, SP_BLOCK_SIZE);
	return data;
}

static int sp_md_zero_block(struct sp_member *m, u64 blocknr, u32 magic)
{
	struct dm_buffer *b;
	void *data;

	data = sp_md_new_block(m, blocknr, &b);
	if (IS_ERR(data))
		return PTR_ERR(data);
	sp_block_put_sealed(b, magic, blocknr);
	return 0;
}

static int sp_md_write_sb(struct sp_member *m)
{
	struct sp_pool *pool = m->pool;
	struct sp_superblock *sb;
	struct dm_buffer *b;

	sb = sp_md_new_block(m, SP_SB_BLOCK, &b);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	sb->version = cpu_to_le32(SP_VERSION);
	memcpy(sb->pool_uuid, pool->uuid, SP_UUID_LEN);
	memcpy(sb->member_uuid, m->member_uuid, SP_UUID_LEN);
	strscpy(sb->pool_name, pool->name, sizeof(sb->pool_name));
	strscpy(sb->member_name, config_item_name(&m->item),
		sizeof(sb->member_name));
	strscpy(sb->domain, m->domain, sizeof(sb->domain));
	sb->slice_sectors = cpu_to_le64(sp_slice_sectors(pool));
	sb->nr_slices = cpu_to_le64(m->nr_slices);
	sb->data_offset = cpu_to_le64(m->data_offset);
	sb->owner_blocks = cpu_to_le64(m->owner_blocks);
	sb->dev_sectors = cpu_to_le64(m->dev_sectors);
	sb->generation = cpu_to_le64(++m->sb_gen);
	sb->attempt = cpu_to_le64(pool->attempt);
	sp_block_put_sealed(b, SP_SB_MAGIC, SP_SB_BLOCK);
	return 0;
}

/*
 * Format a blank member for m->pool: empty volume table and owner table
 * first, flushed, then the superblock, flushed.  A crash before the
 * superblock is durable leaves a blank block 0, so the device is simply
 * formatted again.  Fills the member geometry fields.
 */
int sp_md_format(struct sp_member *m)
{
	u64 slice = sp_slice_sectors(m->pool);
	u64 dev = bdev_nr_sectors(m->bdev.bdev);
	u64 blocks, meta, i;
	int r;

	blocks = DIV_ROUND_UP(div64_u64(dev, slice), SP_OWNERS_PER_BLOCK);
	meta = (SP_OWNER_TABLE_START + blocks) * (SP_BLOCK_SIZE >> SECTOR_SHIFT);
	meta = round_up(meta, SP_DATA_ALIGN_SECTORS);
	if (dev <= meta || div64_u64(dev - meta, slice) == 0) {
		sp_err("%s: refused: device too small (%llu sectors): it needs at least %llu sectors for metadata and one %llu-sector slice",
		       m->path, dev, meta + slice, slice);
		return -ENOSPC;
	}
	m->dev_sectors = dev;
	m->data_offset = meta;
	m->nr_slices = div64_u64(dev - meta, slice);
	m->owner_blocks = DIV_ROUND_UP(m->nr_slices, SP_OWNERS_PER_BLOCK);
	m->sb_gen = 0;
	generate_random_uuid(m->member_uuid);

	for (i = 0; i < SP_VOL_BLOCKS; i++) {
		r = sp_md_zero_block(m, SP_VOL_TABLE_START + i, SP_VOL_MAGIC);
		if (r)
			return r;
	}
	for (i = 0; i < m->owner_blocks; i++) {
		r = sp_md_zero_block(m, SP_OWNER_TABLE_START + i,
				     SP_OWNER_MAGIC);
		if (r)
			return r;
	}
	r = sp_md_commit(m);
	if (r)
		return r;
	r = sp_md_write_sb(m);
	if (r)
		return r;
	return sp_md_commit(m);
}

/*
 * Read and check the volume table and owner table of an existing member
 * described by @sb.  Fills m->slots, m->owners (every non-zero owner
 * record starts as SP_OWN_ORPHAN; sp-pool.c classifies them) and copies
 * the volume records into @recs (SP_MAX_VOLUMES entries).
 */
int sp_md_load(struct sp_member *m, const struct sp_superblock *sb,
	       struct sp_vol_record *recs)
{
	struct dm_buffer *b;
	u64 i, p;
	int r = 0;

	m->nr_slices = le64_to_cpu(sb->nr_slices);
	m->data_offset = le64_to_cpu(sb->data_offset);
	m->owner_blocks = le64_to_cpu(sb->owner_blocks);
	m->dev_sectors = le64_to_cpu(sb->dev_sectors);
	m->sb_gen = le64_to_cpu(sb->generation);
	memcpy(m->member_uuid, sb->member_uuid, SP_UUID_LEN);

	for (i = 0; i < SP_VOL_BLOCKS; i++) {
		struct sp_vol_block *vb;
		unsigned int j;

		vb = sp_md_read_table(m, SP_VOL_TABLE_START + i, SP_VOL_MAGIC,
				      "volume table", &b);
		if (IS_ERR(vb))
			return PTR_ERR(vb);
		for (j = 0; j < SP_VOLS_PER_BLOCK; j++) {
			unsigned int s = i * SP_VOLS_PER_BLOCK + j;

			recs[s] = vb->rec[j];
			memcpy(m->slots[s].uuid, vb->rec[j].uuid, SP_UUID_LEN);
			m->slots[s].gen = le64_to_cpu(vb->rec[j].generation);
			m->slots[s].state = le32_to_cpu(vb->rec[j].state);
			if (m->slots[s].state > SP_VOL_DELETED) {
				sp_err("%s: volume record %u: invalid state %u",
				       m->path, s, m->slots[s].state);
				r = -EILSEQ;
			}
		}
		dm_bufio_release(b);
		if (r)
			return r;
	}

	m->nr_free = 0;
	for (i = 0; i < m->owner_blocks; i++) {
		struct sp_owner_block *ob;
		unsigned int j;

		ob = sp_md_read_table(m, SP_OWNER_TABLE_START + i,
				      SP_OWNER_MAGIC, "owner table", &b);
		if (IS_ERR(ob))
			return PTR_ERR(ob);
		for (j = 0; j < SP_OWNERS_PER_BLOCK; j++) {
			struct sp_owner *o;

			p = i * SP_OWNERS_PER_BLOCK + j;
			/*
			 * Records past nr_slices are no slice (yet): zero
			 * since format, taken by sp_md_grow().
			 */
			if (p >= m->nr_slices)
				break;
			o = &m->owners[p];
			memcpy(o->uuid, ob->rec[j].vol_uuid, SP_UUID_LEN);
			o->logical = le64_to_cpu(ob->rec[j].logical);
			o->gen = le64_to_cpu(ob->rec[j].generation);
			if (memchr_inv(o->uuid, 0, SP_UUID_LEN)) {
				o->state = SP_OWN_ORPHAN;
			} else {
				o->state = SP_OWN_FREE;
				m->nr_free++;
			}
		}
		dm_bufio_release(b);
	}
	return 0;
}

/* Update owner record @pslice in the buffer cache (not yet durable). */
int sp_md_set_owner(struct sp_member *m, u64 pslice, const struct sp_owner *o)
{
	u64 blk = SP_OWNER_TABLE_START + div_u64(pslice, SP_OWNERS_PER_BLOCK);
	unsigned int j = pslice % SP_OWNERS_PER_BLOCK;
	struct sp_owner_block *ob;
	struct dm_buffer *b;

	ob = dm_bufio_read(m->bufio, blk, &b);
	if (IS_ERR(ob))
		return PTR_ERR(ob);
	if (o) {
		memcpy(ob->rec[j].vol_uuid, o->uuid, SP_UUID_LEN);
		ob->rec[j].logical = cpu_to_le64(o->logical);
		ob->rec[j].generation = cpu_to_le64(o->gen);
	} else {
		memset(&ob->rec[j], 0, sizeof(ob->rec[j]));
	}
	sp_block_put_sealed(b, SP_OWNER_MAGIC, blk);
	return 0;
}

/* Update volume record slot @slot in the buffer cache and in m->slots. */
int sp_md_set_vol(struct sp_member *m, unsigned int slot,
		  const struct sp_vol_record *rec)
{
	u64 blk = SP_VOL_TABLE_START + slot / SP_VOLS_PER_BLOCK;
	struct sp_vol_block *vb;
	struct dm_buffer *b;

	vb = dm_bufio_read(m->bufio, blk, &b);
	if (IS_ERR(vb))
		return PTR_ERR(vb);
	vb->rec[slot % SP_VOLS_PER_BLOCK] = *rec;
	sp_block_put_sealed(b, SP_VOL_MAGIC, blk);
	memcpy(m->slots[slot].uuid, rec->uuid, SP_UUID_LEN);
	m->slots[slot].gen = le64_to_cpu(rec->generation);
	m->slots[slot].state = le32_to_cpu(rec->state);
	return 0;
}

/*
 * Raise the attempt counter of @m's superblock to @attempt in the buffer
 * cache (not yet durable).  Read-modify-write: the other fields, such as
 * the names at format time, are kept.
 */
int sp_md_set_attempt(struct sp_member *m, u64 attempt)
{
	struct sp_superblock *sb;
	struct dm_buffer *b;

	sb = dm_bufio_read(m->bufio, SP_SB_BLOCK, &b);
	if (IS_ERR(sb))
		return PTR_ERR(sb);
	if (le64_to_cpu(sb->attempt) < attempt) {
		sb->attempt = cpu_to_le64(attempt);
		sb->generation = cpu_to_le64(++m->sb_gen);
		sp_block_seal(sb, SP_SB_MAGIC, SP_SB_BLOCK);
		dm_bufio_mark_buffer_dirty(b);
	}
	dm_bufio_release(b);
	return 0;
}

/*
 * Grow @m to @new_nr physical slices on a device of @dev_sectors sectors
 * (revalidate_size; the caller checked new_nr <= owner_blocks *
 * SP_OWNERS_PER_BLOCK and that the device holds the data area).
 *
 * The owner records of the new slices, [m->nr_slices, new_nr), already
 * exist: format zeroes every owner block whole, records past nr_slices
 * included, and nothing writes a record past nr_slices.  They are checked
 * anyway; one that is not zero (a damaged or foreign writer) is cleared,
 * and the blocks are flushed before the superblock is written.  Then the
 * superblock gets the new nr_slices and dev_sectors (read-modify-write:
 * the names at format time and the attempt counter are kept) and is
 * flushed: that write is the commit point.  A crash before it leaves the
 * old geometry, after it the new one, whose new slices are free either
 * way.  The caller updates the in-memory geometry only on success.
 */
int sp_md_grow(struct sp_member *m, u64 new_nr, u64 dev_sectors)
{
	struct sp_superblock *sb;
	struct dm_buffer *b;
	u64 p = m->nr_slices, cleared = 0;
	int r;

	while (p < new_nr) {
		u64 i = div_u64(p, SP_OWNERS_PER_BLOCK);
		u64 blk = SP_OWNER_TABLE_START + i;
		u64 end = min(new_nr, (i + 1) * SP_OWNERS_PER_BLOCK);
		struct sp_owner_block *ob;
		bool dirty = false;

		ob = sp_md_read_table(m, blk, SP_OWNER_MAGIC, "owner table",
				      &b);
		if (IS_ERR(ob))
			return PTR_ERR(ob);
		for (; p < end; p++) {
			struct sp_owner_record *rec =
				&ob->rec[p - i * SP_OWNERS_PER_BLOCK];

			if (!memchr_inv(rec, 0, sizeof(*rec)))
				continue;
			memset(rec, 0, sizeof(*rec));
			dirty = true;
			cleared++;
		}
		if (dirty) {
			sp_block_seal(ob, SP_OWNER_MAGIC, blk);
			dm_bufio_mark_buffer_dirty(b);
		}
		dm_bufio_release(b);
	}
	if (cleared) {
		sp_warn("%s: %llu owner records past slice %llu were not zero; cleared before growing",
			m->path, cleared, m->nr_slices);
		r = sp_md_commit(m);
		if (r)
			return r;
	}

	sb = dm_bufio_read(m->bufio, SP_SB_BLOCK, &b);
	if (IS_ERR(sb)) {
		sp_err("%s: cannot read superblock: %ld", m->path, PTR_ERR(sb));
		return PTR_ERR(sb);
	}
	sb->nr_slices = cpu_to_le64(new_nr);
	sb->dev_sectors = cpu_to_le64(dev_sectors);
	sb->generation = cpu_to_le64(++m->sb_gen);
	sp_block_put_sealed(b, SP_SB_MAGIC, SP_SB_BLOCK);
	return sp_md_commit(m);
}

/* Make every dirty block of @m durable: write, then flush the device. */
int sp_md_commit(struct sp_member *m)
{
	int r;

	r = dm_bufio_write_dirty_buffers(m->bufio);
	if (!r)
		r = dm_bufio_issue_flush(m->bufio);
	if (r) {
		sp_err("%s: metadata write failed: %d", m->path, r);
		m->failed = true;
	}
	return r;
}
