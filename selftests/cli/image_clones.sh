#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Images and clones (Documentation/dm-slicepool-images.rst): a volume of a
# format-3 pool made an image with 'slicepool image create' is read-only
# for good (the module refuses a read-write table, a size change, a
# migration and image 0; its device refuses writes), and the flag
# survives a module reload; two clones made with 'slicepool image clone'
# (dm-thin thin devices with the image as external origin) read the
# image, a write to one shows neither on the other nor on the image.
# The clones are recorded in the pool's metadata: the image's count in
# configfs ("clones", "clone_list"), in its status ("image <clones>") and
# in 'image list', 2, then 1 after 'image remove-clone'; the registry's
# refusals (not an image, a taken name or thin id, bad values, deleting
# an image with clones) change nothing; remove-clone cleans up a record
# without a thin device (a crash's leftover); after a module reload
# 'slicepool assemble' brings both clones back with their content and
# their own writes.  Bad arguments exit 1 with a message.  Skipped
# (exit 4) without dm-thin.
. "$(dirname "$0")/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

sp_disks 3
modprobe dm_thin_pool 2> /dev/null
dmsetup targets 2> /dev/null | grep -q '^thin-pool ' ||
	sp_skip "dm-thin is not available (no thin-pool target, no dm_thin_pool module)"

P=im
C=$SP_CFG/$P/volumes
IMG=/dev/mapper/$P-img

# Clones and the thin-pool hold the volumes' devices: they go first.
img_cleanup() {
	local d
	for d in $P-c1 $P-c2 $P-c3 $P-thinpool; do
		dmsetup remove --retry "$d" > /dev/null 2>&1
	done
	cli_cleanup
}

cli_start 3 68
trap img_cleanup EXIT

# err_is TEXT: the last command's stderr is exactly "slicepool: TEXT".
err_is() {
	test "$(<"$ERR")" = "slicepool: $1"
}

# refused DESC FILE VALUE ERROR DMESG: writing VALUE to FILE fails with
# ERROR (strerror) and the kernel logs DMESG (two checks).
refused() {
	kmsg_mark
	ktap_check "$1" test "$(write_err "$2" "$3")" = "$4"
	ktap_check "... with a dmesg line" kmsg_has_text "$5"
}

pool3 $P --slice-mb 2
sp vol create $P/img --size 4M || sp_die "vol create img"
sp vol create $P/plain --size 2M || sp_die "vol create plain"
fill "$IMG" 4
sumi=$(sum_dev "$IMG" 4)

ktap_check "a new volume is not an image (image reads 0)" test "$(<"$C/img/image")" = 0
refused "image 2 is refused (EINVAL)" "$C/plain/image" 2 "Invalid argument" \
	"slicepool: volume plain: invalid image value '2' (1 makes it an image)"
ktap_check "... and plain is not an image" test "$(<"$C/plain/image")" = 0
refused "image 1 is refused while a read-write table of it is loaded (EBUSY)" \
	"$C/img/image" 1 "Device or resource busy" \
	"$P: volume img: image refused: 1 read-write table(s) of it are loaded; reload them read-only first"

sp_rc 0 "image create $P img exits 0" image create $P img
ktap_check "... its image attribute reads 1" test "$(<"$C/img/image")" = 1
ktap_check "... its dm device is read-only" test "$(blockdev --getro "$IMG")" = 1
ktap_expect_fail "... and a write to it fails" \
	dd if=/dev/zero of="$IMG" bs=4k count=1 oflag=direct status=none
ktap_check "... its data is unchanged" test "$(sum_dev "$IMG" 4)" = "$sumi"

kmsg_mark
ktap_expect_fail "a read-write table of the image is refused (dmsetup reload)" \
	dmsetup reload $P-img --table "0 8192 slicepool $P img"
ktap_check "... with a dmesg line naming the volume" \
	kmsg_has_text "$P: volume img is an image: a read-write table of it is refused; load it read-only"
ktap_check "... and the read-only table stays live" test "$(blockdev --getro "$IMG")" = 1

refused "a size change of the image is refused (size 8M: EROFS)" \
	"$C/img/size" 8M "Read-only file system" \
	"$P: refused: volume img is an image: its size stays 4194304 (size 8388608 refused; only 0, a delete, is allowed)"
ktap_check "... and the size stays 4 MiB" test "$(<"$C/img/size")" = 4194304
sp_rc 1 "vol resize of the image exits 1" vol resize $P/img --size 8M

refused "image 0 is refused with EINVAL" \
	"$C/img/image" 0 "Invalid argument" \
	"$P: volume img: image 0 refused: an image stays one (delete it instead)"
ktap_check "... and it stays an image" test "$(<"$C/img/image")" = 1

# The tool refuses a destination that holds the slice already.
dst=m0
[ "$(awk '$1 == 0 { print $2 }' "$C/img/map")" != m0 ] || dst=m1
kmsg_mark
sp_rc 1 "a migration of the image exits 1" migrate $P/img --to $dst --slices 0
ktap_check "... refused by the module with a dmesg line" \
	kmsg_has_text "$P: refused: volume img is an image: it is not migrated (its clones read it where it is)"

