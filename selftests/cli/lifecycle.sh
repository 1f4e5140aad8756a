#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The tool's whole life cycle against the real module: pool create with
# parameters, member add in three domains, vol create (dm device, table,
# UUID), vol map checked against the raw members, status and pool list,
# online expand and shrink with the data kept, vol remove, member remove
# and pool remove. Every --json output must be valid JSON.
. "$(dirname "$0")/lib.sh"

sp_disks 3
ktap_header
ktap_plan 39
sp_load
sp_teardown
sp_wipe "${DISKS[@]:0:3}"

P=lc

sizes_are() {	# sizes_are <bytes>: dm device and configfs volume size
	[ "$(blockdev --getsize64 /dev/mapper/lc-v1)" = "$1" ] &&
		[ "$(attr $P/volumes/v1/size)" = "$1" ]
}

vol_gone() {
	[ ! -e /dev/mapper/lc-v1 ] && ! dmsetup info lc-v1 > /dev/null 2>&1 &&
		[ ! -d "$SP_CFG/$P/volumes/v1" ]
}

sp_rc 0 "pool create with parameters" --json pool create $P --slice-mb 4 \
	--weight-space 100 --weight-load 0 --min-domains 2
if json 'd["pool"]["name"] == "lc" and d["pool"]["slice_mb"] == 4' &&
   [ "$(attr $P/slice_mb)" = 4 ] && [ "$(attr $P/weight_space)" = 100 ] &&
   [ "$(attr $P/weight_load)" = 0 ] && [ "$(attr $P/min_domains)" = 2 ]; then
	ktap_ok "pool parameters reached configfs and the JSON reply"
else
	ktap_fail "pool parameters reached configfs and the JSON reply"
fi

DOMS=(dA dB dC)
n=0
for i in 0 1 2; do
	dom=${DOMS[$i]}
	if sp --json member add $P m$i --path "${DISKS[$i]}" --domain "$dom" &&
	   json 'd["member"]["state"] == "online" and d["member"]["total_slices"] > 0' &&
	   [ "$(attr $P/members/m$i/domain)" = "$dom" ]; then
		n=$((n + 1))
	fi
done
ktap_check "member add: three members online in domains dA, dB, dC" [ $n -eq 3 ]
sp_rc 0 "pool set --weight-load 30 --weight-space 70" pool set $P --weight-load 30 \
	--weight-space 70
ktap_check "... reached configfs" \
	test "$(attr $P/weight_load)" = 30 -a "$(attr $P/weight_space)" = 70
sp_rc 1 "pool set --slice-mb is refused once members are enabled" \
	pool set $P --slice-mb 32
sp_rc 0 "member set --load-override 40" --json member set $P m0 --load-override 40
ktap_check "... pins the load (load_override and load read 40)" \
	test "$(attr $P/members/m0/load_override)" = 40 -a "$(attr $P/members/m0/load)" = 40
sp_rc 0 "member set --load-override auto" member set $P m0 --load-override auto
ktap_check "... gives the load back to measurement" \
	test "$(attr $P/members/m0/load_override)" = auto

free0=0
for i in 0 1 2; do
	free0=$((free0 + $(attr $P/members/m$i/free_slices)))
done

sp --json status $P
ktap_check "status --json: three members and three domains" \
	json 'len(d["pools"]) == 1 and [m["name"] for m in d["pools"][0]["members"]] == ["m0", "m1", "m2"] and sorted(x["name"] for x in d["pools"][0]["domains"]) == ["dA", "dB", "dC"]'
sp --json pool list
ktap_check "pool list --json lists the pool with 3 members" \
	json 'any(p["name"] == "lc" and p["members"] == 3 and p["volumes"] == 0 for p in d["pools"])'

sp_rc 0 "vol create lc/v1 --size 25M" --json vol create $P/v1 --size 25M
ktap_check "vol create --json reply names the dm device" \
	json 'd["volume"]["name"] == "v1" and d["volume"]["dm"]["device"] == "/dev/mapper/lc-v1" and d["volume"]["slices"] == 7'
ktap_check "dm device lc-v1 is 25 MiB" \
	[ "$(blockdev --getsize64 /dev/mapper/lc-v1 2>/dev/null)" = $((25 << 20)) ]
ktap_check "dm table is '0 51200 slicepool lc v1'" \
	[ "$(dmsetup table lc-v1)" = "0 51200 slicepool lc v1" ]
