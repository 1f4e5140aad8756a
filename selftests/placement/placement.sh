#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the pure-C placement rule (dm-slicepool/placement.c),
# the same code the kernel module links.  Built by 'make unit'.
bin=$SP_TOP/build/placement_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
