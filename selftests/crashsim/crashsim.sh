#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash simulator for the pool metadata v3 library (dm-slicepool/md3.c):
# a bounded run of the real code (no violation allowed) and of each
# protocol mutant (each must be caught).  Built by 'make unit'.  The
# budget is a number of crash states from fixed seeds, not time, so every
# machine checks the same states: 90,000 of the real code over seeds
# 1..6 (SP_CRASHSIM_STATES overrides) and 30,000 per mutant; about 18 CPU
# seconds.  Any violation, or a mutant not caught, fails the run (exit
# code and KTAP "not ok").  The long mode (10 million crash states) is
# selftests/crashsim-long, in make check-full.
bin=$SP_TOP/build/crashsim
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin" --states "${SP_CRASHSIM_STATES:-90000}"
