#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The copy-index filter in the kernel, step by step ("migrate step" in
# manual mode makes the copy deterministic), with real writes through the
# dm device:
#  1. 12 chunks, chunks 9-11 not planned, the copy has done 0-2, a write
#     covers 0-9: filter ends the pass with {0,1,2,9} (4 bits, 6 filtered),
#     none with 10, clear shows 10 in the middle of the pass and 4 at its
#     end;
#  2. 32 chunks copied pipelined (the next chunk is claimed while one is
#     copied), writes to 0-9 after chunk 2, 10-19 after 15, 20-29 after
#     28: 21 dirty bits in filter mode, 30 in none mode;
#  3. pass 2 copies the dirty chunks and filters against its own plan:
#     a write to a planned, unclaimed chunk of pass 2 sets no bit, one
#     outside the plan does;
#  4. mirror=on: a write to a copied chunk goes to both sides at once and
#     sets no bit, a write ahead of the cursor is filtered and not
#     mirrored, so pass 2 plans nothing;
# and after each, "migrate switch" moves the slice: the data read back is
# what was written, and the destination holds it at the mapped offset.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 4
ktap_header
ktap_plan 53
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"
W=$(mktemp -d)
trap 'dmsetup remove --retry spmv 2>/dev/null; rm -rf "$W"' EXIT

# mig FIELD: a field of the migration part of the status (see the rst).
mig() { mig_field spmv "$1"; }
msg() { dmsetup message spmv 0 "$@"; }
# other_member: a member that does not hold slice 0
dest_of() { awk 'NR == 1 { print $2 }' "$SP_CFG/mp/volumes/v/map"; }

# setup SLICE_MB: pool mp with 3 members, volume v of one slice, random data
setup() {
	sp_pool mp "$1"
	sp_member mp m0 "${DISKS[0]}" dA
	sp_member mp m1 "${DISKS[1]}" dB
	sp_member mp m2 "${DISKS[2]}" dC
	sp_volume mp v "$1"M
	sp_dm spmv mp v
	head -c $(($1 << 20)) /dev/urandom > "$W/data"
	dd if="$W/data" of=/dev/mapper/spmv bs=1M oflag=direct status=none || sp_die "initial data"
	src=$(dest_of)
	for m in m0 m1 m2; do [ "$m" != "$src" ] && { dst=$m; break; }; done
}
# write_chunks FIRST COUNT CHUNK_KB: new data, one write per chunk
write_chunks() {
	head -c $(($2 * $3 * 1024)) /dev/urandom > "$W/new"
	dd if="$W/new" of=/dev/mapper/spmv bs="$3"K seek="$1" oflag=direct status=none || sp_die "write"
	dd if="$W/new" of="$W/data" bs="$3"K seek="$1" conv=notrunc status=none
}
# raw_slice0: slice 0 read from the raw member it is mapped to
raw_slice0() {
	local m p off size
	read -r _ m p < "$SP_CFG/mp/volumes/v/map"
	size=$(stat -c %s "$W/data")
	off=$(cat "$SP_CFG/mp/members/$m/data_offset")
	dd if="${DISKS[${m#m}]}" bs=1M skip=$(((off + p * size) >> 20)) count=$((size >> 20)) \
		iflag=direct status=none
}
# finish WHAT [BYTES]: switch, then check the data (its first BYTES) on
# the volume and on the destination
finish() {
	local what=$1 n=${2:-$(stat -c %s "$W/data")}
	msg migrate switch || sp_die "switch"
	ktap_check "$what: switched, slice 0 is on $dst, state done" \
		[ "$(dest_of)" = "$dst" -a "$(mig state)" = "done" ]
	if dd if=/dev/mapper/spmv bs=1M iflag=direct status=none | cmp -s -n "$n" - "$W/data" &&
	   raw_slice0 | cmp -s -n "$n" - "$W/data"; then
		ktap_ok "$what: the volume and the destination hold the data"
	else
		ktap_fail "$what: the volume and the destination hold the data"
	fi
	dmsetup remove --retry spmv
	sp_teardown
	sp_wipe "${DISKS[@]:0:3}"
}

