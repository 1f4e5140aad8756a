#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Shrink and delete keep the old map until they are done with it: a
# volume spread over three members is expanded and shrunk many times,
# then deleted.  Each shrink publishes the shorter map, waits for the
# readers of the old one, and then clears the released slices' owner
# records, member by member, from the old map.  The old map was freed by
# kvfree_rcu() at the publish, so the clearing read freed memory: with
# the guests' slub_debug poisoning, a general protection fault in
# sp_volume_shrink (seen in remote-flow/heartbeat.sh, where the agent
# shrinks a lent volume).  kvfree_rcu() frees in batches, so the window
# is made wide here: the members are dm-delay devices whose writes and
# flushes take 40 ms (each commit after the publish takes that long), and
# a background loop writes 2 to /proc/sys/vm/drop_caches, whose slab
# shrinkers make kvfree_rcu() drain its batch at once.  The runner fails
# the test on any oops.
. "$(dirname "$0")/lib.sh"

CYCLES=${SP_SHRINK_CYCLES:-12}
sp_start 3 5
DROP=""
cleanup() {
	[ -z "$DROP" ] || kill "$DROP" 2>/dev/null
	sp_teardown
	dmsetup remove --retry sc-0 sc-1 sc-2 2>/dev/null
}
trap cleanup EXIT
for i in 0 1 2; do
	len=$(blockdev --getsz "${DISKS[i]}")
	dmsetup create "sc-$i" --table "0 $len delay ${DISKS[i]} 0 0 ${DISKS[i]} 0 40" ||
		sp_die "dm-delay over ${DISKS[i]}"
done
dmsetup mknodes sc-0 sc-1 sc-2
sp_wipe /dev/mapper/sc-0 /dev/mapper/sc-1 /dev/mapper/sc-2

P=sc
C=$SP_CFG/$P
sp_pool $P 4
sp_member $P m0 /dev/mapper/sc-0 dA
sp_member $P m1 /dev/mapper/sc-1 dB
sp_member $P m2 /dev/mapper/sc-2 dC
# free_sum: the free slices of the pool's three members
free_sum() {
	echo $(( $(cat "$C"/members/m0/free_slices) + $(cat "$C"/members/m1/free_slices) + $(cat "$C"/members/m2/free_slices) ))
}
# spread3: the map has slices on all three members, so in all three
# domains (each member has its own); one program where sp_map_domains
# starts eight, in every cycle.
spread3() {
	awk '$2 != "-" && !($2 in m) { m[$2]; n++ } END { exit n != 3 }' "$C"/volumes/v/map
}
free0=$(free_sum)
sp_volume $P v 8M
ktap_check "a volume of 2 slices" [ "$(wc -l < "$C"/volumes/v/map)" -eq 2 ]

ok=0 spread=0
while :; do echo 2 > /proc/sys/vm/drop_caches; sleep 0.02; done &
DROP=$!
for c in $(seq 1 "$CYCLES"); do
	echo 48M > "$C"/volumes/v/size || break
	spread3 && spread=$((spread + 1))
	echo 8M > "$C"/volumes/v/size || break
	[ "$(wc -l < "$C"/volumes/v/map)" -eq 2 ] || break
	ok=$c
done
kill "$DROP"
wait "$DROP" 2>/dev/null
DROP=""
ktap_check "$CYCLES expands to 48M and shrinks to 8M all accepted ($ok done)" \
	[ "$ok" -eq "$CYCLES" ]
ktap_check "every expanded map spanned the three members ($spread of $CYCLES)" \
	[ "$spread" -eq "$CYCLES" ]
ktap_check "after the cycles the pool has 2 slices in use ($((free0 - $(free_sum))))" \
	[ $((free0 - $(free_sum))) -eq 2 ]
echo 0 > "$C"/volumes/v/size
ktap_check "delete returns every slice ($(free_sum) of $free0 free)" [ "$(free_sum)" -eq "$free0" ]

sp_teardown
dmsetup remove --retry sc-0 sc-1 sc-2
trap - EXIT
modprobe -r dm-slicepool
ktap_finish
