#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test runner.  Reads the plan the host wrote into the results
# export, runs each test from sp_start on, and reports on stdout (the event
# port) with lines the host parses:
#   @@SP READY <kver>
#   @@SP START <idx> <boot>
#   # ...                            the test's own output (KTAP, indented)
#   @@SP END <idx> <rc> <clean|dmesg> [<what dmesg showed>]
#   @@SP REBOOT <idx> <next-boot>    the test exited 75: rerun it after a reboot
#   @@SP DONE
# Per-test timeouts are enforced here; the host enforces them again (with
# slack) in case the guest itself stops responding.

set -u
declare -A P
read -r -a cmdline < /proc/cmdline
for arg in "${cmdline[@]}"; do
	case "$arg" in
	sp_*=*) k=${arg%%=*}; P[$k]=${arg#*=} ;;
	esac
done
RES=/run/sp/results
top=${P[sp_top]}
start=${P[sp_start]:-0}
boot=${P[sp_boot]:-1}
role=${P[sp_role]:-a}

export SP_TOP=$top SP_BOOT=$boot SP_ROLE=$role
export SP_MY_IP=${P[sp_ip]:-} SP_PEER_IP=${P[sp_peer]:-}
# The directory both guests of a pair share (a 9p export of the host, new
# at every boot).  The runner's own barriers are at its top; each test gets
# a subdirectory of its own as SP_SYNC, so that its barriers (sp_barrier)
# and the files it hands to the peer are never those of an earlier test.
SYNC=/run/sp/sync

# What in dmesg fails a test, whatever the test itself said.
BAD='Oops|BUG:|WARNING:|kernel BUG|general protection fault|Call Trace:|blocked for more than|hung_task|possible circular locking|lockdep|UBSAN|KASAN|Kernel panic|list_add corruption|list_del corruption|refcount_t:'

barrier() {
	local name=$1 peer t=0
	[ -n "${P[sp_sync]:-}" ] || return 0
	if [ "$role" = a ]; then peer=b; else peer=a; fi
	touch "$SYNC/$name.$role"
	while [ ! -e "$SYNC/$name.$peer" ]; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt 1500 ] || return 1
	done
}

printf '@@SP READY %s\n' "$(uname -r)"
while read -r idx rel timeout; do
	[ "$idx" -ge "$start" ] || continue
	name=${rel//\//:}
	export SP_ARTIFACTS=$RES/artifacts/$role/$name
	mkdir -p "$SP_ARTIFACTS"
	b=1
	[ "$idx" -eq "$start" ] && b=$boot
	export SP_BOOT=$b
	export SP_SYNC=$SYNC/test$idx.boot$b
	mkdir -p "$SP_SYNC"
	barrier "t$idx.b$b" || echo "# barrier with the peer guest timed out"
	printf '@@SP START %s %s\n' "$idx" "$b"
	dmesg -c > /dev/null
	dir=$top/${rel%/*}
	# stdin is /dev/null: a test that reads stdin must not eat the plan.
	(cd "$dir" && exec timeout -k 5 "$timeout" "./${rel##*/}" < /dev/null) 2>&1 |
		sed -u 's/^/# /' | tee -a "$SP_ARTIFACTS/output.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] &&
		echo "# TIMEOUT: the test ran longer than its ${timeout}s and was killed"
	dmesg > "$SP_ARTIFACTS/dmesg.boot$b.log"
	verdict=clean
	what=""
	if grep -Eq "$BAD" "$SP_ARTIFACTS/dmesg.boot$b.log"; then
		verdict=dmesg
		what=$(grep -Em1 "$BAD" "$SP_ARTIFACTS/dmesg.boot$b.log" | cut -c1-160)
		echo "# dmesg of this test:"
		grep -E -B2 -A12 "$BAD" "$SP_ARTIFACTS/dmesg.boot$b.log" | head -40 | sed 's/^/#   /'
	fi
	if [ "$rc" -eq 75 ] && [ "$verdict" = clean ]; then
		printf '@@SP REBOOT %s %s\n' "$idx" $((b + 1))
		exit 0
	fi
	leftover=$("$top/tools/bench/guest-cleanup.sh" 2>&1)
	[ -z "$leftover" ] || printf '%s\n' "$leftover" | sed 's/^/# cleanup: /'
	printf '@@SP END %s %s %s %s\n' "$idx" "$rc" "$verdict" "$what"
done < "$RES/plan"
printf '@@SP DONE\n'
