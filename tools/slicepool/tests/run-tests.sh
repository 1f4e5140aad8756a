#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests of the slicepool tool: no kernel module needed. Prints KTAP
# and exits 0 only when every test passes.
#
# Covered: argument parsing and its errors (exit 2), --help of every
# command, the crc32c known answers, size/number/name parsing, superblock
# and metadata checks on crafted member images (good, grown to its owner
# table's capacity, more slices than that, bad magic, bad crc, bad
# version, misdirected block, corrupt volume table), assemble --dry-run
# analysis (missing and orphaned slices, duplicates, exit codes) and the
# read-only commands (status, pool list, vol map) against a fake configfs
# tree given with SLICEPOOL_CONFIGFS, including JSON validity and string
# escaping. Writes to configfs are not faked: their semantics (refused
# values, EBUSY) only exist in the kernel and are tested in selftests/cli.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
SP=$HERE/../slicepool
UNIT=$HERE/unit
MKIMAGE=$HERE/mkimage
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

for b in "$SP" "$UNIT" "$MKIMAGE"; do
	if [ ! -x "$b" ]; then
		echo "run-tests.sh: $b is missing: run 'make' in tools/slicepool" >&2
		exit 1
	fi
done

# KTAP output: the project's one test library.
. "$HERE/../../../selftests/lib/ktap.sh"
. "$HERE/../../../selftests/lib/json.sh"

# run <name> <cmd...>: stores stdout, stderr and the exit code.
run() {
	"$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
}

# expect_rc <rc> <stderr-substring or ""> <description> <cmd...>
expect_rc() {
	local want=$1 msg=$2 desc=$3
	shift 3
	run "$@"
	if [ "$RC" -ne "$want" ]; then
		ktap_fail "$desc (exit $RC, want $want)"
		sed 's/^/# /' "$TMP/err"
	elif [ -n "$msg" ] && ! grep -qF -- "$msg" "$TMP/err"; then
		ktap_fail "$desc (stderr lacks '$msg')"
		sed 's/^/# /' "$TMP/err"
	else
		ktap_ok "$desc"
	fi
}

# json_check <description> <python expression over d>: on $TMP/out.
json_check() {
	local desc=$1 expr=$2
	if sp_json_holds "$TMP/out" "$expr" 2> "$TMP/pyerr"
	then
		ktap_ok "$desc"
	else
		ktap_fail "$desc"
		sed 's/^/# /' "$TMP/pyerr"
	fi
}

ktap_header
ktap_plan 105

# ---- pure code ----
for u in crc32c size number name parse mpath; do
	if "$UNIT" "$u" > "$TMP/unit"; then
		ktap_ok "unit: $u"
	else
		ktap_fail "unit: $u"
		cat "$TMP/unit"
	fi
done

# ---- argument parsing ----
expect_rc 2 "no command given" "no arguments: usage error" "$SP"
expect_rc 2 "unknown command 'frob'" "unknown command" "$SP" frob
expect_rc 2 "unknown command 'pool frob'" "unknown pool subcommand" \
	"$SP" pool frob
expect_rc 2 "needs a subcommand" "group without subcommand" "$SP" vol
expect_rc 2 "unknown option '--bogus'" "unknown option" \
	"$SP" pool create p --bogus
expect_rc 2 "unknown option '--bogus'" "unknown global option" \
	"$SP" --bogus status
expect_rc 2 "takes no value" "value given to a flag" \
	"$SP" assemble --dry-run=yes
expect_rc 2 "needs a value" "missing option value" \
	"$SP" pool create p --slice-mb
expect_rc 2 "not a number" "--slice-mb abc" \
	"$SP" pool create p --slice-mb abc
expect_rc 2 "out of range (0..100)" "--weight-space 101" \
	"$SP" pool create p --weight-space 101
expect_rc 2 "out of range (1..64)" "--min-domains 0" \
	"$SP" pool create p --min-domains 0
expect_rc 2 "not a number" "--weight-load -1" \
	"$SP" pool create p --weight-load -1
expect_rc 2 "bad pool name" "pool name with a slash" \
	"$SP" pool create a/b
expect_rc 2 "bad pool name" "pool name of 33 characters" \
	"$SP" pool create 012345678901234567890123456789012
