// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the bench's self-test: loading it raises a real
 * WARN, so the self-test can prove that a WARN in dmesg turns a test red.
 * With warn_on_load=0 warn_on_exit=1 it WARNs when it is unloaded instead,
 * which the bench's cleanup between tests does.
 * Never installed by 'make install'.
 */
#include <linux/bug.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

static bool warn_on_load = true;
module_param(warn_on_load, bool, 0444);
MODULE_PARM_DESC(warn_on_load, "WARN when loaded (default true)");

static bool warn_on_exit;
module_param(warn_on_exit, bool, 0444);
MODULE_PARM_DESC(warn_on_exit, "WARN when unloaded (default false)");

static int __init sp_bench_warn_init(void)
{
	WARN(warn_on_load, "sp_bench_warn: deliberate warning for the bench self-test\n");
	return 0;
}

static void __exit sp_bench_warn_exit(void)
{
	WARN(warn_on_exit, "sp_bench_warn: deliberate warning on unload for the bench self-test\n");
}

module_init(sp_bench_warn_init);
module_exit(sp_bench_warn_exit);
MODULE_DESCRIPTION("slicepool bench self-test: raises one WARN on load");
MODULE_LICENSE("GPL");
