#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool status names a failed member: one member sits on a dm device
# whose table is swapped for the error target; after I/O to the volume,
# status (text and JSON) shows that member failed, the volume's I/O errors
# and which of its slices are on the failed member.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 7
sp_load
sp_teardown
dmsetup remove --retry clifl0 > /dev/null 2>&1
sp_wipe "${DISKS[@]:0:3}"

sectors=$(blockdev --getsz "${DISKS[2]}")
dmsetup create clifl0 --table "0 $sectors linear ${DISKS[2]} 0" ||
	sp_die "cannot create dm-linear clifl0"

P=fm
sp pool create $P --slice-mb 16 --min-domains 3 || sp_die "pool create"
sp member add $P m0 --path "${DISKS[0]}" --domain dA || sp_die "member m0"
sp member add $P m1 --path "${DISKS[1]}" --domain dB || sp_die "member m1"
sp member add $P m2 --path /dev/mapper/clifl0 --domain dC || sp_die "member m2"
sp_rc 0 "vol create fm/v over three domains" vol create $P/v --size 96M

sp --json status $P
ktap_check "before the failure every member is online" \
	json 'all(m["state"] == "online" for m in d["pools"][0]["members"])'

if ! dmsetup suspend clifl0 ||
   ! dmsetup reload clifl0 --table "0 $sectors error" ||
   ! dmsetup resume clifl0; then
	sp_die "cannot swap clifl0 to the error target"
fi
dd if=/dev/mapper/fm-v of=/dev/null bs=1M iflag=direct conv=noerror \
	status=none 2> /dev/null

sp_rc 0 "status --json after the failure" --json status $P
ktap_check "... shows m2 failed and m0, m1 online" \
	json '[m["state"] for m in d["pools"][0]["members"]] == ["online", "online", "failed"]'
ktap_check "... counts I/O errors on the volume and marks m2's slices failed" \
	json '(lambda io: io["io_errors"] > 0 and any(m["name"] == "m2" and m["state"] == "failed" and m["slices"] > 0 for m in io["members"]))(d["pools"][0]["volumes"][0]["dm"]["io"])'
sp status $P
ktap_check "status text shows m2 failed" grep -q '^  m2  *dC  *failed ' "$OUT"
ktap_check "status text marks m2's slices failed" grep -q 'm2:[0-9]*(failed)' "$OUT"

sp_teardown
dmsetup remove --retry clifl0 > /dev/null 2>&1
ktap_finish
