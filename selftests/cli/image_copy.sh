#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'slicepool image copy' (Documentation/dm-slicepool-images.rst, "A new
# copy"): an image of 16 MiB with two clones, c2 written before and
# during the copy.  Refused, nothing changed: a volume that is not an
# image, a taken name (a volume, a clone), no space, bad arguments.  A
# forced verify mismatch (a test-only knob flips a byte of one slice of
# the copy on its device) and a refused reload of c2 after c1 moved (a
# test-only knob gives it an origin that does not exist) each fail with
# a message: the copy is removed and both clones are on the old image,
# with their data.  Then the copy: a new read-only image with the
# image's data, both clones' tables reloaded onto it and their records
# moved (the counts 2 -> 0 and 0 -> 2, JSON and configfs), their sha256
# unchanged, c2's writes made during the move kept and every one of them
# accepted, the old image kept; a write after the move stays in its
# clone.  clone_move refuses a clone of its image already, an unknown
# clone and a volume that is not an image.  A copy of the old image, now without clones, says that the old
# image stays (text output).  Skipped (exit 4) without dm-thin.
. "$(dirname "$0")/lib.sh"

. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
modprobe dm_thin_pool 2> /dev/null
dmsetup targets 2> /dev/null | grep -q '^thin-pool ' ||
	sp_skip "dm-thin is not available (no thin-pool target, no dm_thin_pool module)"

P=ic
C=$SP_CFG/$P/volumes
IMG=/dev/mapper/$P-img
MB=16

img_cleanup() {
	local d
	for d in $P-c1 $P-c2 $P-thinpool; do
		dmsetup remove --retry "$d" > /dev/null 2>&1
	done
	cli_cleanup
}

cli_start 3 45
trap img_cleanup EXIT

# dmesg_has TEXT: the kernel log holds TEXT.
dmesg_has() {
	dmesg | grep -qF -- "$1"
}

# devno <dm name>: its major:minor.
devno() {
	dmsetup info -c --noheadings -o major,minor "$1"
}
# origins: the external origins of c1's and c2's thin tables, one line.
origins() {
	local c
	for c in c1 c2; do
		dmsetup table "$P-$c" | awk '{ print $6 }'
	done | sort -u | tr '\n' ' '
}
# sum16 <dm name>: the first 16 hex digits of its sha256.
sum16() {
	sum_dev "/dev/mapper/$1" $MB | cut -c1-16
}
# on_img: the clones read img (their tables) and are its records (2).
on_img() {
	test "$(origins)" = "$(devno $P-img) " -a "$(<"$C/img/clones")" = 2
}
# progress_shown: the last command's stderr has the copy's progress.
progress_shown() {
	err_has "copy: 16MiB of 16MiB (100%)" &&
		err_has "verify: 8 slice(s) match the image" &&
		err_has "moving clone c2 from img to img.copy1"
}

pool3 $P --slice-mb 2
sp vol create $P/img --size ${MB}M || sp_die "vol create img"
sp vol create $P/plain --size 2M || sp_die "vol create plain"
dd if=/dev/urandom of="$W/want2" bs=1M count=$MB status=none || sp_die "data"
dd if="$W/want2" of="$IMG" bs=1M oflag=direct status=none || sp_die "write img"
sp image create $P img || sp_die "image create"
sp image clone $P img c1 --meta-size 4M --data-size 64M || sp_die "clone c1"
sp image clone $P img c2 || sp_die "clone c2"

# c2's own data: pattern A at 0 before the copy, pattern B at 8 MiB
# before and during it; want2 is what c2 must read.
dd if=/dev/urandom of="$W/a" bs=1M count=1 status=none || sp_die "pattern a"
dd if=/dev/urandom of="$W/b" bs=1M count=1 status=none || sp_die "pattern b"
sumi=$(sha256sum < "$W/want2" | cut -c1-16)
dd if="$W/a" of="$W/want2" bs=1M conv=notrunc status=none || sp_die "want2 (a)"
dd if="$W/b" of="$W/want2" bs=1M seek=8 conv=notrunc status=none || sp_die "want2 (b)"
sum2=$(sha256sum < "$W/want2" | cut -c1-16)
dd if="$W/a" of=/dev/mapper/$P-c2 bs=1M count=1 oflag=direct status=none ||
	sp_die "write c2 (a)"
