#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Remote-member benchmark (sourced by tools/bench/guest-bench.sh, which
# has loaded null_blk and dm-slicepool and sourced bench-lib.sh).
#
# bench_remote: 4 KiB random IOPS of a slicepool volume whose slices all
# sit on a member imported over NVMe/TCP, against the raw nvme-tcp
# namespace, in one guest over loopback.  A memory-backed null_blk device
# is exported by the kernel's nvmet (an nvmet-tcp port on 127.0.0.1, one
# host NQN allowed, never any host) and imported again with
# 'nvme connect -t tcp -a 127.0.0.1'.  The namespace becomes the only
# member of pool 'remote' and volume 'v' fills it (/dev/mapper/remote-v).
# Both sides run the same fio job over the same blocks: the raw job covers
# the member's data area (from its data_offset, the volume's size), so the
# pool's metadata is never written and both see the same null_blk pages.
# The control is dm-linear over namespace 2 of the same subsystem, a twin
# null_blk (the member's own blocks cannot be shared: the pool holds it
# exclusively): its ratio to raw is what any bio-based device-mapper layer
# costs here.  The three take turns going first, ROUNDS times per pattern.

RM_SUBNQN=nqn.2026-11.io.slicepool:bench-remote
RM_HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000d0
RM_HOSTID=5b1c0000-0000-4000-8000-0000000000d0
RM_ADDR=127.0.0.1
RM_SVC=4420
RM_PORTID=7	# nvmet ports are global to the guest's kernel
RM_NB=rnb0	# the exported null_blk device, namespace 1
RM_NB2=rnb1	# its twin, namespace 2, under the dm-linear control
RM_MB=192	# volume size asked for: the member gets this plus room for metadata
RM_SLICE_MB=16
RM_POOL=remote
RM_DM=remote-v
RM_LIN=remote-lin	# the dm-linear control, on namespace 2
NVMET=/sys/kernel/config/nvmet

# rm_fio_iops <dev> <rw> <offset bytes> <size bytes> -> IOPS (reads+writes);
# the job of bench_iops (guest-bench.sh), over a given region.
rm_fio_iops() {
	fio --name=r --filename="$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs=4k --iodepth=32 --numjobs=2 --group_reporting --time_based \
		--runtime="$RUNTIME" --ramp_time=1 --offset="$3" --size="$4" \
		--randrepeat=0 --output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ printf "%d\n", $8 + $49 }'
}

# rm_export: /dev/RM_NB and /dev/RM_NB2 as namespaces 1 and 2 of RM_SUBNQN
# on an nvmet-tcp port on RM_ADDR:RM_SVC, for RM_HOSTNQN only.
rm_export() {
	local sub=$NVMET/subsystems/$RM_SUBNQN port=$NVMET/ports/$RM_PORTID
	mkdir "$sub" &&
		echo 0 > "$sub/attr_allow_any_host" &&
		mkdir "$NVMET/hosts/$RM_HOSTNQN" &&
		ln -s "$NVMET/hosts/$RM_HOSTNQN" "$sub/allowed_hosts/" &&
		mkdir "$sub/namespaces/1" &&
		echo "/dev/$RM_NB" > "$sub/namespaces/1/device_path" &&
		echo 1 > "$sub/namespaces/1/enable" &&
		mkdir "$sub/namespaces/2" &&
		echo "/dev/$RM_NB2" > "$sub/namespaces/2/device_path" &&
		echo 1 > "$sub/namespaces/2/enable" &&
		mkdir "$port" &&
		echo tcp > "$port/addr_trtype" &&
		echo ipv4 > "$port/addr_adrfam" &&
		echo "$RM_ADDR" > "$port/addr_traddr" &&
		echo "$RM_SVC" > "$port/addr_trsvcid" &&
		ln -s "$sub" "$port/subsystems/"
}