# ---- 1: 12 chunks of 256 KiB (a 3 MiB slice), 9-11 not planned --------
for mode in filter none clear; do
	setup 3
	msg migrate start 0 "$dst" mode=$mode chunk_kb=256 manual plan=0-8 || sp_die "start"
	msg migrate step 3 || sp_die "step 3"
	write_chunks 0 10 256
	mid=$(mig dirty)
	msg migrate step 6 || sp_die "step 6"
	echo "# $mode: mid-pass dirty $mid, pass $(mig pass), planned $(mig planned), filtered $(mig filtered), extents $(msg migrate extents 0)"
	case $mode in
	filter)
		ktap_check "1 filter: pass 2 plans {0,1,2,9}: 4 bits, 6 filtered" \
			[ "$(mig pass)" = 2 -a "$(mig planned)" = 4 -a "$(mig filtered)" = 6 -a "$(msg migrate extents 0)" = "2 - 0+3 9+1" ]
		;;
	none)
		ktap_check "1 none: pass 2 plans 10 chunks" \
			[ "$(mig pass)" = 2 -a "$(mig planned)" = 10 -a "$(msg migrate extents 0)" = "2 - 0+10" ]
		;;
	clear)
		ktap_check "1 clear: 10 in the middle of the pass, 4 at its end" \
			[ "$mid" = 10 -a "$(mig pass)" = 2 -a "$(mig planned)" = 4 -a "$(mig cleared)" = 6 ]
		;;
	esac
	# Chunks 10 and 11 were never planned nor written: treated as
	# current on the destination, they are not copied (plan=).
	finish "1 $mode" $((10 * 256 * 1024))
done

# ---- 2: 32 chunks of 256 KiB (an 8 MiB slice), pipelined ---------------
for mode in filter none; do
	setup 8
	msg migrate start 0 "$dst" mode=$mode chunk_kb=256 manual pipeline || sp_die "start"
	msg migrate step 3 && write_chunks 0 10 256
	msg migrate step 13 && write_chunks 10 10 256
	msg migrate step 13 && write_chunks 20 10 256
	msg migrate step 3 || sp_die "step 3"
	want=21
	[ $mode = none ] && want=30
	echo "# $mode: pass $(mig pass), planned $(mig planned), extents $(msg migrate extents 0)"
	ktap_check "2 $mode: $want dirty bits after pass 1" [ "$(mig pass)" = 2 -a "$(mig planned)" = $want ]
	finish "2 $mode"
done

# ---- 3: pass 2 filters against its own plan ------------------------------
setup 3
msg migrate start 0 "$dst" chunk_kb=256 manual || sp_die "start"
msg migrate step 2
write_chunks 0 2 256		# copied: dirty
write_chunks 5 1 256		# planned, unclaimed: filtered
msg migrate step 10
ktap_check "3: pass 2 plans chunks 0 and 1" [ "$(msg migrate extents 0)" = "2 - 0+2" ]
msg migrate step 1
write_chunks 1 1 256		# planned in pass 2, unclaimed: filtered
write_chunks 7 1 256		# outside pass 2's plan: dirty
ktap_check "3: in pass 2 only the write outside its plan sets a bit" \
	[ "$(mig dirty)" = 1 -a "$(mig filtered)" = 2 ]
msg migrate step 1
ktap_check "3: pass 3 plans chunk 7 only" [ "$(msg migrate extents 0)" = "3 - 7+1" ]
finish "3"

# ---- 4: mirrored writes ---------------------------------------------------
# raw_dst CHUNK: chunk CHUNK (256 KiB) of physical slice 0 of $dst, which
# is where the move goes (nothing else is on $dst)
raw_dst() {
	local off
	off=$(cat "$SP_CFG/mp/members/$dst/data_offset")
	dd if="${DISKS[${dst#m}]}" bs=256K skip=$(((off >> 18) + $1)) count=1 \
		iflag=direct status=none
}
setup 3
msg migrate start 0 "$dst" chunk_kb=256 manual || sp_die "start"
ktap_check "4: a manual job does not mirror unless asked" [ "$(mig mirror)" = off ]
msg migrate abort || sp_die "abort"
msg migrate start 0 "$dst" chunk_kb=256 manual mirror=on || sp_die "start mirror=on"
msg migrate step 3
write_chunks 1 1 256		# copied: mirrored, no bit
write_chunks 5 1 256		# ahead of the cursor: filtered, not mirrored
echo "# mirror: dirty $(mig dirty) mirrored $(mig mirrored) filtered $(mig filtered) writes $(mig writes_seen)"
ktap_check "4: the write to a copied chunk is mirrored and sets no bit" \
	[ "$(mig mirror)" = on -a "$(mig mirrored)" = 1 -a "$(mig dirty)" = 0 ]
ktap_check "4: the write ahead of the cursor is filtered" [ "$(mig filtered)" = 1 ]
if raw_dst 1 | cmp -s - <(dd if="$W/data" bs=256K skip=1 count=1 status=none); then
	ktap_ok "4: chunk 1 on the destination is the new data before the switch"
else
	ktap_fail "4: chunk 1 on the destination is the new data before the switch"
fi
if raw_dst 5 | cmp -s - <(dd if="$W/data" bs=256K skip=5 count=1 status=none); then
	ktap_fail "4: chunk 5 (not yet copied) is already on the destination"
else
	ktap_ok "4: chunk 5 (not yet copied) is not on the destination yet"
fi
msg migrate step 9
ktap_check "4: pass 2 plans nothing" [ "$(mig pass)" = 2 -a "$(mig planned)" = 0 ]
finish "4"

