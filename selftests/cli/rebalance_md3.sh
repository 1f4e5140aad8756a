#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool rebalance against the real module, on a pool of metadata
# format 3 (the module's default).  Three domains of one small member
# each (10 slices of 4 MiB, so that one slice moves a domain's workload W
# by 5 points with weight_space = weight_load = 50) hold a volume of 6
# slices, 2 per domain (W 10 each).  Pinning the load of dA to 60 makes it
# heavy (W 40, spread 30 > band 20).  Then:
# --dry-run shows the first move and moves nothing; --max-moves 1 makes
# exactly that move (dA -> dB); a full run makes one more (dA -> dC) and
# stops within the band (30, 15, 15).  With no slice left on the heavy
# domain but in a volume without a dm table, rebalance stops and says
# why.  The data is unchanged throughout.
. "$(dirname "$0")/lib.sh"

P=rb
DEV=/dev/mapper/rb-v

# W <domain>: the module's workload of a domain.
wl() { awk -v d="$1" '$1 == d { print $6 }' "$SP_CFG/$P/domains"; }
spread() { awk 'NR == 1 || $6 > hi { hi = $6 } NR == 1 || $6 < lo { lo = $6 } END { print hi - lo }' "$SP_CFG/$P/domains"; }
on_member() { awk -v m="$1" '$2 == m' "$SP_CFG/$P/volumes/v/map" | wc -l; }
vol_md5() { dd if=$DEV bs=1M count=24 iflag=direct status=none | md5sum; }
# top_on MEMBER: the highest logical slice of v on MEMBER
top_on() { awk -v m="$1" '$2 == m { t = $1 } END { print t }' "$SP_CFG/$P/volumes/v/map"; }

