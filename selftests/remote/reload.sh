#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host unit tests of SIGHUP's peers: a peer added, moved, its key rotated,
# and removed only once no grant with it is in use, lent or borrowed
# (selftests/remote/reload_test.c).  Built by 'make unit'.
bin=$SP_TOP/build/remote/reload_test
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin"
