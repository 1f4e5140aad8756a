#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The slicepool tool's remote commands on the host, without a kernel:
# 'slicepool remote request|resize|release|list', 'peer list' and 'export list',
# text and --json, against real slicepool-agent daemons on 127.0.0.1 (a
# lends from a fake slicepool configfs tree, b borrows, c knows only b and
# learns a from it), and against hand-written state files and a fake nvmet
# tree (node x, no daemon).  Also: how request and release run the agent
# (its argument vector, checked with a stand-in that records it; a config
# path with spaces and shell syntax), and bad input: unknown subcommands,
# bad sizes, names and grants, missing arguments, a missing or bad
# configuration, a missing or unusable state directory, a corrupt ledger,
# an agent that cannot be run.  Usage errors exit 2 without running the
# agent; the rest exit 1 with the reason.
. "$SP_TOP/selftests/remote/lib.sh"
. "$SP_TOP/selftests/lib/json.sh"

AGENT=$SP_TOP/nvmet-remote-ns/agent/slicepool-agent
SP=$SP_TOP/tools/slicepool/slicepool
if [ ! -x "$AGENT" ]; then
	make -s -C "$SP_TOP" agent || sp_die "cannot build $AGENT"
fi
if [ ! -x "$SP" ]; then
	make -s -C "$SP_TOP/tools/slicepool" slicepool || sp_die "cannot build $SP"
fi
command -v python3 > /dev/null || sp_skip "python3 is needed to check the JSON"
T=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
# A shell that ran what the tool passes would create files here.
cd "$T" || sp_die "cannot enter $T"

export SLICEPOOL_AGENT=$AGENT
remote_fake_tree "$T"

PC=$((PA + 2))
# b's configuration lives where a shell would split or run its path.
BDIR="$T/conf dir;\$(touch pwned)"
mkdir -p "$BDIR"
CA=$T/a.conf
CB=$BDIR/b.conf
CC=$T/c.conf
CX=$T/x.conf

# write_conf <file> <node> <port> <state dir> [lines...]
write_conf() {
	local f=$1 node=$2 port=$3 dir=$4
	shift 4
	{
		echo "node $node"
		echo "listen 127.0.0.1 $port"
		for p in a b c x; do
			[ "$p" = "$node" ] || echo "peer_key $p $T/key"
		done
		echo "state_dir $dir"
		echo "hostnqn $HOSTNQN"
		printf '%s\n' "$@"
	} > "$f"
}

# sp <args...>: runs the tool; RC, and its output in $T/out and $T/err.
sp() {
	"${RUNAS[@]}" "$SP" "$@" > "$T/out" 2> "$T/err"
	RC=$?
}

# For an unreadable directory: mode 000, and for root the tool runs as
# nobody (setpriv), which cannot read root's directories of mode 0700.
RUNAS=()
unreadable() {
	if [ "$(id -u)" -ne 0 ]; then
		chmod 000 "$1"
	elif command -v setpriv > /dev/null; then
		chmod 700 "$1"
		chmod 755 "$T"
		RUNAS=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	else
		return 1
	fi
}
readable() {
	chmod 755 "$1"
	RUNAS=()
}

show() {
	echo "# exit $RC"
	sed 's/^/# out: /' "$T/out" | head -n 30
	sed 's/^/# err: /' "$T/err" | head -n 10
}

# expect <description> <exit wanted> <stderr text or ''> <args...>
expect() {
	local desc=$1 want=$2 msg=$3
	shift 3
	sp "$@"
	if [ "$RC" -eq "$want" ] && { [ -z "$msg" ] || grep -qF -- "$msg" "$T/err"; }; then
		ktap_ok "$desc"
	else
		show
		ktap_fail "$desc"
	fi
}

# usage <description> <stderr text> <args...>: exit 2, nothing on stdout,
# the agent not run.
usage() {
	local desc=$1 msg=$2
	shift 2
	rm -f "$T/stub.args"
	sp "$@"
	if [ "$RC" -eq 2 ] && grep -qF -- "$msg" "$T/err" && [ ! -s "$T/out" ] &&
	   [ ! -e "$T/stub.args" ]; then
		ktap_ok "$desc"
	else
		show
		[ ! -e "$T/stub.args" ] || echo "# the agent was run"
		ktap_fail "$desc"
	fi
}

