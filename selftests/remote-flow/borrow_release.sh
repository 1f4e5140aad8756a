#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The whole borrowing flow between two guests, with the real agents.
# Guest a (10.99.0.1) has pool pa over two disks (their first PA_MIB
# MiB, lib.sh) and lends; guest b (10.99.0.2) has pool pb over one disk.
# b's agent asks a's for 256 MiB:
# a makes a volume in pa, exports it with nvmet-tcp to b's host NQN only
# (namespace uuid = the volume's), b connects with nvme-cli and adds the
# namespace to pb as a member in domain remote:a.  b then makes a volume
# over its local member and the borrowed one and verifies data on it with
# fio, and a finds a pattern b wrote at the mapped offset of its volume.
# a first writes a pattern over the first and last MiB of each of its
# free slices (a volume, then deleted): those MiBs of the lent volume must
# read as zeroes past the member's metadata, whatever slices it got.  Giving the grant back is refused
# while the member holds slices; once the volume is gone it leaves nothing
# behind: no nvme controller on b, no nvmet subsystem, namespace, host or
# port on a, no volume, and a's free space as before.  Traffic stays
# between the two guests.
. "$SP_TOP/selftests/remote-flow/lib.sh"

SPCLI=$SP_TOP/tools/slicepool/slicepool
# cli_json <python expression on d> <slicepool args>...: the tool's JSON
# output (run against this guest's agent configuration) satisfies it
# shellcheck disable=SC2317 # called through ktap_check
cli_json() {
	local expr=$1
	shift
	SLICEPOOL_AGENT=$AGENT "$SPCLI" --json "$@" --agent-config "$W/agent.conf" > "$W/cli.json" &&
		python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
			"$W/cli.json" "$expr"
}

OTHERNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000c2
OTHERID=5b1c0000-0000-4000-8000-0000000000c2

lender() {
	local before after sub vol uuid hosts dev off poff psum
	lender_setup "$PA_MIB"
	dirty_free_space
	before=$(free_slices pa)
	agent_up "a's agent listens on $SP_MY_IP:7450, lending from pool pa ($before free slices)" \
		"a's agent listens"
	barrier agents-up
	barrier borrowed

	one_subsystem
	sub=$SUB
	ktap_check "attr_allow_any_host is 0" \
		[ "$(cat "$NV/subsystems/$sub/attr_allow_any_host" 2>/dev/null)" = 0 ]
	hosts=$(ls "$NV/subsystems/$sub/allowed_hosts" 2>/dev/null)
	expect "only b's host NQN is allowed" 0 "$HOSTNQN" 0 "$hosts"
	ktap_check "... and nothing else" [ "$hosts" = "$HOSTNQN" ]
	vol=$(lent_volume)
	uuid=$(cat "$SP/pa/volumes/$vol/uuid" 2>/dev/null)
	ktap_check "namespace 1 is enabled, uuid and nguid = volume $vol's ($uuid)" \
		ns_is "$NV/subsystems/$sub/namespaces/1" "$uuid"
	dev=$(cat "$NV/subsystems/$sub/namespaces/1/device_path" 2>/dev/null)
	ktap_check "the namespace is the dm device $dev" [ "$dev" = "/dev/mapper/pa-$vol" ]
	off=$(cat "$SP_SYNC/data_offset" 2>/dev/null)
	ktap_check "the lent volume reads as zeroes past b's member metadata (${off:-?} bytes)" \
		zeroed_ends "/dev/mapper/pa-$vol" "${off:-0}" $((256 << 20))
	ktap_check "port 4420: tcp on $MY_TUN (the tunnel), linked to the subsystem" \
		port_is "$NV/ports/4420" "$MY_TUN" "$sub"
	after=$(free_slices pa)
	ktap_check "pool pa lent 16 slices of 16 MiB ($before -> $after free)" \
		[ $((before - after)) -eq 16 ]
	ktap_check "slicepool export list: the grant, active and exported to b" \
		cli_json '[(e["peer"], e["state"], e["exported"], e["subnqn"]) for e in d["exports"]] == [("b", "active", True, "'"$sub"'")] and not d["stray_subsystems"]' \
		export list
	barrier a-checked
	barrier pattern-written
	read -r poff psum < "$SP_SYNC/pattern"
	ktap_check "b's pattern is in a's volume $vol at the mapped offset (${poff:-?})" \
		[ "$(dd if="/dev/mapper/pa-$vol" bs=1M skip=$((${poff:-0} >> 20)) count=1 \
			iflag=direct status=none | md5sum | cut -d' ' -f1)" = "${psum:-none}" ]
	barrier pattern-checked
	barrier released

	ktap_check "no agent subsystem is left" [ -z "$(agent_subsystems)" ]
	nothing_lent_left "$vol"
	free_back "$before"
	ktap_check "a's ledger says released" \
		[ "$(awk '$1 == "grant" && $4 == "b" { print $3 }' "$W/state/grants")" = released ]
	ktap_check "a logged the grant" agent_log_has "granted .* to b "
	ktap_check "a logged the release" agent_log_has "released .* from b "
	lender_done
}

