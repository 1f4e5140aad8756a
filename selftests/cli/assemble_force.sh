#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool assemble --force (Documentation/slicepool-tool.rst,
# "assemble"): pool af on m0 and m1 holds volume v (written), then m2
# joins holding nothing.  Without m2's device, assemble alone leaves the
# pool read-only (cli/assemble_md3.sh checks that); --force takes a value
# as a usage error; the dry run with --force plans the force and writes
# nothing; assemble --force brings the pool up read-write without m2:
# m2 forced (the kernel log says so), v started with its data, and
# writable.  m2's device back: assemble leaves it alone (forced out, not
# configured, its device not written) and the pool stays read-write.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
ktap_header
ktap_plan 14
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P=af
C=$SP_CFG/$P
D=("${DISKS[@]:0:3}")
sp pool create $P --slice-mb 1 || sp_die "pool create"
sp member add $P m0 --path "${D[0]}" --domain dA || sp_die "member add m0"
sp member add $P m1 --path "${D[1]}" --domain dB || sp_die "member add m1"
sp vol create $P/v --size 2M || sp_die "vol create v"
fill /dev/mapper/af-v 2
vsum=$(sum_dev /dev/mapper/af-v 2)
sp member add $P m2 --path "${D[2]}" --domain dC || sp_die "member add m2"
sp pool remove --unbind $P || sp_die "pool remove"

# md_sums: the sha256 of each device's first 8 MiB (labels and journal).
md_sums() {
	local d
	for d in "$@"; do
		sum_dev "$d" 8
	done
}
before=$(md_sums "${D[@]}")
m2sum=$(md_sums "${D[2]}")

sp_rc 2 "--force=1 is a usage error" assemble --force=1 "${D[0]}" "${D[1]}"
sp_rc 0 "assemble --dry-run --force without m2 exits 0" \
	--json assemble --dry-run --force "${D[0]}" "${D[1]}"
ktap_check "... plans a read-write pool, m2 absent, the force and v" \
	json '(lambda p: p["mode"] == "read-write" and p["forced"] and p["absent_members"] == ["m2"] and [(m["name"], m["result"]) for m in p["members"]] == [("m0", "planned"), ("m1", "planned"), ("m2", "absent")] and [(v["name"], v["result"]) for v in p["volumes"]] == [("v", "planned")])(d["pools"][0])'
ktap_check "... and changes nothing" \
	[ ! -d "$C" -a "$(md_sums "${D[@]}")" = "$before" ]

kmsg_mark
sp_rc 0 "assemble --force without m2 exits 0" --json assemble --force "${D[0]}" "${D[1]}"
ktap_check "... read-write, m2 forced, m0 and m1 enabled, v started" \
	json '(lambda p: p["mode"] == "read-write" and p["forced"] and p["absent_members"] == ["m2"] and [(m["name"], m["result"]) for m in p["members"]] == [("m0", "enabled"), ("m1", "enabled"), ("m2", "forced")] and [(v["name"], v["result"]) for v in p["volumes"]] == [("v", "started")])(d["pools"][0])'
ktap_check "the kernel log says m2 was forced out" \
	kmsg_has "$P: member 2 \(m2\) forced out: marked stale \(forced\) at seq [0-9]+; its device is refused if it comes back$"
ktap_check "v holds its data" [ "$(sum_dev /dev/mapper/af-v 2)" = "$vsum" ]
ktap_check "v takes writes (the pool is read-write)" \
	dd if=/dev/urandom of=/dev/mapper/af-v bs=1M count=2 oflag=direct status=none
vsum=$(sum_dev /dev/mapper/af-v 2)

# m2's device back: left alone, the pool read-write as forced.
sp pool remove --unbind $P || sp_die "pool remove"
sp_rc 0 "assemble with m2's device back exits 0" --json assemble "${D[@]}"
ktap_check "... m2 forced out (left alone), m0 and m1 enabled, v started" \
	json '(lambda p: p["mode"] == "read-write" and not p["forced"] and p["absent_members"] == [] and [(m["name"], m["status"], m["result"]) for m in p["members"]] == [("m0", "current", "enabled"), ("m1", "current", "enabled"), ("m2", "stale", "forced-out")] and [(v["name"], v["result"]) for v in p["volumes"]] == [("v", "started")])(d["pools"][0]) and d["refused"] == []'
ktap_check "m2 is not configured" [ ! -e "$C"/members/m2 ]
ktap_check "v holds the data written after the force" \
	[ "$(sum_dev /dev/mapper/af-v 2)" = "$vsum" ]
sp_teardown
ktap_check "m2's device was never written" [ "$(md_sums "${D[2]}")" = "$m2sum" ]
ktap_finish
