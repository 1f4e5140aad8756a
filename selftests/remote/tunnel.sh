#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of the agent's tunnel reload and preshared keys
# (selftests/remote/tunnel_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/tunnel_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
