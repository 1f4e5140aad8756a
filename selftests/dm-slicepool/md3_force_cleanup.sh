#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# After a forced activation of a format-3 pool (md3_force.sh), the
# operator cleans up (Documentation/dm-slicepool.rst, "Forced
# activation"): a volume with a slice on the member forced out can be
# deleted (one transaction; its slices on present members are freed), but
# not shrunk or grown (its data there is lost: the refusal says so and
# names the volume and the member); then the forced-out member, whose
# device is gone, is removed from the pool with its "remove" attribute
# (refused, naming the volume, while a volume still has a slice on it).
# A module reload and a reassembly show the same state, and m2's device
# is refused as a removed member's.  And what stays
# refused as before: deleting such a volume while its member is only
# disabled (a current member: it may come back), and in the read-only
# pool before the force.
#
# Members m0, m1, m2 in domains dA, dB, dC; volume v (2 slices) on m0 and
# m2, volume w (2 slices, written) on m0 and m1; placement by load only
# (weight_space 0) and load_override make the maps exact.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$(dirname "$0")/md3_force_lib.sh"

sp_start 3 39
sp_wipe "${DISKS[@]:0:3}"

P=fc3
C=$SP_CFG/$P
W=$(mktemp -d) || sp_die "mktemp"
trap 'rm -rf "$W"' EXIT

# loads L0 L1 L2: the load_override of m0, m1 and m2.
loads() {
	local i=0 l
	for l in "$@"; do
		echo "$l" > "$C/members/m$i/load_override" || sp_die "load of m$i"
		i=$((i + 1))
	done
}

# jhead: the seq of the pool's head on m0 and m1, as "slicepool inspect"
# reads it (its JSON in $W/i.json).
jhead() {
	md3_head "$W/i.json" "${DISKS[0]}" "${DISKS[1]}"
}

# next SEQ: SEQ + 1, or - if SEQ is not a number.
next() {
	case $1 in
	''|*[!0-9]*) echo - ;;
	*) echo $(($1 + 1)) ;;
	esac
}

# statuses: "<name>:<status> ..." of every member of the state in
# $W/i.json (the last jhead).
statuses() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
p = [p for p in d["pools"] if p["format"] == 3][0]
print(" ".join(m["name"] + ":" + m["status"] for m in p["members"]))' \
		"$W/i.json" 2>/dev/null || echo -
}

# wsum: the sha256 of w's 2 MiB through its dm device fcw.
wsum() {
	sp_sum /dev/mapper/fcw 2
}

# The pool: v on m0 and m2, w on m0 and m1, w written.
new_pool
echo 100 > "$C"/weight_load || sp_die "weight_load 100"
echo 0 > "$C"/weight_space || sp_die "weight_space 0"
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sp_member $P m2 "${DISKS[2]}" dC
loads 0 100 0
sp_volume $P v 2M
loads 0 0 100
sp_volume $P w 2M
ktap_check "v's slices are on m0 and m2" \
	[ "$(cat "$C"/volumes/v/map)" = "$(printf '0 m0 0\n1 m2 0')" ]
ktap_check "w's slices are on m0 and m1" \
	[ "$(cat "$C"/volumes/w/map)" = "$(printf '0 m0 1\n1 m1 0')" ]
wuuid=$(cat "$C"/volumes/w/uuid)
wmap=$(cat "$C"/volumes/w/map)
sp_dm fcw $P w
sp_fill /dev/mapper/fcw 2
sum0=$(wsum)
dmsetup remove fcw || sp_die "dmsetup remove fcw"

# m2 only disabled (still current): deleting v is refused as before.
rmdir "$C"/volumes/v || sp_die "unbind v"
echo 0 > "$C"/members/m2/enable || sp_die "disable m2"
mkdir "$C"/volumes/v || sp_die "bind v"
ktap_check "with m2 disabled, v's slice on m2 is missing" \
	[ "$(cat "$C"/volumes/v/map)" = "$(printf '0 m0 0\n1 - -')" ]
refused "deleting v while m2 is only disabled" "$C"/volumes/v/size 0 EIO \
	"$P: refused: volume v has 1 missing slices; enable the missing members first$"
ktap_check "v keeps its 2 MiB" [ "$(cat "$C"/volumes/v/size)" -eq $((2 << 20)) ]
refused "remove of m2, only disabled" "$C"/members/m2/remove 1 EINVAL \
	"m2: remove refused: the member is not enabled \(enable it first: remove writes the pool's metadata\)$"
rmdir "$C"/volumes/v || sp_die "unbind v"
echo 1 > "$C"/members/m2/enable || sp_die "enable m2 again"
sp_teardown

# Reassembled without m2: read-only; deleting v is refused.
new_pool
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
mkdir "$C"/volumes/v || sp_die "mkdir v"
refused "deleting v in the read-only pool" "$C"/volumes/v/size 0 EROFS \
	"$P: refused: the pool is read-only until every current member is enabled; volume v not resized$"
rmdir "$C"/volumes/v || sp_die "rmdir v"

