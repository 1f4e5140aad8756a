#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the pure-C claim fences (dm-slicepool/fence.c), the
# same code the kernel module and the slicepool tool link.  Built by
# 'make unit'.
bin=$SP_TOP/build/fence_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
