#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bench must be able to fail.  Run it on selftests/bench-cases (a
# passing test, a failing one, one whose kernel WARNs, a skip, a timeout, a
# reboot, a kernel crash, a test after the crash, a hung guest, a WARN the
# test clears from the log, a newly tainted kernel, a WARN in the cleanup
# after a test, and a partial skip) and check that each is reported as it
# should be and that the run is red.  One guest (SP_GUESTS=1): the test
# after the crash must run in the crashed test's guest, booted anew.  It
# tests the bench, not the module's memory safety, so its guest boots
# without slub_debug (SP_SLUB_DEBUG=-), and the host waits 10 s past a
# test's timeout (the cases' is 10 s) before it declares the guest hung.
. "$SP_TOP/selftests/lib/ktap.sh"

out=$(mktemp)
trap 'rm -f "$out"' EXIT
SP_GUESTS=1 SP_SMP=1 SP_SLACK=10 SP_SLUB_DEBUG=- SP_WORKDIR=$SP_TOP/build/bench/selftest \
	"$SP_TOP/selftests/run" --no-build --cases "$SP_TOP/selftests/bench-cases" > "$out" 2>&1
rc=$?
sed 's/^/| /' "$out"

ktap_header
ktap_plan 16
line() { grep -Eq "$1" "$out"; }
ktap_check "the run exits non-zero" [ $rc -ne 0 ]
ktap_check "a passing test is ok" line '^ok 1 selftests: bench-cases: a_pass.sh$'
ktap_check "a failing check fails the test" line '^not ok 2 selftests: bench-cases: b_fail.sh'
ktap_check "a WARN in dmesg fails a test whose checks passed" \
	line '^not ok 3 selftests: bench-cases: c_warn.sh # dmesg .*WARNING'
ktap_check "a skip is reported as a skip" line '^ok 4 selftests: bench-cases: d_skip.sh # SKIP'
# The guest's own timeout ended it, not the host's deadline for a hung
# guest (which says "stopped responding").
timed_out() {
	line '^not ok 5 selftests: bench-cases: e_timeout.sh # TIMEOUT after 10s$' &&
		line '^# TIMEOUT: the test ran longer than its 10s and was killed$'
}
ktap_check "a test past its timeout fails, killed by the guest after its 10 s" timed_out
ktap_check "a test survives a guest reboot with its disk data" \
	line '^ok 6 selftests: bench-cases: f_reboot.sh$'
ktap_check "a kernel crash fails the test" line '^not ok 7 selftests: bench-cases: g_crash.sh # the guest crashed'
ktap_check "the run goes on after a crash" line '^ok 8 selftests: bench-cases: h_after_crash.sh$'
ktap_check "a hung guest is killed and the test fails" \
	line '^not ok 9 selftests: bench-cases: i_guest_hang.sh # TIMEOUT: guest a stopped responding'
ktap_check "a WARN the test cleared from the log still fails it" \
	line '^not ok 10 selftests: bench-cases: j_warn_cleared.sh # dmesg of guest a during the test: .*WARNING'
ktap_check "a test that leaves the kernel newly tainted fails" \
	line '^not ok 11 selftests: bench-cases: k_taint.sh # guest a: the kernel is newly tainted: U \(user-request\)$'
ktap_check "a WARN in the cleanup after a test fails that test" \
	line '^not ok 12 selftests: bench-cases: l_cleanup_warn.sh # dmesg of guest a during the cleanup after the test: .*WARNING'
ktap_check "a partly skipped test is a partial skip, not a pass" \
	line '^ok 13 selftests: bench-cases: m_partial_skip.sh # SKIP partial: 1 of 2 checks skipped$'
ktap_check "every test has its time" [ "$(grep -c '^# time: [0-9.]*s$' "$out")" -eq 13 ]
ktap_check "the summary counts them" line '^3 passed, 8 failed, 2 skipped$'
ktap_finish
