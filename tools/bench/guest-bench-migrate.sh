#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Migration benchmarks (sourced by tools/bench/guest-bench.sh, which has
# loaded null_blk, dm-mirror and dm-slicepool and sourced bench-lib.sh).
#
# bench_migrate: a volume of MIG_MB MiB moves from one failure domain to
# another with 'migrate start all domain:<other>' (the kernel's defaults),
# and an LVM logical volume of the same size from one PV to the other with
# pvmove (dm-mirror), each while the same fio job writes 4 KiB blocks at
# random over it.  Per round, load and side: the job's IOPS for MIG_IDLE
# seconds without a move, then, with the job still running, the move: its
# time (from the command to the end of the move), the bytes it copied and
# the job's IOPS meanwhile (writes completed on the dm device over the
# move's time).  The sides alternate which goes first.  Each load (MIG_LOADS)
# has its own table.  Before each of its moves, slicepool's side also
# measures the job's IOPS while every write is mirrored and nothing is
# copied (sp_mirror_only), which splits what a move costs the job into its
# per-write part and the copy's.
#
# bench_recopy: the same volume migrates once with mode=filter and once
# with mode=none (both mirror=off, so that only the passes copy), under
# the same sparse uniform random writes (fio at a low
# fixed rate, same seed), with a copy throttle so that pass 1 overlaps the
# writes; the status field <recopied> (chunk copies in passes >= 2) of each.
# Small chunks keep the writes sparse: few land twice in one chunk.

MIG_ROUNDS=${SP_BENCH_MIG_ROUNDS:-5}
MIG_MB=${SP_BENCH_MIG_MB:-64}
MIG_QD=${SP_BENCH_MIG_QD:-8}
MIG_LOADS=${SP_BENCH_MIG_LOADS:-qd8,iops100}
MIG_IDLE=${SP_BENCH_MIG_IDLE:-2}
IFS=, read -r -a MIG_ARGS <<< "${SP_BENCH_MIG_ARGS:-}"	# more words for migrate start, comma-separated
RC_MB=${SP_BENCH_RECOPY_MB:-64}
RC_IOPS=${SP_BENCH_RECOPY_IOPS:-80}
RC_RATE=${SP_BENCH_RECOPY_RATE:-12}
RC_CHUNK_KB=${SP_BENCH_RECOPY_CHUNK_KB:-16}
MIG_POLL=0.25	# seconds between two looks at dmsetup status
MIG_LOG=${SP_BENCH_LOG:-/tmp/bench-migrate.log}	# commands, their output, timings

# LVM in a guest without udev, lvmpolld or dmeventd: LVM makes the device
# nodes itself, pvmove polls in the foreground, no metadata backups (the
# VG is thrown away), and null_blk is not among LVM's built-in device types.
LVM_CONF='global { use_lvmpolld = 0 }
activation { udev_sync = 0 udev_rules = 0 verify_udev_operations = 0 monitoring = 0 }
devices { obtain_device_list_from_udev = 0 external_device_info_source = "none"
	  use_devicesfile = 0 types = [ "nullb", 16 ] }
backup { backup = 0 archive = 0 }'

# mlog <text>: a time-stamped line in the log
mlog() { printf '%s %s\n' "$EPOCHREALTIME" "$*" >> "$MIG_LOG"; }

# lvmc <command> <args>...: an LVM command, its output to the log
lvmc() {
	local c=$1
	shift
	mlog "lvm $c $*"
	LVM_SUPPRESS_FD_WARNINGS=1 lvm "$c" --config "$LVM_CONF" "$@" >> "$MIG_LOG" 2>&1
}

# mig_die <what>: the last lines of the log, then die
mig_die() {
	tail -n 15 "$MIG_LOG" | sed 's/^/bench:   /'
	die "$1"
}

