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
# version, misdirected block, corrupt volume table), inspect's analysis of
# format 2 (missing and orphaned slices, fences, double claims), assemble
# refusing format-2 devices (exit 1, naming 'slicepool upgrade'), assemble
# --dry-run of format 3 (a read-only pool's absent member named, exit 3) and the
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
ktap_plan 174

# ---- pure code ----
for u in crc32c size number name parse mpath md3dev; do
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
expect_rc 2 "out of range (1..4096)" "--min-domains 0" \
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
expect_rc 2 "missing argument" "member evacuate without a member" \
	"$SP" member evacuate p
expect_rc 2 "unexpected argument 'extra'" "member evacuate with an extra argument" \
	"$SP" member evacuate p m extra
expect_rc 2 "bad member name" "member evacuate of a bad member name" \
	"$SP" member evacuate p 'a/b'
expect_rc 2 "--rate: 'fast' is not a number" "member evacuate --rate fast" \
	"$SP" member evacuate p m --rate fast
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
expect_rc 2 "missing argument" "pool force without a pool" "$SP" pool force
expect_rc 2 "unexpected argument 'extra'" "pool force with an extra argument" \
	"$SP" pool force p extra
expect_rc 2 "bad pool name" "pool force of a bad pool name" "$SP" pool force a/b

# --help of every command: exit 0 and a usage line on stdout.
helps_ok=1
for c in "pool create" "pool set" "pool list" "pool remove" "pool force" "member add" "member evacuate" \
	 "member set" "member remove" "vol create" "vol resize" "vol remove" "vol map" \
	 "status" "assemble" "inspect" "upgrade" "migrate" "rebalance" "pool" "member" "vol" ""; do
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
no volume 'p1/v9'|vol map of an unknown volume|vol map p1/v9
no volume 'p1/v9'|migrate of an unknown volume|migrate p1/v9 --to m1
no pool 'nope'|migrate --status in an unknown pool|migrate nope/v --status
no pool 'nope'|pool force of an unknown pool|pool force nope
no pool 'nope'|member evacuate in an unknown pool|member evacuate nope m1
no member 'p1/m9'|member evacuate of an unknown member|member evacuate p1 m9
volume 'p1/v1' has slices on member 'm1', and device-mapper cannot be asked about its dm device p1-v1|member evacuate when device-mapper cannot be asked about a volume's dm device|member evacuate p1 m1
the module has no force attribute|pool force without the module's force attribute|pool force p1
EOF

# member evacuate: the checks before anything changes, on the fake tree
# (m1 holds slice 1 of v1; m0 has 13 free slices).
put p1/members/m1/state failed
expect_rc 1 "member 'm1' of pool 'p1' is failed: its slices cannot be read" \
	"member evacuate of a failed member" "$SP" member evacuate p1 m1
put p1/members/m1/state online
put p1/members/m1/enable 0
expect_rc 1 "member 'm1' of pool 'p1' is not enabled" \
	"member evacuate of a disabled member" "$SP" member evacuate p1 m1
put p1/members/m1/enable 1
put p1/members/m0/free_slices 0
expect_rc 1 "member 'm1' holds 1 slices, and the other members of pool 'p1' that take new slices have 0 free: 1 slices (4 MiB) missing" \
	"member evacuate with no room elsewhere: how much is missing" \
	"$SP" member evacuate p1 m1
put p1/members/m0/free_slices 13
put p1/members/m0/drain 1
expect_rc 1 "that take new slices have 0 free: 1 slices (4 MiB) missing" \
	"member evacuate: a draining member's free slices do not count" \
	"$SP" member evacuate p1 m1
rm -f "$F/p1/members/m0/drain"
put p1/volumes/v1/image 1
expect_rc 1 "volume 'p1/v1' has slices on member 'm1' but is an image" \
	"member evacuate of a member holding slices of an image" \
	"$SP" member evacuate p1 m1
rm -f "$F/p1/volumes/v1/image"
if [ ! -e "$F/p1/members/m1/drain" ]; then
	ktap_ok "member evacuate refusals wrote nothing (no drain attribute written)"
else
	ktap_fail "member evacuate refusals wrote nothing (no drain attribute written)"
fi

# pool force writes 1 to the pool's force attribute (the kernel's checks
# are tested in selftests/dm-slicepool/md3_force.sh).
: > "$F/p1/force"
run "$SP" --json pool force p1
if [ $RC -eq 0 ] && [ "$(cat "$F/p1/force")" = 1 ]; then
	ktap_ok "pool force writes 1 to <pool>/force"
else
	ktap_fail "pool force writes 1 to <pool>/force (exit $RC)"
fi
json_check "pool force --json: action, pool and mode" \
	'd["action"] == "pool force" and d["pool"] == "p1" and d["mode"] == "read-write"'
rm -f "$F/p1/force"

