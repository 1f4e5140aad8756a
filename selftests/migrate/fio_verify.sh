#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A whole volume spanning three members migrates to a fourth member while
# fio writes to it (crc32c verify), in each mode (filter, clear, none)
# with mirrored writes (the default) and in filter mode without, with a
# copy throttle so that the passes overlap the writes (12 MiB at 1 MiB/s:
# at least 12 s of copy, longer than fio takes to start writing).  Then:
# fio's own verify passed, the writes were seen by the copy index, the
# migration converged and switched by itself, every slice is on the
# destination, the raw source and destination slices are equal (nothing
# wrote after the switch), writes were mirrored (or not, with
# mirror=off), a second fio verify-only run through the moved
# volume passes, and the sources are free again.
. "$(dirname "$0")/lib.sh"

sp_disks 4
command -v fio > /dev/null || sp_skip "fio not installed"
# Run fio once before the first migration: its first start in a guest
# (binary and libraries read through 9p) can take seconds under load.
fio --version > /dev/null
ktap_header
ktap_plan 32
sp_load
sp_teardown
SLICE_MB=2
VOL_MB=12		# 6 slices, 2 on each source member
NSLICES=$((VOL_MB / SLICE_MB))
W=$(mktemp -d)
trap 'dmsetup remove --retry spmf 2>/dev/null; rm -rf "$W"' EXIT

mig() { mig_field spmf "$1"; }
# Each job writes half of its half of the volume at random (a fixed seed:
# the verify-only run reads the same blocks): 384 writes spread over all
# 6 slices, enough to land on copied and uncopied chunks alike.
fio_args=(--name=mig --filename=/dev/mapper/spmf --direct=1 --ioengine=libaio
	--iodepth=8 --rw=randwrite --bs=16k --size=$((VOL_MB / 2))M --numjobs=2
	--io_size=$((VOL_MB / 4))M --offset_increment=$((VOL_MB / 2))M
	--verify=crc32c --verify_fatal=1 --randseed=4242 --group_reporting)

for run in filter clear none filter:off; do
	mode=${run%%:*}
	mirror=on
	[ "$run" = "$mode" ] || mirror=${run#*:}
	mode=$run	# names the run in the messages
	sp_wipe "${DISKS[@]:0:4}"
	sp_pool mf "$SLICE_MB"
	sp_member mf m0 "${DISKS[0]}" dA
	sp_member mf m1 "${DISKS[1]}" dB
	sp_member mf m2 "${DISKS[2]}" dC
	sp_volume mf v "${VOL_MB}M"
	sp_member mf m3 "${DISKS[3]}" dD
	sp_dm spmf mf v
	before=$(cat "$SP_CFG"/mf/volumes/v/map)
	[ "$(awk '{ print $2 }' <<< "$before" | sort -u | wc -l)" -eq 3 ] || sp_die "v does not span 3 members"
	[ "$(wc -l <<< "$before")" -eq "$NSLICES" ] || sp_die "v does not have $NSLICES slices"

	dmsetup message spmf 0 migrate start all domain:dD mode="${run%%:*}" mirror="$mirror" rate=1 \
		chunk_kb=256 ||
		sp_die "migrate start"
	if fio "${fio_args[@]}" > "$SP_ARTIFACTS/fio-$mode.log" 2>&1; then
		ktap_ok "$mode: fio random writes verified during the migration"
	else
		tail -20 "$SP_ARTIFACTS/fio-$mode.log" | sed 's/^/# /'
		ktap_fail "$mode: fio random writes verified during the migration"
	fi
	seen=$(mig writes_seen)
	echo "# $mode: when fio ended: $(dmsetup status spmf | sed 's/.*migration/migration/')"
	# Lift the rate so the job ends soon; under a slow guest it may have
	# ended before fio did, and then the message is refused (no job).
	if ! dmsetup message spmf 0 migrate rate 0 2> /dev/null; then
		[ "$(mig state)" = "done" ] || sp_die "rate 0 refused while the migration is $(mig state)"
	fi
	for _ in $(seq 600); do
		case $(mig state) in copying | switching) sleep 0.5 ;; *) break ;; esac
	done
	echo "# $mode: $(dmsetup status spmf | sed 's/.*migration/migration/')"
	ktap_check "$mode: the copy index saw the writes ($seen)" [ "$seen" -gt 0 ]
	if [ "$mirror" = on ]; then
		ktap_check "$mode: writes to copied chunks were mirrored ($(mig mirrored))" \
			[ "$(mig mirror)" = on -a "$(mig mirrored)" -gt 0 ]
	else
		ktap_check "$mode: no write was mirrored" [ "$(mig mirror)" = off -a "$(mig mirrored)" = 0 ]
	fi
	ktap_check "$mode: the migration converged and switched (state $(mig state), pass $(mig pass))" \
		[ "$(mig state)" = "done" ]
	after=$(cat "$SP_CFG"/mf/volumes/v/map)
	ktap_check "$mode: all $NSLICES slices are on m3" \
		[ "$(awk '$2 == "m3"' <<< "$after" | wc -l)" -eq "$NSLICES" ]
	bad=$(mig_slices_differ mf "$SLICE_MB" "$before" "$after")
	ktap_check "$mode: raw source and destination slices are equal ($bad differ)" [ "$bad" -eq 0 ]
	if fio "${fio_args[@]}" --verify_only > "$SP_ARTIFACTS/fio-verify-$mode.log" 2>&1; then
		ktap_ok "$mode: fio verify-only through the moved volume"
	else
		tail -20 "$SP_ARTIFACTS/fio-verify-$mode.log" | sed 's/^/# /'
		ktap_fail "$mode: fio verify-only through the moved volume"
	fi
	used=0
	for m in m0 m1 m2; do
		used=$((used + $(cat "$SP_CFG/mf/members/$m/total_slices") - $(cat "$SP_CFG/mf/members/$m/free_slices")))
	done
	ktap_check "$mode: the source slices are free" [ "$used" -eq 0 ]
	dmsetup remove --retry spmf
	sp_teardown
done
sp_unload
ktap_finish
