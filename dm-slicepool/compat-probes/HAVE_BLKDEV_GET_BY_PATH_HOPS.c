// SPDX-License-Identifier: GPL-2.0
/* Compiles only where blkdev_get_by_path() takes blk_mode_t and holder ops
 * (Linux 6.5 and 6.6).
 */
#include <linux/blkdev.h>

struct block_device *sp_probe(const char *path, void *holder);
struct block_device *sp_probe(const char *path, void *holder)
{
	return blkdev_get_by_path(path, BLK_OPEN_READ | BLK_OPEN_WRITE, holder,
				  NULL);
}
