#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# revalidate_size refusals and limits, on a member that is a dm-linear
# device of 32 MiB (31 slices of 1 MiB; one owner block, so max_slices is
# 127): a value other than 1 is refused with EINVAL and a kernel log line
# naming it; the same size is accepted and writes nothing (the superblock
# generation on disk stays); a disabled member, a device shrunk below the
# member's data area and a failed member are refused, and change nothing;
# a device grown past what the owner table describes gives exactly
# max_slices, with a log line saying so, and growing further changes
# nothing.
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2
. "$SP_TOP/selftests/lib/kmsg.sh"

P=mgr
C=$SP_CFG/$P
M=$C/members/m0
DEV=/dev/mapper/spgrow
sp_start 1 10
mg_fresh
trap mg_cleanup EXIT

# The superblock's generation on disk (bytes 288..295 of block 0); the
# blanks od puts before the number are cut by the shell (it runs often:
# each program costs much under TCG).
sb_gen() {
	local g
	g=$(dd if=$DEV bs=4096 count=1 iflag=direct status=none | od -An -tu8 -j288 -N8)
	echo "${g// /}"
}
slices() { echo "$(cat "$M"/total_slices) $(cat "$M"/free_slices)"; }
# accepted "<total> <free> <max>" <generation>: writing 1 succeeds, the
# member then has those slices and its superblock that generation.
accepted() {
	echo 1 > "$M"/revalidate_size &&
		[ "$(slices) $(cat "$M"/max_slices)" = "$1" ] && [ "$(sb_gen)" = "$2" ]
}

# refused "desc" errno-text "dmesg ERE" value: the write of value to
# revalidate_size fails with that error, logs a matching line and leaves
# the member's slices and its superblock on disk as they were.
refused() {
	local desc=$1 err=$2 pat=$3 val=$4 before out
	before="$(slices) $(sb_gen)"
	kmsg_mark
	if out=$( { printf '%s\n' "$val" > "$M"/revalidate_size; } 2>&1 ); then
		ktap_fail "$desc (was accepted)"
	elif [[ $out != *"$err"* ]]; then
		ktap_fail "$desc (refused, but not with '$err': $out)"
	elif ! kmsg_has "$pat"; then
		ktap_fail "$desc (refused, but no kernel log line matching '$pat' since the mark)"
		kmsg_since | sed 's/^/# dmesg: /'
	elif [ "$(slices) $(sb_gen)" != "$before" ]; then
		ktap_fail "$desc (refused, but slices or superblock changed: $before -> $(slices) $(sb_gen))"
	else
		ktap_ok "$desc"
	fi
}

mg_linear $((32 << 11)) || sp_die "dm-linear of 32 MiB"
sp_pool $P 1
echo 1 > "$C"/min_domains
sp_member $P m0 $DEV dA
[ "$(slices)" = "31 31" ] || sp_die "unexpected geometry: $(slices)"

g=$(sb_gen)
kmsg_mark
ktap_check "same size: 1 is accepted, nothing changes, the superblock is not written" \
	accepted "31 31 127" "$g"
echo "# $(kmsg_since | tail -n 1)"

# Grown by 8 MiB: a wrongly accepted value would take the 8 new slices.
mg_linear $((40 << 11)) || sp_die "dm-linear of 40 MiB"
for v in 0 2 abc; do
	refused "revalidate_size '$v' is refused (EINVAL) and named" "Invalid argument" \
		"revalidate_size: invalid value '$v'" "$v"
done

echo 0 > "$M"/enable || sp_die "disable m0"
refused "a disabled member is refused" "Invalid argument" "m0: revalidate_size refused: the member is not enabled" 1
echo 1 > "$M"/enable || sp_die "enable m0 again"

# Shrunk below the data area (1 MiB + 31 slices = 32 MiB = 65536 sectors).
mg_linear $((16 << 11)) || sp_die "dm-linear of 16 MiB"
refused "a device smaller than the data area is refused, with both sizes" "Invalid argument" \
	"m0: revalidate_size refused: .* is now 32768 sectors, smaller than the member's data area of 65536 sectors \(31 slices\)" 1

# Past what one owner block describes: 200 MiB has room for 199 slices.
mg_linear $((200 << 11)) || sp_die "dm-linear of 200 MiB"
kmsg_mark
ktap_check "grown past the owner table: accepted, capped at max_slices (127, 96 new free)" \
	accepted "127 127 127" $((g + 1))
ktap_check "the cap is logged (room for 199 slices, at most 127)" \
	kmsg_has 'has room for 199 slices; its owner table describes at most 127 \(max_slices\)'
g=$(sb_gen)
mg_linear $((300 << 11)) || sp_die "dm-linear of 300 MiB"
ktap_check "at max_slices, more growth is accepted and changes nothing (nothing written)" \
	accepted "127 127 127" "$g"

# A failed member (an I/O error through a volume on it) is refused.
sp_volume $P v 1M
sp_dm mgrv $P v
mg_linear error || sp_die "error table"
dd if=/dev/mapper/mgrv of=/dev/null bs=4096 count=1 iflag=direct status=none 2> /dev/null
[ "$(cat "$M"/state)" = failed ] || sp_die "m0 did not fail"
mg_linear $((400 << 11)) || sp_die "dm-linear of 400 MiB"
refused "a failed member is refused (EIO)" "Input/output error" "m0: revalidate_size refused: the member has failed" 1

ktap_finish
