// SPDX-License-Identifier: GPL-2.0
/* Compiles only where bdev_file_open_by_path() exists (Linux >= 6.9). */
#include <linux/blkdev.h>
#include <linux/fs.h>

struct file *sp_probe(const char *path, void *holder);
struct file *sp_probe(const char *path, void *holder)
{
	return bdev_file_open_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE,
				      holder, NULL);
}