dd if="$W/b" of=/dev/mapper/$P-c2 bs=1M seek=8 count=1 oflag=direct status=none ||
	sp_die "write c2 (b)"
ktap_check "clone c2 reads the image with its two writes" \
	test "$(sum16 $P-c2)" = "$sum2"

# Refusals: nothing changes.
sp_rc 1 "image copy of a volume that is not an image exits 1" image copy $P/plain
ktap_check "... saying so" err_has "volume '$P/plain' is not an image"
sp_rc 1 "image copy --name of an existing volume exits 1" image copy $P/img --name plain
ktap_check "... saying so" err_has "volume '$P/plain' already exists"
sp_rc 1 "image copy --name of a clone exits 1" image copy $P/img --name c2
ktap_check "... saying so" err_has "name 'c2' is taken: the pool records a clone of that name"
sp_rc 2 "image copy without <pool>/<image> exits 2" image copy $P img
ktap_check "... saying so" err_has "unexpected argument 'img'"
sp_rc 2 "image copy with a bad --name exits 2" image copy $P/img --name 'a b'
ktap_check "... saying so" err_has "bad copy name 'a b'"
free=0
for m in 0 1 2; do
	free=$((free + $(<"$SP_CFG/$P/members/m$m/free_slices")))
done
sp vol create $P/filler --size $(((free - 4) * 2))M || sp_die "vol create filler"
sp_rc 1 "image copy without space for the copy exits 1" image copy $P/img --name full
ktap_check "... saying so" err_has "cannot allocate 16777216 bytes for volume '$P/full'"
ktap_check "... and leaves no volume" test ! -e "$C/full"
sp vol remove $P/filler || sp_die "vol remove filler"
ktap_check "after the refusals, the clones are on img (2)" on_img

# A verify mismatch: the copy is removed, nothing else changes.
SLICEPOOL_TEST_COPY_CORRUPT_SLICE=3 sp_rc 1 "a copy whose slice 3 differs exits 1" \
	image copy $P/img --name bad
ktap_check "... the verify says which slice differs" \
	err_has "verify failed: 1 of 8 slice(s) of the copy differ from the image (the first: slice 3,"
ktap_check "... and that the copy is removed and the clones stay" \
	err_has "the copy $P/bad is removed; the clones stay on img"
ktap_check "... no volume bad, no dm device" \
	test ! -e "$C/bad" -a ! -e /dev/mapper/$P-bad
ktap_check "... the clones are on img (2)" on_img

# A reload refused for c2, after c1 moved: c1 goes back.
SLICEPOOL_TEST_COPY_FAIL_RELOAD=c2 sp_rc 1 "a copy whose reload of c2 fails exits 1" \
	image copy $P/img --name bad2
ktap_check "... saying so" err_has "cannot reload clone 'c2'"
ktap_check "... and that c1 goes back" \
	err_has "moving clone 'c2' failed; moving 1 clone(s) back to img and removing the copy $P/bad2"
ktap_check "... no volume bad2, no dm device" \
	test ! -e "$C/bad2" -a ! -e /dev/mapper/$P-bad2
ktap_check "... the clones are on img (2)" on_img

# The copy, with c2 written all the while.
: > "$W/run"
(
	n=0
	while [ -e "$W/run" ]; do
		dd if="$W/b" of=/dev/mapper/$P-c2 bs=1M seek=8 count=1 \
			oflag=direct status=none || exit 1
		n=$((n + 1))
		echo $n > "$W/writes"
		sleep 0.2
	done
) &
wpid=$!
while [ ! -s "$W/writes" ]; do sleep 0.1; done
w0=$(<"$W/writes")
sp_rc 0 "image copy --json $P/img exits 0 (c2 written meanwhile)" --json image copy $P/img
w1=$(<"$W/writes")
rm -f "$W/run"
wait $wpid
wrc=$?
ktap_check "... c2 took $((w1 - w0)) writes during it, each one succeeded" \
	test "$((w1 - w0))" -gt 0 -a "$wrc" = 0
