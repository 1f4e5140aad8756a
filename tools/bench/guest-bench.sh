#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest benchmarks (run by 'make bench').  Members are memory-backed
# null_blk devices, created through null_blk's configfs so bandwidth caps
# can be set.  Every case runs interleaved with its peers, ROUNDS times,
# and reports the median of the per-round ratios.
#
#   iops     4 KiB random IOPS: slicepool vs dm-linear vs dm-thin
#   seq      sequential 1 MiB reads over capped members: vs dm-stripe
#   migrate  live migration vs LVM pvmove (dm-mirror), under fio writes
#   recopy   chunks a migration copies again, mode=filter vs mode=none
#   remote   4 KiB random IOPS on a member imported over NVMe/TCP (loopback)
#            vs the raw nvme-tcp namespace
#
# SP_BENCH_ONLY (names above, comma-separated; default all) runs a subset.
set -u
ROUNDS=${SP_BENCH_ROUNDS:-5}
RUNTIME=${SP_BENCH_RUNTIME:-6}
ONLY=${SP_BENCH_ONLY:-iops,seq,migrate,recopy,remote}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-lib.sh"
. "$here/guest-bench-migrate.sh"
. "$here/guest-bench-remote.sh"

# fio_iops <dev> <rw> -> IOPS (reads+writes)
fio_iops() {
	fio --name=b --filename="$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs=4k --iodepth=32 --numjobs=2 --group_reporting --time_based \
		--runtime="$RUNTIME" --ramp_time=1 --size=192m --randrepeat=0 \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ printf "%d\n", $8 + $49 }'
}

# fio_seq_mbps <dev> <size MiB> -> MiB/s, four sequential 1 MiB readers,
# each streaming its own quarter of the device.
fio_seq_mbps() {
	local q=$(($2 / 4))
	fio --name=s --filename="$1" --direct=1 --ioengine=libaio --rw=read \
		--bs=1m --iodepth=4 --numjobs=4 --offset_increment="${q}m" \
		--size="${q}m" --group_reporting --time_based --runtime="$RUNTIME" \
		--output-format=terse --terse-version=3 2>/dev/null |
		awk -F';' '{ printf "%d\n", $7 / 1024 }'
}

# ---- 4 KiB random IOPS: slicepool vs dm-linear vs dm-thin ----------------
# two_series KIND TEST LABEL A TARGET FILE_A B FILE_B: the series "TEST A"
# (target >= TARGET) and "TEST B" of the ratios in FILE_A and FILE_B, and
# their medians as results "LABEL A median ..." and "LABEL B median ...",
# B padded to the width of A.
two_series() {
	local m
	series "$1" "$2 $4" ge "$5" < "$6"
	series "$1" "$2 $7" < "$8"
	m=$(median < "$6")
	result "$3 $4 median $m (target >= $5) $(verdict "$m" ge "$5")"
	result "$3 $(printf '%-*s' ${#4} "$7") median $(median < "$8")"
}

bench_iops() {
	local a b c d e t tm sp lin thin rw r order dev rl rt
	a=$(nullb_create nb0 256)
	b=$(nullb_create nb1 256)
	c=$(nullb_create nb2 256)
	d=$(nullb_create nb3 256)
	e=$(nullb_create nb4 512)	# dm-linear's own device
	t=$(nullb_create nb5 512)	# dm-thin data
	tm=$(nullb_create nb6 64)	# dm-thin metadata
	sp=$(slicepool_create 192 16 "$a" "$b" "$c" "$d") || die "cannot create the slicepool volume"
	dmsetup create bench-linear --table "0 $((192 * 2048)) linear $e 0" || die "dm-linear"
	dd if=/dev/zero of="$tm" bs=4096 count=1 oflag=direct status=none
	dmsetup create bench-pool --table "0 $(sectors "$t") thin-pool $tm $t 128 0 1 skip_block_zeroing" || die "thin-pool"
	dmsetup message bench-pool 0 "create_thin 0"
	dmsetup create bench-thin --table "0 $((192 * 2048)) thin /dev/mapper/bench-pool 0" || die "thin"
	lin=/dev/mapper/bench-linear
	thin=/dev/mapper/bench-thin
	# Provision every block first, so dm-thin is measured mapped, not allocating.
	for dev in "$sp" "$lin" "$thin"; do
		dd if=/dev/zero of="$dev" bs=1M count=192 oflag=direct status=none
	done

	printf '%-10s %5s %12s %12s %12s %10s %10s\n' test round slicepool dm-linear dm-thin sp/linear sp/thin
	for rw in randread randwrite; do
		: > /tmp/r.lin
		: > /tmp/r.thin
		for r in $(seq 1 "$ROUNDS"); do
			# Rotate the order every round so no target always goes first.
			case $((r % 3)) in
			0) order="$sp $lin $thin" ;;
			1) order="$lin $thin $sp" ;;
			*) order="$thin $sp $lin" ;;
			esac
			declare -A v=()
			for dev in $order; do v[$dev]=$(fio_iops "$dev" "$rw"); done
			rl=$(ratio "${v[$sp]}" "${v[$lin]}")
			rt=$(ratio "${v[$sp]}" "${v[$thin]}")
			echo "$rl" >> /tmp/r.lin
			echo "$rt" >> /tmp/r.thin
			printf '%-10s %5s %12s %12s %12s %10s %10s\n' "$rw" "$r" "${v[$sp]}" "${v[$lin]}" "${v[$thin]}" "$rl" "$rt"
		done
		two_series iops "4k-$rw" "4k-$rw-iops" slicepool/dm-linear 0.97 /tmp/r.lin \
			slicepool/dm-thin /tmp/r.thin
	done
	dmsetup remove bench-thin
	dmsetup remove bench-pool
	dmsetup remove bench-linear
	slicepool_remove
	nullb_remove_all
}

