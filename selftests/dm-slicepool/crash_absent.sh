#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# An uncommitted expand must never be mapped in place of a committed one,
# even when the member holding its orphans was absent while the volume was
# expanded again, and even when the member holding the committed slice is
# the absent one later (see "Commit protocol" in dm-slicepool.rst):
#  - expand v and stop it just before its commit point (the module's test
#    hook fail_before_commit: what a crash there leaves on disk); some of
#    its orphans are on member x;
#  - reassemble without x, expand v again (the same logical slices now go
#    to m0 and m1, and the record gets a fence for the failed attempt),
#    write known data;
#  - bring x back, its item made first and then last: the map is the
#    committed one in both orders and the data is intact;
#  - x and m0 without m1: m1's slices are reported missing, no orphan of
#    x or m0 stands in for them, m0's data is intact;
#  - reclaim frees the 8 orphans; "reclaim all" drops the fence;
#  - fences are bounded: after 8 interrupted expands at different sizes
#    the next resize is refused with EBUSY until "reclaim all".
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
ktap_header
ktap_plan 30
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'dmsetup remove --retry spca 2>/dev/null; rm -rf "$W"' EXIT
HOOK=/sys/module/dm_slicepool/parameters/fail_before_commit
[ -w "$HOOK" ] || sp_die "$HOOK missing"
SLICE=$((4 << 20))

m0() { sp_member ca m0 "${DISKS[0]}" dA; }
m1() { sp_member ca m1 "${DISKS[1]}" dB; }
mx() { sp_member ca x "${DISKS[2]}" dC; }
V=$SP_CFG/ca/volumes/v
map() { cat "$V"/map; }
used() {
	echo $(( $(cat "$SP_CFG/ca/members/$1/total_slices") - $(cat "$SP_CFG/ca/members/$1/free_slices") ))
}
checksum() {
	sp_dm spca ca v
	md5sum < /dev/mapper/spca | cut -d' ' -f1
	dmsetup remove --retry spca
}
# slice_sum FILE|DEV LOGICAL
slice_sum() {
	dd if="$1" bs=$SLICE skip="$2" count=1 status=none | md5sum | cut -d' ' -f1
}

# v (2 slices) lives on m0 and m1 only; x joins afterwards.
sp_pool ca 4
m0
m1
sp_volume ca v 8M
mx

# Expand to 10 slices, stopped before the commit point.
echo 1 > "$HOOK"
ktap_check "the interrupted expand fails" sp_write_fails sh -c "echo 40M > $V/size"
ktap_check "the hook clears itself" [ "$(cat "$HOOK")" = N ]
nx=$(used x)
norph=$(( nx + $(used m0) + $(used m1) - 2 ))
ktap_check "the interrupted expand left orphans on x ($nx) and 8 in all" \
	[ "$nx" -gt 0 -a "$norph" -eq 8 ]
sp_teardown

# Reassemble without x and expand again.
sp_pool ca
m0
m1
mkdir "$V"
ktap_check "without x the committed size wins (2 slices)" [ "$(map | wc -l)" -eq 2 ]
echo 40M > "$V"/size || sp_die "second expand"
committed=$(map)
ktap_check "the second expand put all 10 slices on m0 and m1" \
	[ "$(sp_map_count ca v m0)" -eq $(( 10 - $(sp_map_count ca v m1) )) ]
ktap_check "the record fences the interrupted attempt from slice 2 on" \
	[ "$(awk '{ print $1, $2 }' "$V"/fences)" = "2 -" ]