# rebalance: the band rule on the fake domains (dA W 12, dB W 3: spread 9).
run "$SP" --json rebalance p1
if [ $RC -eq 0 ]; then ktap_ok "rebalance within the band: exit 0"; else ktap_fail "rebalance within the band: exit 0 (got $RC)"; fi
json_check "rebalance within the band: no move, stopped balanced, spread 9, the domains as status has them" \
	'd["moves"] == [] and d["stopped"] == "balanced" and d["spread"] == 9 and d["band"] == 20 and d["domains"] == [{"name": "dA", "members": 1, "total_slices": 15, "free_slices": 13, "load": 5, "workload": 12}, {"name": "dB", "members": 1, "total_slices": 15, "free_slices": 14, "load": 0, "workload": 3}]'
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
for k in m0 m1 badmagic badcrc badversion blocknr badvolcrc grown overgrown fm0 fm1 tie1; do
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

# Format 2 is no longer assembled: every format-2 device is refused, named
# with its member and pool, and the way to convert the pool; exit 1.
F2WHY="holds metadata format 2, which the module no longer supports: convert the pool offline with 'slicepool upgrade' (every member of it at once), then assemble it"
export SLICEPOOL_CONFIGFS=$TMP/none
expect_rc 1 "" "assemble --dry-run of a format-2 pool: exit 1" "$SP" --json assemble --dry-run "$I/m0.img" "$I/m1.img"
json_check "... both members refused, naming slicepool upgrade; no pool" \
	'd["pools"] == [] and d["refused"] == [{"device": "'"$I/m0.img"'", "reason": "member m0 of pool tp (uuid 11111111-1111-1111-1111-111111111111) '"$F2WHY"'"}, {"device": "'"$I/m1.img"'", "reason": "member m1 of pool tp (uuid 11111111-1111-1111-1111-111111111111) '"$F2WHY"'"}]'
