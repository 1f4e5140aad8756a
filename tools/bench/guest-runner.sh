#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest test runner.  Reads the plan the host wrote into the results
# export, runs each test from sp_start on, and reports on stdout (the event
# port) with lines the host parses:
#   @@SP READY <kver>
#   @@SP START <idx> <boot>
#   # ...                            the test's own output (KTAP, indented)
#   @@SP END <idx> <rc> <verdict> <partial> [<reason>]
#                                    verdict: clean, or dmesg, cleanup (a bad
#                                    kernel message during the test or during
#                                    the cleanup after it) or taint (the test
#                                    left the kernel newly tainted); partial:
#                                    "-" or k/n (the test skipped k of its n
#                                    checks); reason: what was found
#   @@SP CLEANUP <idx>               the test has ended; its log scan and the
#                                    cleanup after it run now
#   @@SP REBOOT <idx> <next-boot>    the test exited 75: rerun it after a reboot
#   @@SP DONE
# Per-test timeouts are enforced here; the host enforces them again (with
# slack) in case the guest itself stops responding.
#
# The kernel log is read from /dev/kmsg by a reader started before the
# first test, whose position no 'dmesg -C' moves: every message from a
# test's start to the end of the cleanup after it is scanned, whatever the
# test does with the log.  Markers written to /dev/kmsg bound each part.

set -u
. "$(dirname "$0")/guest-cmdline.sh"
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

# What in the kernel log fails a test, whatever the test itself said.
BAD='Oops|BUG:|WARNING:|kernel BUG|general protection fault|Call Trace:|blocked for more than|hung_task|possible circular locking|lockdep|UBSAN|KASAN|Kernel panic|list_add corruption|list_del corruption|refcount_t:'

# Taint flags (kernel/panic.c, bit order) and the ones a test may set:
# O (out-of-tree module) and E (unsigned module) come with loading this
# project's own modules (dm-slicepool, the bench's sp_bench_warn), which
# every guest does once.  Any other flag a test newly sets fails it: W
# (a WARN), D (an oops), L (soft lockup), B (bad page), U (set from user
# space), R (forced unload), and also P, F, C, N, X, which only a module
# load sets but no test of this project has a reason to cause.
TAINT_LETTERS=PFSRMBUDAWCIOELKXTN
TAINT_OK=${SP_TAINT_OK:-OE}
TAINT_NAMES=(proprietary-module forced-load unsafe-smp forced-unload
	machine-check bad-page user-request died acpi-override warning
	staging-driver firmware-workaround out-of-tree-module unsigned-module
	soft-lockup livepatch auxiliary randstruct test-module)

