#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the two remote-member benchmarks share (sourced by
# tools/bench/guest-bench-remote.sh, whose 'remote' and the 'remote-tunnel'
# of guest-bench-tunnel.sh use it; bench-lib.sh is sourced before): the
# fio job, exporting null_blk devices with the kernel's nvmet over TCP to
# one host NQN (never any host), importing them with nvme-tcp, the
# slicepool volume on the imported member with its dm-linear control, and
# taking all of it down again.  Each step returns non-zero on a failure;
# the caller tears down and dies with its own words.

NF_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000d0
NF_HOSTID=5b1c0000-0000-4000-8000-0000000000d0
NF_SLICE_MB=16
NVMET=/sys/kernel/config/nvmet

# nf_fio_iops <dev> <rw> <offset bytes> <size bytes> -> IOPS (reads+writes);
# the job of bench_iops (guest-bench.sh), over a given region.
nf_fio_iops() {
	fio --name=r --filename="$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs=4k --iodepth=32 --numjobs=2 --group_reporting --time_based \
		--runtime="$RUNTIME" --ramp_time=1 --offset="$3" --size="$4" \
		--randrepeat=0 --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ printf "%d\n", $8 + $49 }'
}

# nf_queue <dev>: the block queue settings that could make two sides
# differ, on one line
nf_queue() {
	local q a s="" mm
	# By major:minor: without udev /dev/mapper/* are nodes, not links.
	mm=$(stat -L -c '%t %T' "$1") || return
	read -r -a mm <<< "$mm"
	q=/sys/dev/block/$((16#${mm[0]})):$((16#${mm[1]}))/queue
	for a in scheduler nr_requests max_sectors_kb max_hw_sectors_kb nomerges rq_affinity iostats; do
		[ -r "$q/$a" ] && s+="$a=$(tr -d '\n' < "$q/$a" | tr ' ' ',') "
	done
	echo "${s% }"
}

# nf_host: NF_HOSTNQN's host entry in nvmet.
nf_host() { mkdir "$NVMET/hosts/$NF_HOSTNQN"; }

# nf_subsys <nqn> <device>...: a subsystem exporting the devices as
# namespaces 1, 2, ... to NF_HOSTNQN only (nf_host first).
nf_subsys() {
	local sub=$NVMET/subsystems/$1 n=0 d
	shift
	mkdir "$sub" &&
		echo 0 > "$sub/attr_allow_any_host" &&
		ln -s "$NVMET/hosts/$NF_HOSTNQN" "$sub/allowed_hosts/" || return 1
	for d in "$@"; do
		n=$((n + 1))
		mkdir "$sub/namespaces/$n" &&
			echo "$d" > "$sub/namespaces/$n/device_path" &&
			echo 1 > "$sub/namespaces/$n/enable" || return 1
	done
}

# nf_port <port id> <address> <service> <nqn> [command...]: an nvmet-tcp
# port on address:service for the subsystem; the link that enables it is
# made by the command given (say, nsenter into the namespace the port
# must listen in), or directly.
nf_port() {
	local port=$NVMET/ports/$1 addr=$2 svc=$3 nqn=$4
	shift 4
	mkdir "$port" &&
		echo tcp > "$port/addr_trtype" &&
		echo ipv4 > "$port/addr_adrfam" &&
		echo "$addr" > "$port/addr_traddr" &&
		echo "$svc" > "$port/addr_trsvcid" &&
		"$@" ln -s "$NVMET/subsystems/$nqn" "$port/subsystems/"
}

# nf_ns <nqn> [nsid]: the block device of that namespace (default any;
# the multipath head, not a hidden path node nvmeXcYnZ), or fail.
nf_ns() {
	local b
	for b in /sys/block/nvme*n*; do
		case ${b##*/} in nvme*c*) continue ;; esac
		[ -e "$b/device/subsysnqn" ] || continue
		[ "$(< "$b/device/subsysnqn")" = "$1" ] || continue
		[ -z "${2:-}" ] || [ "$(< "$b/nsid")" = "$2" ] || continue
		echo "/dev/${b##*/}"
		return 0
	done
	return 1
}

# nf_connect <address> <service> <nqn>: import it as NF_HOSTNQN.
# Keep-alive 30 s, not the kernel's 5 s: a TCG guest on a busy host can
# go 5 s without sending one, and nvmet then drops the controller (seen:
# the reset that follows can hang the disconnect).
nf_connect() {
	nvme connect -t tcp -a "$1" -s "$2" -n "$3" \
		--hostnqn="$NF_HOSTNQN" --hostid="$NF_HOSTID" --keep-alive-tmo=30 > /dev/null
}

# nf_wait <nqn> <nsid>...: wait for the namespaces' block devices
nf_wait() {
	local i n nqn=$1 ok
	shift
	for ((i = 0; i < 100; i++)); do
		ok=1
		for n in "$@"; do
			nf_ns "$nqn" "$n" > /dev/null || ok=""
		done
		[ -z "$ok" ] || return 0
		nap 0.2
	done
	return 1
}

# nf_volume <pool> <member> <domain> <dev> <dm name> <twin dev> <linear name>:
# <dev> becomes the only member of <pool> (NF_SLICE_MB slices) and volume
# 'v' takes all its slices (/dev/mapper/<dm name>); the control is
# dm-linear over the same range of <twin dev> (/dev/mapper/<linear
# name>); every block of both is written once, so all sides read and
# write allocated null_blk pages.  NF_VOL_MB, NF_OFF (the member's
# data_offset, bytes) and NF_SIZE (bytes) are set; on a failure the
# reason is in NF_WHY.
# shellcheck disable=SC2034 # NF_SIZE and NF_WHY are the caller's
nf_volume() {
	local pool=$1 member=$2 domain=$3 dev=$4 dm=$5 twin=$6 lin=$7 slices k
	local m=$CFS/$pool/members/$member
	NF_WHY="cannot add $dev to a pool"
	{ sp_pool_create "$pool" "$NF_SLICE_MB" 1 && sp_member_add "$pool" "$member" "$dev" "$domain"; } ||
		return 1
	read -r slices < "$m/total_slices"
	read -r NF_OFF < "$m/data_offset"
	NF_VOL_MB=$((slices * NF_SLICE_MB))
	NF_SIZE=$((NF_VOL_MB << 20))
	NF_WHY="cannot create the slicepool volume on $dev"
	{ sp_volume_create "$pool" v "$NF_VOL_MB" &&
		dmsetup create "$dm" --table "0 $((NF_VOL_MB * 2048)) slicepool $pool v"; } ||
		return 1
	NF_WHY="the volume is not all on $member"
	[ "$(awk -v m="$member" '$2 != m' "$CFS/$pool/volumes/v/map" | wc -l)" -eq 0 ] ||
		return 1
	NF_WHY="cannot create the dm-linear control on $twin"
	dmsetup create "$lin" --table "0 $((NF_VOL_MB * 2048)) linear $twin $((NF_OFF / 512))" ||
		return 1
	for k in "/dev/mapper/$dm" "/dev/mapper/$lin"; do
		NF_WHY="cannot write $k"
		dd if=/dev/zero of="$k" bs=1M count="$NF_VOL_MB" oflag=direct status=none ||
			return 1
	done
	NF_WHY=""
}

# nf_volume_remove <pool> <dm name> <linear name>: what nf_volume made.
nf_volume_remove() {
	[ ! -e "/dev/mapper/$3" ] || dmsetup remove --retry "$3"
	sp_pool_remove "$1" "$2"
}

# nf_disconnect <nqn>: its controllers, if any namespace of it is here.
nf_disconnect() {
	if nf_ns "$1" > /dev/null; then nvme disconnect -n "$1" > /dev/null; fi
}

# nf_port_remove <port id> <nqn>: the link, then the port.
nf_port_remove() {
	rm -f "$NVMET/ports/$1/subsystems/$2"
	[ ! -d "$NVMET/ports/$1" ] || rmdir "$NVMET/ports/$1"
}

# nf_subsys_remove <nqn>: its namespaces (1 and 2), NF_HOSTNQN's link,
# the subsystem.
nf_subsys_remove() {
	local sub=$NVMET/subsystems/$1 n
	for n in 1 2; do
		[ -d "$sub/namespaces/$n" ] || continue
		echo 0 > "$sub/namespaces/$n/enable"
		rmdir "$sub/namespaces/$n"
	done
	rm -f "$sub/allowed_hosts/$NF_HOSTNQN"
	[ ! -d "$sub" ] || rmdir "$sub"
}

# nf_host_remove: NF_HOSTNQN's host entry, once no subsystem allows it.
nf_host_remove() {
	[ ! -d "$NVMET/hosts/$NF_HOSTNQN" ] || rmdir "$NVMET/hosts/$NF_HOSTNQN"
}
