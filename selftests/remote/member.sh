#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the borrower's check of a granted namespace, on image files
# (selftests/remote/member_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/member_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
