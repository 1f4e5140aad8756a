#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Forced activation of a read-only pool on metadata format 3 (the pool's
# force attribute and "slicepool pool force",
# Documentation/dm-slicepool.rst, "Pools on metadata format 3").  Members
# m0 and m1 hold volume v (written), m2 joins holding nothing.  The pool,
# reassembled without m2, is read-only and names m2; writes are refused.
# Bad values and wrong states of force are refused.  The tool forces it:
# one log line names m2 as forced out, the pool is read-write, v's data is
# intact and v takes writes and an expand.  m2 returning is refused and
# changes nothing; a reassembly that enables m2 first keeps m2 stale and
# comes up on the forced state (v's new size and data), never m2's.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$(dirname "$0")/md3_force_lib.sh"

SPT=$SP_TOP/tools/slicepool/slicepool
sp_start 3 31
sp_wipe "${DISKS[@]:0:3}"

P=f3
C=$SP_CFG/$P

# m2_sum: the checksum of m2's labels and journal (its first 5 MiB).
m2_sum() {
	dd if="${DISKS[2]}" bs=1M count=5 iflag=direct status=none | cksum
}

# vsum MB: the checksum of the first MB MiB of v's dm device f3v.
vsum() {
	dd if=/dev/mapper/f3v bs=1M count="$1" iflag=direct status=none | cksum
}

# The pool: v (2 MiB, 2 slices) on m0 and m1, then m2 added.
new_pool
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sp_volume $P v 2M
sp_dm f3v $P v
sp_fill /dev/mapper/f3v 2
sum0=$(vsum 2)
vuuid=$(cat "$C"/volumes/v/uuid)
sp_member $P m2 "${DISKS[2]}" dC
map0=$(cat "$C"/volumes/v/map)
ktap_check "v's two slices are on m0 and m1, none on m2" \
	[ "$(awk '{ print $2 }' <<< "$map0" | sort | tr '\n' ' ')" = "m0 m1 " ]
sp_teardown

# Reassembled without m2: read-only, m2 named, writes refused.
new_pool
kmsg_mark
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
LOG=$(kmsg_since)
ktap_check "without m2 the pool comes up read-only" \
	logged "m1: ${DISKS[1]} adopted into pool $P: member 1; the pool is read-only until every current member is enabled$"
ktap_check "the log names the absent member m2" \
	logged "$P: member 2 \(m2\) is absent$"
ktap_check "the log says how to go on without it" \
	logged "$P: to go on without the absent members named above, force the pool read-write: write 1 to its force attribute \('slicepool pool force $P'\); they are then marked stale and never used again$"
ktap_check "the read-only pool publishes no volume (discovered is empty)" \
	[ ! -s "$C"/discovered ]
mkdir "$C"/volumes/w || sp_die "mkdir volume w"
refused "creating volume w in the read-only pool" "$C"/volumes/w/size 1M EROFS \
	"$P: refused: the pool is read-only until every current member is enabled; volume w not resized$"
rmdir "$C"/volumes/w || sp_die "rmdir volume w"
m2sum=$(m2_sum)

# Bad values and wrong states of force.
refused "force 2" "$C"/force 2 EINVAL \
	"slicepool: $P: force: invalid value '2' \(only 1 is accepted\)$"
mkdir "$SP_CFG"/g2 || sp_die "mkdir g2"
refused "force of a pool with no member enabled" "$SP_CFG"/g2/force 1 EINVAL \
	"g2: force refused: no member is enabled; enable the members that are present first$"
rmdir "$SP_CFG"/g2 || sp_die "rmdir g2"

# The tool forces the pool.
kmsg_mark
out=$("$SPT" pool force $P 2>&1)
rc=$?
LOG=$(kmsg_since)
while read -r line; do echo "# slicepool: $line"; done <<< "$out"
ktap_check "slicepool pool force $P exits 0" [ $rc -eq 0 ]
ktap_check "exactly one log line names a member forced out, and it is m2" \
	[ "$(grep -Ec -- "$P: member 2 \(m2\) forced out: marked stale \(forced\) at seq [0-9]+; its device is refused if it comes back$" <<< "$LOG")" -eq 1 -a \
	  "$(grep -c -- ' forced out: marked stale ' <<< "$LOG")" -eq 1 ]
