#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Persistence: data and maps survive a module reload and a guest reboot.
# After each, the pool is re-created from the members alone: enabling the
# first member adopts the pool UUID and slice size, "discovered" lists the
# volume, mkdir of that name binds it, and the map and data are unchanged.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ST=$SP_ARTIFACTS/dm-slicepool-persist
ktap_header

# reassemble: what "slicepool assemble" does, by hand.
reassemble() {
	sp_pool ps
	sp_member ps m0 "${DISKS[0]}" dA
	sp_member ps m1 "${DISKS[1]}" dB
	sp_member ps m2 "${DISKS[2]}" dC
}

case ${SP_BOOT:-1} in
1)
	ktap_plan 11
	mkdir -p "$ST"
	sp_load
	sp_teardown
	sp_wipe "${DISKS[@]:0:3}"
	# 5 slices of 2 MiB: over the 3 members, and little data to read back.
	sp_pool ps 2
	sp_member ps m0 "${DISKS[0]}" dA
	sp_member ps m1 "${DISKS[1]}" dB
	sp_member ps m2 "${DISKS[2]}" dC
	sp_volume ps v 10M
	sp_dm psv ps v
	sp_fill /dev/mapper/psv 10
	sp_record_volume ps v /dev/mapper/psv "$ST"
	ktap_check "volume spans 3 members" [ "$(awk '{print $2}' "$ST/map" | sort -u | wc -l)" -eq 3 ]

	sp_unload
	ktap_check "module unloaded" sh -c "! grep -q '^dm_slicepool ' /proc/modules"
	sp_load
	ktap_check "fresh pool has a new random uuid before adoption" \
		sh -c "mkdir $SP_CFG/ps && [ \"\$(cat $SP_CFG/ps/uuid)\" != \"$(cat "$ST/uuid")\" ] && rmdir $SP_CFG/ps"
	reassemble
	sp_check_recorded "module reload" ps v psv "$ST"
	# Unbind only (rmdir of the volume item) keeps the volume: rediscovered.
	dmsetup remove psv
	rmdir "$SP_CFG"/ps/volumes/v
	ktap_check "rmdir of the volume item unbinds it (listed in discovered again)" \
		grep -q "^v " "$SP_CFG"/ps/discovered
	sp_teardown
	sync
	[ "$KTAP_FAIL" -eq 0 ] || ktap_finish
	echo "# rebooting the guest (SP_BOOT=2 checks the reassembly)"
	exit 75
	;;
2)
	ktap_plan 7
	sp_load
	reassemble
	sp_check_recorded reboot ps v psv "$ST"
	sp_unload
	;;
esac
ktap_finish