expect_rc 2 "missing argument" "pool create without a name" \
	"$SP" pool create
expect_rc 2 "unexpected argument 'extra'" "extra argument" \
	"$SP" pool remove p extra
expect_rc 2 "--path DEV is required" "member add without --path" \
	"$SP" member add p m --domain d
expect_rc 2 "--domain D is required" "member add without --domain" \
	"$SP" member add p m --path /dev/null
expect_rc 2 "not an absolute device path" "member add with a relative path" \
	"$SP" member add p m --path vdb --domain d
expect_rc 2 "bad domain" "member add with a bad domain" \
	"$SP" member add p m --path /dev/vdb --domain 'a b'
expect_rc 2 "nothing to set" "pool set without options" "$SP" pool set p
expect_rc 2 "nothing to set" "member set without options" \
	"$SP" member set p m
expect_rc 2 "out of range (0..100)" "member set --load-override 101" \
	"$SP" member set p m --load-override 101
expect_rc 2 "not a number" "member set --load-override automatic" \
	"$SP" member set p m --load-override automatic
expect_rc 2 "--size SIZE is required" "vol create without --size" \
	"$SP" vol create p/v
expect_rc 2 "not a size" "vol create --size 12Q" \
	"$SP" vol create p/v --size 12Q
expect_rc 2 "--size: '1GiB' is not a size (bytes, or a number with K, M, G or T)" \
	"vol create --size 1GiB: the kernel's grammar, the value named" \
	"$SP" vol create p/v --size 1GiB
expect_rc 2 "not a multiple of 512" "vol create --size 1000" \
	"$SP" vol create p/v --size 1000
expect_rc 2 "must not be 0" "vol create --size 0" \
	"$SP" vol create p/v --size 0
expect_rc 2 "too large" "vol resize --size 99999999999T" \
	"$SP" vol resize p/v --size 99999999999T
expect_rc 2 "not of the form <pool>/<volume>" "volume without pool" \
	"$SP" vol map v
expect_rc 2 "bad volume name" "empty volume name" "$SP" vol remove p/
expect_rc 2 "--to <member|domain:LABEL> is required" "migrate without --to" \
	"$SP" migrate p/v
expect_rc 2 "unknown mode 'fast' (filter, clear or none)" "migrate --mode fast" \
	"$SP" migrate p/v --to m1 --mode fast
expect_rc 2 "--rate: 'abc' is not a number" "migrate --rate abc" \
	"$SP" migrate p/v --to m1 --rate abc
expect_rc 2 "--rate: 2000000 is out of range (0..1048576)" \
	"migrate --rate above the module's limit" \
	"$SP" migrate p/v --to m1 --rate 2000000
expect_rc 2 "the last slice is before the first" "migrate --slices 5-2" \
	"$SP" migrate p/v --to m1 --slices 5-2
expect_rc 2 "is not a logical slice range (A, A-B or all)" \
	"migrate --slices 1-" "$SP" migrate p/v --to m1 --slices 1-
expect_rc 2 "not a multiple of 4 KiB" "migrate --chunk-kb 6" \
	"$SP" migrate p/v --to m1 --chunk-kb 6
expect_rc 2 "--max-passes: 0 is out of range (1..1000)" \
	"migrate --max-passes 0" "$SP" migrate p/v --to m1 --max-passes 0
expect_rc 2 "bad domain label" "migrate --to with a bad domain label" \
	"$SP" migrate p/v --to 'domain:a b'
expect_rc 2 "neither a member name" "migrate --to with a bad member name" \
	"$SP" migrate p/v --to 'a/b'
expect_rc 2 "--abort and --status cannot be given together" \
	"migrate --abort --status" "$SP" migrate p/v --abort --status
expect_rc 2 "--abort takes no migration option (--to)" \
	"migrate --abort with --to" "$SP" migrate p/v --to m1 --abort
expect_rc 2 "--set-rate: 'fast' is not a number" "migrate --set-rate fast" \
	"$SP" migrate p/v --set-rate fast
expect_rc 2 "--band: 101 is out of range (0..100)" "rebalance --band 101" \
	"$SP" rebalance p --band 101
expect_rc 2 "--max-moves: 0 is out of range" "rebalance --max-moves 0" \
	"$SP" rebalance p --max-moves 0