ktap_check "... progress on stderr (copy, verify, each clone moved)" \
	progress_shown
ktap_check "... the JSON: copy img.copy1, 8 slices verified, c1 and c2 moved, counts 0 and 2" \
	json 'd["action"] == "image copy" and d["copy"] == "img.copy1" and d["size"] == 16777216 and d["slices_verified"] == 8 and sorted(d["clones_moved"]) == ["c1", "c2"] and d["image_clones"] == 0 and d["copy_clones"] == 2 and d["image_kept"]'
ktap_check "... configfs: img has 0 clones, img.copy1 has c1 and c2" \
	test "$(<"$C/img/clones")" = 0 -a \
	     "$(cut -d' ' -f1 "$C/img.copy1/clone_list" | sort | tr '\n' ' ')" = "c1 c2 "
ktap_check "... img.copy1 is an image, read-only, with the image's data" \
	test "$(<"$C/img.copy1/image")" = 1 -a \
	     "$(blockdev --getro /dev/mapper/$P-img.copy1)" = 1 -a \
	     "$(sum16 $P-img.copy1)" = "$sumi"
ktap_check "... every clone's table reads img.copy1" \
	test "$(origins)" = "$(devno $P-img.copy1) "
ktap_check "... every clone's sha256 unchanged, c2's writes kept" \
	test "$(sum16 $P-c1)" = "$sumi" -a "$(sum16 $P-c2)" = "$sum2"
ktap_check "... the old image stays, an image" \
	test "$(<"$C/img/image")" = 1 -a -b "$IMG"
# The attribute the move writes (one transaction per clone): refusals.
ktap_check "clone_move of c1 to img.copy1, its image already: EINVAL" \
	test "$(write_err "$C/img.copy1/clone_move" c1)" = "Invalid argument"
ktap_check "... the kernel log says so" \
	dmesg_has "move of clone c1 refused: it is a clone of this image already"
ktap_check "clone_move of a clone the pool does not record: ENOENT" \
	test "$(write_err "$C/img/clone_move" nosuch)" = "No such file or directory"
ktap_check "clone_move to a volume that is not an image: EINVAL" \
	test "$(write_err "$C/plain/clone_move" c1)" = "Invalid argument"
ktap_check "... nothing moved: img.copy1 has c1 and c2, img none" \
	test "$(<"$C/img/clones")" = 0 -a "$(<"$C/img.copy1/clones")" = 2
dd if="$W/a" of=/dev/mapper/$P-c1 bs=1M seek=4 count=1 oflag=direct status=none ||
	sp_die "write c1"
# mib4 <dm name>: the sha256 of its fifth MiB.
mib4() {
	dd if="/dev/mapper/$1" bs=1M skip=4 count=1 iflag=direct status=none | sha256sum
}
ktap_check "a write to c1 after the move reads back from c1 only" \
	test "$(mib4 $P-c1)" = "$(sha256sum < "$W/a")" -a \
	     "$(mib4 $P-img.copy1)" = "$(mib4 $P-c2)" -a \
	     "$(mib4 $P-c2)" != "$(mib4 $P-c1)"

# A copy of the old image, now without clones: text output.
sp_rc 0 "image copy $P/img --name img2 (no clones) exits 0" image copy $P/img --name img2
ktap_check "... says the copy and its verify" \
	grep -qF "image $P/img copied to $P/img2: 16MiB, 8 slice(s) verified, /dev/mapper/$P-img2" "$OUT"
ktap_check "... moves no clone" grep -qxF "moved 0 clone(s) to img2:" "$OUT"
ktap_check "... and says that the old image stays" \
	grep -qF "image $P/img has no clones left; it stays (remove it with 'slicepool vol remove $P/img')" "$OUT"
ktap_check "... img2 is an image with no clones" \
	test "$(<"$C/img2/image")" = 1 -a "$(<"$C/img2/clones")" = 0
ktap_finish
