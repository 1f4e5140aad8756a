#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Resize on a pool of metadata format 3: create, online expand (placed by
# load, as in format 2), a size-only change, shrink after a table reload
# and delete, each exactly one md3 transaction (the journal's head, read
# by "slicepool inspect" from the members while the pool runs, moves by
# one per operation and not at all for a refusal), with the map, the free
# counts and the data as in format 2, and the state on the members agreeing
# with the module's map after each.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$SP_TOP/selftests/lib/json.sh"

sp_start 3 30
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

P=r3
C=$SP_CFG/$P

# jhead: md3_head of the three disks, the JSON in $W/i.json.
jhead() {
	md3_head "$W/i.json" "${DISKS[@]:0:3}"
}

# state_map: volume v's map in that state, as "L MEMBER P" lines.
state_map() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for v in d["pools"][0]["volumes"]:
    if v["name"] == "v":
        for s in v["map"]:
            print(s["logical"], s["member"], s["physical"])' "$W/i.json"
}

# one_tx WHAT: the head moved by exactly one since the last one_tx, and
# the state's map of v is the module's.
LAST=
one_tx() {
	local h
	h=$(jhead)
	ktap_check "$1: one transaction (head $LAST -> $h)" \
		[ "$h" != - -a "$LAST" != - -a "$h" = "$((LAST + 1))" ]
	ktap_check "$1: the state on the members has the module's map of v" \
		[ "$(state_map)" = "$(cat "$C"/volumes/v/map 2>/dev/null)" ]
	LAST=$h
}

free_sum() {
	echo $(($(cat "$C"/members/m0/free_slices) + $(cat "$C"/members/m1/free_slices) + \
		$(cat "$C"/members/m2/free_slices)))
}

sp_pool_by_load $P 4
echo 3 > "$C"/metadata_format || sp_die "metadata_format 3"
sp_member $P m0 "${DISKS[0]}" dA 0
sp_member $P m1 "${DISKS[1]}" dB 0
sp_member $P m2 "${DISKS[2]}" dC 100
LAST=$(jhead)
ktap_check "the new pool's journal is at seq 3 (format, two adds)" [ "$LAST" = 3 ]
mkdir "$C"/volumes/v || sp_die "mkdir v"
echo 16M > "$C"/volumes/v/size || sp_die "create v"
one_tx "create 16M"
ktap_check "created on dA and dB only (2/2/0)" \
	[ "$(sp_map_count $P v m0)" -eq 2 -a "$(sp_map_count $P v m1)" -eq 2 -a "$(sp_map_count $P v m2)" -eq 0 ]
sp_dm r3v $P v
sp_fill /dev/mapper/r3v 16
sum16=$(sp_sum /dev/mapper/r3v 16)
free2=$(cat "$C"/members/m2/free_slices)

# Now dC is the lightest: the expansion goes there.
sp_lightest $P m2
ktap_check "online expand to 24M with the table live" sh -c "echo 24M > $C/volumes/v/size"
one_tx "expand to 24M"
ktap_check "expand took both new slices from dC, the lightest" \
	[ "$(sp_map_count $P v m2)" -eq 2 -a "$(cat "$C"/members/m2/free_slices)" -eq $((free2 - 2)) ]
ktap_check "data unchanged after expand" \
	[ "$(sp_sum /dev/mapper/r3v 16)" = "$sum16" ]
dmsetup reload r3v --table "0 $((24 << 11)) slicepool $P v" && dmsetup resume r3v
sp_fill /dev/mapper/r3v 8 16
sum12=$(sp_sum /dev/mapper/r3v 12)

map24=$(cat "$C"/volumes/v/map)

kmsg_mark
ktap_check "shrink below the live table is refused" sp_write_fails sh -c "echo 12M > $C/volumes/v/size"
ktap_check "the refusal names the table" \
	kmsg_has "$P: refused: volume v is in use by a table of $((24 << 11)) sectors; reload the table first\$"
ktap_check "the refusal wrote no transaction" [ "$(jhead)" = "$LAST" ]
dmsetup reload r3v --table "0 $((12 << 11)) slicepool $P v" && dmsetup resume r3v
free0=$(free_sum)
ktap_check "shrink to 12M after reloading the table" sh -c "echo 12M > $C/volumes/v/size"
one_tx "shrink to 12M"
ktap_check "shrink kept the first 3 slices and returned 3 to the pool" \
	[ "$(cat "$C"/volumes/v/map)" = "$(head -n 3 <<< "$map24")" -a "$(free_sum)" -eq $((free0 + 3)) ]
ktap_check "data of the kept slices unchanged" \
	[ "$(sp_sum /dev/mapper/r3v 12)" = "$sum12" ]
dmsetup remove r3v || sp_die "remove r3v"

# Size-only changes (3 slices either way): down, then up.
for sz in 10 11; do
	ktap_check "a size-only change to ${sz}M is accepted" \
		sh -c "echo ${sz}M > $C/volumes/v/size && [ \$(cat $C/volumes/v/size) -eq $((sz << 20)) ]"
	one_tx "size-only change to ${sz}M"
	ktap_check "the size-only change to ${sz}M kept the map" \
		[ "$(cat "$C"/volumes/v/map)" = "$(head -n 3 <<< "$map24")" ]
done

uuid=$(cat "$C"/volumes/v/uuid)
ktap_check "delete (size 0)" sh -c "echo 0 > $C/volumes/v/size"
one_tx "delete"
ktap_check "after the delete every slice is free and the map is empty" \
	[ "$(free_sum)" -eq $((free0 + 6)) -a ! -s "$C"/volumes/v/map ]
echo 4M > "$C"/volumes/v/size || sp_die "re-create v"
ktap_check "a volume created again after its delete is a new one (new uuid)" \
	[ "$(cat "$C"/volumes/v/uuid)" != "$uuid" ]
ktap_finish
