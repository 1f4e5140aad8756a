#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Measured load: a fio job reading one member directly (outside the pool)
# raises that member's load (and its domain's), the next allocation prefers
# the other domain, an override pins the load and "auto" releases it, and
# the load decays once the job stops.
. "$(dirname "$0")/lib.sh"

sp_start 2 8 fio
sp_wipe "${DISKS[@]:0:2}"

P=pl
C=$SP_CFG/$P
sp_pool_by_load $P 4
echo 1 > "$C"/min_domains
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sleep 3
ktap_check "idle members start near 0 (m0=$(cat "$C"/members/m0/load) m1=$(cat "$C"/members/m1/load))" \
	[ "$(cat "$C"/members/m0/load)" -le 10 -a "$(cat "$C"/members/m1/load)" -le 10 ]

# The load is sampled every second (a member busy all the time shows 25,
# 43, 58, ... : Documentation/dm-slicepool.rst, Load): it is read every
# half second until m0's is 20 above m1's, for at most 15 s (a loaded host
# keeps fio from saturating m0: its load may stay below 50).  fio runs 20
# s, so the checks below have at least 5 s with it still busy.
fio --name=busy --filename="${DISKS[0]}" --readonly --direct=1 --ioengine=libaio \
	--iodepth=16 --rw=randread --bs=4k --offset=16M --size=512M \
	--time_based --runtime=20 --output=/dev/null &
fio_pid=$!
t0=$SECONDS
while :; do
	sleep 0.5
	l0=$(cat "$C"/members/m0/load)
	l1=$(cat "$C"/members/m1/load)
	if [ "$l0" -gt $((l1 + 20)) ] || [ $((SECONDS - t0)) -ge 15 ]; then break; fi
done
echo "# after $((SECONDS - t0)) s of fio on m0: m0=$l0 m1=$l1"
ktap_check "busy member shows a higher load (m0=$l0 > m1=$l1 + 20)" [ "$l0" -gt $((l1 + 20)) ]
ktap_check "the domain load follows its member" \
	sh -c "awk '\$1 == \"dA\" { exit !(\$5 > 20) }' $C/domains"
# Three slices, with weight_load 100, split by 100 - load (Placement): at
# equal loads the odd slice goes to the lower id, m0 (2 and 1); with m0's
# load above m1's by any amount it goes to m1 (1 and 2), so the check
# holds whatever the load reached and fails without the measurement.
sp_volume $P v 12M
ktap_check "allocation prefers the idle member (m0=$(sp_map_count $P v m0) m1=$(sp_map_count $P v m1))" \
	[ "$(sp_map_count $P v m1)" -eq 2 ]
echo 10 > "$C"/members/m0/load_override
ktap_check "override pins the load" [ "$(cat "$C"/members/m0/load)" -eq 10 ]
echo auto > "$C"/members/m0/load_override
ktap_check "auto releases it back to the measurement ($(cat "$C"/members/m0/load))" \
	[ "$(cat "$C"/members/m0/load_override)" = auto -a "$(cat "$C"/members/m0/load)" -gt 20 ]
wait $fio_pid
rc=$?
if [ $rc -eq 0 ]; then
	ktap_ok "fio job finished (exit 0)"
else
	ktap_fail "fio job finished (exit $rc)"
fi
# From 94 (busy for 10 s) the load is below 15 after 7 samples: read
# every half second, for at most 14 s.
t0=$SECONDS
while :; do
	sleep 0.5
	l0=$(cat "$C"/members/m0/load)
	if [ "$l0" -lt 15 ] || [ $((SECONDS - t0)) -ge 14 ]; then break; fi
done
ktap_check "load decays after the job ends (m0=$l0 after $((SECONDS - t0)) s)" [ "$l0" -lt 15 ]
sp_unload
ktap_finish
