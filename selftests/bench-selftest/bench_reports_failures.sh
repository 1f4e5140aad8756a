#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench must be able to fail.  Run it on selftests/bench-cases (a
# passing test, a failing one, one whose kernel WARNs, a skip, a timeout, a
# reboot, a kernel crash, a test after the crash, and a hung guest) and
# check that each is reported as it should be and that the run is red.
. "$SP_TOP/selftests/lib/ktap.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
SP_SLACK=20 SP_WORKDIR=$SP_TOP/build/bench/selftest \
	"$SP_TOP/selftests/run" --no-build --cases "$SP_TOP/selftests/bench-cases" > "$out" 2>&1
rc=$?
sed 's/^/| /' "$out"

ktap_header
ktap_plan 11
line() { grep -Eq "$1" "$out"; }
ktap_check "the run exits non-zero" [ $rc -ne 0 ]
ktap_check "a passing test is ok" line '^ok 1 selftests: bench-cases: a_pass.sh$'
ktap_check "a failing check fails the test" line '^not ok 2 selftests: bench-cases: b_fail.sh'
ktap_check "a WARN in dmesg fails a test whose checks passed" \
	line '^not ok 3 selftests: bench-cases: c_warn.sh # dmesg .*WARNING'
ktap_check "a skip is reported as a skip" line '^ok 4 selftests: bench-cases: d_skip.sh # SKIP'
ktap_check "a test past its timeout fails" line '^not ok 5 selftests: bench-cases: e_timeout.sh # TIMEOUT'
ktap_check "a test survives a guest reboot with its disk data" \
	line '^ok 6 selftests: bench-cases: f_reboot.sh$'
ktap_check "a kernel crash fails the test" line '^not ok 7 selftests: bench-cases: g_crash.sh # the guest crashed'
ktap_check "the run goes on after a crash" line '^ok 8 selftests: bench-cases: h_after_crash.sh$'
ktap_check "a hung guest is killed and the test fails" \
	line '^not ok 9 selftests: bench-cases: i_guest_hang.sh # TIMEOUT: guest a stopped responding'
ktap_check "the summary counts them" line '^3 passed, 5 failed, 1 skipped$'
ktap_finish
