/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: the kernel's struct md3_dev_ops, the block access through
 * which the metadata v3 library (md3.c) reads, writes and flushes a member.
 */
#ifndef DM_SLICEPOOL_SP_MD3IO_H
#define DM_SLICEPOOL_SP_MD3IO_H

#include <linux/blkdev.h>
#include <linux/sched/mm.h>

#include "md3.h"

/**
 * struct sp_mdev - metadata access to one member device
 * @bdev:   the member, opened by its owner for as long as this lives
 * @bounce: one page: md3 buffers may be vmalloc'ed, bios get this page
 * @path:   device path, for messages (owned by the caller)
 * @md:     what md3 is handed: ops, ctx (this), name, size
 *
 * Not locked: md3 calls are serialised by the caller (pool->lock), and
 * so is every use of @bounce.
 */
struct sp_mdev {
	struct block_device *bdev;
	struct page *bounce;
	const char *path;
	struct md3_dev md;
};

int sp_mdev_init(struct sp_mdev *d, struct block_device *bdev,
		 const char *path);
void sp_mdev_exit(struct sp_mdev *d);

/*
 * Every md3 call runs inside sp_md3_enter()/sp_md3_exit(): md3 allocates
 * with GFP_KERNEL, and a migration's switch commits while the volume's
 * writes are held, on a WQ_MEM_RECLAIM workqueue, so no allocation on
 * the way may recurse into I/O.
 */
static inline unsigned int sp_md3_enter(void)
{
	return memalloc_noio_save();
}

static inline void sp_md3_exit(unsigned int flags)
{
	memalloc_noio_restore(flags);
}

#endif /* DM_SLICEPOOL_SP_MD3IO_H */
