#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A borrowed member over two paths, one of them cut under fio.
# Guest a lends with two "export" lines: nvmet ports 4420 (ANA group 1
# optimized) and 4421 (non-optimized).  b borrows 256 MiB: its agent
# connects to both, and native NVMe multipath makes one head namespace
# with two paths, which becomes b's member.  fio writes and verifies
# (crc32c, inline backlog) a volume over b's local and the borrowed
# member while a unlinks the subsystem from port 4420 (only that path's
# controller goes): I/O must carry on over the standby path (its own
# counters grow, the volume's too), 'slicepool status' must say so, and fio
# must end with no error.  Linked again, the optimized path is used
# again.  Give-back leaves no controller on b and no nvmet port,
# subsystem or host on a.  Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-flow/lib.sh"

SLICEPOOL=$SP_TOP/tools/slicepool/slicepool
FIO_LOG=$SP_ARTIFACTS/fio-multipath.log

lender() {
	local sub
	lender_setup
	echo "export $MY_TUN 4421" >> "$W/agent.conf"
	agent_up "a's agent listens, exporting on ports 4420 and 4421" "a's agent listens"
	barrier agents-up
	barrier borrowed

	one_subsystem
	sub=$SUB
	ktap_check "port 4420: tcp on $MY_TUN, linked to the subsystem" \
		port_is "$NV/ports/4420" "$MY_TUN" "$sub"
	ktap_check "port 4421: tcp on $MY_TUN, linked to the subsystem" \
		port_is "$NV/ports/4421" "$MY_TUN" "$sub"
	expect "ANA group 1: optimized on 4420, non-optimized on 4421" 0 \
		"optimized non-optimized" 0 \
		"$(oneline "$NV/ports/4420/ana_groups/1/ana_state" \
			"$NV/ports/4421/ana_groups/1/ana_state")"
	ktap_check "namespace 1 in ANA group 1" \
		[ "$(cat "$NV/subsystems/$sub/namespaces/1/ana_grpid" 2>/dev/null)" = 1 ]
	barrier fio-running
	# Cut the optimized path: its controllers go, port 4421 is untouched.
	ktap_check "path 4420 cut (subsystem unlinked from port 4420)" \
		rm "$NV/ports/4420/subsystems/$sub"
	barrier cut
	barrier standby-checked
	ktap_check "path 4420 restored" \
		ln -s "$NV/subsystems/$sub" "$NV/ports/4420/subsystems/$sub"
	barrier restored
	barrier released

	ktap_check "no agent subsystem is left" [ -z "$(agent_subsystems)" ]
	ktap_check "no nvmet port (4420, 4421), subsystem or host is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts"
	ktap_check "no volume of the grant is left" empty "$SP/pa/volumes"
	lender_done
}

# The writes (field 5 of the stat file) of block device $1.
writes_of() {
	awk '{print $5}' "/sys/block/$1/stat" 2>/dev/null
}

reads_of() {
	awk '{print $1}' "/sys/block/$1/stat" 2>/dev/null
}

# wait_ctrl <controller dir> <state> <seconds>
wait_ctrl() {
	local t=0
	[ -n "$1" ] || return 1
	until [ "$(cat "$1/state" 2>/dev/null)" = "$2" ]; do
		[ "$t" -lt $(($3 * 5)) ] || return 1
		sleep 0.2
		t=$((t + 1))
	done
}

