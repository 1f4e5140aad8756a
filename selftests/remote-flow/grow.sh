#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Growing a grant online, between two guests with the real agents.
# a lends from pool pa over the first PA_MIB MiB of two disks (lib.sh;
# the ends of its free slices first set to 0xab, as in borrow_release.sh);
# b borrows 256 MiB and, with its local member draining (member attribute
# drain: no new slice goes to it), makes volume pb/v1 over all of the
# borrowed member and writes a pattern (fio: a 64 KiB block with its
# crc32c in every MiB, so in every slice).  b resizes the grant to
# 512 MiB: a's volume and its dm device are 512 MiB and a lent 16 slices
# more; nvmet's revalidate_size makes b's kernel see the new size by
# itself (b's agent says no rescan was needed); b's namespace (the head
# device) is 512 MiB and reads as zeroes past 256 MiB; the member took the
# 16 new slices (total and free; on metadata format 3 max_slices is the
# device's whole slices, so it grew too), the ledgers and 'slicepool
# remote list' say 512 MiB, a's lendable space went down by 256 MiB.  b
# makes pb/v2 on the new slices only and verifies it with fio (crc32c);
# v1's pattern is intact.  Refused, with nothing changed on either side: a
# smaller size, more than a can lend, a grant b never borrowed.  Giving
# back is refused while the member holds slices, then leaves nothing: no
# controller on b, no nvmet object or volume on a, a's free space as at
# the start.  Traffic stays between the guests.
#
# The data path is plain NVMe/TCP, not the WireGuard tunnel (flow_plain,
# lib.sh): what is tested is the grant's resize, which does not depend on
# the tunnel, and the tunnel's emulated encryption doubled the test's time
# (borrow_release.sh, lender_restart.sh and multipath.sh keep it).
. "$SP_TOP/selftests/remote-flow/lib.sh"
flow_plain

SPCLI=$SP_TOP/tools/slicepool/slicepool
MIB=1048576

# bytes <block device>: its size
bytes() {
	blockdev --getsize64 "$1" 2>/dev/null || echo 0
}

# grant_line <ledger file> <grant>: state and size of the grant
grant_line() {
	awk -v g="$2" '$2 == g { print $3, $5 }' "$1" 2>/dev/null
}

logged_refusals() {
	agent_log_has "to 128 MiB refused: bad value: .*shrinking" &&
		agent_log_has "to 8 GiB refused: no space"
}

lender() {
	local before lent grown vol sub dev
	lender_setup "$PA_MIB"
	dirty_free_space
	before=$(free_slices pa)
	agent_up "a's agent listens, lending from pool pa ($before free slices)" "a's agent listens"
	barrier agents-up
	barrier borrowed

	sub=$(agent_subsystems)
	vol=$(lent_volume)
	dev=/dev/mapper/pa-$vol
	lent=$(free_slices pa)
	ktap_check "a lent 16 slices for 256 MiB ($before -> $lent free)" \
		[ $((before - lent)) -eq 16 ]
	barrier resized

	expect "a's volume $vol is 512 MiB" 0 $((512 * MIB)) 0 \
		"$(cat "$SP/pa/volumes/$vol/size" 2>&1)"
	expect "its dm device is 512 MiB" 0 $((512 * MIB)) 0 "$(bytes "$dev")"
	ktap_check "nvmet exports the same device, namespace 1 enabled" \
		[ "$(oneline "$NV/subsystems/$sub/namespaces/1/device_path" \
			"$NV/subsystems/$sub/namespaces/1/enable")" = "$dev 1" ]
	grown=$(free_slices pa)
	ktap_check "a lent 16 slices more ($lent -> $grown free)" \
		[ $((lent - grown)) -eq 16 ]
	ktap_check "the new range of the lent volume reads as zeroes (a's 0xab is gone)" \
		zeroed_ends "$dev" $((256 * MIB)) $((512 * MIB))
	expect "a's ledger: the grant is active at 512 MiB" 0 "active $((512 * MIB))" 0 \
		"$(awk '$1 == "grant" && $4 == "b" { print $3, $5 }' "$W/state/grants")"
	ktap_check "a logged the resize" agent_log_has "resized .* of b .*: 256 MiB -> 512 MiB"
	barrier a-checked
	barrier refused

	expect "after the refusals a's volume is still 512 MiB" 0 $((512 * MIB)) 0 \
		"$(cat "$SP/pa/volumes/$vol/size" 2>&1)"
	expect "... its dm device too" 0 $((512 * MIB)) 0 "$(bytes "$dev")"
	ktap_check "... and a's free space did not change ($grown)" \
		[ "$(free_slices pa)" -eq "$grown" ]
	ktap_check "a logged the refusals: smaller, no space" logged_refusals
	barrier released

	nothing_lent_left "$vol"
	free_back "$before"
	lender_done
}

