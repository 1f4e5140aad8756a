// SPDX-License-Identifier: GPL-2.0
/* Compiles only where dm_io() takes an I/O priority (6.9, some backports). */
#include <linux/dm-io.h>

int sp_probe(struct dm_io_request *req, struct dm_io_region *where);
int sp_probe(struct dm_io_request *req, struct dm_io_region *where)
{
	return dm_io(req, 1, where, NULL, 0);
}
