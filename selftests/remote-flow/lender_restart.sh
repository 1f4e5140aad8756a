#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reconcile on the real kernel: b borrows 256 MiB from a and writes data
# over its local and the borrowed member.  a's agent is then killed
# (SIGKILL) and a "reboot" of its storage state is simulated: the nvmet
# port, subsystem, namespace and host are removed, the dm device too, the
# volume unbound (it is then only in "discovered"), the WireGuard tunnel
# and the exports' guard (nftables table inet slicepool_agent) removed.
# A stray volume rg-* (of no grant, holding 0xab: a borrower's data) and
# a stray subsystem of the agent's name appear as well.  When a's agent
# starts again it sets the tunnel up again, and its guard (b's tunnel
# address alone reaches port 4420), and its ledger says the grant is
# active: it binds the volume, creates the dm device and exports it
# again (on the tunnel address); it removes the strays, the volume
# zeroed whole before it is deleted (its slice reads as zeroes on the
# member).  b's controller reconnects by itself (ctrl_loss_tmo) and b
# reads back and verifies everything it wrote (a 64 KiB block in every
# MiB).  Then the grant is given back and nothing is left.
. "$SP_TOP/selftests/remote-flow/lib.sh"
. "$SP_TOP/selftests/lib/kmsg.sh"

STRAY_VOL=rg-00000000000000aa
STRAY_SUB=${PREFIX}00000000000000bb
GUARD=slicepool_agent

# Removes a's storage state of the grant as a reboot would.
forget_export() {
	local sub=$1 vol=$2 h
	rm -f "$NV/ports/4420/subsystems/$sub"
	rmdir "$NV/ports/4420"
	echo 0 > "$NV/subsystems/$sub/namespaces/1/enable"
	rmdir "$NV/subsystems/$sub/namespaces/1"
	for h in "$NV/subsystems/$sub"/allowed_hosts/*; do rm -f "$h"; done
	rmdir "$NV/subsystems/$sub"
	rmdir "$NV/hosts/$HOSTNQN"
	dmsetup remove "pa-$vol" && rmdir "$SP/pa/volumes/$vol"
	ip link del dev "$TUN_IF"
	nft delete table inet "$GUARD"
}

# The storage state, the tunnel and the guard are gone, as after a reboot.
rebooted_away() {
	empty "$NV/ports" "$NV/subsystems" "$SP/pa/volumes" &&
		[ ! -e "/sys/class/net/$TUN_IF" ] &&
		! nft list table inet "$GUARD" > /dev/null 2>&1
}

# guard_back: the guard's table is there and lets b's tunnel address alone
# reach port 4420 (exactly these two rules for the port; a line as nft
# lists it, its indentation (tabs) dropped).
guard_back() {
	local rules
	rules=$(nft list table inet "$GUARD" 2>/dev/null) || return 1
	rules=${rules//$'\t'/}
	grep -qxF "ip daddr $MY_TUN tcp dport 4420 iifname \"$TUN_IF\" ip saddr $PEER_TUN accept comment \"b\"" <<< "$rules" &&
		grep -qxF "ip daddr $MY_TUN tcp dport 4420 reject with tcp reset" <<< "$rules" &&
		[ "$(grep -c "tcp dport 4420" <<< "$rules")" -eq 2 ]
}

# log_line <message>: the agent logged exactly that message.
log_line() {
	sed -n 's/^[0-9-]* [0-9:]* slicepool-agent: [a-z]*: //p' "$LOG" |
		grep -qxF -- "$1"
}

# stray_slice: the 16 MiB of the stray volume's slice on its member,
# read around the page cache (the pool writes below it).
stray_slice() {
	dd if="$STRAY_DEV" bs=1M count=16 skip="$STRAY_AT" iflag=direct,skip_bytes \
		status=none
}

# stray_volume: $STRAY_VOL, one slice filled with 0xab (a borrower's data
# as far as the agent knows), its dm device gone again; its member's
# device and the slice's byte offset on it in STRAY_DEV and STRAY_AT.
stray_volume() {
	local m p
	mkdir "$SP/pa/volumes/$STRAY_VOL" && echo 16M > "$SP/pa/volumes/$STRAY_VOL/size" &&
		dmsetup create "pa-$STRAY_VOL" --table "0 32768 slicepool pa $STRAY_VOL" ||
		return 1
	tr '\0' '\253' < /dev/zero | head -c $((16 << 20)) > "$W/dirt"
	dd if="$W/dirt" of="/dev/mapper/pa-$STRAY_VOL" bs=1M oflag=direct status=none &&
		dmsetup remove "pa-$STRAY_VOL" || return 1
	read -r _ m p < "$SP/pa/volumes/$STRAY_VOL/map"
	STRAY_DEV=$(cat "$SP/pa/members/$m/path") &&
		STRAY_AT=$(($(cat "$SP/pa/members/$m/data_offset") + p * (16 << 20))) &&
		stray_slice | cmp -s - "$W/dirt" &&
		echo "# $STRAY_VOL: slice $p of member $m ($STRAY_DEV at byte $STRAY_AT)"
}

# stray_zeroed: the slice the stray volume had reads as zeroes.
stray_zeroed() {
	stray_slice | cmp -s -n $((16 << 20)) - /dev/zero
}

# The agent set its tunnel up at both starts, and the interface is there.
tunnel_back() {
	[ -e "/sys/class/net/$TUN_IF" ] &&
		[ "$(grep -c "tunnel $TUN_IF up: $MY_TUN/24" "$LOG")" -eq 2 ]
}

lender() {
	local before sub vol uuid
	lender_setup
	before=$(free_slices pa)
	agent_up "a's agent listens"
	barrier agents-up
	barrier written

	sub=$(agent_subsystems)
	vol=$(lent_volume)
	uuid=$(cat "$SP/pa/volumes/$vol/uuid" 2>/dev/null)
	ktap_check "a lends $vol as $sub" all_set "$vol" "$sub" "$uuid"
	stop_agent KILL
	expect "a's agent is killed (SIGKILL)" 137 "" $? ""
	forget_export "$sub" "$vol"
	ktap_check "the export, the dm device, the binding, the tunnel and the guard are gone" \
		rebooted_away
	ktap_check "the volume is only discovered" grep -q "^$vol " "$SP/pa/discovered"
	# Strays: a volume and a subsystem named as the agent's, of no grant.
	ktap_check "a stray volume $STRAY_VOL holds 0xab" stray_volume
	mkdir "$NV/subsystems/$STRAY_SUB"
	mkdir "$SP/pa/volumes/keep" && echo 16M > "$SP/pa/volumes/keep/size"

	agent_up "a's agent starts again"
	ktap_check "reconcile exported the active grant again" \
		agent_log_has "grant .* of b exported again as $sub"
	ktap_check "the namespace is back, with the volume's uuid" \
		ns_is "$NV/subsystems/$sub/namespaces/1" "$uuid"
	ktap_check "the tunnel is back (set up a second time)" tunnel_back
	ktap_check "the exports' guard is back: b's tunnel address alone reaches port 4420" \
		guard_back
	ktap_check "the port is back, on the tunnel address" port_is "$NV/ports/4420" "$MY_TUN" "$sub"
	ktap_check "the volume is bound and its dm device exists" \
		dmsetup info "pa-$vol"
	ktap_check "the stray volume was deleted" [ ! -e "$SP/pa/volumes/$STRAY_VOL" ]
	ktap_check "... zeroed first: its slice reads as zeroes" stray_zeroed
	ktap_check "... and logged" \
		log_line "reconcile: zeroed and deleted volume pa/$STRAY_VOL of no grant"
	ktap_check "the stray subsystem was removed" [ ! -e "$NV/subsystems/$STRAY_SUB" ]
	ktap_check "another volume was left alone" [ -d "$SP/pa/volumes/keep" ]
	echo 0 > "$SP/pa/volumes/keep/size"
	rmdir "$SP/pa/volumes/keep"
	barrier restored
	barrier released

	ktap_check "nothing of the grant is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts" "$SP/pa/volumes"
	ktap_check "pool pa has its free space back" [ "$(free_slices pa)" -eq "$before" ]
	lender_done "a's agent stops"
}

# Waits up to 60 s for the controller of $1 to be live again.
wait_live() {
	local c t=0
	c=$(ctrl_of "$1")
	while [ "$(cat "$c/state" 2>/dev/null)" != live ]; do
		sleep 1
		t=$((t + 1))
		[ $t -lt 60 ] || return 1
	done
	echo "# controller ${c##*/} live again after ${t}s"
}

