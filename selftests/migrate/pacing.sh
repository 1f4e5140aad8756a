#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pacing under I/O (Documentation/dm-slicepool.rst, "Pacing"): while the
# volume has I/O of its own, each copy slot rests after a chunk for the
# chunk's copy time times (100 - busy_share) / busy_share.  The members
# are dm-delay devices whose reads take 30 ms, so a chunk copy takes
# about that long whatever the guest's speed; a fio job reads the volume
# at 100 IOPS as its own I/O.  One slice moves back and forth:
#  1. busy_share=100 under the reads: no pause, the time T100;
#  2. busy_share=25 under the reads: pauses (paced_ms, summed over the
#     two copy slots), and the move takes longer than T100 by at least half
#     of what each slot rested (a ratio of the two times failed when the
#     guest was starved of CPU: the rule rests only after a chunk that saw
#     the volume's I/O);
#  3. busy_share=25 with the volume idle: no pause;
#  4. the status shows the share (25), and the default is 50;
#  5. busy_share=0 and =101 are refused with a log line naming them, and
#     no job starts;
# and the volume's data is unchanged after every move.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_start 2 14 fio
W=$(mktemp -d)
FIO=""
cleanup() {
	[ -z "$FIO" ] || kill "$FIO" 2>/dev/null
	[ -z "$FIO" ] || wait "$FIO" 2>/dev/null
	FIO=""
	dmsetup remove --retry sppc 2>/dev/null
	sp_teardown
	dmsetup remove --retry sppc-0 sppc-1 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

SLICE_MB=8
CK=256		# chunk KiB: 32 chunks of about 30 ms each
mig() { mig_field sppc "$1"; }
for i in 0 1; do
	len=$(blockdev --getsz "${DISKS[i]}")
	dmsetup create "sppc-$i" --table "0 $len delay ${DISKS[i]} 0 30 ${DISKS[i]} 0 0" ||
		sp_die "dm-delay over ${DISKS[i]}"
done
dmsetup mknodes sppc-0 sppc-1
sp_wipe /dev/mapper/sppc-0 /dev/mapper/sppc-1
sp_pool mp "$SLICE_MB"
sp_member mp m0 /dev/mapper/sppc-0 dA
sp_volume mp v "$SLICE_MB"M
sp_member mp m1 /dev/mapper/sppc-1 dB
sp_dm sppc mp v
head -c $((SLICE_MB << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=/dev/mapper/sppc bs=1M oflag=direct status=none || sp_die "initial data"

reads_start() {
	fio --name=fg --filename=/dev/mapper/sppc --rw=randread --bs=4k --direct=1 \
		--ioengine=libaio --iodepth=4 --rate_iops=100 --time_based --runtime=300 \
		--output=/dev/null &
	FIO=$!
	sleep 1	# fio is reading
}
reads_stop() {
	kill "$FIO" 2>/dev/null
	wait "$FIO" 2>/dev/null
	FIO=""
}
AT=m0
# move [option...]: move the slice to the other member with the options;
# T the move's time in seconds (3 decimals).
move() {
	local to=m1 t0 i state
	[ "$AT" = m0 ] || to=m0
	t0=$EPOCHREALTIME
	dmsetup message sppc 0 migrate start all "$to" chunk_kb=$CK "$@" ||
		sp_die "migrate start all $to $*"
	for ((i = 0; i < 1200; i++)); do
		state=$(mig state)
		[ "$state" = copying ] || [ "$state" = switching ] || break
		sleep 0.05
	done
	T=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
	[ "$state" = "done" ] || sp_die "the move to $to ended '$state'"
	AT=$to
	echo "# to $to ($*): ${T}s, $(dmsetup status sppc | sed 's/.*migration/migration/')"
}
same_data() { dd if=/dev/mapper/sppc bs=1M iflag=direct status=none | cmp -s - "$W/data"; }

# ---- 1 and 2: under the volume's own reads ---------------------------------
reads_start
DEPTH=2		# copy slots; paced_ms sums their rests
move busy_share=100 depth=$DEPTH
t100=$T
ktap_check "1: busy_share=100 under I/O: no pause ($(mig paced_ms) ms)" [ "$(mig paced_ms)" = 0 ]
move busy_share=25 depth=$DEPTH
t25=$T
paced=$(mig paced_ms)
ktap_check "2: busy_share=25 under I/O: pauses ($paced ms)" [ "$paced" -gt 0 ]
# The rests are wall time inside the move: the slots rest side by side, so
# the move lasts at least one slot's share of them, whatever the host's
# load makes of the copying (compared with the unpaused move's time, a
# loaded host once slowed that one enough to fail this check).
ktap_check "2: the paused move took ${t25}s, at least a slot's rests ($paced ms / $DEPTH; unpaused ${t100}s)" \
	awk -v a="$t25" -v p="$paced" -v d="$DEPTH" \
	'BEGIN { exit !(a >= p / d / 1000) }'
ktap_check "2: its pauses are about 3 times its copying (${paced} ms of ${t25}s)" \
	awk -v p="$paced" -v t="$t25" 'BEGIN { exit !(p >= 0.5 * t * 1000) }'
ktap_check "4: the status shows busy_share 25" [ "$(mig busy_share)" = 25 ]
reads_stop
ktap_check "the data is unchanged after two moves under I/O" same_data

# ---- 3: the volume idle ----------------------------------------------------
move busy_share=25
ktap_check "3: busy_share=25 with the volume idle: no pause ($(mig paced_ms) ms)" \
	[ "$(mig paced_ms)" = 0 ]
ktap_check "3: and it took ${T}s, well under the paused ${t25}s" \
	awk -v a="$T" -v b="$t25" 'BEGIN { exit !(1.5 * a < b) }'
move
ktap_check "4: the default busy_share is 50" [ "$(mig busy_share)" = 50 ]
ktap_check "the data is unchanged after four moves" same_data

# ---- 5: bad values ---------------------------------------------------------
for bad in 0 101; do
	kmsg_mark
	ktap_expect_fail "5: busy_share=$bad is refused" \
		dmsetup message sppc 0 migrate start all m1 busy_share=$bad
	ktap_check "5: the log names busy_share=$bad and no job started" \
		[ "$(kmsg_count "busy_share=$bad([^0-9]|$)")" -ge 1 -a "$(mig state)" = "done" ]
done
cleanup
trap - EXIT
sp_unload
ktap_finish
