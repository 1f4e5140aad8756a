#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Member lifetime (issue 14, sequence 1).  A table reaches the pool's
# members only through its volume's current map: no member pointer of its
# own outlives the member, and a flush reaches every member that holds a
# slice when it is issued.
#  1. Sequence 1: three members, a two-slice volume on two of them, its
#     table loaded; the third is disabled and removed (and a new member
#     item made, as the agent's next borrow does, which takes the freed
#     memory); a one-block write with fsync succeeds.  Run it with
#     SP_KAPPEND=slub_debug=FPZU: the old code oopsed in sp_map_bio here
#     or flushed freed memory.
#  2. A member added after the table was loaded (reusing the removed one's
#     index) that receives a slice by migration gets the volume's flushes
#     (its device's flush count, /sys/block/<dev>/stat field 16, grows
#     on an fsync).
#  3. "member add", then "migrate --to" the new member (an index the table
#     never saw), without a table reload: it succeeds, the data is intact
#     and fsync flushes the new member.
#  4. Removing a member the live table reaches (it holds a slice, or a
#     migration copies to it) is refused with a clear message (the tool's
#     and the kernel's, naming the slices it holds and the volume) and
#     nothing changes; members that hold no slice any more are removed
#     while the table lives, and I/O goes on.
#  5. A member whose logical block size is above the table's (4 KiB loop
#     device, 512-byte table) is refused as a migration destination, with
#     the kernel's reason, and nothing changes.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 4
SP=$SP_TOP/tools/slicepool/slicepool
[ -x "$SP" ] || sp_die "$SP is not built (make -C tools/slicepool)"
P=lt
C=$SP_CFG/$P
DEV=/dev/mapper/$P-v
W=$(mktemp -d)
ktap_header
ktap_plan 21
sp_load
sp_teardown
sp_wipe "${DISKS[@]}"
LD=""
trap 'sp_unload; [ -z "$LD" ] || losetup -d "$LD"; rm -rf "$W"' EXIT

# flushes DEVICE: flush requests the device completed.
flushes() {
	awk '{ print $16 }' "/sys/block/$(basename "$(readlink -f "$1")")/stat"
}
# put BLOCK: write 4 KiB block BLOCK of the volume (and of $W/data) from
# $W/new with fsync.
put() {
	dd if="$W/new" of="$W/data" bs=4k seek="$1" count=1 conv=notrunc status=none &&
		dd if="$W/new" of=$DEV bs=4k seek="$1" count=1 oflag=direct \
			conv=notrunc,fsync status=none
}
intact() { cmp -s "$W/data" <(dd if=$DEV bs=1M iflag=direct status=none); }
map() { cat "$C/volumes/v/map"; }
on() { awk -v s="$2" '$1 == s { print $2 }' "$C/volumes/v/map" | grep -qx "$1"; }
# flushed DEVICE BLOCK: an fsync'ed write to BLOCK flushes DEVICE.
flushed() {
	local f0
	f0=$(flushes "$1")
	put "$2" && [ "$(flushes "$1")" -gt "$f0" ]
}
# run CMD...: the tool; its stderr (prefixed) in the log and in $W/err.
run() {
	"$SP" "$@" > "$W/out" 2> "$W/err"
	local rc=$?
	sed 's/^/# slicepool: /' "$W/err"
	return $rc
}

run pool create $P --slice-mb 4 --weight-space 100 --weight-load 0 \
	--min-domains 2 || sp_die "pool create"
DOMS=(dA dB dC)
for i in 0 1 2; do
	run member add $P m$i --path "${DISKS[$i]}" --domain "${DOMS[$i]}" ||
		sp_die "member add m$i"
