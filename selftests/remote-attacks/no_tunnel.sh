#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Peers without the tunnel get a clear refusal, not a hang.  a lends
# through its WireGuard tunnel only; b's agent runs without a tunnel
# (its configuration has no tunnel lines).  b borrows: a grants at its
# tunnel address, which b refuses to connect to (not a's own address),
# saying what it lacks, and gives the grant back.  Then c, a node a has
# learned (hello) and shares an agent key with but has no peer_tunnel
# line for, asks a for space: a refuses it before anything is made
# ("unknown peer: c has no tunnel at a"), exit 3.  Nothing is lent at
# the end, a's free space is back.  Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-attacks/lib.sh"

# c shares the pair key of a and b with a (a test shortcut).
# shellcheck disable=SC2034 # used by lib.sh (conf_extra)
AGENT_CONF_EXTRA="peer_key c $W/key"
OTHERNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000c2

lender() {
	lender_until_released
	ktap_check "a granted b's request (${VOL:-no volume}) at its tunnel address" \
		agent_log_has "granted .* to b .* on $MY_TUN:4420 to "
	ktap_check "a logged c's request refused: c has no tunnel" \
		agent_log_has "request from c (.*) for 64 MiB refused: unknown peer: c has no tunnel at a"
	lender_clean
}

borrower() {
	local out rc
	borrower_setup 30
	rm -f "$W/wg.key"
	borrower_conf "$W" "$HOSTNQN" "$HOSTID" 30 > "$W/agent.conf"
	agent_up "b's agent listens, without a tunnel" "b's agent listens"
	ktap_check "b has no tunnel interface" tunnel_gone
	out=$("$AGENT" -c "$W/agent.conf" borrow a 64M 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	expect_line "borrow a 64M fails: a granted at its tunnel address, which b has no tunnel to (exit 1)" 1 \
		"slicepool-agent: a granted an export at ${PEER_TUN//./\\.}, not at its own address ${SP_PEER_IP//./\\.} \\(if that is its tunnel address, this node needs 'tunnel' and 'peer_tunnel a \\.\\.\\.'\\); grant [0-9a-f]{16} given back" \
		$rc "$out"
	ktap_check "no nvme controller on b" no_controller

	# c: known to a (hello), with an agent key, without a tunnel.
	cat > "$W/c.conf" <<-EOF
	node c
	listen $SP_MY_IP 7451
	peer_key a $W/key
	pool pb
	lend no
	state_dir $W/state-c
	hostnqn $OTHERNQN
	io_timeout 5
	peer a $SP_PEER_IP 7450
	EOF
	out=$("$AGENT" -c "$W/c.conf" hello a 2>&1)
	expect_line "c says hello to a" 0 "peer a $SP_PEER_IP 7450" $? "$out"
	out=$("$AGENT" -c "$W/c.conf" borrow a 64M 2>&1)
	expect "a refuses c's request: c has no tunnel (exit 3)" 3 \
		"slicepool-agent: a refused: unknown peer: c has no tunnel at a (peer_tunnel c ...): a exports only through its WireGuard tunnel" \
		$? "$out"
	ktap_check "... nothing connected" no_controller
	borrower_done
}

flow_main 9 8
