#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A pool on metadata format 3 (the pool's metadata_format attribute,
# Documentation/dm-slicepool.rst): blank members get v3 labels (the first
# creates the pool, the others are added), a volume is created and
# written, and the members the kernel wrote are a valid v3 pool for the
# tool ("slicepool inspect", a nowrite assembly) with the same map.  After
# a guest reboot the members are enabled again: the pool stays read-only
# and publishes no volume until every member is back, then it is
# read-write, "discovered" lists the volume, and its map and data are
# unchanged.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$SP_TOP/selftests/lib/json.sh"

SPT=$SP_TOP/tools/slicepool/slicepool
sp_disks 3
ST=$SP_ARTIFACTS/md3-pool-reboot
ktap_header

# members: enable m0..m2 on the first three disks (domains dA, dB, dC).
members() {
	sp_member p3 m0 "${DISKS[0]}" dA
	sp_member p3 m1 "${DISKS[1]}" dB
	sp_member p3 m2 "${DISKS[2]}" dC
}

# slices_add_up: on m0..m2, the slices of v's map + free = total.
slices_add_up() {
	local m d
	for m in m0 m1 m2; do
		d=$SP_CFG/p3/members/$m
		[ $(($(sp_map_count p3 v $m) + $(cat "$d/free_slices"))) -eq \
			"$(cat "$d/total_slices")" ] || return 1
	done
}

# inspect_same WHEN: the tool's nowrite assembly of the three disks (the
# pool is torn down first) is read-write with all three in sync, and has
# volume v of 40 MiB with the map the module showed.
inspect_same() {
	local js=$ST/inspect.$1.json rc
	"$SPT" --json inspect "${DISKS[@]:0:3}" > "$js"
	rc=$?
	ktap_check "$1: slicepool inspect exits 0 on the members the kernel wrote" [ $rc -eq 0 ]
	ktap_check "$1: inspect sees one format-3 pool p3, verdict read-write, 3 devices in sync" \
		sp_json_holds "$js" "len(d['pools']) == 1 and d['pools'][0]['format'] == 3 and d['pools'][0]['name'] == 'p3' and d['pools'][0]['uuid'] == '$(cat "$ST/uuid")' and d['pools'][0]['verdict'] == 'read-write' and sorted(x['role'] for x in d['pools'][0]['devices']) == ['in-sync'] * 3"
	python3 - "$js" > "$ST/inspect.$1.map" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for v in d['pools'][0]['volumes']:
    if v['name'] == 'v' and v['size'] == 40 << 20:
        for s in v['map']:
            print(s['logical'], s['member'], s['physical'])
PYEOF
	ktap_check "$1: inspect gives volume v (40 MiB) the module's map ($(wc -l < "$ST/map") slices)" \
		[ -s "$ST/map" -a "$(cat "$ST/inspect.$1.map")" = "$(cat "$ST/map")" ]
}

case ${SP_BOOT:-1} in
1)
	ktap_plan 9
	mkdir -p "$ST"
	sp_load
	sp_teardown
	sp_wipe "${DISKS[@]:0:3}"
	sp_pool p3 8
	ktap_check "a new pool's metadata_format is 3 (the default)" \
		[ "$(cat "$SP_CFG"/p3/metadata_format)" = 3 ]
	echo 3 > "$SP_CFG"/p3/metadata_format || sp_die "metadata_format 3"
	ktap_check "metadata_format reads 3 after writing 3 (accepted, nothing to do)" \
		[ "$(cat "$SP_CFG"/p3/metadata_format)" = 3 ]
	kmsg_mark
	members
	ktap_check "m0 formatted the new pool in format 3 as member 0" \
		[ "$(kmsg_count 'm0: /dev/[a-z]+ formatted \(metadata format 3\) for new pool p3: member 0, [0-9]+ slices$')" -eq 1 ]
	ktap_check "m1 and m2 were added as members 1 and 2" \
		[ "$(kmsg_count 'm[12]: /dev/[a-z]+ added to pool p3 \(metadata format 3\): member [12], [0-9]+ slices$')" -eq 2 ]
	sp_volume p3 v 40M
	sp_dm p3v p3 v
	sp_fill /dev/mapper/p3v 40
	sp_record_volume p3 v /dev/mapper/p3v "$ST"
	ktap_check "volume v spans 3 members" \
		[ "$(awk '{print $2}' "$ST/map" | sort -u | wc -l)" -eq 3 ]
	ktap_check "on each member the volume's slices + free_slices = total_slices" \
		slices_add_up
	sp_unload
	inspect_same "before the reboot"
	sync
	[ "$KTAP_FAIL" -eq 0 ] || ktap_finish
	echo "# rebooting the guest (SP_BOOT=2 checks the reassembly)"
	exit 75
	;;
2)
	ktap_plan 13
	sp_load
	sp_pool p3
	kmsg_mark
	sp_member p3 m0 "${DISKS[0]}" dA
	ktap_check "with one of three members the pool says it is read-only" \
		[ "$(kmsg_count 'm0: /dev/[a-z]+ adopted into pool p3: member 0; the pool is read-only until every current member is enabled$')" -eq 1 ]
	ktap_check "a read-only pool publishes no volume (discovered is empty)" \
		[ ! -s "$SP_CFG"/p3/discovered ]
	sp_member p3 m1 "${DISKS[1]}" dB
	kmsg_mark
	sp_member p3 m2 "${DISKS[2]}" dC
	ktap_check "with every member back the pool is read-write" \
		[ "$(kmsg_count 'm2: /dev/[a-z]+ adopted into pool p3: member 2; the pool is read-write$')" -eq 1 ]
	sp_check_recorded reboot p3 v p3v "$ST"
	sp_unload
	inspect_same "after the reboot"
	;;
esac
ktap_finish
