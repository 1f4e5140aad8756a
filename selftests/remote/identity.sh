#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of per-peer keys and authorisation, over TCP on 127.0.0.1
# (selftests/remote/identity_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/identity_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
