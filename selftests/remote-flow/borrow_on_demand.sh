#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Borrowing on demand: 'slicepool vol create --borrow' larger than the
# local space.  Guest a lends from pool pa (lib.sh); guest b's pool pb
# (metadata format 3, written before its member) has one member of
# 128 MiB, 7 slices of 16 MiB.  A 192 MiB volume (12 slices) is refused
# with ENOSPC while b's agent configuration does not allow borrowing:
# one more line says why, and nothing is borrowed, created or left.
# With 'borrow_on_demand pb', the same command borrows what is missing
# from a (whole slices and a member's metadata), says what it borrowed,
# and creates the volume over the local member and the borrowed one; a
# MiB written in each of its slices reads back.  Then 'slicepool vol
# resize pb/big --size 288M --borrow', with no slice free, borrows what
# the growth lacks from a as a second member (a lends exactly that), and
# grows the volume and its device online over it: the first data still
# reads back, and so does a MiB in each new slice.  The volume is removed
# and both grants given back.  Then b's daemon, restarted with
# 'borrow_threshold pb 160M', borrows ahead of need what brings pb's free
# space (112 MiB) back to 160 MiB, and logs it; given back too, nothing
# is left on either side.  The data
# path is plain NVMe/TCP (flow_plain): this is not the tunnel's test.
. "$SP_TOP/selftests/remote-flow/lib.sh"

SPCLI=$SP_TOP/tools/slicepool/slicepool
LOCAL_MIB=128
VOL_MIB=192
GROW_MIB=288
flow_plain

# lent_nothing <free slices before>: no subsystem, pa's free space as before
lent_nothing() {
	[ -z "$(agent_subsystems)" ] && [ "$(free_slices pa)" -eq "$1" ]
}

lender() {
	local before after grown mib
	lender_setup "$PA_MIB"
	before=$(free_slices pa)
	agent_up "a's agent listens, lending from pool pa ($before free slices)" \
		"a's agent listens"
	barrier agents-up
	barrier refused
	ktap_check "nothing was lent while b had no permission ($(free_slices pa) of $before slices free)" \
		lent_nothing "$before"
	barrier a-checked-refusal
	barrier borrowed
	one_subsystem
	after=$(free_slices pa)
	mib=$(cat "$SP_SYNC/borrowed_mib" 2>/dev/null)
	ktap_check "a lent the ${mib:-?} MiB b says it borrowed ($before -> $after free slices)" \
		[ $(((before - after) * 16)) -eq "${mib:-0}" ]
	barrier a-checked-borrow
	barrier grown
	grown=$(free_slices pa)
	mib=$(cat "$SP_SYNC/grown_mib" 2>/dev/null)
	ktap_check "a lent the ${mib:-?} MiB more b says it borrowed to grow ($after -> $grown free slices)" \
		[ $(((after - grown) * 16)) -eq "${mib:-0}" ]
	ktap_check "a exports two subsystems" [ "$(agent_subsystems | wc -l)" -eq 2 ]
	barrier a-checked-grow
	barrier released
	ktap_check "no nvmet port, subsystem, namespace or host is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts"
	free_back "$before"
	lender_done
}

# b_setup: borrower_setup, but pool pb on metadata format 3 over the first
# LOCAL_MIB MiB of b's first disk (dm-linear pb-d1).
b_setup() {
	modprobe nvme-tcp || sp_die "cannot load nvme-tcp"
	# shellcheck disable=SC2154 # disks: lib.sh
	dmsetup create pb-d1 --table "0 $((LOCAL_MIB << 11)) linear ${disks[0]} 0" ||
		sp_die "cannot make pb-d1"
	if ! { mkdir "$SP/pb" && echo 16 > "$SP/pb/slice_mb" &&
		echo 3 > "$SP/pb/metadata_format" && mkdir "$SP/pb/members/b1" &&
		echo /dev/mapper/pb-d1 > "$SP/pb/members/b1/path" &&
		echo local > "$SP/pb/members/b1/domain" &&
		echo 1 > "$SP/pb/members/b1/enable"; }; then
		sp_die "cannot make pool pb"
	fi
	[ "$(cat "$SP/pb/metadata_format")" = 3 ] || sp_die "pool pb is not on metadata format 3"
	barrier agents-up
	install -m 600 "$SP_SYNC/agent-key" "$W/key"
	borrower_conf "$W" "$HOSTNQN" "$HOSTID" 30 > "$W/agent.conf"
	conf_extra
}

