// SPDX-License-Identifier: GPL-2.0
/* Compiles only where struct dm_dev.mode is a blk_mode_t (Linux >= 6.5). */
#include <linux/device-mapper.h>

void sp_probe(struct dm_dev *d);
void sp_probe(struct dm_dev *d)
{
	d->mode = BLK_OPEN_READ | BLK_OPEN_WRITE;
}
