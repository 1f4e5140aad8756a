#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# KTAP helpers for the project's selftests (sourced, not run).
#
#   ktap_header; ktap_plan N
#   ktap_ok "what held"; ktap_fail "what did not"; ktap_skip "why"
#   ktap_check "description" cmd args...   ok if cmd succeeds
#   ktap_expect_fail "description" cmd...  ok if cmd fails (bad input refused)
#   ktap_finish                            exit 0 all passed, 1 any failed
#                                          (or not as many checks as planned),
#                                          4 everything skipped; 0 with the
#                                          line "# SKIP partial: k of n checks
#                                          skipped" when some passed and k of
#                                          the n were skipped (the runner
#                                          reports that test as a skip)
#   sp_skip "reason"                       skip the rest of the test: exit 4
#                                          if no check ran yet; 1 if one
#                                          failed; else a partial skip, as
#                                          above, counting the checks planned
#                                          and not run as skipped
#   sp_die "reason"                        fail the whole test now (exit 1)
#   sp_barrier NAME                        two-guest tests: wait for the peer

KTAP_N=0
KTAP_PASS=0
KTAP_FAIL=0
KTAP_SKIP=0

ktap_header() { echo "KTAP version 1"; }
KTAP_PLANNED=""
ktap_plan() {
	KTAP_PLANNED=$1
	echo "1..$1"
}

# ktap_result COUNTER RESULT TEXT: one more check, counted in COUNTER
# (KTAP_PASS, KTAP_FAIL or KTAP_SKIP), its line "RESULT <n> TEXT".
ktap_result() {
	KTAP_N=$((KTAP_N + 1))
	printf -v "$1" '%d' $(($1 + 1))
	echo "$2 $KTAP_N $3"
}

ktap_ok() { ktap_result KTAP_PASS ok "$*"; }
ktap_fail() { ktap_result KTAP_FAIL "not ok" "$*"; }
ktap_skip() { ktap_result KTAP_SKIP ok "# SKIP $*"; }

ktap_check() {
	local desc=$1
	shift
	if "$@"; then ktap_ok "$desc"; else ktap_fail "$desc"; fi
}

ktap_expect_fail() {
	local desc=$1
	shift
	if "$@" 2>/dev/null; then ktap_fail "$desc (was accepted)"; else ktap_ok "$desc"; fi
}

ktap_finish() {
	echo "# totals: pass:$KTAP_PASS fail:$KTAP_FAIL skip:$KTAP_SKIP"
	[ "$KTAP_FAIL" -eq 0 ] || exit 1
	[ "$KTAP_PASS" -gt 0 ] || [ "$KTAP_SKIP" -eq 0 ] || exit 4
	[ "$KTAP_N" -gt 0 ] || { echo "# no checks ran"; exit 1; }
	if [ -n "$KTAP_PLANNED" ] && [ "$KTAP_N" -ne "$KTAP_PLANNED" ]; then
		echo "# planned $KTAP_PLANNED checks, ran $KTAP_N"
		exit 1
	fi
	ktap_partial "$KTAP_SKIP" "$KTAP_N"
	exit 0
}

# A test that passed some checks and skipped others says so, in the one
# form the runner reads (Documentation/testing.rst, "Partial skips").
ktap_partial() {	# ktap_partial <skipped> <checks>
	[ "$1" -gt 0 ] || return 0
	echo "# SKIP partial: $1 of $2 checks skipped"
}

sp_skip() {
	local rest=1
	echo "# SKIP $*"
	[ "$KTAP_N" -gt 0 ] || exit 4
	if [ "$KTAP_FAIL" -gt 0 ]; then
		echo "# $KTAP_FAIL check(s) failed before the skip"
		exit 1
	fi
	[ "$KTAP_PASS" -gt 0 ] || exit 4
	if [ -n "$KTAP_PLANNED" ] && [ "$KTAP_PLANNED" -gt "$KTAP_N" ]; then
		rest=$((KTAP_PLANNED - KTAP_N))
	fi
	echo "# totals: pass:$KTAP_PASS fail:0 skip:$((KTAP_SKIP + rest))"
	ktap_partial $((KTAP_SKIP + rest)) $((KTAP_N + rest))
	exit 0
}

sp_die() {
	echo "# FATAL: $*"
	exit 1
}

# SP_SYNC is this test's own directory (the runner makes one per test), and
# a name used again in the same test is a new barrier: both guests pass the
# same barriers in the same order, so they count alike.
declare -gA SP_BARRIER_USES
sp_barrier() {
	local name=$1 peer=a t=0 n
	[ "${SP_ROLE:-a}" = a ] && peer=b
	n=$((${SP_BARRIER_USES[$name]:-0} + 1))
	SP_BARRIER_USES[$name]=$n
	touch "$SP_SYNC/user.$name.$n.$SP_ROLE"
	while [ ! -e "$SP_SYNC/user.$name.$n.$peer" ]; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt 1500 ] || sp_die "barrier $name: the peer guest never arrived"
	done
}