run "$SP" assemble --dry-run "$I/m0.img"
if [ $RC -eq 1 ] && [ "$(cat "$TMP/out")" = "dry run: found 0 member(s) of 0 pool(s), some devices refused (see below)
refused $I/m0.img: member m0 of pool tp (uuid 11111111-1111-1111-1111-111111111111) $F2WHY" ]; then
	ktap_ok "assemble --dry-run text of a format-2 member: exit 1, refused with the way to convert it"
else
	ktap_fail "assemble --dry-run text of a format-2 member: exit 1, refused with the way to convert it (exit $RC)"
	sed 's/^/# /' "$TMP/out"
fi
mkdir "$TMP/f2cfs"
run env SLICEPOOL_CONFIGFS="$TMP/f2cfs" "$SP" assemble "$I/m0.img" "$I/m1.img"
if [ $RC -eq 1 ] && [ -z "$(ls -A "$TMP/f2cfs")" ]; then
	ktap_ok "assemble of a format-2 pool: exit 1, nothing done in configfs"
else
	ktap_fail "assemble of a format-2 pool: exit 1, nothing done in configfs (exit $RC)"
	find "$TMP/f2cfs" -mindepth 1 | sed 's/^/# /'
fi
run "$SP" --json assemble --dry-run "$I/m0.img" "$I/m1.img" "$I/badcrc.img" \
	"$I/badversion.img" "$I/badmagic.img"
if [ $RC -eq 1 ]; then
	ktap_ok "assemble with refused devices: exit 1"
else
	ktap_fail "assemble with refused devices: exit 1 (got $RC)"
fi
json_check "assemble: refused devices listed with reasons" \
	'sorted(r["device"].rsplit("/", 1)[1] for r in d["refused"]) == ["badcrc.img", "badmagic.img", "badversion.img", "m0.img", "m1.img"] and any("checksum" in r["reason"] for r in d["refused"]) and d["pools"] == []'
unset SLICEPOOL_CONFIGFS

# The claim rules of format 2, as inspect (and upgrade) decode a pool.
run "$SP" --json inspect "$I/m0.img"
json_check "inspect format 2, a member missing: its slices named missing" \
	'(lambda v: v["missing_slices"] == 2 and [s["logical"] for s in v["map"] if s["member"] is None] == [1, 3])(d["pools"][0]["volumes"][0])'
run "$SP" --json inspect "$I/fm0.img" "$I/fm1.img"
json_check "inspect format 2: a fence makes an interrupted attempt's claim an orphan" \
	'd["pools"][0]["volumes"][0]["missing_slices"] == 0 and d["pools"][0]["orphaned_slices"] == 2'
run "$SP" --json inspect "$I/fm1.img"
json_check "inspect format 2: a fenced orphan never stands in for a missing slice" \
	'[s["logical"] for s in d["pools"][0]["volumes"][0]["map"] if s["member"] is None] == [0, 4]'
run "$SP" --json inspect "$I/m0.img" "$I/tie1.img"
json_check "inspect format 2: a slice claimed twice by one attempt is double_owned, and the second claim an orphan (as the kernel counted)" \
	'd["pools"][0]["volumes"][0]["double_owned"] == 1 and [(s["logical"], s["member"], s["physical"]) for s in d["pools"][0]["volumes"][0]["map"]] == [(0, "m0", 0), (1, "m1", 0), (2, "m0", 1), (3, "m1", 1)] and d["pools"][0]["orphaned_slices"] == 3'

# ---- inspect: format 2 ----
# inspect_text <what> <pool line> <image...>: the text of inspect has the
# pool line (a grep pattern, anchored here) and pool tp's map of volume v1
inspect_text() {
	local what=$1 pool=$2
	shift 2
	run "$SP" inspect "$@"
	if [ "$RC" -eq 0 ] && grep -qx '  map v1: 0=m0:0 1=m1:0 2=m0:1 3=m1:1' "$TMP/out" &&
	   grep -q "^pool tp (uuid 11111111-1111-1111-1111-111111111111): $pool\$" "$TMP/out"; then
		ktap_ok "inspect $what text: the pool line and the map"
	else
		ktap_fail "inspect $what text: the pool line and the map"
		sed 's/^/# /' "$TMP/out"
	fi
}
sum_imgs() {	# sum_imgs <image...>: one sha256 line per image
	sha256sum "$@"
}
sum_imgs "$I/m0.img" "$I/m1.img" > "$TMP/sum.before"
run "$SP" --json inspect "$I/m1.img" "$I/m0.img"
if [ $RC -eq 0 ]; then ktap_ok "inspect format 2: exit 0"; else ktap_fail "inspect format 2: exit 0 (got $RC)"; sed 's/^/# /' "$TMP/err"; fi
json_check "inspect format 2 --json: pool, members by name, domains, map by the claim rules, orphans" \
	'd["pools"][0]["format"] == 2 and d["pools"][0]["name"] == "tp" and [m["name"] for m in d["pools"][0]["members"]] == ["m0", "m1"] and [(x["label"], x["members"]) for x in d["pools"][0]["domains"]] == [("dA", ["m0"]), ("dB", ["m1"])] and [v["name"] for v in d["pools"][0]["volumes"]] == ["v1"] and [(s["logical"], s["member"], s["physical"]) for s in d["pools"][0]["volumes"][0]["map"]] == [(0, "m0", 0), (1, "m1", 0), (2, "m0", 1), (3, "m1", 1)] and d["pools"][0]["orphaned_slices"] == 2 and d["pools"][0]["moves"] == [] and [x["format"] for x in d["devices"]] == [2, 2]'
inspect_text "format 2" 'format 2, slice size 1 MiB, 2 member(s), 2 orphaned slice(s)' \
	"$I/m0.img" "$I/m1.img"
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

# ---- upgrade: format 2 -> 3 ----
# On tmpfs when there is one: the upgrades fsync, which a loaded disk
# makes slow (md3dev's O_DIRECT path is the unit test's, in $TMP).
U=$TMP/upg
if [ -d /dev/shm ] && [ -w /dev/shm ] && U=$(mktemp -d -p /dev/shm sp-upg.XXXXXX); then
	trap 'rm -rf "$TMP" "$U"' EXIT
else
	U=$TMP/upg
fi
mkdir -p "$U"
# The mkimage pool with data in the slices its volume uses (1..5 MiB).
mkpool() {	# mkpool <dir> [m0 m1 | fm0 fm1]
	local d=$1 a=${2:-m0} b=${3:-m1} x
	mkdir -p "$d"
	for x in "$a" "$b"; do
		"$MKIMAGE" "$x" "$d/$x.img"
		head -c $((4 << 20)) /dev/urandom |
			dd of="$d/$x.img" bs=1M seek=1 conv=notrunc status=none
	done
}
# data_sum <dir>: the sha256 of each image's data area (from 1 MiB)
data_sum() {
	local f
	for f in "$1"/*.img; do
		printf '%s ' "${f##*/}"
		tail -c +$((1048576 + 1)) "$f" | sha256sum
	done
}
# maps <json>: "pool volume map" lines of an inspect --json document
maps() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
for p in d["pools"]:
    for v in p["volumes"]:
        print(p["name"], v["name"], v["uuid"], v["size"], " ".join("%s:%s" % (s["member"], s["physical"]) for s in v["map"]))' "$1"
}
# k_upgrade <stop> [arg...]: $U/k a fresh copy of $U/orig, then an
# upgrade of its members given <arg...> that the md3dev.c test knob stops
# after <stop> member writes (0: not stopped); rc is its exit status.
k_upgrade() {
	local stop=$1
	shift
	rm -rf "$U/k"
	cp -a "$U/orig" "$U/k"
	SLICEPOOL_TEST_STOP_AFTER_WRITES=$stop "$SP" upgrade --no-scan "$@" \
		--backup "$U/k/backup" "$U/k/m0.img" "$U/k/m1.img" > /dev/null 2>&1
	rc=$?
}
BK=$U/p/backup
mkpool "$U/p"
cp -a "$U/p" "$U/orig"
"$SP" --json inspect "$U/p/m0.img" "$U/p/m1.img" > "$U/f2.json"
maps "$U/f2.json" > "$U/f2.maps"
"$SP" inspect "$U/p/m0.img" "$U/p/m1.img" | grep '^  map ' > "$U/f2.txtmaps"
data_sum "$U/p" > "$U/data.before"
sha256sum "$U"/p/*.img > "$U/img.before"

expect_rc 2 "missing argument" "upgrade without devices: usage error" "$SP" upgrade
expect_rc 2 "--resume needs --backup FILE" "upgrade --resume without --backup" \
	"$SP" upgrade --resume "$U/p/m0.img"
expect_rc 2 "cannot be given together" "upgrade --resume with --restore" \
	"$SP" upgrade --resume --backup "$BK" --restore "$BK" "$U/p/m0.img"
expect_rc 2 "--weight-space: 101 is out of range (0..100)" \
	"upgrade --weight-space 101" "$SP" upgrade --weight-space 101 "$U/p/m0.img"
expect_rc 1 "volume v1: logical slice(s) 1 3 are on no member given" \
	"upgrade with a member missing: refused, the slices named" \
	"$SP" upgrade --no-scan --backup "$BK" "$U/p/m0.img"
expect_rc 1 "$U/none/b: No such file or directory; nothing was written" \
	"upgrade refuses when the backup cannot be written" \
	"$SP" upgrade --no-scan --backup "$U/none/b" "$U/p/m0.img" "$U/p/m1.img"
expect_rc 1 "another process holds the image" \
	"upgrade of an image another process holds (flock): refused" \
	flock "$U/p/m1.img" "$SP" upgrade --no-scan --backup "$BK" "$U/p/m0.img" "$U/p/m1.img"
expect_rc 0 "" "upgrade --dry-run: exit 0" \
	"$SP" upgrade --no-scan --dry-run --backup "$BK" "$U/p/m0.img" "$U/p/m1.img"
if sha256sum -c --quiet "$U/img.before" > /dev/null 2>&1 && [ ! -e "$BK" ]; then
	ktap_ok "upgrade: refusals and --dry-run write nothing (images unchanged, no backup)"
else
	ktap_fail "upgrade: refusals and --dry-run write nothing (images unchanged, no backup)"
fi

expect_rc 0 "" "upgrade of the mkimage pool: exit 0" \
	"$SP" upgrade --no-scan --backup "$BK" --weight-space 30 --min-domains 1 \
	"$U/p/m1.img" "$U/p/m0.img"
if [ "$(sed -n '1p;$p' "$BK" | head -c 27)" = "slicepool-upgrade-backup 1" ] &&
   grep -qx "member 0 m0 21212121-2121-2121-2121-212121212121 16777216 1048576 [0-9a-f]\{8\} $U/p/m0.img" "$BK" &&
   grep -qx "member 1 m1 22222222-2222-2222-2222-222222222222 16777216 1048576 [0-9a-f]\{8\} $U/p/m1.img" "$BK" &&
   [ "$(stat -c %s "$BK")" -gt $((2 << 20)) ]; then
	ktap_ok "upgrade: the backup names the devices and sizes and holds both areas"
else
	ktap_fail "upgrade: the backup names the devices and sizes and holds both areas"
	head -8 "$BK" | sed 's/^/# /'
fi
data_sum "$U/p" > "$U/data.after"
if cmp -s "$U/data.before" "$U/data.after" && [ "$(wc -l < "$U/data.after")" -eq 2 ]; then
	ktap_ok "upgrade: both data areas byte-identical (sha256)"
else
	ktap_fail "upgrade: both data areas byte-identical (sha256)"
fi
sha256sum "$U"/p/*.img > "$U/img.v3"
run "$SP" --json inspect "$U/p/m0.img" "$U/p/m1.img"
cp "$TMP/out" "$U/v3.json"
json_check "inspect v3: format 3, verdict read-write, winner seq 1, members, domains and settings kept" \
	'(lambda p: p["format"] == 3 and p["verdict"] == "read-write" and p["mode"] == "read-only" and p["winner"]["seq"] == 1 and p["name"] == "tp" and p["uuid"] == "11111111-1111-1111-1111-111111111111" and [(m["id"], m["name"], m["uuid"][:8], m["domain"], m["slices"], m["used_slices"], m["data_offset"]) for m in p["members"]] == [(0, "m0", "21212121", "dA", 15, 2, 2048), (1, "m1", "22222222", "dB", 15, 2, 2048)] and [(x["label"], x["members"]) for x in p["domains"]] == [("dA", ["m0"]), ("dB", ["m1"])] and (p["weight_space"], p["weight_load"], p["min_domains"]) == (30, 50, 1) and [x["role"] for x in p["devices"]] == ["in-sync", "in-sync"] and p["moves"] == [])(d["pools"][0])'
maps "$U/v3.json" > "$U/v3.maps"
if [ -s "$U/f2.maps" ] && cmp -s "$U/f2.maps" "$U/v3.maps"; then
	ktap_ok "upgrade: v3 has the same volumes (name, uuid, size) and maps as format 2"
else
	ktap_fail "upgrade: v3 has the same volumes (name, uuid, size) and maps as format 2"
	diff "$U/f2.maps" "$U/v3.maps" | sed 's/^/# /'
fi
inspect_text v3 'format 3, read-only (verdict read-write), winner seq 1 hash [0-9a-f]\{16\}' \
	"$U/p/m0.img" "$U/p/m1.img"
if sha256sum -c --quiet "$U/img.v3" > /dev/null 2>&1; then
	ktap_ok "inspect v3 writes nothing (images unchanged)"
else
	ktap_fail "inspect v3 writes nothing (images unchanged)"
fi
# assemble --dry-run of the upgraded (format-3) pool: the plan, then a
# member left out (read-only, exit 3, named); nothing written.
export SLICEPOOL_CONFIGFS=$TMP/none
expect_rc 0 "" "assemble --dry-run of a v3 pool, all members: exit 0" "$SP" --json assemble --dry-run "$U/p/m1.img" "$U/p/m0.img"
json_check "assemble --dry-run v3: pool, members with recorded domains, volume, read-write" \
	'(lambda p: p["format"] == 3 and p["name"] == "tp" and p["uuid"] == "11111111-1111-1111-1111-111111111111" and p["slice_mb"] == 1 and p["mode"] == "read-write" and not p["degraded"] and p["absent_members"] == [] and "reclaim" not in p and "orphaned_slices" not in p and [(m["id"], m["name"], m["domain"], m["status"], m["used_slices"], m["result"], m["device"].rsplit("/", 1)[1]) for m in p["members"]] == [(0, "m0", "dA", "current", 2, "planned", "m0.img"), (1, "m1", "dB", "current", 2, "planned", "m1.img")] and [(v["name"], v["slices"], v["found_slices"], v["missing_slices"], v["result"]) for v in p["volumes"]] == [("v1", 4, 4, 0, "planned")] and p["changes"] == 4 and d["refused"] == [])(d["pools"][0])'
expect_rc 3 "" "assemble --dry-run of a v3 pool, a member missing: exit 3" "$SP" --json assemble --dry-run "$U/p/m0.img"
json_check "assemble --dry-run v3: read-only, m1 absent, its slices missing, nothing to bind" \
	'(lambda p: p["mode"] == "read-only" and p["degraded"] and p["absent_members"] == ["m1"] and [(m["name"], m["result"], m["device"]) for m in p["members"]][1] == ("m1", "absent", None) and p["volumes"][0]["missing"] == [1, 3] and p["volumes"][0]["result"] == "read-only")(d["pools"][0])'
run "$SP" assemble --dry-run "$U/p/m0.img"
if grep -qx "  ABSENT: member m1 (id 1, domain dB, uuid 22222222-2222-2222-2222-222222222222): no device found" "$TMP/out" &&
   grep -q "^  READ-ONLY: pool tp .*'slicepool pool force tp'" "$TMP/out" &&
   ! grep -q "would bind" "$TMP/out"; then
	ktap_ok "assemble --dry-run v3 text: the absent member named, the hint to force, no bind"
else
	ktap_fail "assemble --dry-run v3 text: the absent member named, the hint to force, no bind"
	sed 's/^/# /' "$TMP/out"
fi
cp "$U/p/m0.img" "$U/m0copy.img"
run "$SP" --json assemble --dry-run "$U/p/m0.img" "$U/p/m1.img" "$U/m0copy.img"
json_check "assemble --dry-run v3: a member found twice is used once" \
	'len(d["pools"]) == 1 and len(d["pools"][0]["members"]) == 2 and [x["device"].rsplit("/", 1)[1] for x in d["duplicates"]] == ["m0copy.img"]'
rm -f "$U/m0copy.img"
# m1 forced out (a forced assembly of m0 alone, as 'pool force'): the pool
# is read-write on m0, m1's device is left alone, its slices missing.
cp -a "$U/p" "$U/f"
"$UNIT" md3force "$U/f/m0.img" > /dev/null
run "$SP" --json assemble --dry-run "$U/f/m0.img" "$U/f/m1.img"
if [ $RC -eq 3 ]; then
	ktap_ok "assemble --dry-run v3, a member forced out: exit 3 (slices missing)"
else
	ktap_fail "assemble --dry-run v3, a member forced out: exit 3 (got $RC)"
	sed 's/^/# /' "$TMP/err"
fi
json_check "assemble --dry-run v3: read-write, m1 forced out and not enabled, its slices missing" \
	'(lambda p: p["mode"] == "read-write" and p["absent_members"] == [] and [(m["name"], m["status"], m["result"]) for m in p["members"]] == [("m0", "current", "planned"), ("m1", "stale", "forced-out")] and p["volumes"][0]["missing"] == [1, 3] and p["volumes"][0]["result"] == "planned" and d["refused"] == [])(d["pools"][0])'
rm -rf "$U/f"
# m2 added and removed ('member remove'): its device is skipped and named,
# not refused (exit 0); found alone (no device of a member of the pool),
# the pool is not assembled at all: its state would come from m2's own
# journal as of its removal, and m2 is no longer part of the pool.
cp -a "$U/p" "$U/r"
truncate -s 16M "$U/r/m2.img"
"$UNIT" md3rm "$U/r/m2.img" "$U/r/m0.img" "$U/r/m1.img" | sed 's/^/# /'
RMWHY="member m2 was removed from pool tp (wipe blocks 0 and 1 to reuse the device)"
expect_rc 0 "" "assemble --dry-run v3, a removed member's device found: exit 0" "$SP" --json assemble --dry-run "$U/r/m0.img" "$U/r/m2.img" "$U/r/m1.img"
json_check "assemble --dry-run v3: the removed member's device in removed_devices, none refused, m0 and m1 current" \
	'd["removed_devices"] == [{"device": "'"$U/r/m2.img"'", "reason": "'"$RMWHY"'"}] and d["refused"] == [] and [(m["name"], m["status"]) for m in d["pools"][0]["members"]] == [("m0", "current"), ("m1", "current")]'
run "$SP" assemble --dry-run "$U/r/m0.img" "$U/r/m2.img" "$U/r/m1.img"
if [ $RC -eq 0 ] && grep -qxF "skipped $U/r/m2.img: $RMWHY" "$TMP/out"; then
	ktap_ok "assemble --dry-run v3 text: the removed member's device skipped, named"
else
	ktap_fail "assemble --dry-run v3 text: the removed member's device skipped, named"
	sed 's/^/# /' "$TMP/out"
fi
expect_rc 0 "" "assemble --dry-run v3 of a removed member's device alone: exit 0" "$SP" --json assemble --dry-run "$U/r/m2.img"
json_check "... no pool, the device skipped, none refused" \
	'd["pools"] == [] and d["removed_devices"] == [{"device": "'"$U/r/m2.img"'", "reason": "'"$RMWHY"'"}] and d["refused"] == []'
run "$SP" assemble --dry-run "$U/r/m2.img"
if [ $RC -eq 0 ] && grep -qxF "skipped $U/r/m2.img: $RMWHY" "$TMP/out" &&
   ! grep -q "^pool " "$TMP/out"; then
	ktap_ok "assemble --dry-run v3 text, the removed member's device alone: skipped, no pool"
else
	ktap_fail "assemble --dry-run v3 text, the removed member's device alone: skipped, no pool"
	sed 's/^/# /' "$TMP/out"
fi
# Not a dry run, on an empty configfs: no step is taken (the report names
# every step; setting pool tp up would mkdir it, then fail on
# metadata_format, which a plain directory lacks) and nothing is left.
mkdir "$TMP/rmcfs"
run env SLICEPOOL_CONFIGFS="$TMP/rmcfs" "$SP" assemble "$U/r/m2.img"
if [ $RC -eq 0 ] && [ ! -s "$TMP/err" ] &&
   [ "$(cat "$TMP/out")" = "found 0 member(s) of 0 pool(s)
skipped $U/r/m2.img: $RMWHY" ] && [ -z "$(ls -A "$TMP/rmcfs")" ]; then
	ktap_ok "assemble v3 of a removed member's device alone: exit 0, no pool, nothing done in configfs"
else
	ktap_fail "assemble v3 of a removed member's device alone: exit 0, no pool, nothing done in configfs (exit $RC)"
	sed 's/^/# /' "$TMP/out"
	sed 's/^/# /' "$TMP/err"
	find "$TMP/rmcfs" -mindepth 1 | sed 's/^/# /'
fi
rm -rf "$TMP/rmcfs"
rm -rf "$U/r"
unset SLICEPOOL_CONFIGFS
if sha256sum -c --quiet "$U/img.v3" > /dev/null 2>&1; then
	ktap_ok "assemble --dry-run v3 writes nothing (images unchanged)"
else
	ktap_fail "assemble --dry-run v3 writes nothing (images unchanged)"
fi
cp -a "$U/p" "$U/w"
run "$UNIT" md3asm "$U/w/m0.img" "$U/w/m1.img"
if [ $RC -eq 0 ] && [ "$(cat "$TMP/out")" = "mode 2 seq 1
  map v1: 0=m0:0 1=m1:0 2=m0:1 3=m1:1" ]; then
	ktap_ok "md3_assemble (writing) of the upgraded pool: read-write, the format-2 map"
else
	ktap_fail "md3_assemble (writing) of the upgraded pool: read-write, the format-2 map"
	sed 's/^/# /' "$TMP/out"
fi
# A redundant volume (issue 15): inspect shows copies and stale legs.
run "$UNIT" md3copies "$U/w/m0.img" "$U/w/m1.img"
run "$SP" --json inspect "$U/w/m0.img" "$U/w/m1.img"
json_check "inspect v3: a volume of copies 2 with a stale leg, the others copies 1" \
	'[(v["name"], v["copies"], v["stale_legs"]) for v in d["pools"][0]["volumes"]] == [("v1", 1, 0), ("r2", 2, 1)] and [(x["leg"], x["member"], x["stale"]) for x in d["pools"][0]["volumes"][1]["legs"]] == [(0, "m0", False), (1, "m1", True)] and "legs" not in d["pools"][0]["volumes"][0]'
run "$SP" inspect "$U/w/m0.img" "$U/w/m1.img"
if [ $RC -eq 0 ] && grep -qxE '  legs r2 \(copies 2, 1 stale\): 0=m0:[0-9]+,m1:[0-9]+\(stale\)' "$TMP/out"; then
	ktap_ok "inspect v3 text: the legs of the volume of copies 2, the stale one marked"
else
	ktap_fail "inspect v3 text: the legs of the volume of copies 2, the stale one marked"
	sed 's/^/# /' "$TMP/out"
fi
expect_rc 1 "is already in metadata format 3: nothing to upgrade" \
	"upgrade of an upgraded pool: refused" \
	"$SP" upgrade --no-scan --backup "$U/b2" "$U/p/m0.img" "$U/p/m1.img"
cp -a "$U/orig" "$U/q"
cp "$BK" "$U/q/backup"
expect_rc 1 "exists: it may be the backup of an interrupted upgrade (run --resume --backup $U/q/backup)" \
	"upgrade refuses to overwrite an existing backup file" \
	"$SP" upgrade --no-scan --backup "$U/q/backup" "$U/q/m0.img" "$U/q/m1.img"
expect_rc 1 "member m1 (recorded as $U/p/m1.img, 16777216 bytes) was not given" \
	"--resume with a member missing: refused, the member named" \
	"$SP" upgrade --resume --backup "$BK" "$U/p/m0.img"
expect_rc 1 "is no member of the backup's pool tp" \
	"--restore with another device: refused" \
	"$SP" upgrade --restore "$BK" "$U/p/m0.img" "$U/p/m1.img" "$I/fm0.img"
expect_rc 0 "" "--restore: exit 0" "$SP" upgrade --restore "$BK" "$U/p/m1.img" "$U/p/m0.img"
if cmp -s "$U/p/m0.img" "$U/orig/m0.img" && cmp -s "$U/p/m1.img" "$U/orig/m1.img"; then
	ktap_ok "--restore gives back byte-identical images"
else
	ktap_fail "--restore gives back byte-identical images"
fi

# An upgrade stopped after its k-th member write (the test knob of
# md3dev.c), then --resume on one copy and --restore on another.
points=0 bad=""
for k in $(seq 1 20); do
	rm -rf "$U/kr"
	k_upgrade "$k"
	[ $rc -eq 0 ] && break
	[ $rc -eq 99 ] || { bad="$bad k=$k:stop-rc=$rc"; break; }
	points=$((points + 1))
	cp -a "$U/k" "$U/kr"
	"$SP" upgrade --resume --backup "$U/k/backup" "$U/k/m1.img" "$U/k/m0.img" \
		> /dev/null 2> "$U/err" || bad="$bad k=$k:resume($(cat "$U/err"))"
	"$SP" inspect "$U/k/m0.img" "$U/k/m1.img" > "$U/k.txt" ||
		bad="$bad k=$k:inspect"
	grep '^  map ' "$U/k.txt" | cmp -s - "$U/f2.txtmaps" || bad="$bad k=$k:maps"
	for x in m0 m1; do
		cmp -s -i 1048576 "$U/k/$x.img" "$U/orig/$x.img" || bad="$bad k=$k:data"
	done
	"$SP" upgrade --restore "$U/kr/backup" "$U/kr/m0.img" "$U/kr/m1.img" \
		> /dev/null 2>&1 || bad="$bad k=$k:restore"
	cmp -s "$U/kr/m0.img" "$U/orig/m0.img" && cmp -s "$U/kr/m1.img" "$U/orig/m1.img" ||
		bad="$bad k=$k:restored-bytes"
done
# 2 superblocks zeroed, then per member 2 label slots, 1 checkpoint block
# and 2 labels: 12 writes, so 12 interrupted states before it completes.
if [ "$points" -eq 12 ] && [ -z "$bad" ]; then
	ktap_ok "an upgrade interrupted after each of its 12 writes: --resume finishes it (maps, data), --restore undoes it (bytes)"
else
	ktap_fail "an upgrade interrupted after each of its writes ($points points,$bad)"
fi
# Stopped in phase A: the marked member is named as an interrupted upgrade.
k_upgrade 1
expect_rc 1 "m0.img: an upgrade of its pool to format 3 was interrupted: finish it with 'slicepool upgrade --resume" \
	"upgrade of a member an interrupted upgrade marked: refused, --resume named" \
	"$SP" upgrade --no-scan --backup "$U/k/b2" "$U/k/m0.img" "$U/k/m1.img"
run "$SP" --json inspect "$U/k/m0.img" "$U/k/m1.img"
json_check "inspect names a member an interrupted upgrade marked" \
	'd["devices"][0]["format"] is None and "was interrupted" in d["devices"][0]["problem"] and d["devices"][1]["format"] == 2'

# Stopped in the middle of a --restore: --restore again, or --resume.
k_upgrade 0
cp -a "$U/k" "$U/kr"
SLICEPOOL_TEST_STOP_AFTER_WRITES=300 "$SP" upgrade --restore "$U/k/backup" \
	"$U/k/m0.img" "$U/k/m1.img" > /dev/null 2>&1
rc=$?
"$SP" upgrade --restore "$U/k/backup" "$U/k/m0.img" "$U/k/m1.img" > /dev/null 2>&1
if [ $rc -eq 99 ] && cmp -s "$U/k/m0.img" "$U/orig/m0.img" && cmp -s "$U/k/m1.img" "$U/orig/m1.img"; then
	ktap_ok "--restore interrupted in the second member: --restore again gives the original bytes"
else
	ktap_fail "--restore interrupted in the second member: --restore again gives the original bytes (stop rc $rc)"
fi

# A torn write: stopped after write 10, m1's checkpoint block (block 2:
# its payload spans sectors 16 and 17), which then reads torn: sector 17
# as before (zero, as in the backup), sector 16 new.
k_upgrade 10
cmp -s -n 512 -i $((17 * 512)) "$U/k/m1.img" "$U/orig/m1.img" && rc="$rc (sector 17 not written)"
dd if="$U/orig/m1.img" of="$U/k/m1.img" bs=512 skip=17 seek=17 count=1 \
	conv=notrunc status=none
cp -a "$U/k" "$U/kr"
printf 'X' | dd of="$U/kr/m1.img" bs=1 seek=$((8192 + 100)) conv=notrunc status=none
run "$SP" upgrade --resume --backup "$U/kr/backup" "$U/kr/m0.img" "$U/kr/m1.img"
rc2=$RC
grep -qF "member m1 (recorded as $U/k/m1.img, 16777216 bytes) was not given, or the device given for it holds other data" "$TMP/err" || rc2=x
"$SP" upgrade --resume --backup "$U/k/backup" "$U/k/m0.img" "$U/k/m1.img" > "$TMP/out" 2>&1
rc3=$?
"$SP" inspect "$U/k/m0.img" "$U/k/m1.img" | grep '^  map ' > "$U/k.txt"
if [ "$rc" = 99 ] && [ "$rc2" = 1 ] && [ $rc3 -eq 0 ] &&
   grep -q 'member 1 m1 .*(found partial)' "$TMP/out" && cmp -s "$U/k.txt" "$U/f2.txtmaps"; then
	ktap_ok "--resume takes a torn block (old and new sectors) as partial, and refuses a block that is neither"
else
	ktap_fail "--resume with a torn block (stop $rc, corrupt $rc2, torn $rc3)"
	sed 's/^/# /' "$TMP/out"
fi

# --resume takes the settings the interrupted upgrade was given (backup).
k_upgrade 8 --weight-load 20
head -c $(($(stat -c %s "$U/k/backup") - 100)) "$U/k/backup" > "$U/k/short"
expect_rc 1 "is not a complete slicepool upgrade backup" \
	"--resume with a truncated backup: refused" \
	"$SP" upgrade --resume --backup "$U/k/short" "$U/k/m0.img" "$U/k/m1.img"
"$SP" upgrade --resume --backup "$U/k/backup" "$U/k/m0.img" "$U/k/m1.img" > /dev/null 2>&1
run "$SP" --json inspect "$U/k/m0.img" "$U/k/m1.img"
if [ $rc -eq 99 ]; then
	json_check "--resume keeps the settings of the interrupted upgrade (--weight-load 20)" \
		'd["pools"][0]["weight_load"] == 20 and d["pools"][0]["weight_space"] == 50 and d["pools"][0]["verdict"] == "read-write"'
else
	ktap_fail "--resume keeps the settings of the interrupted upgrade (stop rc $rc)"
fi

# Fences: the fm pool's interrupted attempt is an orphan, not a map entry.
mkpool "$U/fm" fm0 fm1
"$SP" --json inspect "$U/fm/fm0.img" "$U/fm/fm1.img" > "$U/fm2.json"
run "$SP" upgrade --no-scan --backup "$U/fm/backup" "$U/fm/fm0.img" "$U/fm/fm1.img"
"$SP" --json inspect "$U/fm/fm0.img" "$U/fm/fm1.img" > "$U/fm3.json"
if [ $RC -eq 0 ] && [ "$(maps "$U/fm2.json")" = "$(maps "$U/fm3.json")" ] &&
   maps "$U/fm3.json" | grep -q ' m0:0 m1:0 m0:1 m1:1 m0:2$'; then
	ktap_ok "upgrade of a pool with a fence: the map of the claims (logical 4 on m0), the fenced orphan dropped"
else
	ktap_fail "upgrade of a pool with a fence (rc $RC)"
	maps "$U/fm3.json" | sed 's/^/# /'
fi

ktap_finish