# Two clones.
sp_rc 0 "image clone $P img c1 (first use: the thin-pool) exits 0" \
	image clone $P img c1 --meta-size 4M --data-size 16M
sp_rc 0 "image clone $P img c2 exits 0" image clone $P img c2
ktap_check "the thin-pool is made over volumes thinmeta and thindata" \
	test "$(dmsetup table $P-thinpool | awk '{ print $3 }')" = thin-pool -a \
	     -d "$C/thinmeta" -a -d "$C/thindata"
ktap_check "clone c1 reads the image" test "$(sum_dev /dev/mapper/$P-c1 4)" = "$sumi"
ktap_check "clone c2 reads the image" test "$(sum_dev /dev/mapper/$P-c2 4)" = "$sumi"

[ -b /dev/mapper/$P-c1 ] || sp_die "clone c1 has no device"
[ -b /dev/mapper/$P-c2 ] || sp_die "clone c2 has no device"
dd if=/dev/urandom of="$W/pat" bs=1M count=1 status=none || sp_die "pattern"
dd if="$W/pat" of=/dev/mapper/$P-c1 bs=1M count=1 oflag=direct status=none ||
	sp_die "cannot write clone c1"
sump=$(sha256sum < "$W/pat")
ktap_check "clone c1 reads back its own write" \
	test "$(dd if=/dev/mapper/$P-c1 bs=1M count=1 iflag=direct status=none | sha256sum)" = "$sump"
ktap_check "... clone c2 still reads the image" test "$(sum_dev /dev/mapper/$P-c2 4)" = "$sumi"
ktap_check "... and so does the image itself" test "$(sum_dev "$IMG" 4)" = "$sumi"

# The clones are recorded in the pool: the image's count in configfs, in
# its table's status ("image <clones>") and in 'image list'.
ktap_check "configfs: img has 2 clones" test "$(<"$C/img/clones")" = 2
ktap_check "... clone_list: c1 (thin id 0) and c2 (thin id 1), 8192 sectors each" \
	test "$(<"$C/img/clone_list")" = "$(printf 'c1 0 8192\nc2 1 8192')"
ktap_check "... plain has none" test "$(<"$C/plain/clones")" = 0
# img_count: the clone count of img's table status (the field after "image")
img_count() {
	dmsetup status $P-img | awk '{ for (i = 1; i < NF; i++) if ($i == "image") print $(i + 1) }'
}
ktap_check "the image's status shows 2 clones (image 2)" test "$(img_count)" = 2
ktap_check "... and a volume that is not an image shows no image field" \
	test "$(dmsetup status $P-plain | grep -c ' image ')" = 0
sp_rc 0 "image list --json exits 0" --json image list $P
ktap_check "... image img has 2 clones, c1 and c2" \
	json 'd["images"] == [{"name": "img", "size": 4194304, "clones": 2, "dm_device": "'$P'-img", "clone_names": ["c1", "c2"]}]'
ktap_check "... clones c1 and c2 of img, thin ids 0 and 1, with their devices" \
	json '[(c["name"], c["image"], c["thin_id"], c["size"], c["dm_device"]) for c in d["clones"]] == [("c1", "img", 0, 4194304, "'$P'-c1"), ("c2", "img", 1, 4194304, "'$P'-c2")]'

# Refusals of the registry; nothing changes.  The kernel log is read once
# for all of them (kmsg_try, kmsg_tried).
kmsg_try_write "clone_add on a volume that is not an image is refused (EINVAL)" \
	"$C/plain/clone_add" "c9 9 8192" "Invalid argument" \
	"$P: volume plain: clone c9 refused: the volume is not an image (write 1 to its image attribute first)"
kmsg_try_write "clone_add of a name the pool records is refused (EEXIST)" \
	"$C/img/clone_add" "c1 9 8192" "File exists" \
	"$P: volume img: clone c1 refused: the pool has a clone of that name (of image img, thin id 0)"
kmsg_try_write "clone_add of a taken thin id is refused (EEXIST)" \
	"$C/img/clone_add" "c9 1 8192" "File exists" \
	"$P: volume img: clone c9 refused: thin id 1 is another clone's"
kmsg_try_write "clone_add with thin id x is refused (EINVAL)" \
	"$C/img/clone_add" "c9 x 8192" "Invalid argument" \
	"slicepool: volume img: clone c9: invalid thin id 'x' (0..16777215)"
kmsg_try_write "clone_add with length 0 is refused (EINVAL)" \
	"$C/img/clone_add" "c9 9 0" "Invalid argument" \
	"slicepool: volume img: clone c9: invalid length '0' (sectors, not 0)"
kmsg_try_write "clone_remove of an unknown clone is refused (ENOENT)" \
	"$C/img/clone_remove" "c9" "No such file or directory" \
	"$P: volume img: clone c9 refused: the image has no clone of that name"
