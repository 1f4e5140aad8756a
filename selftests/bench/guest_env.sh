#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest the bench booted is what tests rely on: the installed Debian
# kernel, the freshly built modules found by modprobe, configfs mounted,
# four writable test disks, and the host tree visible.
. "$SP_TOP/selftests/lib/ktap.sh"

ktap_header
ktap_plan 6
kver=$(uname -r)
if [ -e "/boot/vmlinuz-$kver" ] && [ -d "/lib/modules/$kver/kernel" ]; then
	ktap_ok "running an installed kernel ($kver)"
else
	ktap_fail "kernel $kver is not an installed Debian kernel"
fi
ktap_check "configfs is mounted" grep -qw configfs /proc/mounts
read -r -a disks <<< "$SP_DISKS"
ktap_check "four test disks ($SP_DISKS)" [ ${#disks[@]} -eq 4 ]
n=0
for d in $SP_DISKS; do
	printf 'slicepool%s' "$d" | dd of="$d" bs=512 count=1 conv=sync oflag=direct status=none &&
		dd if="$d" bs=512 count=1 iflag=direct status=none | grep -q "slicepool$d" &&
		n=$((n + 1))
done
ktap_check "every test disk is writable and reads back" [ "$n" -eq 4 ]
ktap_check "the host tree is visible" [ -f "$SP_TOP/selftests/run" ]
if ls "/lib/modules/$kver/updates/"dm-slicepool.ko > /dev/null 2>&1; then
	ktap_check "modprobe finds the freshly built dm-slicepool" modinfo dm-slicepool
else
	ktap_skip "dm-slicepool.ko is not built yet"
fi
ktap_finish
