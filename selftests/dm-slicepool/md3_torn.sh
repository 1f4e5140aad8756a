#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Torn metadata writes on one member of a pool on metadata format 3
# (Documentation/dm-slicepool-metadata.rst, "Transactions and the ring":
# a torn write can damage only the record being written, which rolls back
# on that member; a torn label leaves the other label).  Three members;
# volume a, then volume b created and written.  With the pool down:
#  1. the ring block of m0's last transaction is torn at a 512-byte
#     boundary (its first sector as it was before, the rest new): the tool's
#     nowrite assembly says read-write, m0 lagging one transaction behind
#     the others; "slicepool assemble" brings the pool back read-write with
#     a and b and their data, and m0 is caught up (in sync afterwards);
#  2. the label that catch-up wrote on m0 is damaged (one byte): m0 comes
#     up from its other label, the damaged block is named (by the tool's
#     inspect and in the kernel log), the pool is read-write with a and b,
#     and every member is in sync again after the assembly.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/json.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

SPT=$SP_TOP/tools/slicepool/slicepool
P=t3
sp_start 3 16 python3
W=$(mktemp -d)
cleanup() {
	sp_teardown
	rm -rf "$W"
}
trap cleanup EXIT
sp_wipe "${DISKS[@]:0:3}"

# meta DEV FILE: DEV's first 5 MiB (labels and the default ring) to FILE.
meta() {
	dd if="$1" of="$2" bs=1M count=5 iflag=direct status=none || sp_die "read $1"
}
# changed A B: the 4 KiB blocks that differ between files A and B.
changed() {
	python3 - "$1" "$2" <<'EOF'
import sys
a, b = (open(f, 'rb').read() for f in sys.argv[1:3])
print(' '.join(str(i) for i in range(len(a) // 4096)
               if a[i * 4096:(i + 1) * 4096] != b[i * 4096:(i + 1) * 4096]))
EOF
}
# tear DEV BLOCK OLD: the first sector of DEV's 4 KiB block BLOCK back to
# what file OLD holds there: a write of which the other 7 sectors reached
# the disk.  (A record's payload is often shorter than a sector: with the
# first sector written and the rest not, the block is whole.)
tear() {
	dd if="$3" of="$1" bs=512 skip=$(($2 * 8)) seek=$(($2 * 8)) count=1 \
		conv=notrunc oflag=direct status=none || sp_die "tear block $2 of $1"
}
# inspect TAG: slicepool inspect --json of the three disks to $W/TAG.json.
inspect() {
	"$SPT" --json inspect "${DISKS[@]:0:3}" > "$W/$1.json"
}
# roles TAG: "ROLE:HEAD_SEQ" of m0, m1, m2's devices, and the winner's seq.
roles() {
	python3 - "$W/$1.json" "${DISKS[@]:0:3}" <<'EOF'
import json, sys
p = json.load(open(sys.argv[1]))['pools'][0]
dev = {d['device']: d for d in p['devices']}
print(' '.join('%s:%s' % (dev[x]['role'], dev[x]['head_seq']) for x in sys.argv[2:5]),
      p['winner']['seq'], p['verdict'])
EOF
}
# back TAG: slicepool assemble brings pool t3 back read-write with a and b
# holding their data.
back() {
	"$SPT" --json assemble > "$W/$1.asm.json" 2> "$W/$1.asm.err" || return 1
	sp_json_holds "$W/$1.asm.json" \
		"[(p['name'], p['mode']) for p in d['pools']] == [('$P', 'read-write')]" &&
		[ "$(sp_sum /dev/mapper/$P-a 16)" = "$suma" ] &&
		[ "$(sp_sum /dev/mapper/$P-b 16)" = "$sumb" ]
}

sp_pool $P 8
sp_member $P m0 "${DISKS[0]}" dA
sp_member $P m1 "${DISKS[1]}" dB
sp_member $P m2 "${DISKS[2]}" dC
sp_volume $P a 16M
sp_dm $P-a $P a
sp_fill /dev/mapper/$P-a 16
suma=$(sp_sum /dev/mapper/$P-a 16)
meta "${DISKS[0]}" "$W/m0.0"
sp_volume $P b 16M
sp_dm $P-b $P b
sp_fill /dev/mapper/$P-b 16
sumb=$(sp_sum /dev/mapper/$P-b 16)
meta "${DISKS[0]}" "$W/m0.1"
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"

# ---- 1: m0's last ring block torn --------------------------------------
read -r -a blocks <<< "$(changed "$W/m0.0" "$W/m0.1")"
ktap_check "creating b wrote ring blocks on m0 (${blocks[*]}), no label" \
	[ "${#blocks[@]}" -ge 1 -a "${blocks[0]:-0}" -ge 2 ]
last=${blocks[${#blocks[@]} - 1]}
inspect whole
read -r r0 r1 r2 seq verdict <<< "$(roles whole)"
ktap_check "before the tear: read-write, every member in sync at seq $seq ($r0 $r1 $r2)" \
	[ "$verdict" = read-write -a "$r0" = "in-sync:$seq" -a "$r1" = "in-sync:$seq" -a "$r2" = "in-sync:$seq" ]
tear "${DISKS[0]}" "$last" "$W/m0.0"
meta "${DISKS[0]}" "$W/m0.2"
ktap_check "the tear changed block $last of m0 and nothing else" \
	[ "$(changed "$W/m0.1" "$W/m0.2")" = "$last" ]
inspect torn
read -r t0 t1 t2 tseq tverdict <<< "$(roles torn)"
ktap_check "inspect: verdict read-write at seq $seq, the winner unchanged" \
	[ "$tverdict" = read-write -a "$tseq" = "$seq" ]
ktap_check "inspect: m0 lagging one transaction behind ($t0), m1 and m2 in sync" \
	[ "$t0" = "lagging:$((seq - 1))" -a "$t1" = "in-sync:$seq" -a "$t2" = "in-sync:$seq" ]
sp_load
ktap_check "assemble brings $P back read-write with a and b and their data" back torn
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
meta "${DISKS[0]}" "$W/m0.3"
inspect caught
read -r c0 c1 c2 cseq cverdict <<< "$(roles caught)"
ktap_check "afterwards every member is in sync at seq $cseq ($c0 $c1 $c2)" \
	[ "$cverdict" = read-write -a "$c0" = "in-sync:$cseq" -a "$c1" = "in-sync:$cseq" \
	  -a "$c2" = "in-sync:$cseq" -a "$cseq" -ge "$seq" ]

# ---- 2: the label m0's catch-up wrote, damaged ---------------------------
# A label fits in its block's first sector, so a write torn at a sector
# boundary leaves either the whole new label or the block as it was: one
# byte changed inside it (a bad sector, a stray write) is the damage.
read -r -a labels <<< "$(changed "$W/m0.2" "$W/m0.3" | tr ' ' '\n' |
			 awk '$1 < 2' | tr '\n' ' ')"
ktap_check "m0's catch-up wrote one label (block ${labels[*]})" [ "${#labels[@]}" -eq 1 ]
printf '\377' | dd of="${DISKS[0]}" bs=1 seek=$((${labels[0]:-0} * 4096 + 200)) \
	conv=notrunc status=none || sp_die "damage label block ${labels[0]:-0}"
sync
meta "${DISKS[0]}" "$W/m0.4"
ktap_check "one byte of label block ${labels[0]:-} of m0 changed, nothing else" \
	[ "$(changed "$W/m0.3" "$W/m0.4")" = "${labels[0]:-x}" ]
inspect label
read -r l0 l1 l2 lseq lverdict <<< "$(roles label)"
ktap_check "inspect: m0 is read from its other label ($l0), the pool read-write at seq $lseq" \
	[ "$lverdict" = read-write -a "$lseq" = "$cseq" -a "${l0%%:*}" != unusable \
	  -a "${l0%%:*}" != diverged -a "$l1" = "in-sync:$cseq" -a "$l2" = "in-sync:$cseq" ]
ktap_check "inspect: no device has a problem" \
	sp_json_holds "$W/label.json" "[x['problem'] for x in d['pools'][0]['devices']] == [None] * 3"
torn_line="${DISKS[0]}: label block ${labels[0]:-x} is damaged (bad checksum, magic or fields: a damaged or torn write); the member is read from its other label, and the next label written replaces it"
ktap_check "inspect: its message names the damaged label block of m0 and why" \
	sp_json_holds "$W/label.json" "'''$torn_line''' in d['pools'][0]['message'].split('\\n')"
sp_load
kmsg_mark
ktap_check "assemble brings $P back read-write with a and b and their data" back label
ktap_check "... and the kernel log names the damaged label block of m0" \
	kmsg_has_text "$P: m0: ${torn_line#"${DISKS[0]}: "}"
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
inspect final
read -r f0 f1 f2 fseq fverdict <<< "$(roles final)"
ktap_check "afterwards every member is in sync at seq $fseq ($f0 $f1 $f2)" \
	[ "$fverdict" = read-write -a "$f0" = "in-sync:$fseq" -a "$f1" = "in-sync:$fseq" \
	  -a "$f2" = "in-sync:$fseq" ]
sp_load
ktap_check "and the data is still there" back final
ktap_finish
