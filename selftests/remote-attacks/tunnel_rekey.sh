#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# WireGuard keys rotated by SIGHUP, and a preshared key that does not
# match.  Both agents run with a preshared key for their pair
# (peer_tunnel_psk, made by 'slicepool-agent keygen --psk'); b reaches
# a's tunnel address through the tunnel (a TCP reset from a port where
# nothing listens: the packets went both ways).  a is sent a SIGHUP with
# a preshared key file that is not a WireGuard key: refused with the
# file named, the key in force kept.  The rotation: a new key pair for b
# and a new preshared key, a's configuration and files changed, SIGHUP;
# b's files changed, SIGHUP: each agent runs only the wg commands of
# what changed (logged), and b reaches a again through a handshake made
# after the rotation, with the new preshared key on both.  Then b is
# given another key pair and a preshared key a does not have: a
# knows b's new public key, yet no handshake completes and b no longer
# reaches a.  No volume is lent: the data path is the tunnel's (see
# tunnel_wrong_key.sh for an export behind a tunnel that does not
# carry).  Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-attacks/lib.sh"

PSK=$W/psk

# msg_has <message>: a line of the agent's log is exactly it (after its
# date and "slicepool-agent: <level>: ")
msg_has() {
	sed 's/^.*slicepool-agent: [a-z]*: //' "$LOG" | grep -qxF -- "$1"
}

# hup_done <n>: SIGHUP sent and the agent logged the <n>th reload's end
hup_done() {
	local t=0
	kill -HUP "$AGENT_PID" || return 1
	until [ "$(grep -c 'SIGHUP: \(tunnel\|configuration not\)' "$LOG")" -ge "$1" ]; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt 100 ] || return 1
	done
}

# psk_is <file>: WireGuard's preshared key for the peer is <file>'s key
psk_is() {
	[ "$("$WG" show "$TUN_IF" preshared-keys |
		awk -v p="$(cat "$W/wg-peer.pub")" '$1 == p { print $2 }')" = "$(cat "$1")" ]
}

# reaches: a TCP connection to a's tunnel address, port 9 (nothing
# listens), is reset within 4 s: through the tunnel and back
reaches() {
	timeout 4 bash -c "exec 3<>/dev/tcp/$PEER_TUN/9" 2>&1 |
		grep -q "Connection refused"
}

# new_pair <n>: on a, b's key pair number <n> and a preshared key, in
# the sync directory
new_pair() {
	(umask 077 && "$WG" genkey > "$SP_SYNC/wg-b$1.key") &&
		"$WG" pubkey < "$SP_SYNC/wg-b$1.key" > "$SP_SYNC/wg-b$1.pub" &&
		"$AGENT" keygen --psk "$SP_SYNC/psk$1"
}

