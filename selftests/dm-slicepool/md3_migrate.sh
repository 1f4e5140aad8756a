#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Live migration on a pool of metadata format 3 ("Live migration on
# format 3" in Documentation/dm-slicepool-metadata.rst), through the same
# messages, status fields and tool as in format 2:
#  1. while fio writes with crc32c verify, a 4-slice volume moves with
#     "migrate start all", then its slice 0 with "slicepool migrate
#     --slices 0": fio verifies, the map is on the destination, the
#     sources are free, and the state on the members ("slicepool
#     inspect") has the module's map and no move; the start and the
#     switch were one md3 transaction each;
#  2. "migrate abort": the map and the free counts are as before, the
#     start and the abort were one transaction each, no move is left;
#  3. a move that no job runs any more (its abort could not be recorded
#     while a member was disabled) is rolled back when the member is
#     enabled again, and the log says so;
#  4. weight_space, weight_load and min_domains are one transaction each;
#     after a module reload the reassembled pool has them, the moved map
#     and the data.
# md3_migrate_hold.sh checks that the sources stay held until the switch
# has drained the volume's I/O.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$SP_TOP/selftests/lib/migstatus.sh"

sp_start 3 33 fio
# fio's first start in a guest can take seconds: not during the test.
fio --version > /dev/null
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
cleanup() {
	sp_teardown
	rm -rf "$W"
}
trap cleanup EXIT

SPT=$SP_TOP/tools/slicepool/slicepool
P=mg3
C=$SP_CFG/$P
DEV=/dev/mapper/$P-v
mig() { mig_field "$P-v" "$1"; }
map() { cat "$C/volumes/v/map"; }
free_of() { cat "$C/members/$1/free_slices"; }
wait_done() {
	local _
	for _ in $(seq 400); do
		case $(mig state) in copying | switching) sleep 0.25 ;; *) return ;; esac
	done
}
# snap: the members' state, as "slicepool inspect" (a nowrite assembly)
# reads it while the pool runs: prints "<head seq> <pending moves>", and
# leaves volume v's map in $W/smap as "L MEMBER P" lines (as the module's)
snap() {
	"$SPT" inspect "${DISKS[@]:0:3}" > "$W/ins" 2> /dev/null
	sed -n 's/^  map v://p' "$W/ins" | tr ' ' '\n' |
		awk -F'[=:]' 'NF == 3 { print $1, $2, $3 }' > "$W/smap"
	echo "$(sed -n 's/.*winner seq \([0-9]*\) .*/\1/p' "$W/ins") $(grep -c '^  move ' "$W/ins")"
}
fio_args=(--name=md3mig --filename="$DEV" --direct=1 --ioengine=libaio --iodepth=4
	--rw=randwrite --bs=16k --size=8M --verify=crc32c --verify_fatal=1 --randseed=33)
# fio_during WHAT: fio writes and verifies while a migration runs
fio_during() {
	if fio "${fio_args[@]}" > "$SP_ARTIFACTS/md3mig-fio-$1.log" 2>&1; then
		ktap_ok "$1: fio random writes verified during the migration"
	else
		tail -20 "$SP_ARTIFACTS/md3mig-fio-$1.log" | sed 's/^/# /'
		ktap_fail "$1: fio random writes verified during the migration"
	fi
}

# ---- 1: the whole volume, then a slice, while fio writes -----------------
sp_pool $P 2
echo 3 > "$C"/metadata_format || sp_die "metadata_format 3"
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sp_volume $P v 8M
sp_member $P m2 "${DISKS[2]}" dC
sp_dm "$P-v" $P v
if [ "$(map | awk '$2 == "m2"' | wc -l)" -ne 0 ] || [ "$(map | wc -l)" -ne 4 ]; then
	sp_die "v is not 4 slices on m0 and m1: $(map | tr '\n' ' ')"
fi
read -r h0 _ < <(snap)

