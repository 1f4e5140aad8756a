#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Heartbeats and health between two guests, with the real agents
# (heartbeat 2 s, heartbeat_timeout 6 s, io_timeout 2 s).  Guest a lends
# from pool pa; guest b borrows into pool pb.  Once b has found a up, a's
# agent is made silent (SIGSTOP, in a's own guest).  b finds a down after
# heartbeat_timeout and excludes it: 'peers' says so, 'borrow a' is refused
# with the reason, 'borrow SIZE' does not choose it, nothing is asked or
# recorded.  A new agent c (on b, configured with peer b only) learns a
# from b's peer list and finds it down too.  a's agent is resumed
# (SIGCONT): b and c hear it again and say it is up, a learns c, and
# 'borrow SIZE' now chooses a and gets a grant, which is given back.
# Traffic stays between the two guests.
. "$SP_TOP/selftests/remote-flow/lib.sh"

# c shares the pair key of a and b with both (a test shortcut: each pair
# would have its own).  Used by lib.sh (conf_extra).
# shellcheck disable=SC2034
AGENT_CONF_EXTRA="heartbeat_timeout 6
io_timeout 2
peer_key c $W/key"
C_PID=""
C_LOG=$W/agent-c.log

# wait_for <seconds> <command...>: until the command succeeds.
wait_for() {
	local t=0 limit=$(($1 * 5))
	shift
	until "$@"; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt $limit ] || return 1
	done
}

peers_say() {	# peers_say <conf> <text>: 'peers' prints a line starting with it
	"$AGENT" -c "$1" peers 2>&1 | grep -q -- "^$2"
}

log_says() {	# log_says <file> <text>
	grep -q -- "$2" "$1" 2>/dev/null
}

stopped() {	# stopped <pid>: the process is stopped (state T)
	[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = T ]
}

running() {	# running <pid>: alive and not stopped
	kill -0 "$1" 2>/dev/null && ! stopped "$1"
}

lender() {
	local before
	# Never leave the agent stopped: the cleanup's wait would hang.
	trap 'kill -CONT "$AGENT_PID" 2>/dev/null; flow_cleanup' EXIT
	lender_setup
	before=$(free_slices pa)
	ktap_check "a's agent listens on $SP_MY_IP:7450" start_agent
	barrier agents-up
	ktap_check "a hears b" wait_for 60 log_says "$LOG" \
		"peer b ($SP_PEER_IP:7450) is up"
	barrier b-heard-a

	kill -STOP "$AGENT_PID"
	ktap_check "a's agent is silent (SIGSTOP)" stopped "$AGENT_PID"
	barrier a-silent
	barrier b-saw-down
	kill -CONT "$AGENT_PID"
	ktap_check "a's agent runs again (SIGCONT)" wait_for 5 running "$AGENT_PID"
	barrier a-resumed

	barrier borrowed
	ktap_check "a granted b one export" [ "$(agent_subsystems | wc -l)" -eq 1 ]
	barrier released
	ktap_check "no agent subsystem is left" [ -z "$(agent_subsystems)" ]
	free_back "$before"
	ktap_check "a learned the new agent c from its hello, and hears it" \
		wait_for 60 peers_say "$W/agent.conf" "peer c $SP_PEER_IP 7451 learned up"
	lender_done
}

start_c() {	# a new agent c on b that knows only b
	local t=0
	cat > "$W/c.conf" <<-EOF
	node c
	listen $SP_MY_IP 7451
	peer_key a $W/key
	peer_key b $W/key
	lend no
	state_dir $W/state-c
	heartbeat 2
	heartbeat_timeout 6
	io_timeout 2
	peer b $SP_MY_IP 7450
	EOF
	"$AGENT" -c "$W/c.conf" daemon >> "$C_LOG" 2>&1 &
	C_PID=$!
	until log_says "$C_LOG" "listening on"; do
		sleep 0.2
		t=$((t + 1))
		if ! kill -0 "$C_PID" 2>/dev/null || [ $t -ge 150 ]; then
			sed 's/^/# c: /' "$C_LOG"
			return 1
		fi
	done
}

stop_c() {
	[ -n "$C_PID" ] || return 1
	kill "$C_PID" && wait "$C_PID"
	local rc=$?
	C_PID=""
	return $rc
}