# mig_status <dm name>: MS = the fields after 'migration' in dmsetup status
# as NAME=VALUE words (Documentation/dm-slicepool.rst, "Status fields")
mig_status() {
	local -a w k=(state mode range dest pass cursor planned remaining dirty writes_seen
		dirty_set filtered cleared copied recopied bytes_copied rate hold_us error mirror mirrored
		busy_share paced_ms)
	local i j
	read -r -a w <<< "$(dmsetup status "$1")"
	MS=""
	for ((i = 0; i < ${#w[@]}; i++)); do
		[ "${w[i]}" = migration ] || continue
		for ((j = 0; j < ${#k[@]}; j++)); do MS+="${k[j]}=${w[i + 1 + j]:-} "; done
		break
	done
}

# field <NAME> <NAME=VALUE words>
field() {
	local w
	for w in $2; do
		[ "${w%%=*}" = "$1" ] && { echo "${w#*=}"; return; }
	done
}

# mig_wait <dm name>: poll the migration until it has ended; MS its status
mig_wait() {
	local i state
	for ((i = 0; i < 24000; i++)); do	# an hour at most
		mig_status "$1"
		state=$(field state "$MS")
		case $state in copying | switching) nap "$MIG_POLL" ;; *) return ;; esac
	done
}

# fg_start <dev> <stat file> <fio args>...: start a fio job writing to the
# device in the background (FG_PID) and return once its writes flow.
fg_start() {
	local dev=$1 st=$2 w0 i flowing=0
	shift 2
	mlog "fio $dev $*"
	fio --name=fg --thread --filename="$dev" --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=4k --time_based --runtime=3600 "$@" > /tmp/bench-fg.log 2>&1 &
	FG_PID=$!
	writes_done "$st"
	w0=$WD
	for ((i = 0; i < 300; i++)); do
		nap 0.1
		writes_done "$st"
		[ "$WD" -gt "$w0" ] && { flowing=1; break; }
		kill -0 "$FG_PID" 2>/dev/null || break
	done
	if [ $flowing -eq 0 ] || ! kill -0 "$FG_PID" 2>/dev/null; then
		cat /tmp/bench-fg.log
		die "fio does not write to $dev"
	fi
	mlog "fio writes"
	nap 0.5	# past fio's ramp
}

# fg_stop: end the job (SIGKILL: its summary is not needed, and it takes
# fio seconds to print one in a busy guest; --thread above keeps the job in
# this one process)
fg_stop() {
	kill -KILL "$FG_PID" 2>/dev/null
	wait "$FG_PID" 2>/dev/null
	mlog "fio stopped"
}

# fg_idle <stat file>: R_IDLE = IOPS of the running job over MIG_IDLE s
fg_idle() {
	local w0 t0 t1
	writes_done "$1"
	w0=$WD t0=$EPOCHREALTIME
	nap "$MIG_IDLE"
	writes_done "$1"
	t1=$EPOCHREALTIME
	R_IDLE=$(per_second "$w0" "$WD" "$t0" "$t1")
}

MIG_FIO=()	# the foreground job of bench_migrate (mig_load)

# The two sides are set up once and moved back and forth, one move per
# round and load: a round's source is the previous round's destination.
# Both have one source and one destination device of the same size (a
# memory-backed null_blk serialises on a lock per device, so more members
# would favour slicepool).

# ---- slicepool side --------------------------------------------------------
# Pool mig, 16 MiB slices: member a0 in domain a holds volume v; b0 in
# domain b is enabled after the volume is placed (so that nothing is placed
# on it) and before its table is loaded (a migration needs that).
SP_AT=a

# two_domain_pool <pool> <MiB> <null_blk prefix>: that pool, 16 MiB slices,
# over null_blk devices <prefix>0 (member a0, domain a) and <prefix>1 (b0,
# domain b, enabled after volume v of <MiB> is placed), and v's table as
# sp-<pool>.
two_domain_pool() {
	nullb_create "${3}0" $(($2 + 16)) > /dev/null &&
		nullb_create "${3}1" $(($2 + 16)) > /dev/null &&
		sp_pool_create "$1" 16 1 &&
		sp_member_add "$1" a0 "/dev/${3}0" a &&
		sp_volume_create "$1" v "$2" &&
		sp_member_add "$1" b0 "/dev/${3}1" b &&
		dmsetup create "sp-$1" --table "0 $(($2 * 2048)) slicepool $1 v"
}

mig_sp_setup() {
	two_domain_pool mig "$MIG_MB" msp &&
		dd if=/dev/zero of=/dev/mapper/sp-mig bs=1M count="$MIG_MB" oflag=direct status=none
}

mig_sp_teardown() {
	sp_pool_remove mig sp-mig
	nullb_remove msp0 msp1
}

# sp_moved <from member> <st>: wait until the move has ended, without
# forking while it runs: the source member's slices are all free again
# once the move has been committed and its sources released, just before
# the state becomes done.  Then T1 and W1 (writes done on <st>) at that
# moment, and MS the migration's status once it has ended.
sp_moved() {
	local src=$CFS/mig/members/$1 total free i state
	read -r total < "$src/total_slices"
	for ((i = 1; ; i++)); do
		read -r free < "$src/free_slices"
		[ "$free" != "$total" ] || break
		nap 0.05
		((i % 40)) || {	# has it failed?  (a look every 2 s)
			mig_status sp-mig
			state=$(field state "$MS")
			[ "$state" = copying ] || [ "$state" = switching ] || break
		}
	done
	T1=$EPOCHREALTIME
	writes_done "$2"
	W1=$WD
	mig_wait sp-mig
}

# sp_mirror_only <to> <st>: R_MIRROR = IOPS of the running job over
# MIG_IDLE s while every write to the volume is mirrored and nothing is
# copied (a manual job to <to> with mirror=on, stepped to the end of its
# first pass, then aborted): what a move costs each write, apart from the
# copy itself.
sp_mirror_only() {
	local planned
	dmsetup message sp-mig 0 migrate start all "domain:$1" manual mirror=on >> "$MIG_LOG" 2>&1 ||
		{ fg_stop; mig_die "migrate start manual refused"; }
	mig_status sp-mig
	planned=$(field planned "$MS")
	dmsetup message sp-mig 0 migrate step "$planned" >> "$MIG_LOG" 2>&1 ||
		{ fg_stop; mig_die "migrate step $planned refused"; }
	fg_idle "$2"
	R_MIRROR=$R_IDLE
	dmsetup message sp-mig 0 migrate abort >> "$MIG_LOG" 2>&1 ||
		{ fg_stop; mig_die "migrate abort refused"; }
	mig_wait sp-mig
	mlog "mirror only: $R_MIRROR IOPS"
}

# One move: sets R_TIME R_MB R_IDLE R_MOVE R_HOLD R_INFO R_MIRROR.
mig_round_sp() {
	local from=${SP_AT}0 to st w0 t0 s state idle
	if [ "$SP_AT" = a ]; then to=b; else to=a; fi
	st=$(dm_stat sp-mig) || die "no block statistics for sp-mig"
	fg_start /dev/mapper/sp-mig "$st" "${MIG_FIO[@]}"
	fg_idle "$st"
	idle=$R_IDLE
	sp_mirror_only "$to" "$st"
	R_IDLE=$idle
	mlog "migrate start all domain:$to ${MIG_ARGS[*]}"
	writes_done "$st"
	w0=$WD t0=$EPOCHREALTIME
	dmsetup message sp-mig 0 migrate start all "domain:$to" "${MIG_ARGS[@]}" \
		>> "$MIG_LOG" 2>&1 ||
		{ fg_stop; mig_die "migrate start refused"; }
	sp_moved "$from" "$st"
	R_TIME=$(seconds "$t0" "$T1")
	R_MOVE=$(per_second "$w0" "$W1" "$t0" "$T1")
	fg_stop
	s=$MS
	mlog "end: $s"
	state=$(field state "$s")
	[ "$state" = "done" ] || { echo "bench: migration to $to ended '$state': $s"; R_TIME=nan; }
	R_MB=$(($(field bytes_copied "$s") >> 20))
	R_HOLD=$(us_to_s "$(field hold_us "$s")")
	R_INFO="passes $(field pass "$s"), copied $(field copied "$s") chunks ($(field recopied "$s") again), writes seen $(field writes_seen "$s")"
	[ "$(awk -v m="${to}0" '$2 != m' "$CFS/mig/volumes/v/map" | wc -l)" -eq 0 ] ||
		die "slicepool: slices not on ${to}0 after the migration"
	SP_AT=$to
}

# ---- LVM side ----------------------------------------------------------------
# VG benchvg on PVs mlv0 and mlv1 of the same size; LV lv on mlv0 first.
# pvmove polls every second (-i 1; the default is 15 s).
LV_AT=mlv0

mig_lvm_setup() {
	nullb_create mlv0 $((MIG_MB + 16)) > /dev/null &&
		nullb_create mlv1 $((MIG_MB + 16)) > /dev/null &&
		lvmc pvcreate -q /dev/mlv0 /dev/mlv1 &&
		lvmc vgcreate -q -s 4m benchvg /dev/mlv0 /dev/mlv1 &&
		lvmc lvcreate -q -an -Zn -y -L "${MIG_MB}m" -n lv benchvg /dev/mlv0 &&
		lvmc lvchange -q -ay benchvg/lv &&
		dd if=/dev/zero of=/dev/mapper/benchvg-lv bs=1M count="$MIG_MB" oflag=direct status=none
}

mig_lvm_teardown() {
	if ! lvmc lvremove -q -y benchvg/lv || ! lvmc vgremove -q -y benchvg ||
	   ! lvmc pvremove -q /dev/mlv0 /dev/mlv1; then
		mig_die "cannot remove the LVM volume"
	fi
	nullb_remove mlv0 mlv1
}

# One move: sets R_TIME R_MB R_IDLE R_MOVE R_INFO (when dm-mirror's status
# was first seen with every region in sync; the looks at it fork dmsetup,
# so in a busy guest they are a second or more apart).
mig_round_lvm() {
	local to st w0 t0 t1 w1 tsync="" pid rc s last="" len=0
	if [ "$LV_AT" = mlv0 ]; then to=mlv1; else to=mlv0; fi
	st=$(dm_stat benchvg-lv) || die "no block statistics for benchvg-lv"
	fg_start /dev/mapper/benchvg-lv "$st" "${MIG_FIO[@]}"
	fg_idle "$st"
	rm -f /tmp/bench-pvmove.end
	writes_done "$st"
	w0=$WD t0=$EPOCHREALTIME
	# The time and the writes done when pvmove exits, taken right then.
	(
		lvmc pvmove -i 1 "/dev/$LV_AT" "/dev/$to"
		rc=$?
		writes_done "$st"
		echo "$EPOCHREALTIME $WD $rc" > /tmp/bench-pvmove.end
	) &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		# "0 <len> mirror 2 <dev> <dev> <in sync>/<regions> ..."
		s=$(dmsetup status benchvg-pvmove0 2>/dev/null)
		[ "$s" = "$last" ] || mlog "pvmove0: $s"
		last=$s
		if [ -n "$tsync" ]; then
			:
		elif [[ $s =~ ^0\ ([0-9]+)\ mirror\ 2\ [^\ ]+\ [^\ ]+\ ([0-9]+)/([0-9]+)\  ]]; then
			len=${BASH_REMATCH[1]}
			[ "${BASH_REMATCH[2]}" != "${BASH_REMATCH[3]}" ] || tsync=$EPOCHREALTIME
		elif [ "$len" -gt 0 ]; then
			# Seen, and gone: it was in sync before this look.
			tsync=$EPOCHREALTIME
		fi
		nap "$MIG_POLL"
	done
	wait "$pid"
	read -r t1 w1 rc < /tmp/bench-pvmove.end || die "pvmove: no end time"
	mlog "pvmove ended ($rc)"
	R_TIME=$(seconds "$t0" "$t1")
	R_MOVE=$(per_second "$w0" "$w1" "$t0" "$t1")
	fg_stop
	[ "$rc" -eq 0 ] || mig_die "pvmove failed ($rc)"
	# dm-mirror copies each region once (writes go to both legs meanwhile).
	R_MB=$MIG_MB
	if [ -n "$tsync" ]; then
		R_INFO=$(seconds "$t0" "$tsync")
	else
		R_INFO=nan
	fi
	[ "$(dmsetup table benchvg-lv | awk '{ print $4 }')" = "$(cat "/sys/block/$to/dev")" ] ||
		die "LVM: the LV is not on $to after pvmove: $(dmsetup table benchvg-lv)"
	LV_AT=$to
}

# mig_load <load>: the fio arguments of a foreground load (MIG_FIO):
# qd<N> is iodepth N, unthrottled; iops<N> is N writes a second (iodepth
# MIG_QD), a load light enough for a pre-copy to keep up with.
mig_load() {
	case $1 in
	qd[1-9]*) MIG_FIO=(--iodepth="${1#qd}") ;;
	iops[1-9]*) MIG_FIO=(--iodepth="$MIG_QD" --rate_iops="${1#iops}") ;;
	*) die "bad load '$1' in SP_BENCH_MIG_LOADS (qd<N> or iops<N>)" ;;
	esac
	MIG_FIO+=(--size="${MIG_MB}m")
}

# mig_table <load>: MIG_ROUNDS rounds of both sides under that load
mig_table() {
	local load=$1 r side sp_t sp_mb sp_i sp_m sp_h sp_info lv_t lv_mb lv_i lv_m lv_sync
	local fmt='%-15s %5s %7s %7s %6s %9s %9s %6s %6s %7s %9s %8s %7s %9s %8s\n'
	local t
	for t in time copy sp lv spmb lvmb mirr; do : > "/tmp/m.$t"; done
	# shellcheck disable=SC2059 # the format is a variable on purpose
	printf "$fmt" test round sp-s pv-s sp/pv pv-sync-s sp-hold-s sp-MiB pv-MiB sp-idle sp-during sp-ratio pv-idle pv-during pv-ratio
	for r in $(seq 1 "$MIG_ROUNDS"); do
		mig_load "$load"
		MIG_FIO+=(--randseed=$((4242 + r)))
		if [ $((r % 2)) -eq 1 ]; then set -- sp lvm; else set -- lvm sp; fi
		for side in "$@"; do
			"mig_round_$side"
			if [ "$side" = sp ]; then
				sp_t=$R_TIME sp_mb=$R_MB sp_i=$R_IDLE sp_m=$R_MOVE sp_h=$R_HOLD sp_info=$R_INFO
				ratio "$R_MIRROR" "$R_IDLE" >> /tmp/m.mirr
			else
				lv_t=$R_TIME lv_mb=$R_MB lv_i=$R_IDLE lv_m=$R_MOVE lv_sync=$R_INFO
			fi
		done
		ratio "$sp_t" "$lv_t" >> /tmp/m.time
		ratio "$sp_t" "$lv_sync" >> /tmp/m.copy
		ratio "$sp_m" "$sp_i" >> /tmp/m.sp
		ratio "$lv_m" "$lv_i" >> /tmp/m.lv
		echo "$sp_mb" >> /tmp/m.spmb
		echo "$lv_mb" >> /tmp/m.lvmb
		# shellcheck disable=SC2059
		printf "$fmt" "migrate-$load" "$r" "$sp_t" "$lv_t" "$(tail -n 1 /tmp/m.time)" "$lv_sync" "$sp_h" \
			"$sp_mb" "$lv_mb" "$sp_i" "$sp_m" "$(tail -n 1 /tmp/m.sp)" "$lv_i" "$lv_m" "$(tail -n 1 /tmp/m.lv)"
		echo "#   slicepool round $r: $sp_info; all writes mirrored, no copy: $(tail -n 1 /tmp/m.mirr) of idle"
	done
	series "migrate-$load" "time slicepool/pvmove" le 0.50 < /tmp/m.time
	series "migrate-$load" "time slicepool/pvmove-in-sync" < /tmp/m.copy
	series "migrate-$load" "fg-iops slicepool during/idle" ge 0.70 < /tmp/m.sp
	series "migrate-$load" "fg-iops pvmove during/idle" < /tmp/m.lv
	series "migrate-$load" "fg-iops all-mirrored-no-copy/idle" < /tmp/m.mirr
	r=$(median < /tmp/m.time)
	result "migrate-$load time slicepool/pvmove median $r (target <= 0.50) $(verdict "$r" le 0.50)"
	result "migrate-$load time slicepool/pvmove-mirror-in-sync median $(median < /tmp/m.copy)"
	r=$(median < /tmp/m.sp)
	result "migrate-$load fg-iops slicepool during/idle median $r (target >= 0.70) $(verdict "$r" ge 0.70)"
	result "migrate-$load fg-iops pvmove during/idle    median $(median < /tmp/m.lv)"
	result "migrate-$load fg-iops slicepool all-mirrored-no-copy/idle median $(median < /tmp/m.mirr)"
	result "migrate-$load copied MiB slicepool median $(median < /tmp/m.spmb), pvmove median $(median < /tmp/m.lvmb) (volume ${MIG_MB})"
}

bench_migrate() {
	local load first=1
	echo "migration of a ${MIG_MB} MiB volume back and forth between two devices: slicepool"
	echo "'migrate start all domain:<other>' (defaults) vs LVM 'pvmove -i 1 <PV> <other PV>', under"
	echo "fio 4k randwrite: IOPS idle over ${MIG_IDLE}s, then during the move; times from the command"
	echo "to the end of the move; $MIG_ROUNDS interleaved rounds per load"
	for load in ${MIG_LOADS//,/ }; do mig_load "$load"; done	# check them first
	mig_sp_setup || die "cannot set up the slicepool volume"
	mig_lvm_setup || mig_die "cannot set up the LVM volume"
	for load in ${MIG_LOADS//,/ }; do
		[ $first -eq 1 ] || echo
		first=0
		mig_table "$load"
	done
	mig_sp_teardown
	mig_lvm_teardown
}

# ---- re-copied chunks: mode=filter vs mode=none ------------------------------
# Pool rc, 16 MiB slices, set up once: member a0 (domain a) holds volume
# v, b0 (domain b) is enabled after the volume is placed and before its
# table is loaded; each run moves the volume to the other domain.
RC_AT=a

rc_setup() { two_domain_pool rc "$RC_MB" mrc; }

# recopy_run <mode> <seed>: fio at RC_IOPS random 4 KiB writes over the
# volume, then the migration at RC_RATE MiB/s; sets R_RECOPIED R_INFO.
recopy_run() {
	local mode=$1 seed=$2 to st s state
	if [ "$RC_AT" = a ]; then to=b; else to=a; fi
	st=$(dm_stat sp-rc) || die "no block statistics for sp-rc"
	fg_start /dev/mapper/sp-rc "$st" --iodepth=1 --size="${RC_MB}m" --rate_iops="$RC_IOPS" \
		--randseed="$seed"
	# mirror=off: the passes alone, so that the filter is what differs.
	mlog "migrate start all domain:$to mode=$mode mirror=off rate=$RC_RATE chunk_kb=$RC_CHUNK_KB"
	dmsetup message sp-rc 0 migrate start all "domain:$to" mode="$mode" mirror=off \
		rate="$RC_RATE" chunk_kb="$RC_CHUNK_KB" >> "$MIG_LOG" 2>&1 || { fg_stop; mig_die "migrate start refused"; }
	mig_wait sp-rc
	fg_stop
	s=$MS
	mlog "end: $s"
	state=$(field state "$s")
	R_RECOPIED=$(field recopied "$s")
	R_INFO="$(field writes_seen "$s")/$(field filtered "$s")/$(field pass "$s")"
	[ "$state" = "done" ] || { echo "bench: $mode migration ended '$state': $s"; R_RECOPIED=nan; }
	RC_AT=$to
}

bench_recopy() {
	local r mode f n fx nx seed
	local fmt='%-8s %5s %8s %8s %8s %20s %20s\n'
	: > /tmp/c.ratio
	echo "re-copied chunks of a ${RC_MB} MiB volume migrated at ${RC_RATE} MiB/s in ${RC_CHUNK_KB} KiB chunks,"
	echo "under fio 4k randwrite at ${RC_IOPS} IOPS (same seed for both modes), mirror=off; $MIG_ROUNDS rounds"
	# shellcheck disable=SC2059
	printf "$fmt" test round filter none f/n "filter seen/filt/pass" "none seen/filt/pass"
	rc_setup || die "cannot set up the slicepool volume"
	for r in $(seq 1 "$MIG_ROUNDS"); do
		seed=$((777 + r))
		if [ $((r % 2)) -eq 1 ]; then set -- filter none; else set -- none filter; fi
		for mode in "$@"; do
			recopy_run "$mode" "$seed"
			if [ "$mode" = filter ]; then f=$R_RECOPIED fx=$R_INFO; else n=$R_RECOPIED nx=$R_INFO; fi
		done
		ratio "$f" "$n" >> /tmp/c.ratio
		# shellcheck disable=SC2059
		printf "$fmt" recopy "$r" "$f" "$n" "$(tail -n 1 /tmp/c.ratio)" "$fx" "$nx"
	done
	sp_pool_remove rc sp-rc
	nullb_remove mrc0 mrc1
	series recopy "recopied-chunks filter/none" le 0.55 < /tmp/c.ratio
	r=$(median < /tmp/c.ratio)
	result "recopied-chunks filter/none median $r (target <= 0.55) $(verdict "$r" le 0.55)"
}
