#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The crash simulator's long mode (make check-full only): the real md3
# code until 10 million crash states over seeds 101..120 (about 15 CPU
# minutes since the nowrite and attach checks, estimated from a run of
# 300,000 states: 26 CPU s; more wall time on a loaded machine), then
# each protocol mutant.  No violation allowed; every mutant must be caught.
# SP_CRASHSIM_STATES overrides the number of crash states.
bin=$SP_TOP/build/crashsim
if [ ! -x "$bin" ]; then
	make -s -C "$SP_TOP" unit || { echo "# cannot build $bin"; exit 1; }
fi
exec "$bin" --long --states "${SP_CRASHSIM_STATES:-10000000}"
