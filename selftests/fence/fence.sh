#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the pure-C claim fences of metadata format 2
# (dm-slicepool/fence.c), which the slicepool tool links to decode a
# format-2 pool for inspect and upgrade.  Built by 'make unit'.
bin=$SP_TOP/build/fence_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
