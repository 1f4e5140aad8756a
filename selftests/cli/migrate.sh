#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool migrate against the real module: a volume on three domains
# moves as a whole to a fourth domain (--rate) while a writer rewrites
# part of it; the report (JSON and text) says done with bytes copied, the
# map puts every slice on the destination, and the data is what was
# written.  A slow --no-wait job has its rate changed (--set-rate) and is
# aborted (--abort), as is a waited-for job on SIGINT: the map and the
# data stay.  Bad input: each refusal's exit code and message, including
# the kernel's own reason for a refused start.  --mirror and --depth reach
# the module (its start line in dmesg), and --busy-share (the report).
. "$(dirname "$0")/lib.sh"

cli_start 4 53 mgd mge

P=mg
DEV=/dev/mapper/mg-v

. "$SP_TOP/selftests/lib/migstatus.sh"
# mig FIELD: a migration field of the dm status, read without the tool.
mig() { mig_field mg-v "$1"; }
# wait_state STATE...: until the job's state is one of them (60 s).
wait_state() {
	local s _
	for _ in $(seq 240); do
		s=$(mig state)
		for want in "$@"; do [ "$s" = "$want" ] && return 0; done
		sleep 0.25
	done
	return 1
}
map() { cat "$SP_CFG/$P/volumes/v/map"; }
on_member() { awk -v m="$1" '$2 == m' "$SP_CFG/$P/volumes/v/map" | wc -l; }
vol_md5() { dd if=$DEV bs=1M count="$2" skip="$1" iflag=direct status=none | md5sum; }
file_md5() { dd if="$1" bs=1M count="$3" skip="$2" status=none | md5sum; }

# Pool on three domains; the volume (12 slices of 2 MiB) is made before
# the fourth domain exists, so none of its slices is there.  The fourth
# disk is split (dm linear): m3 (domain dD, 512 MiB) and a tiny m4
# (domain dE, 9 MiB: 5 MiB of metadata, the two labels and the 4 MiB
# journal of metadata format 3, and 2 slices).
sp pool create $P --slice-mb 2 || sp_die "pool create"
sp member add $P m0 --path "${DISKS[0]}" --domain dA || sp_die "member add m0"
sp member add $P m1 --path "${DISKS[1]}" --domain dB || sp_die "member add m1"
sp member add $P m2 --path "${DISKS[2]}" --domain dC || sp_die "member add m2"
sp vol create $P/v --size 24M || sp_die "vol create"
head -c $((24 << 20)) /dev/urandom > "$W/a"
head -c $((12 << 20)) /dev/urandom > "$W/b"
dd if="$W/a" of=$DEV bs=1M oflag=direct status=none || sp_die "write pattern"
dmsetup create mgd --table "0 $((512 << 11)) linear ${DISKS[3]} 0" || sp_die "linear mgd"
dmsetup create mge --table "0 $((9 << 11)) linear ${DISKS[3]} $((512 << 11))" || sp_die "linear mge"
sp_wipe /dev/mapper/mge		# cli_start wiped only the head of the disk
sp member add $P m3 --path /dev/mapper/mgd --domain dD || sp_die "member add m3"
sp member add $P m4 --path /dev/mapper/mge --domain dE || sp_die "member add m4"
map0=$(map)

# m3 and m4 were enabled after the table was loaded: the migrations to
# them below need no table reload (the table reaches members by the map).

# ---- bad input -------------------------------------------------------------
sp_rc 1 "migrate of an unknown volume" migrate $P/nope --to m3
ktap_check "... says so" err_has "no volume 'mg/nope'"
sp_rc 2 "migrate --mode fast is a usage error" migrate $P/v --to m3 --mode fast
ktap_check "... naming the modes" err_has "unknown mode 'fast' (filter, clear or none)"
sp_rc 2 "migrate --mirror maybe is a usage error" migrate $P/v --to m3 --mirror maybe
ktap_check "... saying on or off" err_has "--mirror: 'maybe' is not on or off"
sp_rc 2 "migrate --depth 9 is a usage error" migrate $P/v --to m3 --depth 9
ktap_check "... naming the range" err_has "--depth: 9 is out of range (1..8)"
sp_rc 2 "migrate --busy-share 0 is a usage error" migrate $P/v --to m3 --busy-share 0
ktap_check "... naming the range" err_has "--busy-share: 0 is out of range (1..100)"
sp_rc 2 "migrate --rate -1 is a usage error" migrate $P/v --to m3 --rate -1
ktap_check "... naming the range" err_has "--rate: '-1' is not a number (0..1048576)"
s0=$(awk 'NR == 1 { print $2 }' "$SP_CFG/$P/volumes/v/map")
sp_rc 1 "migrate --to the member a slice is on is refused" \
	migrate $P/v --to "$s0" --slices 0
