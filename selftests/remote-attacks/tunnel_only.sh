#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The data path is inside the WireGuard tunnel, and only there.  Both
# agents set up their tunnel (spwg0: a 10.98.0.1, b 10.98.0.2, each with
# the other's public key as its one peer); b borrows 256 MiB from a: a
# exports it on its tunnel address only (nvmet's port, and what listens
# on TCP 4420), b's controller is connected to a's tunnel address, routed
# through the tunnel, after a WireGuard handshake.  The attack: b connects
# to a's nvmet port on a's plain address (10.99.0.1) with the grant's own
# host NQN, as anyone on the storage network could say it: refused at
# once (nothing listens there), no controller is made, the grant's one
# controller is the tunnel's.  fio writes and verifies (crc32c) a volume
# over b's local and the borrowed member, and the tunnel carried that
# data.  Give-back leaves nothing on either side, and each agent removes
# its tunnel when it stops with nothing lent or borrowed.  Traffic stays
# between the two guests.
. "$SP_TOP/selftests/remote-attacks/lib.sh"

lender() {
	local vol
	lender_setup "$PA_MIB"
	agent_up "a's agent listens" "a's agent listens"
	ktap_check "a's tunnel $TUN_IF: WireGuard, $MY_TUN/24, UDP 51820, b's key its one peer (allowed $PEER_TUN/32)" \
		tunnel_is
	barrier agents-up
	barrier borrowed

	one_subsystem
	vol=$(lent_volume)
	ktap_check "port 4420: tcp on the tunnel address $MY_TUN, linked to the subsystem" \
		port_is "$NV/ports/4420" "$MY_TUN" "$SUB"
	expect "TCP 4420 is listened on at $MY_TUN only (not at $SP_MY_IP)" 0 \
		"$MY_TUN:4420" 0 "$(listeners 4420)"
	barrier attacked
	barrier released
	nothing_lent_left "$vol"
	lender_done
	ktap_check "a's agent removed its tunnel at stop (nothing lent)" tunnel_gone
	ktap_check "... and logged it" agent_log_has "tunnel $TUN_IF removed"
}

borrower() {
	local out rc ctrl rx0 tx0 rx1 tx1
	borrower_setup 30
	agent_up "b's agent listens" "b's agent listens"
	ktap_check "b's tunnel $TUN_IF: WireGuard, $MY_TUN/24, UDP 51820, a's key its one peer (allowed $PEER_TUN/32)" \
		tunnel_is
	borrow_checked 256M
	ctrl=$(ctrl_of "$SUBNQN")
	expect_line "b's controller is connected to a's tunnel address $PEER_TUN:4420" 0 \
		"traddr=$PEER_TUN,trsvcid=4420(,.*)?" 0 "$(cat "$ctrl/address" 2>/dev/null)"
	expect_line "... routed through $TUN_IF" 0 "$PEER_TUN dev $TUN_IF .*" 0 \
		"$(ip -o route get "$PEER_TUN")"
	ktap_check "WireGuard made a handshake with a" [ "$(handshake_ts)" -gt 0 ]
	barrier borrowed

	# The attack: a's plain address, the grant's own host NQN.
	out=$(nvme connect -t tcp -a "$SP_PEER_IP" -s 4420 -n "$SUBNQN" \
		--hostnqn="$HOSTNQN" --hostid="$HOSTID" 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	ktap_check "nvme connect to a's plain address $SP_PEER_IP:4420 with the grant's host NQN fails (exit $rc)" \
		[ "$rc" -ne 0 ]
	ktap_check "nothing listens at $SP_PEER_IP:4420: the connection is refused at once" \
		refused_at_once "$SP_PEER_IP" 4420
	expect "the grant still has one controller, the tunnel's: no path from outside" 0 \
		"${ctrl##*/}" 0 "$(ctrl_of "$SUBNQN" | sed 's|.*/||')"
	barrier attacked

	if make_volume 384; then
		expect "volume pb/v spans b1 and $MEMBER" 0 "b1 $MEMBER" 0 "$(volume_members)"
		read -r rx0 tx0 < <(wg_bytes)
		fio_verified tunnel v 384 \
			"fio randwrite with crc32c verify over local and borrowed slices"
		read -r rx1 tx1 < <(wg_bytes)
		ktap_check "the tunnel carried the writes: $((tx1 - tx0)) bytes out, at least 4 MiB" \
			[ $((tx1 - tx0)) -ge $((4 << 20)) ]
		ktap_check "... and the reads back: $((rx1 - rx0)) bytes in, at least 4 MiB" \
			[ $((rx1 - rx0)) -ge $((4 << 20)) ]
		drop_volume
	else
		ktap_fail "volume pb/v over the local and the borrowed member"
		ktap_fail "fio verify (no volume)"
		ktap_fail "tunnel traffic out (no volume)"
		ktap_fail "tunnel traffic in (no volume)"
	fi
	give_back "$GRANT"
	member_gone
	borrower_done
	ktap_check "b's agent removed its tunnel at stop (nothing borrowed)" tunnel_gone
}

flow_main 11 18
