#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power cut, the scenario (sourced by md3_powercut.sh; not run): on a
# pool of metadata format 3, three members are dm-linear
# pieces of one device wrapped by dm-log-writes, so one log holds every
# member write in order.  Format, create v and w, expand v, shrink v and
# delete w run with a mark after each.  The log is then replayed to every
# flush/FUA point; at each point a copy is reassembled and must give a
# consistent pool: every member accepted, every volume either in its state
# before or after the operation in flight (never a lost committed volume),
# no physical slice in two maps, no missing slice, and after "reclaim"
# used + free = total.  make check checks the first point after each mark,
# every second (so that each member add's points between its device's
# labels and its commit, two in a row, are checked) and the last; make
# check-full (SP_FULL=1) checks every point.
#
# A point inside a member add finds the new member's device
# holding an add that did not commit: enabling it formats it again as a
# new member, and the run must have logged that at least once.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

M=$((1 << 20))

# pc_check_point MARKS POINT: reassemble the copy of the replay
# device.  It runs at every checked point, so it starts few programs (each
# costs much under TCG): one dmsetup to create the devices, one to remove
# them, one mkdir and two rmdir for the configfs objects; the rest is the
# shell's.
pc_check_point() {
	local marks=$1 rc=0 k v got allowed allowed_v allowed_w n b vols
	pc_check_open sp 3 "$PIECE" "$2" pc 4 || rc=1
	# Allowed sizes (MiB, - for absent) per number of completed marks:
	# mark 1 formatted, 2 created v, 3 created w, 4 expanded v,
	# 5 shrunk v, 6 deleted w.
	# (7: the log's own end mark.)
	allowed_v=("-" "- 16" "16" "16 32" "32 8" "8" "8" "8")
	allowed_w=("-" "-" "- 8" "8" "8" "8 -" "-" "-")
	k=$marks
	[ "$k" -le 7 ] || k=7
	declare -A size
	while read -r n _ b; do size[$n]=$((b / M)); done < "$P/discovered"
	for v in v w; do
		if [ $v = v ]; then allowed=${allowed_v[$k]}; else allowed=${allowed_w[$k]}; fi
		got=${size[$v]:--}
		case " $allowed " in
		*" $got "*) ;;
		*) bad "volume $v is '$got' MiB, allowed '$allowed' after $marks marks"; rc=1 ;;
		esac
	done
	vols=()
	for n in "${!size[@]}"; do vols+=("$P/volumes/$n"); done
	[ ${#vols[@]} -eq 0 ] || mkdir "${vols[@]}" || rc=1
	pc_maps_check "${vols[@]}" || rc=1
	echo 1 > "$P/reclaim" || { bad "reclaim failed"; rc=1; }
	pc_sum_teardown sp 3 "${vols[@]}" || rc=1
	return $rc
}

# powercut_run 3 [--check MARKS POINT]: the scenario (3: the pool's
# metadata format, the only one), or (--check, as powercut-replay.py runs
# the test again) the check of one point.
powercut_run() {
	local readds
	[ "$1" = 3 ] || sp_die "powercut_run: metadata format '$1': only 3 exists"
	shift
	# sectors per member: 40 MiB (two labels and a 4 MiB journal before
	# a data area of 8 slices of 4 MiB)
	PIECE=81920
	SZ=$((3 * PIECE))
	if [ "${1:-}" = --check ]; then
		pc_check_point "$2" "$3"
		exit
	fi

	sp_start 4 4
	for d in spk0 spk1 spk2 spss spp0 spp1 spp2 splw sprp spsc; do dmsetup remove "$d" 2> /dev/null; done
	sp_wipe "${DISKS[@]:0:4}"
	dd if=/dev/zero of="${DISKS[0]}" bs=1M count=$((SZ / 2048)) oflag=direct status=none
	dmsetup create splw --table "0 $SZ log-writes ${DISKS[0]} ${DISKS[1]}" ||
		sp_die "dm-log-writes"
	for i in 0 1 2; do
		dmsetup create "spp$i" --table "0 $PIECE linear /dev/mapper/splw $((i * PIECE))" ||
			sp_die "piece $i"
	done
	mark() { dmsetup message splw 0 mark "$1" || sp_die "mark $1"; }

	sp_pool pc 4
	sp_member pc m0 /dev/mapper/spp0 d0
	sp_member pc m1 /dev/mapper/spp1 d1
	sp_member pc m2 /dev/mapper/spp2 d2
	mark formatted
	sp_volume pc v 16M
	mark created_v
	sp_volume pc w 8M
	mark created_w
	echo 32M > "$SP_CFG/pc/volumes/v/size" || sp_die "expand v"
	mark expanded_v
	echo 8M > "$SP_CFG/pc/volumes/v/size" || sp_die "shrink v"
	mark shrunk_v
	echo 0 > "$SP_CFG/pc/volumes/w/size" || sp_die "delete w"
	mark deleted_w
	ktap_ok "format, create, expand, shrink and delete logged"
	sp_teardown
	for i in 0 1 2; do dmsetup remove "spp$i"; done
	dmsetup remove splw || sp_die "remove log-writes"

	kmsg_mark
	pc_replay sp "$SZ" 2 20 "reassembles consistently"
	readds=$(kmsg_count ': m[12]: /dev/mapper/spk[12] held an add to pool pc that did not commit; formatting it again$')
	ktap_check "an add that did not commit was formatted again ($readds points)" \
		[ "$readds" -ge 1 ]
	sp_unload
	ktap_finish
}