done
run vol create $P/v --size 8M || sp_die "vol create"
[ -b $DEV ] || sp_die "no $DEV"
head -c $((8 << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=$DEV bs=1M oflag=direct status=none || sp_die "write pattern"
X=""
for i in 0 1 2; do
	[ "$(sp_map_count $P v m$i)" = 0 ] && X=$i
done
[ -n "$X" ] || sp_die "the two slices are not on two of the three members: $(map)"
XD=${DISKS[$X]}
echo "# map: $(map | tr '\n' ' '); m$X holds nothing"

# ---- 1. sequence 1 -----------------------------------------------------------
ktap_check "seq 1: m$X (no slice of v) is disabled and removed while v's table lives" \
	run member remove $P m$X
mkdir "$C/members/borrow" || sp_die "mkdir member item borrow"
echo "$XD" > "$C/members/borrow/path" || sp_die "path of borrow"
head -c 4096 /dev/urandom > "$W/new"
fx=$(flushes "$XD")
ktap_check "seq 1: then a one-block write with fsync succeeds" put 0
ktap_check "seq 1: ... the volume holds the data" intact
ktap_check "seq 1: ... and no flush went to the removed member's device" \
	[ "$(flushes "$XD")" = "$fx" ]
rmdir "$C/members/borrow" || sp_die "rmdir borrow"

# ---- 2. flushes reach a member added later, at the freed index ---------------
sp_wipe "$XD"
run member add $P d --path "$XD" --domain dC || sp_die "member add d"
s0=$(awk 'NR == 1 { print $2 }' "$C/volumes/v/map")
ktap_check "a member added after the table was loaded (d) takes slice 0 by migration" \
	run migrate $P/v --to d --slices 0
ktap_check "... the map puts slice 0 on d" on d 0
ktap_check "... the data is intact" intact
ktap_check "... and an fsync'ed write to slice 0 flushes d" flushed "$XD" 0
ktap_check "... and the data is there" intact

# ---- 3. member add, then migrate onto it, no reload --------------------------
run member add $P e --path "${DISKS[3]}" --domain dD || sp_die "member add e"
t0=$(dmsetup table $P-v)
ktap_check "member add e, then migrate --to e (slice 1) without a table reload succeeds" \
	run migrate $P/v --to e --slices 1
same_table() { [ "$(dmsetup table $P-v)" = "$t0" ]; }
ktap_check "... the map puts slice 1 on e" on e 1
ktap_check "... the table is the one loaded before (no reload)" same_table
ktap_check "... the data is intact" intact
ktap_check "... and an fsync'ed write to slice 1 (block 1024) flushes e" \
	flushed "${DISKS[3]}" 1024

# ---- 4. removal of a member in use is refused, nothing changes ---------------
map0=$(map)
# refused WHAT USED: "member remove e" fails; the tool's message is its
# refusal of a member that holds slices, the kernel's (since the mark)
# says that e holds USED slices, USED - 1 of them of a migration, 1 of
# volume v (Documentation/dm-slicepool.rst, "remove"); e is online, and
# the map and the data are unchanged.
refused() {
	local what=$1 k l
	kmsg_mark
	if run member remove $P e; then
		echo "# member remove e was accepted ($what)"
		return 1
	fi
	grep -qxF "slicepool: cannot remove member 'e' of pool '$P': Device or resource busy (it holds slices of a volume or of a migration; the kernel log names the volumes: migrate the slices to another member or delete the volumes first, and a volume whose slices on a member forced out are lost can only be deleted)" "$W/err" ||
		{ echo "# no clear message from the tool"; return 1; }
	k=$(kmsg_since)
	if ! { grep -qx ".*slicepool: e: remove refused: the member holds $2 slice(s) of volumes (or of a migration); migrate them away or shrink the volumes first" <<< "$k" &&
		grep -qx ".*slicepool: e: remove refused: 1 of its slices are of 1 volume(s): v" <<< "$k"; }; then
		echo "# no kernel lines for $2 slices"
		while read -r l; do echo "# dmesg: $l"; done <<< "$k"
		return 1
	fi
	[ "$(cat "$C/members/e/state")" = online ] && [ "$(map)" = "$map0" ] && intact
}
ktap_check "member remove of e (holds slice 1, the live table reaches it) is refused, says why, nothing changes" \
	refused "holds a slice" 1
dmsetup message $P-v 0 migrate start 0 e manual || sp_die "manual migration to e"
ktap_check "member remove of e while a migration copies to it is refused, says why, nothing changes" \
	refused "migration destination" 2
dmsetup message $P-v 0 migrate abort || sp_die "migrate abort"

# The sources now hold nothing: they go while the table lives.
gone=0
for i in 0 1 2; do
	[ "$i" = "$X" ] && continue
	[ "$(sp_map_count $P v m$i)" = 0 ] || continue
	run member remove $P m$i || sp_die "member remove m$i (holds no slice)"
	gone=$((gone + 1))
done
echo "# removed $gone more members that held nothing (s0 was $s0)"
head -c 4096 /dev/urandom > "$W/new"
put_both() { [ $gone -ge 1 ] && put 0 && put 1024; }
ktap_check "members that hold no slice any more are removed; fsync'ed writes to both slices go on" \
	put_both
ktap_check "... and the volume holds the data" intact

# ---- 5. a destination the table's queue limits do not cover ------------------
# A member with 4 KiB logical blocks, added after the 512-byte table was
# loaded: I/O of 512 bytes would fail there, so the module refuses it as
# a destination until the table is reloaded.
truncate -s 64M "$W/f.img"
modprobe loop 2> /dev/null
if LD=$(losetup -f --show -b 4096 "$W/f.img") &&
	[ "$(blockdev --getss "$LD")" = 4096 ] &&
	run member add $P f --path "$LD" --domain dE; then
	map0=$(map)
	lbs_refused() {
		! run migrate $P/v --to f --slices 0 &&
			grep -q "kernel: .*migration destination f has a logical block size of 4096 bytes, above the 512 of a table of volume v; reload that table first" "$W/err"
	}
	ktap_check "a 4 KiB-block member under a 512-byte table is refused as a destination, the kernel says why" \
		lbs_refused
	unchanged() { [ "$(map)" = "$map0" ] && intact; }
	ktap_check "... nothing changed (map, data)" unchanged
	ktap_check "... and the member, which holds nothing, is removed" run member remove $P f
else
	for _ in 1 2 3; do ktap_skip "no 4 KiB-block loop device as a member"; done
fi

ktap_finish
