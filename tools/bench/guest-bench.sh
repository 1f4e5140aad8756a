#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# In-guest benchmarks (run by 'make bench').  Members are memory-backed
# null_blk devices, created through null_blk's configfs so bandwidth caps
# can be set.  Every case runs interleaved with its peers, ROUNDS times,
# and reports the median of the per-round ratios.
set -u
ROUNDS=${SP_BENCH_ROUNDS:-5}
RUNTIME=${SP_BENCH_RUNTIME:-6}
NB=/sys/kernel/config/nullb
CFS=/sys/kernel/config/slicepool
export DM_DISABLE_UDEV=1

die() { echo "bench: $*"; exit 1; }

# nullb_create <name> <size MiB> [<mbps>]
nullb_create() {
	local d=$NB/$1
	mkdir "$d" || return 1
	echo "$2" > "$d/size"
	echo 1 > "$d/memory_backed"
	echo 4096 > "$d/blocksize"
	echo 2 > "$d/queue_mode"
	echo 1 > "$d/discard"
	[ -z "${3:-}" ] || echo "$3" > "$d/mbps"
	echo 1 > "$d/power"
	echo "/dev/$1"
}

nullb_remove_all() {
	local d
	for d in "$NB"/*/; do
		[ -d "$d" ] || continue
		echo 0 > "$d/power"
		rmdir "$d"
	done
}

sectors() { blockdev --getsz "$1"; }

# A slicepool pool over the given devices, one failure domain each, and one
# volume of the given size; prints the dm device.
slicepool_create() {
	local size_mb=$1 slice_mb=$2 i=0 d
	shift 2
	mkdir "$CFS/bench" || return 1
	echo "$slice_mb" > "$CFS/bench/slice_mb"
	for d in "$@"; do
		mkdir "$CFS/bench/members/m$i"
		echo "$d" > "$CFS/bench/members/m$i/path"
		echo "dom$i" > "$CFS/bench/members/m$i/domain"
		echo 0 > "$CFS/bench/members/m$i/load_override"
		echo 1 > "$CFS/bench/members/m$i/enable" || return 1
		i=$((i + 1))
	done
	echo "$i" > "$CFS/bench/min_domains"
	mkdir "$CFS/bench/volumes/v"
	echo "${size_mb}M" > "$CFS/bench/volumes/v/size" || return 1
	dmsetup create sp-bench --table "0 $((size_mb * 2048)) slicepool bench v" || return 1
	echo /dev/mapper/sp-bench
}

slicepool_remove() {
	local m
	dmsetup remove sp-bench 2>/dev/null
	rmdir "$CFS/bench/volumes/v" 2>/dev/null
	for m in "$CFS"/bench/members/*/; do
		[ -d "$m" ] || continue
		echo 0 > "$m/enable"
		rmdir "$m"
	done
	rmdir "$CFS/bench" 2>/dev/null
}

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

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "nan" }'; }

modprobe null_blk nr_devices=0 || die "cannot load null_blk"
modprobe -a dm-thin-pool dm-slicepool || die "cannot load dm modules"
[ -d "$NB" ] || die "null_blk has no configfs"

echo "slicepool benchmarks, kernel $(uname -r), $(nproc) vCPUs; $ROUNDS interleaved rounds of ${RUNTIME}s"
echo

# ---- 4 KiB random IOPS: slicepool vs dm-linear vs dm-thin ----------------
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
	echo "RESULT 4k-$rw-iops slicepool/dm-linear median $(median < /tmp/r.lin) (target >= 0.97)"
	echo "RESULT 4k-$rw-iops slicepool/dm-thin   median $(median < /tmp/r.thin)"
done
dmsetup remove bench-thin
dmsetup remove bench-pool
dmsetup remove bench-linear
slicepool_remove
nullb_remove_all
echo

# ---- sequential 1 MiB over 4 capped members: slicepool vs dm-stripe -------
CAP=${SP_BENCH_CAP_MBPS:-40}
# Each side gets its own four capped devices (the pool holds its members
# exclusively).  Reads of never-written null_blk memory cost no memory.
for i in 0 1 2 3 4 5 6 7; do nullb_create "cap$i" 256 "$CAP" > /dev/null; done
# Same geometry as dm-stripe's 1 MiB chunks: 1 MiB slices, which placement
# orders round-robin over the four domains.  (With large slices a single
# sequential stream is served by one member at a time: slicepool
# concatenates slices, it does not stripe them.)
sp=$(slicepool_create 768 1 /dev/cap0 /dev/cap1 /dev/cap2 /dev/cap3) || die "slicepool over capped members"
dmsetup create bench-stripe --table "0 $((768 * 2048)) striped 4 2048 /dev/cap4 0 /dev/cap5 0 /dev/cap6 0 /dev/cap7 0" || die "dm-stripe"
st=/dev/mapper/bench-stripe
sum=$((4 * CAP))
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
echo "RESULT seq-1m-read MiB/s slicepool/sum-of-caps median $(median < /tmp/s.sum) (target >= 0.90)"
echo "RESULT seq-1m-read MiB/s slicepool/dm-stripe   median $(median < /tmp/s.st)"
dmsetup remove bench-stripe
slicepool_remove
nullb_remove_all
