#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of connection limits and request workers, over TCP on 127.0.0.1
# (selftests/remote/limits_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/limits_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
