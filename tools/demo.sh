#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: slicepool's main job, narrated, in a bench guest with four
# blank 1 GiB disks.  A pool over several failure domains, a volume placed
# by load ratio, its map, an online expand, a live migration under
# writes, and a reassembly from the members' own metadata after the module
# is unloaded.
set -eu
export DM_DISABLE_UDEV=1
read -r -a D <<< "$SP_DISKS"
SP="$SP_TOP/tools/slicepool/slicepool"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "Load the module"
run modprobe dm-slicepool
say "A pool with 32 MiB slices; placement by access load only, so the split is easy to follow"
run "$SP" pool create demo --slice-mb 32 --weight-space 0 --weight-load 100
run "$SP" member add demo a1 --path "${D[0]}" --domain shelf-a
run "$SP" member add demo a2 --path "${D[1]}" --domain shelf-a
run "$SP" member add demo b1 --path "${D[2]}" --domain shelf-b
say "The module measures each member's load; pin it so the demo is repeatable: shelf-a 75, shelf-b 25"
run "$SP" member set demo a1 --load-override 75
run "$SP" member set demo a2 --load-override 75
run "$SP" member set demo b1 --load-override 25
run "$SP" status demo

say "A 128 MiB volume needs 4 slices: shares in proportion to 100-75 and 100-25 give shelf-a 1, shelf-b 3"
run "$SP" vol create demo/db --size 128M
run "$SP" vol map demo/db
say "Write data through /dev/mapper/demo-db"
run dd if=/dev/urandom of=/tmp/data bs=1M count=128 status=none
run dd if=/tmp/data of=/dev/mapper/demo-db bs=1M oflag=direct status=none
sum=$(md5sum < /tmp/data | cut -d' ' -f1)
echo "md5 of the data: $sum"

say "Add a new, idle failure domain and grow the volume online to 256 MiB"
run "$SP" member add demo c1 --path "${D[3]}" --domain shelf-c
run "$SP" member set demo c1 --load-override 0
run "$SP" vol resize demo/db --size 256M
echo "the 4 new slices are placed by the same load ratio, lightest domain first:"
echo "shelf-c (load 0) and shelf-b (load 25) give them; shelf-a (75) none"
run "$SP" vol map demo/db
run blockdev --getsize64 /dev/mapper/demo-db
now=$(dd if=/dev/mapper/demo-db bs=1M count=128 iflag=direct status=none | md5sum | cut -d' ' -f1)
echo "md5 of the first 128 MiB after the expand: $now"
[ "$now" = "$sum" ] || { echo "DATA CHANGED"; exit 1; }

say "shelf-a is hot: move the volume's slice on it to shelf-c, live, while a writer rewrites that very slice"
l=$(awk '$2 ~ /^a/ { print $1; exit }' /sys/kernel/config/slicepool/demo/volumes/db/map)
echo "(logical slice $l is on shelf-a)"
run dd if=/dev/urandom of=/tmp/new bs=1M count=32 status=none
{ sleep 1; dd if=/tmp/new of=/dev/mapper/demo-db bs=64K seek=$((l * 512)) oflag=direct status=none; } &
writer=$!
run "$SP" migrate demo/db --slices "$l" --to domain:shelf-c --rate 8
wait "$writer"
echo "writes to chunks the copy had not reached set no dirty bit (filtered: the copy"
echo "reads the new data anyway); writes behind it set one and were copied again"
run "$SP" vol map demo/db
cp /tmp/data /tmp/expect
dd if=/tmp/new of=/tmp/expect bs=1M seek=$((l * 32)) conv=notrunc status=none
sum=$(md5sum < /tmp/expect | cut -d' ' -f1)
now=$(dd if=/dev/mapper/demo-db bs=1M count=128 iflag=direct status=none | md5sum | cut -d' ' -f1)
echo "md5 of the first 128 MiB after the migration: $now (expected, with the writer's data: $sum)"
[ "$now" = "$sum" ] || { echo "DATA CHANGED"; exit 1; }

say "Stop everything and unload the module: the map lives on the members"
run "$SP" pool remove --unbind demo
run modprobe -r dm-slicepool
say "Reassemble from the members' metadata"
run modprobe dm-slicepool
run "$SP" assemble
run "$SP" status
run "$SP" vol map demo/db
now=$(dd if=/dev/mapper/demo-db bs=1M count=128 iflag=direct status=none | md5sum | cut -d' ' -f1)
echo "md5 of the first 128 MiB after reassembly: $now"
[ "$now" = "$sum" ] || { echo "DATA CHANGED"; exit 1; }
say "The same as JSON, for scripts"
run "$SP" --json vol map demo/db
run "$SP" pool remove --unbind demo
say "Demo finished: data intact through an online expand, a live migration and a reassembly"
