#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash simulator for the pool metadata v3 library (dm-slicepool/md3.c):
# a bounded run of the real code (no violation allowed) and of each
# protocol mutant (each must be caught).  Built by 'make unit'.  The
# budget is CPU seconds for the real code (SP_CRASHSIM_TIME, default 12)
# plus 2.5 per mutant.  Any violation, or a mutant not caught, fails the
# run (exit code and KTAP "not ok").  The long mode (at least 10 million
# crash states) is selftests/crashsim-long, in make check-full.
bin=$SP_TOP/build/crashsim
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin" --time "${SP_CRASHSIM_TIME:-12}"
