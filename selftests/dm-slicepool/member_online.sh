#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A member back online after a transient failure (issue 15;
# Documentation/dm-slicepool.rst, member attribute "online";
# Documentation/slicepool-tool.rst, "member online"), on a pool of
# metadata format 3.  Member m1 is a dm-linear device over a disk, so its
# table can be swapped for dm-error and back under the pool.  Volume v
# spans m0 and m1 and stays bound throughout.
#  1. m1 starts failing: a read of v fails, m1 is "failed"; a volume
#     created meanwhile gets nothing on m1 and its metadata write to m1
#     fails, so the state marks m1 stale; "online" is refused while the
#     device still fails (EIO, m1 stays failed), and for a bad value;
#  2. m1's device answers again: "slicepool member online" rejoins it
#     (one transaction) without unbinding v; v reads back as written, m1
#     takes new slices again; "online" again has nothing to do;
#  3. m1's table now points at a blank disk: "online" is refused (EILSEQ:
#     not this member); on a member that is not enabled: EINVAL;
#  4. the automatic probe (pool attribute online_probe_s, 0 until here):
#     bad values refused; with 1 s, m1 failed and stale again comes back
#     by itself once its device answers, and v reads back as written.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

SPT=$SP_TOP/tools/slicepool/slicepool
P=o3
C=$SP_CFG/$P
F=sp-online-m1
sp_start 3 25 dmsetup
W=$(mktemp -d)
cleanup() {
	sp_teardown
	dmsetup remove --retry "$F" > /dev/null 2>&1
	rm -rf "$W"
}
trap cleanup EXIT
sp_wipe "${DISKS[@]:0:3}"
sz=$(blockdev --getsz "${DISKS[1]}") || sp_die "blockdev ${DISKS[1]}"
# m1_table TABLE: swap the table under m1's device.
m1_table() {
	if ! { dmsetup suspend "$F" && dmsetup load "$F" --table "$1" &&
	       dmsetup resume "$F"; }; then
		sp_die "table '$1' for $F"
	fi
}
# write_errno ERRNO FILE: writing 1 to FILE fails with ERRNO (a name).
write_errno() {
	python3 - "$1" "$2" <<'EOF'
import errno, os, sys
fd = os.open(sys.argv[2], os.O_WRONLY)
try:
    os.write(fd, b'1')
except OSError as e:
    sys.exit(e.errno != getattr(errno, sys.argv[1]))
sys.exit(1)
EOF
}
dmsetup create "$F" --table "0 $sz linear ${DISKS[1]} 0" || sp_die "dmsetup create $F"
[ -b "/dev/mapper/$F" ] || dmsetup mknodes "$F"
state() { cat "$C/members/$1/state"; }
# tool RC DESC ARGS...: the tool exits RC; its output in $W/out.
tool() {
	local rc=$1 desc=$2 got
	shift 2
	"$SPT" "$@" > "$W/out" 2>&1
	got=$?
	sed 's/^/# /' "$W/out"
	ktap_check "$desc (exit $got)" [ "$got" -eq "$rc" ]
}

sp_pool $P 8
# Sections 1-3 take m1 back by hand: no automatic probe meanwhile.
echo 0 > "$C/online_probe_s" || sp_die "online_probe_s 0"
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "/dev/mapper/$F" dB
sp_volume $P v 32M
sp_dm $P-v $P v
sp_fill /dev/mapper/$P-v 32
sumv=$(sp_sum /dev/mapper/$P-v 32)
[ "$(sp_map_count $P v m1)" -ge 1 ] || sp_die "v has no slice on m1"

# ---- 1: m1 fails ----------------------------------------------------------
m1_table "0 $sz error"
kmsg_mark
ktap_check "with m1's device failing, reading v fails" \
	sh -c "! dd if=/dev/mapper/$P-v of=/dev/null bs=1M iflag=direct status=none 2> /dev/null"
ktap_check "... m1 is failed, and the log says so" \
	[ "$(state m1)" = failed -a "$(kmsg_count "pool $P: member m1 \(/dev/mapper/$F\) failed: I/O error -5$")" -eq 1 ]
sp_volume $P w 16M
ktap_check "a volume created meanwhile has no slice on m1" \
	[ "$(sp_map_count $P w m1)" -eq 0 -a "$(sp_map_count $P w m0)" -eq 2 ]
kmsg_mark
ktap_check "online 2 is refused" sh -c "! echo 2 > $C/members/m1/online" 2> /dev/null
ktap_check "... with a log line naming 2" \
	kmsg_has_text "slicepool: m1: online: invalid value '2' (only 1 is accepted)"
kmsg_mark
tool 1 "member online while m1's device still fails exits 1" member online $P m1
ktap_check "... saying the device does not answer yet" \
	grep -qxF "slicepool: cannot bring member 'm1' of pool '$P' online: Input/output error: its device does not answer yet; try again when it does (see the kernel log)" "$W/out"
