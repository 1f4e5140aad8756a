#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two legs of a mirrored write (Documentation/dm-slicepool.rst,
# "Mirrored writes"), in a manual job with mirror=on over members that are
# dm devices the test can slow down or fail:
#  1. deferral: while the copy of chunk 2 is in flight (its read from the
#     source delayed by dm-delay), a write to chunk 2 waits until the copy
#     has completed, then reaches both sides (through the job's worker):
#     the destination holds the new data and no bit is set;
#  2. a failed destination leg: with the destination erroring, a write to
#     a copied chunk still succeeds (the source is the truth), and its
#     chunk is dirty, so the next pass copies it again;
# then the switch: the volume and the raw destination hold every write,
# and the kernel's line for the finished move counts 1 deferred write,
# none that fell back to the worker and 1 that failed on a side;
#  3. a failed source leg: in a job moving the slice back, with the source
#     erroring, a write to a copied chunk fails, and its chunk is dirty
#     (the two sides may differ).
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_start 2 14
W=$(mktemp -d)
cleanup() {
	dmsetup remove --retry spml 2>/dev/null
	sp_teardown
	dmsetup remove --retry spml-src spml-dst 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

CK=256		# chunk KiB
SLICE_MB=4
mig() { mig_field spml "$1"; }
msg() { dmsetup message spml 0 "$@"; }
# table DEV TARGET...: replace the table of member device DEV
table() {
	local dev=$1
	shift
	if ! dmsetup suspend "$dev" || ! dmsetup load "$dev" --table "$*" ||
	   ! dmsetup resume "$dev"; then
		sp_die "cannot load '$*' into $dev"
	fi
}
src_len=$(blockdev --getsz "${DISKS[0]}")
dst_len=$(blockdev --getsz "${DISKS[1]}")
linear_src="0 $src_len linear ${DISKS[0]} 0"
linear_dst="0 $dst_len linear ${DISKS[1]} 0"
dmsetup create spml-src --table "$linear_src" || sp_die "spml-src"
dmsetup create spml-dst --table "$linear_dst" || sp_die "spml-dst"
dmsetup mknodes spml-src spml-dst
sp_wipe /dev/mapper/spml-src /dev/mapper/spml-dst

# The volume is placed on m0 alone; m1 is enabled before the table loads.
sp_pool mp "$SLICE_MB"
# The legs fail and come back by the test's hand: no automatic probe.
echo 0 > "$SP_CFG/mp/online_probe_s" || sp_die "online_probe_s 0"
sp_member mp m0 /dev/mapper/spml-src dA
sp_volume mp v "$SLICE_MB"M
sp_member mp m1 /dev/mapper/spml-dst dB
sp_dm spml mp v
head -c $((SLICE_MB << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=/dev/mapper/spml bs=1M oflag=direct status=none || sp_die "initial data"

# write_chunk N: new data into chunk N, through the volume
write_chunk() {
	head -c $((CK << 10)) /dev/urandom > "$W/new"
	dd if="$W/new" of=/dev/mapper/spml bs="$CK"K seek="$1" oflag=direct status=none || return 1
	dd if="$W/new" of="$W/data" bs="$CK"K seek="$1" conv=notrunc status=none
}
# raw_dst N: chunk N of the slice's place on m1 (nothing else is there)
raw_dst() {
	local off
	off=$(cat "$SP_CFG/mp/members/m1/data_offset")
	dd if=/dev/mapper/spml-dst bs="$CK"K skip=$((off / (CK << 10) + $1)) count=1 \
		iflag=direct status=none
}
# same_chunk N: raw_dst N equals the expected data
same_chunk() { raw_dst "$1" | cmp -s - <(dd if="$W/data" bs="$CK"K skip="$1" count=1 status=none); }

kmsg_mark
msg migrate start 0 m1 chunk_kb=$CK manual mirror=on || sp_die "migrate start"
msg migrate step 2 || sp_die "step 2"

# ---- 1: a write to a chunk being copied is deferred ------------------------
# Reads from the source take 1.5 s; writes are not delayed.
table spml-src "0 $src_len delay ${DISKS[0]} 0 1500 ${DISKS[0]} 0 0"
msg migrate step 1 &
step=$!
sleep 0.4	# the copy of chunk 2 has claimed it and waits for its read
t0=$EPOCHREALTIME
write_chunk 2 || sp_die "write to chunk 2"
t1=$EPOCHREALTIME
wait "$step" || sp_die "step 1"
waited=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
echo "# the write to chunk 2 took ${waited}s; $(dmsetup status spml | sed 's/.*migration/migration/')"
ktap_check "1: the write to the chunk being copied waited for the copy (${waited}s)" \
	awk -v w="$waited" 'BEGIN { exit !(w >= 0.5) }'
ktap_check "1: it was mirrored and set no bit" [ "$(mig mirrored)" = 1 -a "$(mig dirty)" = 0 ]
if same_chunk 2; then
	ktap_ok "1: the destination holds the write"
else
	ktap_fail "1: the destination holds the write"
fi
table spml-src "$linear_src"

# ---- 2: a failed destination leg -------------------------------------------
table spml-dst "0 $dst_len error"
if write_chunk 1; then
	ktap_ok "2: a write to a copied chunk succeeds while the destination fails"
else
	ktap_fail "2: a write to a copied chunk succeeds while the destination fails"
fi
table spml-dst "$linear_dst"
echo "# $(dmsetup status spml | sed 's/.*migration/migration/')"
ktap_check "2: its chunk is dirty ($(mig dirty)), and it is not counted as mirrored ($(mig mirrored))" \
	[ "$(mig mirrored)" = 1 -a "$(mig dirty)" = 1 ]
if same_chunk 1; then
	ktap_fail "2: chunk 1 is not yet on the destination"
else
	ktap_ok "2: chunk 1 is not yet on the destination"
fi
ktap_check "2: the job still copies" [ "$(mig state)" = copying -a "$(mig error)" = 0 ]
msg migrate step $((SLICE_MB * 1024 / CK - 3)) || sp_die "step to the end of pass 1"
msg migrate step 1 || sp_die "step pass 2"
echo "# $(dmsetup status spml | sed 's/.*migration/migration/')"
ktap_check "2: pass 2 copied chunk 1 again" [ "$(mig recopied)" = 1 -a "$(mig copied)" = 17 ]
ktap_check "2: and the destination holds it" same_chunk 1

# ---- the switch ------------------------------------------------------------
msg migrate switch || sp_die "switch"
ktap_check "the slice is on m1, state done" \
	[ "$(awk 'NR == 1 { print $2 }' "$SP_CFG/mp/volumes/v/map")" = m1 -a "$(mig state)" = "done" ]
if dd if=/dev/mapper/spml bs=1M iflag=direct status=none | cmp -s - "$W/data" &&
   dd if=/dev/mapper/spml-dst bs=1M skip=$(($(cat "$SP_CFG/mp/members/m1/data_offset") >> 20)) \
	count="$SLICE_MB" iflag=direct status=none | cmp -s - "$W/data"; then
	ktap_ok "the volume and the raw destination hold every write"
else
	ktap_fail "the volume and the raw destination hold every write"
fi
line=$(kmsg_since | grep -o 'moved to m1: .*' | tail -n 1)
echo "# $line"
ktap_check "the kernel counts 1 deferred write, 0 fallbacks, 1 failed on a side" \
	grep -qxE 'moved to m1: [0-9]+ bytes copied in [0-9]+ passes, writes held [0-9]+ us, [0-9]+ mirrored \(1 deferred, 0 fell back to the worker, 1 failed on a side\)' <<< "$line"

# ---- 3: a failed source leg (the last part: m1 is failed after it) ---------
msg migrate start 0 m0 chunk_kb=$CK manual mirror=on || sp_die "migrate start back to m0"
msg migrate step 2 || sp_die "step 2 back"
table spml-dst "0 $dst_len error"
if write_chunk 1; then
	ktap_fail "3: a write to a copied chunk fails while the source fails"
else
	ktap_ok "3: a write to a copied chunk fails while the source fails"
fi
table spml-dst "$linear_dst"
echo "# $(dmsetup status spml | sed 's/.*migration/migration/')"
ktap_check "3: its chunk is dirty ($(mig dirty)), and it is not counted as mirrored ($(mig mirrored))" \
	[ "$(mig mirrored)" = 0 -a "$(mig dirty)" = 1 ]
msg migrate abort || sp_die "abort"
cleanup
trap - EXIT
sp_unload
ktap_finish
