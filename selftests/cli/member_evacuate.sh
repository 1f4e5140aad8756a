#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool member evacuate (Documentation/slicepool-tool.rst), on a pool
# of metadata format 3 (format 2 shares the move code, sp-move.c, and is
# left out to keep the test short): two volumes with known data
# and slices on m1; m0 pinned at load 0, m2 (empty) at load 100.  A
# volume being migrated already is refused; an evacuation interrupted
# (SIGTERM) stops with every slice readable, gives the member back to
# allocation, and reports it (JSON, and a progress line per pass off a
# terminal); run again on a terminal while a writer rewrites part of a
# volume, it moves every slice off m1 (to m0, where the load-ratio rule
# puts them, not to the emptiest member m2) with one progress bar and
# ETA, leaves m1 draining (a new volume gets no slice there) and holding
# nothing, the data is what was written, a third run has nothing to
# move, and member remove takes m1 out.  Volume v4 has no dm device: the
# evacuation moves its slice too, through a device it makes and removes.  migrate --to domain:X leaves the slices already in X and
# moves the rest.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$SP_TOP/selftests/lib/migstatus.sh"

cli_start 3 45

P=ev
C=$SP_CFG/$P
on() { cat "$C"/volumes/*/map | awk -v m="$1" '$2 == m' | wc -l; }
on_vol() { awk -v m="$2" '$2 == m' "$C/volumes/$1/map" | wc -l; }
# copying PID: until a job of v1 or v2 is copying, or PID has ended (60 s).
copying() {
	local _
	for _ in $(seq 240); do
		kill -0 "$1" 2> /dev/null || return 0
		[ "$(mig_field ev-v1 state)" = copying ] && return 0
		[ "$(mig_field ev-v2 state)" = copying ] && return 0
		sleep 0.25
	done
	return 1
}

# run_format F: the scenario on a pool of metadata format F.
run_format() {
	local f=$1 pid rc n1 expect1 sum2 sum3 st
	sp_teardown
	sp_wipe "${DISKS[@]:0:3}"
	sp pool create $P --slice-mb 2 --min-domains 2 || sp_die "pool create"
	echo "$f" > "$C/metadata_format" || sp_die "metadata_format $f"
	sp member add $P m0 --path "${DISKS[0]}" --domain dA || sp_die "member add m0"
	sp member add $P m1 --path "${DISKS[1]}" --domain dB || sp_die "member add m1"
	echo 0 > "$C/members/m0/load_override"
	echo 0 > "$C/members/m1/load_override"
	# v1 (4 slices) and v2 (3) over m0 and m1; then m2 joins, empty.
	sp vol create $P/v1 --size 8M || sp_die "vol create v1"
	sp vol create $P/v2 --size 6M || sp_die "vol create v2"
	# v4 (2 slices, one on m1) loses its dm device before the evacuation.
	sp vol create $P/v4 --size 4M || sp_die "vol create v4"
	sp member add $P m2 --path "${DISKS[2]}" --domain dC || sp_die "member add m2"
	echo 100 > "$C/members/m2/load_override"
	head -c $((8 << 20)) /dev/urandom > "$W/a1"
	head -c $((6 << 20)) /dev/urandom > "$W/a2"
	head -c $((4 << 20)) /dev/urandom > "$W/b"
	dd if="$W/a1" of=/dev/mapper/ev-v1 bs=1M oflag=direct status=none || sp_die "write v1"
	dd if="$W/a2" of=/dev/mapper/ev-v2 bs=1M oflag=direct status=none || sp_die "write v2"
	head -c $((4 << 20)) /dev/urandom > "$W/a4"
	dd if="$W/a4" of=/dev/mapper/ev-v4 bs=1M oflag=direct status=none || sp_die "write v4"
	[ "$(on_vol v4 m1)" -eq 1 ] || sp_die "v4 has no slice on m1"
	dmsetup remove ev-v4 || sp_die "dmsetup remove ev-v4"
	n1=$(on m1)
	if [ "$(on_vol v1 m1)" -lt 1 ] || [ "$(on_vol v2 m1)" -lt 1 ]; then
		sp_die "v1 and v2 do not both have a slice on m1"
	fi

	# A volume being migrated already.
	# (manual: it copies nothing until told to, so it is still running.)
	dmsetup message ev-v2 0 migrate start all m2 manual || sp_die "migrate start manual"
	sp_rc 1 "format $f: evacuate while v2 is migrating exits 1" member evacuate $P m1
	ktap_check "format $f: ... saying v2 is already migrating" \
		err_has "volume 'ev/v2' is already migrating"
	sp migrate $P/v2 --abort || sp_die "migrate --abort"
	ktap_check "format $f: ... and m1 is not draining, its $n1 slices stay" \
		test "$(attr $P/members/m1/drain)" = 0 -a "$(on m1)" -eq "$n1"

	# Bad values of drain: EINVAL, a log line naming the value, no change.
	kmsg_mark
	ktap_check "format $f: drain 2 is refused" \
		sh -c "! echo 2 > $C/members/m1/drain" 2> /dev/null
	ktap_check "format $f: ... with a log line naming 2" \
		kmsg_has_text "slicepool: drain: 2 is out of range 0..1"
	kmsg_mark
	ktap_check "format $f: drain x is refused, and m1 is not draining" \
		sh -c "! echo x > $C/members/m1/drain && [ \"\$(cat $C/members/m1/drain)\" = 0 ]" 2> /dev/null
	ktap_check "format $f: ... with a log line naming x" \
		kmsg_has_text "slicepool: drain: not a number: 'x'"

	# Interrupted halfway.
	"$SP" --json member evacuate $P m1 --rate 1 > "$W/int.json" 2> "$W/int.err" &
	pid=$!
	copying $pid
	kill -TERM $pid
	wait $pid
	rc=$?
	sed 's/^/# stderr: /' "$W/int.err"
	cp "$W/int.json" "$OUT"
	ktap_check "format $f: an interrupted evacuation exits 1" test $rc -eq 1
	ktap_check "format $f: ... its JSON says interrupted; moved and left add up to the $n1 slices" \
		json 'd["action"] == "member evacuate" and d["member"] == "m1" and d["state"] == "interrupted" and d["slices"] == '"$n1"' and d["slices_moved"] + d["slices_left"] == '"$n1"' and d["slices_left"] >= 1'
	ktap_check "format $f: ... one progress line per pass, numbered in the whole evacuation" \
		grep -qE 'evacuate ev/m1: job 1 of [0-9]+, ev/v[12] slices [0-9]+-[0-9]+: pass 1: ' "$W/int.err"
	ktap_check "format $f: ... m1 takes new slices again (drain 0)" \
		test "$(attr $P/members/m1/drain)" = 0
	ktap_check "format $f: ... every slice reads back as written" \
		test "$(sum_dev /dev/mapper/ev-v1 8)" = "$(sha256sum < "$W/a1")" -a \
		"$(sum_dev /dev/mapper/ev-v2 6)" = "$(sha256sum < "$W/a2")"

	# Run again on a terminal (the report to a file), with a writer on
	# v1's first 4 MiB (slices 0 and 1).
	script -qec "$SP --json member evacuate $P m1 --rate 1 > $W/ev.json" \
		"$W/tty.log" < /dev/null > /dev/null 2>&1 &
	pid=$!
	copying $pid
	for i in 0 1 2 3; do
		dd if="$W/b" of=/dev/mapper/ev-v1 bs=1M skip="$i" seek="$i" count=1 \
			oflag=direct conv=notrunc status=none || sp_die "writer"
		sleep 0.2
	done
	wait $pid
	rc=$?
	tr '\r' '\n' < "$W/tty.log" | grep -E 'ETA|slicepool' | tail -3 | sed 's/^/# tty: /'
	cp "$W/ev.json" "$OUT"
	ktap_check "format $f: evacuate m1 exits 0" test $rc -eq 0
	ktap_check "format $f: ... its JSON says done, no slice left, every job done" \
		json 'd["state"] == "done" and d["slices_left"] == 0 and d["slices"] >= 1 and d["slices_moved"] == d["slices"] and len(d["jobs"]) >= 1 and all(j["state"] == "done" for j in d["jobs"])'
	ktap_check "format $f: ... one progress bar for the whole evacuation: percent, job, bytes, rate, ETA" \
		grep -qE '\[#+-*\] +[0-9]+% job [0-9]+/[0-9]+  [0-9.]+[KM]iB copied  [0-9.]+[KM]iB/s  ETA [0-9]+:[0-9][0-9]' "$W/tty.log"
	sp --json status $P || sp_die "status"
	ktap_check "format $f: status: m1 holds no slice (free = total)" \
		json '[m["free_slices"] == m["total_slices"] > 0 for m in d["pools"][0]["members"] if m["name"] == "m1"] == [True]'
	ktap_check "format $f: ... no map names m1" test "$(on m1)" -eq 0
	ktap_check "format $f: ... and says m1 is draining, m0 is not" \
		json '{m["name"]: m["draining"] for m in d["pools"][0]["members"]} == {"m0": False, "m1": True, "m2": False}'
	sp status $P || sp_die "status"
	ktap_check "format $f: ... the text status too (STATE online,draining)" \
		grep -qE '^ +m1 +dB +online,draining ' "$OUT"
	ktap_check "format $f: ... the slices went to m0 (load 0), none to the empty m2 (load 100)" \
		test "$(on_vol v1 m2)" -eq 0 -a "$(on_vol v2 m2)" -eq 0
	expect1=$( (head -c $((4 << 20)) "$W/b"; tail -c $((4 << 20)) "$W/a1") | sha256sum)
	ktap_check "format $f: v1 holds what was written (the writer's 4 MiB, then the first data)" \
		test "$(sum_dev /dev/mapper/ev-v1 8)" = "$expect1"
	ktap_check "format $f: v2 is intact" \
		test "$(sum_dev /dev/mapper/ev-v2 6)" = "$(sha256sum < "$W/a2")"
	ktap_check "format $f: v4, which had no dm device, moved off m1 too, and has none again" \
		sh -c "[ \"\$(awk '\$2 == \"m1\"' $C/volumes/v4/map | wc -l)\" -eq 0 ] && ! dmsetup info ev-v4 > /dev/null 2>&1"
	dmsetup create ev-v4 --table "0 8192 slicepool $P v4" || sp_die "dmsetup create ev-v4"
	ktap_check "format $f: ... and its data is intact" \
		test "$(sum_dev /dev/mapper/ev-v4 4)" = "$(sha256sum < "$W/a4")"
	ktap_check "format $f: m1 stays draining" test "$(attr $P/members/m1/drain)" = 1
	# A draining member named as a migration destination: ENODEV, a log
	# line saying why, no job.
	kmsg_mark
	st=$(mig_field ev-v2 state)
	ktap_check "format $f: migrate start onto the draining m1 is refused (ENODEV)" \
		sh -c "dmsetup message ev-v2 0 migrate start all m1 2>&1 | grep -qF 'No such device'"
	ktap_check "format $f: ... with a log line saying m1 is draining" \
		kmsg_has_text "slicepool: ev: migration destination 'm1' is not an enabled, healthy member or domain:<label> of the pool (the member is draining: it takes no new slice)"
	ktap_check "format $f: ... and no job started (state still $st)" \
		test -n "$st" -a "$(mig_field ev-v2 state)" = "$st" -a "$(on m1)" -eq 0
	sp_rc 0 "format $f: evacuate m1 again exits 0" member evacuate $P m1
	ktap_check "format $f: ... with nothing to move" \
		test "$(grep -c -x -e 'evacuation of member m1 of pool ev: nothing to move' \
			-e '  slices moved   0 of 0, in 0 jobs' "$OUT")" -eq 2

	# Draining: a new volume (2 slices, 2 domains) skips m1 although it is
	# the lightest.
	sp vol create $P/v3 --size 4M || sp_die "vol create v3"
	ktap_check "format $f: a volume created now has no slice on the draining m1" \
		test "$(on_vol v3 m1)" -eq 0 -a "$(on_vol v3 m0)" -eq 1 -a "$(on_vol v3 m2)" -eq 1
	sp_rc 0 "format $f: member remove m1 exits 0" member remove $P m1
	ktap_check "format $f: ... m1 is gone" test ! -e "$C/members/m1"

	# migrate --to domain:X with slices in X already.
	sum3=$(sum_dev /dev/mapper/ev-v3 4)
	sp_rc 0 "format $f: migrate v3 --to domain:dC (one slice there already) exits 0" \
		--json migrate $P/v3 --to domain:dC
	ktap_check "format $f: ... its JSON: 1 slice kept, 1 moved in one job, done" \
		json 'd["state"] == "done" and d["slices_kept"] == 1 and d["slices_moved"] == 1 and len(d["jobs"]) == 1 and d["jobs"][0]["migration"]["state"] == "done"'
	ktap_check "format $f: ... both slices of v3 on m2, data intact" \
		test "$(on_vol v3 m2)" -eq 2 -a "$(sum_dev /dev/mapper/ev-v3 4)" = "$sum3"
	sum2=$(sum_dev /dev/mapper/ev-v2 6)
	sp_rc 0 "format $f: migrate v2 --to domain:dA (all there) exits 0" migrate $P/v2 --to domain:dA
	ktap_check "format $f: ... says it left the 3 slices in place and moved none" \
		test "$(grep -c -e '^  left in place  3 slices already in domain dA$' \
			-e '^  moved          0 slices in 0 jobs$' "$OUT")" -eq 2
	ktap_check "format $f: ... v2 unchanged" \
		test "$(on_vol v2 m0)" -eq 3 -a "$(sum_dev /dev/mapper/ev-v2 6)" = "$sum2"
}

run_format 3

# Bad input on a live pool.
# drain on a member that is not enabled: EINVAL, a log line, no change.
mkdir "$C/members/m9" || sp_die "mkdir m9"
kmsg_mark
ktap_check "drain on a member that is not enabled is refused" \
	sh -c "! echo 1 > $C/members/m9/drain && [ \"\$(cat $C/members/m9/drain)\" = 0 ]" 2> /dev/null
ktap_check "... with a log line saying why" \
	kmsg_has_text "slicepool: m9: drain refused: the member is not enabled"
rmdir "$C/members/m9" || sp_die "rmdir m9"
sp_rc 1 "evacuate in an unknown pool exits 1" member evacuate nope m1
ktap_check "... naming the pool" err_has "no pool 'nope'"
sp_rc 1 "evacuate of an unknown member exits 1" member evacuate $P m9
ktap_check "... naming the member" err_has "no member 'ev/m9'"
ktap_finish
