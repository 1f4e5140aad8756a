#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A crash during an operation, then reassembling, on metadata format 3:
# nothing leaks and no live slice is freed.  A crash is simulated by
# putting back a member's metadata area (labels and journal, everything
# before data_offset) as it was before the operation: what a power cut
# leaves when that member's copy of the commit was not yet durable.
#  - expand, crash before its commit reached any member: the old size and
#    map win, and the slices it took are free at once (format 3 keeps no
#    owner records, so there are no orphans to reclaim); a new expand
#    takes them, "reclaim" frees nothing (no live slice), and the map
#    survives a reassembly;
#  - shrink, crash after its commit reached m1 but not m0: the shrunk
#    size wins (m0 is caught up), the map is the committed head of the
#    old one, the released slices are free at once and "reclaim" frees
#    nothing.
# (Format 2's fail_before_commit hook does not exist in format 3.)
. "$(dirname "$0")/lib.sh"

sp_disks 2
ktap_header
ktap_plan 11
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:2}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
C=$SP_CFG/cr

assemble() {
	sp_pool cr
	sp_member cr m0 "${DISKS[0]}" dA
	sp_member cr m1 "${DISKS[1]}" dB
}
free_total() {
	echo $(( $(cat "$C"/members/m0/free_slices) + $(cat "$C"/members/m1/free_slices) ))
}
# md save|restore MEMBER...: the metadata area (the MiBs before data_offset)
# of each member's disk, to or from $W.
md() {
	local op=$1 i
	shift
	for i in "$@"; do
		if [ "$op" = save ]; then
			dd if="${DISKS[$i]}" of="$W/md.$i" bs=1M count=$((DOFF >> 20)) \
				iflag=direct status=none || sp_die "save metadata of m$i"
		else
			dd if="$W/md.$i" of="${DISKS[$i]}" bs=1M oflag=direct conv=notrunc \
				status=none || sp_die "restore metadata of m$i"
		fi
	done
}
# reclaim_nothing FREE: "reclaim" frees no slice and free stays FREE.
reclaim_nothing() {
	echo 1 > "$C"/reclaim &&
		[ "$(cat "$C"/reclaimed)" -eq 0 ] && [ "$(free_total)" -eq "$1" ]
}

sp_pool cr 4
sp_member cr m0 "${DISKS[0]}" dA
sp_member cr m1 "${DISKS[1]}" dB
DOFF=$(cat "$C"/members/m0/data_offset)
[ "$DOFF" = "$(cat "$C"/members/m1/data_offset)" ] || sp_die "data offsets differ"
sp_volume cr v 16M
F0=$(free_total)
map16=$(cat "$C"/volumes/v/map)

# Expand; crash before its commit reached any member.
md save 0 1
echo 32M > "$C"/volumes/v/size || sp_die "expand"
[ "$(free_total)" -eq $((F0 - 4)) ] || sp_die "the expand took $((F0 - $(free_total))) slices"
sp_teardown
md restore 0 1
assemble
ktap_check "after the crash the committed size wins (v 16M listed)" \
	grep -qx "v [^ ]* $((16 << 20))" "$C"/discovered
ktap_check "the 4 slices of the lost expand are free at once ($(free_total) free, $F0 before)" \
	[ "$(free_total)" -eq "$F0" ]
mkdir "$C"/volumes/v
ktap_check "the map is the committed one (4 slices)" [ "$(cat "$C"/volumes/v/map)" = "$map16" ]
echo 32M > "$C"/volumes/v/size || sp_die "expand again"
ktap_check "a new expand takes 4 free slices" [ "$(free_total)" -eq $((F0 - 4)) ]
ktap_check "reclaim frees nothing (no orphan, no live slice)" reclaim_nothing $((F0 - 4))
cp_map=$(cat "$C"/volumes/v/map)
sp_teardown
assemble
mkdir "$C"/volumes/v
ktap_check "after reclaim and reassembly the map is intact (8 slices)" \
	[ "$(cat "$C"/volumes/v/map)" = "$cp_map" -a "$(wc -l <<< "$cp_map")" -eq 8 ]

# Shrink; crash after its commit reached m1 but not m0.
md save 0
echo 16M > "$C"/volumes/v/size || sp_die "shrink"
ktap_check "shrink freed 4 slices" [ "$(free_total)" -eq "$F0" ]
sp_teardown
md restore 0
assemble
ktap_check "after the crash the shrunk size wins" \
	grep -qx "v [^ ]* $((16 << 20))" "$C"/discovered
ktap_check "the released slices are free at once (no orphans)" [ "$(free_total)" -eq "$F0" ]
mkdir "$C"/volumes/v
ktap_check "the map is the first 4 slices of the one before the shrink" \
	[ "$(cat "$C"/volumes/v/map)" = "$(head -n 4 <<< "$cp_map")" ]
ktap_check "reclaim frees nothing" reclaim_nothing "$F0"
sp_unload
ktap_finish
