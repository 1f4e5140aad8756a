#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool vol resize --from-heaviest against the real module.  Two
# volumes of 12 slices spread the same way over three domains (logical
# slice i on domain i % 3: dA, dB, dC, dA, ...); then dA is made the
# heaviest (pinned load).  Shrinking to 6 slices keeps 0..5: a plain
# shrink (w) keeps dA's slices 0 and 3; --from-heaviest (v) first moves
# them to the domains of the released tail slices 7 (dB) and 8 (dC), so v
# keeps none on dA.  The kept data of both is unchanged.  Refusals: not a
# shrink, and no dm device to migrate in.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 20
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P=shp
W=$(mktemp -d)
trap 'sp_teardown; rm -rf "$W" "$OUT" "$ERR"' EXIT

sp pool create $P --slice-mb 1 || sp_die "pool create"
i=0
for d in dA dB dC; do
	sp member add $P m$i --path "${DISKS[$i]}" --domain $d || sp_die "member add m$i"
	sp member set $P m$i --load-override 0 || sp_die "load override m$i"
	i=$((i + 1))
done
for v in v w; do
	sp vol create $P/$v --size 12M || sp_die "vol create $v"
	head -c $((12 << 20)) /dev/urandom > "$W/$v"
	dd if="$W/$v" of=/dev/mapper/$P-$v bs=1M oflag=direct status=none ||
		sp_die "write $v"
done
# on VOL MEMBER: slices of VOL on MEMBER
on() { awk -v m="$2" '$2 == m' "$SP_CFG/$P/volumes/$1/map" | wc -l; }
kept_md5() { dd if="/dev/mapper/$P-$1" bs=1M count=6 iflag=direct status=none | md5sum; }
file_md5() { head -c $((6 << 20)) "$W/$1" | md5sum; }
layout() { awk '{ printf "%s ", $2 }' "$SP_CFG/$P/volumes/$1/map"; }

ktap_check "setup: v and w are laid out m0 m1 m2 m0 ... ($(layout v))" \
	test "$(layout v)" = "m0 m1 m2 m0 m1 m2 m0 m1 m2 m0 m1 m2 " -a \
	     "$(layout w)" = "$(layout v)"
sp member set $P m0 --load-override 90 || sp_die "pin m0"
ktap_check "dA is the heaviest domain" \
	test "$(sort -k6,6n "$SP_CFG/$P/domains" | tail -1 | cut -d' ' -f1)" = dA

# ---- refusals -----------------------------------------------------------------
sp_rc 1 "--from-heaviest on an expand is refused" \
	vol resize $P/v --size 16M --from-heaviest
ktap_check "... saying it only applies to a shrink, size unchanged" \
	test -n "$(grep -F 'only applies to a shrink' "$ERR")" -a \
	     "$(attr $P/volumes/v/size)" = $((12 << 20))
sp_rc 1 "--from-heaviest to the same size is refused" \
	vol resize $P/v --size 12M --from-heaviest

# ---- plain shrink of w, --from-heaviest shrink of v ------------------------------
sp_rc 0 "plain shrink of w to 6M" vol resize $P/w --size 6M
plain=$(on w m0)
ktap_check "... keeps $plain slices on dA (logical 0 and 3)" test "$plain" = 2
sp_rc 0 "shrink of v to 6M --from-heaviest" --json vol resize $P/v --size 6M --from-heaviest
ktap_check "... its JSON names dA and the two moves (3 -> dB, 0 -> dC)" \
	json 'd["from_heaviest"]["domain"] == "dA" and [(m["logical"], m["to"], m["to_member"]) for m in d["from_heaviest"]["moves"]] == [(3, "domain:dB", "m1"), (0, "domain:dC", "m2")] and d["volume"]["size"] == 6 << 20'
heavy=$(on v m0)
ktap_check "--from-heaviest leaves fewer slices on dA than a plain shrink ($heavy < $plain)" \
	test "$heavy" -lt "$plain"
ktap_check "... v keeps 6 slices: 3 on dB, 3 on dC" \
	test "$(wc -l < "$SP_CFG/$P/volumes/v/map")" = 6 -a "$(on v m1)" = 3 -a "$(on v m2)" = 3
ktap_check "... the dm device is 6 MiB" \
	test "$(blockdev --getsize64 /dev/mapper/$P-v)" = $((6 << 20))
ktap_check "... the kept data of v is unchanged" test "$(kept_md5 v)" = "$(file_md5 v)"
ktap_check "... the kept data of w is unchanged" test "$(kept_md5 w)" = "$(file_md5 w)"
ktap_check "... the tail slices are free again (m0 holds only w's 2)" \
	test "$(($(attr $P/members/m0/total_slices) - $(attr $P/members/m0/free_slices)))" = 2

# ---- text output, and no dm device ---------------------------------------------
sp_rc 0 "a second --from-heaviest shrink of w (text)" vol resize $P/w --size 4M --from-heaviest
ktap_check "... says which slice moved off dA" \
	grep -qE "^moved slice 3 from m0 \(heaviest domain dA\) to m1 \(domain:dB\), releasing tail slice 4 there" "$OUT"
ktap_check "... and w keeps its data" \
	test "$(dd if=/dev/mapper/$P-w bs=1M count=4 iflag=direct status=none | md5sum)" = \
	     "$(head -c $((4 << 20)) "$W/w" | md5sum)"
dmsetup remove --retry $P-w || sp_die "remove shp-w"
sp_rc 1 "--from-heaviest without a dm device is refused" \
	vol resize $P/w --size 2M --from-heaviest
ktap_check "... saying it needs the dm device" err_has "which runs in the volume's dm device"
ktap_finish
