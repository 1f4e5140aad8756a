#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bench self-test case: data written before a guest reboot is read back
# after it (the disks are file-backed on the host).  Exit 75 asks for the reboot.
. "$SP_TOP/selftests/lib/ktap.sh"
read -r -a disks <<< "$SP_DISKS"
disk=${disks[0]}
if [ "$SP_BOOT" -eq 1 ]; then
	echo "boot 1: writing a marker to $disk"
	echo "marker-$(cat /proc/sys/kernel/random/boot_id)" > /tmp/m
	dd if=/tmp/m of="$disk" bs=4096 count=1 conv=sync oflag=direct status=none ||
		sp_die "cannot write $disk"
	cp /tmp/m "$SP_ARTIFACTS/marker"
	exit 75
fi
ktap_header
ktap_plan 2
ktap_check "the guest rebooted (boot $SP_BOOT)" [ "$SP_BOOT" -eq 2 ]
got=$(dd if="$disk" bs=4096 count=1 iflag=direct status=none | tr -d "\0")
ktap_check "the marker written before the reboot is on $disk" [ "$got" = "$(cat "$SP_ARTIFACTS/marker")" ]
ktap_finish