# ---- control: refusals, abort, rate ---------------------------------------
setup 3
# refuse DESC DMESG ARGS...: send ARGS, which must be refused with DMESG in
# the kernel log between a mark before it and one after it.  The checks
# are made (in order) by refusals_check, which reads the log once for a
# series of refusals (kmsg_try, kmsg_tried).
refuse() {
	local desc=$1 text=$2
	shift 2
	kmsg_try "$desc" "$text" msg "$@"
}
# judge_refusal DESC TEXT ACCEPTED [LOG]: one refusal's checks.
judge_refusal() {
	if [ "$3" = 1 ]; then
		ktap_fail "$1: accepted"
	elif [ $# -lt 4 ]; then
		ktap_fail "$1: refused, but its mark is not in the kernel log"
	elif [[ $4 == *"$2"* ]]; then
		ktap_ok "$1: refused, dmesg names it"
	else
		ktap_fail "$1: refused, but dmesg does not say '$2'"
	fi
}
refusals_check() {
	kmsg_tried judge_refusal
}
refuse "to the same member" "already on $src" migrate start 0 "$src"
refuse "an unknown slice" "has no slices 5..5" migrate start 5 "$dst"
refuse "a bad mode" "mode=fast is not filter, clear or none" migrate start 0 "$dst" mode=fast
refuse "an unknown option" "unknown option 'speed'" migrate start 0 "$dst" speed=3
refuse "an option without a value" "bad option 'quick'" migrate start 0 "$dst" quick
refuse "a known option without its value" "bad option 'mode'" migrate start 0 "$dst" mode
refuse "a flag with a value" "bad option 'manual=1'" migrate start 0 "$dst" manual=1
refuse "a chunk size that does not divide the slice" "chunk_kb=1000 must be a multiple of 4" \
	migrate start 0 "$dst" chunk_kb=1000
refuse "a plan beyond the job" "bad plan '0-99'" migrate start 0 "$dst" plan=0-99
refuse "pipeline without manual" "pipeline needs manual" migrate start 0 "$dst" pipeline
refuse "a bad mirror value" "mirror=maybe is not on or off" migrate start 0 "$dst" mirror=maybe
refuse "depth 0" "depth=0 is below 1" migrate start 0 "$dst" depth=0
refuse "depth 9" "depth=9 is not a number in 0..8" migrate start 0 "$dst" depth=9
refuse "a step with no migration" "is not migrating" migrate step 1
msg migrate start 0 "$dst" manual || sp_die "start"
refuse "a volume already migrating" "is already migrating" migrate start 0 "$dst"
refuse "step 0" "expected a number of chunks >= 1" migrate step 0
refuse "extents with 65 runs" "expected <from chunk> [<max runs> 1..64]" migrate extents 0 65
refuse "an unknown subcommand" "unknown subcommand 'go'" migrate go
refusals_check
map0=$(cat "$SP_CFG"/mp/volumes/v/map)
msg migrate step 4
msg migrate abort || sp_die "abort"
ktap_check "abort: the volume stays on its source, state aborted" \
	[ "$(cat "$SP_CFG"/mp/volumes/v/map)" = "$map0" -a "$(mig state)" = aborted ]
ktap_check "abort: the data is intact" cmp -s "$W/data" /dev/mapper/spmv
refuse "a bad rate" "'fast' is not a number of MiB/s" migrate rate fast
refuse "a rate with no migration running" "is not migrating" migrate rate 5
refusals_check

# A member of one slice, enabled after the table was loaded: the table
# reaches it through the map, no reload needed.  8 MiB: the 5 MiB of
# metadata format 3 (two labels, a 4 MiB journal) and one slice of 3 MiB.
dmsetup create spmt --table "0 16384 linear ${DISKS[3]} 0" || sp_die "tiny"
dd if=/dev/zero of=/dev/mapper/spmt bs=1M count=1 oflag=direct status=none
sp_member mp m3 /dev/mapper/spmt dD
ktap_check "a member enabled after the table: migrate start is accepted without a reload" \
	msg migrate start 0 m3
for _ in $(seq 200); do [ "$(mig state)" = "done" ] && break; sleep 0.2; done
ktap_check "without a reload the slice moves to the new member" [ "$(dest_of)" = m3 ]
sp_volume mp w 3M
dmsetup create spmw --table "0 6144 slicepool mp w" || sp_die "table w"
kmsg_mark
if dmsetup message spmw 0 migrate start 0 m3 2>/dev/null; then
	ktap_fail "to a member without space: accepted"
else
	ktap_check "to a member without space: refused, dmesg names it" \
		kmsg_has_text 'migration destination m3 has 0 free slices, 1 needed'
fi
dmsetup remove --retry spmw
dmsetup remove --retry spmv
sp_teardown
dmsetup remove spmt
sp_unload
ktap_finish
