#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# mkinitramfs.sh <kver> <output.cpio.gz>
#
# Build the bench's tiny initramfs: static busybox, the modules needed to
# mount the host's root over virtio-9p, and an /init that puts a tmpfs
# overlay on it and switch_roots into tools/bench/guest-init.sh.
set -euo pipefail

kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,dev,proc,sys,mnt/lower,mnt/upper,newroot,lib/mod}
cp /bin/busybox "$work/bin/busybox"

# The modules, in dependency order, as modprobe itself would load them.
: > "$work/modules.order"
for m in virtio_pci virtio_blk virtio_net 9pnet_virtio 9p overlay; do
	modprobe -S "$kver" --show-depends "$m" | while read -r cmd path _; do
		[ "$cmd" = insmod ] || continue
		base=$(basename "$path")
		grep -qx "$base" "$work/modules.order" && continue
		cp "$path" "$work/lib/mod/$base"
		echo "$base" >> "$work/modules.order"
	done
done

cp "$here/initramfs-init" "$work/init"
chmod 755 "$work/init"
(cd "$work" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
