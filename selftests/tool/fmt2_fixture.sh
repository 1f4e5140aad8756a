#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The frozen format-2 pool (selftests/fixtures/fmt2, made in a guest by
# the format-2 module with selftests/fixtures/make-fmt2.sh) is a valid
# format-2 pool, as the tool reads it from the member images alone, with
# no kernel:
#  - fmt2dump (selftests/tool/fmt2dump.c, linking the tool's decoder
#    tools/slicepool/sb.c and fmt2.c, the rules of inspect and upgrade)
#    decodes every member and gives the manifest's pool, members,
#    volumes, per-slice maps, fences, tombstone and orphan count, line
#    for line;
#  - each volume read from the images through that map (data offset +
#    physical slice * slice size) has the manifest's sha256, which is the
#    sha256 of its pattern (fmt2_pattern): every logical block is where
#    it should be;
#  - 'slicepool inspect' on the images finds the same pool, every slice
#    present and the same orphans;
#  - 'slicepool assemble --dry-run' refuses every image (the module no
#    longer takes format 2), naming 'slicepool upgrade', exit 1;
#  - the checks can fail: a member with one byte of its owner table changed
#    is refused, and a changed data byte changes the volume's sum.
. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/fixtures/fmt2-lib.sh"
. "$SP_TOP/selftests/lib/json.sh"

FX=$SP_TOP/selftests/fixtures/fmt2
T=$SP_TOP/tools/slicepool
M=$FX/MANIFEST
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

make -s -C "$T" all || sp_die "cannot build the tool"
gcc -Wall -Wextra -Werror -O2 -std=gnu11 -D_GNU_SOURCE -I"$T" \
	-I"$SP_TOP/dm-slicepool" -I"$SP_TOP/tools/lib" \
	-o "$TMP/fmt2dump" "$SP_TOP/selftests/tool/fmt2dump.c" \
	"$T/sb.o" "$T/fmt2.o" "$T/util.o" "$T/parse.o" "$T/fence.o" \
	"$SP_TOP/tools/lib/libspu.a" -pthread || sp_die "cannot build fmt2dump"

ktap_header
ktap_plan 16

# lines KIND [AWK FIELDS]: the manifest's lines of that kind, sorted.
lines() {
	awk -v k="$1" -v f="${2:-}" '$1 == k {
		if (f == "") { print; next }
		n = split(f, a, ",")
		s = $a[1]
		for (i = 2; i <= n; i++) s = s " " $a[i]
		print s
	}' "$M" | sort
}
# same KIND DESC [FIELDS]: the dump's lines of KIND are the manifest's.
same() {
	local want got
	want=$(lines "$1" "${3:-}")
	got=$(awk -v k="$1" '$1 == k' "$TMP/dump" | sort)
	if [ -n "$want" ] && [ "$want" = "$got" ]; then
		ktap_ok "$2 ($(wc -l <<< "$want") lines)"
	else
		ktap_fail "$2"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# manifest<  >decoded: /'
	fi
}

IMGS=()
ok=1
for i in 0 1 2; do
	want=$(awk -v m="m$i" '$1 == "member" && $2 == m { print $5 }' "$M")
	if ! xz -dc "$FX/m$i.img.xz" > "$TMP/m$i.img" ||
	   [ "$(stat -c %s "$TMP/m$i.img")" != "$want" ]; then
		echo "# m$i.img.xz: cannot decompress, or not $want bytes"
		ok=0
	fi
	IMGS+=("$TMP/m$i.img")
done
ktap_check "the three member images decompress to the manifest's sizes" [ $ok = 1 ]

if "$TMP/fmt2dump" "${IMGS[@]}" > "$TMP/dump" 2> "$TMP/err"; then
	ktap_ok "every member decodes as format 2, no slice claimed twice"
else
	ktap_fail "every member decodes as format 2, no slice claimed twice"
	sed 's/^/# /' "$TMP/err"
fi
same pool "pool name, uuid and slice size"
same member "members: name, domain, size, data offset, slices, free slices" \
	1,2,3,5,6,7,8
same volume "volumes: name, size, uuid" 1,2,3,4
same map "every logical slice on the manifest's member and physical slice"
same fence "fences of each volume's winning record"
same deleted "the deleted volume is a tombstone record"
same orphans "the orphaned owner records of the stopped expand"

# vol_sum VOLUME SIZE DUMP: sha256 of the volume read from the images.
vol_sum() {
	local v=$1 size=$2 mb
	mb=$(awk '$1 == "pool" { print $4 }' "$3")
	awk -v v="$v" '$1 == "slice" && $2 == v { print $4, $5 }' "$3" |
		while read -r img off; do
			dd if="$img" bs=1M count="$mb" skip="$off" \
				iflag=skip_bytes status=none ||
				echo "cannot read $img"
		done | head -c "$size" | sha256sum | awk '{ print $1 }'
}