expect_rc 2 "bad pool name" "rebalance of a bad pool name" \
	"$SP" rebalance p/v

# --help of every command: exit 0 and a usage line on stdout.
helps_ok=1
for c in "pool create" "pool set" "pool list" "pool remove" "member add" \
	 "member set" "member remove" "vol create" "vol resize" "vol remove" "vol map" \
	 "status" "assemble" "inspect" "migrate" "rebalance" "pool" "member" "vol" ""; do
	# shellcheck disable=SC2086 # the words are meant to split
	if ! "$SP" $c --help > "$TMP/help" 2>&1 ||
	   ! grep -q "^Usage" "$TMP/help"; then
		echo "# --help failed for '$c'"
		helps_ok=0
	fi
done
if [ $helps_ok -eq 1 ]; then
	ktap_ok "--help works for every command"
else
	ktap_fail "--help works for every command"
fi

# ---- configfs missing ----
expect_rc 1 "modprobe dm-slicepool" "no configfs root: clear error" \
	env SLICEPOOL_CONFIGFS="$TMP/none" "$SP" status

# ---- read-only commands on a fake configfs tree ----
F=$TMP/cfs
mkdir -p "$F/p1/members/m0" "$F/p1/members/m1" "$F/p1/volumes/v1"
put() {	# put <file> <content>
	printf '%s\n' "$2" > "$F/$1"
}
put p1/uuid 0b6d7e4c-2f7a-4c1e-9a55-4f0e8c1d2e3f
put p1/slice_mb 4
put p1/weight_space 50
put p1/weight_load 50
put p1/min_domains 2
printf 'dA 1 15 13 5 12\ndB 1 15 14 0 3\n' > "$F/p1/domains"
for m in m0 m1; do
	put p1/members/$m/enable 1
	put p1/members/$m/state online
	put p1/members/$m/size 67108864
	put p1/members/$m/total_slices 15
	put p1/members/$m/load 5
	put p1/members/$m/load_override auto
	put p1/members/$m/data_offset 1048576
done
put p1/members/m0/path /dev/vdb
put p1/members/m0/domain dA
put p1/members/m0/free_slices 13
# A path with characters JSON must escape (the module would never hold
# them in a domain, but a path is any string).
WEIRD=$(printf '/dev/we"ird\\pa\tth\001\303\251')
printf '%s\n' "$WEIRD" > "$F/p1/members/m1/path"
put p1/members/m1/domain dB
put p1/members/m1/free_slices 14
put p1/volumes/v1/uuid 5f1c2d3e-4b5a-6978-8796-a5b4c3d2e1f0
put p1/volumes/v1/size 12582912
printf '0 m0 0\n1 m1 3\n2 - -\n' > "$F/p1/volumes/v1/map"
printf 'old 7d1c2d3e-4b5a-6978-8796-a5b4c3d2e1f0 4194304\n' > "$F/p1/discovered"
export SLICEPOOL_CONFIGFS=$F

run "$SP" --json status
if [ $RC -eq 0 ]; then ktap_ok "status --json exits 0"; else ktap_fail "status --json exits 0"; fi
if python3 -m json.tool "$TMP/out" > /dev/null 2>&1; then
	ktap_ok "status --json is valid JSON"
else
	ktap_fail "status --json is valid JSON"
fi
json_check "status --json: pool fields" \
	'd["pools"][0]["name"] == "p1" and d["pools"][0]["slice_mb"] == 4 and d["pools"][0]["min_domains"] == 2'
json_check "status --json: members and domains" \
	'[m["name"] for m in d["pools"][0]["members"]] == ["m0", "m1"] and d["pools"][0]["members"][0]["enabled"] is True and [x["name"] for x in d["pools"][0]["domains"]] == ["dA", "dB"] and d["pools"][0]["domains"][1]["workload"] == 3'
json_check "status --json: volume slices and missing slices" \
	'd["pools"][0]["volumes"][0]["slices"] == 3 and d["pools"][0]["volumes"][0]["missing_slices"] == 1 and d["pools"][0]["volumes"][0]["size"] == 12582912'
json_check "status --json: escaped path round-trips" \
	"d['pools'][0]['members'][1]['path'] == '/dev/we\"ird\\\\pa\\tth\\x01\\xc3\\xa9'"
