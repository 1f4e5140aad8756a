#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the slicepool tool's guest selftests (sourced, not run).
# The tests drive the real dm-slicepool module through tools/slicepool and
# check the results in configfs, with dmsetup and on the devices.

. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lib/pool.sh"

SP=$SP_TOP/tools/slicepool/slicepool
PY=/usr/bin/python3
OUT=$(mktemp)
ERR=$(mktemp)
trap 'rm -f "$OUT" "$OUT.expr" "$ERR"' EXIT

[ -x "$SP" ] || sp_die "$SP is not built (make -C tools/slicepool)"

# pool3 [--domains A,B,C] <pool> <pool create options...>: a pool over
# the first three disks, members m0, m1 and m2 in domains dA, dB and dC
# (or A, B and C).
pool3() {
	local p i
	local -a doms=(dA dB dC)
	while :; do
		case $1 in
		--domains) IFS=, read -r -a doms <<< "$2" ;;
		*) break ;;
		esac
		shift 2
	done
	p=$1
	shift
	sp pool create "$p" "$@" || sp_die "pool create $p"
	for i in 0 1 2; do
		sp member add "$p" "m$i" --path "${DISKS[$i]}" --domain "${doms[$i]}" ||
			sp_die "member add m$i"
	done
}

# two_volumes <pool> <MiB of v1> <MiB of v2>: volumes v1 and v2 of the
# pool, filled with random data; sets sum1, sum2 (their sums), map1, map2
# (their maps) and uuid (the pool's).
two_volumes() {
	local i mb=("" "$2" "$3")
	for i in 1 2; do
		sp vol create "$1/v$i" --size "${mb[$i]}M" || sp_die "vol create v$i"
		fill "/dev/mapper/$1-v$i" "${mb[$i]}"
	done
	# shellcheck disable=SC2034
	{
		sum1=$(sum_dev "/dev/mapper/$1-v1" "$2")
		sum2=$(sum_dev "/dev/mapper/$1-v2" "$3")
		map1=$(cat "$SP_CFG/$1/volumes/v1/map")
		map2=$(cat "$SP_CFG/$1/volumes/v2/map")
		uuid=$(attr "$1/uuid")
	}
}

# fill <device> <MiB>: random data over its first MiB
fill() {
	dd if=/dev/urandom of="$1" bs=1M count="$2" oflag=direct status=none ||
		sp_die "cannot write $1"
}

# sp <args...>: run the tool; stdout in $OUT, stderr in $ERR, exit in $RC.
sp() {
	"$SP" "$@" > "$OUT" 2> "$ERR"
	RC=$?
	if [ $RC -ne 0 ]; then
		sed 's/^/# slicepool: /' "$ERR"
	fi
	return $RC
}

# sp_rc <want> <desc> <args...>: ok when the tool exits with <want>.
sp_rc() {
	local want=$1 desc=$2
	shift 2
	"$SP" "$@" > "$OUT" 2> "$ERR"
	RC=$?
	sed 's/^/# stderr: /' "$ERR"
	if [ $RC -eq "$want" ]; then
		ktap_ok "$desc"
	else
		ktap_fail "$desc (exit $RC, want $want)"
	fi
}

# err_has <text>: the last command's stderr contains <text>.
err_has() {
	grep -qF -- "$1" "$ERR"
}

# json <python expression over d>: evaluated on $OUT; true/false.  One
# python3 per test answers every call (under TCG a python3 takes seconds
# to start): json_server reads the path of the JSON and the path of a file
# holding the expression, prints its remarks as "# ..." lines and ends
# each answer with "true" or "false".
JSON_SERVER='
import json, sys
for path in sys.stdin:
    with open(sys.stdin.readline().rstrip("\n")) as f:
        expr = f.read()
    try:
        with open(path.rstrip("\n")) as f:
            d = json.load(f)
        if eval(expr):
            print("true")
            continue
        print("# false: " + expr)
        print("# json: " + json.dumps(d)[:600])
    except ValueError as e:
        print("# invalid JSON: %s" % e)
    except Exception as e:
        print("# %s: %s" % (type(e).__name__, e))
    print("false")
'
JSON_W=""
json() {
	local line f=$OUT.$BASHPID
	# (Started in a subshell, the server is that subshell's only.)
	if [ -z "$JSON_W" ]; then
		mkfifo "$f.in" "$f.out" || return 1
		"$PY" -u -c "$JSON_SERVER" < "$f.in" > "$f.out" &
		exec {JSON_W}> "$f.in" {JSON_R}< "$f.out"
		rm -f "$f.in" "$f.out"
	fi
	printf '%s' "$1" > "$OUT.expr"
	printf '%s\n%s\n' "$OUT" "$OUT.expr" >&"$JSON_W"
	while IFS= read -r line <&"$JSON_R"; do
		case $line in
		true) return 0 ;;
		false) return 1 ;;
		*) echo "$line" ;;
		esac
	done
	echo "# the JSON checker ended"
	return 1
}

# attr <path under $SP_CFG>
attr() {
	cat "$SP_CFG/$1"
}

sum_dev() {	# sum_dev <device> <MiB>
	dd if="$1" bs=1M count="$2" iflag=direct status=none | sha256sum
}

# cli_start N PLAN [DM...]: sp_start N PLAN, the first N disks wiped, a
# work directory $W, and an EXIT trap that tears the pools down, removes
# the test's own dm devices DM and the work and output files.
cli_start() {
	local n=$1 plan=$2
	shift 2
	CLI_DM=("$@")
	sp_start "$n" "$plan"
	sp_wipe "${DISKS[@]:0:n}"
	W=$(mktemp -d)
	trap cli_cleanup EXIT
}

cli_cleanup() {
	sp_teardown
	[ ${#CLI_DM[@]} -eq 0 ] || dmsetup remove --retry "${CLI_DM[@]}" 2> /dev/null
	rm -rf "$W" "$OUT" "$ERR"
}