# The path disks of head nvmeXnY: multipath/* (newer kernels) or, in 6.1,
# the nvmeXc*nY.
paths_of() {
	local h=$1 x y p
	[ -n "$h" ] || return 0
	if [ -d "/sys/block/$h/multipath" ]; then
		ls "/sys/block/$h/multipath"
		return
	fi
	x=${h#nvme}
	x=${x%%n*}
	y=${h##*n}
	for p in /sys/block/nvme"$x"c*n"$y"; do
		[ -e "$p" ] && echo "${p##*/}"
	done
}

same() {	# same <a> <b>: equal and not empty
	if [ -z "$1" ] || [ "$1" != "$2" ]; then
		echo "# '$2', want '$1'"
		return 1
	fi
}

one_dev() {	# one_dev <subsystem NQN> <devices>: exactly one, a block device
	[ -n "$1" ] && [ "$(wc -w <<< "$2")" = 1 ] && [ -b "$2" ]
}

two_set() {	# two_set <count> <a> <b>: two, and both found
	[ "$1" -eq 2 ] && all_set "$2" "$3"
}

wait_not_live() {	# wait_not_live <controller dir> <seconds>
	local t=0
	[ -n "$1" ] && [ -e "$1/state" ] || return 1
	while [ "$(cat "$1/state" 2>/dev/null)" = live ]; do
		[ "$t" -lt $(($2 * 5)) ] || return 1
		sleep 0.2
		t=$((t + 1))
	done
}

# The longest run of slices of pb/v on member $1: "<first> <count>".
remote_run() {
	awk -v m="$1" '$2 == m { if (NR - 1 == last + 1 && n) n++; else { s = NR - 1; n = 1 }
		last = NR - 1; if (n > bn) { bn = n; bs = s } }
		END { print bs + 0, bn + 0 }' "$SP/pb/volumes/v/map"
}

# grows <seconds> <function> <device>: the counter rises within the time
grows() {
	local before now t=0
	before=$("$2" "$3")
	[ -n "$3" ] && [ -n "$before" ] || return 1
	while now=$("$2" "$3") && [ -n "$now" ] && [ "$now" -le "$before" ]; do
		[ "$t" -lt $(($1 * 5)) ] || return 1
		sleep 0.2
		t=$((t + 1))
	done
}

# status_says <text>...: 'slicepool status pb' has every text
status_says() {
	local out s
	out=$("$SLICEPOOL" status pb 2>&1)
	for s in "$@"; do
		if ! grep -qE -- "$s" <<< "$out"; then
			printf '%s\n' "$out" | sed 's/^/# /'
			return 1
		fi
	done
}

# json_in_use: the path 'slicepool --json status pb' says is in use
json_in_use() {
	"$SLICEPOOL" --json status pb |
		jq -r --arg m "$MEMBER" '.pools[0].members[] | select(.name == $m) | .multipath.in_use'
}

borrower() {
	local dev head c p addr fio_pid rc n first count vol
	local -a ctrls paths
	local c1="" c2="" p1="" p2=""
	borrower_setup 120
	agent_up "b's agent listens on $SP_MY_IP:7450" "b's agent listens"
	expect "nvme_core native multipath is on" 0 Y 0 \
		"$(cat /sys/module/nvme_core/parameters/multipath 2>&1)"
	borrow_checked 256M
	mapfile -t ctrls < <(ctrl_of "$SUBNQN")
	for c in "${ctrls[@]}"; do
		addr=$(cat "$c/address" 2>/dev/null)
		case $addr in
		*trsvcid=4420*) c1=$c ;;
		*trsvcid=4421*) c2=$c ;;
		esac
	done
	ktap_check "two controllers of $SUBNQN: ports 4420 (${c1##*/}) and 4421 (${c2##*/})" \
		two_set "${#ctrls[@]}" "$c1" "$c2"
	dev=$(ns_of "$SUBNQN")
	head=${dev#/dev/}
	ktap_check "one head namespace: $dev" \
		one_dev "$SUBNQN" "$dev"
	mapfile -t paths < <(paths_of "$head")
	for p in "${paths[@]}"; do
		case $(cat "/sys/block/$p/device/address" 2>/dev/null) in
		*trsvcid=4420*) p1=$p ;;
		*trsvcid=4421*) p2=$p ;;
		esac
	done
	n=${#paths[@]}
	ktap_check "the head has two paths: $p1 (4420), $p2 (4421)" \
		two_set "$n" "$p1" "$p2"
	expect "ANA states: $p1 optimized, $p2 non-optimized" 0 \
		"optimized non-optimized" 0 \
		"$(oneline "/sys/block/$p1/ana_state" "/sys/block/$p2/ana_state")"
	expect "member $MEMBER of pb is the head $dev" 0 "$dev remote:a online" 0 \
		"$(cd "$SP/pb/members/$MEMBER" 2>/dev/null && oneline path domain state)"
	ktap_check "status: $MEMBER's paths, $p1 in use, $p2 standby" \
		status_says "member $MEMBER: NVMe multipath $head, .* 2 path\(s\), in use: $p1" \
		"$p1 +${c1##*/} +live +optimized +traddr=$PEER_TUN,trsvcid=4420.* in-use" \
		"$p2 +${c2##*/} +live +non-optimized +traddr=$PEER_TUN,trsvcid=4421.* standby"
	ktap_check "status --json: in_use $p1" same "$p1" "$(json_in_use 2>&1)"
	barrier borrowed

	if ! make_volume 384; then
		ktap_fail "volume pb/v over the local and the borrowed member"
		sp_die "no volume"
	fi
	ktap_check "volume pb/v spans b1 and $MEMBER" same "b1 $MEMBER" "$(volume_members)"
	read -r first count <<< "$(remote_run "$MEMBER")"
	vol=dm-$(dmsetup info -c --noheadings -o minor pb-v | tr -d ' ')
	# Sequential writes over the borrowed slices, each block read back
	# and checked soon after.
	fio --name=multipath --filename=/dev/mapper/pb-v --direct=1 \
		--offset=$((first * 16))m --size=$((count * 16))m \
		--ioengine=libaio --rw=write --bs=64k --iodepth=4 \
		--time_based --runtime=180 --verify=crc32c --verify_backlog=16 \
		--verify_fatal=1 --output="$FIO_LOG" &
	fio_pid=$!
	ktap_check "fio writes over the optimized path $p1" grows 30 writes_of "$p1"
	barrier fio-running
	barrier cut
	ktap_check "the controller of path 4420 leaves live" wait_not_live "$c1" 30
	ktap_check "I/O carries on over the standby path $p2" grows 30 writes_of "$p2"
	ktap_check "... and fio's writes to the volume go on" grows 30 writes_of "$vol"
	ktap_check "status: $p1 down, $p2 in use" \
		status_says "in use: $p2" "$p1 .* down" "$p2 +${c2##*/} +live +non-optimized .* in-use"
	ktap_check "status --json: in_use $p2" same "$p2" "$(json_in_use 2>&1)"
	ktap_check "fio still runs" kill -0 "$fio_pid"
	barrier standby-checked
	barrier restored
	ktap_check "the controller of path 4420 is live again" wait_ctrl "$c1" live 60
	n=$(reads_of "$p1")
	dd if="$dev" of=/dev/null bs=4k count=256 iflag=direct status=none
	ktap_check "reads go over the optimized path $p1 again" \
		[ "$(reads_of "$p1")" -gt "$n" ]
	ktap_check "status: $p1 in use, $p2 standby" \
		status_says "in use: $p1" "$p1 .* in-use" "$p2 .* standby"
	# Every check is done: stop fio (it exits 128 on the signal; 0 if
	# its 180 s ran out first) and read its verdict.
	kill -INT "$fio_pid" 2>/dev/null
	wait "$fio_pid"
	rc=$?
	if { [ $rc -eq 0 ] || [ $rc -eq 128 ]; } && grep -q "err= 0" "$FIO_LOG" &&
		! grep -qi "verify.*fail\|bad magic\|crc32c: verify" "$FIO_LOG"; then
		ktap_ok "fio with crc32c verify: no error across the cut and the return"
	else
		sed 's/^/# /' "$FIO_LOG"
		ktap_fail "fio with crc32c verify: exit $rc"
	fi

	drop_volume
	give_back "$GRANT" "release $GRANT" "no nvme controller is left (both paths disconnected)"
	member_gone
	borrower_done
}

flow_main 12 26
