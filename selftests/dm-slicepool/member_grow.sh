#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A member grows online: the member is a dm-linear device of 16 MiB
# (11 slices of 1 MiB after the 5 MiB of metadata format 3: two labels
# and a 4 MiB journal), full with volume v1.  Its table is reloaded to
# 32 MiB and "1" is written to revalidate_size: the member takes the 16
# new whole slices (27; max_slices is 27 too, the device's whole slices:
# format 3 has no owner table), they are free at once (configfs, the
# pool's domains and "slicepool pool list" count them), v1 expands onto
# one of them with its table live and a new volume v2 takes the other 15;
# every byte of both reads back.  The grown geometry and both volumes
# survive a module reload (the member enabled again by hand) and a guest
# reboot ("slicepool assemble", whose metadata reader must accept the
# grown member).
. "$(dirname "$0")/lib.sh"

sp_disks 1
ST=$SP_ARTIFACTS/dm-slicepool-member_grow
SPT=$SP_TOP/tools/slicepool/slicepool
P=mg
C=$SP_CFG/$P
M=$C/members/m0
DEV=/dev/mapper/spgrow
ktap_header

W=$(mktemp -d)
trap mg_cleanup EXIT

# The member's geometry: "<total> <free> <max> <size>".
geometry() {
	echo "$(cat "$M"/total_slices) $(cat "$M"/free_slices)" \
		"$(cat "$M"/max_slices 2> /dev/null) $(cat "$M"/size)"
}
sum() { dd if="$1" bs=1M iflag=direct status=none | sha256sum; }

# check_grown <when>: the grown geometry and both volumes, bound.
check_grown() {
	ktap_check "$1: the member has 27 slices, none free, max_slices 27" \
		[ "$(geometry)" = "27 0 27 $((32 << 20))" ]
	ktap_check "$1: v1 and v2 read back unchanged" \
		[ -b /dev/mapper/"$2"v2 -a \
		  "$(sum /dev/mapper/"$2"v1)" = "$(cat "$ST"/v1.sum)" -a \
		  "$(sum /dev/mapper/"$2"v2)" = "$(cat "$ST"/v2.sum)" ]
}

case ${SP_BOOT:-1} in
1)
	ktap_plan 13
	mkdir -p "$ST"
	sp_load
	sp_teardown
	mg_fresh
	mg_linear $((16 << 11)) || sp_die "dm-linear of 16 MiB"
	sp_pool $P 1
	echo 1 > "$C"/min_domains
	sp_member $P m0 $DEV dA
	[ "$(cat "$M"/total_slices) $(cat "$M"/data_offset)" = "11 $((5 << 20))" ] ||
		sp_die "unexpected geometry: $(cat "$M"/total_slices) slices at $(cat "$M"/data_offset)"
	# The data: v1's first 11 MiB, its 12th MiB, and v2.
	for f in v1:11 tail:1 v2:15; do
		dd if=/dev/urandom of="$W/${f%:*}" bs=1M count="${f#*:}" status=none ||
			sp_die "random data"
	done
	cat "$W"/v1 "$W"/tail | sha256sum > "$ST"/v1.sum
	sha256sum < "$W"/v2 > "$ST"/v2.sum
	sp_volume $P v1 11M
	sp_dm mgv1 $P v1
	dd if="$W"/v1 of=/dev/mapper/mgv1 bs=1M oflag=direct status=none || sp_die "fill v1"
	[ "$(cat "$M"/free_slices)" -eq 0 ] || sp_die "v1 did not take every slice"

	mg_linear $((32 << 11)) || sp_die "dm-linear of 32 MiB"
	echo "# after the reload, before revalidate_size: $(geometry)"
	ktap_check "revalidate_size 1 accepted" sh -c "echo 1 > $M/revalidate_size"
	ktap_check "total_slices grew by the 16 new whole slices (11 -> 27)" \
		[ "$(cat "$M"/total_slices)" -eq 27 ]
	ktap_check "the 16 new slices are free" [ "$(cat "$M"/free_slices)" -eq 16 ]
	ktap_check "max_slices is 27 (every whole slice of the device)" [ "$(cat "$M"/max_slices 2> /dev/null)" = 27 ]
	# data_offset + total * slice <= size < data_offset + (total + 1) * slice
	ktap_check "size is the device's 32 MiB and every whole slice of it is taken" \
		[ "$(cat "$M"/size)" -eq $((32 << 20)) -a \
		  $(( ($(cat "$M"/size) - $(cat "$M"/data_offset)) / (1 << 20) )) -eq "$(cat "$M"/total_slices)" ]
	ktap_check "domains shows dA with 27 slices, 16 free" \
		grep -q "^dA 1 27 16 " "$C"/domains
	ktap_check "slicepool pool list shows the pool with 27 slices, 16 free" \
		sh -c "$SPT --json pool list | python3 -c 'import json, sys