# went_down_by <before> <after> <amount>: both are numbers and
# before - after = amount
went_down_by() {
	[[ $1 =~ ^[0-9]+$ && $2 =~ ^[0-9]+$ ]] && [ $(($1 - $2)) -eq "$3" ]
}

# lendable: what a says it can lend now (bytes)
lendable() {
	"$AGENT" -c "$W/agent.conf" heartbeat a 2>/dev/null |
		sed -n 's/.*lendable \([0-9]*\) bytes.*/\1/p'
}

has_line() {	# has_line <line> <text>
	grep -qx -- "$1" <<< "$2"
}

has_text() {	# has_text <string> <text>
	grep -qF -- "$1" <<< "$2"
}

is_member_head() {	# is_member_head /dev/nvmeXnY: the member's path, no nvmeXcYnZ
	[ "$(cat "$SP/pb/members/$MEMBER/path" 2>/dev/null)" = "$1" ] &&
		[[ ${1#/dev/} != *c* ]] && [ -b "$1" ]
}

# listed_size <bytes>: 'slicepool remote list --json' shows one grant of it
listed_size() {
	SLICEPOOL_AGENT=$AGENT "$SPCLI" --json remote list --agent-config "$W/agent.conf" |
		python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if [g["size"] for g in d["borrowed"]] == [int(sys.argv[1])] else 1)' "$1"
}

slices_from() {	# slices_from <first> <volume>: every physical slice >= first
	awk -v m="$1" '$3 < m { bad = 1 } END { exit bad }' "$SP/pb/volumes/$2/map"
}

member_attr() {	# member_attr <attribute> [<attribute>...]
	(cd "$SP/pb/members/$MEMBER" 2>/dev/null && oneline "$@")
}

# v1_pattern <write|verify> <MiB>: a 64 KiB block in every MiB of pb/v1
# (crc32c), written, or read back and verified.
v1_pattern() {
	local extra=(--do_verify=0)
	[ "$1" = verify ] && extra=(--verify_only)
	fio --name=v1 --filename=/dev/mapper/pb-v1 --direct=1 --ioengine=libaio \
		--rw=write:960k --bs=64k --iodepth=8 --size="$2m" --io_size=$(($2 / 16))m \
		--verify=crc32c --verify_fatal=1 "${extra[@]}" \
		--output="$SP_ARTIFACTS/fio-v1-$1.log"
}

borrower() {
	local out rc dev head total0 max l0 l1 want
	borrower_setup 30
	agent_up "b's agent listens on $SP_MY_IP:7450" "b's agent listens"
	borrow_checked 256M
	dev=$(ns_of "$SUBNQN")
	head=${dev#/dev/}
	total0=$(cat "$SP/pb/members/$MEMBER/total_slices" 2>/dev/null)
	max=$(cat "$SP/pb/members/$MEMBER/max_slices" 2>/dev/null)
	ktap_check "member $MEMBER: $total0 slices of 16 MiB, max_slices $max (the device's whole slices)" \
		[ -n "$total0" -a "$max" = "$total0" ]
	barrier borrowed

	# v1: all of the borrowed member.  The local member drains (no new
	# slice goes to it) from now on: a format-3 pool writes no metadata
	# while a current member is disabled, so it stays enabled.
	echo 1 > "$SP/pb/members/b1/drain" || sp_die "drain b1"
	if make_volume $((total0 * 16)) v1; then
		expect "pb/v1 ($((total0 * 16)) MiB) is on $MEMBER only" 0 "$MEMBER" 0 \
			"$(volume_members v1)"
	else
		ktap_fail "pb/v1 over the borrowed member"
	fi
	v1_pattern write $((total0 * 16)) || echo "# writing v1's pattern failed (fio-v1-write.log)"
	l0=$(lendable)

	out=$("$AGENT" -c "$W/agent.conf" resize "$GRANT" 512M 2>&1)
	rc=$?
	printf '%s\n' "$out" | sed 's/^/# /'
	expect "resize $GRANT 512M: done" 0 "size $((512 * MIB))" $rc "$out"
	expect_line "b's kernel saw the new size by itself: nvmet's notice, no rescan asked" \
		0 ".*: (/dev/)?$head shows 512 MiB after [0-9]+ ms \\(nvmet's namespace-attribute notice\\)" \
		$rc "$out"
	expect "the namespace $dev (the head) is 512 MiB" 0 $((512 * MIB)) 0 "$(bytes "$dev")"
	ktap_check "$head is the member's device and a namespace head (not a path)" \
		is_member_head "$dev"
	want=$(((512 * MIB - $(cat "$SP/pb/members/$MEMBER/data_offset")) / (16 * MIB)))
	expect "member $MEMBER took the 16 new slices: total, free and max $want $((want - total0)) $want" \
		0 "$want $((want - total0)) $want" 0 \
		"$(member_attr total_slices free_slices max_slices)"
	expect "the agent reports them, and no slice left unusable" 0 \
		"added_slices $((want - total0))"$'\n'"total_slices $want"$'\n'"free_slices $((want - total0))" \
		$rc "$out"
	ktap_check "... unusable_slices 0" has_line "unusable_slices 0" "$out"
	expect "b's ledger: the grant is active at 512 MiB" 0 "active $((512 * MIB))" 0 \
		"$(grant_line "$W/state/borrowed" "$GRANT")"
	l1=$(lendable)
	ktap_check "a's lendable space went down by 256 MiB ($l0 -> $l1)" \
		went_down_by "$l0" "$l1" $((256 * MIB))
	ktap_check "the new range of the namespace reads as zeroes" \
		zeroed_ends "$dev" $((256 * MIB)) $((512 * MIB))
	barrier resized
	barrier a-checked

	# v2 on the new slices only, verified with fio.
	if make_volume 256 v2; then
		expect "pb/v2 (256 MiB) is on $MEMBER only" 0 "$MEMBER" 0 "$(volume_members v2)"
		ktap_check "... on the new physical slices ($total0 and above)" \
			slices_from "$total0" v2
		fio_verified grown v2 256 "fio randwrite with crc32c verify on the new slices"
	else
		ktap_fail "pb/v2 on the new slices"
		ktap_fail "pb/v2 placement (no volume)"
		ktap_fail "fio verify (no volume)"
	fi
	if v1_pattern verify $((total0 * 16)); then
		ktap_ok "v1's pattern (a 64 KiB block in each of its $((total0 * 16)) MiB) is unchanged"
	else
		sed 's/^/# /' "$SP_ARTIFACTS/fio-v1-verify.log"
		ktap_fail "v1's pattern is unchanged"
	fi

	# Refusals: nothing changes on either side.
	out=$("$AGENT" -c "$W/agent.conf" resize "$GRANT" 128M 2>&1)
	expect_line "resize to 128M (smaller) is refused by a (exit 3)" 3 \
		"slicepool-agent: a refused: bad value: .+" $? "$out"
	ktap_check "... saying a grant does not shrink" \
		has_text "shrinking it to 128 MiB is refused" "$out"
	out=$("$AGENT" -c "$W/agent.conf" resize "$GRANT" 8G 2>&1)
	expect_line "resize to 8G (more than a can lend) is refused: no space (exit 3)" 3 \
		"slicepool-agent: a refused: no space: .+" $? "$out"
	out=$("$AGENT" -c "$W/agent.conf" resize 0000000000000bad 1G 2>&1)
	expect "resize of a grant b never borrowed is refused (exit 1)" 1 \
		"slicepool-agent: no borrowed grant 0000000000000bad" $? "$out"
	expect "after the refusals: the namespace is 512 MiB, the member as it was" 0 \
		"$((512 * MIB)) $want" 0 "$(bytes "$dev") $(member_attr total_slices)"
	expect "... and b's ledger says 512 MiB" 0 "active $((512 * MIB))" 0 \
		"$(grant_line "$W/state/borrowed" "$GRANT")"
	ktap_check "slicepool remote list: the grant is 512 MiB" listed_size $((512 * MIB))
	barrier refused

	release_refused
	drop_volume v2
	drop_volume v1
	give_back "$GRANT"
	member_gone
	borrower_done
}

flow_main 18 30
