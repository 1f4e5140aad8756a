#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install, from Debian's archive, everything the build, the lint and the
# test bench need.  Idempotent: with --check it only reports what is
# missing (exit 1 if anything is), and a normal run installs nothing when
# everything is present.
set -euo pipefail

PKGS=(
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	build-essential kmod cpio gzip xz-utils
	qemu-system-x86 busybox-static
	dmsetup libdevmapper-dev libssl-dev nvme-cli fio lvm2 e2fsprogs util-linux iproute2
	wireguard-tools nftables
	sparse shellcheck python3 python3-docutils gnuplot-nox
)
# A command (or file) that proves each group above is usable.
need_cmds=(gcc make cpio gzip xz qemu-system-x86_64 dmsetup nvme fio
	   pvmove mkfs.ext4 sparse shellcheck modprobe ip blockdev python3 gnuplot
	   wg nft)

missing=()
for c in "${need_cmds[@]}"; do
	command -v "$c" >/dev/null 2>&1 || missing+=("$c")
done
[ -x /bin/busybox ] || missing+=(busybox-static)
[ -e /usr/include/libdevmapper.h ] || missing+=(libdevmapper-dev)
[ -e /usr/include/openssl/hmac.h ] || missing+=(libssl-dev)
python3 -c 'import docutils.core' 2>/dev/null || /usr/bin/python3 -c 'import docutils.core' 2>/dev/null ||
	missing+=(python3-docutils)
ls /usr/src/linux-source-6.1.tar.* >/dev/null 2>&1 || missing+=(linux-source-6.1)
here=$(dirname "$0")
"$here/kver.sh" >/dev/null 2>&1 || missing+=(linux-image-amd64/linux-headers-amd64)

if [ "${1:-}" = "--check" ]; then
	if [ ${#missing[@]} -gt 0 ]; then
		echo "missing: ${missing[*]}"
		exit 1
	fi
	exit 0
fi

if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
echo "install-deps: installing (missing: ${missing[*]})"
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: must run as root to apt-get install: ${PKGS[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${PKGS[@]}"
"$here/kver.sh" >/dev/null
