#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Revocation and leases between two guests, with the real agents
# (Documentation/nvmet-remote-ns.rst, "Revocation and leases").
#  1. b borrows 128 MiB from a and makes a 64 MiB volume over its local
#     member and the borrowed one.  c, a third peer of b with a key of
#     its own (b's configuration names it; a REVOKE of a's grant is
#     crafted and signed with c's key in guest a, as c's agent would),
#     asks b for a's grant back: refused as not the owner, logged, the
#     member and the grant untouched.
#  2. While fio writes with crc32c verify over the volume, in one run
#     after another, a's operator revokes the grant: b accepts, moves the
#     member's slices off (slicepool member evacuate, live) and gives the
#     grant back.  Every fio run passes its verify, the member is gone
#     from pb, the volume is all on b1, and a's ledger says released with
#     its volume gone and pa's space back.
#  3. b borrows 64 MiB and writes a pattern into the new member; then its
#     agent stops (b is gone).  a's lease (8 s) fences the grant: the
#     export is removed, b can no longer read the namespace, a's volume
#     still holds the pattern; 'release-fenced' then clears it and pa has
#     its space back.
# The data path is plain NVMe/TCP (flow_plain): the behaviour is the
# agents', not the tunnel's.  Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-flow/lib.sh"
flow_plain

SPCLI=$SP_TOP/tools/slicepool/slicepool
LEASE=8

# c_revoke <key file> <grant>: a REVOKE of <grant> from node "c" to b,
# signed with <key file> (the framing of nvmet-remote-ns.rst); prints
# "error <code> <text>" or "reply <type>".
c_revoke() {
	python3 - "$1" "$SP_PEER_IP" 7450 "$2" <<-'EOF'
	import hashlib, hmac, os, socket, struct, sys, time
	key = bytes.fromhex(open(sys.argv[1]).read().strip())
	gid = int(sys.argv[4], 16)
	def field(tag, v):
	    return struct.pack('>HH', tag, len(v)) + v
	body = field(1, b'c') + field(2, b'b') + field(9, struct.pack('>Q', gid))
	fr = b'SPAG' + struct.pack('>BBHIQ', 1, 0x07, 0, 36 + len(body) + 32,
	                           int(time.time() * 1000)) + os.urandom(16) + body
	fr += hmac.new(key, fr, hashlib.sha256).digest()
	s = socket.create_connection((sys.argv[2], int(sys.argv[3])), 10)
	s.sendall(fr)
	r = b''
	while True:
	    d = s.recv(4096)
	    if not d:
	        break
	    r += d
	f, i, code, text = r[36:-32], 0, 0, ''
	while i + 4 <= len(f):
	    tag, n = struct.unpack('>HH', f[i:i + 4])
	    if tag == 16:
	        code = struct.unpack('>H', f[i + 4:i + 6])[0]
	    if tag == 17:
	        text = f[i + 4:i + 4 + n].decode()
	    i += 4 + n
	print('error %d %s' % (code, text) if r[5] == 0xff else 'reply %#x' % r[5])
	EOF
}

grant_state() {	# grant_state <grant>: its state in a's ledger
	awk -v g="$1" '$1 == "grant" && $2 == g { print $3 }' "$W/state/grants"
}

# wait_for <seconds> <command>...: until the command succeeds
wait_for() {
	local t=$1
	shift
	until "$@"; do
		t=$((t - 1))
		[ "$t" -ge 0 ] || return 1
		sleep 1
	done
}

is_state() {	# is_state <grant> <state>
	[ "$(grant_state "$1")" = "$2" ]
}

lender() {
	local before out g1 g2 off psum
	lender_setup
	echo "lease $LEASE" >> "$W/agent.conf"
	if ! { "$AGENT" genkey "$W/ckey" && cp "$W/ckey" "$SP_SYNC/c-key"; }; then
		sp_die "cannot make c's key"
	fi
	before=$(free_slices pa)
	agent_up "a's agent listens, lease $LEASE s"
	barrier agents-up
	barrier borrowed
	g1=$(cat "$SP_SYNC/grant1")
	out=$(c_revoke "$W/ckey" "$g1" 2>&1)
	expect "c's REVOKE of a's grant $g1: b refuses, not the owner" 0 \
		"error 9 grant $g1 was not lent by c" $? "$out"
	barrier c-tried
	barrier fio-running
	out=$("$AGENT" -c "$W/agent.conf" revoke "$g1" 2>&1)
	expect "revoke $g1: b accepts" 0 \
		"revoking $g1: b accepted; it moves its slices off, then gives the grant back ('status' shows how it goes)" \
		$? "$out"
	ktap_check "a's ledger: revoking, then released (b moved off and gave it back)" \
		wait_for 240 is_state "$g1" released
	ktap_check "b's progress reached a" \
		agent_log_has "revoke of $g1: b (.*) reports: moving the slices of member"
	ktap_check "no agent subsystem is left" [ -z "$(agent_subsystems)" ]
	free_back "$before"
	barrier revoked

	barrier borrowed2
	read -r g2 off psum < "$SP_SYNC/grant2"
	barrier b-gone
	ktap_check "the lease fences $g2 once b is gone ($LEASE s)" \
		wait_for 60 is_state "$g2" fenced
	ktap_check "a logged it" agent_log_has "fenced $g2: its borrower b was not heard for"
	out=$("$AGENT" -c "$W/agent.conf" status 2>&1)
	expect_line "status shows it fenced" 0 "    fenced: b not heard for [0-9]+ s \\(lease $LEASE s\\)" $? "$out"
	ktap_check "its export is disabled (no agent subsystem)" [ -z "$(agent_subsystems)" ]
	ktap_check "its volume keeps b's data (the pattern at ${off:-?})" \
		[ "$(dd if="/dev/mapper/pa-rg-$g2" bs=1M skip=$((${off:-0} >> 20)) count=1 \
			iflag=direct status=none | md5sum | cut -d' ' -f1)" = "${psum:-none}" ]
	barrier fenced
	barrier b-checked
	out=$("$AGENT" -c "$W/agent.conf" release-fenced "$g2" 2>&1)
	expect "release-fenced $g2" 0 "released $g2" $? "$out"
	nothing_lent_left "rg-$g2"
	free_back "$before"
	barrier released
	lender_done
}

