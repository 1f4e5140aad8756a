#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# selftests/run -t: a test is named with or without ".sh", an area by its
# name, and a name that matches nothing is an error (exit 2 and a message
# naming it), never a run that silently leaves the test out.  Runs the
# runner's --list only: no guest, no build.
. "$SP_TOP/selftests/lib/ktap.sh"

run="$SP_TOP/selftests/run"
ktap_header
ktap_plan 5
got=$("$run" --list -t dm-slicepool/md3_powercut.sh 2>&1)
ktap_check "a test named with .sh is listed alone" \
	[ "$(echo "$got" | awk '{print $1}')" = selftests/dm-slicepool/md3_powercut.sh ]
got=$("$run" --list -t dm-slicepool/md3_powercut 2>&1)
ktap_check "a test named without .sh is listed alone" \
	[ "$(echo "$got" | awk '{print $1}')" = selftests/dm-slicepool/md3_powercut.sh ]
n=$("$run" --list -t placement 2>&1 | grep -c '^selftests/placement/')
ktap_check "an area lists its tests ($n)" [ "$n" -ge 1 ]
got=$("$run" --list -t dm-slicepool/no_such_test.sh 2>&1)
rc=$?
ktap_check "an unknown test is an error (exit $rc)" [ $rc -eq 2 ]
ktap_check "the error names it" \
	[ "$got" = "selftests/run: -t dm-slicepool/no_such_test.sh: no such area or test (selftests/run --list lists them)" ]
ktap_finish
