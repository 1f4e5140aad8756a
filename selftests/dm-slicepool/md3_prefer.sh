#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The pool's prefer attribute resolves a fork of the members' journals
# (Documentation/dm-slicepool.rst, "Resolving a fork: prefer").  Pool pf
# on m0 and m1 is forked (md3_fork_lib.sh): each side, forced alone,
# wrote a volume of its own (w0 on m0, w1 on m1).
#  1. Without prefer, m1 then m0: m0 is refused, the log names both
#     branches and says how to choose one (the prefer attribute).
#  2. Bad values of prefer are refused with EINVAL and a line naming them.
#  3. prefer 0, m1 enabled first: the pool stays read-only (m1 alone shows
#     no fork) and publishes nothing; m0 then: m0's branch wins, read-write
#     with v and w0 (their data), never w1; m1 stays stale, its device is
#     not written.  prefer 1 on that read-write pool is refused.
#  4. prefer 0, m0 first: m1 enabled next is refused, nothing written.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"
. "$(dirname "$0")/md3_force_lib.sh"
. "$(dirname "$0")/md3_fork_lib.sh"

sp_start 2 29
sp_wipe "${DISKS[@]:0:2}"

P=pf
C=$SP_CFG/$P
D0=${DISKS[0]}
D1=${DISKS[1]}

# member NAME DEVICE DOMAIN: configured, not enabled.
member() {
	mkdir "$C/members/$1" || sp_die "mkdir $1"
	echo "$2" > "$C/members/$1/path" || sp_die "path of $1"
	echo "$3" > "$C/members/$1/domain" || sp_die "domain of $1"
}

make_fork $P
m1sum=$(md_sum "$D1")

# 1. Without prefer: m1 first is read-write on its branch; m0 refused.
new_pool
sp_member $P m1 "$D1" dB
member m0 "$D0" dA
refused "m0 after m1, without prefer" "$C"/members/m0/enable 1 EEXIST \
	"$P: refused: the members' journals have forked; branch at seq [0-9]+ \(fork at seq [0-9]+\): members .* choose one with 'slicepool assemble --prefer MEMBER'$"
both_branches() {
	logged "; branch at seq [0-9]+ \(fork at seq [0-9]+\): members 0 \(its view: 0 current 1 stale\);" &&
		logged "; branch at seq [0-9]+ \(fork at seq [0-9]+\): members 1 \(its view: 0 stale 1 current\);"
}
ktap_check "the refusal names both branches, each with its member and view" both_branches
ktap_check "the log says to write a member's id to the prefer attribute" \
	logged "$P: to go on with one branch, write the id of a member on it to the pool's prefer attribute \('slicepool assemble --prefer MEMBER'\); the other branches' devices are then never used$"
sp_teardown

# 2. Bad values.
new_pool
ktap_check "prefer of a new pool reads none" [ "$(cat "$C"/prefer)" = none ]
for bad in x +0 4294967295 "1 2"; do
	refused "prefer '$bad'" "$C"/prefer "$bad" EINVAL \
		"slicepool: $P: prefer: invalid value '${bad/+/\\+}' \(a member id, 0..4294967294, or none\)$"
done
ktap_check "after the refusals prefer still reads none" [ "$(cat "$C"/prefer)" = none ]

# 3. prefer 0, m1 first: read-only, then m0: m0's branch.
ktap_check "prefer 0 is taken and reads 0" \
	[ "$(werr "$C"/prefer 0)" = OK -a "$(cat "$C"/prefer)" = 0 ]
kmsg_mark
sp_member $P m1 "$D1" dB
take_log
m1_waits() {
	[ ! -s "$C"/discovered ] &&
		logged "m1: ${D1} adopted into pool $P: member 1; the pool is read-only until every current member is enabled$" &&
		logged "$P: waiting for member 0 \(prefer\): enable its device, or clear prefer \(write none\)$"
}
ktap_check "m1 alone: read-only, waiting for member 0, nothing published" m1_waits
kmsg_mark
sp_member $P m0 "$D0" dA
take_log
m0_wins() {
	logged "$P: the members' journals have forked: prefer chooses the branch of member 0 \(seq [0-9]+\); devices on the other branches are never used$" &&
		logged "m0: ${D0} adopted into pool $P: member 0; the pool is read-write$"
}
ktap_check "m0 then: prefer chooses m0's branch, read-write" m0_wins
ktap_check "m1 stays stale, its copy never used" \
	logged "m1: ${D1} stays stale: member 1 was forced out of pool $P at seq [0-9]+; its copy is never used \(disable it\)$"
ktap_check "discovered lists v and w0, not w1" \
	[ "$(awk '{ print $1 }' "$C"/discovered | sort | tr '\n' ' ')" = "v w0 " ]
mkdir "$C"/volumes/w0 "$C"/volumes/v || sp_die "bind w0 and v"
sp_dm pfw0 $P w0
sp_dm pfv $P v
ktap_check "w0 holds m0's data" [ "$(sp_sum /dev/mapper/pfw0 1)" = "$W0SUM" ]
ktap_check "v's slice on m0 holds its data" [ "$(v0_sum pfv)" = "$VSUM0" ]
ktap_check "w0 takes writes (the pool is read-write)" \
	dd if=/dev/urandom of=/dev/mapper/pfw0 bs=1M count=1 oflag=direct status=none
refused "prefer 1 on the read-write pool" "$C"/prefer 1 EINVAL \
	"$P: prefer 1 refused: the pool is read-write and member 1 is not one of its enabled current members: no fork to resolve in its favour \(to assemble another branch, disable the members first\)$"
dmsetup remove pfw0 pfv || sp_die "dmsetup remove"
sp_teardown
ktap_check "m1's device was never written" [ "$(md_sum "$D1")" = "$m1sum" ]

# 4. prefer 0, m0 first: m1 refused.
new_pool
echo 0 > "$C"/prefer || sp_die "prefer 0"
sp_member $P m0 "$D0" dA
member m1 "$D1" dB
refused "m1 after m0 with prefer 0" "$C"/members/m1/enable 1 EBUSY \
	"m1: refused: ${D1} is member 1 of pool $P on a branch that prefer \(member 0\) does not choose \(diverged at seq [0-9]+\): its copy is never used; leave it out, or wipe its labels \(blocks 0 and 1\) and enable it to add the device as a new member; nothing changed$"
ktap_check "prefer none clears it" \
	[ "$(werr "$C"/prefer none)" = OK -a "$(cat "$C"/prefer)" = none ]
sp_teardown
ktap_check "m1's device is still unwritten" [ "$(md_sum "$D1")" = "$m1sum" ]
ktap_finish
