#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# revalidate_size refusals and growth, on a member that is a dm-linear
# device of 32 MiB (27 slices of 1 MiB after the 5 MiB of metadata format
# 3): a value other than 1 is refused with EINVAL and a kernel log line
# naming it; the same size is accepted and writes nothing (the member's
# labels and journal stay as they were); a disabled member, a device
# shrunk below the member's data area and a failed member are refused,
# and change nothing.  Format 3 has no owner table, so no max_slices of
# format 2 (127 for one owner block) caps growth: a device grown to
# 200 MiB and then 300 MiB gives every whole slice of it (195, then 295;
# max_slices follows the device), each growth one transaction of the
# journal, with a log line.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

P=mgr
C=$SP_CFG/$P
M=$C/members/m0
DEV=/dev/mapper/spgrow
sp_start 1 10
mg_fresh
trap mg_cleanup EXIT

# md_sum: the sha256 of the member's metadata (labels and journal, its
# first 5 MiB): unchanged means nothing was written.
md_sum() {
	dd if=$DEV bs=1M count=5 iflag=direct status=none | sha256sum
}
# jhead: the seq of the winning journal head on the member, from the
# text of "slicepool inspect" (no python3: each costs seconds under TCG),
# or nothing.
jhead() {
	"$SP_TOP"/tools/slicepool/slicepool inspect $DEV 2> /dev/null |
		sed -n 's/^pool .*: format 3, .*, winner seq \([0-9]*\) hash [0-9a-f]*$/\1/p'
}
slices() { echo "$(cat "$M"/total_slices) $(cat "$M"/free_slices)"; }
# accepted "<total> <free> <max>": writing 1 succeeds and the member then
# has those slices.
accepted() {
	echo 1 > "$M"/revalidate_size &&
		[ "$(slices) $(cat "$M"/max_slices)" = "$1" ]
}
# grown "<total> <free> <max>" <head>: accepted, and the journal head is
# then <head> (one transaction, or none).
grown() {
	accepted "$1" && [ "$(jhead)" = "$2" ]
}

# refused "desc" errno-text "dmesg ERE" value: the write of value to
# revalidate_size fails with that error, logs a matching line and leaves
# the member's slices and its metadata on disk as they were.
refused() {
	local desc=$1 err=$2 pat=$3 val=$4 before out
	before="$(slices) $(md_sum)"
	kmsg_mark
	if out=$( { printf '%s\n' "$val" > "$M"/revalidate_size; } 2>&1 ); then
		ktap_fail "$desc (was accepted)"
	elif [[ $out != *"$err"* ]]; then
		ktap_fail "$desc (refused, but not with '$err': $out)"
	elif ! kmsg_has "$pat"; then
		ktap_fail "$desc (refused, but no kernel log line matching '$pat' since the mark)"
		kmsg_since | sed 's/^/# dmesg: /'
	elif [ "$(slices) $(md_sum)" != "$before" ]; then
		ktap_fail "$desc (refused, but slices or metadata changed: $before -> $(slices) $(md_sum))"
	else
		ktap_ok "$desc"
	fi
}

mg_linear $((32 << 11)) || sp_die "dm-linear of 32 MiB"
sp_pool $P 1
echo 1 > "$C"/min_domains
sp_member $P m0 $DEV dA
[ "$(slices) $(cat "$M"/data_offset)" = "27 27 $((5 << 20))" ] ||
	sp_die "unexpected geometry: $(slices) at $(cat "$M"/data_offset)"

g=$(jhead)
[ -n "$g" ] || sp_die "slicepool inspect cannot read the journal head of $DEV"
md=$(md_sum)
kmsg_mark
same() {
	grown "27 27 27" "$g" && [ "$(md_sum)" = "$md" ] &&
		kmsg_has "m0: $DEV is 65536 sectors: no new whole slice, 27 slices as before$"
}
ktap_check "same size: 1 is accepted, nothing changes, it says so and writes nothing" same

# Grown by 8 MiB: a wrongly accepted value would take the 8 new slices.
mg_linear $((40 << 11)) || sp_die "dm-linear of 40 MiB"
for v in 0 2 abc; do
	refused "revalidate_size '$v' is refused (EINVAL) and named" "Invalid argument" \
		"revalidate_size: invalid value '$v'" "$v"
done

echo 0 > "$M"/enable || sp_die "disable m0"
refused "a disabled member is refused" "Invalid argument" "m0: revalidate_size refused: the member is not enabled" 1
echo 1 > "$M"/enable || sp_die "enable m0 again"

# Shrunk below the data area (5 MiB + 27 slices = 32 MiB = 65536 sectors).
mg_linear $((16 << 11)) || sp_die "dm-linear of 16 MiB"
refused "a device smaller than the data area is refused, with both sizes" "Invalid argument" \
	"m0: revalidate_size refused: $DEV is now 32768 sectors, smaller than the member's data area of 65536 sectors \(27 slices\); nothing changed$" 1

# Past format 2's owner block (127 slices): 200 MiB has room for 195.
mg_linear $((200 << 11)) || sp_die "dm-linear of 200 MiB"
g=$(jhead)
kmsg_mark
ktap_check "grown to 200 MiB: accepted, every whole slice taken (195, 168 new free), one transaction" \
	grown "195 195 195" $((g + 1))
ktap_check "the growth is logged (27 to 195 slices, 409600 sectors)" \
	kmsg_has "m0: $DEV grew from 27 to 195 slices \(409600 sectors\)$"
g=$(jhead)
mg_linear $((300 << 11)) || sp_die "dm-linear of 300 MiB"
ktap_check "grown again to 300 MiB: accepted, 295 slices, one transaction" \
	grown "295 295 295" $((g + 1))

# A failed member (an I/O error through a volume on it) is refused.
sp_volume $P v 1M
sp_dm mgrv $P v
mg_linear error || sp_die "error table"
dd if=/dev/mapper/mgrv of=/dev/null bs=4096 count=1 iflag=direct status=none 2> /dev/null
[ "$(cat "$M"/state)" = failed ] || sp_die "m0 did not fail"
mg_linear $((400 << 11)) || sp_die "dm-linear of 400 MiB"
refused "a failed member is refused (EIO)" "Input/output error" "m0: revalidate_size refused: the member has failed" 1

ktap_finish
