#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Crash points of the commit protocol, then reassembling:
#  - expand, stopped after the owner records but before any volume record
#    (the module's test hook fail_before_commit): the old size wins, the
#    new slices are orphans, never reused by a later expand, and "reclaim"
#    frees them;
#  - shrink, crash after the volume record but before the owner records
#    were cleared (simulated by restoring the owner table saved before the
#    shrink): the new size wins, the released slices are orphans and
#    "reclaim" frees them.
. "$(dirname "$0")/lib.sh"
# Written for metadata format 2 (sp_pin_format in selftests/lib/pool.sh).
export SP_POOL_FORMAT=2

sp_disks 2
ktap_header
ktap_plan 10
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:2}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

assemble() {
	sp_pool cr
	sp_member cr m0 "${DISKS[0]}" dA
	sp_member cr m1 "${DISKS[1]}" dB
}
free_total() {
	echo $(( $(cat "$SP_CFG"/cr/members/m0/free_slices) + $(cat "$SP_CFG"/cr/members/m1/free_slices) ))
}
# save|restore <what> <first block> <count>
blocks() {
	local i
	for i in 0 1; do
		if [ "$1" = save ]; then
			dd if="${DISKS[$i]}" of="$W/$2.$i" bs=4096 skip="$3" count="$4" iflag=direct status=none
		else
			dd if="$W/$2.$i" of="${DISKS[$i]}" bs=4096 seek="$3" count="$4" oflag=direct conv=notrunc status=none
		fi
	done
}

sp_pool cr 4
sp_member cr m0 "${DISKS[0]}" dA
sp_member cr m1 "${DISKS[1]}" dB
sp_volume cr v 16M
F0=$(free_total)

# Expand, stopped before its volume records.
echo 1 > /sys/module/dm_slicepool/parameters/fail_before_commit
echo 32M > "$SP_CFG"/cr/volumes/v/size 2>/dev/null && sp_die "the hook did not fire"
sp_teardown
assemble
ktap_check "after the crash the committed size wins (v 16M listed)" \
	grep -q "^v .* $((16 << 20))$" "$SP_CFG"/cr/discovered
ktap_check "the 4 uncommitted slices are orphans (still allocated)" [ "$(free_total)" -eq $((F0 - 4)) ]
mkdir "$SP_CFG"/cr/volumes/v
ktap_check "the map is the committed one (4 slices)" [ "$(wc -l < "$SP_CFG"/cr/volumes/v/map)" -eq 4 ]
# Expanding again must not take the orphans (a slice is never owned twice).
echo 32M > "$SP_CFG"/cr/volumes/v/size || sp_die "expand again"
ktap_check "a new expand takes other slices" [ "$(free_total)" -eq $((F0 - 8)) ]
echo 1 > "$SP_CFG"/cr/reclaim
ktap_check "reclaim frees exactly the 4 orphans" \
	[ "$(cat "$SP_CFG"/cr/reclaimed)" -eq 4 -a "$(free_total)" -eq $((F0 - 4)) ]
cp_map=$(cat "$SP_CFG"/cr/volumes/v/map)
sp_teardown
assemble
mkdir "$SP_CFG"/cr/volumes/v
ktap_check "after reclaim and reassembly the map is intact (8 slices)" \
	[ "$(cat "$SP_CFG"/cr/volumes/v/map)" = "$cp_map" ]
# Shrink, then "crash" before the owner records were cleared.
blocks save own 17 3
echo 16M > "$SP_CFG"/cr/volumes/v/size || sp_die "shrink"
ktap_check "shrink freed 4 slices" [ "$(free_total)" -eq "$F0" ]
sp_teardown
blocks restore own 17 3
assemble
ktap_check "after the crash the shrunk size wins" grep -q "^v .* $((16 << 20))$" "$SP_CFG"/cr/discovered
ktap_check "the released slices are orphans until reclaim" [ "$(free_total)" -eq $((F0 - 4)) ]
echo 1 > "$SP_CFG"/cr/reclaim
ktap_check "reclaim frees them ($(cat "$SP_CFG"/cr/reclaimed))" \
	[ "$(cat "$SP_CFG"/cr/reclaimed)" -eq 4 -a "$(free_total)" -eq "$F0" ]
sp_unload
ktap_finish
