#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble rejoins a stale member (Documentation/slicepool-tool.rst,
# "assemble": the stale members whose device is found are enabled after
# the current ones, and the module rejoins them once the pool is
# read-write).  Pool rj: m0 on a disk, m1 on a dm-linear device over
# another, volume v (written) on both.  m1's device fails (dm-error): a
# read of v fails, m1 is failed, and a volume created meanwhile makes its
# metadata write to m1 fail, so the state marks m1 stale.  The pool is
# removed (--unbind) and m1's device answers again; assemble finds m1
# stale with its device, enables it after m0, the module rejoins it (one
# transaction), and v reads back as written, its slice on m1 included.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

F=sp-rejoin-m1
cli_start 2 8 "$F"
P=rj
C=$SP_CFG/$P
D0=${DISKS[0]}
sz=$(blockdev --getsz "${DISKS[1]}") || sp_die "blockdev ${DISKS[1]}"
# m1_table TABLE: swap the table under m1's device.
m1_table() {
	if ! { dmsetup suspend "$F" && dmsetup load "$F" --table "$1" &&
	       dmsetup resume "$F"; }; then
		sp_die "table '$1' for $F"
	fi
}
dmsetup create "$F" --table "0 $sz linear ${DISKS[1]} 0" || sp_die "dmsetup create $F"
[ -b "/dev/mapper/$F" ] || dmsetup mknodes "$F"

sp pool create $P --slice-mb 1 || sp_die "pool create"
echo 0 > "$C/online_probe_s" || sp_die "online_probe_s 0"
sp member add $P m0 --path "$D0" --domain dA || sp_die "member add m0"
sp member add $P m1 --path "/dev/mapper/$F" --domain dB || sp_die "member add m1"
sp vol create $P/v --size 2M || sp_die "vol create v"
fill /dev/mapper/rj-v 2
vsum=$(sum_dev /dev/mapper/rj-v 2)
[ "$(awk '{ print $2 }' "$C/volumes/v/map" | sort | tr '\n' ' ')" = "m0 m1 " ] ||
	sp_die "v's slices are not on m0 and m1: $(cat "$C/volumes/v/map")"

# m1 fails, then stale after a failed metadata write.
m1_table "0 $sz error"
dd if=/dev/mapper/rj-v of=/dev/null bs=1M iflag=direct status=none 2> /dev/null &&
	sp_die "a read of v succeeded with m1's device failing"
sp vol create $P/w --size 1M || sp_die "vol create w"
sp pool remove --unbind $P || sp_die "pool remove --unbind"
dmsetup remove --retry "$F" || sp_die "dmsetup remove $F"

kmsg_mark
sp_rc 0 "assemble of m0 and m1's device exits 0" --json assemble "$D0" "${DISKS[1]}"
ktap_check "... m1 stale with its device, enabled after m0; v and w started" \
	json '(lambda p: p["mode"] == "read-write" and [(m["name"], m["status"], m["device"], m["result"]) for m in p["members"]] == [("m0", "current", "'"$D0"'", "enabled"), ("m1", "stale", "'"${DISKS[1]}"'", "enabled")] and [(v["name"], v["result"]) for v in p["volumes"]] == [("v", "started"), ("w", "started")])(d["pools"][0]) and d["refused"] == []'
ktap_check "the module rejoined m1" \
	kmsg_has "m1: ${DISKS[1]} rejoined pool $P$"
ktap_check "m1 is online and takes slices again" \
	[ "$(attr $P/members/m1/state)" = online -a "$(attr $P/members/m1/free_slices)" -gt 0 ]
ktap_check "v's map has its slice on m1 again" \
	[ "$(awk '{ print $2 }' "$C/volumes/v/map" | sort | tr '\n' ' ')" = "m0 m1 " ]
ktap_check "v reads back as written" [ "$(sum_dev /dev/mapper/rj-v 2)" = "$vsum" ]
sp_rc 0 "a second assemble exits 0 and changes nothing" assemble "$D0" "${DISKS[1]}"
ktap_check "... saying so" grep -qx "  nothing to do: pool $P is assembled" "$OUT"
ktap_finish
