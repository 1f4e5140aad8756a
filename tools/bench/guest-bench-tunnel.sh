#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Remote-member benchmark through a WireGuard tunnel (sourced by
# tools/bench/guest-bench.sh after guest-bench-remote.sh, which sources
# guest-bench-nvmf.sh: the fio job, the export, the import and the volume
# it uses).
#
# bench_remote_tunnel: the 'remote' benchmark with the NVMe/TCP
# connection inside a WireGuard tunnel, in one guest.  The lender's side
# is a network namespace the bench creates (TN_NS), joined to the init
# namespace by a veth pair (TN_VETH0 here, TN_VETH1 there) and by a
# WireGuard interface on each side (TN_WG0, TN_WG1) whose keys 'wg genkey'
# makes at bench time and which talk over the veth pair.  nvmet-tcp opens
# a port's listening socket in the network namespace of the process that
# enables it (sock_create() in nvmet_tcp_add_port(), 6.1), so the ports
# are enabled from inside TN_NS with nsenter (not 'ip netns exec', which
# mounts a sysfs of its own over /sys and so hides configfs):
#
#   TN_SUBNQN  on TN_WG_ADDR1 (the tunnel address in TN_NS): namespace 1,
#              /dev/TN_NB, the slicepool member, and namespace 2, its twin
#              /dev/TN_NB2, under the dm-linear control
#   TN_PLNQN   on TN_VETH_ADDR1 (the veth address in TN_NS, no tunnel):
#              namespace 1, the same /dev/TN_NB again (nvmet opens its
#              block device shared), for the raw namespace without the
#              tunnel over the same path otherwise (netns, veth)
#
# Both are imported with 'nvme connect' from the init namespace.  Four
# sides run the same fio job (nf_fio_iops) over the same range, taking
# turns going first, ROUNDS times per pattern: the slicepool volume whose
# only member is namespace 1 through the tunnel, dm-linear over the twin
# namespace through the tunnel, the raw namespace 1 through the tunnel
# (over the member's data area) and the raw namespace without it.  No
# address outside the namespace and the veth pair the bench made is used;
# everything it made is removed at the end and on a failure.

TN_SUBNQN=nqn.2026-11.io.slicepool:bench-tunnel
TN_PLNQN=nqn.2026-11.io.slicepool:bench-plain
TN_NS=spbenchtn
TN_VETH0=sptnv0
TN_VETH1=sptnv1
TN_VETH_ADDR0=10.211.77.1
TN_VETH_ADDR1=10.211.77.2
TN_WG0=sptnw0
TN_WG1=sptnw1
TN_WG_ADDR0=10.211.78.1
TN_WG_ADDR1=10.211.78.2
TN_WG_PORT0=51871
TN_WG_PORT1=51872
TN_SVC=4420
TN_PORTID=8	# the tunnel port; nvmet ports are global to the guest's kernel
TN_PLPORTID=9	# the veth port, no tunnel
TN_NB=tnb0	# the member, namespace 1 of both subsystems
TN_NB2=tnb1	# its twin, namespace 2 of TN_SUBNQN, under dm-linear
TN_POOL=tunnel
TN_DM=tunnel-v
TN_LIN=tunnel-lin
TN_KEYS=/tmp/bench-tunnel-keys

# tn_in <command...>: run it in TN_NS, with the init namespace's mounts
tn_in() { nsenter --net="/run/netns/$TN_NS" "$@"; }

