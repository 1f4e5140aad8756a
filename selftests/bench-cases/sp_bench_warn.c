// SPDX-License-Identifier: GPL-2.0
/*
 * Test-only module for the bench's self-test: loading it raises a real
 * WARN, so the self-test can prove that a WARN in dmesg turns a test red.
 * Never installed by 'make install'.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init sp_bench_warn_init(void)
{
	WARN(1, "sp_bench_warn: deliberate warning for the bench self-test\n");
	return 0;
}

static void __exit sp_bench_warn_exit(void)
{
}

module_init(sp_bench_warn_init);
module_exit(sp_bench_warn_exit);
MODULE_DESCRIPTION("slicepool bench self-test: raises one WARN on load");
MODULE_LICENSE("GPL");