kmsg_try_write "deleting the image with clones is refused (size 0: EBUSY)" \
	"$C/img/size" 0 "Device or resource busy" \
	"$P: refused: volume img is an image with 2 clone(s): it is not deleted; remove them first (slicepool image remove-clone)"
kmsg_tried kmsg_judge_refused
ktap_check "... nothing changed: 2 clones, the image 4 MiB" \
	test "$(<"$C/img/clone_list")" = "$(printf 'c1 0 8192\nc2 1 8192')" -a \
	     "$(<"$C/img/size")" = 4194304

# More records than a 4 KiB page holds: clone_list (a binary attribute)
# lists them all (records only; no thin devices behind them).
long=clone-record-with-a-long-name
for i in $(seq 120); do
	echo "$long$i $((100 + i)) 8" > "$C/img/clone_add" || sp_die "clone_add $long$i"
done
ktap_check "120 more records: clone_list lists all 122 ($(wc -c < "$C/img/clone_list") bytes)" \
	test "$(grep -c . "$C/img/clone_list")" -eq 122 -a "$(<"$C/img/clones")" = 122 -a \
	     "$(grep -c "^${long}[0-9]* [0-9]* 8$" "$C/img/clone_list")" -eq 120
for i in $(seq 120); do
	echo "$long$i" > "$C/img/clone_remove" || sp_die "clone_remove $long$i"
done
ktap_check "... removed again: 2 clones, c1 and c2" \
	test "$(<"$C/img/clone_list")" = "$(printf 'c1 0 8192\nc2 1 8192')"

sp_rc 1 "image clone with a taken clone name exits 1" image clone $P img c1
ktap_check "... saying so" err_is "clone name 'c1' is taken: dm device '$P-c1' exists"
sp_rc 1 "image clone of a volume that is not an image exits 1" image clone $P plain c3
ktap_check "... saying so" err_is "volume '$P/plain' is not an image (make it one with 'slicepool image create $P plain')"
sp_rc 1 "image clone of an unknown volume exits 1" image clone $P nosuch c3
sp_rc 1 "image list of an unknown pool exits 1" image list nopool

sp_rc 0 "image remove-clone $P c2 exits 0" image remove-clone $P c2
ktap_check "... img has 1 clone in configfs and in its status" \
	test "$(<"$C/img/clones")" = 1 -a "$(img_count)" = 1
# A crash between the record and dm-thin's create_thin leaves a record
# without a thin device: remove-clone removes it.
echo "c9 77 8192" > "$C/img/clone_add" || sp_die "clone_add c9"
sp_rc 0 "image remove-clone of a record without a thin device exits 0" \
	image remove-clone $P c9
ktap_check "... the record is gone: img has 1 clone, c1" \
	test "$(<"$C/img/clone_list")" = "c1 0 8192"

# Two clones with their own writes survive a module reload: assemble
# makes the thin-pool and both clones again.
sp_rc 0 "image clone $P img c2 again exits 0" image clone $P img c2
dd if=/dev/urandom of="$W/pat2" bs=64k count=3 status=none || sp_die "pattern 2"
dd if="$W/pat2" of=/dev/mapper/$P-c2 bs=64k count=3 seek=20 oflag=direct \
	status=none || sp_die "cannot write clone c2"
sum1=$(sum_dev /dev/mapper/$P-c1 4)
sum2=$(sum_dev /dev/mapper/$P-c2 4)
ktap_check "... c2 holds its own write" test "$sum2" != "$sumi"
dmsetup remove $P-c1 $P-c2 $P-thinpool || sp_die "cannot remove the clones and the thin-pool"
sp_teardown
modprobe -r dm-slicepool || sp_die "modprobe -r dm-slicepool"
sp_load
sp assemble "${DISKS[@]:0:3}" || sp_die "assemble"
ktap_check "after a reload and assemble, img is an image again" test "$(<"$C/img/image")" = 1
ktap_check "... its dm device is read-only and its data intact" \
	test "$(blockdev --getro "$IMG")" = 1 -a "$(sum_dev "$IMG" 4)" = "$sumi"
ktap_check "... with its 2 clones in configfs and in its status" \
	test "$(<"$C/img/clones")" = 2 -a "$(img_count)" = 2
ktap_check "... clone c1 is back with its content and its write (sha256)" \
	test -b /dev/mapper/$P-c1 -a "$(sum_dev /dev/mapper/$P-c1 4)" = "$sum1"
ktap_check "... clone c2 is back with its content and its write (sha256)" \
	test -b /dev/mapper/$P-c2 -a "$(sum_dev /dev/mapper/$P-c2 4)" = "$sum2"
sp_rc 0 "a clone after the reload exits 0" --json image clone $P img c3
ktap_check "... with thin id 2 (0 and 1 are c1's and c2's)" \
	json 'd["thin_id"] == 2'

ktap_finish