# 8 MiB at 1 MiB/s: the copy outlasts fio.
dmsetup message "$P-v" 0 migrate start all m2 rate=1 chunk_kb=256 || sp_die "migrate start all"
fio_during volume
seen=$(mig writes_seen)
dmsetup message "$P-v" 0 migrate rate 0 2> /dev/null || [ "$(mig state)" = "done" ] ||
	sp_die "rate 0 refused while the migration is $(mig state)"
wait_done
ktap_check "volume: the migration saw fio's writes ($seen) and switched (state $(mig state))" \
	[ "$seen" -gt 0 -a "$(mig state)" = "done" ]
ktap_check "volume: every slice is on m2" [ "$(map | awk '$2 == "m2"' | wc -l)" -eq 4 ]
ktap_check "volume: m0 and m1 are free" \
	[ "$(free_of m0)" = "$(cat "$C"/members/m0/total_slices)" -a \
	  "$(free_of m1)" = "$(cat "$C"/members/m1/total_slices)" ]
read -r h1 n1 < <(snap)
ktap_check "volume: start and switch, two transactions (head $h0 -> $h1), no move left ($n1)" \
	[ -n "$h0" -a "$h1" = "$((h0 + 2))" -a "$n1" = 0 ]
ktap_check "volume: the state on the members has the module's map" [ "$(cat "$W/smap")" = "$(map)" ]

free0=$(free_of m2)
# fio writes and verifies the volume 3 times over; the tool moves slice 0
# (2 MiB at 1 MiB/s) meanwhile and follows the job to its end.
fio "${fio_args[@]}" --loops=3 > "$SP_ARTIFACTS/md3mig-fio-slice.log" 2>&1 &
fp=$!
sleep 1.5
"$SPT" migrate $P/v --to m0 --slices 0 --rate 1 --chunk-kb 256 > /dev/null ||
	sp_die "slicepool migrate --slices 0"
seen=$(mig writes_seen)
if wait "$fp"; then
	ktap_ok "slice: fio random writes verified during the migration"
else
	tail -20 "$SP_ARTIFACTS/md3mig-fio-slice.log" | sed 's/^/# /'
	ktap_fail "slice: fio random writes verified during the migration"
fi
ktap_check "slice: the migration saw fio's writes ($seen) and switched (state $(mig state))" \
	[ "$seen" -gt 0 -a "$(mig state)" = "done" ]
ktap_check "slice: slice 0 is on m0, the others on m2" \
	[ "$(map | awk '$1 == 0 { print $2 }')" = m0 -a "$(map | awk '$2 == "m2"' | wc -l)" -eq 3 ]
ktap_check "slice: its source is free again ($(free_of m2) = $free0 + 1)" \
	[ "$(free_of m2)" -eq "$((free0 + 1))" ]
read -r h2 n2 < <(snap)
ktap_check "slice: start and switch, two transactions (head $h1 -> $h2), no move left ($n2)" \
	[ -n "$h1" -a "$h2" = "$((h1 + 2))" -a "$n2" = 0 ]
ktap_check "slice: the state on the members has the module's map" [ "$(cat "$W/smap")" = "$(map)" ]
if fio "${fio_args[@]}" --verify_only > "$SP_ARTIFACTS/md3mig-fio-verify.log" 2>&1; then
	ktap_ok "fio verify-only through the moved volume"
else
	tail -20 "$SP_ARTIFACTS/md3mig-fio-verify.log" | sed 's/^/# /'
	ktap_fail "fio verify-only through the moved volume"
fi

# ---- 2: abort ---------------------------------------------------------------
before=$(map)
freeb="$(free_of m0) $(free_of m1) $(free_of m2)"
dmsetup message "$P-v" 0 migrate start 1-2 m0 manual chunk_kb=256 || sp_die "migrate start 1-2 manual"
dmsetup message "$P-v" 0 migrate step 3 || sp_die "migrate step 3"
ktap_check "abort: while it copies, m0 has 2 slices fewer free" \
	[ "$(free_of m0)" -eq "$((${freeb%% *} - 2))" ]
