#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Helpers for the host tests of slicepool-agent and of the tool's remote
# commands (sourced, not run).

. "$SP_TOP/selftests/lib/ktap.sh"

# port_listened <port>: true if something listens on 127.0.0.1:<port>.
port_listened() {
	(exec 3<> "/dev/tcp/127.0.0.1/$1") 2> /dev/null
}

# Two agent ports on 127.0.0.1 (PC a third), and the host NQN of the
# borrowers.  The three ports are below the kernel's ephemeral range
# (32768 up by default) and nothing listens on them when the test starts
# (another test or program may be running beside this one).
# shellcheck disable=SC2034
for _ in $(seq 20); do
	PA=$((20000 + RANDOM % 12000))
	port_listened "$PA" || port_listened $((PA + 1)) ||
		port_listened $((PA + 2)) || break
done
# shellcheck disable=SC2034
PB=$((PA + 1))
# shellcheck disable=SC2034
HOSTNQN=nqn.2014-08.org.nvmexpress:uuid:5b1c0000-0000-4000-8000-0000000000b0

# remote_fake_tree <dir>: a fake slicepool tree under <dir> (exported as
# SLICEPOOL_CONFIGFS and NVMET_CONFIGFS): pool pa, 64 MiB slices, 8 free
# on its member m1; b's pool pb.
remote_fake_tree() {
	export SLICEPOOL_CONFIGFS=$1/sp NVMET_CONFIGFS=$1/nvmet
	mkdir -p "$1/sp/pa/volumes" "$1/sp/pa/members/m1" "$1/sp/pb" \
		"$1/nvmet/subsystems"
	echo 64 > "$1/sp/pa/slice_mb"
	echo 1 > "$1/sp/pa/members/m1/enable"
	echo online > "$1/sp/pa/members/m1/state"
	echo 8 > "$1/sp/pa/members/m1/free_slices"
}

# wait_log <file> <text>: up to 10 s for a line in a daemon's log.
wait_log() {
	local t=0
	while ! grep -q -- "$2" "$1" 2>/dev/null; do
		sleep 0.2
		t=$((t + 1))
		[ $t -lt 50 ] || return 1
	done
}
