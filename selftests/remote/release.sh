#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of giving a grant back: release clears (zeroes) it, reconcile too
# (selftests/remote/release_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/release_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