borrower() {
	local out dev ctrl l phys off
	borrower_setup 30
	agent_up "b's agent listens on $SP_MY_IP:7450" "b's agent listens"
	out=$("$AGENT" -c "$W/agent.conf" heartbeat a 2>&1)
	expect_line "heartbeat: a can lend" 0 \
		"peer a up: lendable [1-9][0-9]* bytes \\([^)]*\\), 0 grant\\(s\\) lent" $? "$out"
	out=$("$AGENT" -c "$W/agent.conf" borrow a 8G 2>&1)
	expect_line "borrowing 8 GiB is refused: no space (exit 3)" 3 \
		"slicepool-agent: a refused: no space: .+" $? "$out"
	borrow_checked 256M
	dev=$(ns_of "$SUBNQN")
	ctrl=$(ctrl_of "$SUBNQN")
	expect "connected over nvme-tcp to $SUBNQN: $dev, with the grant's uuid" \
		0 "tcp $GRANT_UUID" 0 \
		"$(oneline "$ctrl/transport" "/sys/block/${dev#/dev/}/uuid")"
	expect "ctrl_loss_tmo 30 and reconnect_delay 2 as configured" 0 "30 2" 0 \
		"$(oneline "$ctrl/ctrl_loss_tmo" "$ctrl/reconnect_delay")"
	expect "member $MEMBER of pb: $dev, domain remote:a, online" \
		0 "$dev remote:a online" 0 \
		"$(cd "$SP/pb/members/$MEMBER" 2>/dev/null && oneline path domain state)"
	cat "$SP/pb/members/$MEMBER/data_offset" > "$SP_SYNC/data_offset"
	ktap_check "slicepool remote list: grant $GRANT from a, active, member $MEMBER" \
		cli_json '[(g["grant"], g["peer"], g["state"], g["member"]) for g in d["borrowed"]] == [("'"$GRANT"'", "a", "active", "'"$MEMBER"'")]' \
		remote list
	ktap_check "slicepool peer list: a is up" \
		cli_json '[p["health"] for p in d["peers"] if p["name"] == "a"] == ["up"]' peer list
	ktap_expect_fail "another host NQN cannot connect to the grant" \
		nvme connect -t tcp -a "$PEER_TUN" -s 4420 -n "$SUBNQN" \
		--hostnqn="$OTHERNQN" --hostid="$OTHERID"
	barrier borrowed
	barrier a-checked

	# A volume over the local member and the borrowed one.
	if make_volume 384; then
		expect "volume pb/v spans b1 and $MEMBER" 0 "b1 $MEMBER" 0 "$(volume_members)"
		fio_verified remote v 384 \
			"fio randwrite with crc32c verify over local and borrowed slices"
	else
		ktap_fail "volume pb/v over the local and the borrowed member"
		ktap_fail "fio verify (no volume)"
	fi
	# A slice on the borrowed member gets a pattern: a finds it in its
	# volume at the member's data offset plus the mapped physical slice.
	read -r l phys < <(awk -v m="$MEMBER" '$2 == m { print $1, $3; exit }' \
		"$SP/pb/volumes/v/map" 2>/dev/null)
	off=$(cat "$SP/pb/members/$MEMBER/data_offset")
	head -c 1048576 /dev/urandom > "$W/pattern"
	if [ -n "${l:-}" ] && dd if="$W/pattern" of=/dev/mapper/pb-v bs=1M seek=$((l * 16)) \
		oflag=direct conv=notrunc status=none; then
		echo "$((off + phys * (16 << 20))) $(md5sum < "$W/pattern" | cut -d' ' -f1)" \
			> "$SP_SYNC/pattern"
	else
		echo "0 none" > "$SP_SYNC/pattern"
	fi
	barrier pattern-written
	barrier pattern-checked
	release_refused
	drop_volume
	give_back "$GRANT"
	member_gone
	out=$("$AGENT" -c "$W/agent.conf" status 2>&1)
	expect "b's status: the grant is released" 0 "$GRANT released from a" $? \
		"$(awk -v g="$GRANT" '$1 == g { print $1, $2, $3, $4 }' <<< "$out")"
	borrower_done
}

flow_main 21 18