rebalance_run() {
	local i d mdmb=5

	cli_start 3 24 rbA rbB rbC

	# Members of the metadata + 10 slices of 4 MiB.  The metadata: the two
	# labels and the journal (4 MiB at least, md3_default_journal_blocks())
	# rounded up to 1 MiB.
	i=0
	for d in A B C; do
		dmsetup create rb$d --table "0 $(((mdmb + 40) << 11)) linear ${DISKS[$i]} 0" ||
			sp_die "linear rb$d"
		i=$((i + 1))
	done
	sp pool create $P --slice-mb 4 --weight-space 50 --weight-load 50 || sp_die "pool create"
	[ "$(attr $P/metadata_format)" = 3 ] ||
		sp_die "pool $P is on metadata format $(attr $P/metadata_format), not 3"
	i=0
	for d in A B C; do
		sp member add $P m$i --path /dev/mapper/rb$d --domain d$d || sp_die "member add m$i"
		sp member set $P m$i --load-override 0 || sp_die "load override m$i"
		i=$((i + 1))
	done
	[ "$(attr $P/members/m0/total_slices)" = 10 ] || sp_die "m0 has $(attr $P/members/m0/total_slices) slices, not 10"
	sp vol create $P/v --size 24M || sp_die "vol create"
	head -c $((24 << 20)) /dev/urandom > "$W/a"
	dd if="$W/a" of=$DEV bs=1M oflag=direct status=none || sp_die "write pattern"
	sum0=$(md5sum < "$W/a")

	ktap_check "setup: v has 2 slices in each domain" \
		test "$(on_member m0)" = 2 -a "$(on_member m1)" = 2 -a "$(on_member m2)" = 2
	sp member set $P m0 --load-override 60 || sp_die "pin m0"
	ktap_check "pinned load 60 makes dA heavy: W 40, 10, 10 (spread 30)" \
		test "$(wl dA)" = 40 -a "$(wl dB)" = 10 -a "$(wl dC)" = 10

	# ---- --dry-run: the first move, nothing moved -------------------------------
	map0=$(cat "$SP_CFG/$P/volumes/v/map")
	top=$(top_on m0)
	sp_rc 0 "rebalance --dry-run" --json rebalance $P --dry-run
	ktap_check "... plans v slice $top (the highest on dA) to domain:dB" \
		json "d['stopped'] == 'dry_run' and len(d['moves']) == 1 and d['moves'][0]['state'] == 'planned' and d['moves'][0]['volume'] == 'v' and d['moves'][0]['logical'] == $top and d['moves'][0]['from_domain'] == 'dA' and d['moves'][0]['to'] == 'domain:dB' and d['spread'] == 30"
	ktap_check "... and moves nothing" test "$(cat "$SP_CFG/$P/volumes/v/map")" = "$map0"

	# ---- --max-moves 1 ----------------------------------------------------------
	sp_rc 0 "rebalance --max-moves 1" --json rebalance $P --max-moves 1
	ktap_check "... made one move, v slice $top to m1, and stopped at max_moves" \
		json "len(d['moves']) == 1 and d['moves'][0]['logical'] == $top and d['moves'][0]['state'] == 'done' and d['moves'][0]['to_member'] == 'm1' and d['moves'][0]['bytes_copied'] >= 4 << 20 and d['stopped'] == 'max_moves' and d['spread'] == 25"
	ktap_check "... the map agrees: slice $top is on m1" \
		test "$(awk -v l="$top" '$1 == l { print $2 }' "$SP_CFG/$P/volumes/v/map")" = m1
	ktap_check "... W is now 35, 15, 10" \
		test "$(wl dA)" = 35 -a "$(wl dB)" = 15 -a "$(wl dC)" = 10
	ktap_check "... the data is unchanged" test "$(vol_md5)" = "$sum0"

	# ---- until within the band ---------------------------------------------------
	top=$(top_on m0)
	sp_rc 0 "rebalance --rate 8" rebalance $P --rate 8
	ktap_check "... moved v slice $top from m0 to domain:dC, one move" \
		grep -qE "^move 1: v slice $top from m0 \(domain dA, W 35\) to domain:dC \(W 10\), now on m2: done" "$OUT"
	ktap_check "... and says it stopped within the band (spread 15)" \
		grep -qE "^rebalance of rb: 1 move, spread 25 -> 15 \(band 20\): the spread of the domains' workloads \(15\) is within the band \(20\)" "$OUT"
	ktap_check "... the module's W are 30, 15, 15: max - min <= 20" \
		test "$(wl dA)" = 30 -a "$(wl dB)" = 15 -a "$(wl dC)" = 15 -a "$(spread)" -le 20
	ktap_check "... v has 0 slices on m0, 3 on m1 and 3 on m2" \
		test "$(on_member m0)" = 0 -a "$(on_member m1)" = 3 -a "$(on_member m2)" = 3
	ktap_check "... the data is unchanged" test "$(vol_md5)" = "$sum0"
	sp_rc 0 "rebalance again: nothing to do" --json rebalance $P
	ktap_check "... no move, stopped balanced" \
		json 'd["moves"] == [] and d["stopped"] == "balanced" and d["spread"] == 15'

	# ---- no move possible ----------------------------------------------------------
	# w gets one slice on dA (made light again for it), then loses its dm
	# device; dA made heavy again has only w's slice, which cannot migrate.
	sp member set $P m0 --load-override 0 || sp_die "unpin m0"
	sp vol create $P/w --size 8M || sp_die "vol create w"
	ktap_check "setup: w has a slice on m0" \
		test "$(awk '$2 == "m0"' "$SP_CFG/$P/volumes/w/map" | wc -l)" -ge 1
	dmsetup remove --retry rb-w || sp_die "remove rb-w"
	sp member set $P m0 --load-override 100 || sp_die "pin m0 to 100"
	map1=$(cat "$SP_CFG/$P/volumes/v/map")
	sp_rc 1 "rebalance with no volume with a table on the heavy domain: exit 1" \
		--json rebalance $P
	ktap_check "... stopped no_slice, naming the heaviest domain" \
		json 'd["moves"] == [] and d["stopped"] == "no_slice" and "heaviest domain dA" in d["reason"]'
	ktap_check "... the reason is on stderr too" err_has "no volume with a dm table"
	ktap_check "... nothing moved, the data is unchanged" \
		test "$(cat "$SP_CFG/$P/volumes/v/map")" = "$map1" -a "$(vol_md5)" = "$sum0"

	sp_rc 0 "cleanup: pool remove --unbind" pool remove --unbind $P
	ktap_finish
}

rebalance_run
