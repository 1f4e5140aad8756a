#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A redundant volume (copies 2 in the pool's metadata, issue 15;
# Documentation/dm-slicepool-metadata.rst, "Redundant volumes") is not
# bound by this module yet: "mkdir volumes/<name>" fails with EOPNOTSUPP
# and a line naming it, while the pool's volume of one copy binds as
# before, and the further leg of the redundant one counts as a used
# slice of its member.  The redundant volume is written into the
# members' metadata by the tool's md3 library (tools/slicepool/tests/unit
# md3copies: legs on m0 and m1, leg 1 stale).
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

UNIT=$SP_TOP/tools/slicepool/tests/unit
[ -x "$UNIT" ] || sp_skip "$UNIT not built (make tools)"
sp_start 2 5
sp_wipe "${DISKS[@]:0:2}"
P=pc
C=$SP_CFG/$P

members() {
	sp_member $P m0 "${DISKS[0]}" dA
	sp_member $P m1 "${DISKS[1]}" dB
}

# used: the slices in use on m0 and m1 together
used() {
	local m n=0
	for m in m0 m1; do
		n=$((n + $(cat "$C/members/$m/total_slices") - $(cat "$C/members/$m/free_slices")))
	done
	echo $n
}

sp_pool $P 8
members
sp_volume $P v 16M
sp_teardown
"$UNIT" md3copies "${DISKS[0]}" "${DISKS[1]}" || sp_die "md3copies: no volume of copies 2"

sp_pool $P 8
kmsg_mark
members
ktap_check "discovered lists the redundant volume r2 and v" \
	sh -c "grep -qw r2 '$C/discovered' && grep -qw v '$C/discovered'"
err=$(mkdir "$C/volumes/r2" 2>&1)
ok=0
[ ! -d "$C/volumes/r2" ] && [[ "$err" == *"not supported"* ]] && ok=1
ktap_check "mkdir volumes/r2 (copies 2) is refused with EOPNOTSUPP: $err" [ $ok -eq 1 ]
ktap_check "the refusal is logged, naming the volume and its copies" \
	kmsg_has_text "$P: refused: volume r2 has copies 2 in the pool's metadata; this module does not serve redundant volumes yet; volume r2 not bound"
ktap_check "volume v (one copy) binds as before" mkdir "$C/volumes/v"
ktap_check "both legs of r2 and v's two slices are used slices ($(used), want 4)" \
	[ "$(used)" -eq 4 ]
sp_teardown
ktap_finish