ktap_check "... saying the slice is already there" \
	err_has "slice 0 of 'mg/v' is already on member '$s0'"
sp_rc 1 "migrate to a destination without space is refused (ENOSPC)" \
	migrate $P/v --to m4
ktap_check "... saying how many slices are free and needed" \
	err_has "destination m4 has 2 free slices, 12 needed"
sp_rc 1 "migrate --chunk-kb that does not divide the slice is refused" \
	migrate $P/v --to m3 --chunk-kb 12
ktap_check "... and nothing was started by the refusals" \
	test "$(mig state)" = none -a "$(map)" = "$map0"
sp_rc 1 "migrate --abort with no job is refused" migrate $P/v --abort
ktap_check "... saying the volume is not migrating" err_has "is not migrating"

# ---- a whole volume to another domain, with a writer -----------------------
# 24 MiB at 4 MiB/s: 6 s of copy, which the writer's first writes overlap.
"$SP" --json migrate $P/v --to domain:dD --rate 4 > "$W/mig.json" 2> "$W/mig.err" &
pid=$!
wait_state copying switching "done" || sp_die "the migration did not start"
# Rewrite the first half with pattern b, 1 MiB at a time, while it copies.
for i in $(seq 0 11); do
	dd if="$W/b" of=$DEV bs=1M skip="$i" seek="$i" count=1 oflag=direct \
		conv=notrunc status=none || sp_die "writer"
	sleep 0.05
done
wait $pid
rc=$?
sed 's/^/# stderr: /' "$W/mig.err"
cp "$W/mig.json" "$OUT"
ktap_check "migrate --to domain:dD --rate 4 exits 0 ($(mig writes_seen) writes seen while it ran)" \
	test $rc -eq 0
ktap_check "the JSON report says done, bytes copied >= 24 MiB, writes seen, mirror on" \
	json 'd["action"] == "migrate" and d["state"] == "done" and d["migration"]["bytes_copied"] >= 24 << 20 and d["migration"]["writes_seen"] > 0 and d["migration"]["dest"] == "domain:dD" and d["duration_ms"] > 0 and d["migration"]["mirror"] is True'
ktap_check "the progress went to stderr, one line per pass (not a tty)" \
	grep -q 'migrate mg/v: pass 1: 48 chunks to copy' "$W/mig.err"
ktap_check "the map puts all 12 slices on m3 (domain dD)" test "$(on_member m3)" -eq 12
ktap_check "the rewritten half holds pattern b" \
	test "$(vol_md5 0 12)" = "$(file_md5 "$W/b" 0 12)"
ktap_check "the other half is unchanged (pattern a)" \
	test "$(vol_md5 12 12)" = "$(file_md5 "$W/a" 12 12)"
cp "$W/b" "$W/data"
dd if="$W/a" of="$W/data" bs=1M skip=12 seek=12 count=12 status=none
sum_all=$(md5sum < "$W/data")

sp_rc 0 "migrate --slices 0-3 --to m0 --mirror off --depth 3 --busy-share 30 (text report)" \
	migrate $P/v --slices 0-3 --to m0 --mirror off --depth 3 --busy-share 30
ktap_check "... the module started it with mirror off and depth 3" \
	grep -qE 'migrating volume v slices 0\.\.3 to m0: .*mode filter, mirror off, depth 3$' \
		<(dmesg)
ktap_check "... reports done and 8 MiB copied" \
	test -n "$(grep -E '^migration of mg/v slices 0-3 to m0: done$' "$OUT")" -a \
	     -n "$(grep -E '^  bytes copied +8388608 ' "$OUT")"
