#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the two-guest attacks on slicepool-agent (sourced, not run):
# selftests/remote-flow/lib.sh (the guests, pools, agents and their
# configurations, with the WireGuard tunnel) and what the attacks look at.
. "$SP_TOP/selftests/remote-flow/lib.sh"

# tunnel_is: this guest's tunnel interface as its agent set it up: a
# WireGuard interface with $MY_TUN/24, UDP port 51820, the peer's public
# key its one peer, allowed only the peer's tunnel address.
tunnel_is() {
	local pub
	pub=$(cat "$W/wg-peer.pub")
	grep -qx DEVTYPE=wireguard "/sys/class/net/$TUN_IF/uevent" 2>/dev/null &&
		[ "$(ip -o -4 addr show dev "$TUN_IF" | awk '{ print $4 }')" = "$MY_TUN/24" ] &&
		[ "$("$WG" show "$TUN_IF" listen-port)" = 51820 ] &&
		[ "$("$WG" show "$TUN_IF" allowed-ips)" = "$pub	$PEER_TUN/32" ]
}

tunnel_gone() {
	[ ! -e "/sys/class/net/$TUN_IF" ]
}

# handshake_ts: the time of the last WireGuard handshake with the peer
# (Unix seconds, 0: never)
handshake_ts() {
	"$WG" show "$TUN_IF" latest-handshakes 2>/dev/null |
		awk -v p="$(cat "$W/wg-peer.pub")" '$1 == p { print $2 }'
}

# wg_bytes: bytes received and sent through the tunnel ("rx tx")
wg_bytes() {
	"$WG" show "$TUN_IF" transfer | awk '{ rx += $2; tx += $3 } END { print rx + 0, tx + 0 }'
}

# listeners <port>: the local addresses listening on TCP <port>, sorted
listeners() {
	ss -Hltn "sport = :$1" | awk '{ print $4 }' | sort
}

# refused_at_once <address> <port>: a TCP connection to it is refused
# (nothing listens: a reset, ECONNREFUSED, not a hang or a drop).  Told by
# the error, not by a time: under TCG on a loaded host starting the shell
# alone may take seconds.
refused_at_once() {
	local err
	err=$(timeout 10 bash -c "exec 3<>/dev/tcp/$1/$2" 2>&1) && return 1
	case $err in
	*"Connection refused"*) return 0 ;;
	esac
	printf '# %s\n' "${err:-timed out}"
	return 1
}

# lender_until_released: a lends from a pool of PA_MIB MiB per disk (its
# free slices in BEFORE) until b has given back what it got (the barrier
# "released"); VOL is the volume of b's grant (empty: none).
lender_until_released() {
	lender_setup "$PA_MIB"
	BEFORE=$(free_slices pa)
	agent_up "a's agent listens" "a's agent listens"
	barrier agents-up
	barrier released
	VOL=$(awk '$1 == "grant" && $4 == "b" { print $7 }' "$W/state/grants")
}

# lender_clean: a logged b's give-back, nothing of the grant is left, a's
# free space is back, a's agent stops (7 checks).
lender_clean() {
	ktap_check "... and b gave it back" agent_log_has "released .* from b "
	nothing_lent_left "${VOL:-none}"
	free_back "$BEFORE"
	lender_done
}