ktap_check "dm UUID is SLICEPOOL-<volume uuid>" \
	[ "$(dmsetup info -c --noheadings -o uuid lc-v1)" = "SLICEPOOL-$(attr $P/volumes/v1/uuid)" ]

# Every slice of the volume gets its own pattern through the dm device;
# the map (with member offsets) must say where each one is on the members.
for s in 0 1 2 3 4 5 6; do
	printf 'cli-slice-%s' "$s" | dd of=/dev/mapper/lc-v1 bs=512 \
		seek=$((s * 4 * 2048)) conv=sync oflag=direct status=none
done
sp --json vol map $P/v1
ktap_check "vol map --json: 7 slices, none missing" \
	json 'len(d["slices"]) == 7 and d["missing_slices"] == 0 and all(s["member"] in ("m0", "m1", "m2") for s in d["slices"])'
"$PY" - "$OUT" > "$OUT.lines" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
for s in d["slices"]:
    print(s["logical"], s["member"], s["member_offset"])
PYEOF
found=0
while read -r lg mem off; do
	dev=$(attr $P/members/"$mem"/path)
	got=$(dd if="$dev" bs=512 skip=$((off / 512)) count=1 iflag=direct status=none | tr -d '\0')
	[ "$got" = "cli-slice-$lg" ] && found=$((found + 1))
done < "$OUT.lines"
rm -f "$OUT.lines"
ktap_check "each slice's pattern is on its member at the mapped offset ($found/7)" [ $found -eq 7 ]

sp --json status $P
ktap_check "status --json: volume active, I/O counters, slices per member sum to 7" \
	json '(lambda v: v["dm"]["state"] == "active" and v["dm"]["io"]["writes"] >= 7 and sum(m["slices"] for m in v["dm"]["io"]["members"]) == 7)(d["pools"][0]["volumes"][0])'
sp status $P
ktap_check "status text shows the volume's dm device as active" \
	grep -q '^  v1 .*/dev/mapper/lc-v1 *active' "$OUT"

fill /dev/mapper/lc-v1 25
sum25=$(sum_dev /dev/mapper/lc-v1 25)
sp_rc 0 "vol resize (expand) to 40M" --json vol resize $P/v1 --size 40M
ktap_check "vol resize --json reports the old and the new size" \
	json 'd["old_size"] == 25 << 20 and d["volume"]["size"] == 40 << 20 and d["volume"]["dm"]["length_sectors"] == 40 << 11'
ktap_check "after expand: dm device and volume are 40 MiB" \
	sizes_are $((40 << 20))
ktap_check "after expand: data unchanged" [ "$(sum_dev /dev/mapper/lc-v1 25)" = "$sum25" ]

sp_rc 0 "vol resize (shrink) to 30M" vol resize $P/v1 --size 30M
ktap_check "after shrink: dm device and volume are 30 MiB" \
	sizes_are $((30 << 20))
ktap_check "after shrink: data unchanged" [ "$(sum_dev /dev/mapper/lc-v1 25)" = "$sum25" ]
sp_rc 0 "vol resize to the same size is a no-op" vol resize $P/v1 --size 30M

sp_rc 0 "vol remove lc/v1" --json vol remove $P/v1
ktap_check "vol remove --json: deleted, dm device named" \
	json 'd["deleted"] is True and d["dm_device"] == "lc-v1"'
ktap_check "vol remove: dm device and configfs item are gone" vol_gone
free1=0
for i in 0 1 2; do
	free1=$((free1 + $(attr $P/members/m$i/free_slices)))
done
ktap_check "vol remove freed every slice and left nothing to rediscover" \
	test "$free1" -eq "$free0" -a -z "$(cat "$SP_CFG/$P/discovered")"

sp_rc 0 "member remove lc m2" --json member remove $P m2
ktap_check "member remove --json names the member" json 'd["member"] == "m2"'
ktap_check "member m2 is gone" [ ! -d "$SP_CFG/$P/members/m2" ]
sp_rc 0 "pool remove lc" --json pool remove $P
ktap_check "pool remove --json lists the members removed" \
	json 'd["pool"] == "lc" and d["members_removed"] == ["m0", "m1"]'
ktap_check "pool lc is gone" [ ! -d "$SP_CFG/$P" ]

sp_teardown
ktap_finish
