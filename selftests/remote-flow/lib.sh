#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the two-guest tests of slicepool-agent (sourced, not run).
# Guest a (10.99.0.1) lends from pool pa over its first two disks; guest b
# (10.99.0.2) borrows into pool pb over its first disk.  The agents use
# port 7450, nvmet port 4420 on a's tunnel address 10.98.0.1 (WireGuard,
# UDP port 51820); the agent key and both guests' WireGuard keys are made
# on a and handed to b through the bench's shared sync directory (a test
# shortcut: each node would make its own private key).
#
# A test that calls flow_plain runs without the tunnel: nvmet exports on
# a's own address (10.99.0.1) and the data path is plain NVMe/TCP, as in
# the demo.  Only for a test whose behaviour is not the tunnel's: under
# TCG the tunnel's encryption is emulated, and it doubled the time of
# grow.sh (Documentation/testing.rst).

. "$SP_TOP/selftests/lib/ktap.sh"
. "$SP_TOP/selftests/lib/pool.sh"	# sp_pool_remove
. "$SP_TOP/selftests/remote-flow/agent-conf.sh"

AGENT=$SP_TOP/nvmet-remote-ns/agent/slicepool-agent
CFS=/sys/kernel/config
SP=$CFS/slicepool
NV=$CFS/nvmet
W=/tmp/remote-flow
# The agent's log: local (read while it grows), copied to the artifacts.
LOG=$W/agent.log
PREFIX=nqn.2026-11.io.slicepool:grant:a:
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000b2
HOSTID=5b1c0000-0000-4000-8000-0000000000b2
# This guest's and the peer's addresses in the tunnel (agent-conf.sh),
# the agents' tunnel interface (their default tunnel_if).
# shellcheck disable=SC2034 # used by the tests that source this
MY_TUN=$(tun_ip "$SP_MY_IP")
# shellcheck disable=SC2034
PEER_TUN=$(tun_ip "$SP_PEER_IP")
WG=/usr/bin/wg
# shellcheck disable=SC2034
TUN_IF=spwg0
read -r -a disks <<< "$SP_DISKS"
AGENT_PID=""
PA_DEVS=()	# dm-linear devices under pool pa (lender_setup <MiB>)
# a's members in the tests that dirty its free space (dirty_free_space):
# 320 MiB of each disk, not all of its 1 GiB.
# shellcheck disable=SC2034 # used by the tests that source this
PA_MIB=320
FLOW_TUNNEL=1	# 0 after flow_plain

[ -x "$AGENT" ] || sp_die "$AGENT is not built (make tools)"
rm -rf "$W"
mkdir -p "$W"

flow_plain() {	# this test's data path is plain NVMe/TCP (see above)
	FLOW_TUNNEL=0
}

barrier() {
	sp_barrier "$1"
}

flow_cleanup() {
	if [ -n "$AGENT_PID" ]; then
		kill "$AGENT_PID" 2>/dev/null
		wait "$AGENT_PID" 2>/dev/null
	fi
	cp "$LOG" "$SP_ARTIFACTS/agent-$SP_ROLE.log" 2>/dev/null
}
trap flow_cleanup EXIT

# The bench installs the freshly built modules in both guests of a pair.
load_slicepool() {
	modprobe dm-slicepool
}

# make_pool <pool> <member:device:domain>...  (16 MiB slices)
make_pool() {
	local pool=$1 m n dev dom
	shift
	mkdir "$SP/$pool" && echo 16 > "$SP/$pool/slice_mb" || return 1
	for m in "$@"; do
		IFS=: read -r n dev dom <<< "$m"
		mkdir "$SP/$pool/members/$n" &&
			echo "$dev" > "$SP/$pool/members/$n/path" &&
			echo "$dom" > "$SP/$pool/members/$n/domain" &&
			echo 1 > "$SP/$pool/members/$n/enable" || return 1
	done
}

drop_pool() {
	sp_pool_remove "$SP/$1/"
}