# tn_network: TN_NS, the veth pair and the WireGuard pair over it.
tn_network() {
	local k
	modprobe -a veth wireguard || return 1
	ip netns add "$TN_NS" || return 1
	ip -n "$TN_NS" link set lo up &&
		ip link add "$TN_VETH0" type veth peer name "$TN_VETH1" netns "$TN_NS" &&
		ip addr add "$TN_VETH_ADDR0/30" dev "$TN_VETH0" &&
		ip link set "$TN_VETH0" up &&
		ip -n "$TN_NS" addr add "$TN_VETH_ADDR1/30" dev "$TN_VETH1" &&
		ip -n "$TN_NS" link set "$TN_VETH1" up || return 1
	# Keys made now, never kept: private keys in a directory only root reads.
	rm -rf "$TN_KEYS"
	mkdir -m 700 "$TN_KEYS" || return 1
	for k in 0 1; do
		(umask 077 && wg genkey > "$TN_KEYS/$k.key") &&
			wg pubkey < "$TN_KEYS/$k.key" > "$TN_KEYS/$k.pub" || return 1
	done
	# Each interface is made in the namespace it serves, so its UDP socket
	# lives there too.
	ip link add "$TN_WG0" type wireguard &&
		wg set "$TN_WG0" listen-port "$TN_WG_PORT0" private-key "$TN_KEYS/0.key" \
			peer "$(< "$TN_KEYS/1.pub")" endpoint "$TN_VETH_ADDR1:$TN_WG_PORT1" \
			allowed-ips "$TN_WG_ADDR1/32" &&
		ip addr add "$TN_WG_ADDR0/24" dev "$TN_WG0" &&
		ip link set "$TN_WG0" up || return 1
	ip -n "$TN_NS" link add "$TN_WG1" type wireguard &&
		tn_in wg set "$TN_WG1" listen-port "$TN_WG_PORT1" private-key "$TN_KEYS/1.key" \
			peer "$(< "$TN_KEYS/0.pub")" endpoint "$TN_VETH_ADDR0:$TN_WG_PORT0" \
			allowed-ips "$TN_WG_ADDR0/32" &&
		ip -n "$TN_NS" addr add "$TN_WG_ADDR1/24" dev "$TN_WG1" &&
		ip -n "$TN_NS" link set "$TN_WG1" up
}

# tn_listening <address>: nvmet listens on address:TN_SVC in TN_NS, and
# not in the init namespace
tn_listening() {
	tn_in ss -Hltn "src $1:$TN_SVC" | grep -q . &&
		! ss -Hltn "src $1:$TN_SVC" | grep -q .
}

# tn_teardown: whatever of the setup exists, in reverse order.
tn_teardown() {
	local p s
	nf_volume_remove "$TN_POOL" "$TN_DM" "$TN_LIN"
	for s in "$TN_SUBNQN" "$TN_PLNQN"; do
		nf_disconnect "$s"
	done
	for p in "$TN_PORTID:$TN_SUBNQN" "$TN_PLPORTID:$TN_PLNQN"; do
		nf_port_remove "${p%%:*}" "${p#*:}"
	done
	for s in "$TN_SUBNQN" "$TN_PLNQN"; do
		nf_subsys_remove "$s"
	done
	nf_host_remove
	# Deleting the namespace deletes TN_VETH1 (so TN_VETH0) and TN_WG1.
	! ip link show "$TN_WG0" > /dev/null 2>&1 || ip link del "$TN_WG0"
	! ip link show "$TN_VETH0" > /dev/null 2>&1 || ip link del "$TN_VETH0"
	[ ! -e "/run/netns/$TN_NS" ] || ip netns del "$TN_NS"
	rm -rf "$TN_KEYS"
	nullb_remove "$TN_NB" "$TN_NB2"
}

tn_die() {
	tn_teardown
	die "$1"
}

# tn_left: print what of the setup is still there (nothing, if all went)
tn_left() {
	local s
	for s in "$TN_SUBNQN" "$TN_PLNQN"; do
		[ ! -e "$NVMET/subsystems/$s" ] || echo "subsystem $s"
		! nf_ns "$s" 1 > /dev/null || echo "an imported namespace of $s"
	done
	[ ! -e "$NVMET/ports/$TN_PORTID" ] || echo "nvmet port $TN_PORTID"
	[ ! -e "$NVMET/ports/$TN_PLPORTID" ] || echo "nvmet port $TN_PLPORTID"
	[ ! -e "/run/netns/$TN_NS" ] || echo "network namespace $TN_NS"
	! ip link show "$TN_WG0" > /dev/null 2>&1 || echo "link $TN_WG0"
	! ip link show "$TN_VETH0" > /dev/null 2>&1 || echo "link $TN_VETH0"
	[ ! -e "$TN_KEYS" ] || echo "$TN_KEYS"
}