lender() {
	local old new line
	lender_setup "$PA_MIB"
	"$AGENT" keygen --psk "$SP_SYNC/psk1" || sp_die "keygen --psk"
	install -m 600 "$SP_SYNC/psk1" "$PSK"
	echo "peer_tunnel_psk b $PSK" >> "$W/agent.conf"
	agent_up "a's agent listens, its tunnel with a preshared key for b" "a's agent listens"
	ktap_check "WireGuard's preshared key for b is the file's" psk_is "$PSK"

	# A preshared key that is not one: refused, nothing changed.
	"$AGENT" keygen > "$W/psk-hex" && chmod 600 "$W/psk-hex"
	sed -i "s|^peer_tunnel_psk b .*|peer_tunnel_psk b $W/psk-hex|" "$W/agent.conf"
	hup_done 1
	msg_has "SIGHUP: configuration not reloaded, the old one stays in force: peer_tunnel_psk b: $W/psk-hex is not a WireGuard preshared key (exactly 44 characters of base64 for 32 bytes, and a newline: slicepool-agent keygen --psk FILE)"
	ktap_check "SIGHUP with a preshared key in hex: refused, the file named" [ $? -eq 0 ]
	ktap_check "... the preshared key in force kept" psk_is "$PSK"
	sed -i "s|^peer_tunnel_psk b .*|peer_tunnel_psk b $PSK|" "$W/agent.conf"
	barrier agents-up
	barrier b-reached

	# The rotation: b's new key pair and a new preshared key.
	new_pair 2 || sp_die "cannot make b's second key pair"
	old=$(cat "$W/wg-peer.pub")
	new=$(cat "$SP_SYNC/wg-b2.pub")
	install -m 600 "$SP_SYNC/psk2" "$PSK"
	sed -i "s|^peer_tunnel b $old |peer_tunnel b $new |" "$W/agent.conf"
	cp "$SP_SYNC/wg-b2.pub" "$W/wg-peer.pub"
	hup_done 2
	line="tunnel $TUN_IF: $WG set $TUN_IF peer $new endpoint $SP_PEER_IP:51820 allowed-ips $PEER_TUN/32 persistent-keepalive 25 preshared-key $PSK"
	msg_has "tunnel $TUN_IF: $WG set $TUN_IF peer $old remove" && msg_has "$line" &&
		msg_has "SIGHUP: tunnel $TUN_IF: 2 change(s) made, the other peers' sessions untouched"
	ktap_check "SIGHUP: b's old WireGuard peer removed, its new one added with the new preshared key" [ $? -eq 0 ]
	barrier a-rotated
	barrier b-rotated

	# b's third key pair, with a preshared key a is not given.
	new_pair 3 || sp_die "cannot make b's third key pair"
	old=$new
	new=$(cat "$SP_SYNC/wg-b3.pub")
	sed -i "s|^peer_tunnel b $old |peer_tunnel b $new |" "$W/agent.conf"
	cp "$SP_SYNC/wg-b3.pub" "$W/wg-peer.pub"
	hup_done 3
	ktap_check "SIGHUP: b's third public key in force, the preshared key kept" \
		msg_has "SIGHUP: tunnel $TUN_IF: 2 change(s) made, the other peers' sessions untouched"
	barrier a-mismatch
	barrier b-tried
	expect "no WireGuard handshake with b's third key under another preshared key" 0 0 0 "$(handshake_ts)"
	lender_done
}

borrower() {
	local t0 ts
	borrower_setup 30
	install -m 600 "$SP_SYNC/psk1" "$PSK"
	echo "peer_tunnel_psk a $PSK" >> "$W/agent.conf"
	agent_up "b's agent listens, its tunnel with a preshared key for a" "b's agent listens"
	ktap_check "b reaches a's tunnel address: the same preshared key on both" reaches
	barrier b-reached
	barrier a-rotated

	t0=$(date +%s)
	install -m 600 "$SP_SYNC/wg-b2.key" "$W/wg.key"
	install -m 600 "$SP_SYNC/psk2" "$PSK"
	hup_done 1
	msg_has "tunnel $TUN_IF: $WG set $TUN_IF private-key $W/wg.key" &&
		msg_has "tunnel $TUN_IF: $WG set $TUN_IF peer $(cat "$W/wg-peer.pub") preshared-key $PSK" &&
		msg_has "SIGHUP: tunnel $TUN_IF: 2 change(s) made, the other peers' sessions untouched"
	ktap_check "SIGHUP: b's new private key and the new preshared key set, nothing else" [ $? -eq 0 ]
	ktap_check "b reaches a again after the rotation" reaches
	ts=$(handshake_ts)
	ktap_check "... through a handshake made after it (${ts:-none} >= $t0)" [ "${ts:-0}" -ge "$t0" ]
	ktap_check "... with the new preshared key" psk_is "$PSK"
	barrier b-rotated
	barrier a-mismatch

	install -m 600 "$SP_SYNC/wg-b3.key" "$W/wg.key"
	"$AGENT" keygen --psk "$W/psk-other" || sp_die "keygen --psk"
	install -m 600 "$W/psk-other" "$PSK"
	hup_done 2
	! reaches && ! reaches
	ktap_check "with a preshared key a does not have, b no longer reaches a" [ $? -eq 0 ]
	barrier b-tried
	barrier finished
	ktap_check "b's agent stops on SIGTERM" stop_agent
	drop_pool pb
}

flow_main 8 8
