#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bad input is refused with a clear error: configfs writes out of range, of
# the wrong type or while enabled, duplicate devices, removal of objects in
# use, malformed table lines, unknown and malformed messages, a pool with no
# space, a device that is too small, and corrupt metadata (a checkpoint
# with a bad checksum, foreign data where the labels go), on metadata
# format 3.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
ktap_header
ktap_plan 47
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

C=$SP_CFG
# refused "desc" "dmesg pattern" cmd...: cmd must fail and log a line
# matching the pattern (ERE) between a mark before it and one after it.
# The log is read once, by refused_check, for all the refusals made so
# far (kmsg_try, kmsg_tried: reading it costs several programs, much under
# TCG, for each of 40 refusals); each is judged on its own part of the log.
refused() {
	kmsg_try "$@"
}
# judge_refused DESC PATTERN ACCEPTED [LOG]: one refusal's checks.
judge_refused() {
	if [ "$3" = 1 ]; then
		ktap_fail "$1 (was accepted)"
	elif [ -z "$2" ]; then
		ktap_ok "$1"
	elif [ $# -lt 4 ]; then
		ktap_fail "$1 (refused, but its marks are not in the kernel log)"
	elif ! grep -Eq -- "$2" <<< "$4"; then
		ktap_fail "$1 (refused, but no kernel log line matching '$2' after its mark)"
		printf '%s\n' "$4" | sed 's/^/# dmesg: /'
	else
		ktap_ok "$1"
	fi
}
refused_check() {
	kmsg_tried judge_refused
}
w() { echo "$2" > "$1"; }

ktap_expect_fail "pool name with a space refused" mkdir "$C/bad name"
ktap_expect_fail "pool name longer than 32 chars refused" mkdir "$C/$(printf 'p%.0s' {1..33})"
sp_pool bi 4
refused "slice_mb 'abc' (wrong type)" "slice_mb: not a number" w "$C"/bi/slice_mb abc
refused "slice_mb 0 (out of range)" "slice_mb: 0 is out of range" w "$C"/bi/slice_mb 0
refused "weight_space 101" "out of range" w "$C"/bi/weight_space 101
refused "weight_load -1" "not a number" w "$C"/bi/weight_load -1
refused "min_domains 0" "out of range" w "$C"/bi/min_domains 0
refused "min_domains 4097" "out of range" w "$C"/bi/min_domains 4097
refused "reclaim 2" "reclaim .1 or all.: 2 is out of range" w "$C"/bi/reclaim 2
refused "reclaim yes" "reclaim .1 or all.: not a number: 'yes'" w "$C"/bi/reclaim yes
w "$C"/bi/weight_load 0
refused "weight_space 0 while weight_load is 0" "cannot both be 0" w "$C"/bi/weight_space 0
w "$C"/bi/weight_load 50

mkdir "$C"/bi/members/m0
refused "enable without a path" "set path" w "$C"/bi/members/m0/enable 1
w "$C"/bi/members/m0/path "${DISKS[0]}"
refused "enable without a domain" "set domain" w "$C"/bi/members/m0/enable 1
refused "domain 'bad label!'" "invalid domain label" w "$C"/bi/members/m0/domain 'bad label!'
refused "enable 2" "out of range" w "$C"/bi/members/m0/enable 2
refused "relative path" "not absolute" w "$C"/bi/members/m0/path dev/vdb
rmdir "$C"/bi/members/m0
sp_member bi m0 "${DISKS[0]}" dA
sp_member bi m1 "${DISKS[1]}" dB
refused "slice_mb while a member is enabled" "fixed once a member is enabled" w "$C"/bi/slice_mb 8
refused "path while enabled" "while enabled" w "$C"/bi/members/m0/path "${DISKS[2]}"
refused "domain while enabled" "while enabled" w "$C"/bi/members/m0/domain dZ
refused "load_override 101" "out of range" w "$C"/bi/members/m0/load_override 101
refused "load_override 'busy'" "not a number" w "$C"/bi/members/m0/load_override busy

mkdir "$C"/bi/members/dup
w "$C"/bi/members/dup/path "${DISKS[0]}"
w "$C"/bi/members/dup/domain dC
refused "the same device twice in one pool" "busy" w "$C"/bi/members/dup/enable 1
rmdir "$C"/bi/members/dup
mkdir "$C"/bi2 "$C"/bi2/members/x
w "$C"/bi2/members/x/path "${DISKS[1]}"
w "$C"/bi2/members/x/domain dA
refused "a device already in another pool" "busy" w "$C"/bi2/members/x/enable 1
rmdir "$C"/bi2/members/x "$C"/bi2

mkdir "$C"/bi/volumes/v
refused "volume size '12X'" "invalid size" w "$C"/bi/volumes/v/size 12X
refused "volume size not a multiple of 512" "not a multiple of 512" w "$C"/bi/volumes/v/size 1000
refused "a volume larger than the pool (no space)" "not enough free slices" w "$C"/bi/volumes/v/size 100G
refused "a volume of more than 2^31-1 slices" "is too large" w "$C"/bi/volumes/v/size 9000T
w "$C"/bi/volumes/v/size 16M || sp_die "size 16M"
S=$((16 << 11))

refused "table with too few arguments" "" dmsetup create bad --table "0 $S slicepool bi"
refused "table naming an unknown pool" "unknown pool 'nopool'" dmsetup create bad --table "0 $S slicepool nopool v"
refused "table naming an unknown volume" "no volume 'nov'" dmsetup create bad --table "0 $S slicepool bi nov"
refused "table longer than the volume" "does not match volume v size" dmsetup create bad --table "0 $((S + 8)) slicepool bi v"
refused "feature count not matching" "feature argument count" dmsetup create bad --table "0 $S slicepool bi v 2 ignore_discard"
refused "unknown feature" "unknown feature argument 'frobnicate'" dmsetup create bad --table "0 $S slicepool bi v 1 frobnicate"
dmsetup remove bad 2>/dev/null

sp_dm biv bi v
ktap_check "dmsetup table reproduces the table line" \
	[ "$(dmsetup table biv)" = "0 $S slicepool bi v" ]
dmsetup create biv2 --table "0 $S slicepool bi v 1 ignore_discard" || sp_die "biv2"
ktap_check "dmsetup table reproduces feature arguments" \
	[ "$(dmsetup table biv2)" = "0 $S slicepool bi v 1 ignore_discard" ]
dmsetup remove biv2
refused "unknown message" "unknown message 'frobnicate'" dmsetup message biv 0 frobnicate
refused "stats_reset with an argument" "takes no arguments" dmsetup message biv 0 stats_reset now
ktap_check "stats_reset accepted" dmsetup message biv 0 stats_reset

refused "rmdir of a volume used by a table" "" rmdir "$C"/bi/volumes/v
refused "rmdir of an enabled member" "" rmdir "$C"/bi/members/m0
refused "disable of a member holding slices" "holds slice" w "$C"/bi/members/m0/enable 0
refused "rmdir of a pool in use" "" rmdir "$C"/bi
refused "shrink below the live table" "in use by a table" w "$C"/bi/volumes/v/size 8M

# A device too small for metadata and one slice.
dmsetup create sptiny --table "0 2048 linear ${DISKS[2]} 0" || sp_die "dm-linear tiny"
mkdir "$C"/bi/members/tiny
w "$C"/bi/members/tiny/path /dev/mapper/sptiny
w "$C"/bi/members/tiny/domain dC
refused "a device that is too small" "tiny: refused: /dev/mapper/sptiny is too small \\(2048 sectors\\): it needs at least [0-9]+ sectors, for the metadata and one slice$" w "$C"/bi/members/tiny/enable 1
rmdir "$C"/bi/members/tiny
dmsetup remove sptiny

# Corrupt metadata: flip a byte in m1's checkpoint, the journal block
# its current label (the valid one of blocks 0 and 1 with the higher
# label_seq) names: journal_start + ckpt_block (le64 at bytes 72 and 104,
# label_seq at 64; Documentation/dm-slicepool-metadata.rst, "Label").
sp_teardown
dd if="${DISKS[1]}" of="$W/labels" bs=4096 count=2 iflag=direct status=none ||
	sp_die "read m1's labels"
# le64 BLOCK OFFSET: the le64 at OFFSET of label block BLOCK (0 or 1).
le64() { od -An -tu8 -j$(($1 * 4096 + $2)) -N8 "$W/labels" | tr -d ' '; }
lb=0
[ "$(le64 1 64)" -gt "$(le64 0 64)" ] && [ "$(dd if="$W/labels" bs=1 skip=$((4096 + 4)) count=4 status=none)" = SP3L ] && lb=1
ckpt=$(( $(le64 $lb 72) + $(le64 $lb 104) ))
echo "# m1: label $lb is current, its checkpoint is block $ckpt"
printf '\xff' | dd of="${DISKS[1]}" bs=1 seek=$((ckpt * 4096 + 100)) conv=notrunc status=none
sync
sp_pool re
sp_member re m0 "${DISKS[0]}" dA
mkdir "$C"/re/members/m1
w "$C"/re/members/m1/path "${DISKS[1]}"
w "$C"/re/members/m1/domain dB
refused "a checkpoint with a bad checksum" \
	"m1: refused: metadata of ${DISKS[1]} is unreadable: block $ckpt: the checkpoint the label names is unreadable$" \
	w "$C"/re/members/m1/enable 1
ktap_check "the corrupt member stays disabled" [ "$(cat "$C"/re/members/m1/state)" = disabled ]
rmdir "$C"/re/members/m1
# Not blank and not slicepool: refused, never formatted over.
echo "some filesystem" | dd of="${DISKS[2]}" bs=4096 conv=notrunc,sync status=none
sync
mkdir "$C"/re/members/m2
w "$C"/re/members/m2/path "${DISKS[2]}"
w "$C"/re/members/m2/domain dC
refused "a device with foreign data in block 0" \
	"m2: refused: ${DISKS[2]} is neither blank nor a slicepool member \\(blocks 0-1 hold other data; wipe the device first\\)$" \
	w "$C"/re/members/m2/enable 1
rmdir "$C"/re/members/m2

refused_check
sp_unload
ktap_finish
