#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A peer with another tunnel key cannot reach an export.  b's agent runs
# with a WireGuard private key that a does not know (a's peer_tunnel b
# names b's real public key); its agent key is the right one, so a grants
# b's request (the control path is outside the tunnel).  b's agent then
# finds that the tunnel does not carry the export (no handshake: a drops
# what b's other key seals) and refuses the grant within io_timeout (5 s
# here), with the reason and what WireGuard says, and gives it back: no
# controller on b, no handshake ever on a, nothing lent left on a and its
# free space back.  Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-attacks/lib.sh"

# Both agents' calls, and b's probe of the tunnel, time out after 5 s.
# shellcheck disable=SC2034 # used by lib.sh (conf_extra)
AGENT_CONF_EXTRA="io_timeout 5"

lender() {
	lender_until_released
	ktap_check "a granted b's request (${VOL:-no volume}): the control path is outside the tunnel" \
		agent_log_has "granted .* to b "
	expect "a never made a WireGuard handshake with b's other key" 0 0 0 "$(handshake_ts)"
	lender_clean
}

borrower() {
	local out rc took t0 grant
	borrower_setup 30
	# Another key than the one a knows as b's.
	(umask 077 && "$WG" genkey > "$W/wg.key") || sp_die "cannot make another WireGuard key"
	agent_up "b's agent listens, with a WireGuard key a does not know" "b's agent listens"
	t0=$SECONDS
	out=$("$AGENT" -c "$W/agent.conf" borrow a 64M 2>&1)
	rc=$?
	took=$((SECONDS - t0))
	printf '%s\n' "$out" | sed 's/^/# /'
	expect_line "borrow a 64M fails: the tunnel does not carry the export, no handshake, the grant given back (exit 1)" 1 \
		"slicepool-agent: the tunnel to a does not carry its export: cannot connect to ${PEER_TUN//./\\.}:4420: Connection timed out; no WireGuard handshake with a \\(${SP_PEER_IP//./\\.}:51820\\): .*; grant [0-9a-f]{16} given back" \
		$rc "$out"
	ktap_check "... a refusal, not a hang: ${took} s (io_timeout 5 s; nvme-tcp's own connect would wait minutes)" \
		[ "$took" -le 40 ]
	ktap_check "no nvme controller on b" no_controller
	grant=$(sed -n 's/.*; grant \([0-9a-f]\{16\}\) given back$/\1/p' <<< "$out")
	out=$("$AGENT" -c "$W/agent.conf" status 2>&1)
	expect "b's status: grant ${grant:-?} released" 0 "${grant:-?} released from a" $? \
		"$(awk -v g="${grant:-?}" '$1 == g { print $1, $2, $3, $4 }' <<< "$out")"
	borrower_done
}

flow_main 9 6
