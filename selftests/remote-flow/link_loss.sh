#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Losing the link to the lender, shorter and longer than ctrl_loss_tmo.
# b borrows 256 MiB from a (ctrl_loss_tmo 12 s, reconnect_delay 2 s) and
# makes a 128 MiB volume over its local member and the borrowed one (8
# slices: a larger one only made fio and the slice reads longer).
#  1. While fio writes with crc32c verify, b's link goes down for 5 s
#     (ip link set eth0 down in guest b) and comes back: the nvme-tcp
#     controller reconnects, fio ends without an error and its verify
#     passes, and the member never failed.
#  2. The link goes down for good (20 s, beyond ctrl_loss_tmo): the
#     controller is given up, reads of the volume's slices on a fail and
#     reads of its local slices succeed with the data they had; the dm
#     status shows the borrowed member failed and the local one online.
#  3. The link comes back and the grant is given back: nothing is left on
#     either side.
# Traffic stays between the two guests.
#
# The data path is plain NVMe/TCP, not the WireGuard tunnel (flow_plain,
# lib.sh): what is tested is nvme-tcp's and the pool's answer to a lost
# link, and through the tunnel, whose encryption is emulated under TCG,
# the test took half as long again (borrow_release.sh, lender_restart.sh
# and multipath.sh keep the tunnel).  The link's loss is still silent to
# the established connection (the keep-alive finds it); reconnecting then
# fails at once (no route) instead of after a 5 s connect timeout.
. "$SP_TOP/selftests/remote-flow/lib.sh"
flow_plain

TMO=12

lender() {
	local before
	lender_setup
	before=$(free_slices pa)
	agent_up "a's agent listens"
	barrier agents-up
	barrier released
	ktap_check "no agent subsystem is left" [ -z "$(agent_subsystems)" ]
	ktap_check "no nvmet port, subsystem, namespace or host is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts"
	free_back "$before"
	lender_done
}

# slice_sum <logical slice>: md5 of that 16 MiB slice of pb/v, or "EIO"
slice_sum() {
	local s
	if s=$(set -o pipefail; dd if=/dev/mapper/pb-v bs=16M skip="$1" count=1 iflag=direct \
		status=none 2>/dev/null | md5sum | cut -d' ' -f1); then
		echo "$s"
	else
		echo EIO
	fi
}

# member_state <member>: its state in the dm status of pb-v
member_state() {
	dmsetup status pb-v | tr ' ' '\n' | sed -n "s/^$1:[0-9]*://p"
}

borrower() {
	local fio_pid rc ctrl l m s bad=0 good=0 local_ok=0 remote_eio=0
	local -a map sums
	borrower_setup $TMO
	agent_up "b's agent listens"
	borrow_checked 256M
	ctrl=$(ctrl_of "$SUBNQN")
	make_volume 128 || sp_die "cannot make pb/v"
	expect "volume pb/v spans b1 and $MEMBER" 0 "b1 $MEMBER" 0 "$(volume_members)"

	# ---- 1: a short outage under fio verify ----
	# 32 MiB written at 4 MiB/s at most: fio writes for 8 s or more, so
	# it is still writing when the link goes down and comes back.
	fio --name=linkloss --filename=/dev/mapper/pb-v --direct=1 --ioengine=libaio \
		--rw=randwrite --bs=256k --iodepth=4 --size=128m --io_size=32m \
		--rate=,4m --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --randrepeat=1 \
		--output="$SP_ARTIFACTS/fio-linkloss.log" &
	fio_pid=$!
	sleep 3
	ktap_check "fio is writing when the link goes down" kill -0 $fio_pid
	ip link set eth0 down
	sleep 5
	ip link set eth0 up
	ktap_check "... and still when it comes back 5 s later" kill -0 $fio_pid
	wait $fio_pid
	rc=$?
	if [ $rc -eq 0 ] && grep -q "err= 0" "$SP_ARTIFACTS/fio-linkloss.log"; then
		ktap_ok "fio ends without error and its crc32c verify passes"
	else
		sed 's/^/# /' "$SP_ARTIFACTS/fio-linkloss.log"
		ktap_fail "fio ends without error and its crc32c verify passes (exit $rc)"
	fi
	ktap_check "the controller reconnected ($(cat "$ctrl/state" 2>/dev/null))" \
		[ "$(cat "$ctrl/state" 2>/dev/null)" = live ]
	ktap_check "member $MEMBER never failed" [ "$(member_state "$MEMBER")" = online ]
	ktap_check "no I/O error was counted" \
		[ "$(dmsetup status pb-v | awk '{ print $8 }')" = 0 ]

	# ---- 2: the lender is gone for longer than ctrl_loss_tmo ----
	# Only the local slices' sums are compared after the loss (those on a
	# must fail), so only those are read before it.
	mapfile -t map < "$SP/pb/volumes/v/map"
	for l in "${!map[@]}"; do
		read -r _ m _ <<< "${map[l]}"
		[ "$m" != b1 ] || sums[l]=$(slice_sum "$l")
	done
	ip link set eth0 down
	# Wait for the controller to be deleted, at most ctrl_loss_tmo + 8 s.
	for _ in $(seq $(((TMO + 8) * 2))); do
		[ -e "$ctrl" ] || break
		sleep 0.5
	done
	ktap_check "the controller was given up after ctrl_loss_tmo" \
		[ ! -e "$ctrl" -o "$(cat "$ctrl/state" 2>/dev/null)" != live ]
	for l in "${!map[@]}"; do
		read -r _ m _ <<< "${map[l]}"
		s=$(slice_sum "$l")
		if [ "$m" = b1 ]; then
			if [ "$s" = "${sums[l]}" ]; then local_ok=$((local_ok + 1)); else bad=$((bad + 1)); fi
		else
			if [ "$s" = EIO ]; then remote_eio=$((remote_eio + 1)); else good=$((good + 1)); fi
		fi
	done
	echo "# slices: $local_ok local read back intact, $bad not; $remote_eio on a failed, $good did not"
	ktap_check "every local slice reads back with its data ($local_ok)" \
		[ "$bad" -eq 0 -a "$local_ok" -gt 0 ]
	ktap_check "every slice on a fails with an I/O error ($remote_eio)" \
		[ "$good" -eq 0 -a "$remote_eio" -gt 0 ]
	ktap_check "the dm status shows $MEMBER failed and b1 online" \
		[ "$(member_state "$MEMBER")" = failed -a "$(member_state b1)" = online ]
	ip link set eth0 up

	# ---- 3: give it back ----
	drop_volume
	give_back "$GRANT" "release $GRANT after the loss"
	member_gone
	borrower_done
}

flow_main 5 17