ktap_check "... the report shows the module's busy share, 30%" \
	grep -qE '^  paced +[0-9]+ ms \(busy share 30%\)$' "$OUT"
ktap_check "... and slices 0-3 are on m0" \
	test "$(awk '$1 <= 3 && $2 == "m0"' "$SP_CFG/$P/volumes/v/map" | wc -l)" -eq 4
sp_rc 0 "migrate --status --json" --json migrate $P/v --status
ktap_check "... shows the last job, done" \
	json 'd["migration"]["state"] == "done" and d["migration"]["first"] == 0 and d["migration"]["last"] == 3 and d["migration"]["dest"] == "m0" and d["migration"]["mirror"] is False'

# ---- on a terminal: a progress bar ------------------------------------------
# (stdin from /dev/null: script would pass on, and use up, the runner's.)
script -qec "$SP migrate $P/v --slices 4-5 --to m0 --rate 2" "$W/tty.log" \
	< /dev/null > /dev/null 2>&1
rc=$?
tr '\r' '\n' < "$W/tty.log" | grep -E 'ETA|pass' | tail -3 | sed 's/^/# tty: /'
ktap_check "migrate on a terminal (script): exit 0, slices 4-5 on m0" \
	test $rc -eq 0 -a "$(awk '$1 == 4 || $1 == 5' "$SP_CFG/$P/volumes/v/map" | grep -c ' m0 ')" -eq 2
ktap_check "... draws a progress bar: percent, pass, bytes copied, rate and ETA" \
	grep -qE '\[#+-*\] +[0-9]+% pass 1  [0-9.]+[KM]iB copied  [0-9.]+[KM]iB/s  ETA [0-9]+:[0-9][0-9]' "$W/tty.log"
ktap_check "... instead of the one-line-per-pass messages" \
	test -z "$(grep -F 'chunks to copy' "$W/tty.log")"

# ---- --no-wait, --set-rate, --abort ----------------------------------------
map1=$(map)
sp_rc 0 "migrate --rate 1 --no-wait starts and returns" \
	migrate $P/v --to domain:dB --rate 1 --no-wait
ktap_check "... the job is copying" test "$(mig state)" = copying
sp_rc 0 "migrate --set-rate 2" migrate $P/v --set-rate 2
ktap_check "... changes the rate field of the status to 2" test "$(mig rate)" = 2
sp_rc 0 "status during the migration" status $P
ktap_check "... shows the running job" \
	grep -qE '^  volume v: migration of slices 0-11 to domain:dB copying, pass 1, [0-9]+ of [0-9]+ chunks left' "$OUT"
sp_rc 0 "status --json during the migration" --json status $P
ktap_check "... has the job in the volume's dm object" \
	json '(lambda m: m["state"] == "copying" and m["dest"] == "domain:dB" and m["rate"] == 2 and m["mirror"] is True)(d["pools"][0]["volumes"][0]["dm"]["migration"])'
sp_rc 0 "migrate --abort" --json migrate $P/v --abort
ktap_check "... the job is aborted, the map unchanged" \
	test "$(mig state)" = aborted -a "$(map)" = "$map1"
ktap_check "... and the data intact" test "$(vol_md5 0 24)" = "$sum_all"
sp_rc 1 "migrate --set-rate with no running job is refused" migrate $P/v --set-rate 3

# ---- SIGINT while waiting: abort --------------------------------------------
"$SP" --json migrate $P/v --to domain:dC --rate 1 > "$OUT" 2> "$ERR" &
pid=$!
wait_state copying || sp_die "the migration did not start"
sleep 1
kill -INT $pid
wait $pid
rc=$?
sed 's/^/# stderr: /' "$ERR"
ktap_check "SIGINT while waiting: exit 1" test $rc -eq 1
ktap_check "... the JSON report says aborted (interrupted)" \
	json 'd["state"] == "aborted" and d["interrupted"] and d["migration"]["dest"] == "domain:dC"' 
ktap_check "... the job is aborted in the kernel, the map unchanged" \
	test "$(mig state)" = aborted -a "$(map)" = "$map1"
ktap_check "... the data intact" test "$(vol_md5 0 24)" = "$sum_all"

sp_rc 0 "cleanup: pool remove --unbind" pool remove --unbind $P
ktap_finish
