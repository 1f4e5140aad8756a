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
# lender_conf <dir>: a's configuration (key and state in <dir>), printed
lender_conf() {
	cat <<-EOF
	node a
	listen $SP_MY_IP 7450
	export $SP_MY_IP 4420
	peer_key b $1/key
	pool pa
	state_dir $1/state
	heartbeat 2
	peer b $SP_PEER_IP 7450
	EOF
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
}
