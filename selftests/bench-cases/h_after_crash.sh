#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: runs after the crash (g_crash.sh), in a new guest,
# and passes.  The artifacts of the run are on the host (SP_ARTIFACTS is
# <results>/artifacts/<role>/<test's path, '/' as ':'>): g_crash.sh's
# output says it crashed the kernel, the crashed guest never finished that
# test (the runner writes a test's dmesg log only when the test returns),
# and this kernel booted after g_crash.sh wrote its last line.
. "$SP_TOP/selftests/lib/ktap.sh"

me=${SP_ARTIFACTS##*/}
G=${SP_ARTIFACTS%/*}/${me%:*}:g_crash.sh
ktap_header
ktap_plan 3
ktap_check "g_crash.sh ran before this test and crashed the kernel" \
	grep -qx -- "# crashing the guest kernel" "$G/output.log"
ktap_check "... and never returned (no dmesg log of it)" \
	[ -z "$(compgen -G "$G/dmesg.boot*.log")" ]
booted=$(awk '$1 == "btime" { print $2 }' /proc/stat)
crashed=$(stat -c %Y "$G/output.log" 2>/dev/null)
ktap_check "this is a fresh guest: booted at $booted, after the crash at ${crashed:-?}" \
	[ "$booted" -ge "${crashed:-9999999999}" ]
ktap_finish
