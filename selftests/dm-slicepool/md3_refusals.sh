#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Refusals around pools of metadata format 3, each with its errno and a
# log line naming the value or the operation: bad metadata_format values
# and 2 (format 2 is no longer supported: EINVAL, naming 'slicepool
# upgrade'), before and after a member is enabled, a bad value for a
# member's remove, a resize, a migration and a settings change while a
# current member is disabled (until it is enabled again), a device of a
# format-2 pool (the fixture selftests/fixtures/fmt2, made by the
# format-2 module: EMEDIUMTYPE, naming the member, the device and
# 'slicepool upgrade', the device not written), and a device that is
# neither blank nor a member.  reclaim is accepted and frees nothing.
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
	"slicepool: $P: metadata_format: invalid value '4' \(only 3\)$"
refused "metadata_format 3x" "$C"/metadata_format 3x EINVAL \
	"slicepool: $P: metadata_format: invalid value '3x' \(only 3\)$"
refused "an empty metadata_format" "$C"/metadata_format $'\n' EINVAL \
	"slicepool: $P: metadata_format: invalid value '' \(only 3\)$"
F2LINE="slicepool: $P: metadata_format 2 is no longer supported \(only 3\); convert a format-2 pool offline with 'slicepool upgrade'$"
refused "metadata_format 2" "$C"/metadata_format 2 EINVAL "$F2LINE"
ktap_check "metadata_format is still 3 (the default) after the refusals" \
	[ "$(cat "$C"/metadata_format)" = 3 ]
ktap_check "metadata_format 3 is accepted (nothing to do)" [ "$(werr "$C"/metadata_format 3)" = OK ]
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
refused "metadata_format 2 with members enabled" "$C"/metadata_format 2 EINVAL "$F2LINE"
ktap_check "... the pool still reads 3 and both members stay enabled" \
	[ "$(cat "$C"/metadata_format)" = 3 -a "$(cat "$C"/members/m0/enable)" = 1 -a \
	  "$(cat "$C"/members/m1/enable)" = 1 ]
ktap_check "metadata_format 3 with members enabled is accepted" [ "$(werr "$C"/metadata_format 3)" = OK ]

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

# A device of a format-2 pool: member m0 of the fixture made by the
# format-2 module.  Refused, named, and left as it was.
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
xz -dc "$SP_TOP"/selftests/fixtures/fmt2/m0.img.xz > "$W/f2.img" ||
	sp_die "cannot decompress the format-2 fixture"
dd if="$W/f2.img" of="${DISKS[3]}" bs=1M oflag=direct status=none ||
	sp_die "format-2 fixture onto ${DISKS[3]}"
f2sum=$(dd if="${DISKS[3]}" bs=1M count=16 iflag=direct status=none | sha256sum)
mkdir "$SP_CFG"/g3 "$SP_CFG"/g3/members/z || sp_die "mkdir g3"
echo "${DISKS[3]}" > "$SP_CFG"/g3/members/z/path
echo dZ > "$SP_CFG"/g3/members/z/domain
refused "a format-2 member" "$SP_CFG"/g3/members/z/enable 1 EMEDIUMTYPE \
	"device-mapper: slicepool: z: refused: ${DISKS[3]} holds metadata format 2, which is no longer supported: convert its pool offline with 'slicepool upgrade' \(every member of it at once\); nothing changed$"
ktap_check "... z is not enabled and the pool has no volume" \
	[ "$(cat "$SP_CFG"/g3/members/z/enable)" = 0 -a ! -s "$SP_CFG"/g3/discovered ]
ktap_check "... and the device was not written (its 16 MiB as the fixture's)" \
	[ "$(dd if="${DISKS[3]}" bs=1M count=16 iflag=direct status=none | sha256sum)" = "$f2sum" -a \
	  "$(sha256sum < "$W/f2.img")" = "$f2sum" ]
sp_wipe "${DISKS[3]}"
head -c 4096 /dev/urandom > "$W/junk"
dd if="$W/junk" of="${DISKS[3]}" bs=4096 seek=1 oflag=direct status=none ||
	sp_die "garbage in block 1"
refused "a device with other data in block 1" "$SP_CFG"/g3/members/z/enable 1 EILSEQ \
	"z: refused: ${DISKS[3]} is neither blank nor a slicepool member \(blocks 0-1 hold other data; wipe the device first\)$"
ktap_check "the refused device was not written (blocks 0 and 1 as they were)" \
	[ "$(dd if="${DISKS[3]}" bs=4096 count=2 iflag=direct status=none | sha256sum)" = \
	  "$( (head -c 4096 /dev/zero; cat "$W/junk") | sha256sum)" ]
ktap_finish