# rm_ns [nsid]: the block device of RM_SUBNQN's namespace nsid (default
# any; the multipath head, not a hidden path node nvmeXcYnZ), or fail.
rm_ns() {
	local b
	for b in /sys/block/nvme*n*; do
		case ${b##*/} in nvme*c*) continue ;; esac
		[ -e "$b/device/subsysnqn" ] || continue
		[ "$(< "$b/device/subsysnqn")" = "$RM_SUBNQN" ] || continue
		[ -z "${1:-}" ] || [ "$(< "$b/nsid")" = "$1" ] || continue
		echo "/dev/${b##*/}"
		return 0
	done
	return 1
}

# rm_connect: import the namespaces; RM_DEV and RM_DEV2 their block devices.  Keep-alive
# 30 s, not the kernel's 5 s: a TCG guest on a busy host can go 5 s
# without sending one, and nvmet then drops the controller (seen: the
# reset that follows can hang the disconnect).
rm_connect() {
	local i
	nvme connect -t tcp -a "$RM_ADDR" -s "$RM_SVC" -n "$RM_SUBNQN" \
		--hostnqn="$RM_HOSTNQN" --hostid="$RM_HOSTID" --keep-alive-tmo=30 > /dev/null || return 1
	for ((i = 0; i < 100; i++)); do
		RM_DEV=$(rm_ns 1) && [ -b "$RM_DEV" ] &&
			RM_DEV2=$(rm_ns 2) && [ -b "$RM_DEV2" ] && return 0
		nap 0.2
	done
	return 1
}

# rm_teardown: whatever of the setup exists, in reverse order.
rm_teardown() {
	local sub=$NVMET/subsystems/$RM_SUBNQN port=$NVMET/ports/$RM_PORTID n
	[ ! -e "/dev/mapper/$RM_LIN" ] || dmsetup remove "$RM_LIN"
	sp_pool_remove "$RM_POOL" "$RM_DM"
	if rm_ns > /dev/null; then nvme disconnect -n "$RM_SUBNQN" > /dev/null; fi
	rm -f "$port/subsystems/$RM_SUBNQN"
	[ ! -d "$port" ] || rmdir "$port"
	for n in 1 2; do
		[ -d "$sub/namespaces/$n" ] || continue
		echo 0 > "$sub/namespaces/$n/enable"
		rmdir "$sub/namespaces/$n"
	done
	rm -f "$sub/allowed_hosts/$RM_HOSTNQN"
	[ ! -d "$sub" ] || rmdir "$sub"
	[ ! -d "$NVMET/hosts/$RM_HOSTNQN" ] || rmdir "$NVMET/hosts/$RM_HOSTNQN"
	nullb_remove "$RM_NB" "$RM_NB2"
}

rm_die() {
	rm_teardown
	die "$1"
}

# rm_queue <dev>: the block queue settings that could make the two sides
# differ, on one line
rm_queue() {
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

bench_remote() {
	local m=$CFS/$RM_POOL/members/r0 sp lin slices vol_mb off size rw r a b c k
	local fmt='%-16s %5s %10s %10s %10s %7s %7s\n'
	modprobe -a nvmet-tcp nvme-tcp || die "cannot load nvmet-tcp and nvme-tcp"
	[ -d "$NVMET" ] || die "nvmet has no configfs"
	{ nullb_create "$RM_NB" $((RM_MB + RM_SLICE_MB)) && nullb_create "$RM_NB2" $((RM_MB + RM_SLICE_MB)); } > /dev/null ||
		rm_die "cannot create /dev/$RM_NB and /dev/$RM_NB2"
	rm_export || rm_die "cannot export /dev/$RM_NB over nvmet-tcp"
	rm_connect || rm_die "cannot connect to $RM_SUBNQN on $RM_ADDR:$RM_SVC"
	# The member and a volume of all its slices.
	{ sp_pool_create "$RM_POOL" "$RM_SLICE_MB" 1 && sp_member_add "$RM_POOL" r0 "$RM_DEV" remote; } ||
		rm_die "cannot add $RM_DEV to a pool"
	read -r slices < "$m/total_slices"
	read -r off < "$m/data_offset"
	vol_mb=$((slices * RM_SLICE_MB))
	size=$((vol_mb << 20))
	{ sp_volume_create "$RM_POOL" v "$vol_mb" &&
		dmsetup create "$RM_DM" --table "0 $((vol_mb * 2048)) slicepool $RM_POOL v"; } ||
		rm_die "cannot create the slicepool volume on $RM_DEV"
	sp=/dev/mapper/$RM_DM
	[ "$(awk '$2 != "r0"' "$CFS/$RM_POOL/volumes/v/map" | wc -l)" -eq 0 ] ||
		rm_die "the volume is not all on r0"
	# The control: dm-linear over the same range of the twin namespace.
	dmsetup create "$RM_LIN" --table "0 $((vol_mb * 2048)) linear $RM_DEV2 $((off / 512))" ||
		rm_die "cannot create the dm-linear control on $RM_DEV2"
	lin=/dev/mapper/$RM_LIN
	# Every block once, so all sides read and write allocated null_blk pages.
	for k in "$sp" "$lin"; do
		dd if=/dev/zero of="$k" bs=1M count="$vol_mb" oflag=direct status=none ||
			rm_die "cannot write $k"
	done

	echo "4k random IOPS (fio, libaio, iodepth 32, 2 jobs) over a $vol_mb MiB slicepool volume whose"
	echo "only member $RM_DEV is a null_blk exported by nvmet-tcp and imported with nvme-tcp over"
	echo "$RM_ADDR, vs the raw namespace over the same blocks (from data_offset $off), with"
	echo "dm-linear over the same range of twin namespace $RM_DEV2 as the control;"
	echo "$ROUNDS interleaved rounds of ${RUNTIME}s"
	echo "# $RM_DEV: $(rm_queue "$RM_DEV")"
	echo "# $sp: $(rm_queue "$sp")"
	echo "# $lin: $(rm_queue "$lin")"
	echo "# table: $(dmsetup table "$RM_DM")"
	# shellcheck disable=SC2059 # the format is a variable on purpose
	printf "$fmt" test round slicepool linear raw sp/raw lin/raw
	for rw in randread randwrite; do
		: > /tmp/rm.ratio
		: > /tmp/rm.lratio
		: > /tmp/rm.slratio
		for r in $(seq 1 "$ROUNDS"); do
			case $((r % 3)) in
			1) set -- raw sp lin ;;
			2) set -- sp lin raw ;;
			*) set -- lin raw sp ;;
			esac
			for k in "$@"; do
				case $k in
				raw) b=$(rm_fio_iops "$RM_DEV" "$rw" "$off" "$size") ;;
				sp) a=$(rm_fio_iops "$sp" "$rw" 0 "$size") ;;
				lin) c=$(rm_fio_iops "$lin" "$rw" 0 "$size") ;;
				esac
			done
			ratio "$a" "$b" >> /tmp/rm.ratio
			ratio "$c" "$b" >> /tmp/rm.lratio
			ratio "$a" "$c" >> /tmp/rm.slratio
			# shellcheck disable=SC2059
			printf "$fmt" "remote-$rw" "$r" "$a" "$c" "$b" \
				"$(tail -n 1 /tmp/rm.ratio)" "$(tail -n 1 /tmp/rm.lratio)"
		done
		series remote "remote-4k-$rw slicepool/raw" ge 0.95 < /tmp/rm.ratio
		series remote "remote-4k-$rw dm-linear/raw" < /tmp/rm.lratio
		series remote "remote-4k-$rw slicepool/dm-linear" < /tmp/rm.slratio
		r=$(median < /tmp/rm.ratio)
		result "remote-4k-$rw-iops slicepool/raw median $r (target >= 0.95) $(verdict "$r" ge 0.95)"
		echo "remote-4k-$rw-iops control: dm-linear/raw median $(median < /tmp/rm.lratio)," \
			"slicepool/dm-linear median $(median < /tmp/rm.slratio)"
	done
	rm_teardown
	if [ -e "$NVMET/subsystems/$RM_SUBNQN" ] || rm_ns > /dev/null; then
		die "nvmet or nvme objects left after the remote benchmark"
	fi
}
