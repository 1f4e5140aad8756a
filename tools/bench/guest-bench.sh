#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest benchmarks (run by 'make bench').  Members are memory-backed
# null_blk devices, created through null_blk's configfs so bandwidth caps
# can be set.  Every case runs interleaved with its peers, ROUNDS times,
# and reports the median of the per-round ratios.
#
#   iops     4 KiB random IOPS: slicepool vs dm-linear (over twins of its
#            members, laid out like its map) vs dm-thin, ABBA rounds
#   seq      sequential 1 MiB reads over capped members: vs dm-stripe
#   migrate  live migration vs LVM pvmove (dm-mirror), under fio writes
#   recopy   chunks a migration copies again, mode=filter vs mode=none
#   remote   4 KiB random IOPS on a member imported over NVMe/TCP (loopback)
#            vs the raw nvme-tcp namespace
#   remote-tunnel  the same through a WireGuard tunnel into a network
#            namespace (tools/bench/guest-bench-tunnel.sh): vs dm-linear and
#            the raw namespace through it, and the raw namespace without it
#
# SP_BENCH_ONLY (names above, comma-separated; default all) runs a subset.
set -u
ROUNDS=${SP_BENCH_ROUNDS:-5}
RUNTIME=${SP_BENCH_RUNTIME:-6}
ONLY=${SP_BENCH_ONLY:-iops,seq,migrate,recopy,remote,remote-tunnel}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench-lib.sh"
. "$here/guest-bench-migrate.sh"
. "$here/guest-bench-remote.sh"
. "$here/guest-bench-tunnel.sh"

# The iops benchmark's fio job: one job, fixed queue depth, pinned to one
# vCPU (the same one for every device), short runs repeated many times.
IOPS_ROUNDS=${SP_BENCH_IOPS_ROUNDS:-8}
IOPS_RUNTIME=${SP_BENCH_IOPS_RUNTIME:-1}
IOPS_QD=${SP_BENCH_IOPS_QD:-32}
IOPS_CPU=$(($(nproc) - 1))

