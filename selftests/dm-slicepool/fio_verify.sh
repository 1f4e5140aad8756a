#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fio verify (crc32c), random and sequential writes, several jobs, on a
# volume spanning three members in three domains; then a flush-heavy job
# and a discard pass, and the status counters.
. "$(dirname "$0")/lib.sh"

sp_disks 3
command -v fio > /dev/null || sp_skip "fio not installed"
ktap_header
ktap_plan 6
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

sp_pool fv 4
sp_member fv m0 "${DISKS[0]}" dA
sp_member fv m1 "${DISKS[1]}" dB
sp_member fv m2 "${DISKS[2]}" dC
sp_volume fv v 96M
sp_dm fvv fv v
ktap_check "volume spans 3 members" \
	[ "$(awk '{print $2}' "$SP_CFG"/fv/volumes/v/map | sort -u | wc -l)" -eq 3 ]

common=(--filename=/dev/mapper/fvv --direct=1 --ioengine=libaio --iodepth=8
	--verify=crc32c --verify_fatal=1 --do_verify=1 --group_reporting
	--output-format=terse)
fio_log() {	# fio_log <log> args...: run fio, output to the artifacts
	local log=$1
	shift
	fio "$@" > "$SP_ARTIFACTS/$log" 2>&1 || { tail -20 "$SP_ARTIFACTS/$log" | sed 's/^/# /'; return 1; }
}
ktap_check "fio random write + verify, 4 jobs, 4k..64k blocks crossing slices" \
	fio_log fio-rand.log --name=rand "${common[@]}" --rw=randwrite --bsrange=4k-64k --numjobs=4 \
	--size=24M --offset_increment=24M --randrepeat=0
ktap_check "fio sequential write + verify, 3 jobs, 1M blocks" \
	fio_log fio-seq.log --name=seq "${common[@]}" --rw=write --bs=1M --numjobs=3 \
	--size=32M --offset_increment=32M
ktap_check "fio write + fsync every 4 ios + verify" \
	fio_log fio-fsync.log --name=fsync "${common[@]}" --rw=randwrite --bs=16k --fsync=4 \
	--size=16M
read -r -a st <<< "$(dmsetup status fvv)"
# <start> <len> slicepool <reads> <writes> <rsec> <wsec> <errors> <missing> <#members> ...
echo "# status: ${st[*]}"
ktap_check "status counts reads and writes, no errors, no missing slices, 3 members" \
	[ "${st[3]}" -gt 0 -a "${st[4]}" -gt 0 -a "${st[7]}" -eq 0 -a "${st[8]}" -eq 0 -a "${st[9]}" -eq 3 ]
# Only a device without discard may skip; any other failure (EIO, ...) fails.
if err=$(blkdiscard /dev/mapper/fvv 2>&1); then
	ktap_ok "discard passed through over the whole volume"
elif grep -qx -- 'blkdiscard: .*: BLKDISCARD ioctl failed: Operation not supported' <<< "$err"; then
	ktap_skip "members do not support discard ($err)"
else
	echo "# blkdiscard: $err"
	ktap_fail "discard passed through over the whole volume"
fi
dmsetup remove fvv
sp_unload
ktap_finish
