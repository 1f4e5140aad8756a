#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# On a pool of metadata format 3, the sources of a committed move stay
# held until the switch has drained the volume's I/O ("Live migration on
# format 3" in Documentation/dm-slicepool-metadata.rst): md3's commit
# frees them in the state, but a read mapped through the old map may
# still be in flight to them.  With such a read kept in flight on the
# source (dm-delay on the member's data area), the switch commits and
# waits; meanwhile the source member's free count does not grow and a
# new volume placed there does not get the source slice (without the
# hold it would, and the late read would return the new volume's data);
# after the release both do, and the late read returned the old data.
. "$(dirname "$0")/lib.sh"

sp_start 2 6
W=$(mktemp -d)
cleanup() {
	sp_teardown
	dmsetup remove --retry mgh-src 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

P=mgh
C=$SP_CFG/$P
free_of() { cat "$C/members/$1/free_slices"; }
map_of() { cat "$C/volumes/$1/map"; }

# m0 is a dm device over DISKS[0] of 16 MiB: the journal and a few slices
# of 4 MiB, all of them volume h's, so m0 has no free slice but the one a
# move frees.
len=$((16 << 11))
linear="0 $len linear ${DISKS[0]} 0"
dmsetup create mgh-src --table "$linear" || sp_die "mgh-src"
dmsetup mknodes mgh-src
sp_wipe /dev/mapper/mgh-src "${DISKS[1]}"
sp_pool_by_load $P 4
echo 3 > "$C"/metadata_format || sp_die "metadata_format 3"
sp_member $P m0 /dev/mapper/mgh-src dA 0
n0=$(cat "$C"/members/m0/total_slices)
[ "$n0" -ge 1 ] || sp_die "m0 has no slice"
sp_volume $P h $((n0 * 4))M
sp_member $P m1 "${DISKS[1]}" dB 100
sp_dm "$P-h" $P h
sp_fill "/dev/mapper/$P-h" $((n0 * 4))
src=$(awk '$1 == 0 { print $2 " " $3 }' "$C/volumes/h/map")
if [ "${src% *}" != m0 ] || [ "$(free_of m0)" != 0 ]; then
	sp_die "h is not on m0 alone"
fi
dd if="/dev/mapper/$P-h" bs=4k count=1 iflag=direct status=none | md5sum > "$W/r0"
dmsetup message "$P-h" 0 migrate start 0 m1 manual chunk_kb=1024 || sp_die "migrate start 0 m1"
dmsetup message "$P-h" 0 migrate step 4 || sp_die "migrate step 4"
# Reads of m0's data area now wait 60 s (or until the table is replaced:
# dm-delay issues its delayed bios when it is suspended); its metadata
# and writes are not delayed.
off=$(($(cat "$C"/members/m0/data_offset) >> 9))
if ! dmsetup suspend mgh-src ||
   ! printf '0 %s linear %s 0\n%s %s delay %s %s 60000 %s %s 0\n' "$off" "${DISKS[0]}" \
	"$off" "$((len - off))" "${DISKS[0]}" "$off" "${DISKS[0]}" "$off" | dmsetup load mgh-src ||
   ! dmsetup resume mgh-src; then
	sp_die "delay table on mgh-src"
fi
dd if="/dev/mapper/$P-h" bs=4k count=1 iflag=direct status=none 2>&1 | md5sum > "$W/r1" &
rd=$!
sleep 0.5
dmsetup message "$P-h" 0 migrate switch &
sw=$!
for _ in $(seq 100); do
	[ "$(awk '$1 == 0 { print $2 }' "$C/volumes/h/map")" = m1 ] && break
	sleep 0.05
done
in_window=$(kill -0 "$rd" 2> /dev/null && echo yes)
ktap_check "hold: the switch committed while the read of the source is in flight ($in_window)" \
	[ "$(awk '$1 == 0 { print $2 }' "$C/volumes/h/map")" = m1 -a "$in_window" = yes ]
ktap_check "hold: m0's free count stays 0 until the release" [ "$(free_of m0)" = 0 ]
sp_lightest $P m0
sp_volume $P w 4M
# Written at once (writes are not delayed): on the source slice, the late
# read would return it.
sp_dm "$P-w" $P w
sp_fill "/dev/mapper/$P-w" 1
in_window=$(kill -0 "$rd" 2> /dev/null && echo yes)
ktap_check "hold: a volume created meanwhile ($in_window) does not get the source slice (${src#* } of m0)" \
	[ "$(awk '{ print $2 " " $3 }' "$C/volumes/w/map")" != "$src" -a "$in_window" = yes ]
# The late read goes on now, then the switch drains and releases.
if ! dmsetup suspend mgh-src || ! dmsetup load mgh-src --table "$linear" ||
   ! dmsetup resume mgh-src; then
	sp_die "linear table on mgh-src"
fi
wait "$rd"
wait "$sw" || sp_die "migrate switch"
ktap_check "hold: the late read returned h's data" cmp -s "$W/r0" "$W/r1"
ktap_check "hold: after the release m0's slice is free" [ "$(free_of m0)" = 1 ]
sp_volume $P x 4M
ktap_check "hold: and the next volume placed on m0 gets it" \
	[ "$(awk '{ print $2 " " $3 }' "$C/volumes/x/map")" = "$src" ]
sp_unload
ktap_finish