read -r h3 n3 < <(snap)
ktap_check "abort: the start is one transaction (head $h2 -> $h3), the state has the move" \
	[ -n "$h2" -a "$h3" = "$((h2 + 1))" -a "$n3" = 1 ]
"$SPT" migrate $P/v --abort > /dev/null || sp_die "slicepool migrate --abort"
ktap_check "abort: the job says aborted" [ "$(mig state)" = aborted ]
ktap_check "abort: the map is unchanged" [ "$(map)" = "$before" ]
ktap_check "abort: the free counts are as before ($freeb)" \
	[ "$(free_of m0) $(free_of m1) $(free_of m2)" = "$freeb" ]
read -r h4 n4 < <(snap)
ktap_check "abort: the abort is one transaction (head $h3 -> $h4), no move left" \
	[ -n "$h3" -a "$h4" = "$((h3 + 1))" -a "$n4" = 0 ]

# ---- 3: a move no job runs is rolled back --------------------------------
# m1 holds nothing now; with it disabled the pool writes no metadata, so
# the abort cannot be recorded and the move stays in the state.
[ "$(free_of m1)" = "$(cat "$C"/members/m1/total_slices)" ] || sp_die "m1 is not empty"
f0=$(free_of m0)
dmsetup message "$P-v" 0 migrate start 3 m0 manual chunk_kb=256 || sp_die "migrate start 3 m0"
echo 0 > "$C"/members/m1/enable || sp_die "disable m1"
kmsg_mark
"$SPT" migrate $P/v --abort > /dev/null || sp_die "slicepool migrate --abort"
ktap_check "rollback: with m1 disabled, m0 keeps the aborted job's destination" \
	[ "$(free_of m0)" -eq "$((f0 - 1))" ]
ktap_check "rollback: the log says the abort is not recorded" \
	kmsg_has "$P: the end of the migration of volume v is not recorded: -30 \(no metadata write while a current member is disabled or failed: enable it\); its destinations stay reserved until the pool is assembled again$"
kmsg_mark
echo 1 > "$C"/members/m1/enable || sp_die "enable m1"
ktap_check "rollback: enabling m1 rolls the move back: m0's slice is free" \
	[ "$(free_of m0)" -eq "$f0" ]
ktap_check "rollback: the log says so" \
	kmsg_has "$P: volume v: an interrupted migration of slices 3\.\.3 \(copy cursor 0\) rolled back: the volume stays on its source; start it again$"
read -r h5 n5 < <(snap)
ktap_check "rollback: start and rollback, two transactions (head $h4 -> $h5), no move left" \
	[ -n "$h4" -a "$h5" = "$((h4 + 2))" -a "$n5" = 0 ]

# ---- 4: settings, then a module reload ---------------------------------------
echo 30 > "$C"/weight_space || sp_die "weight_space 30"
echo 70 > "$C"/weight_load || sp_die "weight_load 70"
echo 2 > "$C"/min_domains || sp_die "min_domains 2"
read -r h6 _ < <(snap)
ktap_check "settings: each write is one transaction (head $h5 -> $h6)" \
	[ -n "$h5" -a "$h6" = "$((h5 + 3))" ]
sp_record_volume $P v "$DEV" "$W"
sp_unload
sp_load
sp_pool $P
echo 3 > "$C"/metadata_format || sp_die "metadata_format 3"
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sp_member $P m2 "${DISKS[2]}" dC
sp_check_recorded reload $P v "$P-v" "$W"
ktap_check "reload: weight_space 30, weight_load 70, min_domains 2 from the metadata" \
	[ "$(cat "$C"/weight_space) $(cat "$C"/weight_load) $(cat "$C"/min_domains)" = "30 70 2" ]
sp_teardown

sp_unload
ktap_finish