borrower() {
	local out t0 grant
	trap 'kill "$C_PID" 2>/dev/null; cp "$C_LOG" "$SP_ARTIFACTS/agent-c.log" 2>/dev/null; flow_cleanup' EXIT
	borrower_setup 30
	ktap_check "b's agent listens on $SP_MY_IP:7450" start_agent
	ktap_check "peers: b finds a up" wait_for 60 peers_say "$W/agent.conf" \
		"peer a $SP_PEER_IP 7450 configured up (heard"
	barrier b-heard-a

	barrier a-silent
	t0=$SECONDS
	if wait_for 60 log_says "$LOG" "peer a ($SP_PEER_IP:7450) is down: not heard for"; then
		ktap_ok "b logs a down, excluded from new grants ($((SECONDS - t0)) s after a went silent)"
	else
		ktap_fail "b logs a down within 60 s"
	fi
	# 'peers' and 'borrow' read the health file, written at the end of
	# the heartbeat round: wait for it to say so too.
	ktap_check "peers: a is down, excluded" wait_for 60 peers_say "$W/agent.conf" \
		"peer a $SP_PEER_IP 7450 configured down (not heard for"
	out=$("$AGENT" -c "$W/agent.conf" borrow a 64M 2>&1)
	expect_line "borrow a 64M is refused: a is down (exit 3)" 3 \
		"slicepool-agent: peer a is down: not heard for [0-9]+ s \\(heartbeat_timeout 6 s\\); it is excluded from new grants until it is heard again" \
		$? "$out"
	out=$("$AGENT" -c "$W/agent.conf" borrow 64M 2>&1)
	expect_line "borrow 64M does not choose a (exit 3)" 3 \
		"slicepool-agent: no peer can lend 64 MiB now: peer a is down: .+" $? "$out"
	out=$("$AGENT" -c "$W/agent.conf" status 2>&1)
	expect "nothing was asked of a or recorded" 0 "borrowed:" $? "$out"
	ktap_check "... no borrowed grant at all" \
		[ "$(sed -n '/^borrowed:/,$p' <<< "$out" | wc -l)" -eq 1 ]

	ktap_check "a new agent c (knowing only b) starts" start_c
	ktap_check "c learns a from b's peer list" wait_for 60 log_says "$C_LOG" \
		"peer a ($SP_PEER_IP:7450) learned from b"
	ktap_check "c finds a down too" wait_for 60 peers_say "$W/c.conf" \
		"peer a $SP_PEER_IP 7450 learned down (never heard"
	barrier b-saw-down
	barrier a-resumed

	ktap_check "b hears a again and logs it up" wait_for 60 log_says "$LOG" \
		"peer a ($SP_PEER_IP:7450) is up again"
	# The health file is written at the end of a heartbeat round, after
	# the log line: wait for it.
	ktap_check "peers: a is up" wait_for 30 peers_say "$W/agent.conf" \
		"peer a $SP_PEER_IP 7450 configured up (heard"
	ktap_check "c hears a: up" wait_for 60 peers_say "$W/c.conf" \
		"peer a $SP_PEER_IP 7450 learned up"
	ktap_check "b learned c, up" wait_for 30 peers_say "$W/agent.conf" \
		"peer c $SP_MY_IP 7451 learned up"
	out=$("$AGENT" -c "$W/agent.conf" borrow 64M 2>&1)
	expect "borrow 64M chooses a again and gets a grant" 0 "peer a" $? "$out"
	printf '%s\n' "$out" | sed 's/^/# /'
	grant=$(sed -n 's/^grant //p' <<< "$out")
	MEMBER=$(sed -n 's/^member //p' <<< "$out")
	expect "member $MEMBER of pb is in domain remote:a" 0 "remote:a" 0 \
		"$(cat "$SP/pb/members/$MEMBER/domain" 2>/dev/null)"
	barrier borrowed
	give_back "$grant"
	barrier released
	barrier finished
	ktap_check "c stops on SIGTERM" stop_c
	ktap_check "b's agent stops on SIGTERM" stop_agent
	drop_pool pb
}

flow_main 9 21
