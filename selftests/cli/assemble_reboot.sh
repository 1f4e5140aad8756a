#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble after a full guest reboot: boot 1 builds a pool of
# three members with two volumes full of random data and asks for a
# reboot (exit 75) without stopping anything; boot 2 runs a plain
# 'slicepool assemble' (scanning /proc/partitions) and checks the pool,
# the maps and the data.
. "$(dirname "$0")/lib.sh"

sp_disks 4
[ -n "${SP_ARTIFACTS:-}" ] || sp_skip "needs SP_ARTIFACTS to keep state across the reboot"
STATE=$SP_ARTIFACTS/cli-assemble-reboot
P=rb

if [ "${SP_BOOT:-1}" -eq 1 ]; then
	sp_load
	sp_teardown
	sp_wipe "${DISKS[@]}"
	pool3 $P --slice-mb 4 --min-domains 3
	sp vol create $P/v1 --size 20M || sp_die "vol create v1"
	sp vol create $P/v2 --size 8M || sp_die "vol create v2"
	fill /dev/mapper/rb-v1 20
	fill /dev/mapper/rb-v2 8
	mkdir -p "$STATE"
	sum_dev /dev/mapper/rb-v1 20 > "$STATE/sum1"
	sum_dev /dev/mapper/rb-v2 8 > "$STATE/sum2"
	cat "$SP_CFG/$P/volumes/v1/map" > "$STATE/map1"
	cat "$SP_CFG/$P/volumes/v2/map" > "$STATE/map2"
	attr $P/uuid > "$STATE/uuid"
	sync
	echo "# boot 1: pool $P built, asking for a reboot"
	exit 75
fi

ktap_header
ktap_plan 7
ktap_check "the guest rebooted (boot $SP_BOOT)" test "$SP_BOOT" -eq 2
sp_load
sp_rc 0 "slicepool assemble after the reboot" --json assemble
ktap_check "... reports pool rb with three members and two volumes" \
	json 'any(p["name"] == "rb" and len(p["members"]) == 3 and sorted(v["name"] for v in p["volumes"]) == ["v1", "v2"] for p in d["pools"])'
ktap_check "pool rb is back with its UUID" \
	test "$(attr $P/uuid)" = "$(cat "$STATE/uuid")"
ktap_check "maps are unchanged" \
	test "$(cat "$SP_CFG/$P/volumes/v1/map")" = "$(cat "$STATE/map1")" -a \
	"$(cat "$SP_CFG/$P/volumes/v2/map")" = "$(cat "$STATE/map2")"
ktap_check "v1's data survived the reboot" \
	test "$(sum_dev /dev/mapper/rb-v1 20)" = "$(cat "$STATE/sum1")"
ktap_check "v2's data survived the reboot" \
	test "$(sum_dev /dev/mapper/rb-v2 8)" = "$(cat "$STATE/sum2")"
sp pool remove --unbind $P
sp_teardown
ktap_finish
