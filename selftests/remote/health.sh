#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of slicepool-agent's peer health: heartbeat_timeout, the
# health file, exclusion from new grants, the choice of a lender
# (selftests/remote/health_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/health_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