fio_job() {	# fio_job <write|verify>
	local extra=(--do_verify=0)
	[ "$1" = verify ] && extra=(--verify_only)
	fio --name=restart --filename=/dev/mapper/pb-v --direct=1 \
		--ioengine=libaio --rw=write:960k --bs=64k --iodepth=8 --size=384m --io_size=24m \
		--verify=crc32c --verify_fatal=1 "${extra[@]}" \
		--output="$SP_ARTIFACTS/fio-$1.log"
}

borrower() {
	borrower_setup 120
	borrow_checked 256M
	if make_volume 384 && fio_job write; then
		ktap_ok "a 64 KiB block in every MiB of 384 MiB written over b1 and $MEMBER ($(volume_members))"
	else
		ktap_fail "a volume over b1 and $MEMBER, written"
	fi
	kmsg_mark
	barrier written
	barrier restored
	ktap_check "the controller is live again" wait_live "$SUBNQN"
	ktap_check "... after losing its connection and reconnecting by itself" \
		kmsg_has "nvme[0-9]+: Successfully reconnected"
	if fio_job verify; then
		ktap_ok "every block written (24 of the 384 MiB) read back and verified after a's restart"
	else
		sed 's/^/# /' "$SP_ARTIFACTS/fio-verify.log"
		ktap_fail "every block written (24 of the 384 MiB) read back and verified after a's restart"
	fi
	ktap_check "member $MEMBER is online" \
		[ "$(cat "$SP/pb/members/$MEMBER/state" 2>/dev/null)" = online ]
	drop_volume
	give_back "$GRANT"
	barrier released
	barrier finished
	drop_pool pb
}

flow_main 21 8