json_check "status --json: dm device name is <pool>-<volume>" \
	'd["pools"][0]["volumes"][0]["dm"]["name"] == "p1-v1"'

run "$SP" status
if [ $RC -eq 0 ] && grep -q '^pool p1 ' "$TMP/out" &&
   grep -q '^  m0 *dA *online */dev/vdb' "$TMP/out" &&
   grep -q '^  v1 *12MiB *3 *1 ' "$TMP/out"; then
	ktap_ok "status text lists pool, members and volumes"
else
	ktap_fail "status text lists pool, members and volumes"
	sed 's/^/# /' "$TMP/out"
fi

run "$SP" pool list --json
json_check "pool list --json: counts and capacity" \
	'd["pools"][0]["members"] == 2 and d["pools"][0]["volumes"] == 1 and d["pools"][0]["total_slices"] == 30 and d["pools"][0]["free_slices"] == 27'
run "$SP" pool list
if [ $RC -eq 0 ] && head -1 "$TMP/out" | grep -q '^POOL  *UUID' &&
   grep -q '^p1  ' "$TMP/out"; then
	ktap_ok "pool list text table"
else
	ktap_fail "pool list text table"
fi

run "$SP" vol map p1/v1 --json
json_check "vol map --json: entries, missing slice, member offsets" \
	'[s["member"] for s in d["slices"]] == ["m0", "m1", None] and d["missing_slices"] == 1 and d["slices"][1]["physical"] == 3 and d["slices"][1]["member_offset"] == 1048576 + 3 * 4 * 1048576 and d["slices"][2]["physical"] is None'
run "$SP" vol map p1/v1
if [ $RC -eq 0 ] && grep -q '^2  *-  *-  *-' "$TMP/out" &&
   grep -q '1 of 3 slices are missing' "$TMP/out"; then
	ktap_ok "vol map text shows the missing slice"
else
	ktap_fail "vol map text shows the missing slice"
	sed 's/^/# /' "$TMP/out"
fi

# Refused on the fake tree, exit 1: <stderr substring>|<description>|<arguments>
while IFS='|' read -r msg desc args <&3; do
	read -ra av <<< "$args"
	expect_rc 1 "$msg" "$desc" "$SP" "${av[@]}"
done 3<< 'EOF'
no pool 'nope'|status of an unknown pool|status nope
already exists|pool create refuses an existing pool|pool create p1
already exists|vol create refuses an existing volume|vol create p1/v1 --size 1M
exists on the members but is not bound|vol create refuses the name of an unbound volume|vol create p1/old --size 1M
no pool 'nope'|vol create in an unknown pool|vol create nope/v --size 1M
has no member 'm9'|member remove of an unknown member|member remove p1 m9
no volume 'p1/v9'|vol map of an unknown volume|vol map p1/v9
no volume 'p1/v9'|migrate of an unknown volume|migrate p1/v9 --to m1
no pool 'nope'|migrate --status in an unknown pool|migrate nope/v --status
EOF

# rebalance: the band rule on the fake domains (dA W 12, dB W 3: spread 9).
run "$SP" --json rebalance p1
if [ $RC -eq 0 ]; then ktap_ok "rebalance within the band: exit 0"; else ktap_fail "rebalance within the band: exit 0 (got $RC)"; fi
json_check "rebalance within the band: no move, stopped balanced, spread 9" \
	'd["moves"] == [] and d["stopped"] == "balanced" and d["spread"] == 9 and d["band"] == 20'
# With --band 5 a move would narrow the spread (12 - 3 to 6 - 5 by the
# module's formula), but no volume has a dm table here: no slice to move.
run "$SP" --json rebalance p1 --band 5 --dry-run
json_check "rebalance --band 5: out of band, no volume with a table: stopped no_slice" \
	'd["moves"] == [] and d["stopped"] == "no_slice" and "heaviest domain dA" in d["reason"]'
if [ $RC -eq 1 ] && grep -qF "stopped: no volume with a dm table" "$TMP/err"; then
	ktap_ok "rebalance with no possible move: exit 1 and the reason on stderr"
else
	ktap_fail "rebalance with no possible move: exit 1 and the reason on stderr (got $RC)"
	sed 's/^/# /' "$TMP/err"
