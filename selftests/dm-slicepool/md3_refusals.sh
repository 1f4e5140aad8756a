#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Refusals around pools of metadata format 3, each with its errno and a
# log line naming the value or the operation: bad metadata_format values,
# a change of it once a member is enabled, a bad value for a member's
# remove and a remove in a format-2 pool, a resize, a migration and a
# settings change while a current member is disabled (until it is enabled
# again), a v3 member in a
# format-2 pool and the reverse, and a device that is neither blank nor a
# member.  reclaim is accepted and frees nothing.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_start 4 37
sp_wipe "${DISKS[@]:0:4}"

P=q3
C=$SP_CFG/$P

# werr FILE VALUE: write VALUE to FILE in one write(); print OK or the
# errno's name.
werr() {
	python3 -c 'import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
try:
    os.write(fd, sys.argv[2].encode())
    print("OK")
except OSError as e:
    # EOPNOTSUPP and ENOTSUP are one number (95); Python names it ENOTSUP
    print("EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else errno.errorcode[e.errno])' "$1" "$2"
}

# refused WHAT FILE VALUE ERRNO ERE: writing VALUE is refused with ERRNO
# and a line matching ERE is logged (two checks).
refused() {
	local r
	kmsg_mark
	r=$(werr "$2" "$3")
	ktap_check "$1: refused with $4 (got $r)" [ "$r" = "$4" ]
	ktap_check "$1: the log line says why" kmsg_has "$5"
}

mkdir "$C" || sp_die "mkdir pool"
echo 8 > "$C"/slice_mb || sp_die "slice_mb"
refused "metadata_format 4" "$C"/metadata_format 4 EINVAL \
	"slicepool: $P: metadata_format: invalid value '4' \(2 or 3\)$"
refused "metadata_format 3x" "$C"/metadata_format 3x EINVAL \
	"slicepool: $P: metadata_format: invalid value '3x' \(2 or 3\)$"
refused "an empty metadata_format" "$C"/metadata_format $'\n' EINVAL \
	"slicepool: $P: metadata_format: invalid value '' \(2 or 3\)$"
ktap_check "metadata_format is still 3 (the default) after the refusals" \
	[ "$(cat "$C"/metadata_format)" = 3 ]
ktap_check "metadata_format 2 is accepted" [ "$(werr "$C"/metadata_format 2)" = OK ]
ktap_check "metadata_format 3 is accepted" [ "$(werr "$C"/metadata_format 3)" = OK ]
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
refused "metadata_format 2 with members enabled" "$C"/metadata_format 2 EBUSY \
	"slicepool: $P: metadata_format is fixed once a member is enabled \(it is 3\)$"
ktap_check "writing the same format again is accepted" [ "$(werr "$C"/metadata_format 3)" = OK ]

sp_volume $P v 16M
sp_dm q3v $P v
refused "remove 2" "$C"/members/m0/remove 2 EINVAL \
	"slicepool: m0: remove: invalid value '2' \(only 1 is accepted\)$"
kmsg_mark
ktap_check "reclaim is accepted" [ "$(werr "$C"/reclaim 1)" = OK ]
ktap_check "reclaim freed nothing (reclaimed 0)" [ "$(cat "$C"/reclaimed)" = 0 ]
ktap_check "reclaim says why" \
	kmsg_has "$P: reclaim: nothing to reclaim in metadata format 3 \(no orphan records\)$"

# A current member disabled: no metadata write until it is back.
sp_member $P m2 "${DISKS[2]}" dC
echo 0 > "$C"/members/m2/enable || sp_die "disable m2"
refused "expand while current member m2 is disabled" "$C"/volumes/v/size 24M EROFS \
	"$P: expand of volume v failed: -30 \(no metadata write while a current member is disabled or failed: enable it\); nothing changed$"
ktap_check "the refused expand left the size at 16M" \
	[ "$(cat "$C"/volumes/v/size)" -eq $((16 << 20)) ]
ws=$(cat "$C"/weight_space)
refused "weight_space while current member m2 is disabled" "$C"/weight_space 30 EROFS \
	"$P: settings \(weight_space 30, weight_load [0-9]+, min_domains [0-9]+\) not recorded: -30 \(no metadata write while a current member is disabled or failed: enable it\); they stay as they were$"
ktap_check "the refused write left weight_space at $ws" [ "$(cat "$C"/weight_space)" = "$ws" ]
kmsg_mark
map0=$(cat "$C"/volumes/v/map)
to=m1
[ "$(awk 'NR == 1 { print $2 }' <<< "$map0")" = m1 ] && to=m0
out=$(dmsetup message q3v 0 migrate start 0 $to 2>&1)
rc=$?
while read -r line; do echo "# dmsetup: $line"; done <<< "$out"
ktap_check "migrate start while m2 is disabled is refused (EROFS), the map unchanged" \
	[ $rc -ne 0 -a -n "$(grep -x '.*: Read-only file system' <<< "$out")" -a \
	  "$(cat "$C"/volumes/v/map)" = "$map0" ]
ktap_check "migrate start: the log line says why" \
	kmsg_has "$P: migration start of volume v failed: -30 \(no metadata write while a current member is disabled or failed: enable it\); nothing changed$"
kmsg_mark
ktap_check "m2 enabled again" [ "$(werr "$C"/members/m2/enable 1)" = OK ]
ktap_check "with m2 back the pool is read-write" \
	kmsg_has "m2: /dev/[a-z]+ adopted into pool $P: member 2; the pool is read-write$"
ktap_check "the expand is accepted now" [ "$(werr "$C"/volumes/v/size 24M)" = OK ]
sp_teardown

# Formats do not mix.  DISKS[2] is now a v3 member, DISKS[3] becomes a
# format-2 one.
mkdir "$SP_CFG"/f2 || sp_die "mkdir f2"
echo 2 > "$SP_CFG"/f2/metadata_format || sp_die "metadata_format 2 of f2"
mkdir "$SP_CFG"/f2/members/x || sp_die "mkdir x"
echo "${DISKS[2]}" > "$SP_CFG"/f2/members/x/path
echo dX > "$SP_CFG"/f2/members/x/domain
refused "a format-3 member in a format-2 pool" "$SP_CFG"/f2/members/x/enable 1 EILSEQ \
	"${DISKS[2]}: refused: a member of metadata format 3; enable it in a pool whose metadata_format is 3$"
sp_member f2 y "${DISKS[3]}" dY
refused "remove in a format-2 pool" "$SP_CFG"/f2/members/y/remove 1 EINVAL \
	"y: remove refused: pool f2 is format 2, which keeps no member list: disable the member and rmdir it$"
sp_teardown
mkdir "$SP_CFG"/g3 "$SP_CFG"/g3/members/z || sp_die "mkdir g3"
echo 3 > "$SP_CFG"/g3/metadata_format
echo "${DISKS[3]}" > "$SP_CFG"/g3/members/z/path
echo dZ > "$SP_CFG"/g3/members/z/domain
refused "a format-2 member in a format-3 pool" "$SP_CFG"/g3/members/z/enable 1 EILSEQ \
	"z: refused: ${DISKS[3]} is a format-2 member and pool g3 is format 3 \(metadata_format\): convert its pool with 'slicepool upgrade', or use it in a format-2 pool$"
sp_wipe "${DISKS[3]}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
head -c 4096 /dev/urandom > "$W/junk"
dd if="$W/junk" of="${DISKS[3]}" bs=4096 seek=1 oflag=direct status=none ||
	sp_die "garbage in block 1"
refused "a device with other data in block 1" "$SP_CFG"/g3/members/z/enable 1 EILSEQ \
	"z: refused: ${DISKS[3]} is neither blank nor a slicepool member \(blocks 0-1 hold other data; wipe the device first\)$"
ktap_check "the refused device was not written (blocks 0 and 1 as they were)" \
	[ "$(dd if="${DISKS[3]}" bs=4096 count=2 iflag=direct status=none | sha256sum)" = \
	  "$( (head -c 4096 /dev/zero; cat "$W/junk") | sha256sum)" ]
ktap_finish