ktap_check "... m1 stays failed, the log says why" \
	[ "$(state m1)" = failed -a "$(kmsg_count "m1: online refused: /dev/mapper/$F does not answer as member 1 of pool $P \(rejoin: -5\); it stays failed$")" -eq 1 ]

# ---- 2: m1 answers again ----------------------------------------------------
m1_table "0 $sz linear ${DISKS[1]} 0"
kmsg_mark
tool 0 "member online with m1's device back exits 0" member online $P m1
ktap_check "... saying m1 is online" grep -qxF "member m1 of pool $P is online" "$W/out"
ktap_check "... m1 rejoined (it was stale after the failed metadata write)" \
	[ "$(kmsg_count "m1: /dev/mapper/$F rejoined pool $P$")" -eq 1 -a \
	  "$(kmsg_count "m1: /dev/mapper/$F is online again \(it was stale after a failed metadata write\)$")" -eq 1 ]
ktap_check "v stayed bound and reads back as written" \
	[ -d "$C/volumes/v" -a "$(sp_sum /dev/mapper/$P-v 32)" = "$sumv" ]
sp_lightest $P m1
sp_volume $P x 8M
ktap_check "m1 takes new slices again (x is placed on it)" [ "$(sp_map_count $P x m1)" -eq 1 ]
"$SPT" --json inspect "${DISKS[0]}" "/dev/mapper/$F" > "$W/inspect.json"
ktap_check "the state has m1 current again, both devices in sync" \
	python3 -c "import json, sys; p = json.load(open(sys.argv[1]))['pools'][0]; sys.exit(not (p['verdict'] == 'read-write' and sorted(d['role'] for d in p['devices']) == ['in-sync'] * 2 and [m['status'] for m in p['members'] if m['name'] == 'm1'] == ['current']))" "$W/inspect.json"
kmsg_mark
tool 0 "member online of an online member exits 0" member online $P m1
ktap_check "... with nothing to do" \
	[ "$(kmsg_count "m1: /dev/mapper/$F is online already$")" -eq 1 ]

# ---- 3: another disk under m1; a member not enabled -------------------------
m1_table "0 $sz linear ${DISKS[2]} 0"
kmsg_mark
ktap_check "online with a blank disk under m1 is refused (EILSEQ)" \
	write_errno EILSEQ "$C/members/m1/online"
ktap_check "... the log says the device is not m1's, and m1 is unchanged" \
	[ "$(kmsg_count "m1: online refused: /dev/mapper/$F no longer holds member 1 of pool $P; nothing changed$")" -eq 1 -a "$(state m1)" = online ]
m1_table "0 $sz linear ${DISKS[1]} 0"
mkdir "$C/members/m9" || sp_die "mkdir m9"
kmsg_mark
ktap_check "online on a member that is not enabled is refused" \
	sh -c "! echo 1 > $C/members/m9/online" 2> /dev/null
ktap_check "... with a log line saying why" \
	kmsg_has_text "m9: online refused: the member is not enabled (enable it)"
rmdir "$C/members/m9" || sp_die "rmdir m9"

# ---- 4: the automatic probe ---------------------------------------------------
kmsg_mark
ktap_check "online_probe_s 3601 is refused, and it stays 0" \
	sh -c "! echo 3601 > $C/online_probe_s && [ \"\$(cat $C/online_probe_s)\" = 0 ]" 2> /dev/null
ktap_check "... with a log line naming 3601" \
	kmsg_has_text "slicepool: online_probe_s: 3601 is out of range 0..3600"
echo 1 > "$C/online_probe_s" || sp_die "online_probe_s 1"
m1_table "0 $sz error"
kmsg_mark
dd if=/dev/mapper/$P-v of=/dev/null bs=1M iflag=direct status=none 2> /dev/null &&
	sp_die "reading v did not fail"
sp_volume $P y 8M
[ "$(state m1)" = failed ] || sp_die "m1 is not failed"
m1_table "0 $sz linear ${DISKS[1]} 0"
for _ in $(seq 60); do
	[ "$(state m1)" = online ] && break
	sleep 0.5
done
ktap_check "with online_probe_s 1, m1 comes back by itself once its device answers" \
	[ "$(state m1)" = online ]
ktap_check "... the log noted it, then says it rejoined, found by the probe" \
	[ "$(kmsg_count "m1: /dev/mapper/$F is failed: its device is probed in 1 s, then less often while it fails, to bring it back online \(online_probe_s\)$")" -eq 1 -a \
	  "$(kmsg_count "m1: /dev/mapper/$F rejoined pool $P$")" -eq 1 -a \
	  "$(kmsg_count "m1: /dev/mapper/$F is online again \(it was stale after a failed metadata write\), found by its automatic probe$")" -eq 1 ]
ktap_check "... and v reads back as written" [ "$(sp_sum /dev/mapper/$P-v 32)" = "$sumv" ]
ktap_finish
