#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the pure-C dirty bitmap and copy-index filter
# (dm-slicepool/copyidx.c) that live migration is built on.  Built by
# 'make unit'.
bin=$SP_TOP/build/copyidx_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