ktap_check "the pool says it is read-write without one member" \
	logged "$P: forced read-write at seq [0-9]+ without 1 absent member\(s\)$"
refused "force of a read-write pool" "$C"/force 1 EBUSY \
	"$P: force refused: the pool is already read-write \(nothing to force\)$"

# Read-write: the data written before is intact, writes succeed.
ktap_check "discovered lists v with its uuid and size" \
	grep -qx "v $vuuid $((2 << 20))" "$C"/discovered
mkdir "$C"/volumes/v || sp_die "bind v"
ktap_check "v's map is unchanged" [ "$(cat "$C"/volumes/v/map)" = "$map0" ]
sp_dm f3v $P v
ktap_check "v's data written before is intact" \
	[ "$(vsum 2)" = "$sum0" ]
ktap_check "a write of v's 2 MiB succeeds" \
	dd if=/dev/urandom of=/dev/mapper/f3v bs=1M count=2 oflag=direct status=none
dmsetup remove f3v || sp_die "dmsetup remove f3v"
ktap_check "expanding v to 3 MiB succeeds (a metadata write)" \
	[ "$(werr "$C"/volumes/v/size 3M)" = OK ]
sp_dm f3v $P v
sp_fill /dev/mapper/f3v 1 2
sum1=$(vsum 3)
map1=$(cat "$C"/volumes/v/map)

# m2 comes back: refused, nothing written to it, v as the force left it.
mkdir "$C"/members/m2 || sp_die "mkdir m2"
echo "${DISKS[2]}" > "$C"/members/m2/path || sp_die "path of m2"
echo dC > "$C"/members/m2/domain || sp_die "domain of m2"
refused "m2 coming back" "$C"/members/m2/enable 1 EBUSY \
	"m2: refused: ${DISKS[2]} is member 2 of pool $P, forced out at seq [0-9]+: its copy is stale and never used; leave it out, or wipe its labels \(blocks 0 and 1\) and enable it to add the device as a new member$"
ktap_check "the refusal wrote nothing to m2's device" [ "$(m2_sum)" = "$m2sum" ]
ktap_check "v keeps the forced state's size (3 MiB), map and data" \
	[ "$(cat "$C"/volumes/v/size)" -eq $((3 << 20)) -a \
	  "$(cat "$C"/volumes/v/map)" = "$map1" -a \
	  "$(vsum 3)" = "$sum1" ]
sp_teardown

# Reassembled with m2 enabled first: it stays stale, the forced state wins.
new_pool
kmsg_mark
sp_member $P m2 "${DISKS[2]}" dC
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
LOG=$(kmsg_since)
ktap_check "m2 first, then m0 and m1: the pool is read-write" \
	logged "m1: ${DISKS[1]} adopted into pool $P: member 1; the pool is read-write$"
ktap_check "the log says m2 stays stale" \
	logged "m2: ${DISKS[2]} stays stale: member 2 was forced out of pool $P at seq [0-9]+; its copy is never used \(disable it\)$"
ktap_check "m2 takes no new slice (free_slices 0)" \
	[ "$(cat "$C"/members/m2/free_slices)" -eq 0 ]
ktap_check "discovered lists v at the forced state's size (3 MiB)" \
	grep -qx "v $vuuid $((3 << 20))" "$C"/discovered
mkdir "$C"/volumes/v || sp_die "bind v"
sp_dm f3v $P v
ktap_check "v reads the forced state's map and data, not m2's older copy" \
	[ "$(cat "$C"/volumes/v/map)" = "$map1" -a \
	  "$(vsum 3)" = "$sum1" ]
ktap_check "m2's device is still unwritten" [ "$(m2_sum)" = "$m2sum" ]
sp_teardown
ktap_finish
