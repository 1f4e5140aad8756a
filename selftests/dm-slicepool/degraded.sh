#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A volume is rebuilt from the surviving members when one is missing: the
# map shows exactly the lost slices as "- -", their I/O fails with EIO,
# the other slices keep their data, status counts the missing slices and
# resizing is refused.  Enabling the member (and reloading the table)
# brings the slices back.
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2

sp_disks 3
ktap_header
ktap_plan 11
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
SLICE=$((4 << 20))
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

sp_pool dg 4
sp_member dg m0 "${DISKS[0]}" dA
sp_member dg m1 "${DISKS[1]}" dB
sp_member dg m2 "${DISKS[2]}" dC
sp_volume dg v 36M
sp_dm dgv dg v
dd if=/dev/urandom of=/dev/mapper/dgv bs=1M count=36 oflag=direct status=none || sp_die "fill"
slice_sum() { dd if=/dev/mapper/dgv bs=$SLICE skip="$1" count=1 iflag=direct status=none | sha256sum; }
for ((i = 0; i < 9; i++)); do slice_sum $i > "$W/sum.$i"; done
cat "$SP_CFG/dg/volumes/v/map" > "$W/map"
n2=$(sp_map_count dg v m2)
sp_teardown

# Reassemble without m2.
sp_pool dg
sp_member dg m0 "${DISKS[0]}" dA
sp_member dg m1 "${DISKS[1]}" dB
mkdir "$SP_CFG/dg/volumes/v"
want=$(awk '$2 == "m2" { print $1, "-", "-"; next } { print }' "$W/map")
ktap_check "m2 held slices of v before it went missing ($n2 of 9)" \
	[ "$n2" -gt 0 -a "$n2" -lt 9 ]
ktap_check "map shows exactly the $n2 slices of m2 as missing" \
	[ "$(cat "$SP_CFG/dg/volumes/v/map")" = "$want" ]
sp_dm dgv dg v
ok=1 eio=1 kept=0 lost=0
while read -r l m _; do
	if [ "$m" = m2 ]; then
		lost=$((lost + 1))
		dd if=/dev/mapper/dgv of=/dev/null bs=4096 count=1 skip=$((l * SLICE / 4096)) \
			iflag=direct status=none 2> /dev/null && eio=0
	else
		kept=$((kept + 1))
		[ "$(slice_sum "$l")" = "$(cat "$W/sum.$l")" ] || ok=0
	fi
done < "$W/map"
ktap_check "every slice was checked: $kept on the survivors, $lost on m2" \
	[ "$kept" -gt 0 -a "$lost" -eq "$n2" -a $((kept + lost)) -eq 9 ]
ktap_check "slices on the surviving members keep their data" [ $ok -eq 1 ]
ktap_check "I/O to the missing slices fails" [ $eio -eq 1 ]
ktap_check "status counts $n2 missing slices" \
	[ "$(dmsetup status dgv | awk '{ print $9 }')" -eq "$n2" ]
ktap_check "resizing a degraded volume is refused" \
	sp_write_fails sh -c "echo 40M > $SP_CFG/dg/volumes/v/size"
ktap_check "deleting a degraded volume is refused" \
	sp_write_fails sh -c "echo 0 > $SP_CFG/dg/volumes/v/size"

sp_member dg m2 "${DISKS[2]}" dC
ktap_check "enabling m2 completes the map" \
	[ "$(cat "$SP_CFG/dg/volumes/v/map")" = "$(cat "$W/map")" ]
dmsetup reload dgv --table "0 $((36 << 11)) slicepool dg v" && dmsetup resume dgv
ok=1
for ((i = 0; i < 9; i++)); do [ "$(slice_sum $i)" = "$(cat "$W/sum.$i")" ] || ok=0; done
ktap_check "after a table reload every slice has its data" [ $ok -eq 1 ]
ktap_check "status shows no missing slice" [ "$(dmsetup status dgv | awk '{ print $9 }')" -eq 0 ]
sp_unload
ktap_finish