fi
# With the load outweighing space, no single move narrows the spread.
put p1/weight_space 1
put p1/weight_load 99
printf 'dA 1 15 13 60 59\ndB 1 15 14 0 0\n' > "$F/p1/domains"
run "$SP" --json rebalance p1 --band 5
json_check "rebalance when a move cannot narrow the spread: stopped no_progress" \
	'd["moves"] == [] and d["stopped"] == "no_progress" and d["spread"] == 59'
put p1/weight_space 50
put p1/weight_load 50
printf 'dA 1 15 13 5 12\ndB 1 15 14 0 3\n' > "$F/p1/domains"
unset SLICEPOOL_CONFIGFS

# ---- member metadata: crafted images ----
I=$TMP/img
mkdir -p "$I"
for k in m0 m1 badmagic badcrc badversion blocknr badvolcrc grown overgrown fm0 fm1; do
	"$MKIMAGE" "$k" "$I/$k.img" || echo "# mkimage $k failed"
done
sbcheck() {	# sbcheck <image> <expect> <description>
	if "$UNIT" sb "$I/$1.img" "$2" > "$TMP/unit"; then
		ktap_ok "$3"
	else
		ktap_fail "$3"
		cat "$TMP/unit"
	fi
}
sbcheck m0 ok "superblock: good image parses"
sbcheck badmagic none "superblock: bad magic is not a member"
sbcheck badcrc "checksum mismatch" "superblock: bad crc is refused"
sbcheck badversion "unsupported metadata version 3" \
	"superblock: bad version is refused"
sbcheck blocknr "misdirected" "superblock: wrong block number is refused"
sbcheck badvolcrc "volume table" "volume table: bad crc is refused"
sbcheck grown grown "superblock: a grown member (127 slices, one owner block) parses"
sbcheck overgrown "inconsistent layout" \
	"superblock: more slices than the owner blocks describe is refused"

export SLICEPOOL_CONFIGFS=$TMP/none
run "$SP" --json assemble --dry-run "$I/m0.img" "$I/m1.img"
if [ $RC -eq 0 ]; then
	ktap_ok "assemble --dry-run, all members: exit 0"
else
	ktap_fail "assemble --dry-run, all members: exit 0 (got $RC)"
	sed 's/^/# /' "$TMP/err"
fi
json_check "assemble --dry-run: pool, members, volume, orphans (one a losing older claim)" \
	'len(d["pools"]) == 1 and d["pools"][0]["name"] == "tp" and d["pools"][0]["slice_mb"] == 1 and [m["name"] for m in d["pools"][0]["members"]] == ["m0", "m1"] and [m["attempt"] for m in d["pools"][0]["members"]] == [3, 3] and [v["name"] for v in d["pools"][0]["volumes"]] == ["v1"] and d["pools"][0]["volumes"][0]["found_slices"] == 4 and d["pools"][0]["volumes"][0]["missing_slices"] == 0 and d["pools"][0]["volumes"][0]["double_owned"] == 0 and d["pools"][0]["orphaned_slices"] == 2 and d["pools"][0]["reclaim"] == "planned" and not d["pools"][0]["degraded"]'

run "$SP" --json assemble --dry-run "$I/m0.img"
if [ $RC -eq 3 ]; then
	ktap_ok "assemble --dry-run, member missing: exit 3 (degraded)"
else
	ktap_fail "assemble --dry-run, member missing: exit 3 (got $RC)"
fi
json_check "assemble --dry-run: missing slices named" \
	'd["pools"][0]["degraded"] and d["pools"][0]["volumes"][0]["missing"] == [1, 3] and d["pools"][0]["reclaim"] == "skipped"'
run "$SP" assemble --dry-run "$I/m0.img"
if grep -q "MISSING: volume v1: 2 of 4 slices" "$TMP/out"; then
	ktap_ok "assemble --dry-run text reports the missing slices"
else
	ktap_fail "assemble --dry-run text reports the missing slices"
	sed 's/^/# /' "$TMP/out"
fi

run "$SP" --json assemble --dry-run "$I/fm0.img" "$I/fm1.img"
json_check "assemble --dry-run: a fence makes an interrupted attempt's claim an orphan" \
	'd["pools"][0]["volumes"][0]["found_slices"] == 5 and d["pools"][0]["volumes"][0]["missing_slices"] == 0 and d["pools"][0]["orphaned_slices"] == 2'
