#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo, second part: borrowing pool space between two hosts, narrated,
# in two bench guests joined by a socket (selftests/run --demo2).  Guest a
# (10.99.0.1) lends from its pool; guest b (10.99.0.2) has a pool too small
# for the volume it wants, borrows 256 MiB from a over NVMe/TCP with
# 'slicepool remote request', makes the volume over its local member and
# the borrowed one, writes and reads data, and gives the space back.
# Lines from each guest are tagged [a] or [b].
set -eu
export DM_DISABLE_UDEV=1
. "$SP_TOP/selftests/lib/ktap.sh"	# sp_barrier, sp_die
. "$SP_TOP/selftests/remote-flow/agent-conf.sh"	# lender_conf, borrower_conf
read -r -a D <<< "$SP_DISKS"
SP="$SP_TOP/tools/slicepool/slicepool"
export SLICEPOOL_AGENT=$SP_TOP/nvmet-remote-ns/agent/slicepool-agent
W=/tmp/demo-remote
CONF=$W/agent.conf
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000d2

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

mkdir -p "$W"
run modprobe dm-slicepool

start_agent() {
	"$SLICEPOOL_AGENT" -c "$CONF" daemon >> "$W/agent.log" 2>&1 &
	AGENT_PID=$!
	for _ in $(seq 100); do
		grep -q "listening on" "$W/agent.log" 2>/dev/null && return 0
		sleep 0.2
	done
	sp_die "the agent did not start: $(tail -n 5 "$W/agent.log")"
}

stop_agent() {
	kill "$AGENT_PID"
	wait "$AGENT_PID" || true
}

lender() {
	say "Host a: a pool over two disks, lending to b"
	run modprobe nvmet-tcp
	run "$SP" pool create pa --slice-mb 16
	run "$SP" member add pa a1 --path "${D[0]}" --domain disk1
	run "$SP" member add pa a2 --path "${D[1]}" --domain disk2
	"$SLICEPOOL_AGENT" genkey "$W/key"
	cp "$W/key" "$SP_SYNC/agent-key"
	lender_conf "$W" > "$CONF"
	run cat "$CONF"
	start_agent
	echo "agent listening; every request must carry an HMAC with the shared key"
	sp_barrier up
	sp_barrier borrowed
	say "Host a: what it lends, exported with nvmet-tcp to b's host NQN only"
	run "$SP" export list --agent-config "$CONF"
	run ls /sys/kernel/config/nvmet/subsystems/
	run "$SP" status pa
	sp_barrier released
	say "Host a: the grant is given back: no export, the space is free again"
	run "$SP" export list --all --agent-config "$CONF"
	run ls /sys/kernel/config/nvmet/subsystems/
	run "$SP" status pa
	sp_barrier finished
	stop_agent
	run "$SP" pool remove pa
}

borrower() {
	local grant vol=384 sum now left
	say "Host b: a pool with one small local member (256 MiB)"
	run modprobe nvme-tcp
	run dmsetup create small --table "0 $((256 * 2048)) linear ${D[0]} 0"
	run "$SP" pool create pb --slice-mb 16
	run "$SP" member add pb b1 --path /dev/mapper/small --domain local
	sp_barrier up
	install -m 600 "$SP_SYNC/agent-key" "$W/key"
	borrower_conf "$W" "$HOSTNQN" "${HOSTNQN##*uuid:}" 60 > "$CONF"
	run cat "$CONF"
	start_agent
	say "Host b: a ${vol} MiB volume does not fit in the local pool"
	if run "$SP" vol create pb/v --size ${vol}M; then
		sp_die "the volume fitted: the demo expects it not to"
	fi
	say "Host b: ask a for 256 MiB: a carves a volume, exports it to b alone, b connects and adds it"
	run "$SP" peer list --agent-config "$CONF"
	run "$SP" remote request a --size 256M --agent-config "$CONF" | tee "$W/request.out"
	grant=$("$SP" --json remote list --agent-config "$CONF" |
		python3 -c 'import json, sys; print(json.load(sys.stdin)["borrowed"][0]["grant"])')
	run "$SP" remote list --agent-config "$CONF"
	run nvme list-subsys
	say "Host b: now the volume fits, over the local member and the borrowed one (domain remote:a)"
	run "$SP" vol create pb/v --size ${vol}M
	run "$SP" vol map pb/v
	say "Host b: write ${vol} MiB of data through /dev/mapper/pb-v and read it back"
	run dd if=/dev/urandom of=/tmp/data bs=1M count=$vol status=none
	run dd if=/tmp/data of=/dev/mapper/pb-v bs=1M oflag=direct status=none
	sum=$(md5sum < /tmp/data | cut -d' ' -f1)
	now=$(dd if=/dev/mapper/pb-v bs=1M iflag=direct status=none | md5sum | cut -d' ' -f1)
	echo "md5 written $sum, read back $now"
	[ "$now" = "$sum" ] || sp_die "DATA CHANGED"
	run "$SP" status pb
	sp_barrier borrowed
	say "Host b: giving the space back is refused while the member holds slices"
	if run "$SP" remote release "$grant" --agent-config "$CONF"; then
		sp_die "the release was accepted with data on the member"
	fi
	say "Host b: remove the volume, then give the grant back"
	run "$SP" vol remove pb/v
	run "$SP" remote release "$grant" --agent-config "$CONF"
	run "$SP" remote list --all --agent-config "$CONF"
	left=$(compgen -G "/sys/class/nvme-fabrics/ctl/nvme*" | wc -l)
	echo "nvme controllers left: $left"
	sp_barrier released
	sp_barrier finished
	stop_agent
	run "$SP" pool remove pb
	run dmsetup remove small
	say "Demo finished: b borrowed from a, used the space, and gave it back; nothing is left"
}

if [ "${SP_ROLE:-a}" = a ]; then
	lender
else
	borrower
fi
