#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers of the in-guest benchmarks (sourced by tools/bench/guest-bench.sh
# and tools/bench/guest-bench-migrate.sh, not run): memory-backed null_blk
# devices, slicepool pools and volumes through configfs, medians, ratios.

NB=/sys/kernel/config/nullb
CFS=/sys/kernel/config/slicepool
export DM_DISABLE_UDEV=1

die() { echo "bench: $*"; exit 1; }

# nullb_create <name> <size MiB> [<mbps>]: a memory-backed null_blk device
# /dev/<name>, made through null_blk's configfs; prints its path.
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

# nullb_remove <name>...
nullb_remove() {
	local n
	for n in "$@"; do
		[ -d "$NB/$n" ] || continue
		echo 0 > "$NB/$n/power"
		rmdir "$NB/$n"
	done
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

# sp_pool_create <pool> <slice MiB> <min_domains>
sp_pool_create() {
	mkdir "$CFS/$1" || return 1
	echo "$2" > "$CFS/$1/slice_mb" || return 1
	echo "$3" > "$CFS/$1/min_domains" || return 1
}

# sp_member_add <pool> <member> <device> <domain>: enabled, load pinned at 0
sp_member_add() {
	local m=$CFS/$1/members/$2
	mkdir "$m" || return 1
	echo "$3" > "$m/path" || return 1
	echo "$4" > "$m/domain" || return 1
	echo 0 > "$m/load_override" || return 1
	echo 1 > "$m/enable" || return 1
}

# sp_volume_create <pool> <volume> <size MiB>
sp_volume_create() {
	mkdir "$CFS/$1/volumes/$2" || return 1
	echo "$3M" > "$CFS/$1/volumes/$2/size" || return 1
}

# sp_pool_remove <pool> [<dm name>...]: the tables first, then the pool.
sp_pool_remove() {
	local p=$CFS/$1 m v
	shift
	for v in "$@"; do dmsetup remove --retry "$v" 2>/dev/null; done
	[ -d "$p" ] || return 0
	for v in "$p"/volumes/*/; do [ -d "$v" ] && rmdir "$v"; done
	for m in "$p"/members/*/; do
		[ -d "$m" ] || continue
		echo 0 > "$m/enable"
		rmdir "$m"
	done
	rmdir "$p"
}

# A slicepool pool over the given devices, one failure domain each, and one
# volume of the given size; prints the dm device.
slicepool_create() {
	local size_mb=$1 slice_mb=$2 i=0 d
	shift 2
	sp_pool_create bench "$slice_mb" "$#" || return 1
	for d in "$@"; do
		sp_member_add bench "m$i" "$d" "dom$i" || return 1
		i=$((i + 1))
	done
	sp_volume_create bench v "$size_mb" || return 1
	dmsetup create sp-bench --table "0 $((size_mb * 2048)) slicepool bench v" || return 1
	echo /dev/mapper/sp-bench
}

slicepool_remove() { sp_pool_remove bench sp-bench; }

# dm_stat <dm name>: the device's /sys/dev/block/<major>:<minor>/stat
dm_stat() {
	local mm
	mm=$(dmsetup info -c --noheadings -o major,minor "$1") || return 1
	mm=${mm//[[:space:]]/}
	[ -r "/sys/dev/block/$mm/stat" ] || return 1
	echo "/sys/dev/block/$mm/stat"
}

# writes_done <stat file>: WD = writes completed on that block device
# (without a fork: cheap enough to poll)
writes_done() {
	local a
	read -r -a a < "$1"
	# shellcheck disable=SC2034 # for the caller
	WD=${a[4]}
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# spread < FILE: "p25 <q1> p75 <q3> min <lo> max <hi> n <count>" of the
# values in FILE, one a line (quartiles interpolated between ranks)
spread() {
	sort -g | awk '
		function q(p,  h, i) { h = (NR - 1) * p + 1; i = int(h); return a[i] + (h - i) * (a[i + 1] - a[i]) }
		{ a[NR] = $1 }
		END {
			if (!NR) { print "n 0"; exit }
			a[NR + 1] = a[NR]
			printf "p25 %.3f p75 %.3f min %.3f max %.3f n %d\n", q(0.25), q(0.75), a[1], a[NR], NR
		}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "nan" }'; }
# nap <seconds>: sleep without a fork (a fork and exec of sleep(1) takes
# long in a busy TCG guest): a read that times out on a FIFO nobody writes.
NAP_FD=""
nap() {
	if [ -z "$NAP_FD" ]; then
		rm -f /tmp/bench-nap
		mkfifo /tmp/bench-nap || die "cannot make /tmp/bench-nap"
		exec {NAP_FD}<> /tmp/bench-nap
	fi
	read -r -t "$1" -u "$NAP_FD" _ || :
}

# us_to_s <microseconds>: seconds, two decimals
us_to_s() { printf '%d.%02d\n' $(($1 / 1000000)) $(($1 % 1000000 / 10000)); }

# seconds <from> <to>: elapsed, from two $EPOCHREALTIME stamps (no fork)
seconds() { us_to_s $((${2/./} - ${1/./})); }

# per_second <count0> <count1> <from> <to>: the rate, from two
# $EPOCHREALTIME stamps (no fork)
per_second() {
	local d=$((${4/./} - ${3/./}))
	[ "$d" -gt 0 ] || { echo nan; return; }
	echo $((($2 - $1) * 1000000 / d))
}

# result <text>: print a RESULT line and keep it for the summary
result() {
	echo "RESULT $*"
	echo "$*" >> /tmp/bench-results
}

# series <chart> <label> [<le|ge> <target>] < FILE: the per-round values of
# one ratio (one a line in FILE) on a SERIES line, which tools/bench/charts.sh
# draws as one PNG per chart next to the report.
series() {
	local tgt=-
	[ $# -lt 4 ] || tgt="$3 $4"
	echo "SERIES $1 | $2 | $tgt | $(tr '\n' ' ' | sed 's/ *$//')"
}

# verdict <value> <le|ge> <target>: PASS or MISS (a miss never fails the
# bench: it is reported, not judged)
verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (v != "nan") && ((op == "le" && v + 0 <= t + 0) || (op == "ge" && v + 0 >= t + 0))
		print ok ? "PASS" : "MISS"
	}'
}
