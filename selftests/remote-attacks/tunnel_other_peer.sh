#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Only the grant's own borrower gets in, not another peer of the tunnel.
# a knows two WireGuard peers: b, and c, a third node simulated in guest
# b (network namespace "c" with a WireGuard interface and a key of its
# own, made on b; tunnel address 10.98.0.3, UDP port 51821; a's
# configuration has 'peer_tunnel c'), so c holds a valid tunnel to a.
# b borrows 32 MiB: a exports it on b's own port (4420) and its guard
# lets only b's tunnel address reach that port.  The attack: c, through
# its own tunnel (a makes a handshake with c's key), connects to b's
# grant with b's host NQN (sent in clear, not a secret), as nvme-cli
# would: refused at once (the guard's reset comes back through c's
# tunnel), no controller is made.  b still gets in (a new TCP connection
# to its port, and its controller reads its member as before), and
# nothing changed at a (the grant active, exported to b only).
# Give-back removes the guard's table.  Not a case of
# tunnel_wrong_key.sh: that key is unknown to a (no handshake at all);
# c's is a peer's own, and the lock is the guard
# (Documentation/nvmet-remote-ns.rst, "Tunnel").  Traffic stays between
# the two guests.
. "$SP_TOP/selftests/remote-attacks/lib.sh"

C_TUN=10.98.0.3
C_IF=spwgc
GUARD=slicepool_agent

# c's namespace (and its WireGuard interface with it) goes whatever
# happens: the guests run the next tests of their session.
c_cleanup() {
	ip netns del c 2> /dev/null
	flow_cleanup
}
trap c_cleanup EXIT

# in_c <command>...: runs it in c's network namespace
in_c() {
	ip netns exec c "$@"
}

# c_key: c's WireGuard key pair, made on b (its private key stays
# there); its public key goes to a through the sync directory.
c_key() {
	modprobe wireguard &&
		(umask 077 && "$WG" genkey > "$W/wg-c.key") &&
		"$WG" pubkey < "$W/wg-c.key" > "$SP_SYNC/wg-c.pub"
}

# c_tunnel: c's WireGuard interface, made in b's own namespace (its UDP
# socket stays there, so it reaches a as b's does) and moved into c's,
# with a (a's public key from the sync directory) its one peer.
c_tunnel() {
	ip netns add c &&
		ip link add "$C_IF" type wireguard &&
		"$WG" set "$C_IF" private-key "$W/wg-c.key" listen-port 51821 \
			peer "$(cat "$SP_SYNC/wg-a.pub")" endpoint "$SP_PEER_IP:51820" \
			allowed-ips "$PEER_TUN/32" &&
		ip link set "$C_IF" netns c &&
		in_c ip address add "$C_TUN/24" dev "$C_IF" &&
		in_c ip link set lo up &&
		in_c ip link set "$C_IF" up
}

# guard_is <port> <address>: a's guard lets <address> reach <port>, and
# resets everything else at that port
guard_is() {
	local rules
	rules=$(nft list chain inet "$GUARD" exports 2>/dev/null) || return 1
	grep -qE "^[[:space:]]*ip daddr $MY_TUN tcp dport $1 iifname \"$TUN_IF\" ip saddr $2 accept comment \"b\"\$" <<< "$rules" &&
		grep -qE "^[[:space:]]*ip daddr $MY_TUN tcp dport $1 reject with tcp reset\$" <<< "$rules" &&
		[ "$(grep -c "tcp dport" <<< "$rules")" -eq 2 ]
}

# unchanged <subsystem>: a's ledger says the grant is active and b's, and
# nvmet still exports it on b's port to b's host NQN only
unchanged() {
	local n hosts
	n=$(awk '$1 == "grant" && $3 == "active" && $4 == "b"' "$W/state/grants" | wc -l)
	hosts=$(ls "$NV/subsystems/$1/allowed_hosts")
	echo "# active grants of b: $n; allowed hosts: $hosts"
	[ "$n" -eq 1 ] && [ "$hosts" = "$HOSTNQN" ] &&
		port_is "$NV/ports/4420" "$MY_TUN" "$1"
}

# c_handshake: the time of a's last WireGuard handshake with c (0: never)
c_handshake() {
	"$WG" show "$TUN_IF" latest-handshakes |
		awk -v p="$(cat "$SP_SYNC/wg-c.pub")" '$1 == p { print $2 }'
}

# refused_fast <exit code> <seconds>: a failure within 10 s
refused_fast() {
	[ "$1" -ne 0 ] && [ "$2" -le 10 ]
}

