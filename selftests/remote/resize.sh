#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of growing a grant: the lender, the borrower, reconcile
# (selftests/remote/resize_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/resize_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
