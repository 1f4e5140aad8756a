/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dm-slicepool: kernel version differences, selected by the compile probes
 * in compat-probes/ (the build generates compat-autoconf.h with one
 * "#define HAVE_<NAME> 1" per probe that compiled).  Never test
 * LINUX_VERSION_CODE here.
 */
#ifndef DM_SLICEPOOL_COMPAT_H
#define DM_SLICEPOOL_COMPAT_H

#include <linux/blkdev.h>
#include <linux/device-mapper.h>
#include <linux/err.h>
#include <linux/fs.h>

#include "compat-autoconf.h"

/**
 * struct sp_bdev - an exclusively opened block device
 * @bdev: the device
 * @file: (>= 6.9) the file that holds the open
 * @handle: (6.7, 6.8) the handle that holds the open
 */
struct sp_bdev {
	struct block_device *bdev;
#if defined(HAVE_BDEV_FILE_OPEN_BY_PATH)
	struct file *file;
#elif defined(HAVE_BDEV_OPEN_BY_PATH)
	struct bdev_handle *handle;
#endif
};

/* Open @path read-write and exclusively, claimed by @holder. */
static inline int sp_bdev_open(struct sp_bdev *b, const char *path,
			       void *holder)
{
#if defined(HAVE_BDEV_FILE_OPEN_BY_PATH)
	b->file = bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
					 holder, NULL);
	if (IS_ERR(b->file))
		return PTR_ERR(b->file);
	b->bdev = file_bdev(b->file);
#elif defined(HAVE_BDEV_OPEN_BY_PATH)
	b->handle = bdev_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
				      holder, NULL);
	if (IS_ERR(b->handle))
		return PTR_ERR(b->handle);
	b->bdev = b->handle->bdev;
#elif defined(HAVE_BLKDEV_GET_BY_PATH_HOPS)
	b->bdev = blkdev_get_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
				     holder, NULL);
	if (IS_ERR(b->bdev))
		return PTR_ERR(b->bdev);
#else
	b->bdev = blkdev_get_by_path(path, FMODE_READ | FMODE_WRITE |
				     FMODE_EXCL, holder);
	if (IS_ERR(b->bdev))
		return PTR_ERR(b->bdev);
#endif
	return 0;
}

static inline void sp_bdev_close(struct sp_bdev *b, void *holder)
{
#if defined(HAVE_BDEV_FILE_OPEN_BY_PATH)
	fput(b->file);
#elif defined(HAVE_BDEV_OPEN_BY_PATH)
	bdev_release(b->handle);
#elif defined(HAVE_BLKDEV_GET_BY_PATH_HOPS)
	blkdev_put(b->bdev, holder);
#else
	blkdev_put(b->bdev, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
#endif
	b->bdev = NULL;
}

/*
 * Fill the struct dm_dev that iterate_devices hands to dm core for a member
 * this module opened itself (see "Member devices" in the documentation).
 */
static inline void sp_fill_dm_dev(struct dm_dev *d, struct sp_bdev *b)
{
	d->bdev = b->bdev;
#if defined(HAVE_DM_DEV_BDEV_FILE)
	d->bdev_file = b->file;
#endif
#if defined(HAVE_DM_DEV_MODE_BLK_MODE)
	d->mode = BLK_OPEN_READ | BLK_OPEN_WRITE;
#else
	d->mode = FMODE_READ | FMODE_WRITE;
#endif
	format_dev_t(d->name, b->bdev->bd_dev);
}

#endif /* DM_SLICEPOOL_COMPAT_H */