# fio_loop: fio write-and-verify runs over pb-v, one after another, until
# $W/stop exists; each run's number, exit status, start and end (s) in
# $W/fio.runs.  4 MiB at random in 64 KiB blocks, at 2 MiB/s: unthrottled,
# the migration's passes chased fio's writes and the evacuation took
# minutes under TCG.
fio_loop() {
	local i=0 t0 rc
	until [ -e "$W/stop" ]; do
		i=$((i + 1))
		t0=$(date +%s)
		fio --name="revoke$i" --filename=/dev/mapper/pb-v --direct=1 \
			--ioengine=libaio --rw=randwrite --bs=64k --iodepth=8 \
			--size=64m --io_size=4m --rate=2m --verify=crc32c \
			--verify_fatal=1 --do_verify=1 --randseed="$i" \
			--output="$SP_ARTIFACTS/fio-$i.log" > /dev/null 2>&1
		rc=$?
		echo "$i $rc $t0 $(date +%s)" >> "$W/fio.runs"
	done
}

# fio_ok <from> <to>: every run passed, and runs covered [from, to].
fio_ok() {
	awk -v a="$1" -v b="$2" '
		$2 != 0 { bad = 1 }
		$3 <= a { first = 1 }
		$4 >= b { last = 1 }
		END { exit !(NR >= 2 && !bad && first && last) }' "$W/fio.runs"
}

untouched() {	# untouched <member>: still in pb, pb/v still on it
	[ -e "$SP/pb/members/$1" ] && [ "$(volume_members)" = "b1 $1" ]
}

borrower() {
	local out g1 m1 dev off t_acc t_gone fio_pid
	borrower_setup 10
	install -m 600 "$SP_SYNC/c-key" "$W/ckey"
	printf '%s\n' "peer c $SP_PEER_IP 7452" "peer_key c $W/ckey" \
		"slicepool_cli $SPCLI" >> "$W/agent.conf"
	agent_up "b's agent listens (peers a and c)"
	borrow_checked 128M
	g1=$GRANT
	m1=$MEMBER
	if make_volume 64; then
		expect "volume pb/v spans b1 and $m1" 0 "b1 $m1" 0 "$(volume_members)"
	else
		ktap_fail "volume pb/v over b1 and $m1"
	fi
	echo "$g1" > "$SP_SYNC/grant1"
	barrier borrowed
	barrier c-tried
	ktap_check "b logged c's refused revoke" \
		agent_log_has "revoke of $g1 from c: not the owner: grant $g1 was not lent by c"
	ktap_check "member $m1 and the volume's slices on it untouched" \
		untouched "$m1"

	rm -f "$W/stop" "$W/fio.runs"
	fio_loop &
	fio_pid=$!
	sleep 1
	barrier fio-running
	wait_for 60 agent_log_has "revoke of $g1 accepted from a"
	t_acc=$(date +%s)
	ktap_check "member $m1 leaves pb (evacuated live, then removed)" \
		wait_for 240 test ! -e "$SP/pb/members/$m1"
	t_gone=$(date +%s)
	touch "$W/stop"
	wait "$fio_pid"
	sed 's/^/# fio run /' "$W/fio.runs"
	ktap_check "fio write-and-verify ran throughout the revocation: every run passed" \
		fio_ok "$t_acc" "$t_gone"
	expect "the volume is all on b1" 0 "b1" 0 "$(volume_members)"
	out=$("$AGENT" -c "$W/agent.conf" status 2>&1)
	expect "b's status: the grant is released" 0 "$g1 released from a" $? \
		"$(awk -v g="$g1" '$1 == g { print $1, $2, $3, $4 }' <<< "$out")"
	ktap_check "b logged the revocation done" \
		agent_log_has "revoke of $g1 done: member $m1 removed, grant given back to a"
	barrier revoked
	drop_volume

	# Small: the lender zeroes it twice (lent, released).
	borrow_checked 64M
	dev=$(ns_of "$SUBNQN")
	off=$(cat "$SP/pb/members/$MEMBER/data_offset" 2>/dev/null)
	head -c 1048576 /dev/urandom > "$W/pattern"
	if [ -n "$dev" ] && [ -n "$off" ] &&
		dd if="$W/pattern" of="$dev" bs=1M seek=$((off >> 20)) oflag=direct \
			conv=notrunc status=none; then
		echo "$GRANT $off $(md5sum < "$W/pattern" | cut -d' ' -f1)" > "$SP_SYNC/grant2"
	else
		echo "$GRANT 0 none" > "$SP_SYNC/grant2"
	fi
	barrier borrowed2
	ktap_check "b's agent stops: b is gone" stop_agent
	barrier b-gone
	barrier fenced
	ktap_expect_fail "b can no longer read the fenced namespace" \
		timeout 60 dd if="${dev:-/dev/null-none}" of=/dev/null bs=4k count=1 \
		iflag=direct status=none
	barrier b-checked
	barrier released
	give_back "$GRANT" "release $GRANT (a released it already)"
	member_gone
	barrier finished
	drop_pool pb
}

flow_main 18 16