# b_create: slicepool vol create pb/big --size VOL_MIB M --borrow; OUT
# and RC for the caller.
b_create() {
	OUT=$(SLICEPOOL_AGENT=$AGENT "$SPCLI" vol create "pb/big" --size "${VOL_MIB}M" \
		--borrow --agent-config "$W/agent.conf" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/# /'
}

one_controller() {	# exactly one nvme-fabrics controller
	[ "$(compgen -G "/sys/class/nvme-fabrics/ctl/nvme*" | wc -l)" -eq 1 ]
}

# b_resize: slicepool vol resize pb/big --size GROW_MIB M --borrow; OUT and
# RC for the caller.
b_resize() {
	OUT=$(SLICEPOOL_AGENT=$AGENT "$SPCLI" vol resize "pb/big" --size "${GROW_MIB}M" \
		--borrow --agent-config "$W/agent.conf" 2>&1)
	RC=$?
	printf '%s\n' "$OUT" | sed 's/^/# /'
}

# The grant lines of b's ledger of borrowed grants (none if it is not there).
b_grants() {
	awk '$1 == "grant"' "$W/state/borrowed" 2>/dev/null | wc -l
}

# wait_log <ERE> <seconds>: until a line of the agent's log matches.
wait_log() {
	local t=0
	until grep -qE -- "$1" "$LOG" || [ $t -ge $(($2 * 5)) ]; do
		sleep 0.2
		t=$((t + 1))
	done
}

# borrowed_nothing: no volume pb/big, no grant in b's ledger, pb's only
# member is b1.
borrowed_nothing() {
	[ ! -e "$SP/pb/volumes/big" ] && [ "$(b_grants)" -eq 0 ] &&
		[ "$(ls "$SP/pb/members")" = b1 ]
}

# readback <from MiB> <to MiB> <member>: a MiB of random data in each
# slice of pb/big from <from> to <to> MiB (the pattern file is kept: the
# slices before <from> are read back from it too), then every slice up to
# <to> read back (O_DIRECT) the same; fails if there was no slice or none
# on <member>.
readback() {
	local first=$(($1 / 16)) n=$(($2 / 16)) i ok=0 on
	head -c $(((n - first) << 20)) /dev/urandom >> "$W/pattern"
	for ((i = first; i < n; i++)); do
		dd if="$W/pattern" of=/dev/mapper/pb-big bs=1M skip="$i" seek=$((i * 16)) \
			count=1 oflag=direct conv=notrunc status=none || return 1
	done
	for ((i = 0; i < n; i++)); do
		cmp -s <(dd if=/dev/mapper/pb-big bs=1M skip=$((i * 16)) count=1 \
			iflag=direct status=none) \
			<(dd if="$W/pattern" bs=1M skip="$i" count=1 status=none) &&
			ok=$((ok + 1))
	done
	on=$(awk -v m="$3" '$2 == m' "$SP/pb/volumes/big/map" | wc -l)
	echo "# $ok of $n slices read back, $on of them on $3"
	[ "$n" -gt 0 ] && [ "$ok" -eq "$n" ] && [ "$on" -gt 0 ]
}

borrower() {
	local re
	b_setup
	agent_up "b's agent listens on $SP_MY_IP:7450" "b's agent listens"

	# No permission: ENOSPC, and why nothing was borrowed.
	b_create
	expect "vol create ${VOL_MIB}M --borrow without permission: ENOSPC, and why no borrow was made" \
		1 "slicepool: cannot allocate $((VOL_MIB << 20)) bytes for volume 'pb/big': No space left on device (too few free slices: add members or use a smaller size)
slicepool: no borrow made: pool pb does not allow borrowing on demand (no 'borrow_on_demand pb' in $W/agent.conf)" \
		"$RC" "$OUT"
	ktap_check "nothing borrowed or left: no volume, no grant, only member b1" \
		borrowed_nothing
	barrier refused
	barrier a-checked-refusal

	# Allowed: the same command borrows and creates the volume.
	echo "borrow_on_demand pb" >> "$W/agent.conf"
	b_create
	re="borrowed ([0-9]+) MiB from a as member (rm-[0-9a-f]+) \\(grant ([0-9a-f]{16})\\)"
	expect_line "vol create ${VOL_MIB}M --borrow: it says what it borrowed" 0 "$re" "$RC" "$OUT"
	[[ $(grep -xE -- "$re" <<< "$OUT") =~ $re ]] || true
	echo "${BASH_REMATCH[1]:-0}" > "$SP_SYNC/borrowed_mib"
	MEMBER=${BASH_REMATCH[2]:-none}
	GRANT=${BASH_REMATCH[3]:-none}
	expect "... and created the volume" 0 \
		"created volume pb/big: ${VOL_MIB}MiB ($((VOL_MIB << 20)) bytes), $((VOL_MIB / 16)) slices, device /dev/mapper/pb-big" \
		"$RC" "$OUT"
	expect "member $MEMBER of pb: domain remote:a, online, enabled" 0 "remote:a online 1" 0 \
		"$(cd "$SP/pb/members/$MEMBER" 2>/dev/null && oneline domain state enable)"
	expect "volume pb/big spans b1 and $MEMBER" 0 "b1 $MEMBER" 0 "$(volume_members big)"
	barrier borrowed
	barrier a-checked-borrow
	rm -f "$W/pattern"
	ktap_check "a MiB written in each slice of pb/big reads back" \
		readback 0 "$VOL_MIB" "$MEMBER"

	# Growing with no slice free: vol resize --borrow borrows again.
	b_resize
	expect_line "vol resize ${GROW_MIB}M --borrow: it says what it borrowed" 0 "$re" "$RC" "$OUT"
	[[ $(grep -xE -- "$re" <<< "$OUT") =~ $re ]] || true
	echo "${BASH_REMATCH[1]:-0}" > "$SP_SYNC/grown_mib"
	MEMBER2=${BASH_REMATCH[2]:-none}
	GRANT2=${BASH_REMATCH[3]:-none}
	expect "... and grew the volume" 0 \
		"resized volume pb/big: ${GROW_MIB}MiB ($((GROW_MIB << 20)) bytes), $((GROW_MIB / 16)) slices, device /dev/mapper/pb-big" \
		"$RC" "$OUT"
	expect "volume pb/big spans b1, $MEMBER and $MEMBER2" 0 \
		"$(printf '%s\n' b1 "$MEMBER" "$MEMBER2" | sort | paste -sd' ' -)" 0 \
		"$(volume_members big)"
	expect "device pb-big grew online to ${GROW_MIB} MiB" 0 "$((GROW_MIB << 20))" 0 \
		"$(blockdev --getsize64 /dev/mapper/pb-big 2>&1)"
	barrier grown
	barrier a-checked-grow
	ktap_check "the first ${VOL_MIB} MiB read back, and a MiB in each new slice" \
		readback "$VOL_MIB" "$GROW_MIB" "$MEMBER2"

	dmsetup remove pb-big
	echo 0 > "$SP/pb/volumes/big/size"
	rmdir "$SP/pb/volumes/big"
	OUT=$("$AGENT" -c "$W/agent.conf" release "$GRANT2" 2>&1)
	expect "release $GRANT2 (the resize's)" 0 "released $GRANT2" $? "$OUT"
	ktap_check "one nvme controller is left: the first grant's" one_controller
	MEMBER=$MEMBER2 member_gone
	give_back "$GRANT"
	member_gone

	# Ahead of need: below 160 MiB free (112 MiB now) b's daemon borrows.
	echo "borrow_threshold pb 160M 600" >> "$W/agent.conf"
	stop_agent
	agent_up "b's agent restarts with borrow_threshold pb 160M" "b's agent restarts"
	re="borrowed 64 MiB from a as member (rm-[0-9a-f]+) \\(grant ([0-9a-f]{16})\\) ahead of need"
	wait_log "$re" 40
	expect_line "b's daemon borrowed 48 MiB short of 160 MiB ahead of need (3 slices and one of metadata)" \
		0 ".*$re" 0 "$(grep -E -- "$re" "$LOG")"
	[[ $(grep -oE -- "$re" "$LOG") =~ $re ]] || true
	MEMBER=${BASH_REMATCH[1]:-none}
	GRANT=${BASH_REMATCH[2]:-none}
	expect "member $MEMBER of pb: domain remote:a, online, enabled" 0 "remote:a online 1" 0 \
		"$(cd "$SP/pb/members/$MEMBER" 2>/dev/null && oneline domain state enable)"
	give_back "$GRANT"
	member_gone
	borrower_done
	dmsetup remove --retry pb-d1
}

flow_main 9 26
