#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A pool of more than 64 members (issue 14: at least 4,096 per pool).
# N - 1 small dm-linear members (7 MiB: the metadata and two 1 MiB
# slices each) carved from three test disks, in three failure domains,
# are enabled (the three disks set to write through for the test: each
# member add writes the journal of every member and flushes it, which
# under TCG took a minute for 64 members); a volume of N - 1 slices is
# placed one slice per member (equal workloads split it equally),
# written and read back with fsync, and its status lists every member
# online.  Then member N - 1 (index N - 1, past 64), the fourth disk
# alone (write back), is added after the table was loaded, takes slice
# 0 by migration without a reload, and an fsync'ed write to that slice
# flushes its disk (/sys/block/<dev>/stat field 16).  N is 70 in make
# check (SP_MEMBERS sets it; member adds cost O(N^2) block writes, see
# "Space cost" in Documentation/dm-slicepool-metadata.rst) and 300 in make
# check-full (SP_FULL=1).  Before the limit was lifted the 65th member
# was refused (ENOSPC, "pool mm already has 64 members").
. "$(dirname "$0")/lib.sh"

SP=$SP_TOP/tools/slicepool/slicepool
[ -x "$SP" ] || sp_die "$SP is not built (make -C tools/slicepool)"
PIECE_MB=7
PER_DISK=$(((1024 - 1) / PIECE_MB))	# pieces on one 1 GiB disk
if [ "${SP_FULL:-0}" = 1 ]; then
	N=${SP_MEMBERS:-300}
else
	N=${SP_MEMBERS:-70}
fi
if [ "$N" -le 65 ] || [ "$N" -gt $((3 * PER_DISK + 1)) ]; then
	sp_die "N=$N: between 66 and $((3 * PER_DISK + 1)) members"
