#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A state that only an absent member holds is never silently used or
# overridden on metadata format 3 (Documentation/dm-slicepool-metadata.rst,
# "Winner rule"; Documentation/dm-slicepool.rst, "Forced activation").  A
# crash is simulated by putting back a member's metadata area (labels and
# journal, before data_offset) as it was before an operation.
#  - v (2 slices, written) on m0 and m1, x added; v is expanded to 10
#    slices, some on x, and the crash leaves the commit on x only;
#  - reassembled without x the pool is read-only, names x and publishes
#    no volume (x may hold a newer state);
#  - forced without x, v has its 2 slices and their data; expanded again
#    (all 10 slices now on m0 and m1) and written;
#  - x back, enabled first and then last: the forced state wins (map and
#    data), no slice maps to x, x stays stale (first) or is refused with
#    EBUSY (last), and x's device is never written;
#  - m1 disabled while v is unbound: m1's slices are reported missing and
#    fail with EIO, nothing of x stands in, m0's slices read their data;
#  - reclaim frees nothing, there are no fences, and after a reassembly
#    the map and the data are the forced state's.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
ktap_header
ktap_plan 26
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'dmsetup remove --retry spca 2>/dev/null; rm -rf "$W"' EXIT
SLICE=$((1 << 20))
C=$SP_CFG/ca
V=$C/volumes/v

m0() { sp_member ca m0 "${DISKS[0]}" dA; }
m1() { sp_member ca m1 "${DISKS[1]}" dB; }
mx() { sp_member ca x "${DISKS[2]}" dC; }
map() { cat "$V"/map; }
# checksum MB: the md5 of v's first MB MiB (slices of 1 MiB: little data
# to move under TCG).
checksum() {
	sp_dm spca ca v
	dd if=/dev/mapper/spca bs=1M count="$1" iflag=direct status=none | md5sum | cut -d' ' -f1
	dmsetup remove --retry spca
}
# slice_sum FILE|DEV LOGICAL
slice_sum() {
	dd if="$1" bs=$SLICE skip="$2" count=1 status=none | md5sum | cut -d' ' -f1
}
# md save|restore|sum DISK_INDEX...: the metadata area (blocks 0 ..
# data_offset) of the disks, to or from $W, or its md5.
md() {
	local op=$1 i
	shift
	for i in "$@"; do
		case $op in
		save) dd if="${DISKS[$i]}" of="$W/md.$i" bs=1M count=$((DOFF >> 20)) \
			iflag=direct status=none ;;
		restore) dd if="$W/md.$i" of="${DISKS[$i]}" bs=1M oflag=direct \
			conv=notrunc status=none ;;
		sum) dd if="${DISKS[$i]}" bs=1M count=$((DOFF >> 20)) iflag=direct \
			status=none | md5sum | cut -d' ' -f1 ;;
		esac || sp_die "md $op of disk $i"
	done
}

# v (2 slices) on m0 and m1, written; x joins; the expand reaches x only.
sp_pool ca 1
m0
m1
sp_volume ca v 2M
mx
DOFF=$(cat "$SP_CFG"/ca/members/x/data_offset)
map2=$(map)
sp_dm spca ca v
head -c $((2 << 20)) /dev/urandom > "$W/data2"
dd if="$W/data2" of=/dev/mapper/spca bs=1M oflag=direct status=none || sp_die "write 2M"
dmsetup remove --retry spca
sum2=$(md5sum < "$W/data2" | cut -d' ' -f1)
md save 0 1
echo 10M > "$V"/size || sp_die "expand to 10M"
nx=$(sp_map_count ca v x)
ktap_check "the expand put slices on x ($nx of 10)" [ "$nx" -gt 0 ]
sp_teardown
md restore 0 1
xsum=$(md sum 2)

# Without x: read-only.
sp_pool ca
kmsg_mark
m0
m1
LOG=$(kmsg_since)
ktap_check "without x the pool comes up read-only" \
	grep -Eq "m1: ${DISKS[1]} adopted into pool ca: member 1; the pool is read-only until every current member is enabled$" <<< "$LOG"
