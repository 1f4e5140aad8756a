#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# slicepool upgrade of a pool made by the real format-2 module: the frozen
# fixture selftests/fixtures/fmt2 (member images mN.img.xz and MANIFEST,
# made by selftests/fixtures/make-fmt2.sh).  On copies of its images:
# the tool's format-2 decoding gives the module's maps; the upgrade keeps
# every map, uuid and size and drops the deleted volumes; each volume read
# through its v3 map hashes to the manifest's sha256; the data areas are
# byte-identical; --restore gives back the original images.
# FMT2_FIXTURE names another fixture directory (the tests of this test).
. "$SP_TOP/selftests/lib/ktap.sh"

FIX=${FMT2_FIXTURE:-$SP_TOP/selftests/fixtures/fmt2}
SP=$SP_TOP/tools/slicepool/slicepool
[ -s "$FIX/MANIFEST" ] || sp_skip "no format-2 fixture in $FIX"
make -s -C "$SP_TOP/tools/slicepool" slicepool || sp_die "cannot build the tool"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# the member images, decompressed: IMAGE is mN.img.xz (or mN.img)
mapfile -t imgs < <(awk '$1 == "member" { sub(/\.xz$/, "", $4); print $4 }' "$FIX/MANIFEST")
[ ${#imgs[@]} -gt 0 ] || sp_die "the manifest names no member image"
devs=()
for i in "${imgs[@]}"; do
	xz -dc "$FIX/$i.xz" > "$TMP/$i" || sp_die "cannot decompress $i.xz"
	devs+=("$TMP/$i")
done
mkdir "$TMP/orig"
cp "${devs[@]}" "$TMP/orig/"

# check <description> <inspect json> <what>: the manifest against the
# document (what: maps, or v3 for maps, volumes, members and contents).
check() {
	if python3 - "$FIX/MANIFEST" "$2" "$3" "$TMP" > "$TMP/py" 2>&1 <<'PY'
import hashlib, json, sys
man, doc, what, tmp = sys.argv[1:5]
vols, maps, members, deleted, slice_mb = {}, {}, {}, [], None
for line in open(man):
    f = line.split()
    if not f or f[0].startswith("#"):
        continue
    if f[0] == "pool":
        slice_mb = int(f[3])
    elif f[0] == "member":
        members[f[1]] = (f[2], f[3][:-3] if f[3].endswith(".xz") else f[3], int(f[5]))
    elif f[0] == "volume":
        vols[f[1]] = (int(f[2]), f[3].lower(), f[4])
    elif f[0] == "map":
        maps.setdefault(f[1], {})[int(f[2])] = (f[3], f[4])
    elif f[0] == "deleted":
        deleted.append(f[1])
assert vols and members, "the manifest lists no volume or no member"
d = json.load(open(doc))
assert len(d["pools"]) == 1, "pools: %d" % len(d["pools"])
p = d["pools"][0]
got = {v["name"]: {s["logical"]: (s["member"] or "-", "-" if s["physical"] is None else str(s["physical"])) for s in v["map"]} for v in p["volumes"]}
assert set(got) == set(vols), "volumes %s, manifest %s" % (sorted(got), sorted(vols))
for v in vols:
    assert got[v] == maps.get(v, {}), "volume %s: map %s, manifest %s" % (v, got[v], maps.get(v))
if what == "v3":
    assert p["format"] == 3 and p["verdict"] == "read-write" and p["winner"]["seq"] == 1, p["message"]
    assert not set(deleted) & set(got), "deleted volumes kept"
    byname = {m["name"]: m for m in p["members"]}
    assert set(byname) == set(members), "members %s" % sorted(byname)
    for n, (dom, img, off) in members.items():
        assert byname[n]["domain"] == dom and byname[n]["data_offset"] * 512 == off, n
    sb = slice_mb << 20
    for v in p["volumes"]:
        size, uuid, sha = vols[v["name"]]
        assert v["size"] == size and v["uuid"].lower() == uuid, v["name"]
        h, left = hashlib.sha256(), size
        for s in v["map"]:
            m = byname[s["member"]]
            with open(tmp + "/" + members[m["name"]][1], "rb") as f:
                f.seek(m["data_offset"] * 512 + s["physical"] * sb)
                h.update(f.read(min(sb, left)))
            left -= min(sb, left)
        assert left == 0 and h.hexdigest() == sha, "volume %s: sha256 %s, manifest %s" % (v["name"], h.hexdigest(), sha)
    print("%d volumes, %d members checked" % (len(vols), len(members)))
PY
	then
		sed 's/^/# /' "$TMP/py"
		ktap_ok "$1"
	else
		ktap_fail "$1"
		sed 's/^/# /' "$TMP/py"
	fi
}

# data_sums: the sha256 of each image past its manifest data offset
data_sums() {
	local img off
	while read -r _ _ img _ off _; do
		img=${img%.xz}
		printf '%s ' "$img"
		tail -c +$((off + 1)) "$TMP/$img" | sha256sum
	done < <(awk '$1 == "member"' "$FIX/MANIFEST" | cut -d' ' -f2-)
}

ktap_header
ktap_plan 6
"$SP" --json inspect "${devs[@]}" > "$TMP/f2.json" || sp_die "inspect of the format-2 images failed"
check "the tool's format-2 decoding gives the module's maps" "$TMP/f2.json" maps
data_sums > "$TMP/data.before"
if "$SP" upgrade --no-scan --backup "$TMP/backup" "${devs[@]}" > "$TMP/out" 2>&1; then
	ktap_ok "upgrade of the fixture: exit 0"
else
	ktap_fail "upgrade of the fixture: exit 0"
	sed 's/^/# /' "$TMP/out"
fi
"$SP" --json inspect "${devs[@]}" > "$TMP/v3.json"
check "v3: the module's maps, sizes, uuids, members; each volume's content hashes to the manifest" "$TMP/v3.json" v3
if data_sums | cmp -s - "$TMP/data.before"; then
	ktap_ok "upgrade: every data area byte-identical"
else
	ktap_fail "upgrade: every data area byte-identical"
fi
"$SP" upgrade --restore "$TMP/backup" "${devs[@]}" > "$TMP/out" 2>&1
rc=$?
same=1
for i in "${imgs[@]}"; do
	cmp -s "$TMP/$i" "$TMP/orig/$i" || same=0
done
if [ $rc -eq 0 ] && [ $same -eq 1 ]; then
	ktap_ok "--restore gives back the fixture's images byte for byte"
else
	ktap_fail "--restore gives back the fixture's images byte for byte (exit $rc)"
	sed 's/^/# /' "$TMP/out"
fi
"$SP" --json inspect "${devs[@]}" > "$TMP/f2b.json"
check "after --restore: format 2 again, the same maps" "$TMP/f2b.json" maps
ktap_finish