fi
sp_start 4 8
P=mm
C=$SP_CFG/$P
DEV=/dev/mapper/$P-v
LAST=${DISKS[3]}
W=$(mktemp -d)
NAMES=()
WC=()
cleanup() {
	local i
	sp_unload
	[ ${#NAMES[@]} -eq 0 ] || dmsetup remove "${NAMES[@]}" 2> /dev/null
	for i in "${!WC[@]}"; do
		echo "${WC[i]}" > "/sys/block/$(basename "${DISKS[i]}")/queue/write_cache"
	done
	rm -rf "$W"
}
trap cleanup EXIT
t0=$SECONDS

# flushes DEVICE: flush requests the device completed.
flushes() {
	awk '{ print $16 }' "/sys/block/$(basename "$(readlink -f "$1")")/stat"
}
[ "$(cat "/sys/block/$(basename "$LAST")/queue/write_cache")" = "write back" ] ||
	sp_skip "$LAST has no volatile write cache: flushes are not counted"
for i in 0 1 2; do
	q=/sys/block/$(basename "${DISKS[i]}")/queue/write_cache
	WC[i]=$(cat "$q")
	echo "write through" > "$q" || sp_die "write through on ${DISKS[i]}"
done

# The pieces: piece i on disk i % 3 at (i / 3) * PIECE_MB MiB, their
# first 8 KiB (the labels) zeroed so that each is blank; one dmsetup for
# them all (each program costs much under TCG).
python3 - "$PIECE_MB" "$((N - 1))" "${DISKS[@]:0:3}" <<'EOF' || sp_die "wipe the pieces"
import os, sys
piece, n, disks = int(sys.argv[1]) << 20, int(sys.argv[2]), sys.argv[3:]
fds = [os.open(d, os.O_RDWR) for d in disks]
for i in range(n):
    os.pwrite(fds[i % 3], bytes(8192), (i // 3) * piece)
for fd in fds:
    os.fsync(fd)
EOF
sp_wipe "$LAST"
spec=""
for ((i = 0; i < N - 1; i++)); do
	NAMES+=("mm$i")
	spec+="mm$i,,,rw,0 $((PIECE_MB << 11)) linear ${DISKS[i % 3]} $(((i / 3) * (PIECE_MB << 11)));"
done
dmsetup create --concise "${spec%;}" || sp_die "dmsetup create the $((N - 1)) pieces"
dmsetup mknodes
echo "# $((N - 1)) pieces ready after $((SECONDS - t0)) s"

# Placement by space alone: every member has the same workload.
sp_pool $P 1
echo 100 > "$C"/weight_space || sp_die "weight_space"
echo 0 > "$C"/weight_load || sp_die "weight_load"
dirs=()
for ((i = 0; i < N - 1; i++)); do
	dirs+=("$C/members/m$i")
done
mkdir "${dirs[@]}" || sp_die "mkdir the members"
enabled=0
for ((i = 0; i < N - 1; i++)); do
	m=${dirs[i]}
	if ! { echo "/dev/mapper/mm$i" > "$m"/path &&
		echo "d$((i % 3))" > "$m"/domain && echo 1 > "$m"/enable; }; then
		break
	fi
	enabled=$((enabled + 1))
done
echo "# $enabled members enabled after $((SECONDS - t0)) s"
ktap_check "$((N - 1)) members are enabled in one pool" [ $enabled -eq $((N - 1)) ]
[ $enabled -eq $((N - 1)) ] || sp_die "member m$enabled refused: $(dmesg | tail -n 2)"

sp_volume $P v "$((N - 1))M"
sp_dm $P-v $P v
holders() { awk '$2 != "-" { print $2 }' "$C/volumes/v/map" | sort -u | wc -l; }
ktap_check "a volume of $((N - 1)) slices is placed one slice per member" \
	[ "$(holders)" -eq $((N - 1)) ]

head -c $(((N - 1) << 20)) /dev/urandom > "$W/data"
dd if="$W/data" of=$DEV bs=1M oflag=direct conv=fsync status=none ||
	sp_die "write the volume"
intact() { cmp -s "$W/data" <(dd if=$DEV bs=1M iflag=direct status=none); }
ktap_check "written with fsync and read back, over all $((N - 1)) members" intact
echo "# volume written and read back after $((SECONDS - t0)) s"

# status: ... <missing_slices> <#members> {<member>:<slices>:<state>}...
# online STATUS COUNT: no slice missing, COUNT members listed, each with
# one slice and online.
online() {
	read -r -a f <<< "$1"
	[ "${f[5]}" = 0 ] && [ "${f[6]}" = "$2" ] &&
		[ "$(printf '%s\n' "${f[@]:7:$2}" | grep -c '^m[a-z0-9]*:1:online$')" = "$2" ]
}
st=$(dmsetup status $P-v | cut -d' ' -f4-)
ktap_check "status lists the $((N - 1)) members, one slice each, online" \
	online "$st" $((N - 1))
echo "# status after $((SECONDS - t0)) s"

# Member N - 1 (index N - 1), after the table was loaded.
"$SP" member add $P last --path "$LAST" --domain dL > /dev/null ||
	sp_die "member add last"
table=$(dmsetup table $P-v)
ktap_check "member $((N - 1)) is added, and slice 0 migrates to it without a table reload" \
	"$SP" migrate $P/v --to last --slices 0
same() {
	[ "$(dmsetup table $P-v)" = "$table" ] &&
		[ "$(awk '$1 == 0 { print $2 }' "$C/volumes/v/map")" = last ] && intact
}
ktap_check "... the map puts slice 0 on it, the table is the same, the data is intact" same
head -c 4096 /dev/urandom > "$W/new"
# flushed: an fsync'ed write of block 0 (slice 0) flushes $LAST.
flushed() {
	local f0
	f0=$(flushes "$LAST")
	dd if="$W/new" of="$W/data" bs=4k count=1 conv=notrunc status=none &&
		dd if="$W/new" of=$DEV bs=4k count=1 oflag=direct conv=notrunc,fsync \
			status=none && [ "$(flushes "$LAST")" -gt "$f0" ]
}
ktap_check "an fsync'ed write to slice 0 flushes member $((N - 1))'s disk" flushed
ktap_check "... and the data is intact" intact
echo "# done after $((SECONDS - t0)) s"
ktap_finish