# ---- sequential 1 MiB over 4 capped members: slicepool vs dm-stripe -------
bench_seq() {
	local cap=${SP_BENCH_CAP_MBPS:-40} i sp st sum r a b
	# Each side gets its own four capped devices (the pool holds its members
	# exclusively).  Reads of never-written null_blk memory cost no memory.
	for i in 0 1 2 3 4 5 6 7; do nullb_create "cap$i" 256 "$cap" > /dev/null; done
	# Same geometry as dm-stripe's 1 MiB chunks: 1 MiB slices, which placement
	# orders round-robin over the four domains.  (With large slices a single
	# sequential stream is served by one member at a time: slicepool
	# concatenates slices, it does not stripe them.)
	sp=$(slicepool_create 768 1 /dev/cap0 /dev/cap1 /dev/cap2 /dev/cap3) || die "slicepool over capped members"
	dmsetup create bench-stripe --table "0 $((768 * 2048)) striped 4 2048 /dev/cap4 0 /dev/cap5 0 /dev/cap6 0 /dev/cap7 0" || die "dm-stripe"
	st=/dev/mapper/bench-stripe
	sum=$((4 * cap))
	printf '%-10s %5s %12s %12s %12s %10s %10s\n' test round slicepool dm-stripe "sum of caps" sp/sum sp/stripe
	: > /tmp/s.sum
	: > /tmp/s.st
	for r in $(seq 1 "$ROUNDS"); do
		if [ $((r % 2)) -eq 0 ]; then
			a=$(fio_seq_mbps "$sp" 768)
			b=$(fio_seq_mbps "$st" 768)
		else
			b=$(fio_seq_mbps "$st" 768)
			a=$(fio_seq_mbps "$sp" 768)
		fi
		ratio "$a" "$sum" >> /tmp/s.sum
		ratio "$a" "$b" >> /tmp/s.st
		printf '%-10s %5s %12s %12s %12s %10s %10s\n' seq-1m "$r" "$a" "$b" "$sum" "$(tail -n 1 /tmp/s.sum)" "$(tail -n 1 /tmp/s.st)"
	done
	two_series seq seq-1m-read "seq-1m-read MiB/s" slicepool/sum-of-caps 0.90 /tmp/s.sum \
		slicepool/dm-stripe /tmp/s.st
	dmsetup remove bench-stripe
	slicepool_remove
	nullb_remove_all
}

wanted() { case ",$ONLY," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

for b in ${ONLY//,/ }; do
	case $b in
	iops | seq | migrate | recopy | remote) ;;
	*) die "unknown benchmark '$b' in SP_BENCH_ONLY (iops, seq, migrate, recopy, remote)" ;;
	esac
done

main() {
	local b t
	modprobe null_blk nr_devices=0 || die "cannot load null_blk"
	modprobe -a dm-thin-pool dm-mirror dm-slicepool || die "cannot load dm modules"
	[ -d "$NB" ] || die "null_blk has no configfs"

	echo "slicepool benchmarks, kernel $(uname -r), $(nproc) vCPUs; $ROUNDS interleaved rounds of ${RUNTIME}s"
	: > /tmp/bench-results
	for b in iops seq migrate recopy remote; do
		wanted "$b" || continue
		echo
		t=$SECONDS
		"bench_$b"
		echo "($b took $((SECONDS - t)) s)"
	done
	echo
	echo "summary (medians of per-round ratios; a MISS is reported, not failed):"
	sed 's/^/  /' /tmp/bench-results
}

# The report also goes straight to the host's results directory
# (SP_BENCH_REPORT, in the guest's results export): the console stream may
# lose characters when the host reads it while the guest is slow.
if [ -n "${SP_BENCH_REPORT:-}" ] && [ -d /run/sp/results ]; then
	MIG_LOG=/run/sp/results/${SP_BENCH_REPORT%.txt}.log
	: > "$MIG_LOG"
	main 2>&1 | tee "/run/sp/results/$SP_BENCH_REPORT"
	exit "${PIPESTATUS[0]}"
fi
main