free_slices() {	# the sum over the pool's members
	local t=0 f
	for f in "$SP/$1"/members/*/free_slices; do
		t=$((t + $(cat "$f")))
	done
	echo "$t"
}

# Lines a test adds to both guests' agent.conf (AGENT_CONF_EXTRA).
conf_extra() {
	[ -z "${AGENT_CONF_EXTRA:-}" ] || printf '%s\n' "$AGENT_CONF_EXTRA" >> "$W/agent.conf"
}

# tunnel_keys: on a, a WireGuard key pair for each guest, in the sync
# directory (b's private key with it: a test shortcut), and a's own.
tunnel_keys() {
	local g
	[ -x "$WG" ] || sp_die "$WG is missing (wireguard-tools: make deps)"
	modprobe wireguard || sp_die "cannot load wireguard"
	for g in a b; do
		if ! { (umask 077 && "$WG" genkey > "$SP_SYNC/wg-$g.key") &&
			"$WG" pubkey < "$SP_SYNC/wg-$g.key" > "$SP_SYNC/wg-$g.pub"; }; then
			sp_die "cannot make the WireGuard key of $g"
		fi
	done
	tunnel_key_install a b
}

# tunnel_key_install <me> <peer>: this guest's private key and the peer's
# public key from the sync directory (made by tunnel_keys on a).
tunnel_key_install() {
	if ! { install -m 600 "$SP_SYNC/wg-$1.key" "$W/wg.key" &&
		cp "$SP_SYNC/wg-$2.pub" "$W/wg-peer.pub"; }; then
		sp_die "cannot install the WireGuard keys"
	fi
}

# lender_setup [MiB]: pool pa over a's first two disks (whole, or only
# their first <MiB>, through dm-linear devices pa-d1 and pa-d2: a small
# pool is quick to fill), a key for both guests, a's configuration.
lender_setup() {
	local d i devs=("${disks[0]}" "${disks[1]}")
	modprobe nvmet-tcp || sp_die "cannot load nvmet-tcp"
	if [ -n "${1:-}" ]; then
		for i in 0 1; do
			d=pa-d$((i + 1))
			dmsetup create "$d" --table "0 $(($1 << 11)) linear ${devs[i]} 0" ||
				sp_die "cannot make $d ($1 MiB of ${devs[i]})"
			PA_DEVS+=("$d")
			devs[i]=/dev/mapper/$d
		done
	fi
	make_pool pa "a1:${devs[0]}:disk1" "a2:${devs[1]}:disk2" ||
		sp_die "cannot make pool pa"
	"$AGENT" genkey "$W/key" || sp_die "genkey"
	cp "$W/key" "$SP_SYNC/agent-key"
	[ "$FLOW_TUNNEL" = 0 ] || tunnel_keys
	lender_conf "$W" > "$W/agent.conf"
	conf_extra
}

# borrower_setup <ctrl_loss_tmo>: pool pb, the key, b's configuration.
borrower_setup() {
	modprobe nvme-tcp || sp_die "cannot load nvme-tcp"
	make_pool pb "b1:${disks[0]}:local" || sp_die "cannot make pool pb"
	barrier agents-up
	install -m 600 "$SP_SYNC/agent-key" "$W/key"
	if [ "$FLOW_TUNNEL" != 0 ]; then
		modprobe wireguard || sp_die "cannot load wireguard"
		tunnel_key_install b a
	fi
	borrower_conf "$W" "$HOSTNQN" "$HOSTID" "$1" > "$W/agent.conf"
	conf_extra
}

listening() {	# how many times the agent's log says it listens
	if [ -f "$LOG" ]; then grep -c "listening on" "$LOG"; else echo 0; fi
}

start_agent() {	# start_agent: the daemon of this guest, logged in $LOG
	local t=0 n
	n=$(listening)
	"$AGENT" -c "$W/agent.conf" daemon >> "$LOG" 2>&1 &
	AGENT_PID=$!
	until [ "$(listening)" -gt "$n" ]; do
		sleep 0.2
		t=$((t + 1))
		kill -0 "$AGENT_PID" 2>/dev/null && [ $t -lt 150 ] || return 1
	done
}

stop_agent() {	# stop_agent [signal]
	kill "-${1:-TERM}" "$AGENT_PID" && wait "$AGENT_PID"
	local rc=$?
	AGENT_PID=""
	return $rc
}

agent_log_has() {
	grep -q -- "$1" "$LOG"
}

# agent_up <description> [<description if not>]: start_agent, a check.
agent_up() {
	if start_agent; then
		ktap_ok "$1"
	else
		ktap_fail "${2:-$1}"
	fi
}

# lender_done [<description>]: the last barrier, a's agent stopped (a
# check, "a's agent stops on SIGTERM" unless told), pool pa and the
# devices under it gone.
lender_done() {
	local d desc="a's agent stops on SIGTERM"
	barrier finished
	ktap_check "${1:-$desc}" stop_agent
	drop_pool pa
	for d in "${PA_DEVS[@]}"; do
		dmsetup remove --retry "$d"
	done
	PA_DEVS=()
}

# flow_main <checks of a> <checks of b>: a test's main part: dm-slicepool
# loaded, then the function 'lender' (guest a) or 'borrower' (guest b),
# under a KTAP plan of that many checks.
flow_main() {
	load_slicepool || sp_die "cannot load dm-slicepool"
	ktap_header
	if [ "$SP_ROLE" = a ]; then
		ktap_plan "$1"
		lender
	else
		ktap_plan "$2"
		borrower
	fi
	ktap_finish
}

# borrower_done: the last barriers, b's agent stopped (a check), pool pb
# gone.
borrower_done() {
	barrier released
	barrier finished
	ktap_check "b's agent stops on SIGTERM" stop_agent
	drop_pool pb
}

# expect <description> <exit code wanted> <text wanted> <exit code> <output>
# The exit code is the one wanted and every line of the text wanted is a
# whole line of the output (an empty text wants an empty output): exact,
# never a substring ("30 2" does not match "30 20").
expect() {
	local line ok=1
	[ "$4" -eq "$2" ] || ok=0
	if [ -z "$3" ]; then
		[ -z "$5" ] || ok=0
	else
		while IFS= read -r line; do
			grep -qxF -- "$line" <<< "$5" || ok=0
		done <<< "$3"
	fi
	if [ $ok -eq 1 ]; then
		ktap_ok "$1"
	else
		printf '%s\n' "want exit $2: $3" "exit $4: $5" | sed 's/^/# /'
		ktap_fail "$1"
	fi
}

# expect_line <description> <exit code wanted> <ERE> <exit code> <output>:
# the exit code is the one wanted and a whole line of the output matches
# the extended regular expression (anchored at both ends), for messages
# with a variable part (a time, a count the peer chose).
expect_line() {
	if [ "$4" -eq "$2" ] && grep -qxE -- "$3" <<< "$5"; then
		ktap_ok "$1"
	else
		printf '%s\n' "want exit $2, a line matching: $3" "exit $4: $5" | sed 's/^/# /'
		ktap_fail "$1"
	fi
}

# oneline <file>...: their contents on one line, one space between them
# (no trailing space), for an exact comparison of several attributes.
oneline() {
	cat "$@" 2>&1 | paste -sd' ' -
}

ns_is() {	# ns_is <namespace dir> <uuid>
	[ -n "$2" ] && [ "$(cat "$1/enable")" = 1 ] &&
		[ "$(cat "$1/device_uuid")" = "$2" ] &&
		[ "$(cat "$1/device_nguid")" = "$2" ]
}

port_is() {	# port_is <port dir> <address> <subsystem>
	[ "$(cat "$1/addr_traddr")" = "$2" ] &&
		[ "$(cat "$1/addr_trtype")" = tcp ] && [ -L "$1/subsystems/$3" ]
}

empty() {	# empty <dir>...: each exists and is empty
	local d
	for d in "$@"; do
		[ -d "$d" ] && [ -z "$(ls -A "$d")" ] || return 1
	done
}

# The agent's subsystems on a.
agent_subsystems() {
	local s
	for s in "$NV/subsystems/$PREFIX"*; do
		[ -d "$s" ] && echo "${s##*/}"
	done
}