ktap_check "the log names x as absent" grep -Eq "ca: member 2 \(x\) is absent$" <<< "$LOG"
ktap_check "no volume is published (discovered is empty)" [ ! -s "$C"/discovered ]

# Forced without x: the state of m0 and m1 (v of 2 slices); v grows again.
kmsg_mark
echo 1 > "$C"/force || sp_die "force"
ktap_check "forced: the log names x as forced out" \
	kmsg_has "ca: member 2 \(x\) forced out: marked stale \(forced\) at seq [0-9]+; its device is refused if it comes back$"
mkdir "$V" || sp_die "bind v"
ktap_check "forced without x, v has its committed 2 slices" [ "$(map)" = "$map2" ]
ktap_check "... and their data" [ "$(checksum 2)" = "$sum2" ]
echo 10M > "$V"/size || sp_die "second expand"
committed=$(map)
ktap_check "the second expand put all 10 slices on m0 and m1" \
	[ "$(sp_map_count ca v m0)" -eq $(( 10 - $(sp_map_count ca v m1) )) ]
on_m1=$(sp_map_count ca v m1)
[ "$on_m1" -gt 0 ] || sp_die "nothing of v on m1"
sp_dm spca ca v
head -c $((10 << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=/dev/mapper/spca bs=1M oflag=direct status=none || sp_die "write data"
dmsetup remove --retry spca
sum=$(md5sum < "$W/data" | cut -d' ' -f1)
sp_teardown

# x back, its item made first, then last.
x_refused() {
	local e
	mkdir "$C"/members/x && echo "${DISKS[2]}" > "$C"/members/x/path &&
		echo dC > "$C"/members/x/domain || return 1
	e=$( { echo 1 > "$C"/members/x/enable; } 2>&1 ) && return 1
	grep -qx '.*: Device or resource busy' <<< "$e"
}
for order in first last; do
	sp_pool ca
	if [ "$order" = first ]; then
		mx
		m0
		m1
		ktap_check "x enabled first: it stays stale and takes no slice (free_slices 0)" \
			[ "$(cat "$C"/members/x/free_slices)" -eq 0 ]
	else
		m0
		m1
		ktap_check "x enabled last: refused (EBUSY)" x_refused
	fi
	mkdir "$V"
	ktap_check "x enabled $order: no slice of v maps to x" [ "$(sp_map_count ca v x)" -eq 0 ]
	ktap_check "x enabled $order: the map is the forced state's" [ "$(map)" = "$committed" ]
	ktap_check "x enabled $order: the data is intact" [ "$(checksum 10)" = "$sum" ]
	sp_teardown
done

# m1 disabled (v unbound): its slices missing, nothing of x stands in.
sp_pool ca
mx
m0
m1
echo 0 > "$C"/members/m1/enable || sp_die "disable m1"
mkdir "$V" || sp_die "bind v"
expect=$(awk '$2 == "m1" { print $1, "-", "-"; next } { print }' <<< "$committed")
ktap_check "without m1 its $on_m1 slices are reported missing" [ "$(map)" = "$expect" ]
ktap_check "without m1 nothing of x stands in" [ "$(sp_map_count ca v x)" -eq 0 ]
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
rmdir "$V" || sp_die "unbind v"
echo 1 > "$C"/members/m1/enable || sp_die "enable m1 again"

# Every member: nothing to reclaim, no fence; the state survives.
echo 1 > "$C"/reclaim || sp_die "reclaim"
ktap_check "reclaim frees nothing" [ "$(cat "$C"/reclaimed)" -eq 0 ]
mkdir "$V" || sp_die "bind v"
ktap_check "v has no fences" [ -z "$(cat "$V"/fences)" ]
sp_teardown
sp_pool ca
m0
m1
mkdir "$V" || sp_die "bind v"
ktap_check "reassembled, the map is still the forced state's" [ "$(map)" = "$committed" ]
ktap_check "... and the data is intact" [ "$(checksum 10)" = "$sum" ]
ktap_check "x's device was never written after the crash" [ "$(md sum 2)" = "$xsum" ]
sp_unload
ktap_finish