# Forced read-write: m2 is forced out, v's slice on it is lost.
ktap_check "force is accepted" [ "$(werr "$C"/force 1)" = OK ]
mkdir "$C"/volumes/v || sp_die "bind v"
ktap_check "v's slice on m2 is missing" \
	[ "$(cat "$C"/volumes/v/map)" = "$(printf '0 m0 0\n1 - -')" ]
lost="$P: refused: volume v has 1 slice\(s\) on member 2 \(m2\), forced out: the volume's data there is lost; the only way out is deleting the volume \(size 0\), then removing the member; volume v not resized$"
refused "shrinking v to 1 MiB" "$C"/volumes/v/size 1M EIO "$lost"
refused "growing v to 3 MiB" "$C"/volumes/v/size 3M EIO "$lost"
mkdir "$C"/members/m2 || sp_die "mkdir m2"
refused "remove of m2 while v has a slice on it" "$C"/members/m2/remove 1 EBUSY \
	"m2: remove refused: the member holds 1 slice\(s\) of 1 volume\(s\): v; the member is gone: delete those volumes \(size 0\), whose data on it is lost, first$"

# Deleting v: one transaction, its slice on m0 freed, w untouched.
free0=$(cat "$C"/members/m0/free_slices)
seq0=$(jhead)
ktap_check "v is at 2 MiB before the delete" \
	[ "$(cat "$C"/volumes/v/size)" -eq $((2 << 20)) ]
ktap_check "deleting v (size 0) is accepted" \
	[ "$(werr "$C"/volumes/v/size 0)" = OK ]
seq1=$(jhead)
ktap_check "the delete is one transaction (seq $seq0 to $seq1)" \
	[ "$seq0" != - -a "$seq1" = "$(next "$seq0")" ]
ktap_check "m0's free slices grow by v's one slice there" \
	[ "$(cat "$C"/members/m0/free_slices)" -eq $((free0 + 1)) ]
ktap_check "v's size reads 0" [ "$(cat "$C"/volumes/v/size)" -eq 0 ]
rmdir "$C"/volumes/v || sp_die "rmdir v"
ktap_check "discovered lists only w, not v once unbound" \
	[ "$(cat "$C"/discovered)" = "w $wuuid $((2 << 20))" ]
mkdir "$C"/volumes/w || sp_die "bind w"
sp_dm fcw $P w
ktap_check "w's map and data are intact" \
	[ "$(cat "$C"/volumes/w/map)" = "$wmap" -a "$(wsum)" = "$sum0" ]

# Removing m2 (its device gone): one transaction, m2 removed.
kmsg_mark
r=$(werr "$C"/members/m2/remove 1)
take_log
ktap_check "remove of m2 is accepted (got $r)" [ "$r" = OK ]
ktap_check "the log says m2 was removed without its device" \
	logged "m2: member 2 \(forced out, no device\) removed from pool $P$"
seq2=$(jhead)
ktap_check "the remove is one transaction (seq $seq1 to $seq2)" \
	[ "$seq1" != - -a "$seq2" = "$(next "$seq1")" ]
ktap_check "the state has m0 and m1 current, m2 removed" \
	[ "$(statuses)" = "m0:current m1:current m2:removed" ]
refused "remove of m2 again" "$C"/members/m2/remove 1 EINVAL \
	"m2: remove refused: member 2 of that name was removed from pool $P already; rmdir it$"
free1=$(cat "$C"/members/m0/free_slices)
rmdir "$C"/members/m2 || sp_die "rmdir m2"

# A module reload and a reassembly: the same state.
sp_unload
sp_load
new_pool
kmsg_mark
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
take_log
ktap_check "after a reload, m0 and m1 make the pool read-write" \
	logged "m1: ${DISKS[1]} adopted into pool $P: member 1; the pool is read-write$"
ktap_check "discovered lists only w" \
	[ "$(cat "$C"/discovered)" = "w $wuuid $((2 << 20))" ]
ktap_check "m0 has the same free slices" \
	[ "$(cat "$C"/members/m0/free_slices)" -eq "$free1" ]
jhead > /dev/null
ktap_check "the state still has m2 removed" \
	[ "$(statuses)" = "m0:current m1:current m2:removed" ]
mkdir "$C"/volumes/w || sp_die "bind w"
sp_dm fcw $P w
ktap_check "w's map and data are intact after the reload" \
	[ "$(cat "$C"/volumes/w/map)" = "$wmap" -a "$(wsum)" = "$sum0" ]
ktap_check "a write to w succeeds" \
	dd if=/dev/urandom of=/dev/mapper/fcw bs=1M count=2 oflag=direct status=none
mkdir "$C"/members/m2 || sp_die "mkdir m2"
echo "${DISKS[2]}" > "$C"/members/m2/path || sp_die "path of m2"
echo dC > "$C"/members/m2/domain || sp_die "domain of m2"
refused "m2's device, back after the remove" "$C"/members/m2/enable 1 EEXIST \
	"m2: refused: ${DISKS[2]} is not a usable member of pool $P \(see above\); nothing changed$"
sp_teardown
ktap_finish
