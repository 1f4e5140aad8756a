#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The two guests' slicepool-agent configurations (sourced, not run), for
# the remote-flow tests (lib.sh) and the two-host demo
# (tools/demo-remote.sh).  Guest a (node a, $SP_MY_IP) lends from pool pa
# and exports on nvmet port 4420; guest b (node b) borrows into pool pb.
# The agents listen on port 7450 and beat every 2 s.

# Each pair of nodes shares a key of its own ('peer_key'): the tests make
# one for a and b (and, in heartbeat.sh, use it for c too).
#
# The data path goes through a WireGuard tunnel (10.98.0.x for the guest
# 10.99.0.x, UDP port 51820) when <dir>/wg.key exists: the tests make a
# key pair for each guest (lib.sh tunnel_keys); without one (the demo)
# the configurations have no tunnel.

tun_ip() {	# tun_ip <guest address>: its address in the tunnel
	echo "10.98.0.${1##*.}"
}

# export_ip <dir>: where a exports: its tunnel address, with a tunnel
export_ip() {
	if [ -f "$1/wg.key" ]; then tun_ip "$SP_MY_IP"; else echo "$SP_MY_IP"; fi
}

# tunnel_conf <dir> <peer>: the tunnel lines, if <dir>/wg.key exists
# (<dir>/wg-peer.pub is the peer's public key)
tunnel_conf() {
	[ -f "$1/wg.key" ] || return 0
	cat <<-EOF
	tunnel $(tun_ip "$SP_MY_IP")/24 51820
	tunnel_key $1/wg.key
	peer_tunnel $2 $(cat "$1/wg-peer.pub") $SP_PEER_IP:51820 $(tun_ip "$SP_PEER_IP")
	EOF
}
#
# lender_conf <dir>: a's configuration (key and state in <dir>), printed
lender_conf() {
	cat <<-EOF
	node a
	listen $SP_MY_IP 7450
	export $(export_ip "$1") 4420
	peer_key b $1/key
	pool pa
	state_dir $1/state
	heartbeat 2
	peer b $SP_PEER_IP 7450
	EOF
	tunnel_conf "$1" b
}

# borrower_conf <dir> <host NQN> <host id> <ctrl_loss_tmo>: b's
# configuration (key and state in <dir>), printed
borrower_conf() {
	cat <<-EOF
	node b
	listen $SP_MY_IP 7450
	peer_key a $1/key
	pool pb
	lend no
	state_dir $1/state
	hostnqn $2
	hostid $3
	ctrl_loss_tmo $4
	reconnect_delay 2
	heartbeat 2
	peer a $SP_PEER_IP 7450
	EOF
	tunnel_conf "$1" a
}