# fio_iops <dev> <rw> -> IOPS (reads+writes)
fio_iops() {
	fio --name=b --filename="$1" --direct=1 --ioengine=libaio --rw="$2" \
		--bs=4k --iodepth="$IOPS_QD" --numjobs=1 --cpus_allowed="$IOPS_CPU" \
		--time_based --runtime="$IOPS_RUNTIME" --ramp_time=500ms \
		--size=192m --randrepeat=0 \
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

# linear_like_sp <name> <twin prefix>: a dm-linear table <name> that maps
# every slice of volume bench/v where the volume has it, on the twin of
# its member (member mK -> /dev/<prefix>K) at the same byte offset;
# slices contiguous on one twin are joined into one segment.
linear_like_sp() {
	local ss l mem p k off start=0 len=0 dev="" pend=0
	local tbl=/tmp/linear.table
	ss=$(($(cat "$CFS/bench/slice_mb") * 2048))
	: > "$tbl"
	while read -r l mem p; do
		[ "$mem" != - ] || return 1
		k=${mem#m}
		off=$(($(cat "$CFS/bench/members/$mem/data_offset") / 512 + p * ss))
		if [ -n "$dev" ] && [ "/dev/$2$k" = "$dev" ] && [ "$off" -eq "$pend" ]; then
			len=$((len + ss))
		else
			[ -z "$dev" ] || echo "$start $len linear $dev $((pend - len))" >> "$tbl"
			start=$((l * ss)) len=$ss dev=/dev/$2$k
		fi
		pend=$((off + ss))
	done < "$CFS/bench/volumes/v/map"
	[ -z "$dev" ] || echo "$start $len linear $dev $((pend - len))" >> "$tbl"
	sed 's/^/# dm-linear: /' "$tbl"
	dmsetup create "$1" < "$tbl"
}

# ---- 4 KiB random IOPS: slicepool vs dm-linear vs dm-thin ----------------
# dm-linear runs over four twins of slicepool's members, laid out like the
# volume's map, so both see the same devices, the same number of queues
# and the same share of the I/O on each.  Each round runs slicepool (S)
# and dm-linear (L) as S L L S in odd rounds and L S S L in even ones,
# then dm-thin; its ratio is (S1 + S2) / (L1 + L2), which cancels a drift
# of the guest's speed that is linear over the round.  Round 0 warms up
# and is not counted.
bench_iops() {
	local t tm sp lin thin rw r dev i rl rt aa s l th order
	local -a v
	for i in 0 1 2 3; do
		nullb_create "nb$i" 256 > /dev/null || die "null_blk nb$i"
		nullb_create "lb$i" 256 > /dev/null || die "null_blk lb$i"
	done
	t=$(nullb_create nb5 512)	# dm-thin data
	tm=$(nullb_create nb6 64)	# dm-thin metadata
	sp=$(slicepool_create 192 16 /dev/nb0 /dev/nb1 /dev/nb2 /dev/nb3) || die "cannot create the slicepool volume"
	linear_like_sp bench-linear lb || die "dm-linear"
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

	echo "fio: 1 job, iodepth $IOPS_QD, on vCPU $IOPS_CPU of $(nproc), ${IOPS_RUNTIME}s after 0.5s ramp; $IOPS_ROUNDS rounds after a warm-up"
	echo "order: S L L S (odd rounds), L S S L (even), then dm-thin; sp/linear = (S1+S2)/(L1+L2), lin-AA = L2/L1"
	printf '%-10s %5s %5s %9s %9s %9s %9s %9s %9s %8s %8s\n' test round order S1 S2 L1 L2 dm-thin sp/linear sp/thin lin-AA
	for rw in randread randwrite; do
		: > /tmp/r.lin
		: > /tmp/r.thin
		: > /tmp/r.aa
		for r in $(seq 0 "$IOPS_ROUNDS"); do
			if [ $((r % 2)) -eq 1 ]; then order=SLLS; else order=LSSL; fi
			s=()
			l=()
			for i in 0 1 2 3; do
				case ${order:i:1} in
				S) s+=("$(fio_iops "$sp" "$rw")") ;;
				L) l+=("$(fio_iops "$lin" "$rw")") ;;
				esac
			done
			th=$(fio_iops "$thin" "$rw")
			rl=$(ratio $((s[0] + s[1])) $((l[0] + l[1])))
			rt=$(ratio $(((s[0] + s[1]) / 2)) "$th")
			aa=$(ratio "${l[1]}" "${l[0]}")
			v=("$rw" "$r" "$order" "${s[0]}" "${s[1]}" "${l[0]}" "${l[1]}" "$th" "$rl" "$rt" "$aa")
			if [ "$r" -eq 0 ]; then
				v[1]=warm
			else
				echo "$rl" >> /tmp/r.lin
				echo "$rt" >> /tmp/r.thin
				echo "$aa" >> /tmp/r.aa
			fi
			printf '%-10s %5s %5s %9s %9s %9s %9s %9s %9s %8s %8s\n' "${v[@]}"
		done
		two_series iops "4k-$rw" "4k-$rw-iops" slicepool/dm-linear 0.97 /tmp/r.lin \
			slicepool/dm-thin /tmp/r.thin
		result "4k-$rw-iops slicepool/dm-linear spread $(spread < /tmp/r.lin)"
		result "4k-$rw-iops dm-linear A/A (L2/L1) median $(median < /tmp/r.aa) $(spread < /tmp/r.aa)"
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
	iops | seq | migrate | recopy | remote | remote-tunnel) ;;
	*) die "unknown benchmark '$b' in SP_BENCH_ONLY (iops, seq, migrate, recopy, remote, remote-tunnel)" ;;
	esac
done

main() {
	local b t
	modprobe null_blk nr_devices=0 || die "cannot load null_blk"
	modprobe -a dm-thin-pool dm-mirror dm-slicepool || die "cannot load dm modules"
	[ -d "$NB" ] || die "null_blk has no configfs"

	echo "slicepool benchmarks, kernel $(uname -r), $(nproc) vCPUs; $ROUNDS interleaved rounds of ${RUNTIME}s"
	: > /tmp/bench-results
	for b in iops seq migrate recopy remote remote-tunnel; do
		wanted "$b" || continue
		echo
		t=$SECONDS
		"bench_${b//-/_}"
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
