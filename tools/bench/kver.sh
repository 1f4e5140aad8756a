#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the kernel version the project builds against and boots in the
# guest: the newest version that has both a bootable image in /boot and
# kbuild headers under /lib/modules/<ver>/build.  Never hard-coded: Debian's
# ABI number moves with every security update.
set -euo pipefail

best=""
for img in /boot/vmlinuz-*; do
	[ -e "$img" ] || continue
	ver=${img#/boot/vmlinuz-}
	[ -d "/lib/modules/$ver/build" ] || continue
	[ -d "/lib/modules/$ver/kernel" ] || continue
	best=$(printf '%s\n%s\n' "$best" "$ver" | sed '/^$/d' | sort -V | tail -n 1)
done
if [ -z "$best" ]; then
	echo "kver.sh: no kernel with both /boot/vmlinuz-<ver> and /lib/modules/<ver>/build;" \
	     "run 'make deps' (installs linux-image-amd64 and linux-headers-amd64)" >&2
	exit 1
fi
echo "$best"
