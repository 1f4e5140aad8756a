#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two concurrent requests for a lender's last free space, on the real
# kernel.  a keeps all of its pool but 256 MiB (keep_free); b asks for
# 256 MiB twice at the same moment, from two agent clients.  Exactly one
# gets a grant and its member; the other is refused with "no space" and
# leaves nothing behind.  a has one grant, exported, and lent 16 slices.
# The grant is given back and nothing is left on either side.
. "$SP_TOP/selftests/remote-flow/lib.sh"

lender() {
	local before after free
	lender_setup
	free=$(free_slices pa)
	echo "keep_free $(((free - 16) * 16))M" >> "$W/agent.conf"
	before=$free
	agent_up "a's agent listens, lending 256 MiB of $((free * 16)) MiB" "a's agent listens"
	barrier agents-up
	barrier raced
	ktap_check "a has exactly one agent subsystem" [ "$(agent_subsystems | wc -l)" -eq 1 ]
	ktap_check "a's ledger has one active grant" \
		[ "$(awk '$1 == "grant" && $3 == "active" && $4 == "b"' "$W/state/grants" | wc -l)" -eq 1 ]
	after=$(free_slices pa)
	ktap_check "a lent 16 slices, no more ($before -> $after free)" [ $((before - after)) -eq 16 ]
	ktap_check "a logged the refusal" agent_log_has "no space"
	barrier a-checked
	barrier released
	ktap_check "no nvmet port, subsystem, namespace or host is left" \
		empty "$NV/ports" "$NV/subsystems" "$NV/hosts"
	ktap_check "pool pa has its free space back" [ "$(free_slices pa)" -eq "$before" ]
	lender_done
}

borrower() {
	local p1 p2 rc1 rc2 rc out grant
	borrower_setup 30
	agent_up "b's agent listens"
	"$AGENT" -c "$W/agent.conf" borrow a 256M > "$W/r1" 2>&1 &
	p1=$!
	"$AGENT" -c "$W/agent.conf" borrow a 256M > "$W/r2" 2>&1 &
	p2=$!
	wait $p1
	rc1=$?
	wait $p2
	rc2=$?
	sed 's/^/# 1: /' "$W/r1"
	sed 's/^/# 2: /' "$W/r2"
	ktap_check "exactly one request got a grant (exits $rc1 and $rc2)" \
		[ $((rc1 == 0)) -ne $((rc2 == 0)) ]
	if [ $rc1 -eq 0 ]; then out=$(cat "$W/r2"); rc=$rc2; else out=$(cat "$W/r1"); rc=$rc1; fi
	expect_line "the other is refused: no space (exit 3)" 3 \
		"slicepool-agent: a refused: no space: .+" "$rc" "$out"
	grant=$(sed -n 's/^grant //p' "$W/r1" "$W/r2")
	ktap_check "one member of domain remote:a in pb" \
		[ "$(grep -lx "remote:a" "$SP"/pb/members/*/domain 2>/dev/null | wc -l)" -eq 1 ]
	ktap_check "one nvme controller" [ "$(compgen -G "/sys/class/nvme-fabrics/ctl/nvme*" | wc -l)" -eq 1 ]
	barrier raced
	barrier a-checked
	give_back "$grant"
	borrower_done
}

flow_main 8 8
