#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash simulator for the pool metadata v3 library (dm-slicepool/md3.c):
# a bounded run of the real code (no violation allowed) and of each
# protocol mutant (each must be caught).  Built by 'make unit'.  The long
# mode (at least 10 million crash states) is 'build/crashsim --long'.
bin=$SP_TOP/build/crashsim
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin" --time "${SP_CRASHSIM_TIME:-28}"
