// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: block access for the metadata v3 library (md3.c).
 *
 * md3 is write-through and keeps its own state; it reads a member's rings
 * once, at assembly, and reasons about which writes a flush makes durable
 * (Documentation/dm-slicepool-metadata.rst, "Commit rule").  So the port
 * is plain synchronous bios, not dm-bufio, whose deferred write-back would
 * hide that order: read and write are one 4 KiB bio each, waited for, and
 * flush is an empty REQ_PREFLUSH bio, after which every completed write is
 * durable, which is what md3_dev_ops.flush asks.
 *
 * Context: process context, with the caller's pool->lock held and inside
 * sp_md3_enter() (sp-md3io.h).
 */
#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/gfp.h>
#include <linux/highmem.h>

#include "sp-core.h"
#include "sp-md3io.h"

#define SP_MD3_SECTORS	(MD3_BLOCK_SIZE >> SECTOR_SHIFT)

static int sp_mdev_rw(struct sp_mdev *d, u64 block, blk_opf_t opf)
{
	struct bio_vec bv;
	struct bio bio;
	int r;

	if (block >= bdev_nr_sectors(d->bdev) / SP_MD3_SECTORS) {
		sp_err("%s: metadata block %llu is past the end of the device (%llu sectors)",
		       d->path, block, bdev_nr_sectors(d->bdev));
		return -ENOSPC;
	}
	bio_init(&bio, d->bdev, &bv, 1, opf | REQ_SYNC | REQ_META);
	bio.bi_iter.bi_sector = block * SP_MD3_SECTORS;
	__bio_add_page(&bio, d->bounce, MD3_BLOCK_SIZE, 0);
	r = submit_bio_wait(&bio);
	bio_uninit(&bio);
	if (r)
		sp_err("%s: metadata %s of block %llu failed: %d", d->path,
		       op_is_write(opf) ? "write" : "read", block, r);
	return r;
}

static int sp_mdev_read(void *ctx, u64 block, void *buf)
{
	struct sp_mdev *d = ctx;
	int r = sp_mdev_rw(d, block, REQ_OP_READ);

	if (!r)
		memcpy(buf, page_address(d->bounce), MD3_BLOCK_SIZE);
	return r;
}

static int sp_mdev_write(void *ctx, u64 block, const void *buf)
{
	struct sp_mdev *d = ctx;

	memcpy(page_address(d->bounce), buf, MD3_BLOCK_SIZE);
	return sp_mdev_rw(d, block, REQ_OP_WRITE);
}

static int sp_mdev_flush(void *ctx)
{
	struct sp_mdev *d = ctx;
	int r = blkdev_issue_flush(d->bdev);

	if (r)
		sp_err("%s: metadata flush failed: %d", d->path, r);
	return r;
}

static const struct md3_dev_ops sp_mdev_ops = {
	.read = sp_mdev_read,
	.write = sp_mdev_write,
	.flush = sp_mdev_flush,
};

/*
 * Set up @d for @bdev.  A logical block larger than md3's 4 KiB block
 * could not be written whole, so such a device is refused.
 */
int sp_mdev_init(struct sp_mdev *d, struct block_device *bdev,
		 const char *path)
{
	if (bdev_logical_block_size(bdev) > MD3_BLOCK_SIZE) {
		sp_err("%s: logical block size %u is larger than the metadata block (%u)",
		       path, bdev_logical_block_size(bdev), MD3_BLOCK_SIZE);
		return -EINVAL;
	}
	d->bounce = alloc_page(GFP_KERNEL);
	if (!d->bounce)
		return -ENOMEM;
	d->bdev = bdev;
	d->path = path;
	d->md.ops = &sp_mdev_ops;
	d->md.ctx = d;
	d->md.name = path;
	d->md.dev_sectors = bdev_nr_sectors(bdev);
	return 0;
}

void sp_mdev_exit(struct sp_mdev *d)
{
	if (d->bounce)
		__free_page(d->bounce);
	d->bounce = NULL;
}