# The namespace device (not a path node) of subsystem $1.
ns_of() {
	local b
	for b in /sys/block/nvme*n*; do
		case ${b##*/} in nvme*c*) continue ;; esac
		[ "$(cat "$b/device/subsysnqn" 2>/dev/null)" = "$1" ] && echo "/dev/${b##*/}"
	done
}

ctrl_of() {
	local c
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = "$1" ] && echo "$c"
	done
}

no_controller() {
	! compgen -G "/sys/class/nvme-fabrics/ctl/nvme*" > /dev/null
}

all_set() {	# all_set <value>...: none is empty
	local v
	for v in "$@"; do
		[ -n "$v" ] || return 1
	done
}

# borrow <size>: sets GRANT, MEMBER, SUBNQN and GRANT_UUID for the caller;
# prints the output.
borrow() {
	local out rc
	out=$("$AGENT" -c "$W/agent.conf" borrow a "$1" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	GRANT=$(sed -n 's/^grant //p' <<< "$out")
	# shellcheck disable=SC2034 # used by the tests that source this
	MEMBER=$(sed -n 's/^member //p' <<< "$out")
	SUBNQN=$(sed -n 's/^subnqn //p' <<< "$out")
	# shellcheck disable=SC2034 # used by the tests that source this
	GRANT_UUID=$(sed -n 's/^uuid //p' <<< "$out")
	[ $rc -eq 0 ] && all_set "$GRANT" "$SUBNQN"
}

# borrow_checked <size>: borrow, a check.
borrow_checked() {
	if borrow "$1"; then
		ktap_ok "borrow a $1: grant $GRANT, member $MEMBER"
	else
		ktap_fail "borrow a $1"
	fi
}

# release_refused: giving $GRANT back is refused while $MEMBER holds
# slices (a check).
release_refused() {
	local out
	out=$("$AGENT" -c "$W/agent.conf" release "$GRANT" 2>&1)
	expect_line "giving back is refused while the member holds slices" 1 \
		"slicepool-agent: (.*: )?member $MEMBER of pool pb still holds slices of a volume: move them off \\(slicepool migrate\\) or remove the volumes first" $? "$out"
}

# give_back <grant> [<description> [<description of the controllers>]]:
# the grant is released and no nvme controller is left (two checks).
give_back() {
	local out
	out=$("$AGENT" -c "$W/agent.conf" release "$1" 2>&1)
	expect "${2:-release $1}" 0 "released $1" $? "$out"
	ktap_check "${3:-no nvme controller is left}" no_controller
}

member_gone() {	# member_gone: $MEMBER is no longer in pb (a check)
	ktap_check "member $MEMBER is gone" [ ! -e "$SP/pb/members/$MEMBER" ]
}

# one_subsystem: SUB is the agent's subsystem on a; a check that it
# exports exactly one.
one_subsystem() {
	local -a subs
	mapfile -t subs < <(agent_subsystems)
	SUB=${subs[0]:-none}
	ktap_check "one subsystem exported: $SUB" [ ${#subs[@]} -eq 1 ]
}

lent_volume() {	# the volume of pa the agent lends (rg-*)
	(cd "$SP/pa/volumes" && ls -d rg-* 2>/dev/null)
}

# nothing_lent_left <vol>: no nvmet object, no volume of the grant and no
# dm device <vol> on a (three checks).
nothing_lent_left() {
	ktap_check "no nvmet port, subsystem, namespace or host is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts"
	ktap_check "no volume of the grant is left" empty "$SP/pa/volumes"
	ktap_expect_fail "no dm device of the grant is left" dmsetup info "pa-$1"
}

# free_back <free slices before>: pool pa has them back (a check).
free_back() {
	local after
	after=$(free_slices pa)
	ktap_check "pool pa has its free space back ($after of $1 slices)" \
		[ "$after" -eq "$1" ]
}

# dirty_free_space: write 0xab over the first and the last MiB of every
# free slice of pa (a volume over all of them, deleted again: the data
# stays in the slices).  Every slice a grant can take is dirty at both
# ends, which zeroed_ends checks; dirtying all 16 MiB of each slice cost
# about 30 s of guest time per test and proved nothing more, since the
# lender zeroes whole slices.  The last MiB of a slice and the first of
# the next are adjacent in the volume: one dd writes both (n + 1 dd for n
# slices, not 2n).
dirty_free_space() {
	local n i at cnt
	n=$(free_slices pa)
	if ! { mkdir "$SP/pa/volumes/junk" && echo $((n * 16))M > "$SP/pa/volumes/junk/size" &&
		dmsetup create pa-junk --table "0 $((n * 16 * 2048)) slicepool pa junk"; }; then
		sp_die "cannot make the junk volume"
	fi
	tr '\0' '\253' < /dev/zero | head -c $((2 << 20)) > "$W/dirt"
	# MiB 16i - 1 and 16i (the ends of slices i - 1 and i), i = 0..n,
	# without the MiB before the first slice and the one after the last.
	for ((i = 0; i <= n; i++)); do
		at=$((i == 0 ? 0 : 16 * i - 1))
		cnt=$((i == 0 || i == n ? 1 : 2))
		dd if="$W/dirt" of=/dev/mapper/pa-junk bs=1M seek=$at count=$cnt \
			oflag=direct conv=notrunc status=none || sp_die "cannot dirty MiB $at of pa"
	done
	if ! { dmsetup remove pa-junk && echo 0 > "$SP/pa/volumes/junk/size" &&
		rmdir "$SP/pa/volumes/junk"; }; then
		sp_die "cannot delete the junk volume"
	fi
}

# zeroed_ends <device> <from> <to>: the first and the last MiB of every
# 16 MiB slice of <device> between byte offsets <from> and <to> (slice
# aligned, but <from> may cut into the first slice) read as zeroes: where
# dirty_free_space left 0xab.  Fails if there is nothing to check.
zeroed_ends() {
	local dev=$1 from=$2 to=$3 s a b n=0
	for ((s = from / (16 << 20) * (16 << 20); s < to; s += 16 << 20)); do
		for a in $s $((s + (15 << 20))); do
			b=$((a + (1 << 20)))
			((a < from)) && a=$from
			((a < b)) || continue
			cmp -s -n $((b - a)) -i "$a:0" "$dev" /dev/zero || return 1
			n=$((n + 1))
		done
	done
	[ $n -gt 0 ]
}

# make_volume <size MiB> [name]: pb/<name> (default v) over the pool's
# members, with its dm device /dev/mapper/pb-<name>.
make_volume() {
	local v=${2:-v}
	mkdir "$SP/pb/volumes/$v" && echo "${1}M" > "$SP/pb/volumes/$v/size" &&
		dmsetup create "pb-$v" --table "0 $(($1 << 11)) slicepool pb $v"
}

# fio_verified <job> <name> <size MiB> <description>: fio writes a
# thirty-second of pb/<name> at random in 32 KiB blocks (16 per 16 MiB
# slice on average, so every slice is hit with near certainty; the seed is
# fixed, so the same blocks every run) and verifies it (crc32c), a check.
# An eighth in 256 KiB blocks (8 per slice), then a sixteenth in 64 KiB
# blocks, moved four and two times the data through the tunnel, whose
# encryption is emulated under TCG.
fio_verified() {
	if fio --name="$1" --filename="/dev/mapper/pb-$2" --direct=1 \
		--ioengine=libaio --rw=randwrite --bs=32k --iodepth=8 \
		--size="$3m" --io_size=$(($3 / 32))m --verify=crc32c --verify_fatal=1 --do_verify=1 \
		--randrepeat=1 --output="$SP_ARTIFACTS/fio.log"; then
		ktap_ok "$4"
	else
		sed 's/^/# /' "$SP_ARTIFACTS/fio.log"
		ktap_fail "$4"
	fi
}

drop_volume() {	# drop_volume [name]
	local v=${1:-v}
	dmsetup remove "pb-$v"
	echo 0 > "$SP/pb/volumes/$v/size"
	rmdir "$SP/pb/volumes/$v"
}

# The members pb/<name> (default v) has slices on, sorted, on one line
# (one space between them, no trailing space).
volume_members() {
	awk '{print $2}' "$SP/pb/volumes/${1:-v}/map" | sort -u | paste -sd' ' -
}
