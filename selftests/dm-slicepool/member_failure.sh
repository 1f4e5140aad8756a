#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Member failure: one member's device starts failing every I/O (its
# dm-linear is swapped for the error target).  I/O to slices on the other
# members continues (fio verify clean there), I/O to the lost slices fails
# with EIO, the member state and dmsetup status name the failed member.
. "$(dirname "$0")/lib.sh"

sp_disks 3
command -v fio > /dev/null || sp_skip "fio not installed"
ktap_header
ktap_plan 7
sp_load
sp_teardown
for i in 0 1 2; do dmsetup remove "spl$i" 2> /dev/null; done
sp_wipe "${DISKS[@]:0:3}"
for i in 0 1 2; do
	dmsetup create "spl$i" --table "0 $(blockdev --getsz "${DISKS[$i]}") linear ${DISKS[$i]} 0" ||
		sp_die "dm-linear spl$i"
done
cleanup() {
	sp_unload
	for i in 0 1 2; do dmsetup remove "spl$i" 2> /dev/null; done
}
trap cleanup EXIT

SLICE=$((4 << 20))
sp_pool mf 4
sp_member mf m0 /dev/mapper/spl0 dA
sp_member mf m1 /dev/mapper/spl1 dB
sp_member mf m2 /dev/mapper/spl2 dC
sp_volume mf v 48M
sp_dm mfv mf v
dd if=/dev/urandom of=/dev/mapper/mfv bs=1M count=48 oflag=direct status=none || sp_die "fill"
MAP=$SP_CFG/mf/volumes/v/map

# m1 fails.
sz=$(blockdev --getsz /dev/mapper/spl1)
if ! { dmsetup suspend spl1 && dmsetup load spl1 --table "0 $sz error" &&
	dmsetup resume spl1; }; then
	sp_die "cannot swap spl1 to the error target"
fi

good=0 bad=0 wrong=0
while read -r l m _; do
	if dd if=/dev/mapper/mfv of=/dev/null bs=4096 count=1 skip=$((l * SLICE / 4096)) \
		iflag=direct status=none 2> /dev/null; then
		[ "$m" != m1 ] && good=$((good + 1)) || wrong=$((wrong + 1))
	else
		[ "$m" = m1 ] && bad=$((bad + 1)) || wrong=$((wrong + 1))
	fi
done < "$MAP"
n1=$(sp_map_count mf v m1)
ktap_check "reads of the $n1 slices on m1 fail, the other $good succeed" \
	[ "$bad" -eq "$n1" -a "$wrong" -eq 0 -a "$good" -eq $((12 - n1)) ]
ktap_check "a write to a lost slice fails with EIO" sh -c \
	"dd if=/dev/zero of=/dev/mapper/mfv bs=4096 count=1 oflag=direct status=none seek=$(( $(awk '$2 == "m1" { print $1; exit }' "$MAP") * SLICE / 4096 )) 2>&1 | grep -q 'Input/output error'"
ktap_check "member state is failed" [ "$(cat "$SP_CFG"/mf/members/m1/state)" = failed ]
ktap_check "the other members stay online" \
	[ "$(cat "$SP_CFG"/mf/members/m0/state)" = online -a "$(cat "$SP_CFG"/mf/members/m2/state)" = online ]
st=$(dmsetup status mfv)
echo "# status: $st"
ktap_check "dmsetup status names the failed member" sh -c "echo '$st' | grep -q ' m1:$n1:failed'"
ok=1
for m in m0 m2; do
	l=$(awk -v m=$m '$2 == m { print $1; exit }' "$MAP")
	fio --name=$m --filename=/dev/mapper/mfv --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bs=4k --offset=$((l * SLICE)) --size=$SLICE --verify=crc32c \
		--verify_fatal=1 --output=/dev/null || ok=0
done
ktap_check "fio verify clean on slices of the surviving members" [ $ok -eq 1 ]
ktap_check "status counts the I/O errors" [ "$(dmsetup status mfv | awk '{ print $8 }')" -gt 0 ]
dmsetup remove mfv
ktap_finish
