#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Power cut during live migrations.  Four members are dm-linear pieces of
# one device wrapped by dm-log-writes, so one log holds every member write
# in order.  A volume with known data migrates whole to another domain,
# then two slices move back, two more move to a third domain, and one
# migration is aborted, with a mark after each.  The log is then replayed
# to every flush/FUA point; at each point a copy is reassembled and must
# give: the volume with its size, no missing slice, no physical slice
# mapped twice, every slice reading back its data (it is whole on the side
# the metadata names), and after "reclaim" used + free = total.  make
# check checks the first point after each mark, every 12th and the last;
# make check-full (SP_FULL=1) checks every point.  On metadata format 3
# (one commit per operation) the migrations log about 35 points after the
# first mark (on format 2, more than 50).
. "$(dirname "$0")/lib.sh"

PIECE=32768			# sectors per member (16 MiB: 5 of metadata, 5 slices)
SZ=$((4 * PIECE))
SLICE_MB=2
VOL_MB=8

# --check <marks> <point>: reassemble a writable snapshot of the replay
# device (a transient dm-snapshot: the replay device itself stays as the
# log left it, without copying it at every point).  It runs at every
# checked point, so it starts few programs (each costs much under TCG):
# one dmsetup to create the devices, two for the volume's table and one to
# remove the devices, one mkdir and two rmdir for the configfs objects,
# and cmp; the rest is the shell's.
if [ "${1:-}" = --check ]; then
	rc=0
	pc_check_open mp 4 $PIECE "$3" mc || rc=1
	found=0
	while read -r n _ b; do
		[ "$n $b" != "v $((VOL_MB << 20))" ] || found=1
	done < "$P/discovered"
	vols=()
	if [ $found = 0 ]; then
		mapfile -t lines < "$P/discovered"
		bad "volume v not found with its size: ${lines[*]}"
		rc=1
	else
		vols=("$P/volumes/v")
		mkdir "$P/volumes/v"
		pc_maps_check "${vols[@]}" || rc=1
		dmsetup create mpcv --table "0 $((VOL_MB * 2048)) slicepool mc v" || { bad "table"; rc=1; }
		if ! cmp -s /dev/mapper/mpcv "$SP_WORK/pattern"; then
			mapfile -t map < "$P/volumes/v/map"
			bad "the volume's data differs from what was written (map: ${map[*]})"
			rc=1
		fi
		dmsetup remove mpcv
	fi
	echo 1 > "$P/reclaim" || { bad "reclaim failed"; rc=1; }
	pc_sum_teardown mp 4 "${vols[@]}" || rc=1
	exit $rc
fi

sp_start 4 4
for d in mpk0 mpk1 mpk2 mpk3 mpss mpp0 mpp1 mpp2 mpp3 mplw mprp mpsc mpv; do
	dmsetup remove "$d" 2> /dev/null
done
sp_wipe "${DISKS[@]:0:4}"
SP_WORK=$(mktemp -d)
export SP_WORK
trap 'rm -rf "$SP_WORK"' EXIT
dd if=/dev/zero of="${DISKS[0]}" bs=1M count=$((SZ / 2048)) oflag=direct status=none
dmsetup create mplw --table "0 $SZ log-writes ${DISKS[0]} ${DISKS[1]}" ||
	sp_die "dm-log-writes"
for i in 0 1 2 3; do
	dmsetup create "mpp$i" --table "0 $PIECE linear /dev/mapper/mplw $((i * PIECE))" ||
		sp_die "piece $i"
done
mark() { dmsetup message mplw 0 mark "$1" || sp_die "mark $1"; }
mig_state() { mig_field mpv state; }
wait_done() {
	local _
	for _ in $(seq 600); do
		case $(mig_state) in copying | switching) sleep 0.2 ;; *) break ;; esac
	done
	[ "$(mig_state)" = "done" ] || sp_die "migration ended $(mig_state)"
}

sp_pool pc $SLICE_MB
sp_member pc m0 /dev/mapper/mpp0 d0
sp_member pc m1 /dev/mapper/mpp1 d1
sp_member pc m2 /dev/mapper/mpp2 d2
sp_volume pc v ${VOL_MB}M
sp_member pc m3 /dev/mapper/mpp3 d3
sp_dm mpv pc v
head -c $((VOL_MB << 20)) /dev/urandom > "$SP_WORK/pattern"
dd if="$SP_WORK/pattern" of=/dev/mapper/mpv bs=1M oflag=direct,sync status=none || sp_die "pattern"
mark written
dmsetup message mpv 0 migrate start all m3 chunk_kb=256 || sp_die "migrate all"
wait_done
mark migrated_all
dmsetup message mpv 0 migrate start 0-1 domain:d0 chunk_kb=256 || sp_die "migrate 0-1"
wait_done
mark migrated_01
dmsetup message mpv 0 migrate start 2-3 m1 chunk_kb=256 || sp_die "migrate 2-3"
wait_done
mark migrated_23
dmsetup message mpv 0 migrate start 0 m2 chunk_kb=256 manual || sp_die "migrate 0"
dmsetup message mpv 0 migrate step 3 || sp_die "step"
dmsetup message mpv 0 migrate abort || sp_die "abort"
mark aborted
ktap_check "three migrations and an abort logged, the data intact" cmp -s /dev/mapper/mpv "$SP_WORK/pattern"
ktap_check "the slices ended where they were sent" \
	[ "$(awk '{ printf "%s ", $2 }' "$SP_CFG"/pc/volumes/v/map)" = "m0 m0 m1 m1 " ]
dmsetup remove mpv
sp_teardown
for i in 0 1 2 3; do dmsetup remove "mpp$i"; done
dmsetup remove mplw || sp_die "remove log-writes"

# Points before the pattern was written have no volume data yet: start
# checking at the first mark.
pc_replay mp "$SZ" 12 30 "during the migrations reassembles whole" --from-mark 1
sp_unload
ktap_finish
