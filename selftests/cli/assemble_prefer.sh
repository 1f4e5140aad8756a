#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble --prefer MEMBER (Documentation/slicepool-tool.rst,
# "assemble"): pool ap on m0 and m1 is forked
# (dm-slicepool/md3_fork_lib.sh): each side, forced alone, wrote a volume
# of its own (w0 on m0, w1 on m1).  assemble of both devices is refused
# (exit 1) naming both branches and --prefer, and configures nothing.
# Bad --prefer values are usage errors (exit 2); a member on no branch and
# a pool that has not forked are refused (exit 1).  The dry run with
# --prefer 0 plans m0's branch and writes nothing; assemble --prefer 0
# brings the pool up read-write on m0's branch: m0 enabled, m1's device
# left out and never written, v (its slice on m0) and w0 with m0's data,
# no w1, the pool's prefer attribute 0; run again it changes nothing.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/dm-slicepool/lib.sh"
. "$SP_TOP/selftests/dm-slicepool/md3_fork_lib.sh"

sp_disks 2
ktap_header
ktap_plan 28
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:2}"

P=ap
C=$SP_CFG/$P
D0=${DISKS[0]}
D1=${DISKS[1]}
# shellcheck disable=SC2034	# md3_fork_lib.sh's
W0SUM='' W1SUM='' VSUM0='' V0=''
make_fork $P
m0sum=$(md_sum "$D0")
m1sum=$(md_sum "$D1")

# untouched: nothing configured, neither device written.
untouched() {
	[ ! -d "$C" ] && [ "$(md_sum "$D0")" = "$m0sum" ] &&
		[ "$(md_sum "$D1")" = "$m1sum" ]
}

sp_rc 1 "assemble of the forked pool exits 1" assemble "$D0" "$D1"
both_branches() {
	grep -Eq "the module would refuse this pool: .*; branch at seq [0-9]+ \(fork at seq [0-9]+\): members 0 \(its view: 0 current 1 stale\);.* choose one with 'slicepool assemble --prefer MEMBER'" "$ERR" &&
		grep -Eq "the module would refuse this pool: .*; branch at seq [0-9]+ \(fork at seq [0-9]+\): members 1 \(its view: 0 stale 1 current\);.* choose one with 'slicepool assemble --prefer MEMBER'" "$ERR"
}
ktap_check "... naming both branches and saying to choose one with --prefer" \
	both_branches
ktap_check "... and changes nothing" untouched

for bad in x -1 4294967295 ""; do
	sp_rc 2 "--prefer '$bad' is a usage error" assemble --prefer "$bad" "$D0" "$D1"
done
sp_rc 2 "--prefer given twice is a usage error" assemble --prefer 0 --prefer 1 "$D0" "$D1"
sp_rc 2 "--prefer without a value is a usage error" assemble --prefer
sp_rc 1 "--prefer 7 (a member on no branch) exits 1" assemble --prefer 7 "$D0" "$D1"
ktap_check "... saying no single branch holds member 7" \
	err_has "--prefer 7: no single branch holds that member"
sp_rc 1 "--prefer 0 of m0's device alone (no fork) exits 1" assemble --prefer 0 "$D0"
ktap_check "... saying there is nothing to choose" \
	err_has "--prefer 0: the devices found of this pool hold no fork, nothing to choose; assemble it without --prefer"
ktap_check "the refusals changed nothing" untouched

# The plan, then the assembly: m0's branch; v's slice on m1 is missing.
sp_rc 3 "assemble --dry-run --prefer 0 exits 3 (v's slice on m1 is missing)" \
	--json assemble --dry-run --prefer 0 "$D0" "$D1"
ktap_check "... plans m0's branch: m0, v and w0; m1's device left out" \
	json '(lambda p: p["name"] == "ap" and p["mode"] == "read-write" and [(m["name"], m["status"], m["result"]) for m in p["members"]] == [("m0", "current", "planned"), ("m1", "stale", "diverged")] and [(v["name"], v["missing_slices"], v["result"]) for v in p["volumes"]] == [("v", 1, "planned"), ("w0", 0, "planned")])(d["pools"][0]) and [r["device"] for r in d["diverged_devices"]] == ["'"$D1"'"] and d["refused"] == []'
ktap_check "... and changes nothing" untouched

sp_rc 3 "assemble --prefer 0 exits 3 (v's slice on m1 is missing)" \
	--json assemble --prefer 0 "$D0" "$D1"
ktap_check "... m0 enabled, m1 left out, v and w0 started" \
	json '(lambda p: p["mode"] == "read-write" and [(m["name"], m["result"]) for m in p["members"]] == [("m0", "enabled"), ("m1", "diverged")] and [(v["name"], v["result"]) for v in p["volumes"]] == [("v", "started"), ("w0", "started")])(d["pools"][0]) and [r["device"] for r in d["diverged_devices"]] == ["'"$D1"'"]'
ktap_check "the pool's prefer attribute is 0" [ "$(attr $P/prefer)" = 0 ]
ktap_check "m0 is the only member configured, online" \
	[ "$(ls "$C"/members)" = m0 -a "$(attr $P/members/m0/state)" = online ]
ktap_check "w0 holds m0's data" [ "$(sp_sum /dev/mapper/ap-w0 1)" = "$W0SUM" ]
ktap_check "v's slice on m0 holds its data" [ "$(v0_sum ap-v)" = "$VSUM0" ]
no_w1() {
	[ ! -e "$C"/volumes/w1 ] && [ ! -e /dev/mapper/ap-w1 ] &&
		! grep -q "^w1 " "$C"/discovered
}
ktap_check "w1 (m1's branch) is nowhere: not bound, not discovered" no_w1
ktap_check "w0 takes writes (the pool is read-write)" \
	dd if=/dev/urandom of=/dev/mapper/ap-w0 bs=1M count=1 oflag=direct status=none
sp_rc 3 "assemble --prefer 0 again exits 3" --json assemble --prefer 0 "$D0" "$D1"
ktap_check "... and changes nothing" \
	json '(lambda p: p["changes"] == 0 and [(m["name"], m["result"]) for m in p["members"]] == [("m0", "present"), ("m1", "diverged")])(d["pools"][0])'
sp_teardown
ktap_check "m1's device was never written" [ "$(md_sum "$D1")" = "$m1sum" ]
ktap_finish
