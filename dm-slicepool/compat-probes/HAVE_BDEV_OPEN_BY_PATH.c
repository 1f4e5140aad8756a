// SPDX-License-Identifier: GPL-2.0
/* Compiles only where bdev_open_by_path() exists (Linux 6.7 and 6.8). */
#include <linux/blkdev.h>

struct bdev_handle *sp_probe(const char *path, void *holder);
struct bdev_handle *sp_probe(const char *path, void *holder)
{
	return bdev_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE, holder,
				 NULL);
}
