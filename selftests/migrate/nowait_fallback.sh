#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The fallback of a mirrored write to the mirror worker
# (Documentation/dm-slicepool.rst, "Cost of the I/O path"): when map()
# cannot allocate the destination leg with GFP_NOWAIT, the write is
# handed to the worker on slicepool_mig_io, which allocates it with
# GFP_NOIO and issues both legs.  Only memory pressure takes that path,
# so the test hook mig_nowait_fail_every=2 ("Test hooks") fails every
# second GFP_NOWAIT leg.  An 8 MiB volume (32 chunks) migrates in a
# manual job with mirror=on: half its chunks are copied, then fio writes
# it at random (crc32c verify) while the test copies the rest a chunk at
# a time, and the job switches only when fio has ended and every pass is
# copied, so that no write can land after the switch on the destination
# alone (with an automatic job and a copy throttle, a slow fio outlasted
# the copy under load, and the source then legitimately differed).  Then:
# fio's own verify passed, writes were mirrored, the switch ended the job,
# the kernel's line for the finished move counts writes that fell back to
# the worker and none that failed on a side, a verify-only run through the
# moved volume passes and the raw source and destination slices are equal
# (both sides got every write that fell back).
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_start 2 8 fio
HOOK=/sys/module/dm_slicepool/parameters/mig_nowait_fail_every
[ -w "$HOOK" ] || sp_die "$HOOK missing"
SLICE_MB=4
trap 'echo 0 > "$HOOK"; dmsetup remove --retry spnf 2>/dev/null' EXIT

mig() { mig_field spnf "$1"; }
msg() { dmsetup message spnf 0 "$@"; }
# 512 writes of 16 KiB at 100 a second: about 5 s, while the test copies
# the second half of the chunks, one every 0.3 s.
fio_args=(--name=nf --filename=/dev/mapper/spnf --direct=1 --ioengine=libaio
	--iodepth=8 --rw=randwrite --bs=16k --size=8M --rate_iops=100
	--verify=crc32c --verify_fatal=1 --randseed=4242)

sp_wipe "${DISKS[0]}" "${DISKS[1]}"
sp_pool nf "$SLICE_MB"
sp_member nf m0 "${DISKS[0]}" dA
sp_volume nf v $((2 * SLICE_MB))M
sp_member nf m1 "${DISKS[1]}" dB
sp_dm spnf nf v
before=$(cat "$SP_CFG"/nf/volumes/v/map)
[ "$(awk '$2 == "m0"' <<< "$before" | wc -l)" -eq 2 ] || sp_die "v is not on m0: $before"

echo 2 > "$HOOK" || sp_die "cannot set $HOOK"
kmsg_mark
msg migrate start all m1 chunk_kb=256 manual mirror=on || sp_die "migrate start"
# Chunks 0-15 are copied before fio starts: every write to them is
# mirrored.
msg migrate step 16 || sp_die "step 16"
fio "${fio_args[@]}" > "$SP_ARTIFACTS/fio.log" 2>&1 &
fio_pid=$!
for _ in $(seq 16); do
	kill -0 $fio_pid 2> /dev/null || break
	msg migrate step 1 || sp_die "step 1"
	sleep 0.3
done
if wait $fio_pid; then
	ktap_ok "fio random writes verified during the migration"
else
	tail -20 "$SP_ARTIFACTS/fio.log" | sed 's/^/# /'
	ktap_fail "fio random writes verified during the migration"
fi
# The rest of pass 1 and every later pass (a pass that plans nothing ends
# the steps), then the switch.
msg migrate step 1000 || sp_die "step 1000"
echo "# before the switch: $(dmsetup status spnf | sed 's/.*migration/migration/')"
msg migrate switch || echo "# migrate switch failed"
echo 0 > "$HOOK"
echo "# $(dmsetup status spnf | sed 's/.*migration/migration/')"
ktap_check "writes to copied chunks were mirrored ($(mig mirrored))" [ "$(mig mirrored)" -gt 0 ]
ktap_check "migrate switch ended the job (state $(mig state), pass $(mig pass))" \
	[ "$(mig state)" = "done" ]
after=$(cat "$SP_CFG"/nf/volumes/v/map)
ktap_check "both slices are on m1" [ "$(awk '$2 == "m1"' <<< "$after" | wc -l)" -eq 2 ]

line=$(kmsg_since | grep -o 'moved to m1: .*' | tail -n 1)
echo "# $line"
re='^moved to m1: [0-9]+ bytes copied in [0-9]+ passes, writes held [0-9]+ us, [0-9]+ mirrored \([0-9]+ deferred, ([0-9]+) fell back to the worker, ([0-9]+) failed on a side\)$'
fell=-1
failed=-1
if [[ $line =~ $re ]]; then
	fell=${BASH_REMATCH[1]}
	failed=${BASH_REMATCH[2]}
fi
ktap_check "the kernel counts writes that fell back to the worker ($fell), none failed on a side ($failed)" \
	[ "$fell" -gt 0 -a "$failed" -eq 0 ]

if fio "${fio_args[@]}" --verify_only > "$SP_ARTIFACTS/fio-verify.log" 2>&1; then
	ktap_ok "fio verify-only through the moved volume"
else
	tail -20 "$SP_ARTIFACTS/fio-verify.log" | sed 's/^/# /'
	ktap_fail "fio verify-only through the moved volume"
fi
bad=$(mig_slices_differ nf "$SLICE_MB" "$before" "$after")
ktap_check "raw source and destination slices are equal ($bad of 2 differ)" [ "$bad" -eq 0 ]
ktap_check "the source slices are free" \
	[ "$(cat "$SP_CFG"/nf/members/m0/free_slices)" = "$(cat "$SP_CFG"/nf/members/m0/total_slices)" ]
dmsetup remove --retry spnf
trap - EXIT
sp_unload
ktap_finish
