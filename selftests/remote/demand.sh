#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of borrowing on demand: borrow_on_demand and
# borrow_threshold parsed strictly, the permission and its limit, what a
# pool's space calls for, the cool-down and the borrow in flight
# (selftests/remote/demand_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/demand_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