p = [p for p in json.load(sys.stdin)[\"pools\"] if p[\"name\"] == \"$P\"]
sys.exit(not (len(p) == 1 and p[0][\"total_slices\"] == 27 and p[0][\"free_slices\"] == 16))'"

	# v1 expands onto the new space with its table live, then v2.
	ktap_check "v1 expands by a slice (12M) with its table live" sh -c "echo 12M > $C/volumes/v1/size"
	mkdir "$C"/volumes/v2 || sp_die "mkdir v2"
	ktap_check "v2 (15M) is created on the last 15 free slices" sh -c "echo 15M > $C/volumes/v2/size"
	ktap_check "the new slices are physical 11..26: v1 logical 11 and all of v2" \
		[ "$(awk '$1 == 11 { print $3 }' "$C"/volumes/v1/map) $(awk '{ print $3 }' "$C"/volumes/v2/map 2> /dev/null | sort -n | tr '\n' ' ')" = \
		  "11 $(seq -s ' ' 12 26) " ]
	if dmsetup reload mgv1 --table "0 $((12 << 11)) slicepool $P v1"; then
		dmsetup resume mgv1 || sp_die "resume v1 at 12 MiB"
		dd if="$W"/tail of=/dev/mapper/mgv1 bs=1M seek=11 oflag=direct status=none ||
			echo "# writing v1's new slice failed"
	else
		echo "# v1's table cannot be reloaded at 12 MiB"
	fi
	if [ "$(cat "$C"/volumes/v2/size)" -gt 0 ]; then
		sp_dm mgv2 $P v2
		dd if="$W"/v2 of=/dev/mapper/mgv2 bs=1M oflag=direct status=none ||
			echo "# writing v2 failed"
	fi
	ktap_check "v1 (its first 11 MiB and the new slice) and v2 read back what was written" \
		[ -b /dev/mapper/mgv2 -a \
		  "$(sum /dev/mapper/mgv1)" = "$(cat "$ST"/v1.sum)" -a \
		  "$(sum /dev/mapper/mgv2)" = "$(cat "$ST"/v2.sum)" ]

	# Module reload: the member enabled again reads the grown geometry.
	sp_unload
	sp_load
	sp_pool $P
	sp_member $P m0 $DEV dA
	mkdir "$C"/volumes/v1 "$C"/volumes/v2 2> /dev/null
	sp_dm mgv1 $P v1
	[ "$(cat "$C"/volumes/v2/size)" -gt 0 ] && sp_dm mgv2 $P v2
	check_grown "module reload" mg
	sp_teardown
	sync
	[ "$KTAP_FAIL" -eq 0 ] || ktap_finish
	echo "# rebooting the guest (SP_BOOT=2 assembles with the tool)"
	exit 75
	;;
2)
	ktap_plan 3
	sp_load
	mg_linear $((32 << 11)) || sp_die "dm-linear of 32 MiB"
	if "$SPT" assemble $DEV > "$ST"/assemble.out 2>&1; then
		ktap_ok "slicepool assemble accepts the grown member and starts both volumes"
	else
		ktap_fail "slicepool assemble accepts the grown member and starts both volumes"
		sed 's/^/# /' "$ST"/assemble.out
	fi
	dmsetup mknodes
	check_grown "reboot" mg-
	;;
esac
ktap_finish