bench_remote_tunnel() {
	local sp lin dev dev2 plain vol_mb off size rw r k
	local a b c d
	local fmt='%-16s %5s %10s %10s %10s %10s %7s %7s %7s %9s\n'
	modprobe -a nvmet-tcp nvme-tcp || die "cannot load nvmet-tcp and nvme-tcp"
	[ -d "$NVMET" ] || die "nvmet has no configfs"
	[ -z "$(tn_left)" ] || tn_die "left over from an earlier run: $(tn_left | tr '\n' ' ')"
	tn_network || tn_die "cannot set up $TN_NS, the veth pair and the WireGuard tunnel"
	{ nullb_create "$TN_NB" $((RM_MB + NF_SLICE_MB)) && nullb_create "$TN_NB2" $((RM_MB + NF_SLICE_MB)); } > /dev/null ||
		tn_die "cannot create /dev/$TN_NB and /dev/$TN_NB2"
	{ nf_host &&
		nf_subsys "$TN_SUBNQN" "/dev/$TN_NB" "/dev/$TN_NB2" &&
		nf_subsys "$TN_PLNQN" "/dev/$TN_NB"; } || tn_die "cannot make the nvmet subsystems"
	# Enabled from inside TN_NS: the listening sockets are made there.
	{ nf_port "$TN_PORTID" "$TN_WG_ADDR1" "$TN_SVC" "$TN_SUBNQN" tn_in &&
		nf_port "$TN_PLPORTID" "$TN_VETH_ADDR1" "$TN_SVC" "$TN_PLNQN" tn_in; } ||
		tn_die "cannot enable the nvmet-tcp ports from inside $TN_NS"
	for a in "$TN_WG_ADDR1" "$TN_VETH_ADDR1"; do
		tn_listening "$a" || tn_die "nvmet does not listen on $a:$TN_SVC in $TN_NS (and only there)"
	done
	{ nf_connect "$TN_WG_ADDR1" "$TN_SVC" "$TN_SUBNQN" && nf_wait "$TN_SUBNQN" 1 2; } ||
		tn_die "cannot connect to $TN_SUBNQN on $TN_WG_ADDR1:$TN_SVC (through the tunnel)"
	[ "$(wg show "$TN_WG0" latest-handshakes | awk '{ print $2 + 0 }')" -gt 0 ] ||
		tn_die "connected, but $TN_WG0 made no WireGuard handshake"
	{ nf_connect "$TN_VETH_ADDR1" "$TN_SVC" "$TN_PLNQN" && nf_wait "$TN_PLNQN" 1; } ||
		tn_die "cannot connect to $TN_PLNQN on $TN_VETH_ADDR1:$TN_SVC (veth, no tunnel)"
	dev=$(nf_ns "$TN_SUBNQN" 1)
	dev2=$(nf_ns "$TN_SUBNQN" 2)
	plain=$(nf_ns "$TN_PLNQN" 1)
	# The member, a volume of all its slices, the dm-linear control over
	# the same range of the twin namespace, every block written once.
	nf_volume "$TN_POOL" t0 tunnel "$dev" "$TN_DM" "$dev2" "$TN_LIN" || tn_die "$NF_WHY"
	vol_mb=$NF_VOL_MB
	off=$NF_OFF
	size=$NF_SIZE
	sp=/dev/mapper/$TN_DM
	lin=/dev/mapper/$TN_LIN
	# The data did go through WireGuard.
	[ "$(wg show "$TN_WG0" transfer | awk '{ s += $3 } END { print s + 0 }')" -gt $((vol_mb << 20)) ] ||
		tn_die "the writes did not go through $TN_WG0"

	echo "4k random IOPS (fio, libaio, iodepth 32, 2 jobs) over a $vol_mb MiB slicepool volume whose"
	echo "only member $dev is a null_blk exported by nvmet-tcp from network namespace $TN_NS"
	echo "and imported with nvme-tcp through a WireGuard tunnel ($TN_WG0 $TN_WG_ADDR0 -> $TN_WG1"
	echo "$TN_WG_ADDR1, over veth $TN_VETH0 $TN_VETH_ADDR0 -> $TN_VETH1 $TN_VETH_ADDR1), vs dm-linear over"
	echo "the same range of twin namespace $dev2 through the same tunnel, the raw namespace through"
	echo "the tunnel (from data_offset $off) and the same null_blk imported over the veth pair"
	echo "without the tunnel ($plain); $ROUNDS interleaved rounds of ${RUNTIME}s"
	echo "# $dev: $(nf_queue "$dev")"
	echo "# $plain: $(nf_queue "$plain")"
	echo "# $sp: $(nf_queue "$sp")"
	echo "# $lin: $(nf_queue "$lin")"
	echo "# $TN_WG0: mtu $(< "/sys/class/net/$TN_WG0/mtu"); $TN_VETH0: mtu $(< "/sys/class/net/$TN_VETH0/mtu")"
	# shellcheck disable=SC2059 # the format is a variable on purpose
	printf "$fmt" test round slicepool linear raw-wg raw-plain sp/lin sp/raw lin/raw wg/plain
	for rw in randread randwrite; do
		: > /tmp/tn.sl
		: > /tmp/tn.sr
		: > /tmp/tn.lr
		: > /tmp/tn.wg
		for r in $(seq 1 "$ROUNDS"); do
			case $((r % 4)) in
			1) set -- raw sp lin plain ;;
			2) set -- sp lin plain raw ;;
			3) set -- lin plain raw sp ;;
			*) set -- plain raw sp lin ;;
			esac
			for k in "$@"; do
				case $k in
				raw) b=$(nf_fio_iops "$dev" "$rw" "$off" "$size") ;;
				sp) a=$(nf_fio_iops "$sp" "$rw" 0 "$size") ;;
				lin) c=$(nf_fio_iops "$lin" "$rw" 0 "$size") ;;
				plain) d=$(nf_fio_iops "$plain" "$rw" "$off" "$size") ;;
				esac
			done
			ratio "$a" "$c" >> /tmp/tn.sl
			ratio "$a" "$b" >> /tmp/tn.sr
			ratio "$c" "$b" >> /tmp/tn.lr
			ratio "$b" "$d" >> /tmp/tn.wg
			# shellcheck disable=SC2059
			printf "$fmt" "tunnel-$rw" "$r" "$a" "$c" "$b" "$d" "$(tail -n 1 /tmp/tn.sl)" \
				"$(tail -n 1 /tmp/tn.sr)" "$(tail -n 1 /tmp/tn.lr)" "$(tail -n 1 /tmp/tn.wg)"
		done
		series tunnel "tunnel-4k-$rw slicepool/dm-linear" ge 0.97 < /tmp/tn.sl
		series tunnel "tunnel-4k-$rw slicepool/raw" < /tmp/tn.sr
		series tunnel "tunnel-4k-$rw dm-linear/raw" < /tmp/tn.lr
		series tunnel "tunnel-4k-$rw raw-wg/raw-plain" < /tmp/tn.wg
		r=$(median < /tmp/tn.sl)
		result "tunnel-4k-$rw-iops slicepool/dm-linear median $r (target >= 0.97) $(verdict "$r" ge 0.97)"
		result "tunnel-4k-$rw-iops slicepool/raw median $(median < /tmp/tn.sr)," \
			"dm-linear/raw median $(median < /tmp/tn.lr)"
		result "tunnel-4k-$rw-iops tunnel cost: raw-wg/raw-plain median $(median < /tmp/tn.wg)"
	done
	echo "# $TN_WG0: $(wg show "$TN_WG0" transfer | awk '{ print "received " $2 " B, sent " $3 " B" }')"
	tn_teardown
	[ -z "$(tn_left)" ] || die "left after the remote-tunnel benchmark: $(tn_left | tr '\n' ' ')"
}
