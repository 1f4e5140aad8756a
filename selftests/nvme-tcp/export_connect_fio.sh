#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two-guest smoke test of the stock NVMe/TCP path slicepool builds on.
# Guest a exports its first test disk as a namespace of an nvmet subsystem
# on a TCP port, allowed to guest b's host NQN only.  Guest b connects with
# nvme-cli, writes and verifies data with fio (crc32c), and is refused when
# it presents another host NQN.  Guest a then finds b's data on its disk.
. "$SP_TOP/selftests/lib/ktap.sh"

SUBNQN=nqn.2026-11.io.slicepool:smoke
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000b0
HOSTID=5b1c0000-0000-4000-8000-0000000000b0
OTHERNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000c0
OTHERID=5b1c0000-0000-4000-8000-0000000000c0
PORT=4420
CFS=/sys/kernel/config/nvmet
read -r -a disks <<< "$SP_DISKS"

export_side() {
	local sub=$CFS/subsystems/$SUBNQN
	modprobe nvmet-tcp || sp_die "cannot load nvmet-tcp"
	if ! { mkdir "$sub" &&
	echo 0 > "$sub/attr_allow_any_host" &&
	mkdir "$CFS/hosts/$HOSTNQN" &&
	ln -s "$CFS/hosts/$HOSTNQN" "$sub/allowed_hosts/" &&
	mkdir "$sub/namespaces/1" &&
	echo "${disks[0]}" > "$sub/namespaces/1/device_path" &&
	echo 1 > "$sub/namespaces/1/enable" &&
	mkdir "$CFS/ports/1" &&
	echo tcp > "$CFS/ports/1/addr_trtype" &&
	echo ipv4 > "$CFS/ports/1/addr_adrfam" &&
	echo "$SP_MY_IP" > "$CFS/ports/1/addr_traddr" &&
	echo "$PORT" > "$CFS/ports/1/addr_trsvcid" &&
	ln -s "$sub" "$CFS/ports/1/subsystems/"; }; then
		ktap_fail "export ${disks[0]} over nvmet-tcp"
		sp_barrier exported
		sp_barrier finished
		teardown
		ktap_finish
	fi
	ktap_ok "export ${disks[0]} as $SUBNQN on $SP_MY_IP:$PORT for one host NQN"
	sp_barrier exported
	sp_barrier finished
	# fio wrote its verify pattern over the first 4 MiB through nvme-tcp.
	local nz
	nz=$(dd if="${disks[0]}" bs=1M count=4 iflag=direct status=none | tr -d '\0' | wc -c)
	ktap_check "the data guest b wrote is on guest a's disk ($nz non-zero bytes)" [ "$nz" -gt 1000000 ]
	teardown
	ktap_check "the nvmet objects are gone" [ ! -e "$sub" ]
}

teardown() {
	rm -f "$CFS/ports/1/subsystems/$SUBNQN"
	rmdir "$CFS/ports/1" 2>/dev/null
	echo 0 > "$CFS/subsystems/$SUBNQN/namespaces/1/enable" 2>/dev/null
	rmdir "$CFS/subsystems/$SUBNQN/namespaces/1" 2>/dev/null
	rm -f "$CFS/subsystems/$SUBNQN/allowed_hosts/$HOSTNQN"
	rmdir "$CFS/subsystems/$SUBNQN" 2>/dev/null
	rmdir "$CFS/hosts/$HOSTNQN" 2>/dev/null
}

# The block device of the namespace (the multipath head, not a path node).
find_ns() {
	local b
	for b in /sys/block/nvme*n*; do
		case ${b##*/} in nvme*c*) continue ;; esac	# a hidden path node
		[ -e "$b/device/subsysnqn" ] || continue
		[ "$(cat "$b/device/subsysnqn")" = "$SUBNQN" ] || continue
		echo "/dev/${b##*/}"
		return 0
	done
	return 1
}

import_side() {
	local dev="" t=0 log
	modprobe nvme-tcp || sp_die "cannot load nvme-tcp"
	sp_barrier exported
	ktap_expect_fail "a host NQN not allowed on the subsystem is refused" \
		nvme connect -t tcp -a "$SP_PEER_IP" -s "$PORT" -n "$SUBNQN" \
		--hostnqn="$OTHERNQN" --hostid="$OTHERID"
	if nvme connect -t tcp -a "$SP_PEER_IP" -s "$PORT" -n "$SUBNQN" \
		--hostnqn="$HOSTNQN" --hostid="$HOSTID" --ctrl-loss-tmo=30 --reconnect-delay=2; then
		while ! dev=$(find_ns) && [ $t -lt 50 ]; do sleep 0.2; t=$((t + 1)); done
	fi
	if [ -n "$dev" ]; then
		ktap_ok "connected to $SUBNQN over nvme-tcp as $dev"
		log=$SP_ARTIFACTS/fio.log
		# 4 MiB in 4 KiB blocks: 1024 verified writes through the
		# fabric prove the path; more only costs time under TCG.
		if fio --name=smoke --filename="$dev" --direct=1 --ioengine=libaio \
			--rw=randwrite --bs=4k --iodepth=8 --size=4m --verify=crc32c \
			--verify_fatal=1 --do_verify=1 --randrepeat=1 --output="$log"; then
			ktap_ok "fio randwrite with crc32c verify through nvme-tcp"
		else
			sed 's/^/# /' "$log"
			ktap_fail "fio randwrite with crc32c verify through nvme-tcp"
		fi
		nvme disconnect -n "$SUBNQN" > /dev/null
		ktap_check "disconnected" [ -z "$(find_ns)" ]
	else
		ktap_fail "connect to $SUBNQN over nvme-tcp"
	fi
	sp_barrier finished
}

ktap_header
if [ "$SP_ROLE" = a ]; then
	ktap_plan 3
	export_side
else
	ktap_plan 4
	import_side
fi
ktap_finish