# taint_new <before> <after>: the flags set in after and not in before,
# less those of TAINT_OK, as "W (warning) U (user-request)"; empty if none.
taint_new() {
	local new=$(($2 & ~$1)) i l out=""
	for ((i = 0; i < ${#TAINT_LETTERS}; i++)); do
		l=${TAINT_LETTERS:i:1}
		[ $((new >> i & 1)) -eq 1 ] || continue
		case $TAINT_OK in *"$l"*) continue ;; esac
		out+="${out:+ }$l (${TAINT_NAMES[i]})"
	done
	# Bits past the table's are named by number.
	[ $((new >> ${#TAINT_LETTERS})) -eq 0 ] || out+="${out:+ }bits 0x$(printf %x $((new >> ${#TAINT_LETTERS} << ${#TAINT_LETTERS})))"
	echo "$out"
}

# ------------------------------------------------------------- kernel log
KMSG=/run/sp/kmsg.log
MARK="sp-bench-$$"
# Markers are never rate-limited away (writes to /dev/kmsg are, by default).
echo on > /proc/sys/kernel/printk_devkmsg 2>/dev/null
: > "$KMSG"
(
	# One open file: its position survives a restart of cat (killed by a
	# test, or ended by EPIPE when the ring overran it).
	exec 3< /dev/kmsg || exit 0
	while :; do
		cat <&3 >> "$KMSG"
		echo "12,0,0,-;$MARK reader: cat ended; messages may have been lost" >> "$KMSG"
		sleep 0.2
	done
) < /dev/null > /dev/null 2>&1 &
KMSG_PID=$!

# kmsg_mark <word>: write a marker and wait until the reader has stored it,
# so that everything logged before it is in $KMSG.
kmsg_mark() {
	local t=0
	echo "$MARK $1" > /dev/kmsg
	while ! grep -qF ";$MARK $1" "$KMSG"; do
		sleep 0.05
		t=$((t + 1))
		[ $t -lt 200 ] || { echo "# bench: the kernel log reader lost marker $1"; return 1; }
	done
}

# kmsg_part <from> <to> <file>: the records between two markers, as dmesg
# shows them, into file (made only when there is a record); exit code 3
# when one of them matches BAD (then scan shows it), else 0.  One process
# for both: this runs twice between every two tests.
kmsg_part() {
	awk -v from=";$MARK $1" -v to=";$MARK $2" -v out="$3" -v bad="$BAD" '
		index($0, to) { exit }
		on && !/^ / {
			split($0, h, ";"); split(h[1], f, ",")
			msg = substr($0, length(h[1]) + 2)
			gsub(/\\x0a/, "\n", msg)
			printf "[%12.6f] %s\n", f[3] / 1e6, msg > out
			if (msg ~ bad)
				found = 1
		}
		index($0, from) { on = 1 }
		END { exit found ? 3 : 0 }' "$KMSG"
}

# scan <file> <label>: print and remember the first bad line of a log part.
scan() {
	grep -Eq "$BAD" "$1" || return 1
	what="$2: $(grep -Em1 "$BAD" "$1" | cut -c1-160)"
	echo "# kernel log $2:"
	grep -E -B2 -A12 "$BAD" "$1" | head -40 | sed 's/^/#   /'
	return 0
}

# tenths <var> <from> <to>: var = the seconds between two $EPOCHREALTIME
# values, to a tenth, in the shell (under TCG a process costs a tenth of a
# second or more; this runs between every two tests).
tenths() {
	local a=${2/[.,]/} b=${3/[.,]/} d
	d=$(((10#$b - 10#$a + 50000) / 100000))
	printf -v "$1" '%s.%s' $((d / 10)) $((d % 10))
}

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

# sync_clock: set the guest's clock to the host's, read as the time a
# file is made on the host's results export.  A TCG guest's clock drifts
# when the host is busy (45 s apart after a slow boot of two guests was
# seen), and two-guest tests compare time stamps across the pair.
sync_clock() {
	local f=$RES/.clock.$role.$$ t
	: > "$f" && t=$(stat -c %.9Y "$f") && date -s "@$t" > /dev/null
	rm -f "$f"
}

printf '@@SP READY %s\n' "$(uname -r)"
while read -r idx rel timeout; do
	[ "$idx" -ge "$start" ] || continue
	name=${rel//\//:}
	export SP_ARTIFACTS=$RES/artifacts/$role/$name
	b=1
	[ "$idx" -eq "$start" ] && b=$boot
	export SP_BOOT=$b
	export SP_SYNC=$SYNC/test$idx.boot$b
	mkdir -p "$SP_ARTIFACTS" "$SP_SYNC"
	barrier "t$idx.b$b" || echo "# barrier with the peer guest timed out"
	sync_clock
	printf '@@SP START %s %s\n' "$idx" "$b"
	# The log is still cleared, so that a test's own 'dmesg' shows its own
	# messages; the verdict comes from /dev/kmsg, which the clear leaves.
	dmesg -c > /dev/null
	read -r taint0 < /proc/sys/kernel/tainted
	kmsg_mark "t$idx.b$b.start"
	t0=$EPOCHREALTIME
	dir=$top/${rel%/*}
	out=/run/sp/output
	# stdin is /dev/null: a test that reads stdin must not eat the plan.
	(cd "$dir" && exec timeout -k 5 "$timeout" "./${rel##*/}" < /dev/null) 2>&1 |
		tee "$out" | sed -u 's/^/# /' | tee -a "$SP_ARTIFACTS/output.log"
	rc=${PIPESTATUS[0]}
	t1=$EPOCHREALTIME
	printf '@@SP CLEANUP %s\n' "$idx"
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] &&
		echo "# TIMEOUT: the test ran longer than its ${timeout}s and was killed"
	# ktap_finish's line for a test that ran some checks and skipped others.
	partial=$(sed -n 's/^# SKIP partial: \([0-9]*\) of \([0-9]*\) checks skipped$/\1\/\2/p' "$out")
	partial=${partial##*$'\n'}
	kmsg_mark "t$idx.b$b.test-end"
	log=$SP_ARTIFACTS/dmesg.boot$b.log
	: > "$log"
	kmsg_part "t$idx.b$b.start" "t$idx.b$b.test-end" "$log"
	bad=$?
	verdict=clean
	what=""
	[ $bad -eq 3 ] && scan "$log" "during the test" && verdict=dmesg
	if [ "$rc" -eq 75 ] && [ "$verdict" = clean ]; then
		printf '@@SP REBOOT %s %s\n' "$idx" $((b + 1))
		exit 0
	fi
	# Sourced in a subshell: no new bash to start.
	leftover=$(. "$top/tools/bench/guest-cleanup.sh" 2>&1)
	[ -z "$leftover" ] || printf '%s\n' "$leftover" | sed 's/^/# cleanup: /'
	kmsg_mark "t$idx.b$b.cleanup-end"
	t2=$EPOCHREALTIME
	kmsg_part "t$idx.b$b.test-end" "t$idx.b$b.cleanup-end" "$log.cleanup"
	bad=$?
	if [ "$verdict" = clean ] && [ $bad -eq 3 ] &&
	   scan "$log.cleanup" "during the cleanup after the test"; then
		verdict=cleanup
	fi
	read -r taint1 < /proc/sys/kernel/tainted
	tainted=""
	[ "$taint1" = "$taint0" ] || tainted=$(taint_new "$taint0" "$taint1")
	if [ -n "$tainted" ]; then
		echo "# the kernel is newly tainted: $tainted"
		if [ "$verdict" = clean ]; then
			verdict=taint
			what="the kernel is newly tainted: $tainted"
		fi
	fi
	s_test="" s_clean=""
	tenths s_test "$t0" "$t1"
	tenths s_clean "$t1" "$t2"
	echo "# guest time: test ${s_test}s, cleanup ${s_clean}s"
	printf '@@SP END %s %s %s %s %s\n' "$idx" "$rc" "$verdict" "${partial:--}" "$what"
done < "$RES/plan"
kill "$KMSG_PID" 2>/dev/null
printf '@@SP DONE\n'
