// SPDX-License-Identifier: GPL-2.0
/*
 * dm-slicepool: module init and exit, and the module's parameters.
 *
 * The migration comes up first: it registers its I/O hooks with the
 * target (sp-io.h) before the target is registered, so no table ever
 * sees them change; everything goes down in the reverse order.
 */
#include <linux/module.h>

#include "sp-core.h"

static int __init sp_init(void)
{
	int r;

	r = sp_mig_init();
	if (r)
		return r;
	r = sp_target_init();
	if (r)
		goto mig;
	r = sp_configfs_init();
	if (r)
		goto target;
	sp_load_start();
	sp_probe_start();
	return 0;
target:
	sp_target_exit();
mig:
	sp_mig_exit();
	return r;
}

static void __exit sp_exit(void)
{
	sp_probe_stop();
	sp_load_stop();
	sp_configfs_exit();
	sp_target_exit();
	sp_mig_exit();
}

module_init(sp_init);
module_exit(sp_exit);

MODULE_DESCRIPTION(DM_NAME " slice pool target: volumes over load-balanced slices");
MODULE_AUTHOR("slicepool developers");
MODULE_LICENSE("GPL");
