#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A volume with a member missing, on metadata format 3
# (Documentation/dm-slicepool.rst, "Pools on metadata format 3"):
#  - reassembled without m2, a current member, the pool is read-only and
#    publishes no volume (m2 may hold a newer state);
#  - with every member back, m2 disabled while v is unbound (its slices
#    only become unknown), v bound again: the map shows exactly m2's
#    slices as "- -", their I/O fails with EIO, the other slices keep
#    their data, status counts the missing slices, and resizing and
#    deleting are refused with EIO and a log line naming the count;
#  - enabling m2 (and loading the table again) brings the slices back.
# Slices of 1 MiB: nine of them, little data to move under TCG.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
ktap_header
ktap_plan 14
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
SLICE=$((1 << 20))
V=$SP_CFG/dg/volumes/v
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

sp_pool dg 1
sp_member dg m0 "${DISKS[0]}" dA
sp_member dg m1 "${DISKS[1]}" dB
sp_member dg m2 "${DISKS[2]}" dC
sp_volume dg v 9M
sp_dm dgv dg v
dd if=/dev/urandom of=/dev/mapper/dgv bs=1M count=9 oflag=direct status=none || sp_die "fill"
slice_sum() { dd if=/dev/mapper/dgv bs=$SLICE skip="$1" count=1 iflag=direct status=none | sha256sum; }
for ((i = 0; i < 9; i++)); do slice_sum $i > "$W/sum.$i"; done
cat "$V/map" > "$W/map"
n2=$(sp_map_count dg v m2)
sp_teardown

# Reassemble without m2: read-only, no volume published.
kmsg_mark
sp_pool dg
sp_member dg m0 "${DISKS[0]}" dA
sp_member dg m1 "${DISKS[1]}" dB
ktap_check "reassembled without m2 the pool is read-only" \
	kmsg_has "m1: ${DISKS[1]} adopted into pool dg: member 1; the pool is read-only until every current member is enabled$"
ktap_check "... and publishes no volume (discovered is empty)" [ ! -s "$SP_CFG/dg/discovered" ]

# m2 back, then disabled while v is unbound; v bound again.
sp_member dg m2 "${DISKS[2]}" dC
ktap_check "with m2 back discovered lists v (9 MiB)" \
	grep -qx "v [^ ]* $((9 << 20))" "$SP_CFG/dg/discovered"
echo 0 > "$SP_CFG/dg/members/m2/enable" || sp_die "disable m2 (v unbound)"
mkdir "$V" || sp_die "bind v"
want=$(awk '$2 == "m2" { print $1, "-", "-"; next } { print }' "$W/map")
ktap_check "m2 held slices of v before it went missing ($n2 of 9)" \
	[ "$n2" -gt 0 -a "$n2" -lt 9 ]
ktap_check "map shows exactly the $n2 slices of m2 as missing" \
	[ "$(cat "$V/map")" = "$want" ]
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
# refused_eio SIZE: writing SIZE to v's size fails with EIO, logs why and
# leaves the size at 9 MiB.
refused_eio() {
	local e
	kmsg_mark
	e=$( { printf '%s' "$1" > "$V/size"; } 2>&1 ) && return 1
	grep -qx '.*: Input/output error' <<< "$e" &&
		[ "$(cat "$V/size")" -eq $((9 << 20)) ] &&
		kmsg_has "dg: refused: volume v has $n2 missing slices; enable the missing members first$"
}
ktap_check "resizing a degraded volume is refused (EIO, logged, size kept)" refused_eio 10M
# (A delete below a live table is refused for the table: remove it.)
dmsetup remove dgv || sp_die "remove dgv"
ktap_check "deleting a degraded volume is refused (EIO, logged, size kept)" refused_eio 0

echo 1 > "$SP_CFG/dg/members/m2/enable" || sp_die "enable m2 again"
ktap_check "enabling m2 completes the map" \
	[ "$(cat "$V/map")" = "$(cat "$W/map")" ]
sp_dm dgv dg v
ok=1
for ((i = 0; i < 9; i++)); do [ "$(slice_sum $i)" = "$(cat "$W/sum.$i")" ] || ok=0; done
ktap_check "through a new table every slice has its data" [ $ok -eq 1 ]
ktap_check "status shows no missing slice" [ "$(dmsetup status dgv | awk '{ print $9 }')" -eq 0 ]
sp_unload
ktap_finish