# first_mib <device>: the checksum of its first MiB, read past the cache
first_mib() {
	dd if="$1" bs=1M count=1 iflag=direct status=none | md5sum
}

# same_read <device> <sum before> <sum after>: a block device, read the
# same both times
same_read() {
	[ -b "$1" ] && all_set "$2" "$3" && [ "$2" = "$3" ]
}

lender() {
	local sub
	lender_setup 64
	barrier c-key
	echo "peer_tunnel c $(cat "$SP_SYNC/wg-c.pub") $SP_PEER_IP:51821 $C_TUN" >> "$W/agent.conf"
	agent_up "a's agent listens, with two tunnel peers, b and c" "a's agent listens"
	barrier agents-up
	barrier borrowed

	one_subsystem
	sub=$SUB
	ktap_check "b's grant is on b's port: nvmet port 4420 on $MY_TUN, linked to $sub" \
		port_is "$NV/ports/4420" "$MY_TUN" "$sub"
	ktap_check "a's guard: port 4420 admits b's tunnel address $PEER_TUN only, resets the rest" \
		guard_is 4420 "$PEER_TUN"
	ktap_check "... and a logged it" \
		agent_log_has "grant [0-9a-f]*: port 4420 reached from b's tunnel address $PEER_TUN only (the exports' guard)"
	if [ -e "$NV/hosts/$HOSTNQN/dhchap_key" ]; then
		echo "# nvmet offers DH-HMAC-CHAP here (hosts/*/dhchap_key)"
	else
		echo "# nvmet has no DH-HMAC-CHAP here (no hosts/*/dhchap_key): the guard is the lock"
	fi
	barrier attacked

	ktap_check "c reached a through its own tunnel (a WireGuard handshake with c's key)" \
		[ "$(c_handshake)" -gt 0 ]
	ktap_check "nothing changed at a: the grant is active, exported on b's port to b's host NQN only" \
		unchanged "$sub"
	barrier checked
	barrier released
	ktap_check "the grant given back: no nvmet port or subsystem is left" \
		empty "$NV/ports" "$NV/subsystems"
	ktap_expect_fail "... and a's guard table is gone" nft list table inet "$GUARD"
	lender_done
}

borrower() {
	local out rc t0 took ns sum0 sum1
	c_key || sp_die "cannot make c's WireGuard key"
	barrier c-key
	c_tunnel || sp_die "cannot set up c's tunnel"
	borrower_setup 30
	agent_up "b's agent listens" "b's agent listens"
	borrow_checked 32M
	ns=$(ns_of "$SUBNQN")
	sum0=$(first_mib "${ns:-/dev/null}")
	barrier borrowed

	expect_line "c's packets to a's tunnel address go through c's own tunnel" 0 \
		"$PEER_TUN dev $C_IF .*" 0 "$(in_c ip -o route get "$PEER_TUN")"
	# The connect as nvme-cli makes it, written to the kernel directly:
	# nvme-cli would find b's controller (the same address, subsystem
	# and host NQN) and say "already connected" without trying.
	t0=$SECONDS
	out=$(in_c bash -c "echo 'transport=tcp,traddr=$PEER_TUN,trsvcid=4420,nqn=$SUBNQN,hostnqn=$HOSTNQN,hostid=$HOSTID,host_traddr=$C_TUN,duplicate_connect' > /dev/nvme-fabrics" 2>&1)
	rc=$?
	took=$((SECONDS - t0))
	printf '%s\n' "$out" | sed 's/^/# /'
	expect "c connecting to b's grant with b's host NQN is refused (exit $rc, ${took} s)" 1 \
		"bash: line 1: echo: write error: Connection refused" "$rc" "$out"
	ktap_check "... a refusal within 10 s, not a hang" refused_fast "$rc" "$took"
	ktap_check "... c's TCP connection to b's port is reset at once" \
		in_c bash -c "$(declare -f refused_at_once); refused_at_once $PEER_TUN 4420"
	ktap_check "the grant has one controller, b's own" \
		[ "$(ctrl_of "$SUBNQN" | wc -l)" -eq 1 ]
	ktap_check "b still gets in: a new TCP connection to its port $PEER_TUN:4420" \
		timeout 10 bash -c "exec 3<>/dev/tcp/$PEER_TUN/4420"
	sum1=$(first_mib "${ns:-/dev/null}")
	ktap_check "b's member reads as before (the first MiB of ${ns:-no namespace}, direct)" \
		same_read "$ns" "$sum0" "$sum1"
	barrier attacked
	barrier checked

	give_back "$GRANT"
	borrower_done
}

flow_main 10 12
