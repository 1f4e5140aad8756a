#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Members of a pool on metadata format 3: a blank device enabled in a
# running pool is added (one transaction), revalidate_size takes every
# whole slice of a grown device (one transaction; none when nothing
# changed), remove takes a member holding no slice out of the state (one
# transaction; refused while it holds one) and the pool goes on writing
# without it, and the removed member's device is not taken back.  The
# journal head is read by "slicepool inspect" from the live members.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$SP_TOP/selftests/lib/json.sh"

sp_start 3 23
mg_fresh
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'mg_cleanup' EXIT

P=g
C=$SP_CFG/$P
DEV=/dev/mapper/spgrow
M2=$C/members/m2
SLICE=$((8 << 20))
# m0 and m1 on the second and third disk: spgrow (mg_linear) is over the first.
D0=${DISKS[1]}
D1=${DISKS[2]}

# jhead DEVICE...: md3_head of them, the JSON in $W/i.json.
jhead() {
	md3_head "$W/i.json" "$@"
}

# tx N WHAT DEVICE...: the head moved by N (0 or 1) since the last tx.
LAST=
tx() {
	local n=$1 what=$2 h
	shift 2
	h=$(jhead "$@")
	ktap_check "$what: $n transaction(s) (head $LAST -> $h)" \
		[ "$h" != - -a "$LAST" != - -a "$h" = "$((LAST + n))" ]
	LAST=$h
}

# slices BYTES: whole slices of a device of BYTES after m2's data_offset.
slices() {
	echo $((($1 - $(cat "$M2"/data_offset)) / SLICE))
}

sp_pool $P 8
echo 3 > "$C"/metadata_format || sp_die "metadata_format 3"
sp_member $P m0 "$D0" dA
sp_member $P m1 "$D1" dB
sp_volume $P v 16M
mg_linear $((256 << 11)) || sp_die "spgrow 256 MiB"
LAST=$(jhead "$D0" "$D1")

kmsg_mark
sp_member $P m2 "$DEV" dC
ktap_check "a blank device enabled in the running pool is added as member 2" \
	kmsg_has "m2: $DEV added to pool $P \(metadata format 3\): member 2, [0-9]+ slices$"
tx 1 "add" "$D0" "$D1" "$DEV"
t1=$(slices $((256 << 20)))
ktap_check "m2 has the $t1 slices of 256 MiB (total_slices = max_slices)" \
	[ "$(cat "$M2"/total_slices)" -eq "$t1" -a "$(cat "$M2"/max_slices)" -eq "$t1" ]

mg_linear $((512 << 11)) || sp_die "spgrow 512 MiB"
t2=$(slices $((512 << 20)))
ktap_check "after the device grew max_slices is $t2 and total_slices still $t1" \
	[ "$(cat "$M2"/max_slices)" -eq "$t2" -a "$(cat "$M2"/total_slices)" -eq "$t1" ]
free=$(cat "$M2"/free_slices)
ktap_check "revalidate_size is accepted" sh -c "echo 1 > $M2/revalidate_size"
ktap_check "m2 took every new slice ($t1 -> $t2, all free)" \
	[ "$(cat "$M2"/total_slices)" -eq "$t2" -a "$(cat "$M2"/free_slices)" -eq $((free + t2 - t1)) ]
tx 1 "revalidate_size" "$D0" "$D1" "$DEV"
ktap_check "the state on the members gives m2 $t2 slices" \
	sp_json_holds "$W/i.json" "[m['slices'] for m in d['pools'][0]['members'] if m['name'] == 'm2'] == [$t2]"
kmsg_mark
ktap_check "revalidate_size with the same size is accepted" sh -c "echo 1 > $M2/revalidate_size"
tx 0 "revalidate_size with the same size" "$D0" "$D1" "$DEV"
ktap_check "it says there is no new whole slice" \
	kmsg_has "m2: $DEV is $((512 << 11)) sectors: no new whole slice, $t2 slices as before$"

kmsg_mark
ktap_check "remove of m0, which holds a slice of v, is refused" \
	sp_write_fails sh -c "echo 1 > $C/members/m0/remove"
ktap_check "the refusal says m0 holds a slice" \
	kmsg_has "m0: remove refused: the member holds 1 slice\(s\) of volumes \(or of a migration\); migrate them away or shrink the volumes first$"
tx 0 "refused remove" "$D0" "$D1" "$DEV"
ktap_check "remove of m2, which holds none, is accepted" sh -c "echo 1 > $M2/remove"
ktap_check "m2 is disabled after its remove" [ "$(cat "$M2"/state)" = disabled ]
tx 1 "remove" "$D0" "$D1"
ktap_check "the state on the members has m2 removed" \
	sp_json_holds "$W/i.json" "[m['status'] for m in d['pools'][0]['members'] if m['name'] == 'm2'] == ['removed']"
ktap_check "the pool writes without m2: expand v to 24M" sh -c "echo 24M > $C/volumes/v/size"
tx 1 "expand" "$D0" "$D1"

kmsg_mark
ktap_check "the removed member's device is refused when enabled again" \
	sp_write_fails sh -c "echo 1 > $M2/enable"
ktap_check "the refusal says it is no member and how to reuse the device" \
	kmsg_has "m2: refused: $DEV is no member of pool $P \(member 2 removed, or an add that did not commit\) and is not safe to format again; if its data is not needed, wipe its labels \('dd if=/dev/zero of=$DEV bs=4096 count=2 oflag=direct'\) and enable it again to add it as a new member; nothing changed$"
ktap_check "rmdir of the removed member" rmdir "$M2"
ktap_finish