# json <description> <python expression over d>: on the last $T/out,
# which must be exactly one JSON document, after exit 0.
json() {
	if [ "$RC" -eq 0 ] && sp_json_holds "$T/out" "$2"
	then
		ktap_ok "$1"
	else
		show
		ktap_fail "$1"
	fi
}

# text <description> <extended regex>: a line of the last $T/out, after exit 0.
text() {
	if [ "$RC" -eq 0 ] && grep -qE -- "$2" "$T/out"; then
		ktap_ok "$1"
	else
		show
		ktap_fail "$1"
	fi
}

# wait_json <args...> -- <python expression>: up to 15 s for it to hold.
wait_json() {
	local args=() t=0
	while [ "$1" != "--" ]; do args+=("$1"); shift; done
	shift
	while :; do
		sp "${args[@]}"
		if [ "$RC" -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$T/out" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.3
		t=$((t + 1))
		[ $t -lt 50 ] || return 1
	done
}

ktap_header
ktap_plan 89

"$AGENT" keygen "$T/key" || sp_die "keygen failed"
write_conf "$CA" a "$PA" "$T/state-a" "pool pa" "heartbeat 1" \
	"peer b 127.0.0.1 $PB"
write_conf "$CB" b "$PB" "$T/state-b" "pool pb" "lend no" "heartbeat 1" \
	"heartbeat_timeout 3" "io_timeout 1" "peer a 127.0.0.1 $PA"
write_conf "$CC" c "$PC" "$T/state-c" "lend no" "heartbeat 1" \
	"peer b 127.0.0.1 $PB"

# ---------------------------------------------------------------- usage
# A stand-in for the agent that records its arguments, one a line.
cat > "$T/stub" <<'EOF'
#!/bin/bash
printf '%s\n' "$@" > "$STUB_DIR/stub.args"
if [ "$STUB_RC" != 0 ]; then
	echo "slicepool-agent: stub refused: no space" >&2
	exit "$STUB_RC"
fi
if [ "$3" = borrow ]; then
	peer=a
	[ $# -eq 5 ] && peer=$4
	echo "grant 00000000000000ab"
	echo "peer $peer"
	echo "size ${!#}"
	echo "member rm-00000000000000ab"
	echo "subnqn nqn.2026-11.io.slicepool:grant:$peer:00000000000000ab"
	echo "uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427"
elif [ "$3" = resize ]; then
	printf '%s\n' "grant $4" "peer a" "old_size 268435456" "size $5" \
		"member rm-$4" "device /dev/nvme1n1" "added_slices 15" \
		"total_slices 31" "free_slices 16" "max_slices 31" "unusable_slices 1"
else
	echo "released $4"
fi
EOF
chmod +x "$T/stub"
export STUB_DIR=$T STUB_RC=0 SLICEPOOL_AGENT=$T/stub

usage "remote without a subcommand: exit 2" "'remote' needs a subcommand" remote
usage "an unknown remote subcommand: exit 2" "unknown command 'remote frob'" remote frob
usage "an unknown peer subcommand: exit 2" "unknown command 'peer show'" peer show
usage "export list takes no argument: exit 2" "unexpected argument 'x'" export list x
usage "remote request needs --size" "--size SIZE is required" \
	remote request a --agent-config "$CB"
usage "remote request: a size that is not one" "'12k3' is not a size" \
	remote request a --size 12k3 --agent-config "$CB"
usage "remote request: a size that is not 4 KiB aligned" \
	"1000 is not a multiple of 4 KiB" remote request a --size 1000 --agent-config "$CB"
usage "remote request: a size of 0" "must not be 0" \
	remote request --size 0 --agent-config "$CB"
usage "remote request: more than 1 PiB" "more than 1 PiB" \
	remote request a --size 1025T --agent-config "$CB"
usage "remote request: a peer name with shell syntax" "bad peer name 'a;touch pwned'" \
	remote request 'a;touch pwned' --size 64M --agent-config "$CB"
usage "remote request: two peers" "unexpected argument 'b'" \
	remote request a b --size 64M --agent-config "$CB"
usage "remote release without a grant" "missing argument" \
	remote release --agent-config "$CB"
usage "remote release: a grant that is not 16 hex digits" "bad grant 'xyz'" \
	remote release xyz --agent-config "$CB"
usage "remote release: grant 0" "bad grant '0000000000000000'" \
	remote release 0000000000000000 --agent-config "$CB"
usage "remote resize without a grant" "missing argument" \
	remote resize --size 512M --agent-config "$CB"
usage "remote resize needs --size" "--size SIZE is required" \
	remote resize 00000000000000ab --agent-config "$CB"
usage "remote resize: a grant that is not 16 hex digits" "bad grant 'ab;id'" \
	remote resize 'ab;id' --size 512M --agent-config "$CB"
usage "remote resize: two grants" "unexpected argument" \
	remote resize 00000000000000ab 00000000000000ac --size 512M --agent-config "$CB"
usage "remote resize: a size that is not one" "'512Q' is not a size" \
	remote resize 00000000000000ab --size 512Q --agent-config "$CB"
usage "remote resize: a size that is not 4 KiB aligned" "6000 is not a multiple of 4 KiB" \
	remote resize 00000000000000ab --size 6000 --agent-config "$CB"
usage "remote resize: a size of 0" "must not be 0" \
	remote resize 00000000000000ab --size 0 --agent-config "$CB"
usage "remote resize: more than 1 PiB" "more than 1 PiB" \
	remote resize 00000000000000ab --size 1025T --agent-config "$CB"
usage "remote list: an unknown option" "unknown option '--bogus'" remote list --bogus
usage "peer list: --agent-config without a value" "needs a value" peer list --agent-config

rm -f "$T/stub.args"
expect "a configuration that does not exist: exit 1, the agent not run" 1 \
	"cannot open $T/none.conf" remote request a --size 64M --agent-config "$T/none.conf"
ktap_check "... and the agent was not run" [ ! -e "$T/stub.args" ]
printf 'node x\nlisten 127.0.0.1 1\npeer_key a %s\nretries 3\n' "$T/key" > "$T/bad.conf"
expect "a bad configuration: exit 1 with its line" 1 "line 4: unknown key 'retries'" \
	peer list --agent-config "$T/bad.conf"

# request and release run the agent with an argument vector.
sp --json remote request a --size 1G --agent-config "$CB"
ktap_check "remote request runs 'slicepool-agent -c CONFIG borrow PEER BYTES'" \
	diff -u <(printf '%s\n' -c "$CB" borrow a 1073741824) "$T/stub.args"
json "remote request --json: the grant as the agent printed it" \
	'd == {"action": "remote request", "grant": "00000000000000ab", "peer": "a", "size": 1073741824, "pool": "pb", "member": "rm-00000000000000ab", "domain": "remote:a", "subnqn": "nqn.2026-11.io.slicepool:grant:a:00000000000000ab", "uuid": "1b4e28ba-2fa1-11d2-883f-0016d3cca427"}'
sp remote request --size 256M --agent-config "$CB"
ktap_check "remote request without a peer runs 'borrow BYTES'" \
	diff -u <(printf '%s\n' -c "$CB" borrow 268435456) "$T/stub.args"
text "remote request: text output" \
	"^borrowed grant 00000000000000ab: 256MiB from a$"
ktap_check "no shell ran what the tool passed (no file 'pwned')" [ ! -e "$T/pwned" ]
sp --json remote release 00000000000000AB --agent-config "$CB"
ktap_check "remote release runs 'slicepool-agent -c CONFIG release GRANT'" \
	diff -u <(printf '%s\n' -c "$CB" release 00000000000000ab) "$T/stub.args"
json "remote release --json" \
	'd["action"] == "remote release" and d["grant"] == "00000000000000ab" and d["peer"] is None'
sp --json remote resize 00000000000000AB --size 512M --agent-config "$CB"
ktap_check "remote resize runs 'slicepool-agent -c CONFIG resize GRANT BYTES'" \
	diff -u <(printf '%s\n' -c "$CB" resize 00000000000000ab 536870912) "$T/stub.args"
json "remote resize --json: what the agent printed" \
	'd == {"action": "remote resize", "grant": "00000000000000ab", "peer": "a", "old_size": 268435456, "size": 536870912, "pool": "pb", "member": "rm-00000000000000ab", "device": "/dev/nvme1n1", "added_slices": 15, "total_slices": 31, "free_slices": 16, "max_slices": 31, "unusable_slices": 1}'
sp remote resize 00000000000000ab --size 512M --agent-config "$CB"
text "remote resize: text output, with the slice the member cannot hold" \
	"^  note    1 slice\(s\) of the grant unusable: the member holds at most 31 slices \(max_slices\)$"
STUB_RC=3 expect "remote resize refused by the peer: exit 1, the agent's exit code shown" 1 \
	"slicepool-agent exited 3 (refused by the peer)" \
	remote resize 00000000000000ab --size 128M --agent-config "$CB"
STUB_RC=3 expect "an agent that refuses: exit 1, its reason and exit code shown" 1 \
	"stub refused: no space" remote request a --size 64M --agent-config "$CB"
ktap_check "... with 'refused by the peer'" grep -q "slicepool-agent exited 3 (refused by the peer)" "$T/err"
ktap_check "... and nothing on stdout" [ ! -s "$T/out" ]
SLICEPOOL_AGENT=$T/no-such-agent expect "an agent that cannot be run: exit 1" 1 \
	"cannot run $T/no-such-agent" remote release 00000000000000ab --agent-config "$CB"
export SLICEPOOL_AGENT=$AGENT

# ---------------------------------------------- state files of node x
# x: no daemon; its state files and nvmet tree are written here.
SX=$T/state-x
NX=$T/nvmet-x
write_conf "$CX" x 7999 "$SX" "pool px" "peer a 127.0.0.1 $PA" \
	"peer b 127.0.0.1 $PB"
mkdir -p "$SX"
PFX=nqn.2026-11.io.slicepool:grant:x
U1=1b4e28ba-2fa1-11d2-883f-0016d3cca401
U2=1b4e28ba-2fa1-11d2-883f-0016d3cca402
RID=0123456789abcdef0123456789abcdef
cat > "$SX/grants" <<EOF
# slicepool-agent grants lent v1
grant 0000000000000001 active b 268435456 268435456 rg-0000000000000001 $U1 $RID 1700000000 $HOSTNQN $PFX:0000000000000001 127.0.0.1 4420 1
grant 0000000000000002 active c 134217728 201326592 rg-0000000000000002 $U2 $RID 1700000001 $HOSTNQN $PFX:0000000000000002 127.0.0.1 4420 1
grant 0000000000000003 released b 67108864 67108864 rg-0000000000000003 - $RID 1700000002 $HOSTNQN $PFX:0000000000000003 127.0.0.1 4420 1
EOF
cat > "$SX/borrowed" <<EOF
# slicepool-agent grants borrowed v1
borrow 00000000000000a1 active a 268435456 0 rm-00000000000000a1 $U1 $RID 1700000000 $HOSTNQN nqn.2026-11.io.slicepool:grant:a:00000000000000a1 127.0.0.1 4420 1
borrow 00000000000000a2 connecting b 67108864 0 - - $RID 1700000001 $HOSTNQN nqn.2026-11.io.slicepool:grant:b:00000000000000a2 127.0.0.1 4421 1
borrow 0000000000000000 released a 1099511627776 0 - - $RID 1700000002 $HOSTNQN - - 0 0
EOF
# Learned peers: q is new; x itself and a (configured) are ignored.
printf 'peer q 127.0.0.2 7450\npeer x 127.0.0.9 1\npeer a 127.0.0.9 1\n' > "$SX/peers"
# Grant 1 exported (linked to port 4420, namespace enabled), grant 2's
# subsystem not linked, a stray subsystem of x's and another's.
mkdir -p "$NX/subsystems/$PFX:0000000000000001/namespaces/1" \
	"$NX/ports/4420/subsystems/$PFX:0000000000000001" \
	"$NX/subsystems/$PFX:0000000000000002/namespaces/1" \
	"$NX/subsystems/$PFX:00000000000000ee" \
	"$NX/subsystems/nqn.2014-08.org.example:other"
echo 1 > "$NX/subsystems/$PFX:0000000000000001/namespaces/1/enable"
echo 1 > "$NX/subsystems/$PFX:0000000000000002/namespaces/1/enable"

sp --json remote list --agent-config "$CX"
json "remote list --json: the grants borrowed and not given back" \
	'[g["grant"] for g in d["borrowed"]] == ["00000000000000a1", "00000000000000a2"] and d["node"] == "x" and d["pool"] == "px" and d["borrowed_bytes"] == 335544320'
json "remote list --json: a grant's fields" \
	'd["borrowed"][0] == {"grant": "00000000000000a1", "state": "active", "peer": "a", "size": 268435456, "uuid": "'"$U1"'", "hostnqn": "'"$HOSTNQN"'", "subnqn": "nqn.2026-11.io.slicepool:grant:a:00000000000000a1", "address": "127.0.0.1", "port": 4420, "nsid": 1, "created": 1700000000, "member": "rm-00000000000000a1", "domain": "remote:a"}'
json "remote list --json: empty values are null" \
	'd["borrowed"][1]["member"] is None and d["borrowed"][1]["uuid"] is None and d["borrowed"][1]["state"] == "connecting"'
sp --json remote list --all --agent-config "$CX"
json "remote list --all: also the released grant" \
	'len(d["borrowed"]) == 3 and d["borrowed"][2]["state"] == "released" and d["borrowed"][2]["port"] is None and d["borrowed_bytes"] == 335544320'
sp remote list --agent-config "$CX"
text "remote list: the summary line" "^node x, pool px: 2 grant\(s\) borrowed, 320MiB$"
text "remote list: a row per grant" \
	"^00000000000000a1 +active +a +256MiB +rm-00000000000000a1 +127\.0\.0\.1:4420 +nqn\.2026-11\.io\.slicepool:grant:a:00000000000000a1$"

NVMET_CONFIGFS=$NX sp --json export list --agent-config "$CX"
json "export list --json: the grants lent, exported or not" \
	'[(g["grant"], g["peer"], g["exported"]) for g in d["exports"]] == [("0000000000000001", "b", True), ("0000000000000002", "c", False)]'
json "export list --json: bytes taken, volume, totals" \
	'd["exports"][1]["bytes"] == 201326592 and d["exports"][1]["volume"] == "rg-0000000000000002" and d["lent_bytes"] == 469762048 and d["nvmet_port_id"] == 4420 and d["lending"] is True'
json "export list --json: the stray subsystem of x, not another's" \
	'd["stray_subsystems"] == ["nqn.2026-11.io.slicepool:grant:x:00000000000000ee"]'
NVMET_CONFIGFS=$NX sp --json export list --all --agent-config "$CX"
json "export list --all: also the released grant, not exported" \
	'len(d["exports"]) == 3 and d["exports"][2]["state"] == "released" and d["exports"][2]["exported"] is False and d["exports"][2]["uuid"] is None'
NVMET_CONFIGFS=$NX sp export list --agent-config "$CX"
text "export list: a row per grant, exported" \
	"^0000000000000001 +active +b +256MiB +rg-0000000000000001 +yes +$HOSTNQN +$PFX:0000000000000001$"
text "export list: not exported" "^0000000000000002 +active +c +128MiB +rg-0000000000000002 +no "
text "export list: the summary line" "^node x, pool px: 2 grant\(s\) lent, 448MiB of the pool$"
text "export list: the stray subsystem" "^stray nvmet subsystem $PFX:00000000000000ee: no grant owns it"
if unreadable "$NX/subsystems"; then
	NVMET_CONFIGFS=$NX sp --json export list --agent-config "$CX"
	json "export list: nvmet unreadable: exported is null" \
		'd["exports"][0]["exported"] is None and d["stray_subsystems"] == []'
	ktap_check "... with a warning" grep -q "cannot list the nvmet subsystems in $NX/subsystems" "$T/err"
	readable "$NX/subsystems"
else
	ktap_skip "nvmet unreadable: no setpriv to drop root"
	ktap_skip "nvmet unreadable: no setpriv to drop root"
fi

sp --json peer list --agent-config "$CX"
json "peer list --json: configured peers, then learned (not itself, no override)" \
	'[(p["name"], p["address"], p["port"], p["origin"]) for p in d["peers"]] == [("a", "127.0.0.1", '"$PA"', "configured"), ("b", "127.0.0.1", '"$PB"', "configured"), ("q", "127.0.0.2", 7450, "learned")]'
json "peer list --json: no daemon: health unknown, nothing advertised" \
	'd["health"]["fresh"] is False and all(p["health"] == "unknown" and p["lendable"] is None and p["heard_ms"] is None and not p["excluded"] for p in d["peers"])'
sp peer list --agent-config "$CX"
text "peer list: no health without a daemon" \
	"^node x: no health: the daemon is not running, or heartbeat is 0$"
text "peer list: a learned peer's row" "^q +127\.0\.0\.2 +7450 +learned +unknown +- +- +-$"

# A stale health file (a daemon that stopped without removing it).
printf 'updated 1000 timeout 3 stale 6\npeer a up 999 536870912 0\n' > "$SX/health"
sp --json peer list --agent-config "$CX"
json "peer list: a stale health file is not believed" \
	'd["health"]["fresh"] is False and d["peers"][0]["health"] == "unknown"'
rm -f "$SX/health"

# Bad state directories and ledgers.
write_conf "$T/y.conf" y 7998 "$T/no-such-dir"
expect "remote list: a state directory that does not exist: exit 1" 1 \
	"state directory $T/no-such-dir (state_dir in $T/y.conf) does not exist" \
	remote list --agent-config "$T/y.conf"
touch "$T/a-file"
write_conf "$T/y.conf" y 7998 "$T/a-file"
expect "peer list: a state directory that is a file: exit 1" 1 \
	"$T/a-file (state_dir in $T/y.conf) is not a directory" \
	peer list --agent-config "$T/y.conf"
mkdir -p "$T/state-y"
write_conf "$T/y.conf" y 7998 "$T/state-y"
if unreadable "$T/state-y"; then
	expect "export list: an unreadable state directory: exit 1" 1 \
		"cannot read the agent's state directory $T/state-y (state_dir in $T/y.conf): Permission denied" \
		export list --agent-config "$T/y.conf"
	readable "$T/state-y"
else
	ktap_skip "unreadable state directory: no setpriv to drop root"
fi
printf '# slicepool-agent grants borrowed v1\nborrow zz active\n' > "$T/state-y/borrowed"
expect "remote list: a corrupt ledger: exit 1 naming its line" 1 \
	"$T/state-y/borrowed:2: not a valid borrow line" remote list --agent-config "$T/y.conf"
ktap_check "... and nothing on stdout" [ ! -s "$T/out" ]
sp --json export list --agent-config "$T/y.conf"
json "export list: no ledger yet: no grants" \
	'd["exports"] == [] and d["lent_bytes"] == 0 and d["pool"] is None and d["lending"] is False'

# ------------------------------------------------------------- daemons
"$AGENT" -c "$CA" daemon > "$T/a.log" 2>&1 &
PIDS+=($!)
PID_A=$!
"$AGENT" -c "$CB" daemon > "$T/b.log" 2>&1 &
PIDS+=($!)
"$AGENT" -c "$CC" daemon > "$T/c.log" 2>&1 &
PIDS+=($!)
# listening <node>...: each daemon's log says it listens (up to 10 s each);
# a daemon that does not has its log printed.
listening() {
	local n
	for n in "$@"; do
		wait_log "$T/$n.log" "node $n listening" && continue
		sed "s/^/# $n.log: /" "$T/$n.log"
		return 1
	done
}
ktap_check "daemons a, b and c listen" listening a b c
ktap_check "peer list --json (b): a is up, lendable 512 MiB, no grant" \
	wait_json --json peer list --agent-config "$CB" -- \
	'd["peers"][0]["name"] == "a" and d["peers"][0]["health"] == "up" and d["peers"][0]["lendable"] == 536870912 and d["peers"][0]["grants"] == 0'
json "peer list --json (b): fresh health, heard lately, heartbeat_timeout 3" \
	'd["node"] == "b" and d["health"]["fresh"] is True and d["health"]["heartbeat_timeout"] == 3 and d["peers"][0]["heard_ago_s"] <= 5 and d["peers"][0]["excluded"] is False and d["peers"][0]["origin"] == "configured" and d["peers"][0]["port"] == '"$PA"
sp peer list --agent-config "$CB"
text "peer list (b): a's row" \
	"^a +127\.0\.0\.1 +$PA +configured +up +[0-9]+ s ago +512MiB +0$"
ktap_check "peer list --json (c): b configured, a learned from b, both up" \
	wait_json --json peer list --agent-config "$CC" -- \
	'[(p["name"], p["origin"], p["health"]) for p in d["peers"]] == [("b", "configured", "up"), ("a", "learned", "up")]'

expect "remote request a 1T (b): refused by a, exit 1 with a's reason" 1 \
	"a refused: no space" remote request a --size 1T --agent-config "$CB"
ktap_check "... a logged the refusal" wait_log "$T/a.log" "request from b .* for 1 TiB refused: no space"
expect "remote request 1T, no peer (b): none can lend it, exit 1" 1 \
	"no peer can lend 1 TiB now" remote request --size 1T --agent-config "$CB"
expect "remote request from an unknown peer: exit 1" 1 "unknown peer 'zz'" \
	remote request zz --size 64M --agent-config "$CB"
expect "remote resize of a grant b never borrowed: exit 1" 1 \
	"no borrowed grant 00000000000000ff" remote resize 00000000000000ff --size 1G --agent-config "$CB"
expect "remote release of a grant b never borrowed: exit 1" 1 \
	"no borrowed grant 00000000000000ff" remote release 00000000000000ff --agent-config "$CB"
sp --json remote list --agent-config "$CB"
json "remote list --json (b): nothing borrowed" 'd["borrowed"] == [] and d["borrowed_bytes"] == 0'
sp --json remote list --all --agent-config "$CB"
json "remote list --all (b): the request a refused is recorded released" \
	'len(d["borrowed"]) == 1 and all(g["state"] == "released" and g["peer"] == "a" and g["size"] == 1099511627776 for g in d["borrowed"])'
sp --json export list --agent-config "$CA"
json "export list --json (a): nothing lent, no stray subsystem" \
	'd["node"] == "a" and d["exports"] == [] and d["stray_subsystems"] == [] and d["lending"] is True'

kill -STOP "$PID_A"
ktap_check "a silent (SIGSTOP): peer list (b) says down, excluded" \
	wait_json --json peer list --agent-config "$CB" -- \
	'd["peers"][0]["health"] == "down" and d["peers"][0]["excluded"] is True and d["peers"][0]["lendable"] is None and d["peers"][0]["heard_ms"] > 0'
sp peer list --agent-config "$CB"
text "peer list (b): a's row says down" "^a +127\.0\.0\.1 +$PA +configured +down +[0-9]+ s ago +- +-$"
expect "remote request a (b): refused, a is down" 1 "peer a is down" \
	remote request a --size 64M --agent-config "$CB"
kill -CONT "$PID_A"
ktap_check "a heard again (SIGCONT): peer list (b) says up" \
	wait_json --json peer list --agent-config "$CB" -- \
	'd["peers"][0]["health"] == "up" and d["peers"][0]["excluded"] is False'

kill "$PID_A"
wait "$PID_A"
ktap_check "a stopped: its health file is gone" [ ! -e "$T/state-a/health" ]
sp --json peer list --agent-config "$CA"
json "peer list (a stopped): health unknown" \
	'd["health"]["fresh"] is False and d["peers"][0]["health"] == "unknown"'
ktap_finish