on_m1=$(awk '$2 == "m1"' <<< "$committed" | wc -l)
[ "$on_m1" -gt 0 ] || sp_die "nothing of v on m1"
sp_dm spca ca v
head -c $((40 << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=/dev/mapper/spca bs=1M oflag=direct status=none || sp_die "write data"
dmsetup remove --retry spca
sum=$(md5sum < "$W/data" | cut -d' ' -f1)
sp_teardown

# x back, its item made first, then last.
for order in first last; do
	sp_pool ca
	if [ "$order" = first ]; then
		mx
		m0
		m1
	else
		m0
		m1
		mx
	fi
	mkdir "$V"
	ktap_check "x enabled $order: no slice of v maps to x" [ "$(sp_map_count ca v x)" -eq 0 ]
	ktap_check "x enabled $order: the map is the committed one" [ "$(map)" = "$committed" ]
	ktap_check "x enabled $order: the data is intact" [ "$(checksum)" = "$sum" ]
	ktap_check "x enabled $order: x's $nx slices are orphans (still allocated)" \
		[ "$(used x)" -eq "$nx" ]
	sp_teardown
done

# Degraded: x and m0 present, m1 (holding committed slices) absent.
sp_pool ca
mx
m0
mkdir "$V"
expect=$(awk '$2 == "m1" { print $1, "-", "-"; next } { print }' <<< "$committed")
ktap_check "without m1 its $on_m1 slices are reported missing" [ "$(map)" = "$expect" ]
ktap_check "without m1 no orphan of x stands in" [ "$(sp_map_count ca v x)" -eq 0 ]
sp_dm spca ca v
bad=0 n0=0
while read -r l; do
	n0=$((n0 + 1))
	[ "$(slice_sum /dev/mapper/spca "$l")" = "$(slice_sum "$W/data" "$l")" ] || bad=$((bad + 1))
done < <(awk '$2 == "m0" { print $1 }' <<< "$committed")
ktap_check "without m1 the slices of m0 were read: $n0, all of m0's ($((10 - on_m1)))" \
	[ "$n0" -gt 0 -a "$n0" -eq $((10 - on_m1)) ]
ktap_check "without m1 every slice on m0 reads its data" [ "$bad" -eq 0 ]
l=$(awk '$2 == "m1" { print $1; exit }' <<< "$committed")
ktap_check "without m1 its slices fail with EIO" \
	sp_write_fails dd if=/dev/mapper/spca of=/dev/null bs=$SLICE skip="$l" count=1 iflag=direct status=none
dmsetup remove --retry spca
sp_teardown

# All members: reclaim, then drop the fence.
sp_pool ca
mx
m0
m1
echo 1 > "$SP_CFG"/ca/reclaim
ktap_check "reclaim frees exactly the interrupted expand's 8 orphans" \
	[ "$(cat "$SP_CFG"/ca/reclaimed)" -eq 8 ]
mkdir "$V"
ktap_check "reclaim 1 keeps the fence" [ "$(wc -l < "$V"/fences)" -eq 1 ]
echo all > "$SP_CFG"/ca/reclaim || sp_die "reclaim all"
ktap_check "reclaim all drops it" [ -z "$(cat "$V"/fences)" ]
sp_teardown
sp_pool ca
mx
m0
m1
mkdir "$V"
ktap_check "after reclaim the map is still the committed one" [ "$(map)" = "$committed" ]
ktap_check "after reclaim the data is intact" [ "$(checksum)" = "$sum" ]
ktap_check "no duplicate claim was resolved in favour of x" \
	sh -c "! dmesg | grep -q 'ca: volume v slice [0-9]* claimed twice.*, keeping x/'"

# Fences are bounded: 8 interrupted expands at 8 different sizes.
mb=40
for _ in 1 2 3 4 5 6 7 8; do
	echo 1 > "$HOOK"
	echo $((mb + 4))M > "$V"/size 2>/dev/null && sp_die "the hook did not fire"
	mb=$((mb + 4))
	echo "${mb}M" > "$V"/size || sp_die "expand to ${mb}M"
done
ktap_check "8 interrupted expands: 8 fences" [ "$(wc -l < "$V"/fences)" -eq 8 ]
echo 1 > "$HOOK"
echo $((mb + 4))M > "$V"/size 2>/dev/null && sp_die "the hook did not fire"
kmsg_mark
err=$( { echo $((mb + 4))M > "$V"/size; } 2>&1 )
ktap_check "a 9th is refused with EBUSY" grep -qx -- '.*: Device or resource busy' <<< "$err"
ktap_check "with a remedy in dmesg" \
	kmsg_has 'ca: refused: volume v already has 8 fences.*reclaim'
echo all > "$SP_CFG"/ca/reclaim || sp_die "reclaim all"
ktap_check "after reclaim all the expand works" sh -c "echo $((mb + 4))M > $V/size"
ktap_check "and the volume is whole" [ "$(awk '$2 == "-"' "$V"/map | wc -l)" -eq 0 ]
sp_unload
ktap_finish