nv=0 data=0 pat=0
while read -r v size sum; do
	nv=$((nv + 1))
	[ "$(vol_sum "$v" "$size" "$TMP/dump")" = "$sum" ] && data=$((data + 1))
	[ "$(fmt2_pattern "$v" "$size" | sha256sum | awk '{ print $1 }')" = "$sum" ] &&
		pat=$((pat + 1))
done < <(lines volume 2,3,5)
# (six volumes in the manifest: an empty loop must not pass)
[ "$nv" -ge 6 ] || data=-1 pat=-1
ktap_check "each volume read through the decoded map has the manifest's sha256 ($data of $nv)" \
	[ "$data" = "$nv" ]
ktap_check "each volume's sha256 is that of its pattern ($pat of $nv)" \
	[ "$pat" = "$nv" ]

# The tool's own command on the images.
"$T/slicepool" --json inspect "${IMGS[@]}" > "$TMP/ins.json" 2> "$TMP/err"
rc=$?
ktap_check "slicepool inspect on the images: exit 0" [ $rc = 0 ]
if python3 - "$TMP/ins.json" "$M" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
man = [l.split() for l in open(sys.argv[2]) if not l.startswith("#")]
pool = [l for l in man if l[0] == "pool"][0]
mems = sorted((l[1], l[2]) for l in man if l[0] == "member")
vols = sorted((l[1], int(l[2]), l[3]) for l in man if l[0] == "volume")
nmap = {}
for l in man:
    if l[0] == "map":
        nmap[l[1]] = nmap.get(l[1], 0) + 1
orphans = int([l for l in man if l[0] == "orphans"][0][1])
bad = []
if len(d["pools"]) != 1:
    bad.append("not one pool")
p = d["pools"][0]
if (p["format"], p["name"], p["uuid"], p["slice_sectors"]) != (2, pool[1], pool[2], int(pool[3]) * 2048):
    bad.append("pool")
if sorted((m["name"], m["domain"]) for m in p["members"]) != mems:
    bad.append("members")
if sorted((v["name"], v["size"], v["uuid"]) for v in p["volumes"]) != vols:
    bad.append("volumes")
for v in p["volumes"]:
    if (v["slices"] != nmap.get(v["name"]) or v["missing_slices"]
            or v["double_owned"]
            or sum(s["member"] is not None for s in v["map"]) != v["slices"]):
        bad.append("slices of " + v["name"])
if p["orphaned_slices"] != orphans:
    bad.append("orphans")
for b in bad:
    print("# inspect differs: " + b)
if bad:
    print("# " + json.dumps(d)[:300])
sys.exit(1 if bad else 0)
EOF
then
	ktap_ok "... the manifest's pool, members, volumes, slices found and orphans"
else
	ktap_fail "... the manifest's pool, members, volumes, slices found and orphans"
fi
SLICEPOOL_CONFIGFS=$TMP/none "$T/slicepool" --json assemble --dry-run \
	"${IMGS[@]}" > "$TMP/asm.json" 2> "$TMP/err"
rc=$?
ktap_check "slicepool assemble --dry-run refuses every image (exit 1), naming 'slicepool upgrade'" \
	sp_json_holds "$TMP/asm.json" '[r["reason"] for r in d["refused"]] == ["member %s of pool fmt2 (uuid a953ae77-e105-4151-a41d-397a46bc9eaa) holds metadata format 2, which the module no longer supports: convert the pool offline with '"'slicepool upgrade'"' (every member of it at once), then assemble it" % m for m in ("m0", "m1", "m2")] and d["pools"] == [] and '$rc' == 1'

# The checks above can fail.  A byte of m1's owner table (block 17):
cp "$TMP/m1.img" "$TMP/bad.img"
printf 'X' | dd of="$TMP/bad.img" bs=1 seek=$((17 * 4096 + 100)) conv=notrunc status=none
if "$TMP/fmt2dump" "$TMP/m0.img" "$TMP/bad.img" "$TMP/m2.img" > /dev/null 2> "$TMP/err"; then
	ktap_fail "a changed owner-table byte is refused"
else
	ktap_check "a changed owner-table byte is refused (checksum)" \
		grep -q 'owner table (block 17): checksum mismatch' "$TMP/err"
fi
# ... and one data byte of the first slice of volume plain.
read -r img off < <(awk '$1 == "slice" && $2 == "plain" && $3 == 0 { print $4, $5 }' "$TMP/dump")
sum=$(awk '$1 == "volume" && $2 == "plain" { print $5 }' "$M")
size=$(awk '$1 == "volume" && $2 == "plain" { print $3 }' "$M")
if [ -n "${img:-}" ]; then
	printf 'X' | dd of="$img" bs=1 seek=$((off + 4000)) conv=notrunc status=none
	ktap_check "a changed data byte changes the volume's sha256" \
		[ "$(vol_sum plain "$size" "$TMP/dump")" != "$sum" ]
else
	ktap_fail "a changed data byte changes the volume's sha256 (no slice 0 of plain)"
fi
ktap_finish