run "$SP" --json assemble --dry-run "$I/fm1.img"
json_check "assemble --dry-run: a fenced orphan never stands in for a missing slice" \
	'd["pools"][0]["volumes"][0]["missing"] == [0, 4]'
run "$SP" --json assemble --dry-run "$I/m0.img" "$I/m1.img" "$I/badcrc.img" \
	"$I/badversion.img" "$I/badmagic.img"
if [ $RC -eq 1 ]; then
	ktap_ok "assemble with refused devices: exit 1"
else
	ktap_fail "assemble with refused devices: exit 1 (got $RC)"
fi
json_check "assemble: refused devices listed with reasons" \
	'sorted(r["device"].rsplit("/", 1)[1] for r in d["refused"]) == ["badcrc.img", "badmagic.img", "badversion.img"] and any("checksum" in r["reason"] for r in d["refused"]) and len(d["pools"][0]["members"]) == 2'

cp "$I/m0.img" "$I/m0copy.img"
run "$SP" --json assemble --dry-run "$I/m0.img" "$I/m1.img" "$I/m0copy.img"
json_check "assemble: a member found twice is used once" \
	'len(d["pools"][0]["members"]) == 2 and len(d["duplicates"]) == 1 and d["duplicates"][0]["device"].endswith("m0copy.img")'
unset SLICEPOOL_CONFIGFS

# ---- inspect: format 2 ----
sum_imgs() {	# sum_imgs <image...>: one sha256 line per image
	sha256sum "$@"
}
sum_imgs "$I/m0.img" "$I/m1.img" > "$TMP/sum.before"
run "$SP" --json inspect "$I/m1.img" "$I/m0.img"
if [ $RC -eq 0 ]; then ktap_ok "inspect format 2: exit 0"; else ktap_fail "inspect format 2: exit 0 (got $RC)"; sed 's/^/# /' "$TMP/err"; fi
json_check "inspect format 2 --json: pool, members by name, domains, map by the claim rules, orphans" \
	'd["pools"][0]["format"] == 2 and d["pools"][0]["name"] == "tp" and [m["name"] for m in d["pools"][0]["members"]] == ["m0", "m1"] and [(x["label"], x["members"]) for x in d["pools"][0]["domains"]] == [("dA", ["m0"]), ("dB", ["m1"])] and [v["name"] for v in d["pools"][0]["volumes"]] == ["v1"] and [(s["logical"], s["member"], s["physical"]) for s in d["pools"][0]["volumes"][0]["map"]] == [(0, "m0", 0), (1, "m1", 0), (2, "m0", 1), (3, "m1", 1)] and d["pools"][0]["orphaned_slices"] == 2 and d["pools"][0]["moves"] == [] and [x["format"] for x in d["devices"]] == [2, 2]'
run "$SP" inspect "$I/m0.img" "$I/m1.img"
if [ $RC -eq 0 ] && grep -qx '  map v1: 0=m0:0 1=m1:0 2=m0:1 3=m1:1' "$TMP/out" &&
   grep -q '^pool tp (uuid 11111111-1111-1111-1111-111111111111): format 2, slice size 1 MiB, 2 member(s), 2 orphaned slice(s)$' "$TMP/out"; then
	ktap_ok "inspect format 2 text: the pool line and the map"
else
	ktap_fail "inspect format 2 text: the pool line and the map"
	sed 's/^/# /' "$TMP/out"
fi
sum_imgs "$I/m0.img" "$I/m1.img" > "$TMP/sum.after"
if cmp -s "$TMP/sum.before" "$TMP/sum.after"; then
	ktap_ok "inspect format 2 writes nothing (images unchanged)"
else
	ktap_fail "inspect format 2 writes nothing (images unchanged)"
fi
run "$SP" --json inspect "$I/m0.img" "$TMP/nothere.img" "$I/badcrc.img"
if [ $RC -eq 1 ]; then
	json_check "inspect: a missing and a refused device are named, exit 1" \
		'[x["format"] for x in d["devices"]] == [2, None, None] and "No such file" in d["devices"][1]["problem"] and "checksum mismatch" in d["devices"][2]["problem"] and len(d["pools"]) == 1'
else
	ktap_fail "inspect: a missing and a refused device are named, exit 1 (got $RC)"
fi

ktap_finish
