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

# The fio job, the export, the import and the volume: guest-bench-nvmf.sh.
. "$(dirname "${BASH_SOURCE[0]}")/guest-bench-nvmf.sh"

RM_SUBNQN=nqn.2026-11.io.slicepool:bench-remote
RM_ADDR=127.0.0.1
RM_SVC=4420
RM_PORTID=7	# nvmet ports are global to the guest's kernel
RM_NB=rnb0	# the exported null_blk device, namespace 1
RM_NB2=rnb1	# its twin, namespace 2, under the dm-linear control
RM_MB=192	# volume size asked for: the member gets this plus room for metadata
RM_POOL=remote
RM_DM=remote-v
RM_LIN=remote-lin	# the dm-linear control, on namespace 2

# rm_teardown: whatever of the setup exists, in reverse order.
rm_teardown() {
	nf_volume_remove "$RM_POOL" "$RM_DM" "$RM_LIN"
	nf_disconnect "$RM_SUBNQN"
	nf_port_remove "$RM_PORTID" "$RM_SUBNQN"
	nf_subsys_remove "$RM_SUBNQN"
	nf_host_remove
	nullb_remove "$RM_NB" "$RM_NB2"
}

rm_die() {
	rm_teardown
	die "$1"
}

bench_remote() {
	local sp lin dev dev2 vol_mb off size rw r a b c k
	local fmt='%-16s %5s %10s %10s %10s %7s %7s\n'
	modprobe -a nvmet-tcp nvme-tcp || die "cannot load nvmet-tcp and nvme-tcp"
	[ -d "$NVMET" ] || die "nvmet has no configfs"
	{ nullb_create "$RM_NB" $((RM_MB + NF_SLICE_MB)) && nullb_create "$RM_NB2" $((RM_MB + NF_SLICE_MB)); } > /dev/null ||
		rm_die "cannot create /dev/$RM_NB and /dev/$RM_NB2"
	{ nf_host && nf_subsys "$RM_SUBNQN" "/dev/$RM_NB" "/dev/$RM_NB2" &&
		nf_port "$RM_PORTID" "$RM_ADDR" "$RM_SVC" "$RM_SUBNQN"; } ||
		rm_die "cannot export /dev/$RM_NB over nvmet-tcp"
	{ nf_connect "$RM_ADDR" "$RM_SVC" "$RM_SUBNQN" && nf_wait "$RM_SUBNQN" 1 2; } ||
		rm_die "cannot connect to $RM_SUBNQN on $RM_ADDR:$RM_SVC"
	dev=$(nf_ns "$RM_SUBNQN" 1)
	dev2=$(nf_ns "$RM_SUBNQN" 2)
	# The member, a volume of all its slices, the dm-linear control over
	# the same range of the twin namespace, every block written once.
	nf_volume "$RM_POOL" r0 remote "$dev" "$RM_DM" "$dev2" "$RM_LIN" || rm_die "$NF_WHY"
	vol_mb=$NF_VOL_MB
	off=$NF_OFF
	size=$NF_SIZE
	sp=/dev/mapper/$RM_DM
	lin=/dev/mapper/$RM_LIN

	echo "4k random IOPS (fio, libaio, iodepth 32, 2 jobs) over a $vol_mb MiB slicepool volume whose"
	echo "only member $dev is a null_blk exported by nvmet-tcp and imported with nvme-tcp over"
	echo "$RM_ADDR, vs the raw namespace over the same blocks (from data_offset $off), with"
	echo "dm-linear over the same range of twin namespace $dev2 as the control;"
	echo "$ROUNDS interleaved rounds of ${RUNTIME}s"
	echo "# $dev: $(nf_queue "$dev")"
	echo "# $sp: $(nf_queue "$sp")"
	echo "# $lin: $(nf_queue "$lin")"
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
				raw) b=$(nf_fio_iops "$dev" "$rw" "$off" "$size") ;;
				sp) a=$(nf_fio_iops "$sp" "$rw" 0 "$size") ;;
				lin) c=$(nf_fio_iops "$lin" "$rw" 0 "$size") ;;
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
	if [ -e "$NVMET/subsystems/$RM_SUBNQN" ] || nf_ns "$RM_SUBNQN" > /dev/null; then
		die "nvmet or nvme objects left after the remote benchmark"
	fi
}
